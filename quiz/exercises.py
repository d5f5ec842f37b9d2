"""The course's code exercises in ``python -m quiz check``: their files, lessons and prose.

The exercise format is read by :mod:`keras_cnn.exercises.spec` (framework-free: ``tomllib`` and
``ast``), which the grader, the notebook API and the app share; this module adds what the
course checks: that each exercise's lesson exists, and that the texts the app renders as
Markdown render as written (:mod:`quiz.prose`). Like every check here it imports no framework.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from keras_cnn.exercises.spec import Exercise, check_exercises
from quiz.prose import markdown_traps

#: The exercise texts the app renders as Markdown.
PROSE_FIELDS = ("title", "statement", "explanation")


def check(content_dir: Path, lesson_ids: set[str]) -> tuple[list[Exercise], list[tuple]]:
    """The exercises under ``content_dir / "exercises"`` and their problems.

    Returns:
        The exercises that parsed, and ``(file, item, field, message)`` for every problem.
    """
    exercises, problems = check_exercises(content_dir / "exercises", lesson_ids)
    found = [(p.file, p.item, p.field, p.message) for p in problems]
    for e in exercises:
        texts = {f: getattr(e, f) for f in PROSE_FIELDS}
        texts |= {f"hints[{i}]": h for i, h in enumerate(e.hints)}
        texts |= {f"feedback[{i}]": r.message for i, r in enumerate(e.feedback)}
        for field, text in texts.items():
            found += [(e.file, e.id, field, message) for message in markdown_traps(text)]
    return exercises, found


def by_lesson(exercises: list[Exercise]) -> dict[str, list[Exercise]]:
    """Exercise lists per lesson id, in series-step and file order."""
    out: dict[str, list[Exercise]] = {}
    for e in exercises:
        out.setdefault(e.lesson, []).append(e)
    for items in out.values():
        items.sort(key=lambda e: (e.series, e.step, e.file))
    return out


@dataclass(frozen=True)
class View:
    """What the exercise page shows for one learner: locked or not, and the solution."""

    locked_by: tuple[str, ...]
    show_solution: bool
    solution_reason: str


def view(exercise: Exercise, attempts: int, passed: bool, built: set[str]) -> View:
    """Locked until the exercises it requires are built; the solution after a pass, or after
    ``solution_after`` failed tries (saying so)."""
    locked_by = tuple(r for r in exercise.requires if r not in built)
    if passed:
        return View(locked_by, True, "You passed: compare your code with the reference solution.")
    if attempts >= exercise.solution_after:
        return View(
            locked_by,
            True,
            f"Shown after {attempts} tries without a pass: read it, then write it yourself.",
        )
    return View(locked_by, False, "")


def gated_passed(passed: set[str], exercises: list[Exercise], built: set[str]) -> set[str]:
    """The passed lessons that also count for unlocking: a lesson with a gating exercise
    (``gates = true``, off by default) counts only once that exercise is built."""
    blocked = {e.lesson for e in exercises if e.gates and e.id not in built}
    return passed - blocked


@functools.cache
def _shipped() -> tuple[Exercise, ...]:
    return tuple(check_exercises()[0])


def passed_for_unlocking(passed: set[str], learner: str) -> set[str]:
    """:func:`gated_passed` for the shipped exercises and the learner's built ones (the
    exercise file is read only when an exercise gates, so nothing changes while none does)."""
    exercises = [e for e in _shipped() if e.gates]
    if not exercises:
        return passed
    from quiz.exercise_progress import ExerciseProgress

    return gated_passed(passed, exercises, ExerciseProgress().built(learner))
