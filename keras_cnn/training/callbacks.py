"""The callbacks :func:`keras_cnn.train.train` hands to ``model.fit``, and its observers.

* :class:`HistoryCallback` builds one row per epoch (:data:`COLUMNS`). ``seconds`` is the whole
  epoch (training and testing); ``images_per_second`` the training images over the
  training part only, measured after the device has finished (asynchronous backends such
  as JAX return before the work is done).
* :class:`LiveCallback` feeds per-batch progress to :class:`TrainingObserver` objects and honours
  a ``threading.Event`` (``stop=``) at the next batch; it is installed only when needed.
* **Stop** ends the run within one batch: the epoch in progress stops after its current
  batch and measures one test batch only (Keras' ``stop_evaluating``), and its row is
  marked ``partial``: its loss and accuracy are over the batches it trained, its
  ``test_*`` and ``images_per_second`` are NaN (neither is an epoch's figure). A stop
  between two epochs ends the run after the finished one, which is not partial.
* :class:`ScheduleCallback` sets each epoch's learning rate (:mod:`keras_cnn.training.schedules`),
  and during the warm-up each step's: only then does it touch the model per batch (under JAX
  that reattaches the training state to the variables for one step).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from keras_cnn.training.schedules import learning_rate_at, warmup_factor

COLUMNS = [
    "epoch",
    "loss",
    "accuracy",
    "test_loss",
    "test_accuracy",
    "learning_rate",
    "seconds",
    "images_per_second",
    "partial",
]


class TrainingObserver:
    """Receives live progress from :func:`train`; override what you need.

    The app draws its progress bar from ``on_batch`` and its curves from ``on_epoch``.
    Methods are called on the training thread.
    """

    def on_train_begin(self, info: dict[str, Any]) -> None:
        """Training starts: ``info`` has model, epochs, initial_epoch, steps, device."""

    def on_batch(self, epoch: int, batch: int, total_batches: int | None, logs: dict) -> None:
        """A batch ended: 1-based ``epoch`` and ``batch``, running ``loss``/``accuracy``."""

    def on_epoch(self, row: dict[str, Any]) -> None:
        """An epoch ended: one row of the history (see :data:`COLUMNS`)."""

    def on_train_end(self, history: pd.DataFrame) -> None:
        """Training ended (finished or stopped) with this history."""


def wait_for_device(model: keras.Model) -> None:
    """Block until the model's queued training steps have run.

    JAX (and TensorFlow or PyTorch on a GPU) return from a step before the device has done
    it; reading the optimizer's step counter back to the host waits for the last one.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        keras.ops.convert_to_numpy(optimizer.iterations)


class HistoryCallback(keras.callbacks.Callback):
    """Builds the per-epoch rows, measures time and images/s, and feeds the observers."""

    def __init__(
        self,
        rows: list[dict],
        observers: Sequence[TrainingObserver],
        stop: threading.Event | None,
        batch_size: int,
        images_per_epoch: int | None,
        on_row: Sequence[Callable[[list[dict], bool], None]] = (),
    ):
        super().__init__()
        self.rows = rows
        self.observers = list(observers)
        self.stop = stop
        self.batch_size = batch_size
        self.images_per_epoch = images_per_epoch
        self.on_row = list(on_row)
        self.stopped = False

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()
        self.train_end = None
        self.batches = None  # set by LiveCallback when it runs; else the whole epoch ran
        self.partial = False  # set by LiveCallback when a stop ends the epoch early

    def _finished(self) -> float:
        """The time once the device has finished the epoch's training steps."""
        wait_for_device(self.model)
        return time.perf_counter()

    def on_test_begin(self, logs=None):
        if self.train_end is None:
            self.train_end = self._finished()
        if self.partial:  # Keras then measures one test batch and stops
            self.model.stop_evaluating = True

    @property
    def _current(self) -> int:
        return len(self.rows)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.train_end is None:
            self.train_end = self._finished()
        end = time.perf_counter()
        train_seconds = self.train_end - self.start
        steps = self.params.get("steps")
        batches = self.batches if self.batches is not None else steps
        images = (batches or 0) * self.batch_size
        if self.images_per_epoch and (self.batches is None or self.batches == steps):
            images = self.images_per_epoch
        elif self.images_per_epoch:
            images = min(images, self.images_per_epoch)
        lr = self.model.optimizer.learning_rate
        row = {
            "epoch": epoch + 1,
            "loss": logs.get("loss", np.nan),
            "accuracy": logs.get("accuracy", logs.get("compile_metrics", np.nan)),
            "test_loss": logs.get("val_loss", np.nan),
            "test_accuracy": logs.get("val_accuracy", np.nan),
            "learning_rate": float(keras.ops.convert_to_numpy(lr)),
            "seconds": end - self.start,
            "images_per_second": images / train_seconds if train_seconds > 0 else np.nan,
        }
        if self.partial:  # not an epoch's figures (one test batch; a few training batches)
            row.update(test_loss=np.nan, test_accuracy=np.nan, images_per_second=np.nan)
        row = {k: (float(v) if k != "epoch" else int(v)) for k, v in row.items()}
        row["partial"] = self.partial
        self.rows.append(row)
        for callback in self.on_row:
            callback(self.rows, self.stopped)
        for observer in self.observers:
            observer.on_epoch(dict(row))
        if self.stop is not None and self.stop.is_set() and not self.stopped:
            self.stopped = True  # asked for after the last batch: this epoch is whole
            self.model.stop_training = True


class LiveCallback(keras.callbacks.Callback):
    """Per-batch hooks: observers and the stop request. Installed only when needed, since
    any batch hook makes Keras convert the logs to Python numbers after every step."""

    def __init__(self, history: HistoryCallback):
        super().__init__()
        self.history = history

    def on_train_batch_end(self, batch, logs=None):
        history = self.history
        history.batches = batch + 1
        for observer in history.observers:
            observer.on_batch(
                history._current + 1, batch + 1, self.params.get("steps"), dict(logs or {})
            )
        if history.stop is not None and history.stop.is_set():
            steps = self.params.get("steps")
            history.stopped = True
            history.partial = steps is None or batch + 1 < steps
            self.model.stop_training = True


class ScheduleCallback(keras.callbacks.Callback):
    """Each epoch's learning rate, and each step's during the first ``warmup_steps``.

    Args:
        schedule: str. A name of :data:`~keras_cnn.training.schedules.SCHEDULES`.
        base: float. The initial learning rate.
        epochs: int. The run's epochs.
        warmup_steps: int. Steps of linear warm-up from the run's first step (0: none).
        steps: int or None. Steps per epoch (needed for a warm-up).
    """

    def __init__(self, schedule: str, base: float, epochs: int, warmup_steps: int = 0, steps=None):
        super().__init__()
        self.schedule, self.base, self.epochs = schedule, base, epochs
        self.warmup_steps, self.steps = (warmup_steps, steps) if steps else (0, None)
        self.epoch, self.rate = 0, base

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.rate = learning_rate_at(self.schedule, self.base, epoch, self.epochs)
        self.model.optimizer.learning_rate = self.rate * self._factor(self._step(0))

    def _step(self, batch: int) -> int:
        """The 0-based step of the run that ``batch`` of the current epoch is."""
        return self.epoch * (self.steps or 0) + batch

    def _factor(self, step: int) -> float:
        return warmup_factor(step, self.warmup_steps) if self.warmup_steps else 1.0

    def on_train_batch_begin(self, batch, logs=None):
        step = self._step(batch)
        if self.warmup_steps and 0 < step <= self.warmup_steps:  # the last one restores
            self.model.optimizer.learning_rate = self.rate * self._factor(step)
