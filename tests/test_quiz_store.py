"""The progress store: history, passes, learners, export/import, concurrency, crashes, corruption."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from quiz.data import Result
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


def result(qid: str, score: float, response=0) -> Result:
    return Result(qid, score == 1.0, score, "x", "why", response)


@pytest.fixture
def store(tmp_path: Path) -> ProgressStore:
    return ProgressStore(tmp_path / "progress.sqlite3")


def test_default_path_follows_keras_cnn_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / "progress.sqlite3"
    s = ProgressStore()
    assert s.path == tmp_path / "home" / "progress.sqlite3" and s.path.exists()


def test_default_path_without_env_is_user_data_dir(monkeypatch):
    monkeypatch.delenv("KERAS_CNN_HOME", raising=False)
    path = default_path()
    assert path.name == "progress.sqlite3" and "keras-cnn" in str(path)


def test_fresh_store_has_schema_wal_and_app_id(store):
    assert store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
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


def test_progress_survives_reopening(tmp_path):
    path = tmp_path / "p.sqlite3"
    ProgressStore(path).record_check("ada", "vgg", [result("q", 1.0)])
    again = ProgressStore(path)
    assert again.passed_lessons("ada") == {"vgg"}
    assert len(again.attempts("ada")) == 1


def test_export_import_roundtrip_is_idempotent(tmp_path, store):
    store.record_check("ada", "vgg", [result("a", 1.0, [0, 2]), result("b", 1.0, 3.5)])
    store.record_attempt("ada", "alexnet", "c", 1, result("c", 1.0, 1))
    store.set_last_visited("ada", "alexnet", "relu")
    store.record_check("bob", "vgg", [result("a", 1.0)])
    text = store.export_json("ada")
    doc = json.loads(text)
    assert doc["learner"] == "ada" and len(doc["attempts"]) == 3 and len(doc["checks"]) == 1

    other = ProgressStore(tmp_path / "other.sqlite3")
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
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO learners VALUES ('ada', '2024-01-01')")
    conn.execute("INSERT INTO checks VALUES (1, 'u1', 'ada', 'vgg', 0.9, 1, 10, '2024-01-01')")
    conn.execute(
        "INSERT INTO attempts VALUES (1, 'a1', 'ada', 'vgg', 'q', '1', 1, 1.0, 1, '2024-01-01')"
    )
    conn.close()
    store = ProgressStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.passed_lessons("ada") == {"vgg"}
    assert store.attempts("ada")[0].params == ()
    store.set_last_visited("ada", "vgg")  # table added by migration 2
    assert store.last_visited("ada") == ("vgg", "")


def test_newer_schema_is_refused_not_moved(tmp_path):
    path = tmp_path / "progress.sqlite3"
    ProgressStore(path)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        ProgressStore(path)
    assert path.exists() and not list(tmp_path.glob("*.corrupt-*"))


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
def test_two_processes_writing_at_once_both_succeed(tmp_path):
    path = tmp_path / "progress.sqlite3"
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
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@pytest.mark.slow
def test_killed_writer_loses_nothing_committed(tmp_path):
    path = tmp_path / "progress.sqlite3"
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
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
