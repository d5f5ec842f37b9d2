"""The class's training queue with the real parts: procrastinate on the PostgreSQL the tests
start, two ``python -m keras_cnn worker`` processes, LeNet-5 on a few hundred digits.

Three learners start at once (all three run, two at a time), Stop reaches a running job within
a batch, a worker SIGKILLed mid-epoch leaves its job to the other worker, which resumes it
from the checkpoint; the instructor's limits refuse a request before anything is queued.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from postgres import wait_until

from keras_cnn.training import queue as q

ROOT = Path(__file__).resolve().parents[1]
#: Small jobs: LeNet-5 on 256 or 512 digits.
QUICK = {"model": "lenet5", "epochs": 2, "limit": 256, "batch_size": 32, "seed": 0}
#: A job with many batches per epoch (64 of 8 images, seconds), so that a test can act mid-epoch.
LONG = {
    "model": "vgg_small",
    "epochs": 3,
    "limit": 512,
    "batch_size": 8,
    "learning_rate": 0.01,
    "seed": 0,
}
HEARTBEAT, STALLED_AFTER = 1.0, 6.0


@pytest.fixture(scope="module")
def url(postgres_server):
    return postgres_server.database()


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    return tmp_path_factory.mktemp("shared")


@pytest.fixture(scope="module")
def jobs(url, shared):
    queue = q.TrainingQueue(url, shared)
    queue.set_limits(q.Limits(epochs=3, models=("lenet5", "vgg_small"), images=512, batch_size=64))
    yield queue
    queue.close()


class Workers:
    """Worker processes of the queue, started and killed by the tests."""

    def __init__(self, url: str, shared: Path, folder: Path):
        self.url, self.shared, self.folder = url, shared, folder
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        env = dict(
            os.environ,
            KERAS_CNN_DATABASE_URL=self.url,
            KERAS_CNN_SHARED_DIR=str(self.shared),
            KERAS_CNN_HOME=str(self.folder / f"home-{name}"),
            PYTHONPATH=str(ROOT),
            TF_CPP_MIN_LOG_LEVEL="3",
        )
        log = open(self.folder / f"{name}.log", "w")  # noqa: SIM115 - kept open for the process
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "keras_cnn", "worker", "--name", name,
             "--heartbeat", str(HEARTBEAT), "--stalled-after", str(STALLED_AFTER),
             "--poll", "0.5"],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip

    def ready(self, names) -> bool:
        return all("waiting for jobs" in (self.folder / f"{n}.log").read_text() for n in names)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()[-3000:]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait(30)


@pytest.fixture(scope="module")
def workers(url, shared, jobs, tmp_path_factory):
    running = Workers(url, shared, tmp_path_factory.mktemp("workers"))
    running.start("w1")
    running.start("w2")
    try:
        assert wait_until(lambda: running.ready(["w1", "w2"]), timeout=180, every=0.5), running.log(
            "w1"
        ) + running.log("w2")
        yield running
    finally:
        running.stop_all()


def _wait(jobs, ticket, predicate, timeout=120.0):
    """The job's view once ``predicate(view)`` holds (fails with the view otherwise)."""
    seen = []

    def check():
        seen.append(jobs.view(ticket))
        return predicate(seen[-1])

    assert wait_until(check, timeout=timeout, every=0.05), seen[-1]
    return seen[-1]


# ----------------------------------------------------------------------------- no worker


def test_the_queue_module_loads_no_framework():
    code = (
        "import sys, keras_cnn.training.queue; "
        "print(sorted(m for m in ('keras', 'tensorflow', 'streamlit', 'quiz') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.strip() == "[]"


def test_limits_refuse_a_request_before_anything_is_queued(jobs):
    before = len(jobs.jobs())
    for request, message in [
        (
            {**QUICK, "model": "resnet56"},
            r"trains only lenet5, vgg_small .*Received: model='resnet56'",
        ),
        ({**QUICK, "epochs": 10}, r"from 1 to 3 in this class .*Received: epochs=10"),
        ({**QUICK, "limit": None}, r"from 1 to 512 .*Received: limit=None"),
        ({**QUICK, "limit": 5000}, r"from 1 to 512 .*Received: limit=5000"),
        ({**QUICK, "batch_size": 128}, r"from 1 to 64 .*Received: batch_size=128"),
        ({**QUICK, "data": "cifar10"}, r"digits only .*Received: data='cifar10'"),
        ({**QUICK, "epoch": 2}, r"Unknown training setting\(s\) epoch"),
    ]:
        with pytest.raises(q.QueueError, match=message):
            jobs.submit("ada@school.example", request)
    assert len(jobs.jobs()) == before  # nothing was queued
    with pytest.raises(q.QueueError, match="resnet20"):  # did you mean
        q.Limits(models=("resnt20",))
    with pytest.raises(q.QueueError, match=r"`epochs` must be an int >= 1. Received: epochs=0"):
        q.Limits(epochs=0)
    with pytest.raises(q.QueueError, match=r"needs the class's PostgreSQL .*sqlite:///x.db"):
        q.TrainingQueue("sqlite:///x.db")


def test_the_instructor_sets_the_limits_on_the_command_line(postgres_server):
    database = postgres_server.database()

    def cli(*args):
        return subprocess.run(
            [sys.executable, "-m", "keras_cnn", "queue", "limits", "--database-url", database,
             *args],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
        )  # fmt: skip

    done = cli("--epochs", "4", "--models", "lenet5,resnet20", "--images", "1000")
    assert done.returncode == 0, done.stderr
    limits = q.TrainingQueue(database).limits()
    assert (limits.epochs, limits.models, limits.images) == (4, ("lenet5", "resnet20"), 1000)
    refused = cli("--models", "lenet5,resnt20")
    assert refused.returncode == 2
    assert "error: Limit `models`: Unknown model 'resnt20'. Did you mean 'resnet20'" in (
        refused.stderr
    )
    assert q.TrainingQueue(database).limits() == limits  # unchanged


def test_one_job_a_learner_and_stop_cancels_a_queued_job(jobs):
    ticket = jobs.submit("ada@school.example", QUICK)
    view = jobs.view(ticket)
    assert (view.state, view.place) == ("queued", 1)
    assert "place 1 (next in line)" in view.status()
    with pytest.raises(q.QueueError, match="already has a training job queued or running"):
        jobs.submit("ada@school.example", QUICK)
    jobs.stop(ticket)
    assert jobs.view(ticket).state == "cancelled"
    again = jobs.submit("ada@school.example", QUICK)  # a learner may start again after Stop
    jobs.stop(again)
    assert jobs.view(again).state == "cancelled"


def test_the_instructor_page_lists_the_class_queue(postgres_server, monkeypatch):
    """Who, model, state, place and worker of the class's jobs, read from the database. No
    worker runs here (nothing takes the jobs): one job's row is set running as a worker sets it."""
    from streamlit.testing.v1 import AppTest

    from quiz import roster
    from quiz.store import ProgressStore

    url = postgres_server.database()  # its own: the workers below must not take these jobs
    people = [
        roster.Member("ada@school.example", "Ada Lovelace", "learner"),
        roster.Member("alan@school.example", "Alan Turing", "learner"),
        roster.Member("bob@school.example", "Bob", "learner"),
        roster.Member("grace@school.example", "Grace Hopper", "instructor"),
    ]
    roster.save(ProgressStore(url), people)
    queue = q.TrainingQueue(url)
    try:
        ada, alan, bob = (queue.submit(m.email, QUICK) for m in people[:3])
        with q._connect(queue.info) as conn:
            conn.execute(
                "UPDATE training_jobs SET state = 'running', worker = 'gpu-1', attempt = 1, "
                "started = now(), epoch = 1, batch = 4, batches = 8 WHERE ticket = %s",
                (ada,),
            )
        queue.stop(bob)  # cancelled while queued
    finally:
        queue.close()
    monkeypatch.setenv("KERAS_CNN_DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "app" / "pages" / "instructor.py"), default_timeout=120)
    at.session_state["class_member"] = people[3]
    at.run()
    assert not at.exception, at.exception
    (table,) = [d.value for d in at.dataframe if "ticket" in d.value]
    assert table.ticket.tolist() == [ada, alan, bob]  # running, queued in order, ended
    assert table.who.tolist() == ["Ada Lovelace", "Alan Turing", "Bob"]
    assert table.state.tolist() == ["running", "queued", "cancelled"]
    assert table.worker.tolist() == ["gpu-1", "", ""]
    assert table.place.fillna(0).tolist() == [0, 1, 0]  # a place for the queued job only
    assert set(table.model) == {"lenet5"} and table.progress.tolist() == [0.25, 0.0, 0.0]
    assert [m.value for m in at.metric][-3:] == ["1", "1", "1"]  # running, queued, busy workers
    assert "The instructor's limits" in " ".join(c.value for c in at.caption)


# ----------------------------------------------------------------------------- two workers


def test_three_learners_at_once_run_two_at_a_time(jobs, workers):
    learners = [f"learner{i}@school.example" for i in range(3)]
    tickets: dict[str, int] = {}
    barrier = threading.Barrier(3)

    def start(learner):
        barrier.wait()
        tickets[learner] = jobs.submit(learner, QUICK)

    threads = [threading.Thread(target=start, args=(name,)) for name in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    mine = sorted(tickets.values())
    most_running, queued_behind, progress = 0, set(), set()

    def all_ended():
        nonlocal most_running
        views = [jobs.view(t) for t in mine]
        most_running = max(most_running, sum(v.state == "running" for v in views))
        running = sum(v.state == "running" for v in views)
        queued_behind.update(
            (v.place, running) for v in views if v.state == "queued" and running == 2
        )
        progress.update((v.ticket, v.epoch, v.batch) for v in views if v.batch)
        return all(not v.active for v in views)

    assert wait_until(all_ended, timeout=240, every=0.05), [jobs.view(t) for t in mine]
    views = [jobs.view(t) for t in mine]
    assert [v.state for v in views] == ["finished"] * 3, views
    assert most_running == 2  # two workers: never three at once
    assert (1, 2) in queued_behind  # the third waited, first in line, while two ran
    assert {v.worker for v in views} == {"w1", "w2"}
    for view in views:
        assert [r["epoch"] for r in view.rows] == [1, 2]
        assert 0 < view.rows[-1]["test_accuracy"] <= 1
        assert view.seconds_to_first_progress is not None
    # live progress per batch: the batches of 8 (256 images / 32) were seen as they ran
    assert {b for _, _, b in progress} - {8}, progress


def test_training_page_queues_the_job_and_shows_it_from_the_database(
    jobs, workers, url, shared, monkeypatch
):
    from streamlit.testing.v1 import AppTest

    from quiz import roster

    monkeypatch.setenv("KERAS_CNN_DATABASE_URL", url)
    monkeypatch.setenv("KERAS_CNN_SHARED_DIR", str(shared))
    learner = roster.Member("page@school.example", "Page", "learner")
    at = AppTest.from_file(str(ROOT / "app" / "pages" / "training.py"), default_timeout=180)
    at.session_state["class_member"] = learner
    at.run()
    assert not at.exception, at.exception
    assert "The instructor's limits: lenet5, vgg_small; digits; up to 3 epochs" in " ".join(
        c.value for c in at.caption
    )
    at.selectbox(key="model").set_value("lenet5")
    at.number_input(key="epochs").set_value(5)  # over the limit: refused, nothing queued
    at.number_input(key="limit").set_value(256)
    at.selectbox(key="batch_size").set_value(32)
    at.button(key="train_start").click().run()
    assert "from 1 to 3 in this class" in at.warning[0].value
    assert jobs.current(learner.email) is None
    at.number_input(key="epochs").set_value(2)
    at.button(key="train_start").click().run()
    assert not at.exception, at.exception
    job = jobs.current(learner.email)
    assert job is not None and job.request["limit"] == 256
    assert at.button(key="train_start").disabled and not at.button(key="train_stop").disabled
    _wait(jobs, job.ticket, lambda v: not v.active)
    at.run()
    assert at.success[0].value.startswith("lenet5 on digits finished after 2 epoch(s) on w")
    assert not at.button(key="train_start").disabled


def test_stop_reaches_a_running_job_within_a_batch(jobs, workers):
    ticket = jobs.submit("grace@school.example", LONG)
    running = _wait(jobs, ticket, lambda v: v.state == "running" and v.batch >= 2)
    asked = time.monotonic()
    jobs.stop(ticket)
    assert "stopping after the current batch" in jobs.view(ticket).status()
    stopped = _wait(jobs, ticket, lambda v: not v.active, timeout=60)
    assert stopped.state == "stopped"
    assert time.monotonic() - asked < 20
    assert len(stopped.rows) == running.epoch  # ended in the epoch it was in
    assert stopped.rows[-1]["partial"] is True  # after a batch, not at the epoch's end
    assert stopped.rows[-1]["test_accuracy"] is None


def test_a_killed_worker_leaves_its_job_to_the_other_from_the_checkpoint(jobs, workers, shared):
    ticket = jobs.submit("alan@school.example", LONG)
    mid = _wait(
        jobs,
        ticket,
        lambda v: v.state == "running" and len(v.rows) >= 1 and v.epoch == len(v.rows) + 1
        and v.batch >= 1,
    )  # fmt: skip
    killed = mid.worker
    os.kill(workers.procs[killed].pid, signal.SIGKILL)
    workers.procs[killed].wait(30)
    saved = mid.rows
    assert (q.checkpoint_dir(shared, ticket) / "meta.json").is_file()
    again = _wait(jobs, ticket, lambda v: v.attempt == 2 and v.initial_epoch is not None)
    survivor = ({"w1", "w2"} - {killed}).pop()
    assert again.worker == survivor
    assert again.initial_epoch >= len(saved) >= 1  # resumed after the saved epochs
    done = _wait(jobs, ticket, lambda v: not v.active, timeout=180)
    assert done.state == "finished", (done, workers.log(survivor))
    assert [r["epoch"] for r in done.rows] == [1, 2, 3]
    assert done.rows[: len(saved)] == saved  # the checkpoint's epochs, not trained again


def test_a_class_on_sqlite_trains_on_its_server_and_says_so():
    """One machine: no queue (procrastinate needs PostgreSQL); the page trains in-process."""
    from streamlit.testing.v1 import AppTest

    from quiz import roster

    at = AppTest.from_file(str(ROOT / "app" / "pages" / "training.py"), default_timeout=180)
    at.session_state["class_member"] = roster.Member("solo@school.example", "Solo", "learner")
    at.run()
    assert not at.exception, at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "This class's database is SQLite (one machine): training runs on this server" in (
        captions
    )
    assert "The instructor's limits" not in captions
    assert not at.button(key="train_start").disabled  # today's in-process Start
