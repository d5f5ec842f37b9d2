"""Durable learner progress in SQLite (standard library only).

Design:

* **Location** -- ``$KERAS_CNN_HOME/progress.sqlite3`` if ``KERAS_CNN_HOME`` is set, else the
  platform's user data directory (``platformdirs``; a ``~/.local/share/keras-cnn`` style fallback
  when it is not installed).
* **History, not just scores** -- one row per answered question (learner, lesson, question,
  response, correct, score, time) and one row per submitted system check.
* **Safety** -- WAL journal, ``synchronous=FULL``, a busy timeout, and every write in one
  ``BEGIN IMMEDIATE`` transaction, so concurrent writers from several processes all succeed and a
  crash never loses a committed row. Each operation uses its own short-lived connection, so a
  store object may be shared between threads (Streamlit) and processes.
* **Corruption** -- a file that is not SQLite, fails ``PRAGMA quick_check``, belongs to another
  application or lacks the expected tables is renamed to ``<name>.corrupt-<timestamp>`` (kept,
  never deleted), a :class:`StoreWarning` says where, and a fresh store is started.
* **Schema** -- versioned with ``PRAGMA user_version`` and migrated forward by the ordered
  :data:`MIGRATIONS`; the file is marked with ``PRAGMA application_id``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import sys
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quiz.data import Result
from quiz.mastery import check_score, is_passing

APP_NAME = "keras-cnn"
DB_FILENAME = "progress.sqlite3"
HOME_ENV = "KERAS_CNN_HOME"
APPLICATION_ID = 0x4B434E51  # "KCNQ"
EXPORT_FORMAT = "keras-cnn-quiz-progress"
EXPORT_VERSION = 1
MAX_LEARNER_NAME = 64

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # version 1: learners, submitted checks, attempts
    (
        """CREATE TABLE learners (
            name TEXT PRIMARY KEY,
            created TEXT NOT NULL)""",
        """CREATE TABLE checks (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL,
            learner TEXT NOT NULL REFERENCES learners(name),
            lesson_id TEXT NOT NULL,
            score REAL NOT NULL,
            passed INTEGER NOT NULL,
            n_questions INTEGER NOT NULL,
            created TEXT NOT NULL,
            UNIQUE (learner, uid))""",
        """CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL,
            learner TEXT NOT NULL REFERENCES learners(name),
            lesson_id TEXT NOT NULL,
            question_id TEXT NOT NULL,
            response TEXT NOT NULL,
            correct INTEGER NOT NULL,
            score REAL NOT NULL,
            check_id INTEGER REFERENCES checks(id),
            created TEXT NOT NULL,
            UNIQUE (learner, uid))""",
        "CREATE INDEX attempts_by_learner ON attempts(learner, lesson_id)",
    ),
    # version 2: drawn parameters of generated questions, "continue where you left off"
    (
        "ALTER TABLE attempts ADD COLUMN params TEXT NOT NULL DEFAULT '[]'",
        """CREATE TABLE last_visited (
            learner TEXT PRIMARY KEY REFERENCES learners(name),
            lesson_id TEXT NOT NULL,
            section_id TEXT NOT NULL DEFAULT '',
            updated TEXT NOT NULL)""",
        "CREATE INDEX checks_by_learner ON checks(learner, lesson_id)",
    ),
)
"""Forward migrations: ``MIGRATIONS[i]`` brings the schema from version ``i`` to ``i + 1``."""

SCHEMA_VERSION = len(MIGRATIONS)
"""Current schema version."""

EXPECTED_TABLES: dict[int, frozenset[str]] = {
    1: frozenset({"learners", "checks", "attempts"}),
    2: frozenset({"learners", "checks", "attempts", "last_visited"}),
}


class StoreWarning(UserWarning):
    """Emitted when an unusable progress file was moved aside and a fresh store started."""


class StoreError(RuntimeError):
    """The store cannot be used (e.g. written by a newer version of the program)."""


class _Unusable(Exception):
    """Internal: the file is corrupt or foreign."""


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


@dataclass(frozen=True)
class ImportReport:
    """What :meth:`ProgressStore.import_json` added (rows the learner already has are skipped)."""

    learner: str
    checks: int
    attempts: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def data_dir() -> Path:
    """The directory holding the progress store.

    Returns:
        ``$KERAS_CNN_HOME`` if set, else the platform user data directory for ``keras-cnn``.
    """
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser()
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - platformdirs is a dependency; fall back anyway
        if sys.platform == "win32":
            base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Application Support"
        else:
            base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
        return base / APP_NAME
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_path() -> Path:
    """Default location of the progress database (see :func:`data_dir`).

    Returns:
        ``data_dir() / "progress.sqlite3"``.
    """
    return data_dir() / DB_FILENAME


def validate_learner(name: Any) -> str:
    """Check and normalise a learner name.

    Args:
        name: The name as typed.

    Returns:
        The name without surrounding whitespace.

    Raises:
        ValueError: If it is not a string, is empty, too long, or contains control characters.
    """
    if not isinstance(name, str):
        raise ValueError(f"learner name must be a string, got {type(name).__name__}")
    name = name.strip()
    if not name:
        raise ValueError("learner name must not be empty")
    if len(name) > MAX_LEARNER_NAME:
        raise ValueError(f"learner name longer than {MAX_LEARNER_NAME} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise ValueError("learner name contains control characters")
    return name


def _to_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, set | frozenset | tuple):
            return sorted(obj) if isinstance(obj, set | frozenset) else list(obj)
        raise TypeError(f"response of type {type(obj).__name__} is not JSON-serialisable")

    return json.dumps(value, default=default)


class ProgressStore:
    """Learner progress in one SQLite file.

    Args:
        path: Database file; defaults to :func:`default_path`. Parent directories are created.
        timeout: Seconds a writer waits for another writer's lock before failing.
    """

    def __init__(self, path: str | Path | None = None, timeout: float = 30.0) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.timeout = timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._initialise()

    # -- connection handling ------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        finally:
            conn.close()

    def _initialise(self) -> None:
        try:
            self._open_and_migrate()
        except (_Unusable, sqlite3.DatabaseError) as exc:
            kept = self._move_aside()
            warnings.warn(
                f"progress store {self.path} is unusable ({exc}); the old file was kept as "
                f"{kept} and a fresh store was started",
                StoreWarning,
                stacklevel=3,
            )
            self._open_and_migrate()

    def _open_and_migrate(self) -> None:
        with self._read() as conn:
            check = conn.execute("PRAGMA quick_check").fetchone()
            if not check or check[0] != "ok":
                raise _Unusable(f"integrity check failed: {check[0] if check else 'no result'}")
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {
                row[0]
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            if app_id != APPLICATION_ID and (app_id != 0 or tables):
                raise _Unusable(f"not a keras-cnn progress store (application_id={app_id})")
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StoreError(
                        f"{self.path} has schema version {version}, newer than this program's "
                        f"{SCHEMA_VERSION}; upgrade keras-cnn"
                    )
                tables = {
                    row[0]
                    for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                }
                if version and not EXPECTED_TABLES[version] <= tables:
                    missing = ", ".join(sorted(EXPECTED_TABLES[version] - tables))
                    raise _Unusable(f"schema version {version} but tables missing: {missing}")
                for statements in MIGRATIONS[version:]:
                    for statement in statements:
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _move_aside(self) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{n}")
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.path, target)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            with contextlib.suppress(FileNotFoundError):
                os.replace(side, target.with_name(target.name + suffix))
        return target

    # -- schema info ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        """The schema version of the file.

        Returns:
            ``PRAGMA user_version`` (equal to :data:`SCHEMA_VERSION` after opening).
        """
        with self._read() as conn:
            return conn.execute("PRAGMA user_version").fetchone()[0]

    # -- learners -------------------------------------------------------------------------------

    @staticmethod
    def _ensure_learner(conn: sqlite3.Connection, learner: str) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO learners(name, created) VALUES (?, ?)", (learner, _now())
        )

    def add_learner(self, learner: str) -> str:
        """Register a learner (no-op if known).

        Args:
            learner: The learner's name.

        Returns:
            The normalised name.

        Raises:
            ValueError: If the name is invalid.
        """
        learner = validate_learner(learner)
        with self._transaction() as conn:
            self._ensure_learner(conn, learner)
        return learner

    def learners(self) -> list[str]:
        """Names of all learners on this machine.

        Returns:
            Sorted learner names.
        """
        with self._read() as conn:
            return [row[0] for row in conn.execute("SELECT name FROM learners ORDER BY name")]

    # -- writing --------------------------------------------------------------------------------

    @staticmethod
    def _insert_attempt(
        conn: sqlite3.Connection,
        learner: str,
        lesson_id: str,
        question_id: str,
        response: Any,
        result: Result,
        check_id: int | None,
        created: str,
        uid: str | None = None,
    ) -> int:
        cursor = conn.execute(
            "INSERT OR IGNORE INTO attempts(uid, learner, lesson_id, question_id, response, "
            "correct, score, check_id, created, params) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                uid or uuid.uuid4().hex,
                learner,
                lesson_id,
                question_id,
                _to_json(response),
                int(bool(result.correct)),
                float(result.score),
                check_id,
                created,
                _to_json([list(p) for p in result.params]),
            ),
        )
        return int(cursor.lastrowid or 0)

    def record_attempt(
        self, learner: str, lesson_id: str, question_id: str, response: Any, result: Result
    ) -> int:
        """Store one answered question (outside a system check, e.g. a practice question).

        Args:
            learner: Learner name.
            lesson_id: Lesson of the question.
            question_id: The question.
            response: The response as graded (JSON-serialisable; sets become sorted lists).
            result: The grading result.

        Returns:
            The new attempt's row id.

        Raises:
            ValueError: If the learner name is invalid or ``result`` is for another question.
        """
        learner = validate_learner(learner)
        if result.question_id != question_id:
            raise ValueError(f"result is for {result.question_id!r}, not {question_id!r}")
        with self._transaction() as conn:
            self._ensure_learner(conn, learner)
            return self._insert_attempt(
                conn, learner, lesson_id, question_id, response, result, None, _now()
            )

    def record_check(self, learner: str, lesson_id: str, results: Sequence[Result]) -> CheckRecord:
        """Store a whole submitted system check and its answers in one transaction.

        Args:
            learner: Learner name.
            lesson_id: The lesson whose check was submitted.
            results: One graded result per question (``result.response`` is stored).

        Returns:
            The stored check with its score (mean of question scores) and pass flag (>= 80 %).

        Raises:
            ValueError: If the learner name is invalid or ``results`` is empty.
        """
        learner = validate_learner(learner)
        if not results:
            raise ValueError("a system check needs at least one result")
        score = check_score(results)
        passed = is_passing(score)
        created = _now()
        with self._transaction() as conn:
            self._ensure_learner(conn, learner)
            cursor = conn.execute(
                "INSERT INTO checks(uid, learner, lesson_id, score, passed, n_questions, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, learner, lesson_id, score, int(passed), len(results), created),
            )
            check_id = int(cursor.lastrowid or 0)
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

    def set_last_visited(self, learner: str, lesson_id: str, section_id: str = "") -> None:
        """Remember where a learner is, for "continue where you left off".

        Args:
            learner: Learner name.
            lesson_id: The lesson being read.
            section_id: The section being read ("" for the lesson start).
        """
        learner = validate_learner(learner)
        with self._transaction() as conn:
            self._ensure_learner(conn, learner)
            conn.execute(
                "INSERT INTO last_visited(learner, lesson_id, section_id, updated) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(learner) DO UPDATE SET "
                "lesson_id = excluded.lesson_id, section_id = excluded.section_id, "
                "updated = excluded.updated",
                (learner, lesson_id, section_id, _now()),
            )

    # -- reading --------------------------------------------------------------------------------

    def last_visited(self, learner: str) -> tuple[str, str] | None:
        """Where a learner was last.

        Args:
            learner: Learner name.

        Returns:
            ``(lesson_id, section_id)`` or ``None`` if never recorded.
        """
        with self._read() as conn:
            row = conn.execute(
                "SELECT lesson_id, section_id FROM last_visited WHERE learner = ?",
                (validate_learner(learner),),
            ).fetchone()
        return (row[0], row[1]) if row else None

    def attempts(self, learner: str, lesson_id: str | None = None) -> list[Attempt]:
        """A learner's answer history, oldest first.

        Args:
            learner: Learner name.
            lesson_id: Restrict to one lesson.

        Returns:
            The attempts.
        """
        rows = self._select(
            "SELECT id, learner, lesson_id, question_id, response, correct, score, params, "
            "check_id, created FROM attempts",
            learner,
            lesson_id,
        )
        return [
            Attempt(
                id=r[0],
                learner=r[1],
                lesson_id=r[2],
                question_id=r[3],
                response=json.loads(r[4]),
                correct=bool(r[5]),
                score=r[6],
                params=tuple((p[0], p[1]) for p in json.loads(r[7])),
                check_id=r[8],
                created=r[9],
            )
            for r in rows
        ]

    def _select(self, select: str, learner: str, lesson_id: str | None) -> list[tuple]:
        """Rows of ``select`` for one learner (and lesson), oldest first."""
        sql = select + " WHERE learner = ?"
        args: list[Any] = [validate_learner(learner)]
        if lesson_id is not None:
            sql += " AND lesson_id = ?"
            args.append(lesson_id)
        with self._read() as conn:
            return conn.execute(sql + " ORDER BY id", args).fetchall()

    def checks(self, learner: str, lesson_id: str | None = None) -> list[CheckRecord]:
        """A learner's submitted system checks, oldest first.

        Args:
            learner: Learner name.
            lesson_id: Restrict to one lesson.

        Returns:
            The checks.
        """
        rows = self._select(
            "SELECT id, learner, lesson_id, score, passed, n_questions, created FROM checks",
            learner,
            lesson_id,
        )
        return [CheckRecord(r[0], r[1], r[2], r[3], bool(r[4]), r[5], r[6]) for r in rows]

    def lesson_scores(self, learner: str) -> dict[str, float]:
        """Best system-check score per lesson.

        Args:
            learner: Learner name.

        Returns:
            Lesson id -> best submitted score in [0, 1] (lessons never submitted are absent).
        """
        with self._read() as conn:
            rows = conn.execute(
                "SELECT lesson_id, MAX(score) FROM checks WHERE learner = ? GROUP BY lesson_id",
                (validate_learner(learner),),
            ).fetchall()
        return {row[0]: row[1] for row in rows}

    def passed_lessons(self, learner: str) -> set[str]:
        """Lessons with at least one passing system check.

        Args:
            learner: Learner name.

        Returns:
            The passed lesson ids.
        """
        with self._read() as conn:
            rows = conn.execute(
                "SELECT DISTINCT lesson_id FROM checks WHERE learner = ? AND passed = 1",
                (validate_learner(learner),),
            ).fetchall()
        return {row[0] for row in rows}

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
        learner = validate_learner(learner)
        with self._read() as conn:
            if not conn.execute("SELECT 1 FROM learners WHERE name = ?", (learner,)).fetchone():
                raise KeyError(f"unknown learner {learner!r}")
            checks = conn.execute(
                "SELECT id, uid, lesson_id, score, passed, n_questions, created FROM checks "
                "WHERE learner = ? ORDER BY id",
                (learner,),
            ).fetchall()
            attempts = conn.execute(
                "SELECT a.uid, a.lesson_id, a.question_id, a.response, a.correct, a.score, "
                "a.params, c.uid, a.created FROM attempts a LEFT JOIN checks c "
                "ON a.check_id = c.id WHERE a.learner = ? ORDER BY a.id",
                (learner,),
            ).fetchall()
            visited = conn.execute(
                "SELECT lesson_id, section_id, updated FROM last_visited WHERE learner = ?",
                (learner,),
            ).fetchone()
        document = {
            "format": EXPORT_FORMAT,
            "version": EXPORT_VERSION,
            "learner": learner,
            "exported": _now(),
            "checks": [
                {
                    "uid": c[1],
                    "lesson_id": c[2],
                    "score": c[3],
                    "passed": bool(c[4]),
                    "n_questions": c[5],
                    "created": c[6],
                }
                for c in checks
            ],
            "attempts": [
                {
                    "uid": a[0],
                    "lesson_id": a[1],
                    "question_id": a[2],
                    "response": json.loads(a[3]),
                    "correct": bool(a[4]),
                    "score": a[5],
                    "params": json.loads(a[6]),
                    "check_uid": a[7],
                    "created": a[8],
                }
                for a in attempts
            ],
            "last_visited": (
                {"lesson_id": visited[0], "section_id": visited[1], "updated": visited[2]}
                if visited
                else None
            ),
        }
        return json.dumps(document, indent=2)

    def import_json(self, text: str, learner: str | None = None) -> ImportReport:
        """Import progress exported by :meth:`export_json` (idempotent: rows are keyed by learner and uid).

        Args:
            text: The JSON document.
            learner: Import under this name instead of the exported one.

        Returns:
            The learner name and how many checks and attempts were new.

        Raises:
            ValueError: If the document is not valid JSON or not a progress export.
        """
        try:
            doc = json.loads(text)
        except (json.JSONDecodeError, TypeError) as exc:
            raise ValueError(f"not a JSON document: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
            raise ValueError(f"not a {EXPORT_FORMAT} export")
        if doc.get("version") != EXPORT_VERSION:
            raise ValueError(f"unsupported export version {doc.get('version')!r}")
        name = validate_learner(learner if learner is not None else doc.get("learner"))
        try:
            checks = [
                (
                    str(c["uid"]),
                    str(c["lesson_id"]),
                    float(c["score"]),
                    bool(c["passed"]),
                    int(c["n_questions"]),
                    str(c["created"]),
                )
                for c in doc.get("checks", [])
            ]
            attempts = [
                (
                    str(a["uid"]),
                    str(a["lesson_id"]),
                    str(a["question_id"]),
                    a["response"],
                    bool(a["correct"]),
                    float(a["score"]),
                    tuple(tuple(p) for p in a.get("params", [])),
                    a.get("check_uid"),
                    str(a["created"]),
                )
                for a in doc.get("attempts", [])
            ]
            visited = doc.get("last_visited")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed progress export: {exc!r}") from exc
        new_checks = new_attempts = 0
        with self._transaction() as conn:
            self._ensure_learner(conn, name)
            for uid, lesson_id, score, passed, n, created in checks:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO checks(uid, learner, lesson_id, score, passed, "
                    "n_questions, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (uid, name, lesson_id, score, int(passed), n, created),
                )
                new_checks += cur.rowcount
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
            ) in attempts:
                check_id = None
                if check_uid:
                    row = conn.execute(
                        "SELECT id FROM checks WHERE learner = ? AND uid = ?", (name, check_uid)
                    ).fetchone()
                    check_id = row[0] if row else None
                result = Result(qid, correct, score, "", "", response, params)
                before = conn.total_changes
                self._insert_attempt(
                    conn, name, lesson_id, qid, response, result, check_id, created, uid
                )
                new_attempts += conn.total_changes - before
            if isinstance(visited, dict) and visited.get("lesson_id"):
                conn.execute(
                    "INSERT INTO last_visited(learner, lesson_id, section_id, updated) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(learner) DO UPDATE SET "
                    "lesson_id = excluded.lesson_id, section_id = excluded.section_id, "
                    "updated = excluded.updated WHERE excluded.updated > last_visited.updated",
                    (
                        name,
                        str(visited["lesson_id"]),
                        str(visited.get("section_id", "")),
                        str(visited.get("updated", _now())),
                    ),
                )
        return ImportReport(name, new_checks, new_attempts)
