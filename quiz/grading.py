"""Grading: validate a response, compare it with the answer, return a :class:`~quiz.data.Result`.

Grading policy (dispatched through :data:`GRADERS`, one grader per question kind):

* **single** -- 1.0 for the right choice, else 0.0.
* **multiple** -- partial credit: ``score = max(0, (hits - false_picks) / n_correct)`` where
  ``hits`` are selected right choices and ``false_picks`` selected wrong ones. Only the exact set
  is ``correct``; picking everything scores 0 whenever at least half the choices are wrong.
* **numeric** and **generated** -- ``correct`` when ``|response - answer| <= max(tolerance,
  rel_tol * |answer|)``; score is 1.0 or 0.0. Without ``tolerance`` and ``rel_tol`` in the data
  the comparison is exact up to floating-point noise (relative 1e-9).
* **ordering** -- partial credit: the fraction of item pairs placed in the right relative order
  (1.0 for the exact order, 0.0 for the reversed one); only the exact order is ``correct``.

Malformed responses (wrong type, index out of range, duplicates, not a permutation, NaN) raise
:class:`ResponseError` with a message meant for the learner; they are never graded silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from quiz.data import Question, Result
from quiz.generators import format_number

FLOAT_NOISE = 1e-9
"""Relative tolerance applied to every numeric comparison to absorb floating-point noise."""


class ResponseError(ValueError):
    """A response that cannot be graded (wrong type, out of range, malformed)."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _choice_index(question: Question, value: Any) -> int:
    if not _is_int(value):
        raise ResponseError(
            f"{question.id}: expected a choice index (int), got {type(value).__name__} {value!r}"
        )
    if not 0 <= value < len(question.choices):
        raise ResponseError(
            f"{question.id}: choice {value} out of range 0..{len(question.choices) - 1}"
        )
    return value


def _index_sequence(question: Question, value: Any, *, ordered: bool) -> tuple[int, ...]:
    if isinstance(value, str | bytes) or not isinstance(value, Collection):
        raise ResponseError(
            f"{question.id}: expected a list of choice indices, got {type(value).__name__}"
        )
    if isinstance(value, Mapping):
        raise ResponseError(f"{question.id}: expected a list of choice indices, got a mapping")
    if ordered and isinstance(value, set | frozenset):
        raise ResponseError(f"{question.id}: an ordering must be a list, not an unordered set")
    indices = tuple(_choice_index(question, v) for v in value)
    if len(set(indices)) != len(indices):
        raise ResponseError(f"{question.id}: the same choice appears more than once")
    return indices


def _expected_choices(question: Question, indices: Collection[int]) -> str:
    return "; ".join(question.choices[i] for i in indices)


def _grade_single(question: Question, response: Any) -> tuple[float, bool, Any, str]:
    index = _choice_index(question, response)
    ok = index == question.answer
    return (1.0 if ok else 0.0), ok, question.choices[index], question.choices[question.answer]


def _grade_multiple(question: Question, response: Any) -> tuple[float, bool, Any, str]:
    picked = set(_index_sequence(question, response, ordered=False))
    right = set(question.answer)
    hits = len(picked & right)
    false_picks = len(picked - right)
    score = max(0.0, (hits - false_picks) / len(right))
    ok = picked == right
    chosen = [question.choices[i] for i in sorted(picked)]
    return score, ok, chosen, _expected_choices(question, sorted(right))


def _grade_ordering(question: Question, response: Any) -> tuple[float, bool, Any, str]:
    order = _index_sequence(question, response, ordered=True)
    n = len(question.choices)
    if len(order) != n:
        raise ResponseError(
            f"{question.id}: expected all {n} items in some order, got {len(order)}"
        )
    position = {item: pos for pos, item in enumerate(order)}
    answer = tuple(question.answer)
    pairs = [(answer[i], answer[j]) for i in range(n) for j in range(i + 1, n)]
    good = sum(1 for a, b in pairs if position[a] < position[b])
    score = good / len(pairs) if pairs else 1.0
    ok = tuple(order) == answer
    ordered = [question.choices[i] for i in order]
    return score, ok, ordered, " < ".join(question.choices[i] for i in answer)


def _grade_numeric(question: Question, response: Any) -> tuple[float, bool, Any, str]:
    if question.answer is None:
        raise ValueError(
            f"{question.id}: generated question must be rendered with "
            "quiz.render_question() before grading"
        )
    if isinstance(response, bool) or not isinstance(response, int | float):
        raise ResponseError(
            f"{question.id}: expected a number, got {type(response).__name__} {response!r}"
        )
    if not math.isfinite(response):
        raise ResponseError(f"{question.id}: expected a finite number, got {response!r}")
    answer = question.answer
    allowed = max(question.tolerance, question.rel_tol * abs(answer), FLOAT_NOISE * abs(answer))
    ok = abs(response - answer) <= allowed
    expected = format_number(answer) + (f" {question.unit}" if question.unit else "")
    if question.tolerance:
        expected += f" (± {format_number(question.tolerance)})"
    elif question.rel_tol:
        expected += f" (± {question.rel_tol:.0%})"
    return (1.0 if ok else 0.0), ok, response, expected


Grader = Callable[[Question, Any], tuple[float, bool, Any, str]]

GRADERS: dict[str, Grader] = {
    "single": _grade_single,
    "multiple": _grade_multiple,
    "numeric": _grade_numeric,
    "ordering": _grade_ordering,
    "generated": _grade_numeric,
}
"""Question kind -> grader returning ``(score, correct, normalised response, expected text)``."""


def grade(question: Question, response: Any) -> Result:
    """Grade one response.

    Args:
        question: The question (a ``generated`` one must be rendered first, see
            :func:`quiz.generators.render_question`).
        response: The learner's response; see :mod:`quiz.data` for the form per kind.

    Returns:
        The result: correct, score in [0, 1], the expected answer as text, the explanation.

    Raises:
        ResponseError: If the response is malformed (wrong type, out of range, duplicates ...).
        ValueError: If the question kind is unknown or a generated question is not rendered.
    """
    grader = GRADERS.get(question.kind)
    if grader is None:
        raise ValueError(f"{question.id}: unknown question kind {question.kind!r}")
    score, ok, normalised, expected = grader(question, response)
    return Result(
        question_id=question.id,
        correct=ok,
        score=float(score),
        expected=expected,
        explanation=question.explanation,
        response=normalised,
        params=question.params,
    )


_SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "B": 1e9}
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
# "8.9 × 10^-16", "8.9x10**-16", "8.9·10⁻¹⁶" -> "8.9e-16" (after spaces are removed)
_TIMES_TEN = re.compile(r"(?<=[\d.])[x×*·]10(?:\^|\*\*)(?=[-+]?\d+$)")
_SUPERSCRIPT_POWER = re.compile(r"10([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)$")
_NUMBER = re.compile(r"^([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([kKMGB]?)$")


MAX_DIGITS = 100
"""Most digits a typed number may have (Python refuses ``int()`` of more than 4300)."""


def _shown(text: str, limit: int = 40) -> str:
    """A typed answer quoted for a message, cut to ``limit`` characters."""
    text = text.strip()
    return repr(text) if len(text) <= limit else repr(text[:limit]) + "..."


def parse_number(text: str) -> float | int:
    """Parse a typed number: ``"138357544"``, ``"138,357,544"``, ``"1.5e-3"``, ``"138M"``, ``"12%"``.

    Scientific notation may also be typed as ``"8.9 × 10^-16"``, ``"8.9x10**-16"`` or
    ``"8.9·10⁻¹⁶"``, and a Unicode minus ``−`` counts as ``-``.

    Args:
        text: The text typed by the learner. Thousands separators (``,``, ``_``, spaces) are
            ignored; a suffix ``k``, ``M``, ``G``/``B`` multiplies by 1e3, 1e6, 1e9.

    Returns:
        An ``int`` when the text is an integer without suffix, else a ``float``.

    Raises:
        ResponseError: If the text is not a number (also when it has more than
            :data:`MAX_DIGITS` digits).
    """
    cleaned = re.sub(r"[,_\s]", "", text.strip()).rstrip("%").replace("−", "-")
    cleaned = _SUPERSCRIPT_POWER.sub(lambda m: "10^" + m.group(1).translate(_SUPERSCRIPTS), cleaned)
    cleaned = _TIMES_TEN.sub("e", cleaned)
    match = _NUMBER.match(cleaned)
    if not match:
        raise ResponseError(f"not a number: {_shown(text)}")
    number, suffix = match.groups()
    digits = sum(c.isdigit() for c in number.partition("e")[0].partition("E")[0])
    if digits > MAX_DIGITS:
        raise ResponseError(
            f"not a number: {_shown(text)} has {digits} digits (at most {MAX_DIGITS})"
        )
    if suffix:
        return float(number) * _SUFFIXES[suffix]
    if re.fullmatch(r"[-+]?\d+", number):
        return int(number)
    return float(number)


def _parse_indices(text: str) -> list[int]:
    parts = [p for p in re.split(r"[,\s]+", text.strip()) if p]
    if not parts:
        raise ResponseError("empty answer")
    try:
        return [int(p) - 1 for p in parts]
    except ValueError:
        raise ResponseError(f"expected choice numbers such as 1,3 got {_shown(text)}") from None


def parse_response(question: Question, text: str) -> Any:
    """Turn a typed answer into a response for :func:`grade` (1-based numbers to 0-based indices).

    Args:
        question: The question being answered.
        text: ``"2"`` (single), ``"1,3"`` (multiple), ``"3,1,2,4"`` (ordering) or a number.

    Returns:
        The response in the form :func:`grade` expects.

    Raises:
        ResponseError: If the text cannot be parsed for this kind of question.
    """
    if question.kind in ("numeric", "generated"):
        return parse_number(text)
    indices = _parse_indices(text)
    n = len(question.choices)
    for index in indices:
        if not 0 <= index < n:
            raise ResponseError(f"{index + 1} is not a choice: use numbers 1 to {n}")
    if question.kind == "single":
        if len(indices) != 1:
            raise ResponseError("choose exactly one number")
        return indices[0]
    return indices


def expected_response(question: Question) -> Any:
    """A response that :func:`grade` scores as fully correct (for "show answer" and tests).

    Args:
        question: The question (a ``generated`` one must be rendered).

    Returns:
        The choice index, sorted index list, number, or ordering of item indices.

    Raises:
        ValueError: If a generated question is not rendered.
    """
    if question.answer is None:
        raise ValueError(f"{question.id}: render the generated question first")
    if question.kind in ("multiple", "ordering"):
        return list(question.answer)
    return question.answer
