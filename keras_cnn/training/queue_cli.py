"""``python -m keras_cnn worker`` and ``python -m keras_cnn queue {limits,jobs}``: a class's
training queue in a terminal (:mod:`keras_cnn.training.queue`, :mod:`keras_cnn.training.worker`).

``worker`` takes the class's jobs and trains them until stopped; ``queue limits`` shows the
instructor's limits, or sets those given (``--epochs 10 --models lenet5,resnet20 --images
2000``); ``queue jobs`` lists every job. A bad value exits with status 2 and a message naming
the valid ones. Also runnable as ``python -m keras_cnn.training.queue_cli``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

#: subcommand -> help.
HELP = {
    "worker": "take a class's training jobs from its queue and train them",
    "queue": "a class's training queue: show or set its limits, list its jobs",
}


def add_parsers(sub) -> None:
    from keras_cnn.training import queue as q

    url_help = f"the class's PostgreSQL (default ${q.DATABASE_URL_ENV})"
    p = sub.add_parser("worker", help=HELP["worker"], description=__doc__)
    p.add_argument("--database-url", help=url_help)
    p.add_argument("--shared-dir", help=f"the folder all workers see (default ${q.SHARED_DIR_ENV})")
    p.add_argument("--name", help="the worker's name on the learners' pages (default host-pid)")
    p.add_argument("--heartbeat", type=float, default=10.0, help="seconds between heartbeats")
    p.add_argument(
        "--stalled-after",
        type=float,
        default=30.0,
        help="seconds without a heartbeat after which a worker's job is queued again",
    )
    p.add_argument("--poll", type=float, default=2.0, help="seconds between looks for jobs")
    p = sub.add_parser("queue", help=HELP["queue"], description=__doc__)
    p.add_argument("action", choices=["limits", "jobs"], help="show or set limits; list jobs")
    p.add_argument("--database-url", help=url_help)
    p.add_argument("--epochs", type=int, help="the most epochs a job may train")
    p.add_argument("--models", help="comma-separated registry ids learners may train")
    p.add_argument("--datasets", help="comma-separated datasets (every worker needs them)")
    p.add_argument("--images", type=int, help="the most images per split (0: whole datasets)")
    p.add_argument("--batch-size", type=int, help="the largest batch")


def worker(args: argparse.Namespace) -> int:
    from keras_cnn.training import worker as worker_lib

    worker_lib.run(
        args.database_url,
        args.shared_dir,
        name=args.name,
        heartbeat=args.heartbeat,
        stalled_after=args.stalled_after,
        poll=args.poll,
    )
    return 0


def queue(args: argparse.Namespace) -> int:
    from keras_cnn.training import queue as q

    jobs = q.TrainingQueue(args.database_url or os.environ.get(q.DATABASE_URL_ENV, ""))
    try:
        if args.action == "jobs":
            for job in jobs.jobs():
                print(f"{job.ticket:>5}  {job.learner:<30} {job.state:<9} {job.status()}")
            return 0
        changes = {
            "epochs": args.epochs,
            "models": args.models.split(",") if args.models else None,
            "datasets": args.datasets.split(",") if args.datasets else None,
            "batch_size": args.batch_size,
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if args.images is not None:
            changes["images"] = args.images or None  # 0: whole datasets
        limits = jobs.limits()
        if changes:
            limits = q.Limits.from_dict({**limits.to_dict(), **changes})
            jobs.set_limits(limits)
        print(json.dumps(limits.to_dict(), indent=1))
        return 0
    finally:
        jobs.close()


#: subcommand -> handler.
COMMANDS = {"worker": worker, "queue": queue}


def main(argv: list[str] | None = None) -> int:
    from keras_cnn.training.queue import QueueError

    parser = argparse.ArgumentParser(prog="python -m keras_cnn", description=__doc__)
    add_parsers(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except QueueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
