"""Background training jobs of the app, and the server-wide limit on how many run at once.

A :class:`Job` runs a target (``keras_cnn.train.train``, the degradation experiment) on its own
thread and records what a page shows: the phase (loading data, compiling the first batch,
training), the position, the rows of finished epochs, the result or the error. A page keeps its
job in ``st.session_state`` and redraws from it; the job itself never calls Streamlit.

Training keeps the CPU busy, so the server runs at most :data:`MAX_RUNS` jobs at once, for all
sessions together: :func:`start` refuses a further one with :class:`Busy`, whose message says
what is running, so the server stays responsive for everyone else.

Imports neither Streamlit nor TensorFlow (the observer is duck-typed like
``keras_cnn.train.TrainingObserver``).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_RUNS = 1
"""Training jobs that may run at once on this server (all sessions together)."""

#: What a job is doing before its first batch, in the words the page shows.
PHASES = {
    "loading": "Loading the data and building the model",
    "compiling": "Compiling the model and running the first batch (on a CPU this can take half "
    "a minute for a ResNet)",
    "training": "Training",
    "stopping": "Stopping after the current batch",
}

_lock = threading.Lock()
_running: list[Job] = []


class Busy(RuntimeError):
    """The server already runs :data:`MAX_RUNS` training jobs."""


@dataclass
class Job:
    """One background run and what the page shows of it.

    Attributes:
        kind: ``"train"`` or ``"degradation"`` (which view owns it).
        label: What runs, for messages (``"resnet20 on digits"``).
        epochs: Epochs per model, known before the run starts.
        settings: The settings it was started with.
        models: How many models the job trains one after the other.
        phase: A key of :data:`PHASES`.
        model: The model being trained now.
        models_started: Models started so far.
        epoch, batch, batches: 1-based position; ``batches`` is ``None`` while unknown.
        rows: One dict per finished epoch (the history rows, with ``model``).
        result, error: What the target returned, or the error's message.
    """

    kind: str
    label: str
    epochs: int
    settings: dict[str, Any] = field(default_factory=dict)
    models: int = 1
    phase: str = "loading"
    model: str = ""
    models_started: int = 0
    epoch: int = 0
    batch: int = 0
    batches: int | None = None
    rows: list[dict] = field(default_factory=list)
    result: Any = None
    error: str | None = None
    started: float = field(default_factory=time.monotonic)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    # -- the observer interface of keras_cnn.train.train ----------------------------------------

    def on_train_begin(self, info: dict[str, Any]) -> None:
        self.model = info["model"]
        self.epochs = info["epochs"]
        self.batches = info.get("steps")
        self.epoch, self.batch = info.get("initial_epoch", 0) + 1, 0
        self.models_started += 1
        if not self.stop.is_set():
            self.phase = "compiling"

    def on_batch(self, epoch: int, batch: int, total_batches: int | None, logs: dict) -> None:
        self.epoch, self.batch = epoch, batch
        self.batches = total_batches or self.batches
        if not self.stop.is_set():
            self.phase = "training"

    def on_epoch(self, row: dict[str, Any]) -> None:
        self.rows.append({"model": self.model, **row})

    def on_train_end(self, history: Any) -> None:
        pass

    # -- for the page -----------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        """True while the job's thread runs."""
        return self.thread is not None and self.thread.is_alive()

    def request_stop(self) -> None:
        """Ask the run to stop after the current batch (it keeps the finished epochs)."""
        self.stop.set()
        if self.alive:
            self.phase = "stopping"

    def status(self) -> str:
        """One line for the progress bar: never a raw ``None``."""
        which = f"{self.model or self.label}"
        if self.models > 1:
            which = f"model {max(self.models_started, 1)} of {self.models} ({which})"
        if self.phase in ("loading", "compiling", "stopping") or not self.epoch:
            return f"{which}: {PHASES[self.phase]}…"
        batch = f"batch {self.batch}" + (f" of {self.batches}" if self.batches else "")
        return f"{which}: epoch {self.epoch} of {self.epochs}, {batch}"

    def fraction(self) -> float:
        """Done so far, between 0 and 1."""
        if not self.epoch or not self.epochs:
            return 0.0
        within = self.batch / self.batches if self.batches else 0.0
        per_model = ((self.epoch - 1) + within) / self.epochs
        done = (max(self.models_started, 1) - 1 + per_model) / max(self.models, 1)
        return min(max(done, 0.0), 1.0)


def running() -> list[Job]:
    """The jobs running on this server now (all sessions)."""
    with _lock:
        _running[:] = [job for job in _running if job.alive]
        return list(_running)


def start(
    kind: str,
    target: Callable[[Job], Any],
    *,
    label: str,
    epochs: int,
    models: int = 1,
    **settings: Any,
) -> Job:
    """Start ``target(job)`` on a background thread, unless the server is busy.

    Args:
        kind: Which view owns the job (``"train"``, ``"degradation"``).
        target: Runs the work; gets the job (its observer and stop event). Its return value
            becomes ``job.result``; an exception becomes ``job.error``.
        label: What runs, for messages.
        epochs: Epochs per model.
        models: Models trained one after the other.
        **settings: Recorded on the job.

    Returns:
        The started job.

    Raises:
        Busy: If :data:`MAX_RUNS` jobs run already; the message names them.
    """
    with _lock:
        _running[:] = [job for job in _running if job.alive]
        if len(_running) >= MAX_RUNS:
            names = ", ".join(
                f"{j.label} (for {time.monotonic() - j.started:.0f} s)" for j in _running
            )
            raise Busy(
                f"The server is already training {names}; it runs {MAX_RUNS} training at a "
                "time so that every page stays responsive. Start again when it has finished."
            )
        job = Job(kind=kind, label=label, epochs=epochs, models=models, settings=settings)

        def run() -> None:
            try:
                job.result = target(job)
            except Exception as error:  # shown on the page
                job.error = f"{type(error).__name__}: {error}"
            finally:
                gc.collect()  # the model and its datasets go now, not at some later collection

        job.thread = threading.Thread(target=run, name=f"keras-cnn-{kind}", daemon=True)
        job.thread.start()
        _running.append(job)
    return job
