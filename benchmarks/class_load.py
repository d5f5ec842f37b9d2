"""A class's System Check rush on two replicas over one PostgreSQL, at the store API.

Two replica processes (what two Streamlit servers are to the database: each its own
connection pool) serve 25 learners each, one thread per learner session as Streamlit runs
them. At one instant all 50 submit lesson 1's System Check: draw it, grade every answer with
the course's grader, store it (one transaction), read the best score back as the page does.
Submit-to-score is that span; the reference is one learner doing the same alone on an idle
class in the same run, so the ratio says what the rush costs. Memory: each replica's peak
RSS, and the PostgreSQL server's processes.

    python benchmarks/class_load.py                      # starts its own PostgreSQL
    python benchmarks/class_load.py --database postgresql://.../course --learners 50

What this does not measure: Streamlit's script runs and websockets (see app_latency.py for
the browser side of one server). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def submit(store, email: str, seed: int) -> float:
    """One learner's submit-to-score, in seconds."""
    import quiz

    lesson = quiz.get_course().lessons[0]
    started = time.perf_counter()
    questions = quiz.prepare_check(lesson, seed)
    results = [quiz.grade(q, quiz.expected_response(q)) for q in questions]
    store.record_check(email, lesson.id, results)
    store.lesson_scores(email)
    return time.perf_counter() - started


def replica(url: str, emails: list[str], start_at: float, out) -> None:
    """A replica process: one store (one pool), one thread per learner session."""
    import quiz

    quiz.get_course()  # loaded once per server process, before learners arrive
    store = quiz.ProgressStore(url)
    times: list[float] = []
    lock = threading.Lock()

    def session(i: int, email: str) -> None:
        while time.time() < start_at:
            time.sleep(0.001)
        elapsed = submit(store, email, i)
        with lock:
            times.append(elapsed)

    threads = [threading.Thread(target=session, args=(i, e)) for i, e in enumerate(emails)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.send({"times": times, "peak_rss_mb": round(rss_mb, 1)})


def server_rss_mb(data_dir: Path | None) -> float | None:
    """RSS of the PostgreSQL server: its postmaster (``postmaster.pid``) and its children."""
    if data_dir is None:
        return None
    with contextlib.suppress(OSError, ValueError, IndexError):
        root = (data_dir / "postmaster.pid").read_text().split()[0]
        total_kb = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError, StopIteration):
                fields = dict(
                    line.split(":", 1) for line in (entry / "status").read_text().splitlines()
                )
                if entry.name == root or fields.get("PPid", "").strip() == root:
                    total_kb += int(fields.get("VmRSS", "0 kB").split()[0])
        return round(total_kb / 1024, 1)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: start one)")
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args(argv)
    if args.learners < args.replicas or args.replicas < 1:
        parser.error(f"need 1 <= replicas <= learners. Received: {args.replicas}, {args.learners}")

    server = None
    if args.database is None:
        from postgres import PostgresServer

        server = PostgresServer().start()
        url = server.database("class_load")
    else:
        url = args.database
    try:
        import quiz
        from quiz import roster

        store = quiz.ProgressStore(url)
        emails = [f"learner{i:02d}@school.example" for i in range(args.learners)]
        roster.save(store, [roster.Member(e, e.split("@")[0], roster.LEARNER) for e in emails])
        alone = min(submit(store, f"alone{i}@school.example", i) for i in range(3))

        ctx = mp.get_context("spawn")
        start_at = time.time() + 8.0  # every replica started and its course loaded by then
        pipes, procs = [], []
        for r in range(args.replicas):
            mine = emails[r :: args.replicas]
            receive, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=replica, args=(url, mine, start_at, send))
            proc.start()
            pipes.append(receive)
            procs.append(proc)
        reports = [p.recv() for p in pipes]
        for proc in procs:
            proc.join(60)
        times = sorted(t for rep in reports for t in rep["times"])
        stored = sum(len(quiz.ProgressStore(url).checks(e)) for e in emails)
        print(
            json.dumps(
                {
                    "learners": args.learners,
                    "replicas": args.replicas,
                    "stored_checks": stored,
                    "alone_submit_to_score_s": round(alone, 3),
                    "median_submit_to_score_s": round(statistics.median(times), 3),
                    "slowest_submit_to_score_s": round(times[-1], 3),
                    "slowest_over_alone": round(times[-1] / alone, 1),
                    "replica_peak_rss_mb": [rep["peak_rss_mb"] for rep in reports],
                    "postgres_rss_mb": server_rss_mb(server.data if server else None),
                    "cpus": os.cpu_count(),
                }
            )
        )
    finally:
        if server is not None:
            server.remove()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
