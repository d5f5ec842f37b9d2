"""What an instructor sees of a class: progress per learner and lesson, who is stuck, and how
each System Check question behaves. Pure Python over the store's rows (no framework); the
instructor page (``app/pages/instructor.py``) draws these tables and charts.

Question statistics use every System Check answer (attempts with a check). For one question:

* **share correct** -- correct answers / answers;
* **most common wrong answers** -- the wrong responses, most frequent first (JSON text);
* **discrimination** -- the upper-lower index of classical test theory: learners who answered
  the question are ranked by their mean score over all their System Check answers of that
  lesson (ties by e-mail); ``D`` = share correct in the top :data:`GROUP_SHARE` of them minus
  share correct in the bottom :data:`GROUP_SHARE` (each group ``ceil(27% of n)`` learners,
  each learner's share correct on the question counted once). Near 0 or negative: the question
  does not tell strong from weak learners, or misleads the strong ones. ``None`` below
  :data:`MIN_FOR_DISCRIMINATION` learners.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta

from quiz.store import Attempt, CheckRecord

GROUP_SHARE = 0.27
MIN_FOR_DISCRIMINATION = 4
STUCK_FAILURES = 3
"""Failed System Checks of a lesson not yet passed that make a learner stuck on it."""
STUCK_IDLE_DAYS = 7
"""Days without any answer that make a learner who has not finished stuck."""


@dataclass(frozen=True)
class Cell:
    """One learner's state in one lesson."""

    email: str
    lesson_id: str
    passed: bool
    best_score: float | None
    attempts: int
    last_active: str | None


@dataclass(frozen=True)
class Stuck:
    email: str
    lesson_id: str | None
    reason: str


@dataclass(frozen=True)
class QuestionStats:
    lesson_id: str
    question_id: str
    answers: int
    learners: int
    share_correct: float
    common_wrong: tuple[tuple[str, int], ...]
    discrimination: float | None


@dataclass(frozen=True)
class ExerciseStats:
    lesson_id: str
    exercise_id: str
    learners: int
    passed: int
    pass_rate: float


def matrix(
    emails: Sequence[str], lesson_ids: Sequence[str], checks: Iterable[CheckRecord]
) -> list[Cell]:
    """The roster x lessons matrix, row by row (every learner, every lesson).

    Args:
        emails: The learners (their store names).
        lesson_ids: The course's lessons in order.
        checks: Every submitted System Check.

    Returns:
        One :class:`Cell` per learner and lesson: passed, best score, number of submitted
        checks, the time of the last one (``None`` where never submitted).
    """
    by: dict[tuple[str, str], list[CheckRecord]] = defaultdict(list)
    for c in checks:
        by[c.learner, c.lesson_id].append(c)
    cells = []
    for email in emails:
        for lesson_id in lesson_ids:
            mine = by.get((email, lesson_id), [])
            cells.append(
                Cell(
                    email,
                    lesson_id,
                    any(c.passed for c in mine),
                    max((c.score for c in mine), default=None),
                    len(mine),
                    max((c.created for c in mine), default=None),
                )
            )
    return cells


def last_active(emails: Sequence[str], checks: Iterable[CheckRecord], attempts: Iterable[Attempt]):
    """Each learner's last answer or check (ISO time), ``None`` when they never answered."""
    last: dict[str, str | None] = dict.fromkeys(emails)
    for row in [*checks, *attempts]:
        if row.learner in last and (last[row.learner] or "") < row.created:
            last[row.learner] = row.created
    return last


def stuck(
    cells: Sequence[Cell],
    active: dict[str, str | None],
    now: datetime,
    failures: int = STUCK_FAILURES,
    idle_days: int = STUCK_IDLE_DAYS,
) -> list[Stuck]:
    """Who is stuck: ``failures`` or more failed checks on a lesson not passed, or no answer
    for ``idle_days`` days (or never) while lessons remain.

    Args:
        cells: From :func:`matrix`.
        active: From :func:`last_active`.
        now: The current time (timezone-aware).
        failures: See :data:`STUCK_FAILURES`.
        idle_days: See :data:`STUCK_IDLE_DAYS`.
    """
    found = []
    remaining: dict[str, int] = defaultdict(int)
    for cell in cells:
        remaining[cell.email] += not cell.passed
        if not cell.passed and cell.attempts >= failures:
            found.append(Stuck(cell.email, cell.lesson_id, f"{cell.attempts} checks, none passed"))
    limit = now - timedelta(days=idle_days)
    for email, left in remaining.items():
        if not left:
            continue
        when = active.get(email)
        if when is None:
            found.append(Stuck(email, None, "no answer yet"))
        elif datetime.fromisoformat(when) < limit:
            days = (now - datetime.fromisoformat(when)).days
            found.append(Stuck(email, None, f"no answer for {days} days"))
    return found


def discrimination(strength: dict[str, float], correct: dict[str, float]) -> float | None:
    """The upper-lower index ``D`` (see the module docstring).

    Args:
        strength: Learner -> mean score over their answers (the ranking).
        correct: Learner -> their share correct on the question (only those who answered).

    Returns:
        ``D`` in [-1, 1], or ``None`` with fewer than :data:`MIN_FOR_DISCRIMINATION` learners.
    """
    ranked = sorted(correct, key=lambda e: (-strength[e], e))
    if len(ranked) < MIN_FOR_DISCRIMINATION:
        return None
    k = math.ceil(GROUP_SHARE * len(ranked))
    upper, lower = ranked[:k], ranked[-k:]
    return sum(correct[e] for e in upper) / k - sum(correct[e] for e in lower) / k


def question_stats(attempts: Iterable[Attempt], top_wrong: int = 3) -> list[QuestionStats]:
    """Statistics of every System Check question answered, by lesson and question id.

    Args:
        attempts: Every stored answer (those outside a check, and exercises, are ignored).
        top_wrong: How many of the most common wrong answers to keep.
    """
    answers = [a for a in attempts if a.check_id is not None and a.kind == "question"]
    scores: dict[tuple[str, str], list[float]] = defaultdict(list)  # (lesson, learner)
    per_q: dict[tuple[str, str], list[Attempt]] = defaultdict(list)
    for a in answers:
        scores[a.lesson_id, a.learner].append(a.score)
        per_q[a.lesson_id, a.question_id].append(a)
    stats = []
    for (lesson_id, qid), rows in sorted(per_q.items()):
        strength = {e: sum(v) / len(v) for (le, e), v in scores.items() if le == lesson_id}
        mine: dict[str, list[bool]] = defaultdict(list)
        for a in rows:
            mine[a.learner].append(a.correct)
        correct = {e: sum(v) / len(v) for e, v in mine.items()}
        wrong = Counter(json.dumps(a.response, sort_keys=True) for a in rows if not a.correct)
        stats.append(
            QuestionStats(
                lesson_id,
                qid,
                len(rows),
                len(mine),
                sum(a.correct for a in rows) / len(rows),
                tuple(wrong.most_common(top_wrong)),
                discrimination(strength, correct),
            )
        )
    return stats


def exercise_stats(attempts: Iterable[Attempt]) -> list[ExerciseStats]:
    """Pass rate of every exercise tried: learners who passed it at least once / who tried."""
    tried: dict[tuple[str, str], dict[str, bool]] = defaultdict(dict)
    for a in attempts:
        if a.kind == "exercise":
            who = tried[a.lesson_id, a.question_id]
            who[a.learner] = who.get(a.learner, False) or a.correct
    return [
        ExerciseStats(le, ex, len(who), sum(who.values()), sum(who.values()) / len(who))
        for (le, ex), who in sorted(tried.items())
    ]


def to_csv(rows: Sequence[object]) -> str:
    """Dataclass rows as CSV text (header from the fields; tuples as JSON)."""
    if not rows:
        return ""
    out = io.StringIO()
    names = [f.name for f in fields(rows[0])]  # type: ignore[arg-type]
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        values = asdict(row)  # type: ignore[call-overload]
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, tuple | list) else v for k, v in values.items()}
        )
    return out.getvalue()
