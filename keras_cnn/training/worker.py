"""A training worker: ``python -m keras_cnn worker`` takes a class's jobs and trains them.

Start as many as the class needs, on the web server or on GPU machines; each needs the
class's database (``$KERAS_CNN_DATABASE_URL`` or ``--database-url``) and its shared folder
(``$KERAS_CNN_SHARED_DIR`` or ``--shared-dir``, the same folder on every machine). A worker
trains one job at a time (:mod:`keras_cnn.training.queue` explains the queue):

* **Progress** -- :class:`Progress`, the run's observer, keeps the last batch's position and
  the finished epochs; a thread writes them to the job's row every
  :data:`~keras_cnn.training.queue.PROGRESS_SECONDS` (and every epoch's end at once), reading
  the row's Stop flag in the same statement; Stop then ends the run after the current batch.
  Training never waits for the database.
* **Resume** -- every epoch is checkpointed to ``<shared>/checkpoints/job-<ticket>``; a job
  started again (after its worker died) resumes after the last saved epoch.
* **Dead workers** -- procrastinate's workers send heartbeats; every worker looks for jobs of
  workers whose heartbeat is older than ``--stalled-after`` seconds and puts them back into
  the queue (:func:`requeue_stalled`), at most :data:`~keras_cnn.training.queue.MAX_ATTEMPTS`
  starts a job.
* A job that fails (a bad setting, data that is not there) is recorded as failed with its
  message and not retried: the same error would come again.

TensorFlow (Keras) is imported when the worker starts, before it takes its first job.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

from keras_cnn.training import queue as q

log = logging.getLogger("keras_cnn.worker")


class Progress:
    """The run's observer (``keras_cnn.train.TrainingObserver``'s methods) and the thread that
    writes its state to the job's row and reads Stop back.

    Args:
        info: The queue's connection string.
        ticket: The job.
        attempt: This start of it (a row whose attempt moved on belongs to another worker).
        stop: Set when the row's Stop flag is read.
        every: Seconds between writes.
    """

    def __init__(self, info: str, ticket: int, attempt: int, stop: threading.Event, every: float):
        self.info, self.ticket, self.attempt = info, ticket, attempt
        self.stop, self.every = stop, every
        #: Another worker took the job over (this one was thought dead): stop, record nothing.
        self.lost = False
        self.state: dict[str, Any] = {"epoch": 0, "batch": 0, "batches": None, "rows": []}
        self.initial_epoch: int | None = None
        self._dirty = threading.Event()
        self._urgent = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._conn = None
        self._thread = threading.Thread(target=self._loop, name="keras-cnn-progress", daemon=True)

    # -- the observer -----------------------------------------------------------------

    def on_train_begin(self, info: dict[str, Any]) -> None:
        with self._lock:
            self.initial_epoch = int(info.get("initial_epoch", 0))
            self.state.update(epoch=self.initial_epoch + 1, batches=info.get("steps"))
        self._urgent.set()

    def on_batch(self, epoch: int, batch: int, total_batches: int | None, logs: dict) -> None:
        with self._lock:
            self.state.update(epoch=epoch, batch=batch, batches=total_batches)
        self._dirty.set()

    def on_epoch(self, row: dict[str, Any]) -> None:
        with self._lock:
            self.state["rows"] = [*self.state["rows"], dict(row)]
        self._urgent.set()

    def on_train_end(self, history) -> None:
        pass

    # -- the writer ---------------------------------------------------------------------

    def start(self, rows: list[dict]) -> Progress:
        self.state["rows"] = list(rows)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._done.is_set():
            self._urgent.wait(self.every)
            self._urgent.clear()
            if self._dirty.is_set() or self.state["rows"] or self.initial_epoch is not None:
                self._dirty.clear()
                self.write()

    def write(self) -> None:
        """Write the position and rows; read Stop. A database that is away is retried at
        the next write (training goes on)."""
        with self._lock:
            state = dict(self.state)
            initial = self.initial_epoch
        try:
            if self._conn is None or self._conn.closed:
                self._conn = q._connect(self.info)
            row = self._conn.execute(
                "UPDATE training_jobs SET epoch = %s, batch = %s, batches = %s, rows = %s, "
                "initial_epoch = %s, updated = now(), first_progress = CASE WHEN %s > 0 "
                "THEN COALESCE(first_progress, now()) ELSE first_progress END "
                "WHERE ticket = %s AND attempt = %s RETURNING stop",
                (
                    state["epoch"],
                    state["batch"],
                    state["batches"],
                    q.dumps(state["rows"]),
                    initial,
                    state["batch"],
                    self.ticket,
                    self.attempt,
                ),
            ).fetchone()
        except Exception as exc:  # noqa: BLE001 - progress is best effort; the result is not
            log.warning("job %s: progress not written (%s)", self.ticket, exc)
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
            return
        if row is None:
            self.lost = True
            log.warning("job %s was given to another worker; this one stops", self.ticket)
        if row is None or row["stop"]:
            self.stop.set()

    def close(self) -> None:
        self._done.set()
        self._urgent.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()


def _finish(
    info: str, ticket: int, state: str, *, attempt: int | None = None, tries: int = 30, **values
) -> None:
    """Record how the job ended; a database that is away is waited for (every 2 s, ``tries``
    times), since a job left ``running`` would keep its learner from starting another. With
    ``attempt``, only if the job is still that start's."""
    sets = "".join(f", {k} = %s" for k in values)
    mine = "" if attempt is None else f" AND attempt = {int(attempt)}"
    for attempt in range(tries):
        try:
            with q._connect(info) as conn:
                conn.execute(
                    f"UPDATE training_jobs SET state = %s, finished = now(), updated = now()"
                    f"{sets} WHERE ticket = %s{mine}",
                    (state, *values.values(), ticket),
                )
            return
        except Exception as exc:  # noqa: BLE001 - retried, then raised
            if attempt == tries - 1:
                raise
            log.warning("job %s: its end not recorded yet (%s); retrying", ticket, exc)
            time.sleep(2)


def run_job(info: str, context: Any, ticket: int) -> None:
    """The task body: train job ``ticket`` (resuming its checkpoint) and record the result.
    Any error ends the job as failed, with its message (not retried: it would come again)."""
    try:
        _run_job(info, getattr(context, "worker_name", None) or worker_name(), ticket)
    except Exception as exc:
        log.warning("job %s failed: %s", ticket, exc)
        _finish(info, ticket, "failed", error=f"{type(exc).__name__}: {exc}")


def _run_job(info: str, name: str, ticket: int) -> None:
    with q._connect(info) as conn:
        row = conn.execute(
            "UPDATE training_jobs SET state = 'running', worker = %s, attempt = attempt + 1, "
            "started = now(), batch = 0, initial_epoch = NULL, updated = now() "
            "WHERE ticket = %s AND state IN ('queued', 'running') RETURNING *",
            (name, ticket),
        ).fetchone()
    if row is None:  # cancelled or ended meanwhile
        return
    if row["stop"]:
        _finish(info, ticket, "stopped")
        return
    request = q.TrainRequest.from_dict(row["request"])
    stop = threading.Event()
    attempt = row["attempt"]
    progress = Progress(info, ticket, attempt, stop, q.PROGRESS_SECONDS)
    progress.start(row["rows"] or [])
    try:
        from keras_cnn.training.trainer import train

        history = train(
            request.model,
            request.data,
            epochs=request.epochs,
            batch_size=request.batch_size,
            learning_rate=request.learning_rate,
            schedule=request.schedule,
            augment=request.augment,
            limit=request.limit,
            seed=request.seed,
            observers=[progress],
            stop=stop,
            checkpoint_dir=q.checkpoint_dir(q.shared_dir(), ticket),
            resume=True,
            verbose=0,
            tags={"learner": row["learner"], "ticket": ticket},
        )
    finally:
        progress.close()
    if progress.lost:
        return
    rows = [{k: _plain(v) for k, v in r.items()} for r in history.to_dict("records")]
    _finish(
        info,
        ticket,
        "stopped" if history.attrs.get("stopped") else "finished",
        rows=q.dumps(rows),
        attempt=attempt,
        run_dir=history.attrs.get("run_dir"),
        epoch=len(rows),
    )


def _plain(value: Any) -> Any:
    """A NumPy scalar as a Python number (JSON)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def worker_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


async def requeue_stalled(app, info: str, stalled_after: float) -> list[int]:
    """Put the jobs of dead workers back into the queue (or fail them after
    :data:`~keras_cnn.training.queue.MAX_ATTEMPTS` starts); the tickets handled."""
    handled = []
    for job in await app.job_manager.get_stalled_jobs(
        queue=q.QUEUE, seconds_since_heartbeat=stalled_after
    ):
        ticket = int(job.task_kwargs.get("ticket", -1))
        with q._connect(info) as conn:
            row = conn.execute(
                "SELECT attempt FROM training_jobs WHERE ticket = %s", (ticket,)
            ).fetchone()
        try:
            if row is not None and row["attempt"] >= q.MAX_ATTEMPTS:
                await app.job_manager.finish_job_by_id_async(
                    job.id, status=_failed(), delete_job=False
                )
                _finish(
                    info,
                    ticket,
                    "failed",
                    error=f"its worker died {q.MAX_ATTEMPTS} times (started on "
                    f"{q.MAX_ATTEMPTS} workers); not retried again",
                )
            else:
                await app.job_manager.retry_job(job)
                with q._connect(info) as conn:
                    conn.execute(
                        "UPDATE training_jobs SET state = 'queued', updated = now() "
                        "WHERE ticket = %s AND state = 'running'",
                        (ticket,),
                    )
        except Exception as exc:  # noqa: BLE001 - another worker handled it first
            log.info("stalled job %s: %s", job.id, exc)
            continue
        log.warning("job %s (ticket %s): its worker stopped; queued again", job.id, ticket)
        handled.append(ticket)
    return handled


def _failed():
    from procrastinate.jobs import Status

    return Status.FAILED


def run(
    url: str | None = None,
    shared: str | os.PathLike | None = None,
    *,
    name: str | None = None,
    heartbeat: float = 10.0,
    stalled_after: float = 30.0,
    poll: float = 2.0,
) -> None:
    """Run a worker until it is stopped (Ctrl-C / SIGTERM: it finishes its current job).

    Args:
        url: The class's PostgreSQL URL (default ``$KERAS_CNN_DATABASE_URL``).
        shared: The shared folder (default ``$KERAS_CNN_SHARED_DIR``).
        name: The worker's name on the learners' pages (default ``host-pid``).
        heartbeat: Seconds between heartbeats.
        stalled_after: A worker silent this long is dead and its job queued again.
        poll: Seconds between looks for new jobs when no notification comes.

    Raises:
        QueueError: For a missing URL or folder, or one that is not PostgreSQL.
    """
    url = url or os.environ.get(q.DATABASE_URL_ENV, "").strip()
    if not url:
        raise q.QueueError(
            f"A worker needs the class's database: set {q.DATABASE_URL_ENV} or pass "
            "--database-url postgresql://user@host/database. Received: nothing"
        )
    if not heartbeat > 0 or not stalled_after > heartbeat:
        raise q.QueueError(
            "--stalled-after must be longer than --heartbeat (both in seconds, > 0). "
            f"Received: heartbeat={heartbeat}, stalled_after={stalled_after}"
        )
    info = q.conninfo(url)
    if shared is not None:
        os.environ[q.SHARED_DIR_ENV] = str(shared)
    folder = q.shared_dir()
    Path(folder).mkdir(parents=True, exist_ok=True)
    q.create_schema(info)
    import keras_cnn.training.trainer  # noqa: F401 - TensorFlow loads now, not in the first job

    app = q.procrastinate_app(info, sync=False)
    name = name or worker_name()

    async def main() -> None:
        async with app.open_async():

            async def reap() -> None:
                while True:
                    await asyncio.sleep(max(heartbeat, 0.5))
                    try:
                        await requeue_stalled(app, info, stalled_after)
                    except Exception as exc:  # noqa: BLE001 - the database may be away
                        log.warning("looking for stalled jobs failed: %s", exc)

            reaper = asyncio.create_task(reap())
            try:
                await app.run_worker_async(
                    queues=[q.QUEUE],
                    name=name,
                    concurrency=1,
                    fetch_job_polling_interval=poll,
                    update_heartbeat_interval=heartbeat,
                    stalled_worker_timeout=stalled_after,
                    delete_jobs="never",
                )
            finally:
                reaper.cancel()

    print(f"keras-cnn worker {name}: waiting for jobs (shared folder {folder})", flush=True)
    asyncio.run(main())
