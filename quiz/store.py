"""Durable learner progress: one SQLite file by default, a PostgreSQL server for a class.

Design:

* **Location** -- ``$KERAS_CNN_DATABASE_URL`` or ``[keras_cnn] database_url`` in
  ``secrets.toml`` when set (a class, see :mod:`quiz.settings`), else
  ``$KERAS_CNN_HOME/progress.sqlite3`` if ``KERAS_CNN_HOME`` is set, else the platform's user
  data directory. ``ProgressStore(path_or_url)`` names one explicitly.
* **History, not just scores** -- one row per answered question (learner, lesson, question,
  response, correct, score, time) and one row per submitted system check.
* **One implementation** -- SQLAlchemy Core statements over the tables of :mod:`quiz.schema`,
  the same on both databases; how each is opened, checked, locked and migrated, and what its
  errors mean, is :mod:`quiz.database`. Every write is one transaction: a crash, a killed
  process or a server that goes away never leaves half a system check, and what a call
  returned is kept. Each operation borrows its own connection, so one store object may be
  shared between threads (Streamlit) and processes.
* **Names** -- a learner is found under the spelling first stored, whatever the case or
  Unicode form typed (:mod:`quiz.names`).
* **Errors** -- any database failure (a full disk, a locked file, a server that went away) is
  a :class:`StoreError` with one line saying what happened and that nothing was saved.
* **Corruption, read-only** -- see :mod:`quiz.database`: an unusable SQLite file is kept as
  ``<name>.corrupt-<timestamp>`` and a fresh store started (:class:`StoreWarning`); a store that
  cannot be written opens read-only (:attr:`ProgressStore.read_only`).
* **Import** -- :meth:`ProgressStore.import_json` trusts nothing: ``passed`` is recomputed, rows
  with scores outside [0, 1] (or NaN) or unknown lessons are skipped and reported. The export
  file's format, and what reading one refuses, is :mod:`quiz.progress_file`.
* **Idempotent submissions** -- :meth:`ProgressStore.record_check` and
  :meth:`ProgressStore.record_attempt` take an optional ``uid``: the same uid twice (a double
  click, a retry after the connection dropped) stores one record.

(The module is over 500 lines because it is one class: :class:`ProgressStore`'s 29 methods,
each one read or one write transaction, make 580 of them, a third of those their docstrings.
What is not the store's own reading and writing lives beside it: names in :mod:`quiz.names`,
the export file in :mod:`quiz.progress_file`, opening the database in :mod:`quiz.database`.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from keras_cnn.paths import home_dir
from quiz import progress_file
from quiz.data import Result
from quiz.database import Database, StoreError, StoreWarning
from quiz.mastery import check_score, is_passing
from quiz.names import (
    MAX_LEARNER_NAME,
    find_name,
    learner_key,
    stored_name,
    validate_learner,
)
from quiz.progress_file import EXPORT_FORMAT, EXPORT_VERSION, ImportReport
from quiz.schema import (
    APPLICATION_ID,
    ATTEMPT_KINDS,
    MIGRATIONS,
    SCHEMA_VERSION,
    attempts,
    checks,
    last_visited,
    learners,
    roster,
)

DB_FILENAME = "progress.sqlite3"

__all__ = [
    "APPLICATION_ID",
    "ATTEMPT_KINDS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Attempt",
    "CheckRecord",
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "ImportReport",
    "MAX_LEARNER_NAME",
    "ProgressStore",
    "StoreError",
    "StoreWarning",
    "default_path",
    "learner_key",
    "validate_learner",
]


@dataclass(frozen=True)
class Attempt:
    """One stored answer."""

    id: int
    learner: str
    lesson_id: str
    question_id: str
    response: Any
    correct: bool
    score: float
    params: tuple[tuple[str, Any], ...]
    check_id: int | None
    created: str
    kind: str = "question"


@dataclass(frozen=True)
class CheckRecord:
    """One submitted system check."""

    id: int
    learner: str
    lesson_id: str
    score: float
    passed: bool
    n_questions: int
    created: str


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def data_dir() -> Path:
    """The directory holding the progress store: :func:`keras_cnn.paths.home_dir`.

    Returns:
        ``$KERAS_CNN_HOME`` if set, else the platform user data directory for ``keras-cnn``.
    """
    return home_dir()


def default_path() -> Path:
    """Default location of the progress database (see :func:`data_dir`).

    Returns:
        ``data_dir() / "progress.sqlite3"``.
    """
    return data_dir() / DB_FILENAME


def _to_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, set | frozenset | tuple):
            return sorted(obj) if isinstance(obj, set | frozenset) else list(obj)
        raise TypeError(f"response of type {type(obj).__name__} is not JSON-serialisable")

    return json.dumps(value, default=default)


def _attempt(row: Any) -> Attempt:
    return Attempt(
        id=row.id,
        learner=row.learner,
        lesson_id=row.lesson_id,
        question_id=row.question_id,
        response=json.loads(row.response),
        correct=bool(row.correct),
        score=row.score,
        params=tuple((p[0], p[1]) for p in json.loads(row.params)),
        check_id=row.check_id,
        created=row.created,
        kind=row.kind,
    )


def _check_record(row: Any) -> CheckRecord:
    return CheckRecord(
        row.id,
        row.learner,
        row.lesson_id,
        row.score,
        bool(row.passed),
        row.n_questions,
        row.created,
    )


class ProgressStore:
    """Learner progress in one database (a SQLite file or a PostgreSQL server).

    Args:
        path: A SQLite file, or a database URL (``sqlite:///FILE``, ``postgresql://...``);
            defaults to the class database when one is configured, else :func:`default_path`.
            A file's parent directories are created.
        timeout: Seconds a writer waits for another writer's lock (or for a connection).

    Raises:
        StoreError: If the database cannot be opened.
        ValueError: If ``path`` is a URL of another kind of database.
    """

    def __init__(self, path: str | Path | None = None, timeout: float = 30.0) -> None:
        self.db = Database(path, timeout)
        self.timeout = timeout

    @property
    def path(self) -> Path | None:
        """The SQLite file (``None`` on a database server: see :attr:`location`)."""
        return self.db.path

    @property
    def location(self) -> str:
        """Where progress is kept, for messages: the file, or the server URL without password."""
        return self.db.location

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.db.backend.name

    @property
    def read_only(self) -> bool:
        """Whether progress can only be read (the file, folder or server is not writable)."""
        return self.db.read_only

    @property
    def read_only_reason(self) -> str | None:
        """Why the store is read-only (``None`` when it is writable)."""
        return self.db.read_only_reason

    def schema_version(self) -> int:
        """The schema version of the database.

        Returns:
            Equal to :data:`SCHEMA_VERSION` after opening.
        """
        return self.db.schema_version()

    # -- learners -------------------------------------------------------------------------------

    def _ensure_learner(self, conn: Connection, learner: str) -> None:
        conn.execute(
            self.db.insert(learners).values(name=learner, created=_now()).on_conflict_do_nothing()
        )

    def add_learner(self, learner: str) -> str:
        """Register a learner (no-op if known).

        Args:
            learner: The learner's name.

        Returns:
            The normalised name.

        Raises:
            ValueError: If the name is invalid.
            StoreError: If the store is read-only or the database fails.
        """
        with self.db.write() as conn:
            return self._writer(conn, learner)

    def _writable_name(self, learner: Any, conn: Connection | None = None) -> str:
        """:func:`validate_learner`, except that a learner already in the store keeps the
        name stored (one saved before names were normalised and checked goes on working).
        Looked up in ``conn`` (a write's own transaction) when given."""
        if isinstance(learner, str) and learner.strip():
            if conn is None:
                with self.db.read() as reading:
                    found = find_name(reading, learner)
            else:
                found = find_name(conn, learner)
            if found is not None:
                return found
        return validate_learner(learner)

    def _writer(self, conn: Connection, learner: Any) -> str:
        """The stored (or new, validated) name of a learner, registered in ``conn``."""
        name = self._writable_name(learner, conn)
        self._ensure_learner(conn, name)
        return name

    def learners(self) -> list[str]:
        """Names of all learners in the store.

        Returns:
            Learner names sorted by code point (the same on every database's collation).
        """
        with self.db.read() as conn:
            return sorted(conn.execute(select(learners.c.name)).scalars())

    # -- writing --------------------------------------------------------------------------------

    def _insert_attempt(
        self,
        conn: Connection,
        learner: str,
        lesson_id: str,
        question_id: str,
        response: Any,
        result: Result,
        check_id: int | None,
        created: str,
        uid: str | None = None,
        kind: str = "question",
    ) -> int | None:
        """Insert one answer; its row id, or ``None`` when ``uid`` was stored already."""
        statement = (
            self.db.insert(attempts)
            .values(
                uid=uid or uuid.uuid4().hex,
                learner=learner,
                lesson_id=lesson_id,
                question_id=question_id,
                response=_to_json(response),
                correct=int(bool(result.correct)),
                score=float(result.score),
                check_id=check_id,
                created=created,
                params=_to_json([list(p) for p in result.params]),
                kind=kind,
            )
            .on_conflict_do_nothing()
            .returning(attempts.c.id)
        )
        return conn.execute(statement).scalar()

    def _insert_check(
        self,
        conn: Connection,
        uid: str,
        learner: str,
        lesson_id: str,
        score: float,
        passed: bool,
        n_questions: int,
        created: str,
    ) -> int | None:
        """Insert one system check; its row id, or ``None`` when ``uid`` was stored already."""
        statement = (
            self.db.insert(checks)
            .values(
                uid=uid,
                learner=learner,
                lesson_id=lesson_id,
                score=score,
                passed=int(passed),
                n_questions=n_questions,
                created=created,
            )
            .on_conflict_do_nothing()
            .returning(checks.c.id)
        )
        return conn.execute(statement).scalar()

    def record_attempt(
        self,
        learner: str,
        lesson_id: str,
        question_id: str,
        response: Any,
        result: Result,
        *,
        kind: str = "question",
        uid: str | None = None,
    ) -> int:
        """Store one answer outside a system check: a practice question, or an exercise.

        Args:
            learner: Learner name.
            lesson_id: Lesson of the question or exercise.
            question_id: The question (or exercise) id.
            response: The response as graded (JSON-serialisable; sets become sorted lists).
            result: The grading result.
            kind: One of :data:`ATTEMPT_KINDS` (``"exercise"`` for a coding exercise).
            uid: This submission's id: the same uid again stores nothing new (a double click,
                a retry after a dropped connection) and returns the first row's id.

        Returns:
            The attempt's row id.

        Raises:
            ValueError: If the learner name or ``kind`` is invalid, or ``result`` is for
                another question.
            StoreError: If the store is read-only or the database fails (nothing was saved).
        """
        if not isinstance(learner, str):
            validate_learner(learner)
        if result.question_id != question_id:
            raise ValueError(f"result is for {result.question_id!r}, not {question_id!r}")
        if kind not in ATTEMPT_KINDS:
            raise ValueError(f"kind must be one of {list(ATTEMPT_KINDS)}. Received: kind={kind!r}")
        with self.db.write() as conn:
            learner = self._writer(conn, learner)
            row_id = self._insert_attempt(
                conn, learner, lesson_id, question_id, response, result, None, _now(), uid, kind
            )
            if row_id is None:  # the uid was stored before
                row_id = conn.execute(
                    select(attempts.c.id).where(
                        attempts.c.learner == learner, attempts.c.uid == uid
                    )
                ).scalar_one()
        return row_id

    def record_check(
        self,
        learner: str,
        lesson_id: str,
        results: Sequence[Result],
        *,
        uid: str | None = None,
    ) -> CheckRecord:
        """Store a whole submitted system check and its answers in one transaction.

        Args:
            learner: Learner name.
            lesson_id: The lesson whose check was submitted.
            results: One graded result per question (``result.response`` is stored).
            uid: This submission's id: the same uid again (a double click on Submit, a retry
                after the connection dropped) stores nothing and returns the first record.

        Returns:
            The stored check with its score (mean of question scores) and pass flag (>= 80 %).

        Raises:
            ValueError: If the learner name is invalid or ``results`` is empty.
            StoreError: If the store is read-only or the database fails (nothing was saved).
        """
        if not isinstance(learner, str):
            validate_learner(learner)
        if not results:
            raise ValueError("a system check needs at least one result")
        score = check_score(results)
        passed = is_passing(score)
        created = _now()
        uid = uid or uuid.uuid4().hex
        with self.db.write() as conn:
            learner = self._writer(conn, learner)
            check_id = self._insert_check(
                conn, uid, learner, lesson_id, score, passed, len(results), created
            )
            if check_id is None:  # submitted before: that record stands
                row = conn.execute(
                    select(checks).where(checks.c.learner == learner, checks.c.uid == uid)
                ).one()
                return _check_record(row)
            for result in results:
                self._insert_attempt(
                    conn,
                    learner,
                    lesson_id,
                    result.question_id,
                    result.response,
                    result,
                    check_id,
                    created,
                )
        return CheckRecord(check_id, learner, lesson_id, score, passed, len(results), created)

    def _upsert_visited(
        self,
        conn: Connection,
        learner: str,
        lesson_id: str,
        section_id: str,
        updated: str,
        *,
        only_newer: bool = False,
    ) -> None:
        statement = self.db.insert(last_visited).values(
            learner=learner, lesson_id=lesson_id, section_id=section_id, updated=updated
        )
        excluded = statement.excluded
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[last_visited.c.learner],
                set_={
                    "lesson_id": excluded.lesson_id,
                    "section_id": excluded.section_id,
                    "updated": excluded.updated,
                },
                where=(excluded.updated > last_visited.c.updated) if only_newer else None,
            )
        )

    def set_last_visited(self, learner: str, lesson_id: str, section_id: str = "") -> None:
        """Remember where a learner is, for "continue where you left off".

        Args:
            learner: Learner name.
            lesson_id: The lesson being read.
            section_id: The section being read ("" for the lesson start).

        Raises:
            StoreError: If the store is read-only or the database fails.
        """
        with self.db.write() as conn:
            learner = self._writer(conn, learner)
            self._upsert_visited(conn, learner, lesson_id, section_id, _now())

    # -- reading --------------------------------------------------------------------------------

    def last_visited(self, learner: str) -> tuple[str, str] | None:
        """Where a learner was last.

        Args:
            learner: Learner name.

        Returns:
            ``(lesson_id, section_id)`` or ``None`` if never recorded.
        """
        with self.db.read() as conn:
            row = conn.execute(
                select(last_visited.c.lesson_id, last_visited.c.section_id).where(
                    last_visited.c.learner == stored_name(conn, learner)
                )
            ).first()
        return (row[0], row[1]) if row else None

    def _rows(self, table: Any, learner: str, lesson_id: str | None) -> list[Any]:
        """Rows of ``table`` for one learner (and lesson), oldest first."""
        with self.db.read() as conn:
            query = select(table).where(table.c.learner == stored_name(conn, learner))
            if lesson_id is not None:
                query = query.where(table.c.lesson_id == lesson_id)
            return list(conn.execute(query.order_by(table.c.id)))

    def attempts(
        self, learner: str, lesson_id: str | None = None, kind: str | None = None
    ) -> list[Attempt]:
        """A learner's answer history, oldest first.

        Args:
            learner: Learner name.
            lesson_id: Restrict to one lesson.
            kind: Restrict to one of :data:`ATTEMPT_KINDS`.

        Returns:
            The attempts.
        """
        found = [_attempt(r) for r in self._rows(attempts, learner, lesson_id)]
        return found if kind is None else [a for a in found if a.kind == kind]

    def checks(self, learner: str, lesson_id: str | None = None) -> list[CheckRecord]:
        """A learner's submitted system checks, oldest first.

        Args:
            learner: Learner name.
            lesson_id: Restrict to one lesson.

        Returns:
            The checks.
        """
        return [_check_record(r) for r in self._rows(checks, learner, lesson_id)]

    def lesson_scores(self, learner: str) -> dict[str, float]:
        """Best system-check score per lesson.

        Args:
            learner: Learner name.

        Returns:
            Lesson id -> best submitted score in [0, 1] (lessons never submitted are absent).
        """
        with self.db.read() as conn:
            rows = conn.execute(
                select(checks.c.lesson_id, func.max(checks.c.score))
                .where(checks.c.learner == stored_name(conn, learner))
                .group_by(checks.c.lesson_id)
            ).all()
        return {row[0]: row[1] for row in rows}

    def passed_lessons(self, learner: str) -> set[str]:
        """Lessons with at least one passing system check.

        Args:
            learner: Learner name.

        Returns:
            The passed lesson ids.
        """
        with self.db.read() as conn:
            rows = conn.execute(
                select(checks.c.lesson_id)
                .distinct()
                .where(checks.c.learner == stored_name(conn, learner), checks.c.passed == 1)
            ).scalars()
            return set(rows)

    def class_rows(self) -> tuple[list[CheckRecord], list[Attempt]]:
        """Every learner's checks and attempts, oldest first (for the instructor's view,
        :mod:`quiz.instructor`).

        Returns:
            ``(checks, attempts)``.
        """
        with self.db.read() as conn:
            all_checks = [
                _check_record(r) for r in conn.execute(select(checks).order_by(checks.c.id))
            ]
            all_attempts = [
                _attempt(r) for r in conn.execute(select(attempts).order_by(attempts.c.id))
            ]
        return all_checks, all_attempts

    # -- the class roster (see quiz.roster) ----------------------------------------------------

    def roster_rows(self) -> list[tuple[str, str, str]]:
        """The roster as ``(email, name, role)`` rows, sorted by e-mail (:func:`quiz.roster.load`
        makes members of them).

        Returns:
            The rows (empty when no roster was imported: single-user mode).
        """
        with self.db.read() as conn:
            rows = conn.execute(select(roster.c.email, roster.c.name, roster.c.role)).all()
        return sorted((r[0], r[1], r[2]) for r in rows)

    def set_roster(
        self, rows: Sequence[tuple[str, str, str]], *, replace: bool = False
    ) -> tuple[int, int, int]:
        """Add or update roster rows in one transaction (checked by :mod:`quiz.roster` first).

        Args:
            rows: ``(email, name, role)`` rows.
            replace: Remove the people not in ``rows`` from the roster (their progress stays).

        Returns:
            ``(added, updated, removed)``.

        Raises:
            StoreError: If the store is read-only or the database fails (nothing changed).
        """
        added = updated = removed = 0
        with self.db.write() as conn:
            before = {r[0]: (r[1], r[2]) for r in conn.execute(select(roster))}
            for email, name, role in rows:
                if email not in before:
                    added += 1
                elif before[email] != (name, role):
                    updated += 1
                else:
                    continue
                statement = self.db.insert(roster).values(
                    email=email, name=name, role=role, added=_now()
                )
                conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=[roster.c.email],
                        set_={"name": statement.excluded.name, "role": statement.excluded.role},
                    )
                )
            gone = set(before) - {r[0] for r in rows} if replace else set()
            if gone:
                conn.execute(roster.delete().where(roster.c.email.in_(sorted(gone))))
                removed = len(gone)
        return added, updated, removed

    # -- export / import ------------------------------------------------------------------------

    def export_json(self, learner: str) -> str:
        """Export one learner's complete progress.

        Args:
            learner: Learner name.

        Returns:
            A JSON document (format ``keras-cnn-quiz-progress``) for :meth:`import_json`.

        Raises:
            KeyError: If the learner is unknown.
        """
        with self.db.read() as conn:
            learner = stored_name(conn, learner)
            if (
                conn.execute(select(learners.c.name).where(learners.c.name == learner)).first()
                is None
            ):
                raise KeyError(f"unknown learner {learner!r}")
            check_rows = list(
                conn.execute(
                    select(checks).where(checks.c.learner == learner).order_by(checks.c.id)
                )
            )
            check_uid = checks.c.uid.label("check_uid")
            attempt_rows = list(
                conn.execute(
                    select(attempts, check_uid)
                    .outerjoin(checks, attempts.c.check_id == checks.c.id)
                    .where(attempts.c.learner == learner)
                    .order_by(attempts.c.id)
                )
            )
            visited = conn.execute(
                select(last_visited).where(last_visited.c.learner == learner)
            ).first()
        return progress_file.write(learner, check_rows, attempt_rows, visited, _now())

    def import_json(
        self, text: str, learner: str | None = None, lessons: Collection[str] | None = None
    ) -> ImportReport:
        """Import progress exported by :meth:`export_json` (idempotent: rows are keyed by learner and uid).

        The file is not trusted: a check's ``passed`` is recomputed from its score, and a row
        whose score is not a number in [0, 1] (NaN, 1e308, -5), whose lesson is not one of
        ``lessons``, or which is malformed is skipped and named in the report's ``skipped``;
        an answer that belonged to a skipped check is skipped with it.

        Args:
            text: The JSON document.
            learner: Import under this name instead of the exported one.
            lessons: The lesson ids rows may name. Defaults to the packaged course's lessons.

        Returns:
            The learner name, how many checks and attempts were new, and what was skipped.

        Raises:
            ValueError: If the document is not valid JSON or not a progress export, or the
                learner name is invalid.
            StoreError: If the store is read-only.
        """
        doc = progress_file.read(text)
        name = self._writable_name(learner if learner is not None else doc.get("learner"))
        if lessons is None:
            from quiz.loader import load_course

            lessons = [lesson.id for lesson in load_course().lessons]
        found = progress_file.rows(doc, frozenset(lessons))
        new_checks = new_attempts = 0
        with self.db.write() as conn:
            self._ensure_learner(conn, name)
            for uid, lesson_id, score, passed, n, created in found.checks:
                inserted = self._insert_check(conn, uid, name, lesson_id, score, passed, n, created)
                new_checks += inserted is not None
            for (
                uid,
                lesson_id,
                qid,
                response,
                correct,
                score,
                params,
                check_uid,
                created,
                kind,
            ) in found.attempts:
                check_id = None
                if check_uid:
                    check_id = conn.execute(
                        select(checks.c.id).where(
                            checks.c.learner == name, checks.c.uid == check_uid
                        )
                    ).scalar()
                result = Result(qid, correct, score, "", "", response, params)
                row_id = self._insert_attempt(
                    conn, name, lesson_id, qid, response, result, check_id, created, uid, kind
                )
                new_attempts += row_id is not None
            if isinstance(found.visited, dict):
                self._upsert_visited(
                    conn,
                    name,
                    str(found.visited["lesson_id"]),
                    str(found.visited.get("section_id", "")),
                    str(found.visited.get("updated", _now())),
                    only_newer=True,
                )
        return ImportReport(name, new_checks, new_attempts, tuple(found.skipped))
