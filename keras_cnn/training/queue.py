"""A class's training queue: Start puts a job into PostgreSQL, workers on any machine train it.

In class mode on PostgreSQL the course does not train on its web servers: Start calls
:meth:`TrainingQueue.submit`, which checks the request against the class's :class:`Limits` and
defers a job through `procrastinate <https://procrastinate.readthedocs.io>`_ (a task queue on
PostgreSQL: no other server to run). Any number of workers, ``python -m keras_cnn worker``
(:mod:`keras_cnn.training.worker`), on the server or on GPU machines, take the jobs one at a
time each and train them with :func:`keras_cnn.train.train`.

Where things live (the layering: ``keras_cnn`` never imports ``quiz`` or Streamlit):

* **The queue is keras_cnn's.** Its tables live in their own PostgreSQL schema,
  :data:`SCHEMA` (``keras_cnn_queue``), of the class's database: procrastinate's tables and two
  of this module's -- ``training_jobs`` (one row per Start: the learner, the request, where it
  runs, the progress of its last batch, the finished epochs, the result, Stop) and
  ``training_limits`` (the instructor's limits, one row). The progress store of :mod:`quiz`
  sees only its own schema, so neither changes the other.
* **The worker reads** the database URL (``$KERAS_CNN_DATABASE_URL``, the same variable the
  course reads) and the class's shared folder (``$KERAS_CNN_SHARED_DIR``, as the gallery);
  each job's checkpoints are kept under ``<shared>/checkpoints/job-<ticket>`` so that any
  worker can resume it.
* **The app is thin**: it builds one :class:`TrainingQueue` from the course's settings and
  draws :meth:`TrainingQueue.view` (the place in the queue, then the live progress) read from
  the database, so every replica shows the same.

Guarantees (``tests/test_class_queue.py``): a learner has at most one job queued or running
(a unique index, so two replicas cannot both admit a second); the limits are checked before
anything is queued, with messages naming the valid values; Stop cancels a queued job, and a
running one stops after its current batch (the worker reads the flag with every progress
write, :data:`PROGRESS_SECONDS`); a worker that dies mid-job stops sending heartbeats, and
another worker puts its job back into the queue, to be resumed from its last checkpoint (at
most :data:`MAX_ATTEMPTS` starts).

This module imports no deep-learning framework (the app and tools import it cheaply). It is a
little over 500 lines because a job's whole life, from the limits to the retry of a dead
worker's job, is one set of SQL statements over the same two tables.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

DATABASE_URL_ENV = "KERAS_CNN_DATABASE_URL"
SHARED_DIR_ENV = "KERAS_CNN_SHARED_DIR"
#: The PostgreSQL schema (namespace) holding the queue's tables.
SCHEMA = "keras_cnn_queue"
#: procrastinate's queue and task names.
QUEUE = "training"
TASK = "keras_cnn.train_job"
#: How often a running job writes its progress and reads Stop (seconds; every epoch's end
#: is written at once). Per batch, coalesced: a fast network's batches take milliseconds.
PROGRESS_SECONDS = 0.25
#: Starts of one job (the first and the retries after dead workers) before it is failed.
MAX_ATTEMPTS = 3
#: Job states as this module records them; ``queued`` and ``running`` are active.
STATES = ("queued", "running", "finished", "stopped", "failed", "cancelled")
ACTIVE = ("queued", "running")

_TABLES = f"""
CREATE TABLE IF NOT EXISTS training_jobs (
    ticket bigserial PRIMARY KEY,
    learner text NOT NULL,
    request jsonb NOT NULL,
    state text NOT NULL DEFAULT 'queued',
    job_id bigint,
    worker text,
    attempt integer NOT NULL DEFAULT 0,
    initial_epoch integer,
    epoch integer NOT NULL DEFAULT 0,
    batch integer NOT NULL DEFAULT 0,
    batches integer,
    epochs integer NOT NULL,
    rows jsonb NOT NULL DEFAULT '[]',
    run_dir text,
    error text,
    stop boolean NOT NULL DEFAULT false,
    created timestamptz NOT NULL DEFAULT now(),
    started timestamptz,
    first_progress timestamptz,
    finished timestamptz,
    updated timestamptz NOT NULL DEFAULT now(),
    CHECK (state IN ({", ".join(f"'{s}'" for s in STATES)}))
);
CREATE UNIQUE INDEX IF NOT EXISTS training_jobs_one_active
    ON training_jobs (learner) WHERE state IN ('queued', 'running');
CREATE TABLE IF NOT EXISTS training_limits (
    id integer PRIMARY KEY CHECK (id = 1),
    limits jsonb NOT NULL
);
"""
#: A fixed key for the advisory lock under which the schema is created (replicas and workers
#: starting together create it once).
_LOCK_KEY = 0x6B636E6E71


class QueueError(ValueError):
    """A request the queue refuses, or a queue that cannot be used: one line says why."""


def conninfo(url: str) -> str:
    """A libpq connection string for ``url`` with the queue's schema first on the search path.

    ``postgresql+psycopg://`` (SQLAlchemy's spelling) is accepted as ``postgresql://``.

    Raises:
        QueueError: For a URL that is not PostgreSQL (the queue needs a server).
    """
    import psycopg.conninfo

    scheme, sep, rest = str(url).partition("://")
    base = scheme.split("+", 1)[0]
    if not sep or base not in ("postgresql", "postgres"):
        raise QueueError(
            "The training queue needs the class's PostgreSQL server: set "
            f"{DATABASE_URL_ENV}=postgresql://user@host/database. Received: "
            f"{DATABASE_URL_ENV}={_shown(url)!r}"
        )
    params = psycopg.conninfo.conninfo_to_dict(f"{base}://{rest}")
    options = f"{params.get('options') or ''} -c search_path={SCHEMA}".strip()
    return psycopg.conninfo.make_conninfo(f"{base}://{rest}", options=options)


def _shown(url: str) -> str:
    """A URL without its password (for messages)."""
    scheme, sep, rest = str(url).partition("://")
    if sep and "@" in rest:
        who, _, where = rest.rpartition("@")
        rest = f"{who.split(':', 1)[0]}:***@{where}" if ":" in who else rest
    return f"{scheme}{sep}{rest}"


def shared_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The class's shared folder (``$KERAS_CNN_SHARED_DIR``), which every worker sees.

    Raises:
        QueueError: If it is not set.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(SHARED_DIR_ENV, "").strip()
    if not value:
        raise QueueError(
            f"Training on workers keeps checkpoints in a folder every worker sees: set "
            f"{SHARED_DIR_ENV} (e.g. {SHARED_DIR_ENV}=/srv/course/shared). Received: "
            f"{SHARED_DIR_ENV}={value!r}"
        )
    return Path(value).expanduser()


def checkpoint_dir(shared: str | os.PathLike, ticket: int) -> Path:
    """Where job ``ticket`` keeps its checkpoints (any worker resumes from there)."""
    return Path(shared) / "checkpoints" / f"job-{int(ticket)}"


# ----------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class TrainRequest:
    """What a learner asks to train: the arguments of :func:`keras_cnn.train.train` that the
    training page sets (JSON in the job's row)."""

    model: str = "lenet5"
    data: str = "digits"
    epochs: int = 5
    batch_size: int = 128
    learning_rate: float = 0.1
    schedule: str = "auto"
    augment: bool = False
    limit: int | None = None
    seed: int | None = None

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainRequest:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise QueueError(
                f"Unknown training setting(s) {', '.join(unknown)}; the settings are "
                f"{', '.join(sorted(names))}. Received: {dict(values)!r}"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Limits:
    """The class's limits, set by the instructor (``python -m keras_cnn queue limits``).

    Attributes:
        epochs: The most epochs a job may train.
        models: The registry ids a learner may train.
        datasets: The datasets a job may use (every worker needs them on disk).
        images: The input size: the most images per split (a job's ``limit``); ``None``
            allows whole datasets.
        batch_size: The largest batch.
    """

    epochs: int = 20
    models: tuple[str, ...] = ("lenet5", "vgg_small", "resnet20", "plain20", "resnet32")
    datasets: tuple[str, ...] = ("digits",)
    images: int | None = None
    batch_size: int = 256

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "datasets", tuple(self.datasets))
        for name in ("epochs", "batch_size", "images"):
            value = getattr(self, name)
            if value is None and name == "images":
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise QueueError(f"Limit `{name}` must be an int >= 1. Received: {name}={value!r}")
        if not self.models:
            raise QueueError("Limit `models` must name at least one model. Received: models=()")
        from keras_cnn.models.registry import resolve

        for name in self.models:
            try:
                resolve(name)
            except (KeyError, ValueError) as exc:
                raise QueueError(f"Limit `models`: {exc.args[0] if exc.args else exc}") from None
        if not self.datasets:
            raise QueueError(
                "Limit `datasets` must name at least one dataset. Received: datasets=()"
            )

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> Limits:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "models": list(self.models), "datasets": list(self.datasets)}

    def check(self, request: TrainRequest) -> None:
        """Refuse a request outside the limits (before anything is queued).

        Raises:
            QueueError: Naming the setting, the valid values and the value received.
        """
        r = request
        if r.model not in self.models:
            raise QueueError(
                f"This class trains only {', '.join(self.models)} (the instructor's limits). "
                f"Received: model={r.model!r}"
            )
        if r.data not in self.datasets:
            raise QueueError(
                f"This class trains on {', '.join(self.datasets)} only (the instructor's "
                f"limits). Received: data={r.data!r}"
            )
        if (
            isinstance(r.epochs, bool)
            or not isinstance(r.epochs, int)
            or not (1 <= r.epochs <= self.epochs)
        ):
            raise QueueError(
                f"`epochs` must be an int from 1 to {self.epochs} in this class (the "
                f"instructor's limit). Received: epochs={r.epochs!r}"
            )
        if (
            isinstance(r.batch_size, bool)
            or not isinstance(r.batch_size, int)
            or not (1 <= r.batch_size <= self.batch_size)
        ):
            raise QueueError(
                f"`batch_size` must be an int from 1 to {self.batch_size} in this class. "
                f"Received: batch_size={r.batch_size!r}"
            )
        if self.images is not None and (
            r.limit is None
            or isinstance(r.limit, bool)
            or not isinstance(r.limit, int)
            or not 1 <= r.limit <= self.images
        ):
            raise QueueError(
                f"Images per split must be from 1 to {self.images:,} in this class (the "
                f"instructor's input-size limit; 0 = all is not allowed). Received: "
                f"limit={r.limit!r}"
            )


# ----------------------------------------------------------------------------- the queue


@dataclass
class JobView:
    """What a page shows of a learner's job, read from the database.

    Attributes:
        ticket: The job's number. learner: whose it is. request: its settings.
        state: one of :data:`STATES`. place: 1-based place among the queued jobs (queued
            only). worker: the worker training it. attempt: its starts so far.
        initial_epoch: epochs it resumed from (this attempt). epoch, batch, batches: the
            position of its last reported batch (1-based). epochs: epochs asked for.
        rows: the finished epochs' history rows. error: why it failed. stop: Stop was asked.
        run_dir: the stored run (on the worker's machine).
    """

    ticket: int
    learner: str
    request: dict[str, Any]
    state: str
    place: int | None = None
    worker: str | None = None
    attempt: int = 0
    initial_epoch: int | None = None
    epoch: int = 0
    batch: int = 0
    batches: int | None = None
    epochs: int = 0
    rows: list[dict] = field(default_factory=list)
    error: str | None = None
    stop: bool = False
    run_dir: str | None = None
    seconds_to_first_progress: float | None = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    def status(self) -> str:
        """One line for the page."""
        what = f"{self.request.get('model')} on {self.request.get('data')}"
        if self.state == "queued":
            ahead = (self.place or 1) - 1
            wait = (
                "next in line"
                if not ahead
                else f"{ahead} job{'s' if ahead > 1 else ''} ahead of it"
            )
            again = " (its worker stopped; it resumes from its checkpoint)" if self.attempt else ""
            return f"{what}: queued, place {self.place} ({wait}){again}"
        if self.state == "running":
            if self.stop:
                return f"{what}: stopping after the current batch…"
            if not self.batch:
                return f"{what}: starting on {self.worker} (loading data, compiling)…"
            batch = f"batch {self.batch}" + (f" of {self.batches}" if self.batches else "")
            return f"{what}: epoch {self.epoch} of {self.epochs}, {batch} (on {self.worker})"
        return f"{what}: {self.state}"

    def fraction(self) -> float:
        if not self.epoch or not self.epochs:
            return 0.0
        within = self.batch / self.batches if self.batches else 0.0
        return min(max(((self.epoch - 1) + within) / self.epochs, 0.0), 1.0)


def _connect(info: str):
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(info, autocommit=True, row_factory=dict_row)


def create_schema(info: str) -> None:
    """Create the queue's schema, procrastinate's tables and this module's (once, under an
    advisory lock; a no-op when they exist)."""
    import procrastinate

    with _connect(info) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        exists = conn.execute("SELECT to_regclass('procrastinate_jobs') AS t").fetchone()["t"]
        if exists is None:
            conn.execute(procrastinate.schema.SchemaManager.get_schema())
        conn.execute(_TABLES)


def procrastinate_app(info: str, *, sync: bool = True):
    """The procrastinate ``App`` of the queue, its task registered (not opened)."""
    import procrastinate

    if sync:
        connector = procrastinate.SyncPsycopgConnector(conninfo=info, min_size=1, max_size=2)
    else:
        connector = procrastinate.PsycopgConnector(conninfo=info, min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)

    @app.task(name=TASK, queue=QUEUE, pass_context=True)
    def train_job(context, ticket: int) -> None:
        from keras_cnn.training import worker

        worker.run_job(info, context, ticket)

    return app


class TrainingQueue:
    """The class's queue as the app sees it: submit, look, stop, limits.

    Args:
        url: The class's PostgreSQL URL.
        shared: The shared folder (checked to exist when given; workers keep checkpoints
            there).
    """

    def __init__(self, url: str, shared: str | os.PathLike | None = None):
        self.info = conninfo(url)
        self.shared = Path(shared) if shared is not None else None
        create_schema(self.info)
        self.app = procrastinate_app(self.info).open()  # a pool, shared by the page's threads

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.app.close()

    # -- limits -------------------------------------------------------------------------

    def limits(self) -> Limits:
        with _connect(self.info) as conn:
            row = conn.execute("SELECT limits FROM training_limits WHERE id = 1").fetchone()
        return Limits.from_dict(row["limits"]) if row else Limits()

    def set_limits(self, limits: Limits) -> None:
        from psycopg.types.json import Jsonb

        with _connect(self.info) as conn:
            conn.execute(
                "INSERT INTO training_limits (id, limits) VALUES (1, %s) "
                "ON CONFLICT (id) DO UPDATE SET limits = EXCLUDED.limits",
                (Jsonb(limits.to_dict()),),
            )

    # -- jobs ---------------------------------------------------------------------------

    def submit(self, learner: str, request: TrainRequest | Mapping[str, Any]) -> int:
        """Queue a job for ``learner``; its ticket.

        Raises:
            QueueError: Outside the limits, or when the learner has a job queued or running
                (nothing is queued then).
        """
        import psycopg
        from psycopg.types.json import Jsonb

        if not isinstance(request, TrainRequest):
            request = TrainRequest.from_dict(request)
        self.limits().check(request)
        try:
            with _connect(self.info) as conn:
                ticket = conn.execute(
                    "INSERT INTO training_jobs (learner, request, epochs) VALUES (%s, %s, %s) "
                    "RETURNING ticket",
                    (learner, Jsonb(request.to_dict()), request.epochs),
                ).fetchone()["ticket"]
        except psycopg.errors.UniqueViolation:
            mine = self.current(learner)
            which = f" (job {mine.ticket}: {mine.status()})" if mine else ""
            raise QueueError(
                f"{learner} already has a training job queued or running{which}; a learner "
                "has one at a time. Stop it, or wait until it ends."
            ) from None
        try:
            job_id = self.app.configure_task(TASK, queue=QUEUE).defer(ticket=ticket)
        except BaseException:
            with _connect(self.info) as conn:
                conn.execute("DELETE FROM training_jobs WHERE ticket = %s", (ticket,))
            raise
        with _connect(self.info) as conn:
            conn.execute("UPDATE training_jobs SET job_id = %s WHERE ticket = %s", (job_id, ticket))
        return ticket

    def view(self, ticket: int) -> JobView | None:
        """The job as the database holds it now, with its place in the queue."""
        with _connect(self.info) as conn:
            row = conn.execute(_VIEW + " WHERE t.ticket = %s", (ticket,)).fetchone()
        return _view(row) if row else None

    def current(self, learner: str) -> JobView | None:
        """The learner's latest job (active or ended), if any."""
        with _connect(self.info) as conn:
            row = conn.execute(
                _VIEW + " WHERE t.learner = %s ORDER BY t.ticket DESC LIMIT 1", (learner,)
            ).fetchone()
        return _view(row) if row else None

    def jobs(self) -> list[JobView]:
        """Every job, oldest first (the instructor's and the tests' view)."""
        with _connect(self.info) as conn:
            rows = conn.execute(_VIEW + " ORDER BY t.ticket").fetchall()
        return [_view(r) for r in rows]

    def stop(self, ticket: int) -> None:
        """Stop a job: a queued one is cancelled, a running one stops after its batch."""
        with _connect(self.info) as conn:
            row = conn.execute(
                "UPDATE training_jobs SET stop = true, updated = now() "
                "WHERE ticket = %s AND state IN ('queued', 'running') RETURNING job_id",
                (ticket,),
            ).fetchone()
        if row is None or row["job_id"] is None:
            return
        cancelled = self.app.job_manager.cancel_job_by_id(row["job_id"])
        if cancelled:
            with _connect(self.info) as conn:
                conn.execute(
                    "UPDATE training_jobs SET state = 'cancelled', finished = now(), "
                    "updated = now() WHERE ticket = %s AND state = 'queued'",
                    (ticket,),
                )


_VIEW = """
SELECT t.*,
       CASE WHEN t.state = 'queued' THEN (
           SELECT count(*) FROM training_jobs q
            WHERE q.state = 'queued' AND q.ticket <= t.ticket) END AS place,
       EXTRACT(EPOCH FROM t.first_progress - t.created) AS to_first
  FROM training_jobs t
"""


def _view(row: Mapping[str, Any]) -> JobView:
    return JobView(
        ticket=row["ticket"],
        learner=row["learner"],
        request=dict(row["request"]),
        state=row["state"],
        place=row["place"],
        worker=row["worker"],
        attempt=row["attempt"],
        initial_epoch=row["initial_epoch"],
        epoch=row["epoch"],
        batch=row["batch"],
        batches=row["batches"],
        epochs=row["epochs"],
        rows=list(row["rows"] or []),
        error=row["error"],
        stop=row["stop"],
        run_dir=row["run_dir"],
        seconds_to_first_progress=None if row["to_first"] is None else float(row["to_first"]),
    )


def dumps(value: Any) -> str:
    """JSON for the job's rows (NaN as null: PostgreSQL's jsonb has no NaN)."""
    import math

    def clean(v):
        if isinstance(v, float) and not math.isfinite(v):
            return None
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        return v

    return json.dumps(clean(value))
