"""A class's training queue: 10 jobs on 2 workers against the same 10 on 1 worker.

Each configuration gets a fresh database on one PostgreSQL (started here unless
``--database`` names a server), its workers (``python -m keras_cnn worker``) are started and
have loaded TensorFlow before the jobs come (a class's workers run all day), then ten learners
press Start at once. Measured in the same run:

* **wall time** -- first Start to the last job's end, one worker against two
  (``speedup`` = one / two; on a machine with fewer cores than workers expect less than 2);
* **Start to first progress line** -- from a job's row being created to its first batch
  reported in the database (``training_jobs.first_progress``), for the first job (an idle
  worker: queue, fetch, build, compile, one batch) and over all ten (the rest include their
  wait in the queue).

    python benchmarks/class_queue.py                       # LeNet-5, 1 epoch, 256 digits
    python benchmarks/class_queue.py --jobs 10 --model resnet20 --limit 512

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def start_workers(url: str, shared: Path, count: int, folder: Path) -> list[subprocess.Popen]:
    procs = []
    for i in range(count):
        env = dict(
            os.environ,
            KERAS_CNN_DATABASE_URL=url,
            KERAS_CNN_SHARED_DIR=str(shared),
            KERAS_CNN_HOME=str(folder / f"home-{i}"),
            PYTHONPATH=str(ROOT),
            TF_CPP_MIN_LOG_LEVEL="3",
        )
        log = open(folder / f"worker-{i}.log", "w")  # noqa: SIM115 - the process's output
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "keras_cnn", "worker", "--name", f"w{i + 1}",
                 "--poll", "0.5", "--heartbeat", "2", "--stalled-after", "10"],
                env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            )
        )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        logs = [(folder / f"worker-{i}.log").read_text() for i in range(count)]
        if all("waiting for jobs" in text for text in logs):
            return procs
        time.sleep(0.5)
    raise RuntimeError(f"workers did not start: {logs}")


def measure(url: str, workers: int, args) -> dict:
    from keras_cnn.training import queue as q

    folder = Path(tempfile.mkdtemp(prefix=f"keras-cnn-queue-{workers}-"))
    shared = folder / "shared"
    jobs = q.TrainingQueue(url, shared)
    jobs.set_limits(q.Limits(models=(args.model,), epochs=args.epochs))
    procs = start_workers(url, shared, workers, folder)
    request = {
        "model": args.model,
        "epochs": args.epochs,
        "limit": args.limit,
        "batch_size": args.batch_size,
        "seed": 0,
    }
    try:
        tickets: list[int] = []
        lock = threading.Lock()

        def start(i: int) -> None:
            ticket = jobs.submit(f"learner{i}@bench.example", request)
            with lock:
                tickets.append(ticket)

        began = time.perf_counter()
        threads = [threading.Thread(target=start, args=(i,)) for i in range(args.jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        while True:
            views = [jobs.view(t) for t in tickets]
            if all(not v.active for v in views):
                break
            time.sleep(0.1)
        wall = time.perf_counter() - began
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(60)
        jobs.close()
    states = sorted({v.state for v in views})
    if states != ["finished"]:
        raise RuntimeError(f"jobs ended {states}: {[v.error for v in views if v.error]}")
    first = sorted(views, key=lambda v: v.ticket)
    to_first = [v.seconds_to_first_progress for v in first]
    return {
        "workers": workers,
        "wall_seconds": round(wall, 2),
        "first_job_start_to_first_progress_seconds": round(min(to_first), 2),
        "median_start_to_first_progress_seconds": round(statistics.median(to_first), 2),
        "per_worker_jobs": {
            w: sum(v.worker == w for v in views) for w in {v.worker for v in views}
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="a PostgreSQL server URL (default: start one here)")
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    from postgres import PostgresServer

    server = None
    if args.database is None:
        server = PostgresServer().start()
    try:

        def database() -> str:
            if server is not None:
                return server.database()
            return args.database

        one = measure(database(), 1, args)
        two = measure(database(), 2, args)
    finally:
        if server is not None:
            server.remove()
    print(
        json.dumps(
            {
                "jobs": args.jobs,
                "job": f"{args.model}, {args.epochs} epoch(s), {args.limit} digits, "
                f"batch {args.batch_size}",
                "cpus": os.cpu_count(),
                "one_worker": one,
                "two_workers": two,
                "speedup_two_over_one": round(one["wall_seconds"] / two["wall_seconds"], 2),
                "first_progress_two_over_one": round(
                    two["first_job_start_to_first_progress_seconds"]
                    / one["first_job_start_to_first_progress_seconds"],
                    2,
                ),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
