"""The progress export file: one learner's checks, answers and place as a JSON document.

:func:`write` makes the document from a learner's stored rows. Reading one trusts nothing:
:func:`read` checks that it is a progress export of this version, and :func:`rows` turns its
checks and answers into rows the store can insert, with ``passed`` recomputed from the score;
a row whose score is not a number in [0, 1] (NaN, 1e308, -5) or whose lesson is unknown is
skipped and named (``"checks[3]: score nan is not a number in [0, 1]"``), an answer that
belonged to a skipped check with it, and a malformed row is a ``ValueError`` naming it. The
database side is :meth:`quiz.store.ProgressStore.export_json` and ``import_json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from quiz.mastery import is_passing
from quiz.schema import ATTEMPT_KINDS

EXPORT_FORMAT = "keras-cnn-quiz-progress"
EXPORT_VERSION = 1

__all__ = ["EXPORT_FORMAT", "EXPORT_VERSION", "ImportReport", "Rows", "read", "rows", "write"]


@dataclass(frozen=True)
class ImportReport:
    """What :meth:`quiz.store.ProgressStore.import_json` added and what it refused.

    Attributes:
        learner: The learner the rows were imported under.
        checks: New system checks (rows the learner already has are not counted).
        attempts: New answers.
        skipped: One line per refused row (``"checks[3]: score nan is not a number in [0, 1]"``).
    """

    learner: str
    checks: int
    attempts: int
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rows:
    """The rows of an export that may be imported, and what was refused.

    Attributes:
        checks: ``(uid, lesson_id, score, passed, n_questions, created)`` per check.
        attempts: ``(uid, lesson_id, question_id, response, correct, score, params,
            check_uid, created, kind)`` per answer.
        visited: The ``last_visited`` object, or ``None`` (absent, or its lesson unknown).
        skipped: One line per refused row.
    """

    checks: list[tuple]
    attempts: list[tuple]
    visited: Any
    skipped: list[str]


def write(
    learner: str,
    check_rows: Sequence[Any],
    attempt_rows: Sequence[Any],
    visited: Any,
    exported: str,
) -> str:
    """The export document of a learner's stored rows.

    Args:
        learner: The stored name.
        check_rows: The learner's ``checks`` rows, oldest first.
        attempt_rows: The learner's ``attempts`` rows with their check's uid as ``check_uid``.
        visited: The learner's ``last_visited`` row, or ``None``.
        exported: When (ISO time).

    Returns:
        The JSON document (format :data:`EXPORT_FORMAT`).
    """
    document = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "learner": learner,
        "exported": exported,
        "checks": [
            {
                "uid": c.uid,
                "lesson_id": c.lesson_id,
                "score": c.score,
                "passed": bool(c.passed),
                "n_questions": c.n_questions,
                "created": c.created,
            }
            for c in check_rows
        ],
        "attempts": [
            {
                "uid": a.uid,
                "lesson_id": a.lesson_id,
                "question_id": a.question_id,
                "response": json.loads(a.response),
                "correct": bool(a.correct),
                "score": a.score,
                "params": json.loads(a.params),
                "check_uid": a.check_uid,
                "created": a.created,
                "kind": a.kind,
            }
            for a in attempt_rows
        ],
        "last_visited": (
            {
                "lesson_id": visited.lesson_id,
                "section_id": visited.section_id,
                "updated": visited.updated,
            }
            if visited
            else None
        ),
    }
    return json.dumps(document, indent=2)


def read(text: str) -> dict[str, Any]:
    """The document of an export, checked to be a progress export of this version.

    Raises:
        ValueError: If it is not valid JSON, not a progress export, or of another version.
    """
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"not a JSON document: {exc}") from exc
    except RecursionError:
        raise ValueError("not a progress export: arrays or objects nested too deeply") from None
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise ValueError(f"not a {EXPORT_FORMAT} export")
    if doc.get("version") != EXPORT_VERSION:
        raise ValueError(f"unsupported export version {doc.get('version')!r}")
    return doc


def rows(doc: dict[str, Any], known: frozenset[str]) -> Rows:
    """The checks, answers and place of a document (:func:`read`) that may be imported.

    Args:
        doc: The document.
        known: The lesson ids rows may name.

    Returns:
        The rows to insert and one line per refused row.

    Raises:
        ValueError: If a row is malformed (the message names it).
    """
    tables = {key: doc.get(key, []) for key in ("checks", "attempts")}
    for key, value in tables.items():
        if not isinstance(value, list):
            raise ValueError(f"malformed progress export: {key!r} must be a list")
    skipped: list[str] = []
    new_check_rows, new_attempt_rows = [], []
    for i, c in enumerate(tables["checks"]):
        try:
            score = _import_score(c["score"])
            row = (str(c["uid"]), _import_lesson(c["lesson_id"], known), score)
            n_questions = c["n_questions"]
            if isinstance(n_questions, bool) or not isinstance(n_questions, int):
                raise TypeError(f"n_questions {n_questions!r} is not an integer")
            if n_questions < 1:
                raise _Skip(f"n_questions {n_questions} is not a positive count")
            new_check_rows.append((*row, is_passing(score), n_questions, str(c["created"])))
        except _Skip as exc:
            skipped.append(f"checks[{i}]: {exc}")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise _malformed("checks", i, exc) from exc
    refused_checks = {str(c.get("uid")) for c in tables["checks"] if isinstance(c, dict)} - {
        c[0] for c in new_check_rows
    }
    for i, a in enumerate(tables["attempts"]):
        try:
            if a.get("check_uid") and str(a["check_uid"]) in refused_checks:
                raise _Skip(f"its check {a['check_uid']!r} was skipped")
            new_attempt_rows.append(
                (
                    str(a["uid"]),
                    _import_lesson(a["lesson_id"], known),
                    str(a["question_id"]),
                    a["response"],
                    bool(a["correct"]),
                    _import_score(a["score"]),
                    tuple(tuple(p) for p in a.get("params", [])),
                    a.get("check_uid"),
                    str(a["created"]),
                    _import_kind(a.get("kind", "question")),
                )
            )
        except _Skip as exc:
            skipped.append(f"attempts[{i}]: {exc}")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise _malformed("attempts", i, exc) from exc
    visited = doc.get("last_visited")
    if isinstance(visited, dict) and visited.get("lesson_id") not in known:
        skipped.append(f"last_visited: unknown lesson {visited.get('lesson_id')!r}")
        visited = None
    return Rows(new_check_rows, new_attempt_rows, visited, skipped)


class _Skip(Exception):
    """Internal: an imported row is well formed but its values are refused."""


def _import_score(value: Any) -> float:
    """A score from an export: a finite number in [0, 1] (booleans and strings are malformed)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"score {value!r} is not a number")
    score = float(value)
    if not 0.0 <= score <= 1.0:  # also false for NaN
        raise _Skip(f"score {value!r} is not a number in [0, 1]")
    return score


def _import_lesson(value: Any, known: frozenset[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"lesson_id {value!r} is not a string")
    if value not in known:
        raise _Skip(f"unknown lesson {value!r} (lessons: {', '.join(sorted(known))})")
    return value


def _import_kind(value: Any) -> str:
    if value not in ATTEMPT_KINDS:
        raise TypeError(f"kind {value!r} is not one of {list(ATTEMPT_KINDS)}")
    return value


def _malformed(key: str, index: int, exc: Exception) -> ValueError:
    if isinstance(exc, KeyError):
        reason = f"missing field {exc.args[0]!r}"
    elif isinstance(exc, AttributeError):
        reason = "not an object"
    else:
        reason = str(exc)
    return ValueError(f"malformed progress export: {key}[{index}]: {reason}")
