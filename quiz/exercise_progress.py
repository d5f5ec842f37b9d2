"""A learner's code exercises: the code in progress, tries and passes.

Kept in its own small SQLite file beside the progress store (``exercises.sqlite`` in the same
folder, :func:`quiz.store.data_dir`), keyed by the store's learner key, so it survives a
reload like the rest of the learner's progress without a change to the store's schema. The
course map reads :meth:`ExerciseProgress.built`. Framework-free.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from quiz.store import data_dir, learner_key

FILENAME = "exercises.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exercise_work (
    learner TEXT NOT NULL,
    exercise TEXT NOT NULL,
    code TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    passed_at TEXT,
    feedback TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL,
    PRIMARY KEY (learner, exercise)
)
"""


@dataclass(frozen=True)
class Work:
    """One learner's state on one exercise."""

    code: str | None = None
    attempts: int = 0
    passed: bool = False
    feedback: str = ""


def default_path() -> Path:
    """``exercises.sqlite`` beside the progress store (``KERAS_CNN_HOME`` as it is now)."""
    return data_dir() / FILENAME


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class ExerciseProgress:
    """Code, tries and passes per learner and exercise.

    Args:
        path: The SQLite file; defaults to ``exercises.sqlite`` beside the progress store.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def save_code(self, learner: str, exercise: str, code: str) -> None:
        """Keep the code in progress (the editor's content)."""
        with self._connect() as conn:
            conn.execute(
                "INSERT INTO exercise_work (learner, exercise, code, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (learner, exercise) DO UPDATE SET code = excluded.code, "
                "updated = excluded.updated",
                (learner_key(learner), exercise, code, _now()),
            )

    def record_run(
        self, learner: str, exercise: str, code: str, passed: bool, feedback: str
    ) -> Work:
        """One Run checks: the code, one more try, the pass (kept once earned)."""
        self.save_code(learner, exercise, code)
        key = learner_key(learner)
        with self._connect() as conn:
            conn.execute(
                "UPDATE exercise_work SET attempts = attempts + 1, feedback = ?, "
                "passed_at = COALESCE(passed_at, ?), updated = ? WHERE learner = ? AND exercise = ?",
                (feedback, _now() if passed else None, _now(), key, exercise),
            )
        return self.work(learner, exercise)

    def reset(self, learner: str, exercise: str) -> None:
        """Forget the code in progress (Reset to starter); tries and the pass stay."""
        with self._connect() as conn:
            conn.execute(
                "UPDATE exercise_work SET code = NULL, updated = ? WHERE learner = ? AND exercise = ?",
                (_now(), learner_key(learner), exercise),
            )

    def work(self, learner: str, exercise: str) -> Work:
        with self._connect() as conn:
            row = conn.execute(
                "SELECT code, attempts, passed_at, feedback FROM exercise_work "
                "WHERE learner = ? AND exercise = ?",
                (learner_key(learner), exercise),
            ).fetchone()
        if row is None:
            return Work()
        return Work(row[0], row[1], row[2] is not None, row[3])

    def built(self, learner: str) -> set[str]:
        """The exercises this learner has passed."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT exercise FROM exercise_work WHERE learner = ? AND passed_at IS NOT NULL",
                (learner_key(learner),),
            ).fetchall()
        return {r[0] for r in rows}
