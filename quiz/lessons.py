"""One lesson file: its sections, questions, facts, sources and practice, read and checked.

:func:`parse_lesson` reads ``lessons/NN_slug.toml`` into a :class:`~quiz.data.Lesson` and
records every problem of the file (:mod:`quiz.problems`): unknown fields, answers that are not
among the choices, a generated question whose template does not render for some seed, a key
that gives itself away by its length, too many questions that only recall a published figure.
What spans lessons (ids, order, prerequisites) is checked by :mod:`quiz.loader`. Imports no
framework.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from quiz import facts as facts_mod
from quiz.data import (
    QUESTION_KINDS,
    SECTION_KINDS,
    WIDGETS,
    Fact,
    Lesson,
    Practice,
    Question,
    Section,
    Source,
)
from quiz.generators import GENERATORS, GeneratorError, render_question
from quiz.problems import Problem, Reader, read_toml
from quiz.prose import markdown_traps

E_NOTATION_BELOW, E_NOTATION_FROM = 1e-3, 1e10
"""A numeric answer this small (but not 0) or this large needs a prompt that says e-notation
(``1.2e-5``) is accepted."""

MAX_RECALL_SHARE = 0.25
"""At most this share of a lesson's questions may be tagged ``recall = true`` (asking for a
memorized published figure: a year, an error rate, a parameter count to remember); the others
compute, predict or explain."""

MAX_LONGEST_KEY_SHARE = 1 / 3
"""In at most about this share of a lesson's single-choice questions (rounded, at least one) may
the key be the strictly longest choice, so that picking the longest option does not pass."""

MAX_KEY_LENGTH_RATIO = 1.5
"""A single-choice key may not be this many times as long as the longest other choice."""

TEMPLATE_TRIALS = 25
"""Seeds tried when checking that a generated question renders and its answer computes."""

LESSON_FILE_PATTERN = re.compile(r"^(\d{2})_[a-z0-9_-]+\.toml$")
NOTEBOOK_PATTERN = re.compile(r"^\d{2}_[a-z0-9_]+$")

__all__ = [
    "E_NOTATION_BELOW",
    "E_NOTATION_FROM",
    "LESSON_FILE_PATTERN",
    "MAX_KEY_LENGTH_RATIO",
    "MAX_LONGEST_KEY_SHARE",
    "MAX_RECALL_SHARE",
    "NOTEBOOK_PATTERN",
    "PRACTICE_PER_LESSON",
    "TEMPLATE_TRIALS",
    "parse_lesson",
]

_LESSON_KEYS = {
    "id", "title", "order", "summary", "node", "year", "prerequisites", "goals", "models",
    "sections", "questions", "facts", "sources", "practice", "notebook",
}  # fmt: skip
_SECTION_KEYS = {
    "id", "title", "kind", "body", "language", "model", "block", "caption", "widget",
}  # fmt: skip
_QUESTION_KEYS = {
    "id", "kind", "prompt", "explanation", "section", "choices", "answer", "tolerance",
    "rel_tol", "unit", "generator", "params", "recall",
}  # fmt: skip
_FACT_KEYS = {"id", "text", "value", "check", "rel_tol", "section"}
_SOURCE_KEYS = {"title", "authors", "year", "url"}
_PRACTICE_KEYS = {"id", "prompt", "answer"}

PRACTICE_PER_LESSON = (2, 4)
"""Every lesson ends with this many open exercises (at least, at most)."""


def _parse_section(raw: dict[str, Any], r: Reader, index: int) -> Section | None:
    r = Reader(r.problems, r.file, raw.get("id") or f"sections[{index}]")
    r.unknown(raw, _SECTION_KEYS)
    sid = r.identifier(raw)
    kind = r.choice(raw, "kind", SECTION_KINDS, "section kind")
    section = Section(
        id=sid,
        title=r.text(raw, "title"),
        kind=kind,
        body=r.text(raw, "body", required=kind in ("markdown", "latex", "code")),
        language=r.text(raw, "language", required=False) or ("python" if kind == "code" else ""),
        model=r.text(raw, "model", required=kind == "model"),
        block=r.text(raw, "block", required=False),
        caption=r.text(raw, "caption", required=False),
        widget=r.text(raw, "widget", required=kind == "widget"),
    )
    r.prose("title", section.title)
    r.prose("caption", section.caption)
    if kind not in ("latex", "code"):
        r.prose("body", section.body)
    if kind != "widget" and section.widget:
        r.problem("widget", "only sections of kind 'widget' name a widget")
    elif section.widget and section.widget not in WIDGETS:
        r.problem(
            "widget", f"unknown widget {section.widget!r} (expected one of {sorted(WIDGETS)})"
        )
    if kind != "model" and section.model:
        r.problem("model", "only sections of kind 'model' name a model")
    if section.model and section.model not in facts_mod.KNOWN_MODELS:
        r.problem("model", f"unknown registry model {section.model!r}")
    return section


def _choice_answer(
    raw: dict[str, Any], r: Reader, choices: list[str], kind: str
) -> int | tuple[int, ...] | None:
    answer = raw.get("answer")
    if answer is None:
        r.problem("answer", "missing")
        return None
    if kind == "single":
        if not isinstance(answer, str):
            r.problem("answer", "must be the text of one choice")
            return None
        if answer.strip() not in choices:
            r.problem("answer", f"{answer!r} is not among the choices")
            return None
        return choices.index(answer.strip())
    if not isinstance(answer, list) or not answer or not all(isinstance(a, str) for a in answer):
        r.problem("answer", "must be a non-empty list of choice texts")
        return None
    missing = [a for a in answer if a.strip() not in choices]
    if missing:
        r.problem("answer", f"not among the choices: {missing!r}")
        return None
    indices = tuple(choices.index(a.strip()) for a in answer)
    if len(set(indices)) != len(indices):
        r.problem("answer", "lists a choice twice")
        return None
    if kind == "ordering":
        if len(indices) != len(choices):
            r.problem("answer", "must list every item exactly once, in the correct order")
            return None
        return indices
    return tuple(sorted(indices))


def _needs_e_notation(answer: float) -> bool:
    return answer != 0 and not E_NOTATION_BELOW <= abs(answer) < E_NOTATION_FROM


def _parse_question(
    raw: dict[str, Any], r: Reader, lesson_id: str, section_ids: set[str], index: int
) -> Question | None:
    r = Reader(r.problems, r.file, raw.get("id") or f"questions[{index}]")
    before = len(r.problems)
    r.unknown(raw, _QUESTION_KEYS)
    qid = r.identifier(raw)
    kind = r.choice(raw, "kind", QUESTION_KINDS, "question kind")
    section = r.text(raw, "section")
    if section and section not in section_ids:
        r.problem("section", f"no section {section!r} in this lesson")
    prompt = r.text(raw, "prompt")
    explanation = r.text(raw, "explanation")
    unit = r.text(raw, "unit", required=False)
    if not isinstance(raw.get("recall", False), bool):
        r.problem("recall", f"must be true or false, got {raw['recall']!r}")
    tolerance = r.number(raw, "tolerance", required=False) or 0.0
    rel_tol = r.number(raw, "rel_tol", required=False) or 0.0
    if tolerance < 0:
        r.problem("tolerance", "must not be negative")
    if not 0 <= rel_tol < 1:
        r.problem("rel_tol", "must be in [0, 1)")
    choices: list[str] = []
    answer: Any = None
    generator = ""
    space: dict[str, tuple[int | float, ...]] = {}
    if kind in ("single", "multiple", "ordering"):
        choices = r.texts(raw, "choices", required=True)
        if len(choices) < 2:
            r.problem("choices", "needs at least 2 entries")
        elif len(set(choices)) != len(choices):
            r.problem("choices", "contains duplicates")
        elif any(not c for c in choices):
            r.problem("choices", "contains an empty entry")
        else:
            answer = _choice_answer(raw, r, choices, kind)
    elif kind == "numeric":
        answer = r.number(raw, "answer")
        if "choices" in raw:
            r.problem("choices", "numeric questions have no choices")
    elif kind == "generated":
        if "answer" in raw:
            r.problem("answer", "generated questions compute their answer; remove it")
        generator = r.text(raw, "generator")
        if generator and generator not in GENERATORS:
            r.problem("generator", f"unknown generator {generator!r} (see quiz/generators.py)")
        params = raw.get("params", {})
        if not isinstance(params, dict):
            r.problem("params", "must be a table of parameter = [allowed values]")
        elif generator in GENERATORS:
            known = GENERATORS[generator].space
            for name, values in params.items():
                if name not in known:
                    r.problem("params", f"{generator} has no parameter {name!r}")
                elif (
                    not isinstance(values, list)
                    or not values
                    or not all(
                        isinstance(v, int | float) and not isinstance(v, bool) for v in values
                    )
                ):
                    r.problem("params", f"{name} must be a non-empty list of numbers")
                else:
                    space[name] = tuple(values)
    if len(r.problems) > before:
        return None
    if kind != "generated":
        r.prose("prompt", prompt)
        r.prose("explanation", explanation)
    if kind == "numeric" and _needs_e_notation(answer) and "e-notation" not in prompt:
        r.problem(
            "prompt", f"the answer is {answer:.3g}: say that e-notation such as 1.2e-5 is accepted"
        )
    r.prose("choices", *choices)
    question = Question(
        id=qid,
        lesson_id=lesson_id,
        kind=kind,
        prompt=prompt,
        explanation=explanation,
        section=section,
        choices=tuple(choices),
        answer=answer,
        tolerance=float(tolerance),
        rel_tol=float(rel_tol),
        unit=unit,
        generator=generator,
        param_space=tuple(sorted(space.items())),
        file=r.file,
    )
    if kind == "generated":
        traps: dict[str, str] = {}
        for seed in range(TEMPLATE_TRIALS):
            try:
                rendered = render_question(question, seed)
            except GeneratorError as exc:
                message = str(exc)
                field = "prompt" if "prompt" in message else "generator"
                field = "explanation" if "explanation template" in message else field
                r.problem(field, f"{message} (seed {seed})")
                return None
            for field in ("prompt", "explanation"):
                for message in markdown_traps(getattr(rendered, field)):
                    traps.setdefault(field, f"{message} (rendered with seed {seed})")
            if _needs_e_notation(rendered.answer) and "e-notation" not in prompt:
                traps.setdefault(
                    "prompt",
                    f"the answer can be {rendered.answer:.3g} (seed {seed}): say that e-notation"
                    " such as 1.2e-5 is accepted",
                )
        for field, message in traps.items():
            r.problem(field, message)
    return question


def _parse_fact(raw: dict[str, Any], r: Reader, section_ids: set[str], index: int) -> Fact | None:
    r = Reader(r.problems, r.file, raw.get("id") or f"facts[{index}]")
    before = len(r.problems)
    r.unknown(raw, _FACT_KEYS)
    fid = r.text(raw, "id")
    text = r.text(raw, "text")
    check = r.text(raw, "check")
    rel_tol = r.number(raw, "rel_tol", required=False) or 0.0
    section = r.text(raw, "section", required=False)
    if section and section not in section_ids:
        r.problem("section", f"no section {section!r} in this lesson")
    value = raw.get("value")
    if value is None:
        r.problem("value", "missing")
    if check:
        try:
            parsed = facts_mod.parse_check(check)
        except ValueError as exc:
            r.problem("check", str(exc))
        else:
            if value is not None:
                try:
                    facts_mod.validate_value(parsed, value)
                except ValueError as exc:
                    r.problem("value", str(exc))
    if not 0 <= rel_tol < 1:
        r.problem("rel_tol", "must be in [0, 1)")
    if len(r.problems) > before:
        return None
    return Fact(id=fid, text=text, value=value, check=check, rel_tol=rel_tol, section=section)


def _parse_practice(
    tables: list[dict[str, Any]], problems: list[Problem], rel: str, lesson: Reader
) -> list[Practice]:
    """The lesson's ``[[practice]]`` exercises: an id, a prompt and a worked answer each."""
    low, high = PRACTICE_PER_LESSON
    if not low <= len(tables) <= high:
        lesson.problem(
            "practice", f"a lesson ends with {low} to {high} exercises, got {len(tables)}"
        )
    practice = []
    for i, raw in enumerate(tables):
        pr = Reader(
            problems, rel, raw.get("id") if isinstance(raw.get("id"), str) else f"practice[{i}]"
        )
        pr.unknown(raw, _PRACTICE_KEYS)
        item = Practice(
            id=pr.identifier(raw), prompt=pr.text(raw, "prompt"), answer=pr.text(raw, "answer")
        )
        pr.prose("prompt", item.prompt)
        pr.prose("answer", item.answer)
        practice.append(item)
    return practice


def _check_key_lengths(questions: list[Question], r: Reader) -> None:
    """Length must give nothing away: a key much longer than every distractor, or keys that are
    the longest choice in too many of a lesson's single-choice questions, are problems."""
    single = [q for q in questions if q.kind == "single"]
    longest = []
    for q in single:
        key = q.choices[q.answer]
        rest = max(len(c) for i, c in enumerate(q.choices) if i != q.answer)
        if len(key) > rest:
            longest.append(q.id)
        if len(key) >= MAX_KEY_LENGTH_RATIO * rest:
            r.problem(
                f"questions.{q.id}.answer",
                f"the key is {len(key)} characters, {len(key) / rest:.1f} times the longest other "
                f"choice ({rest}): a learner can pick it by its length; balance the choices",
            )
    allowed = max(1, round(MAX_LONGEST_KEY_SHARE * len(single)))
    if len(longest) > allowed:
        r.problem(
            "questions",
            f"the key is the longest choice in {len(longest)} of {len(single)} single-choice "
            f"questions ({', '.join(longest)}); at most {allowed} may be: lengthen distractors or "
            "shorten keys so that picking the longest option does not pass",
        )


def parse_lesson(path: Path, rel: str, problems: list[Problem]) -> Lesson | None:
    """The lesson in ``path`` (``rel`` as problems name it), every problem appended to
    ``problems``; ``None`` when the file cannot be read."""
    raw = read_toml(path, rel, problems)
    if raw is None:
        return None
    r = Reader(problems, rel, raw.get("id") if isinstance(raw.get("id"), str) else "-")
    r.unknown(raw, _LESSON_KEYS)
    lesson_id = r.identifier(raw)
    order = r.integer(raw, "order")
    match = LESSON_FILE_PATTERN.match(path.name)
    if not match:
        r.problem("file", "lesson files are named NN_slug.toml")
    elif order and int(match.group(1)) != order:
        r.problem("order", f"is {order} but the file name says {int(match.group(1))}")
    models = r.texts(raw, "models")
    for model in models:
        if model not in facts_mod.KNOWN_MODELS:
            r.problem("models", f"unknown registry model {model!r}")
    sections = [
        s
        for i, raw_s in enumerate(r.tables(raw, "sections"))
        if (s := _parse_section(raw_s, r, i)) is not None
    ]
    if not sections:
        r.problem("sections", "a lesson needs at least one section")
    section_ids = [s.id for s in sections]
    for sid in {s for s in section_ids if section_ids.count(s) > 1}:
        r.problem("sections", f"duplicate section id {sid!r}")
    questions = [
        q
        for i, raw_q in enumerate(r.tables(raw, "questions"))
        if (q := _parse_question(raw_q, r, lesson_id, set(section_ids), i)) is not None
    ]
    valid = {q.id for q in questions}
    recall = [
        q.get("id")
        for q in r.tables(raw, "questions")
        if q.get("recall") is True and q.get("id") in valid
    ]
    if len(recall) > MAX_RECALL_SHARE * len(questions):
        r.problem(
            "questions",
            f"{len(recall)} of {len(questions)} questions recall a published figure ({', '.join(recall)});"
            f" at most {int(MAX_RECALL_SHARE * len(questions))} may: ask the others to compute, predict"
            " or explain",
        )
    _check_key_lengths(questions, r)
    facts = [
        f
        for i, raw_f in enumerate(r.tables(raw, "facts"))
        if (f := _parse_fact(raw_f, r, set(section_ids), i)) is not None
    ]
    fact_ids = [f.id for f in facts]
    for fid in {f for f in fact_ids if fact_ids.count(f) > 1}:
        r.problem("facts", f"duplicate fact id {fid!r}")
    sources = []
    for i, raw_src in enumerate(r.tables(raw, "sources")):
        sr = Reader(problems, rel, f"sources[{i}]")
        sr.unknown(raw_src, _SOURCE_KEYS)
        sources.append(
            Source(
                title=sr.text(raw_src, "title"),
                authors=sr.text(raw_src, "authors", required=False),
                year=sr.integer(raw_src, "year", required=False),
                url=sr.text(raw_src, "url", required=False),
            )
        )
        sr.prose("title", sources[-1].title)
    practice = _parse_practice(r.tables(raw, "practice"), problems, rel, r)
    notebook = r.text(raw, "notebook", required=False)
    if notebook and not NOTEBOOK_PATTERN.match(notebook):
        r.problem(
            "notebook",
            f"must name a notebook source like '03_vgg_receptive_fields', got {notebook!r}",
        )
    for field in ("title", "summary"):
        r.prose(field, r.text(raw, field, required=False))
    r.prose("goals", *r.texts(raw, "goals"))
    return Lesson(
        id=lesson_id,
        title=r.text(raw, "title"),
        order=order,
        summary=r.text(raw, "summary"),
        node=r.text(raw, "node"),
        year=r.integer(raw, "year", required=False),
        prerequisites=tuple(r.texts(raw, "prerequisites")),
        goals=tuple(r.texts(raw, "goals", required=True)),
        models=tuple(models),
        sections=tuple(sections),
        questions=tuple(questions),
        facts=tuple(facts),
        sources=tuple(sources),
        practice=tuple(practice),
        notebook=notebook,
        file=rel,
    )
