"""The progress database: one SQLite file (the default) or a PostgreSQL server (a class).

SQLAlchemy Core runs the same statements on both (:mod:`quiz.schema`); what differs between
the two lives in one backend class each (:class:`_SQLiteFile`, :class:`_Server`), not in
branches through the store:

* **SQLite** -- WAL journal, ``synchronous=FULL``, a busy timeout, every write in one
  ``BEGIN IMMEDIATE`` transaction on its own short-lived connection, so writers in several
  processes all succeed and a crash never loses a committed row. A file that is not SQLite,
  fails ``PRAGMA quick_check``, belongs to another application or lacks tables is renamed to
  ``<name>.corrupt-<timestamp>`` (kept, never deleted), a :class:`StoreWarning` says where, and a
  fresh store starts. These checks and the creation of the schema run in the one ``BEGIN
  IMMEDIATE`` transaction, so a store another process is creating is seen empty or complete.
  A locked or unopenable file is never moved (:class:`StoreError`); a file or folder that
  cannot be written opens read-only.
* **PostgreSQL** -- ``postgresql://`` URLs through psycopg 3, a connection pool per process
  that checks a connection before lending it (a server restarted mid-class is reconnected to).
  Creation and migration run in one transaction under an advisory lock, so replicas starting
  together create the schema once. A database holding another application's tables is
  refused, never changed. A read-only server (a standby) opens read-only.

Every database error reaches the caller as :class:`StoreError` with one line saying what
happened and that nothing was saved (a full disk, a server that went away), never as a driver
exception. Versions: ``PRAGMA user_version`` and ``application_id`` on SQLite, one row in
:data:`quiz.schema.MARKER_TABLE` on PostgreSQL.

(The module is a little over 500 lines because it is one concept, opening a progress database
safely: :class:`Database` (270 lines) chooses between using, migrating, opening read-only,
moving aside and refusing from the SQLite result codes and SQLSTATEs that the tables and the two
backend classes above it interpret; split apart, each half would import the other's codes.
The store's statements are :mod:`quiz.store`, the tables :mod:`quiz.schema`.)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool, StaticPool

from keras_cnn.paths import HOME_ENV
from quiz.schema import (
    APPLICATION_ID,
    EXPECTED_TABLES,
    MARKER_TABLE,
    SCHEMA_VERSION,
    migrate,
)

SERVER_SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")
"""URL schemes of a database server (``postgres://`` as some hosts print it)."""


class StoreWarning(UserWarning):
    """Emitted when an unusable progress file was moved aside and a fresh store started."""


class StoreError(RuntimeError):
    """The store cannot be used, or could not save: one line says why and what was kept."""


class _Unusable(Exception):
    """Internal: the database is corrupt or foreign."""


#: SQLite result codes (``exc.sqlite_errorcode & 0xFF``) by what they mean for the store.
_CORRUPT_CODES = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB: move the file aside
_READ_ONLY_CODES = frozenset({3, 8, 14})  # SQLITE_PERM, SQLITE_READONLY, SQLITE_CANTOPEN
#: SQLITE_FULL, SQLITE_IOERR: on a full disk a fresh store cannot be made and even a reader
#: cannot create the WAL index (-shm) beside a closed store, so it opens read-only
_FULL_CODES = frozenset({10, 13})
_BUSY_CODES = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED: wait, never move
#: What a SQLite result code means, in the words of an error message.
_SQLITE_CAUSES = {
    3: "permission denied",
    5: "the store is locked by another program",
    6: "the store is locked by another program",
    8: "the store is read-only",
    10: "a disk I/O error",
    11: "the file is damaged",
    13: "the disk is full",
    14: "the file cannot be opened",
    26: "the file is not a database",
    4874: "the disk is full (no room for the store's -shm file)",  # SQLITE_IOERR_SHMSIZE
}
#: What a PostgreSQL SQLSTATE class (or code) means, in the words of an error message.
_SERVER_CAUSES = {
    "08": "the database server cannot be reached",
    "53": "the database server is out of space or memory",
    "57": "the database server shut down or cancelled the request",
    "25006": "the database is read-only",
    "28": "the database refused the credentials",
    "3D": "the database does not exist",
    "42501": "the database user lacks the permission",
}


def _code(exc: BaseException, extended: bool = False) -> int:
    """The primary (or extended) SQLite result code of an error (-1 when unknown)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return -1
    return code if extended else code & 0xFF


def _driver_error(exc: BaseException) -> BaseException:
    """The driver's exception inside SQLAlchemy's wrapper."""
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def resolve(target: str | Path | None) -> str | Path:
    """A database server URL (``str``) or a SQLite file (``Path``).

    Args:
        target: A file path, a ``sqlite:///FILE`` or ``postgresql://...`` URL, or ``None``:
            ``$KERAS_CNN_DATABASE_URL`` / ``secrets.toml`` (see :mod:`quiz.settings`), else the
            local file :func:`quiz.store.default_path`.

    Raises:
        ValueError: For a URL of another database.
    """
    if target is None:
        from quiz import settings

        target = settings.database_url()
        if target is None:
            from quiz.store import default_path

            return default_path()
    if isinstance(target, Path) or "://" not in str(target):
        return Path(target).expanduser()
    try:
        url = make_url(str(target))
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}. Received: {_hide(str(target))}") from exc
    if url.drivername in ("sqlite", "sqlite+pysqlite"):
        if not url.database or url.database == ":memory:":
            raise ValueError(f"a sqlite URL needs a file: sqlite:///FILE. Received: {target}")
        return Path(url.database).expanduser()
    if url.drivername not in SERVER_SCHEMES:
        raise ValueError(
            f"the progress store runs on SQLite or PostgreSQL: URLs start with "
            f"{', '.join(s + '://' for s in ('sqlite', *SERVER_SCHEMES))}. "
            f"Received: {url.drivername}://..."
        )
    return url.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _hide(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("://", 1)[0] + "://..."


class _SQLiteFile:
    """SQLite: PRAGMAs for the version and the checks, the file moved aside when corrupt."""

    name = "sqlite"
    insert = staticmethod(sqlite_dialect.insert)

    @staticmethod
    def prepare(conn: Connection, timeout: float) -> None:
        """Switch to WAL before the open transaction (another process creating the file may
        hold the lock for a moment)."""
        raw = conn.connection.driver_connection
        deadline = time.monotonic() + timeout
        while True:
            try:
                mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
                if mode.lower() != "wal":
                    raw.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if _code(exc) not in _BUSY_CODES or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    @staticmethod
    def lock(conn: Connection) -> None:
        """Nothing: ``BEGIN IMMEDIATE`` already holds the write lock."""

    @staticmethod
    def inspect(conn: Connection) -> tuple[int, int, set[str]]:
        check = conn.exec_driver_sql("PRAGMA quick_check").fetchone()
        if not check or check[0] != "ok":
            raise _Unusable(f"integrity check failed: {check[0] if check else 'no result'}")
        app_id = conn.exec_driver_sql("PRAGMA application_id").scalar()
        version = conn.exec_driver_sql("PRAGMA user_version").scalar()
        tables = set(
            conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars()
        )
        return int(app_id), int(version), tables

    @staticmethod
    def probe_write(conn: Connection) -> None:
        """A write, rolled back, that fails on a read-only file as a migration would."""
        conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @staticmethod
    def mark(conn: Connection, version: int) -> None:
        conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.exec_driver_sql(f"PRAGMA user_version = {version}")

    @staticmethod
    def version(conn: Connection) -> int:
        return int(conn.exec_driver_sql("PRAGMA user_version").scalar())

    @staticmethod
    def cause(exc: BaseException, path: Path | None = None) -> str:
        """An error in words; a full disk named as such (SQLite reports a full tmpfs as an
        I/O error, so the free space decides)."""
        if path is not None and _code(exc) in _FULL_CODES:
            with contextlib.suppress(OSError):
                if shutil.disk_usage(path.parent).free < 64 * 1024:
                    return f"the disk holding {path.parent} is full; free some space and try again"
        found = _SQLITE_CAUSES.get(_code(exc, extended=True))
        return found or _SQLITE_CAUSES.get(_code(exc), "a database error")


class _Server:
    """PostgreSQL: a marker table for the version, an advisory lock for creation."""

    name = "postgresql"
    insert = staticmethod(pg_dialect.insert)

    @staticmethod
    def prepare(conn: Connection, timeout: float) -> None:
        """Nothing before the transaction."""

    @staticmethod
    def lock(conn: Connection) -> None:
        """Serialise creators and migrators (replicas starting together) until commit."""
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": APPLICATION_ID})

    @staticmethod
    def inspect(conn: Connection) -> tuple[int, int, set[str]]:
        tables = set(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            ).scalars()
        )
        if MARKER_TABLE not in tables:
            return 0, 0, tables
        row = conn.execute(text(f"SELECT application_id, version FROM {MARKER_TABLE}")).first()
        return (int(row[0]), int(row[1]), tables - {MARKER_TABLE}) if row else (0, 0, tables)

    @staticmethod
    def probe_write(conn: Connection) -> None:
        """Nothing: a read-only server is told by ``transaction_read_only``."""

    @staticmethod
    def mark(conn: Connection, version: int) -> None:
        conn.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} "
                "(application_id BIGINT NOT NULL, version INTEGER NOT NULL)"
            )
        )
        conn.execute(text(f"DELETE FROM {MARKER_TABLE}"))
        conn.execute(
            text(f"INSERT INTO {MARKER_TABLE} VALUES (:app, :version)"),
            {"app": APPLICATION_ID, "version": version},
        )

    @staticmethod
    def version(conn: Connection) -> int:
        return int(conn.execute(text(f"SELECT version FROM {MARKER_TABLE}")).scalar() or 0)

    @staticmethod
    def cause(exc: BaseException, path: Path | None = None) -> str:
        state = getattr(exc, "sqlstate", None) or ""
        if not state:  # psycopg raises a bare OperationalError when it cannot connect
            return _SERVER_CAUSES["08"]
        return _SERVER_CAUSES.get(state, _SERVER_CAUSES.get(state[:2], "a database error"))


_engines: dict[tuple[str, int], Engine] = {}
_current: set[tuple[str, int]] = set()  # server databases this process found current
_engines_lock = threading.Lock()


def _server_engine(url: str, timeout: float) -> Engine:
    """One pooled engine per server URL and process (a forked child makes its own)."""
    key = (url, os.getpid())
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=5,
                max_overflow=20,
                pool_timeout=timeout,
                connect_args={"connect_timeout": max(1, min(int(timeout), 10))},
            )
            _engines[key] = engine
        return engine


def _connect_file(target: str, uri: bool, timeout: float) -> sqlite3.Connection:
    """A connection to a file (or a ``file:`` URI, read-only) outside any transaction."""
    conn = sqlite3.connect(
        target, uri=uri, timeout=timeout, isolation_level=None, check_same_thread=False
    )
    if uri:
        return conn
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
    except BaseException:
        conn.close()
        raise
    return conn


def _file_engine(target: str, uri: bool, timeout: float) -> Engine:
    """One engine per file (or URI) and process, so that SQLAlchemy compiles each statement
    once (its cache is the engine's); no pool: every operation opens and closes its own
    connection, so a file can be moved aside and no lock outlives a call."""
    key = (f"{target}|{uri}|{timeout}", os.getpid())
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _sqlite_engine(lambda: _connect_file(target, uri, timeout))
        return engine


def _sqlite_engine(connect: Callable[[], sqlite3.Connection], pool: type = NullPool) -> Engine:
    engine = create_engine("sqlite://", creator=connect, poolclass=pool)

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:  # the driver's own BEGIN is off (isolation_level=None)
        immediate = conn.get_execution_options().get("write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """A progress database, opened (created, migrated, checked) and ready for transactions.

    Args:
        target: See :func:`resolve`.
        timeout: Seconds a writer waits for another's lock (SQLite) or for a connection.

    Raises:
        StoreError: If it cannot be opened (locked, a newer schema, another application's
            database, a server that cannot be reached).
    """

    def __init__(self, target: str | Path | None = None, timeout: float = 30.0) -> None:
        resolved = resolve(target)
        self.timeout = timeout
        self.read_only_reason: str | None = None
        self.path: Path | None = resolved if isinstance(resolved, Path) else None
        self.location = str(resolved) if self.path is not None else _hide(str(resolved))
        self.backend: type[_SQLiteFile] | type[_Server]
        if self.path is None:
            self.backend = _Server
            self._url = str(resolved)
            self.engine = _server_engine(self._url, timeout)
            self._open_server()
        else:
            self.backend = _SQLiteFile
            self.engine = _file_engine(str(self.path), False, timeout)
            self._open_file()

    @property
    def read_only(self) -> bool:
        """Whether progress can only be read."""
        return self.read_only_reason is not None

    def insert(self, table: Any) -> Any:
        """An ``INSERT`` for this database (with ``on_conflict_do_nothing`` / ``_update``)."""
        return self.backend.insert(table)

    # -- transactions ---------------------------------------------------------------------------

    def error(self, exc: BaseException, doing: str) -> StoreError:
        """The one-line :class:`StoreError` for a driver error while ``doing`` something."""
        orig = _driver_error(exc)
        return StoreError(
            f"progress store {self.location} could not {doing}: "
            f"{self.backend.cause(orig, self.path)} "
            f"({_one_line(orig)})"
        )

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection in a read transaction (rolled back at the end).

        Raises:
            StoreError: For any database error.
        """
        try:
            with self._reading() as conn:
                yield conn
        except DBAPIError as exc:
            raise self.error(exc, "be read") from exc

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            conn = self.engine.connect()  # the PRAGMAs open the WAL index: see below
        except DBAPIError as exc:
            # A closed WAL store on a full disk: no reader can create its -shm file, but with
            # an empty (or no) -wal file beside it the database file holds every committed row.
            if self.path is None or _code(_driver_error(exc)) not in _FULL_CODES:
                raise
            with contextlib.suppress(FileNotFoundError):
                if self.path.with_name(self.path.name + "-wal").stat().st_size:
                    raise

            immutable = self.path.resolve().as_uri() + "?mode=ro&immutable=1"
            conn = _file_engine(immutable, True, self.timeout).connect()
        with conn, conn.begin():
            yield conn

    @contextlib.contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection in a write transaction, committed when the block ends without error.

        Raises:
            StoreError: If the store is read-only, or for any database error; then nothing
                of the block was saved.
        """
        if self.read_only_reason is not None:
            hint = (
                f"Make it writable, or set {HOME_ENV} to a writable folder."
                if self.path is not None
                else "Point the course at a writable database."
            )
            raise StoreError(
                f"progress store {self.location} is read-only ({self.read_only_reason}): "
                f"progress can be read but nothing new is saved. {hint}"
            )
        try:
            with self.engine.connect() as conn:
                conn.execution_options(write=True)
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            raise StoreError(
                f"{self.error(exc, 'save')}; nothing was saved and the progress saved before "
                "is intact"
            ) from exc

    def schema_version(self) -> int:
        """The schema version of the database (:data:`quiz.schema.SCHEMA_VERSION` once open)."""
        with self.read() as conn:
            return self.backend.version(conn)

    # -- opening --------------------------------------------------------------------------------

    def _migrate(self) -> None:
        """Check, create or migrate in one write transaction; commit nothing when current
        (every page run opens the store: no fsync, the lock held only for the checks)."""
        with self.engine.connect() as conn:
            self.backend.prepare(conn, self.timeout)
            conn.execution_options(write=True)
            with conn.begin() as transaction:
                self.backend.lock(conn)
                version = self._check(*self.backend.inspect(conn))
                if version == SCHEMA_VERSION:
                    self.backend.probe_write(conn)
                    transaction.rollback()
                    return
                migrate(conn, version)
                self.backend.mark(conn, SCHEMA_VERSION)

    def _check(self, app_id: int, version: int, tables: set[str]) -> int:
        """The version of a store this program can use (0: empty), else raise :class:`_Unusable`
        or :class:`StoreError`."""
        if app_id != APPLICATION_ID and (app_id != 0 or tables):
            raise _Unusable(
                f"not a keras-cnn progress store (application_id={app_id}; tables: "
                f"{', '.join(sorted(tables)) or 'none'})"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.location} has schema version {version}, newer than this program's "
                f"{SCHEMA_VERSION}; upgrade keras-cnn"
            )
        if version and not EXPECTED_TABLES[version] <= tables:
            missing = ", ".join(sorted(EXPECTED_TABLES[version] - tables))
            raise _Unusable(f"schema version {version} but tables missing: {missing}")
        return version

    def _open_server(self) -> None:
        key = (self._url, os.getpid())
        try:
            if key not in _current:
                self._migrate()
                _current.add(key)
            with self.read() as conn:
                if conn.execute(text("SHOW transaction_read_only")).scalar() == "on":
                    self.read_only_reason = "the database server is read-only (a standby?)"
        except _Unusable as exc:
            raise StoreError(
                f"progress store {self.location} cannot be used: {exc}. Point "
                "KERAS_CNN_DATABASE_URL at an empty database or one the course made; "
                "nothing in this one was changed"
            ) from exc
        except DBAPIError as exc:
            raise self.error(exc, "be opened") from exc

    def _open_file(self) -> None:
        """Open (creating or migrating) the file; fall back to read-only where it must.

        Only a file that is really unusable -- not a database, a failed ``quick_check``, a
        foreign ``application_id`` or missing tables -- is moved aside. A locked, read-only or
        unopenable file never is.
        """
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return self._open_read_only(f"cannot create {self.path.parent}: {exc.strerror}")
        try:
            self._migrate()
        except (_Unusable, sqlite3.Error, DBAPIError) as exc:
            orig = _driver_error(exc)
            code = _code(orig)
            if isinstance(orig, sqlite3.OperationalError) or code in _BUSY_CODES:
                if code in _READ_ONLY_CODES | _FULL_CODES:
                    if code in _FULL_CODES:
                        return self._open_read_only(_SQLiteFile.cause(orig, self.path))
                    return self._open_read_only(_one_line(orig))
                raise StoreError(f"progress store {self.path} cannot be opened: {orig}") from exc
            if isinstance(orig, sqlite3.Error) and code not in _CORRUPT_CODES:
                raise StoreError(f"progress store {self.path} cannot be opened: {orig}") from exc
            kept = self._move_aside()
            warnings.warn(
                f"progress store {self.path} is unusable ({orig}); the old file was kept as "
                f"{kept} and a fresh store was started",
                StoreWarning,
                stacklevel=4,
            )
            try:
                self._migrate()
            except DBAPIError as again:
                raise self.error(again, "start a fresh store") from again

    def _open_read_only(self, reason: str) -> None:
        """Open the file for reading only (an absent file reads as an empty store)."""
        assert self.path is not None
        self.read_only_reason = reason
        if not self.path.exists():
            return self._open_empty()
        base = self.path.resolve().as_uri()
        # mode=ro needs the -shm file of a WAL database; in a read-only folder that cannot be
        # created, immutable=1 reads the file as it is.
        for uri in (base + "?mode=ro", base + "?mode=ro&immutable=1"):
            self.engine = _file_engine(uri, True, self.timeout)
            try:
                with self.engine.connect() as conn, conn.begin():
                    version = self._check(*_SQLiteFile.inspect(conn))
                break
            except _Unusable as exc:
                raise StoreError(
                    f"progress store {self.path} is unusable ({exc}) and read-only ({reason}), "
                    "so it cannot be replaced"
                ) from exc
            except DBAPIError as exc:
                orig = _driver_error(exc)
                if isinstance(orig, sqlite3.OperationalError) and (
                    _code(orig) in _READ_ONLY_CODES | _FULL_CODES and "immutable" not in uri
                ):
                    continue
                raise StoreError(
                    f"progress store {self.path} cannot be read ({orig}; {reason})"
                ) from exc
        if version == 0:  # an empty file (a store the full disk let no one create)
            return self._open_empty()
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"progress store {self.path} has schema version {version} and needs an upgrade "
                f"to {SCHEMA_VERSION}, which cannot be written: it is read-only ({reason})"
            )

    def _open_empty(self) -> None:
        """Read an empty store (in memory): no file there yet, and none can be made."""
        self.engine = _sqlite_engine(
            lambda: sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False),
            pool=StaticPool,
        )
        with self.engine.connect() as conn, conn.begin():
            migrate(conn, 0)
            _SQLiteFile.mark(conn, SCHEMA_VERSION)

    def _move_aside(self) -> Path:
        assert self.path is not None
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
