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
  never deleted), a :class:`StoreWarning` says where, and a fresh store is started. These checks
  and the creation of the schema run in one ``BEGIN IMMEDIATE`` transaction, so a store that
  another process is creating at the same moment is seen empty or complete, never half made.
  A locked or unopenable file (any ``OperationalError``) is never moved: :class:`StoreError`.
* **Read-only** -- a store whose file or folder is not writable opens read-only
  (:attr:`ProgressStore.read_only`): progress is shown, every write raises :class:`StoreError`.
* **Import** -- :meth:`ProgressStore.import_json` trusts nothing: ``passed`` is recomputed, rows
  with scores outside [0, 1] (or NaN) or unknown lessons are skipped and reported.
* **Schema** -- versioned with ``PRAGMA user_version`` and migrated forward by the ordered
  :data:`MIGRATIONS`; the file is marked with ``PRAGMA application_id``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import time
import unicodedata
import uuid
import warnings
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from keras_cnn.paths import HOME_ENV, home_dir
from quiz.data import Result
from quiz.mastery import check_score, is_passing

DB_FILENAME = "progress.sqlite3"
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


#: SQLite result codes (``exc.sqlite_errorcode & 0xFF``) by what they mean for the store.
_CORRUPT_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB: move the file aside
_READ_ONLY_CODES = frozenset({3, 8, 14})  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN
_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED: wait, never move
_EMPTY = "file:keras-cnn-empty-store?mode=memory"


def _code(exc: sqlite3.Error) -> int:
    """The primary SQLite result code of an error (-1 when unknown)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else -1


def _disk_full(path: Path, exc: sqlite3.Error) -> bool:
    """Whether an error comes from a full disk (SQLite reports a full tmpfs as an I/O error)."""
    if _code(exc) not in (10, 13):  # SQLITE_IOERR, SQLITE_FULL
        return False
    try:
        return shutil.disk_usage(path.parent).free < 64 * 1024
    except OSError:
        return _code(exc) == 13


def _why(path: Path, exc: sqlite3.Error) -> str:
    """An SQLite error in words, naming a full disk as such."""
    if _disk_full(path, exc):
        return f"the disk holding {path.parent} is full; free some space and try again"
    return str(exc)


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
    """What :meth:`ProgressStore.import_json` added and what it refused.

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


#: Unicode categories a learner name may not contain: controls (Cc); invisible format
#: characters (Cf), which hold the bidi controls (U+202A..U+202E, U+2066..U+2069, U+200E,
#: U+200F) and the zero-width ones (U+200B..U+200D, U+2060, U+FEFF); line and paragraph
#: separators (Zl, Zp). With them two names could look identical in the learner picker.
_REFUSED_CATEGORIES = {
    "Cc": "control characters",
    "Cf": "invisible formatting characters (bidi controls, zero-width characters)",
    "Zl": "line separators",
    "Zp": "paragraph separators",
}


def validate_learner(name: Any) -> str:
    """Check and normalise a learner name.

    The name is stripped and NFC-normalised, so an "é" typed as one character or as "e" plus
    a combining accent is the same learner. The store also treats names equal but for case as
    one learner (:func:`learner_key`): "ada" finds "Ada", whose spelling is kept.

    Args:
        name: The name as typed.

    Returns:
        The name without surrounding whitespace, in Unicode normal form C.

    Raises:
        ValueError: If it is not a string, is empty, too long, or contains control characters,
            bidi controls, zero-width or other invisible characters.
    """
    if not isinstance(name, str):
        raise ValueError(f"learner name must be a string, got {type(name).__name__}")
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise ValueError("learner name must not be empty")
    if len(name) > MAX_LEARNER_NAME:
        raise ValueError(f"learner name longer than {MAX_LEARNER_NAME} characters")
    for ch in name:
        problem = _REFUSED_CATEGORIES.get(unicodedata.category(ch))
        if problem:
            raise ValueError(
                f"learner name contains {problem}: U+{ord(ch):04X} "
                f"{unicodedata.name(ch, 'unnamed')}. Received: name={name!r}"
            )
    return name


def learner_key(name: str) -> str:
    """What makes two learner names the same learner: stripped, NFC-normalised, case-folded.

    ``"Ada"``, ``"ada"`` and ``" ADA "`` are one learner; so are an "é" typed as one character
    and as "e" plus a combining accent.

    Args:
        name: str. A learner name as typed or as stored.

    Returns:
        The comparison key (never shown: the store keeps the name as first typed).
    """
    return unicodedata.normalize("NFC", name.strip()).casefold()


def _find_name(conn: sqlite3.Connection, learner: str) -> str | None:
    """The stored name of a learner: as given (stripped), else its NFC, else its NFD form,
    else the stored name with the same :func:`learner_key` (another case: "ada" for "Ada")."""
    given = learner.strip()
    nfc, nfd = (unicodedata.normalize(form, given) for form in ("NFC", "NFD"))
    row = conn.execute(
        "SELECT name FROM learners WHERE name IN (?, ?, ?) ORDER BY name = ? DESC, name = ? DESC "
        "LIMIT 1",
        (given, nfc, nfd, given, nfc),
    ).fetchone()
    if row:
        return row[0]
    key = learner_key(given)
    for (name,) in conn.execute("SELECT name FROM learners ORDER BY created, name"):
        if learner_key(name) == key:
            return name
    return None


def _stored_name(conn: sqlite3.Connection, learner: Any) -> str:
    """The name a learner is stored under, for reading their progress.

    New names are validated strictly (:func:`validate_learner`); a learner stored before
    names were NFC-normalised and checked for invisible characters is still found, so an
    older store's progress stays visible.
    """
    if not isinstance(learner, str):
        raise ValueError(f"learner name must be a string, got {type(learner).__name__}")
    return _find_name(conn, learner) or unicodedata.normalize("NFC", learner.strip())


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
        self.read_only_reason: str | None = None
        self._uri: str | None = None  # set when the store is opened read-only
        self._opened = False
        self._initialise()
        self._opened = True

    @property
    def read_only(self) -> bool:
        """Whether progress can only be read (the file or its folder is not writable)."""
        return self.read_only_reason is not None

    # -- connection handling ------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._uri is not None:
            conn = sqlite3.connect(self._uri, uri=True, timeout=self.timeout, isolation_level=None)
            if self._uri == _EMPTY:
                for statements in MIGRATIONS:
                    for statement in statements:
                        conn.execute(statement)
            return conn
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
        try:
            conn = self._connect()
        except sqlite3.OperationalError as exc:
            if not self._opened or self._uri is not None or not _disk_full(self.path, exc):
                raise
            self._open_read_only(_why(self.path, exc))  # the disk filled up since it opened
            conn = self._connect()
        try:
            yield conn
        finally:
            conn.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if self.read_only_reason is not None:
            raise StoreError(
                f"progress store {self.path} is read-only ({self.read_only_reason}): progress "
                "can be read but nothing new is saved. Make it writable, or set "
                f"{HOME_ENV} to a writable folder."
            )
        try:
            conn = self._connect()
        except sqlite3.OperationalError as exc:
            raise self._unsaved(exc) from exc
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError as exc:  # a full disk, an I/O error, a lasting lock
            raise self._unsaved(exc) from exc
        finally:
            conn.close()

    def _unsaved(self, exc: sqlite3.OperationalError) -> StoreError:
        return StoreError(
            f"progress store {self.path} could not save ({_why(self.path, exc)}): nothing "
            "was saved and the progress saved before is intact"
        )

    def _initialise(self) -> None:
        """Open (creating or migrating) the store; fall back to read-only where it must.

        Only a file that is really unusable -- not a database, a failed ``quick_check``, a
        foreign ``application_id`` or missing tables, all read inside the one ``BEGIN
        IMMEDIATE`` transaction that also creates the schema -- is moved aside. An
        ``OperationalError`` (locked, read-only, cannot open) never moves a file.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return self._open_read_only(f"cannot create {self.path.parent}: {exc.strerror}")
        try:
            self._open_and_migrate()
        except sqlite3.OperationalError as exc:
            if _disk_full(self.path, exc):
                return self._open_read_only(_why(self.path, exc))
            if _code(exc) not in _READ_ONLY_CODES:
                raise StoreError(f"progress store {self.path} cannot be opened: {exc}") from exc
            return self._open_read_only(str(exc))
        except (_Unusable, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and _code(exc) not in _CORRUPT_CODES:
                raise StoreError(f"progress store {self.path} cannot be opened: {exc}") from exc
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
            self._set_wal(conn)
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._check(conn)
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                app_id = conn.execute("PRAGMA application_id").fetchone()[0]
                if version == SCHEMA_VERSION and app_id == APPLICATION_ID:
                    # Current already (every page run opens the store): commit nothing, so no
                    # fsync, and the lock is held only for the checks. The write below, rolled
                    # back, still fails on a read-only file, as the migration's would.
                    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                    conn.execute("ROLLBACK")
                    return
                for statements in MIGRATIONS[version:]:
                    for statement in statements:
                        conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _set_wal(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL; another process creating the file may hold the lock for a moment."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
                if mode.lower() != "wal":
                    conn.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if _code(exc) not in _BUSY_CODES or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _check(self, conn: sqlite3.Connection) -> None:
        """Raise :class:`_Unusable` or :class:`StoreError` for a file this program cannot use
        (run inside a transaction, so that a store another process is creating is seen either
        empty or complete)."""
        check = conn.execute("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise _Unusable(f"integrity check failed: {check[0] if check else 'no result'}")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if app_id != APPLICATION_ID and (app_id != 0 or tables):
            raise _Unusable(f"not a keras-cnn progress store (application_id={app_id})")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} has schema version {version}, newer than this program's "
                f"{SCHEMA_VERSION}; upgrade keras-cnn"
            )
        if version and not EXPECTED_TABLES[version] <= tables:
            missing = ", ".join(sorted(EXPECTED_TABLES[version] - tables))
            raise _Unusable(f"schema version {version} but tables missing: {missing}")

    def _open_read_only(self, reason: str) -> None:
        """Open the store for reading only (an absent file reads as an empty store)."""
        self.read_only_reason = reason
        if not self.path.exists():
            self._uri = _EMPTY
            return
        base = self.path.resolve().as_uri()
        # mode=ro needs the -shm file of a WAL database; in a read-only folder that cannot be
        # created, immutable=1 reads the file as it is.
        for uri in (base + "?mode=ro", base + "?mode=ro&immutable=1"):
            self._uri = uri
            try:
                with self._read() as conn:
                    conn.execute("BEGIN")
                    try:
                        self._check(conn)
                        version = conn.execute("PRAGMA user_version").fetchone()[0]
                    finally:
                        conn.execute("ROLLBACK")
                break
            except _Unusable as exc:
                raise StoreError(
                    f"progress store {self.path} is unusable ({exc}) and read-only ({reason}), "
                    "so it cannot be replaced"
                ) from exc
            except sqlite3.OperationalError as exc:
                # no room for the -shm file: no connection is open, so the WAL is checkpointed
                known = _code(exc) in _READ_ONLY_CODES or _disk_full(self.path, exc)
                if not known or "immutable" in uri:
                    raise StoreError(
                        f"progress store {self.path} cannot be read ({exc}; {reason})"
                    ) from exc
            except sqlite3.DatabaseError as exc:
                raise StoreError(
                    f"progress store {self.path} is unusable ({exc}) and read-only ({reason}), "
                    "so it cannot be replaced"
                ) from exc
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"progress store {self.path} has schema version {version} and needs an upgrade "
                f"to {SCHEMA_VERSION}, which cannot be written: it is read-only ({reason})"
            )

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
        learner = self._writable_name(learner)
        with self._transaction() as conn:
            self._ensure_learner(conn, learner)
        return learner

    def _writable_name(self, learner: Any) -> str:
        """:func:`validate_learner`, except that a learner already in the store keeps the
        name stored (one saved before names were normalised and checked goes on working)."""
        if isinstance(learner, str) and learner.strip():
            with self._read() as conn:
                found = _find_name(conn, learner)
            if found is not None:
                return found
        return validate_learner(learner)

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
        learner = self._writable_name(learner)
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
        learner = self._writable_name(learner)
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
        learner = self._writable_name(learner)
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
                (_stored_name(conn, learner),),
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
        with self._read() as conn:
            args: list[Any] = [_stored_name(conn, learner)]
            if lesson_id is not None:
                sql += " AND lesson_id = ?"
                args.append(lesson_id)
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
                (_stored_name(conn, learner),),
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
                (_stored_name(conn, learner),),
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
        with self._read() as conn:
            learner = _stored_name(conn, learner)
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
        name = self._writable_name(learner if learner is not None else doc.get("learner"))
        if lessons is None:
            from quiz.loader import load_course

            lessons = [lesson.id for lesson in load_course().lessons]
        known = frozenset(lessons)
        rows = {key: doc.get(key, []) for key in ("checks", "attempts")}
        for key, value in rows.items():
            if not isinstance(value, list):
                raise ValueError(f"malformed progress export: {key!r} must be a list")
        skipped: list[str] = []
        checks, attempts = [], []
        for i, c in enumerate(rows["checks"]):
            try:
                score = _import_score(c["score"])
                row = (str(c["uid"]), _import_lesson(c["lesson_id"], known), score)
                n_questions = c["n_questions"]
                if isinstance(n_questions, bool) or not isinstance(n_questions, int):
                    raise TypeError(f"n_questions {n_questions!r} is not an integer")
                if n_questions < 1:
                    raise _Skip(f"n_questions {n_questions} is not a positive count")
                checks.append((*row, is_passing(score), n_questions, str(c["created"])))
            except _Skip as exc:
                skipped.append(f"checks[{i}]: {exc}")
            except (AttributeError, KeyError, TypeError, ValueError) as exc:
                raise _malformed("checks", i, exc) from exc
        refused_checks = {str(c.get("uid")) for c in rows["checks"] if isinstance(c, dict)} - {
            c[0] for c in checks
        }
        for i, a in enumerate(rows["attempts"]):
            try:
                if a.get("check_uid") and str(a["check_uid"]) in refused_checks:
                    raise _Skip(f"its check {a['check_uid']!r} was skipped")
                attempts.append(
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
            if isinstance(visited, dict):
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
        return ImportReport(name, new_checks, new_attempts, tuple(skipped))


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


def _malformed(key: str, index: int, exc: Exception) -> ValueError:
    if isinstance(exc, KeyError):
        reason = f"missing field {exc.args[0]!r}"
    elif isinstance(exc, AttributeError):
        reason = "not an object"
    else:
        reason = str(exc)
    return ValueError(f"malformed progress export: {key}[{index}]: {reason}")
