"""A class on one PostgreSQL server: many writers killed at random keep every acknowledged
answer, and a server that goes away mid-class is one clear error with nothing lost.

(The store's whole suite runs on PostgreSQL too: tests/test_quiz_store.py.)
"""

from __future__ import annotations

import random
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from postgres import PostgresServer

from quiz import database
from quiz.data import Result
from quiz.store import ProgressStore, StoreError

REPO = Path(__file__).resolve().parents[1]

#: A learner answering: an attempt, or every 10th time a whole 3-question System Check; one
#: line "ack KIND INDEX" after each call returned (the answer is then acknowledged).
LEARNER = textwrap.dedent(
    """
    import sys
    from quiz.data import Result
    from quiz.store import ProgressStore

    url, learner, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = ProgressStore(url)
    print("ready", flush=True)
    for i in range(count):
        if i % 10 == 9:
            store.record_check(learner, "vgg", [Result(f"c{i}-{j}", True, 1.0, "", "", j)
                                                for j in range(3)])
            print("ack check", i, flush=True)
        else:
            store.record_attempt(learner, "vgg", f"q{i}", i, Result(f"q{i}", True, 1.0, "", "", i))
            print("ack attempt", i, flush=True)
    """
)


def result(qid: str, score: float = 1.0) -> Result:
    return Result(qid, score == 1.0, score, "", "", 0)


@pytest.mark.slow
def test_twenty_learners_killed_at_random_keep_every_acknowledged_answer(postgres_server):
    """20 processes x 100 answers on one server; about a third are SIGKILLed at random
    moments. Every answer a process was told was saved is there, at most the one in flight
    besides, and no System Check is half stored."""
    url = postgres_server.schema()
    ProgressStore(url)  # created once, as the first replica would
    count, n = 100, 20
    rng = random.Random(22)
    procs = {
        f"learner{i}": subprocess.Popen(
            [sys.executable, "-c", LEARNER, url, f"learner{i}", str(count)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(n)
    }
    victims = set(rng.sample(sorted(procs), 7))
    kill_after = {name: rng.randrange(5, count - 5) for name in victims}
    acked: dict[str, list[tuple[str, int]]] = {name: [] for name in procs}
    selector = selectors.DefaultSelector()
    for name, proc in procs.items():
        selector.register(proc.stdout, selectors.EVENT_READ, name)
    open_streams, deadline = len(procs), time.monotonic() + 240
    while open_streams and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            name = key.data
            line = key.fileobj.readline()
            if not line:
                selector.unregister(key.fileobj)
                open_streams -= 1
                continue
            if line.startswith("ack"):
                _, kind, index = line.split()
                acked[name].append((kind, int(index)))
                if name in kill_after and len(acked[name]) == kill_after[name]:
                    procs[name].send_signal(signal.SIGKILL)
    for name, proc in procs.items():
        proc.wait(timeout=60)
        if name in victims:
            assert proc.returncode == -signal.SIGKILL, (name, proc.stderr.read())
        else:
            assert proc.returncode == 0, (name, proc.stderr.read())
            assert len(acked[name]) == count

    store = ProgressStore(url)
    assert sorted(store.learners()) == sorted(procs)
    for name in procs:
        attempts = store.attempts(name)
        loose = {int(a.question_id[1:]) for a in attempts if a.check_id is None}
        checks = store.checks(name)
        per_check = {c.id: 0 for c in checks}
        for a in attempts:
            if a.check_id is not None:
                per_check[a.check_id] += 1
        assert set(per_check.values()) <= {3}, name  # no half-stored check
        stored_checks = {int(a.question_id[1:].split("-")[0]) for a in attempts if a.check_id}
        got = {("attempt", i) for i in loose} | {("check", i) for i in stored_checks}
        told = set(acked[name])
        assert told <= got, (name, sorted(told - got))  # every acknowledged answer kept
        assert len(got - told) <= 1, name  # besides, at most the one in flight when killed


def test_a_server_that_goes_away_mid_class_is_a_clear_error_and_loses_nothing(
    postgres_server,
):
    """The server stops as in a crash (``pg_ctl -m immediate``) while a replica holds pooled
    connections: a submission then is one StoreError saying the server cannot be reached and
    nothing was saved; once it is back, the same store object saves again (the pool replaces
    dead connections) and every answer acknowledged before is there."""
    server = PostgresServer().start()
    try:
        url = server.database("course")
        store = ProgressStore(url)
        acked = [store.record_check("ada", "vgg", [result(f"q{i}")]) for i in range(5)]
        server.stop("immediate")
        with pytest.raises(StoreError) as caught:
            store.record_check("ada", "vgg", [result("lost")], uid="submit-6")
        message = str(caught.value)
        assert "could not save: the database server" in message, message
        assert "nothing was saved" in message and "\n" not in message
        with pytest.raises(StoreError, match="could not be read: the database server"):
            store.passed_lessons("ada")
        with pytest.raises(StoreError, match="could not be opened: the database server"):
            database._current.clear()
            ProgressStore(url, timeout=2)
        server.start()
        again = store.record_check("ada", "vgg", [result("lost")], uid="submit-6")  # resubmit
        assert [c.id for c in store.checks("ada")] == [c.id for c in acked] + [again.id]
        assert store.record_check("ada", "vgg", [result("lost")], uid="submit-6") == again
        assert len(ProgressStore(url).attempts("ada")) == 6
    finally:
        server.remove()
