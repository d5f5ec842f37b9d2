"""The progress store: history, passes, learners, export/import, concurrency, crashes, corruption.

Every test of what the store does runs on both databases (the ``target`` fixture: a SQLite file,
and a fresh schema on the session's own PostgreSQL server, see ``postgres_server`` in
conftest.py); what only a file has (WAL, a damaged file, file permissions) runs on SQLite.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import pytest
from postgres import free_port
from sqlalchemy import create_engine, text

from quiz import database, schema
from quiz.data import Result
from quiz.exercise_progress import ExerciseProgress
from quiz.store import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    ProgressStore,
    StoreError,
    StoreWarning,
    default_path,
)

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ["sqlite", "postgresql"]


def result(qid: str, score: float, response=0) -> Result:
    return Result(qid, score == 1.0, score, "x", "why", response)


@pytest.fixture(params=BACKENDS)
def new_target(request, tmp_path):
    """Makes a new empty database of the test's kind: a file path, or a PostgreSQL URL."""
    count = iter(range(1000))
    if request.param == "sqlite":
        return lambda: tmp_path / f"db{next(count)}" / "progress.sqlite3"
    server = request.getfixturevalue("postgres_server")
    return server.schema


@pytest.fixture
def target(new_target):
    return new_target()


@pytest.fixture
def store(target) -> ProgressStore:
    return ProgressStore(target)


def raw_execute(target, *statements: str, params: dict | None = None) -> list:
    """Run SQL on the store's database behind its back (the last statement's rows)."""
    url = f"sqlite:///{target}" if isinstance(target, Path) else database.resolve(target)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            rows: list = []
            for statement in statements:
                got = conn.execute(text(statement), params or {})
                rows = list(got) if got.returns_rows else []
            return rows
    finally:
        engine.dispose()


def build_version(target, version: int) -> None:
    """A store of an older schema version, as that version of the program made it."""
    url = f"sqlite:///{target}" if isinstance(target, Path) else database.resolve(target)
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    backend = database._SQLiteFile if isinstance(target, Path) else database._Server
    try:
        with engine.begin() as conn:
            schema.migrate(conn, 0, version)
            backend.mark(conn, version)
    finally:
        engine.dispose()


def integrity_ok(target) -> bool:
    if not isinstance(target, Path):
        return True  # the server keeps its own integrity
    conn = sqlite3.connect(target)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


def test_default_path_follows_keras_cnn_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / "progress.sqlite3"
    s = ProgressStore()
    assert s.path == tmp_path / "home" / "progress.sqlite3" and s.path.exists()


def test_default_path_without_env_is_user_data_dir(monkeypatch):
    monkeypatch.delenv("KERAS_CNN_HOME", raising=False)
    path = default_path()
    assert path.name == "progress.sqlite3" and "keras-cnn" in str(path)


def test_fresh_store_has_schema_version(store):
    assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)


def test_fresh_store_has_schema_wal_and_app_id(tmp_path):
    store = ProgressStore(tmp_path / "progress.sqlite3")
    assert store.schema_version() == SCHEMA_VERSION and store.backend == "sqlite"
    conn = sqlite3.connect(store.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    finally:
        conn.close()


def test_attempt_history_is_kept(store):
    store.record_attempt("ada", "vgg", "vgg-two-3x3-rf", 0, result("vgg-two-3x3-rf", 0.0, 0))
    store.record_attempt("ada", "vgg", "vgg-two-3x3-rf", 1, result("vgg-two-3x3-rf", 1.0, 1))
    store.record_attempt("bob", "alexnet", "alexnet-depth", 8, result("alexnet-depth", 1.0, 8))
    history = store.attempts("ada")
    assert [(a.question_id, a.response, a.correct) for a in history] == [
        ("vgg-two-3x3-rf", 0, False),
        ("vgg-two-3x3-rf", 1, True),
    ]
    assert all(a.created and a.check_id is None for a in history)
    assert store.attempts("ada", "alexnet") == []
    assert store.learners() == ["ada", "bob"]
    with pytest.raises(ValueError):
        store.record_attempt("ada", "vgg", "other-id", 1, result("vgg-two-3x3-rf", 1.0))


def test_record_check_scores_and_passes_per_submission(store):
    failing = [result(f"q{i}", 1.0 if i < 7 else 0.0) for i in range(10)]  # 70%
    rec = store.record_check("ada", "vgg", failing)
    assert rec.score == pytest.approx(0.7) and not rec.passed and rec.n_questions == 10
    assert store.passed_lessons("ada") == set()
    passing = [result(f"q{i}", 1.0 if i < 8 else 0.0) for i in range(10)]  # exactly 80%
    rec2 = store.record_check("ada", "vgg", passing)
    assert rec2.passed and rec2.score == pytest.approx(0.8)
    store.record_check("ada", "vgg", failing)  # a later failure does not un-pass
    assert store.passed_lessons("ada") == {"vgg"}
    assert store.lesson_scores("ada") == {"vgg": pytest.approx(0.8)}
    assert [c.passed for c in store.checks("ada", "vgg")] == [False, True, False]
    attempts = store.attempts("ada", "vgg")
    assert len(attempts) == 30
    assert {a.check_id for a in attempts} == {c.id for c in store.checks("ada")}
    partial = [result("m", 0.5), result("n", 1.0)]
    assert store.record_check("ada", "alexnet", partial).score == pytest.approx(0.75)


def test_record_check_rejects_empty_and_bad_names(store):
    with pytest.raises(ValueError):
        store.record_check("ada", "vgg", [])
    for bad in ("", "   ", "a\nb", "x" * 65, None):
        with pytest.raises(ValueError):
            store.record_check(bad, "vgg", [result("q", 1.0)])


def test_generated_params_are_stored(store):
    r = Result("gen", True, 1.0, "5", "why", 5, params=(("k", 3), ("n", 2)))
    store.record_check("ada", "vgg", [r])
    assert store.attempts("ada")[0].params == (("k", 3), ("n", 2))


def test_last_visited(store):
    assert store.last_visited("ada") is None
    store.set_last_visited("ada", "vgg", "small-filters")
    store.set_last_visited("ada", "residual")
    assert store.last_visited("ada") == ("residual", "")


def test_progress_survives_reopening(target):
    ProgressStore(target).record_check("ada", "vgg", [result("q", 1.0)])
    again = ProgressStore(target)
    assert again.passed_lessons("ada") == {"vgg"}
    assert len(again.attempts("ada")) == 1


def test_export_import_roundtrip_is_idempotent(new_target, store):
    store.record_check("ada", "vgg", [result("a", 1.0, [0, 2]), result("b", 1.0, 3.5)])
    store.record_attempt("ada", "alexnet", "c", 1, result("c", 1.0, 1))
    store.set_last_visited("ada", "alexnet", "relu")
    store.record_check("bob", "vgg", [result("a", 1.0)])
    text = store.export_json("ada")
    doc = json.loads(text)
    assert doc["learner"] == "ada" and len(doc["attempts"]) == 3 and len(doc["checks"]) == 1

    other = ProgressStore(new_target())
    report = other.import_json(text)
    assert (report.learner, report.checks, report.attempts) == ("ada", 1, 3)
    assert other.passed_lessons("ada") == {"vgg"}
    assert [a.response for a in other.attempts("ada")] == [[0, 2], 3.5, 1]
    assert other.last_visited("ada") == ("alexnet", "relu")
    again = other.import_json(text)
    assert (again.checks, again.attempts) == (0, 0)
    assert len(other.attempts("ada")) == 3
    renamed = other.import_json(text, learner="ada-laptop")
    assert renamed.attempts == 3 and "ada-laptop" in other.learners()
    assert other.learners() == ["ada", "ada-laptop"]
    assert "bob" not in other.learners()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": "other"}',
        '{"format": "keras-cnn-quiz-progress", "version": 9}',
    ],
)
def test_import_rejects_foreign_documents(store, text):
    with pytest.raises(ValueError):
        store.import_json(text)


def test_import_rejects_malformed_rows(store):
    doc = {
        "format": "keras-cnn-quiz-progress",
        "version": 1,
        "learner": "x",
        "attempts": [{"uid": 1}],
    }
    with pytest.raises(ValueError, match="malformed"):
        store.import_json(json.dumps(doc))
    assert store.learners() == []


def test_export_unknown_learner(store):
    with pytest.raises(KeyError):
        store.export_json("nobody")


# ------------------------------------------------------------------------------------------------
# Corruption, foreign files, migrations
# ------------------------------------------------------------------------------------------------


def test_garbage_file_is_moved_aside_with_a_warning(tmp_path):
    path = tmp_path / "progress.sqlite3"
    garbage = os.urandom(4096)
    path.write_bytes(garbage)
    with pytest.warns(StoreWarning) as record:
        store = ProgressStore(path)
    kept = list(tmp_path.glob("progress.sqlite3.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == garbage
    assert str(kept[0]) in str(record[0].message)
    store.record_check("ada", "vgg", [result("q", 1.0)])
    assert ProgressStore(path).passed_lessons("ada") == {"vgg"}


def test_truncated_database_is_moved_aside(tmp_path):
    path = tmp_path / "progress.sqlite3"
    store = ProgressStore(path)
    for i in range(200):
        store.record_attempt("ada", "vgg", f"q{i}", i, result(f"q{i}", 1.0, i))
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\xff" * 4000 + data[4100:])  # smash the schema page
    with pytest.warns(StoreWarning):
        fresh = ProgressStore(path)
    assert fresh.attempts("ada") == []
    assert len(list(tmp_path.glob("progress.sqlite3.corrupt-*"))) == 1


def test_foreign_sqlite_file_is_moved_aside(tmp_path):
    path = tmp_path / "progress.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()
    with pytest.warns(StoreWarning, match="not a keras-cnn progress store"):
        ProgressStore(path)
    kept = next(tmp_path.glob("progress.sqlite3.corrupt-*"))
    conn = sqlite3.connect(kept)
    assert conn.execute("SELECT name FROM recipes").fetchall() == [("soup",)]
    conn.close()


def test_missing_tables_are_detected(tmp_path):
    path = tmp_path / "progress.sqlite3"
    ProgressStore(path)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE attempts")
    conn.commit()
    conn.close()
    with pytest.warns(StoreWarning, match="missing"):
        ProgressStore(path)


def test_version_1_store_migrates_forward_keeping_data(tmp_path):
    path = tmp_path / "progress.sqlite3"
    build_version(path, 1)
    raw_execute(
        path,
        "INSERT INTO learners VALUES ('ada', '2024-01-01')",
        "INSERT INTO checks VALUES (1, 'u1', 'ada', 'vgg', 0.9, 1, 10, '2024-01-01')",
        "INSERT INTO attempts VALUES (1, 'a1', 'ada', 'vgg', 'q', '1', 1, 1.0, 1, '2024-01-01')",
    )
    store = ProgressStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.passed_lessons("ada") == {"vgg"}
    assert store.attempts("ada")[0].params == ()
    store.set_last_visited("ada", "vgg")  # table added by migration 2
    assert store.last_visited("ada") == ("vgg", "")


def test_previous_version_migrates_forward_keeping_data(target):
    """The store of the previous release (version 2) on either database reaches the current
    schema with its rows, and what the new version added works."""
    build_version(target, SCHEMA_VERSION - 1)
    raw_execute(
        target,
        "INSERT INTO learners VALUES ('ada', '2026-01-01')",
        "INSERT INTO checks(uid, learner, lesson_id, score, passed, n_questions, created) "
        "VALUES ('u1', 'ada', 'vgg', 0.9, 1, 10, '2026-01-01')",
        "INSERT INTO attempts(uid, learner, lesson_id, question_id, response, correct, score, "
        "check_id, created, params) VALUES ('a1', 'ada', 'vgg', 'q', '[1, 2]', 1, 1.0, "
        "(SELECT id FROM checks WHERE uid = 'u1'), '2026-01-01', '[[\"k\", 3]]')",
        "INSERT INTO last_visited VALUES ('ada', 'vgg', 'intro', '2026-01-01')",
    )
    store = ProgressStore(target)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.passed_lessons("ada") == {"vgg"}
    assert store.lesson_scores("ada") == {"vgg": 0.9}
    (old,) = store.attempts("ada")
    assert (old.response, old.params, old.kind) == ([1, 2], (("k", 3),), "question")
    assert old.check_id == store.checks("ada")[0].id
    assert store.last_visited("ada") == ("vgg", "intro")
    store.record_attempt("ada", "vgg", "ex1", "code", result("ex1", 1.0), kind="exercise")
    assert [a.kind for a in store.attempts("ada")] == ["question", "exercise"]
    work = ExerciseProgress(store)  # version 4: code exercises in the same database
    work.record_run("Ada", "vgg_block", "def f(): ...", True, "ok")
    assert work.built("ada") == {"vgg_block"} and work.work("ADA", "vgg_block").attempts == 1
    assert ProgressStore(target).schema_version() == SCHEMA_VERSION  # opened again: unchanged


def test_newer_schema_is_refused_not_moved(target):
    ProgressStore(target).add_learner("ada")
    if isinstance(target, Path):
        raw_execute(target, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    else:
        raw_execute(target, f"UPDATE keras_cnn_schema SET version = {SCHEMA_VERSION + 1}")
        database._current.clear()  # this process had found it current
    with pytest.raises(StoreError, match="newer"):
        ProgressStore(target)
    if isinstance(target, Path):
        assert target.exists() and not list(target.parent.glob("*.corrupt-*"))
    else:
        assert raw_execute(target, "SELECT name FROM learners") == [("ada",)]


def test_another_applications_database_is_refused_unchanged(postgres_server):
    """A server database is never moved aside or dropped: one holding other tables is refused
    with a message naming them, and stays as it was."""
    url = postgres_server.schema()
    raw_execute(url, "CREATE TABLE recipes (name TEXT)", "INSERT INTO recipes VALUES ('soup')")
    with pytest.raises(StoreError, match=r"not a keras-cnn progress store .*tables: recipes"):
        ProgressStore(url)
    assert raw_execute(url, "SELECT * FROM recipes") == [("soup",)]
    assert raw_execute(url, "SELECT tablename FROM pg_tables WHERE schemaname = "
                       "current_schema()") == [("recipes",)]  # fmt: skip


def test_missing_tables_on_a_server_are_an_error(postgres_server):
    url = postgres_server.schema()
    ProgressStore(url).add_learner("ada")
    raw_execute(url, "DROP TABLE last_visited")
    database._current.clear()
    with pytest.raises(StoreError, match="tables missing: last_visited"):
        ProgressStore(url)
    assert raw_execute(url, "SELECT name FROM learners") == [("ada",)]


def test_a_read_only_server_reads_and_refuses_writes(postgres_server):
    url = postgres_server.database()
    ProgressStore(url).record_check("ada", "vgg", [result("q", 1.0)])
    database._engines.clear()  # new connections, which the setting below applies to
    database._current.clear()
    name = url.rsplit("/", 1)[1]
    raw_execute(
        postgres_server.url(), f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'
    )
    store = ProgressStore(url)
    assert store.read_only and "read-only" in store.read_only_reason
    assert store.passed_lessons("ada") == {"vgg"}
    with pytest.raises(StoreError, match="read-only"):
        store.add_learner("bob")


# ------------------------------------------------------------------------------------------------
# Several processes
# ------------------------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from quiz.data import Result
    from quiz.store import ProgressStore

    path, learner, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = ProgressStore(path)
    print("ready", flush=True)
    for i in range(count):
        if i % 5 == 0:
            results = [Result(f"q{j}", True, 1.0, "", "", j) for j in range(3)]
            store.record_check(learner, "vgg", results)
        else:
            store.record_attempt(learner, "vgg", f"q{i}", i, Result(f"q{i}", True, 1.0, "", "", i))
        print(i, flush=True)
    """
)


def spawn_writer(path: Path, learner: str, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), learner, str(count)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def expected_rows(count: int) -> int:
    checks = len(range(0, count, 5))
    return checks * 3 + (count - checks)


@pytest.mark.slow
def test_two_processes_writing_at_once_both_succeed(target):
    path = target
    count = 300
    procs = [spawn_writer(path, name, count) for name in ("ada", "bob")]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.split()[-1] == str(count - 1)
    store = ProgressStore(path)
    for name in ("ada", "bob"):
        assert len(store.attempts(name)) == expected_rows(count)
        assert len(store.checks(name)) == len(range(0, count, 5))
    assert integrity_ok(path)


@pytest.mark.slow
def test_killed_writer_loses_nothing_committed(target):
    path = target
    proc = spawn_writer(path, "ada", 100_000)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    last = -1
    deadline = time.monotonic() + 60
    while last < 60 and time.monotonic() < deadline:
        last = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    store = ProgressStore(path)  # no corruption warning expected
    committed = expected_rows(last + 1)
    rows = len(store.attempts("ada"))
    # every reported commit survived; at most the one transaction in flight may also be there
    assert committed <= rows <= committed + 3
    assert all(c.n_questions == 3 for c in store.checks("ada"))
    per_check: dict[int, int] = {}
    for a in store.attempts("ada"):
        if a.check_id is not None:
            per_check[a.check_id] = per_check.get(a.check_id, 0) + 1
    assert set(per_check.values()) == {3}  # no half-written system check
    assert integrity_ok(path)


# ------------------------------------------------------------------------------------------------
# Concurrent creation (issue 11, item 8)
# ------------------------------------------------------------------------------------------------

CREATOR = textwrap.dedent(
    """
    import sys, time, warnings
    from quiz.data import Result
    from quiz.store import ProgressStore

    warnings.simplefilter("error")  # a StoreWarning (file moved aside) fails the worker
    name = sys.argv[1]
    print("ready", flush=True)
    for line in sys.stdin:
        path, start = line.rsplit(" ", 1)
        while time.time() < float(start):
            pass
        try:
            store = ProgressStore(path)
            for i in range(3):
                store.record_attempt(name, "vgg", f"q{i}", i, Result(f"q{i}", True, 1.0, "", "", i))
            print("ok", len(store.attempts(name)), flush=True)
        except Exception as exc:
            print("error", type(exc).__name__, str(exc).replace(chr(10), " "), flush=True)
    """
)


@pytest.mark.slow
def test_concurrent_creation_never_moves_a_live_store_aside(new_target):
    """Six processes open a store that does not exist yet, at the same instant, round after
    round: none may call the store being created foreign or move it aside, and every write of
    every process must be readable afterwards (on a server: one creates it, under the lock)."""
    names = [f"p{i}" for i in range(6)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", CREATOR, name],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    try:
        for w in workers:
            assert w.stdout.readline().strip() == "ready"
        rounds, deadline = 0, time.monotonic() + 8
        while rounds < 40 and (time.monotonic() < deadline or rounds < 3):
            path = new_target()
            start = time.time() + 0.05
            for w in workers:
                w.stdin.write(f"{path} {start}\n")
                w.stdin.flush()
            replies = [w.stdout.readline().strip() for w in workers]
            assert replies == ["ok 3"] * len(workers), (rounds, replies)
            if isinstance(path, Path):
                assert [p.name for p in path.parent.iterdir() if ".corrupt-" in p.name] == []
            store = ProgressStore(path)
            assert store.learners() == names
            assert all(len(store.attempts(n)) == 3 for n in names)
            rounds += 1
    finally:
        for w in workers:
            w.stdin.close()
            w.wait(timeout=30)


def test_a_locked_store_is_an_error_never_moved_aside(tmp_path):
    path = tmp_path / "progress.sqlite3"
    ProgressStore(path).record_check("ada", "vgg", [result("q", 1.0)])
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreError, match="locked"):
            ProgressStore(path, timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert not list(tmp_path.glob("*.corrupt-*"))
    assert ProgressStore(path).passed_lessons("ada") == {"vgg"}


# ------------------------------------------------------------------------------------------------
# Read-only stores (issue 11, item 9)
# ------------------------------------------------------------------------------------------------

NOBODY = 65534


@contextlib.contextmanager
def unprivileged():
    """Run the block as a user that file permissions apply to (root ignores them)."""
    if os.geteuid() != 0:
        yield
        return
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)


@pytest.fixture
def shared_dir():
    """A folder outside pytest's root-only tmp tree, so an unprivileged user can reach it."""
    folder = Path(tempfile.mkdtemp(prefix="keras-cnn-ro-"))
    folder.chmod(0o777)
    yield folder
    folder.chmod(0o777)
    shutil.rmtree(folder)


def saved_progress(folder: Path) -> Path:
    path = folder / "progress.sqlite3"
    store = ProgressStore(path)
    store.record_check("ada", "vgg", [result("q", 1.0)])
    store.set_last_visited("ada", "vgg", "intro")
    return path


def assert_read_only_with_progress(path: Path) -> None:
    before = path.read_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no StoreWarning: nothing is moved aside
        with unprivileged():
            store = ProgressStore(path)
            assert store.read_only
            assert store.learners() == ["ada"]
            assert store.passed_lessons("ada") == {"vgg"}
            assert store.last_visited("ada") == ("vgg", "intro")
            for write in (
                lambda: store.record_check("ada", "alexnet", [result("q", 1.0)]),
                lambda: store.add_learner("bob"),
                lambda: store.set_last_visited("ada", "alexnet"),
            ):
                with pytest.raises(StoreError, match="read-only"):
                    write()
    assert path.read_bytes() == before
    assert not list(path.parent.glob("*.corrupt-*"))


def test_read_only_file_is_read_not_moved_aside(shared_dir):
    path = saved_progress(shared_dir)
    path.chmod(0o444)
    assert_read_only_with_progress(path)


def test_read_only_folder_is_read_not_a_traceback(shared_dir):
    path = saved_progress(shared_dir)
    os.chown(path, NOBODY, -1) if os.geteuid() == 0 else None
    shared_dir.chmod(0o555)
    assert_read_only_with_progress(path)


@pytest.mark.parametrize("where", ["progress.sqlite3", "missing/progress.sqlite3"])
def test_read_only_folder_without_a_store_reads_as_empty(shared_dir, where):
    shared_dir.chmod(0o555)
    with unprivileged():
        store = ProgressStore(shared_dir / where)
        assert store.read_only and store.learners() == [] and store.checks("ada") == []
        with pytest.raises(StoreError, match="read-only"):
            store.add_learner("ada")
    assert list(shared_dir.iterdir()) == []


# ------------------------------------------------------------------------------------------------
# Import does not trust its input (issue 11, item 10); learner names (item 11)
# ------------------------------------------------------------------------------------------------


def export_with(checks=(), attempts=(), last_visited=None) -> str:
    return json.dumps(
        {
            "format": "keras-cnn-quiz-progress",
            "version": 1,
            "learner": "ada",
            "checks": list(checks),
            "attempts": list(attempts),
            "last_visited": last_visited,
        }
    )


def check_row(uid: str, score, lesson: str = "vgg", passed: bool = True) -> dict:
    return {
        "uid": uid,
        "lesson_id": lesson,
        "score": score,
        "passed": passed,
        "n_questions": 10,
        "created": "2026-01-01T00:00:00+00:00",
    }


def attempt_row(uid: str, score, lesson: str = "vgg", check_uid: str | None = None) -> dict:
    return {
        "uid": uid,
        "lesson_id": lesson,
        "question_id": "q",
        "response": 1,
        "correct": score == 1.0,
        "score": score,
        "params": [],
        "check_uid": check_uid,
        "created": "2026-01-01T00:00:00+00:00",
    }


def test_import_recomputes_passed_and_skips_out_of_range_scores(store):
    text = export_with(
        checks=[
            check_row("huge", 1e308),
            check_row("negative", -5, lesson="alexnet"),
            check_row("low", 0.5, lesson="convolution", passed=True),  # passed is a lie
            check_row("good", 0.9, lesson="inception", passed=False),  # so is this
        ],
        attempts=[attempt_row("a1", 1.0, check_uid="huge"), attempt_row("a2", 1.0)],
    )
    report = store.import_json(text)
    assert (report.checks, report.attempts) == (2, 1)
    assert store.passed_lessons("ada") == {"inception"}
    assert store.lesson_scores("ada") == {"convolution": 0.5, "inception": 0.9}
    assert [a.lesson_id for a in store.attempts("ada")] == ["vgg"]
    assert len(report.skipped) == 3
    assert "checks[0]: score 1e+308 is not a number in [0, 1]" in report.skipped
    assert "checks[1]: score -5 is not a number in [0, 1]" in report.skipped
    assert "attempts[0]: its check 'huge' was skipped" in report.skipped


def test_import_skips_nan_and_unknown_lessons_and_says_so(store):
    text = export_with(
        checks=[check_row("c1", 1.0, lesson="no-such-lesson"), check_row("c2", 1.0)],
        attempts=[attempt_row("a1", 1.0, lesson="other"), attempt_row("a2", 0.0)],
        last_visited={"lesson_id": "nowhere", "section_id": "", "updated": "2026"},
    )
    text = text.replace('"score": 0.0', '"score": NaN')  # what json.dumps writes for nan
    report = store.import_json(text)
    assert (report.checks, report.attempts) == (1, 0)
    assert store.passed_lessons("ada") == {"vgg"}
    assert store.last_visited("ada") is None
    assert report.skipped[0].startswith("checks[0]: unknown lesson 'no-such-lesson'")
    assert report.skipped[1].startswith("attempts[0]: unknown lesson 'other'")
    assert report.skipped[2] == "attempts[1]: score nan is not a number in [0, 1]"
    assert report.skipped[3] == "last_visited: unknown lesson 'nowhere'"
    custom = store.import_json(text, learner="bob", lessons={"no-such-lesson", "vgg", "other"})
    assert (custom.checks, custom.attempts) == (2, 1)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("Jose\u0301", "Jos\u00e9"), ("  Zo\u00eb ", "Zo\u00eb"), ("\u0391\u0301da", "\u0386da")],
)
def test_learner_names_are_nfc_normalised(store, typed, stored):
    assert store.add_learner(typed) == stored
    store.record_check(stored, "vgg", [result("q", 1.0)])
    assert store.learners() == [stored]
    assert store.passed_lessons(typed) == {"vgg"}


@pytest.mark.parametrize(
    "name",
    [
        "ada\u202e",  # right-to-left override
        "\u2066ada\u2069",  # isolate
        "a\u200fda",  # right-to-left mark
        "a\u200bda",  # zero-width space
        "a\u200dda",  # zero-width joiner
        "ada\ufeff",  # zero-width no-break space
        "a\u2060da",  # word joiner
        "a\u2028da",  # line separator
        "a\x85da",  # next line (C1 control)
    ],
)
def test_invisible_characters_in_learner_names_are_refused(store, name):
    with pytest.raises(ValueError, match=r"learner name contains .* U\+"):
        store.add_learner(name)
    assert store.learners() == []


def test_names_stored_before_the_checks_stay_readable(target, store):
    """A store written before names were NFC-normalised and checked keeps showing them."""
    for name, lesson in (("ada\u200b", "vgg"), ("Jose\u0301", "alexnet")):
        raw_execute(
            target,
            "INSERT INTO learners VALUES (:name, '2026-01-01')",
            "INSERT INTO checks(uid, learner, lesson_id, score, passed, n_questions, created) "
            "VALUES (:lesson, :name, :lesson, 1.0, 1, 10, '2026-01-01')",
            params={"name": name, "lesson": lesson},
        )
    assert store.learners() == ["Jose\u0301", "ada\u200b"]
    assert store.passed_lessons("ada\u200b") == {"vgg"}  # as the learner picker passes it
    assert len(store.checks("ada\u200b")) == 1 and store.lesson_scores("ada\u200b") == {"vgg": 1}
    assert store.passed_lessons("Jos\u00e9") == {"alexnet"}  # typed in NFC, stored in NFD
    assert json.loads(store.export_json("Jos\u00e9"))["learner"] == "Jose\u0301"
    store.set_last_visited("ada\u200b", "vgg")  # an existing learner goes on working
    assert store.record_check("Jos\u00e9", "vgg", [result("q", 1.0)]).learner == "Jose\u0301"
    assert store.learners() == ["Jose\u0301", "ada\u200b"]
    with pytest.raises(ValueError, match="invisible"):
        store.add_learner("bob\u200b")  # but no new name like it


def test_opening_a_current_store_writes_nothing(tmp_path):
    """The app opens the store on every page run: opening a store that is already current
    commits no write (no fsync, the write lock held only for the checks), so sessions opening
    it at once do not queue behind each other's commits."""
    path = tmp_path / "progress.sqlite3"
    ProgressStore(path).add_learner("ada")
    watcher = sqlite3.connect(path, isolation_level=None)
    try:
        before = watcher.execute("PRAGMA data_version").fetchone()[0]
        assert ProgressStore(path).learners() == ["ada"]
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
        ProgressStore(path).add_learner("bob")  # a real write is seen
        assert watcher.execute("PRAGMA data_version").fetchone()[0] != before
    finally:
        watcher.close()


def test_learner_names_differing_in_case_are_one_learner(store):
    """Issue 19, item 7: "ada" beside "Ada" was a second learner; the first spelling is kept."""
    assert store.add_learner("Ada") == "Ada"
    assert store.add_learner("ada") == "Ada"
    store.record_check(" ADA ", "vgg", [result("q", 1.0)])
    assert store.learners() == ["Ada"]
    assert store.passed_lessons("aDa") == {"vgg"} and len(store.checks("ada")) == 1
    assert store.add_learner("ZOË") == "ZOË" and store.add_learner("zoe\u0308") == "ZOË"
    assert store.learners() == ["Ada", "ZOË"]


@pytest.mark.parametrize("name", ["", "   ", "\t \u3000"])
def test_an_empty_or_all_spaces_learner_name_is_refused(store, name):
    with pytest.raises(ValueError, match="learner name must not be empty"):
        store.add_learner(name)
    assert store.learners() == []


def test_opening_a_current_server_store_writes_nothing(postgres_server, monkeypatch):
    """On PostgreSQL too: opening (the version check, under the advisory lock) assigns no
    transaction id, so it wrote nothing."""
    url = postgres_server.schema()
    ProgressStore(url).add_learner("ada")
    next_xid = "SELECT pg_snapshot_xmax(pg_current_snapshot())"
    before = raw_execute(url, next_xid)
    monkeypatch.setattr(database, "_current", set())  # check again, as a new process would
    assert ProgressStore(url).learners() == ["ada"]
    assert raw_execute(url, next_xid) == before
    ProgressStore(url).add_learner("bob")
    assert raw_execute(url, next_xid) != before


def test_idempotent_submissions_store_one_record(store):
    """The same submission uid twice (a double click, a retry after a dropped connection)
    stores one check with its answers, and returns the first record."""
    results = [result("a", 1.0), result("b", 0.0)]
    first = store.record_check("ada", "vgg", results, uid="submit-1")
    again = store.record_check("ada", "vgg", results, uid="submit-1")
    assert again == first and len(store.checks("ada")) == 1 and len(store.attempts("ada")) == 2
    other = store.record_check("ada", "vgg", results, uid="submit-2")
    assert other.id != first.id and len(store.checks("ada")) == 2
    row = store.record_attempt("ada", "vgg", "ex", "x", result("ex", 1.0), uid="try-1")
    assert store.record_attempt("ada", "vgg", "ex", "x", result("ex", 1.0), uid="try-1") == row
    assert len(store.attempts("ada")) == 5
    with pytest.raises(ValueError, match=r"kind must be one of \['question', 'exercise'\]"):
        store.record_attempt("ada", "vgg", "ex", "x", result("ex", 1.0), kind="homework")


def test_exercise_attempts_are_kept_apart_and_exported(new_target, store):
    store.record_attempt(
        "ada", "vgg", "ex-conv", {"code": "x"}, result("ex-conv", 1.0), kind="exercise"
    )
    store.record_check("ada", "vgg", [result("q", 1.0)])
    assert [a.question_id for a in store.attempts("ada", kind="exercise")] == ["ex-conv"]
    assert [a.question_id for a in store.attempts("ada", kind="question")] == ["q"]
    other = ProgressStore(new_target())
    assert other.import_json(store.export_json("ada")).attempts == 2
    assert [a.kind for a in other.attempts("ada")] == ["exercise", "question"]


# ------------------------------------------------------------------------------------------------
# Which database: a file, or a class's server named in the environment or secrets.toml
# ------------------------------------------------------------------------------------------------


def test_the_class_database_comes_from_the_environment_or_secrets(
    postgres_server, monkeypatch, tmp_path
):
    url = postgres_server.schema()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert ProgressStore().backend == "sqlite"  # nothing set: the local file
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text(f'[keras_cnn]\ndatabase_url = "{url}"\n', encoding="utf-8")
    store = ProgressStore()
    assert store.backend == "postgresql" and store.path is None
    assert store.location.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    store.add_learner("ada")
    other = postgres_server.schema()
    monkeypatch.setenv("KERAS_CNN_DATABASE_URL", other)  # the environment wins
    assert ProgressStore().learners() == [] and ProgressStore(url).learners() == ["ada"]


def test_a_database_url_names_sqlite_or_postgresql(tmp_path):
    assert ProgressStore(f"sqlite:///{tmp_path}/x.sqlite3").path == tmp_path / "x.sqlite3"
    with pytest.raises(ValueError, match=r"SQLite or PostgreSQL.*Received: mysql://"):
        ProgressStore("mysql://user@host/db")


def test_a_server_that_cannot_be_reached_is_one_clear_error():
    port = free_port()
    with pytest.raises(StoreError, match="could not be opened: the database server cannot be"):
        ProgressStore(f"postgresql://nobody@127.0.0.1:{port}/course", timeout=2)
