"""A learner's code exercises: the code in progress, tries and passes.

Kept in the progress store's database (table ``exercise_work``, :mod:`quiz.schema` version 4),
keyed by the store's learner key, so it survives a reload like the rest of the learner's
progress and, in a class, every replica and the instructor's view see it. Each Run checks is
also one attempt of kind ``"exercise"`` (what the instructor's exercise pass rates count), in
the same transaction. The course map reads :meth:`ExerciseProgress.built`. Framework-free.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from quiz.data import Result
from quiz.names import learner_key
from quiz.schema import exercise_work
from quiz.store import ProgressStore, default_path

__all__ = ["ExerciseProgress", "Work", "default_path"]


@dataclass(frozen=True)
class Work:
    """One learner's state on one exercise."""

    code: str | None = None
    attempts: int = 0
    passed: bool = False
    feedback: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@functools.cache
def _lesson_of() -> dict[str, str]:
    """Exercise id -> its lesson (the shipped exercises; read once)."""
    try:
        from keras_cnn.exercises.spec import check_exercises

        return {e.id: e.lesson for e in check_exercises()[0]}
    except Exception:  # pragma: no cover - no exercises shipped: the lesson stays unknown
        return {}


class ExerciseProgress:
    """Code, tries and passes per learner and exercise.

    Args:
        store: The progress store, or its file / URL; defaults to the course's store (the
            class database when one is configured).
    """

    def __init__(self, store: ProgressStore | str | Path | None = None) -> None:
        self.store = store if isinstance(store, ProgressStore) else ProgressStore(store)
        self.path = self.store.path

    def save_code(self, learner: str, exercise: str, code: str) -> None:
        """Keep the code in progress (the editor's content)."""
        with self.store.db.write() as conn:
            self._save(conn, learner, exercise, code)

    def _save(self, conn, learner: str, exercise: str, code: str) -> None:
        statement = self.store.db.insert(exercise_work).values(
            learner=learner_key(learner), exercise=exercise, code=code, updated=_now()
        )
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[exercise_work.c.learner, exercise_work.c.exercise],
                set_={"code": statement.excluded.code, "updated": statement.excluded.updated},
            )
        )

    def record_run(
        self, learner: str, exercise: str, code: str, passed: bool, feedback: str
    ) -> Work:
        """One Run checks: the code, one more try, the pass (kept once earned), and one
        attempt of kind ``"exercise"``, all in one transaction."""
        key, now = learner_key(learner), _now()
        work = exercise_work.c
        with self.store.db.write() as conn:
            self._save(conn, learner, exercise, code)
            conn.execute(
                exercise_work.update()
                .where(work.learner == key, work.exercise == exercise)
                .values(
                    attempts=work.attempts + 1,
                    feedback=feedback,
                    passed_at=func.coalesce(work.passed_at, now) if passed else work.passed_at,
                    updated=now,
                )
            )
            name = self.store._writer(conn, learner)
            result = Result(exercise, bool(passed), float(bool(passed)), "", "", {"passed": passed})
            self.store._insert_attempt(
                conn,
                name,
                _lesson_of().get(exercise, ""),
                exercise,
                {"passed": passed},
                result,
                None,
                now,
                kind="exercise",
            )
        return self.work(learner, exercise)

    def reset(self, learner: str, exercise: str) -> None:
        """Forget the code in progress (Reset to starter); tries and the pass stay."""
        work = exercise_work.c
        with self.store.db.write() as conn:
            conn.execute(
                exercise_work.update()
                .where(work.learner == learner_key(learner), work.exercise == exercise)
                .values(code=None, updated=_now())
            )

    def work(self, learner: str, exercise: str) -> Work:
        work = exercise_work.c
        with self.store.db.read() as conn:
            row = conn.execute(
                select(work.code, work.attempts, work.passed_at, work.feedback).where(
                    work.learner == learner_key(learner), work.exercise == exercise
                )
            ).first()
        if row is None:
            return Work()
        return Work(row[0], row[1], row[2] is not None, row[3])

    def built(self, learner: str) -> set[str]:
        """The exercises this learner has passed."""
        work = exercise_work.c
        with self.store.db.read() as conn:
            rows = conn.execute(
                select(work.exercise).where(
                    work.learner == learner_key(learner), work.passed_at.is_not(None)
                )
            ).scalars()
            return set(rows)
