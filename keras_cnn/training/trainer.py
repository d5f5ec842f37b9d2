"""Train a model with ``model.fit``: schedules, live progress, stop, checkpoints, devices.

``train("resnet20")`` trains the CIFAR ResNet-20 on the embedded digits and returns one row
per epoch. The loop is Keras' own (``model.fit`` and callbacks); this module only chooses
the settings, wires the callbacks and keeps the records:

* **Optimizer** -- SGD with momentum 0.9 and weight decay 1e-4 by default (He et al. 2015).
  Weight decay is the optimizer's ``weight_decay`` argument: decoupled decay
  ``w -= lr * weight_decay * w`` each step, applied to every weight (the paper's L2 term of
  1e-4 gives the same step for plain SGD; with momentum they differ slightly).
* **Schedules** -- per epoch: ``"paper"`` divides the rate by 10 at 50% and 75% of the
  epochs (He et al.: at 32k and 48k of 64k iterations), ``"cosine"`` anneals to 0,
  ``"constant"`` keeps it. ``"auto"`` (the default) is ``"paper"`` for runs of at least
  :data:`PAPER_MIN_EPOCHS` epochs and ``"constant"`` for shorter ones: a 2-epoch run that
  divides the rate after its first epoch learns far less (an explicit ``"paper"`` on so
  short a run is kept, with a warning).
* **Data** -- TFDS datasets go through ``tf.data`` (:func:`keras_cnn.data.load`). The
  embedded digits and ``(images, labels)`` arrays do too under the TensorFlow backend; under
  JAX or PyTorch they go through :class:`keras_cnn.data.ArrayBatches` (numpy, the same
  shuffling, mean subtraction and augmentation), so TensorFlow need not be installed.
* **Devices** -- on a GPU mixed precision (``mixed_float16``) and XLA are on by default; on
  a CPU float32 without XLA (XLA halves ResNet-20's training speed on a 2-core CPU:
  57 vs 119 images/s measured). ``strategy=`` takes any ``tf.distribute`` strategy
  (TensorFlow backend: ``MirroredStrategy`` on one machine, ``MultiWorkerMirroredStrategy``
  across processes and machines) or ``keras.distribution`` distribution (JAX backend).
  Under a multi-worker strategy only the chief writes checkpoints and the stored run.
* **Timing** -- ``seconds`` is the whole epoch (training and testing); ``images_per_second``
  the training images over the training part only, measured after the device has finished
  (asynchronous backends such as JAX return before the work is done).
* **Progress** -- Keras' progress bar in a terminal; a :class:`TrainingObserver` for live
  displays; a ``threading.Event`` (``stop=``) honoured at the next batch.
* **Checkpoints** -- with ``checkpoint_dir``, after every epoch ``ckpt-<epoch>.keras`` (model
  and optimizer), then ``meta.json`` (the history, the settings and a fingerprint of the
  model) and ``history.csv``, each written to a temporary file and renamed. A rerun resumes
  after the last saved epoch; another model, other settings or a corrupt file raise
  :class:`CheckpointError`, which names what is wrong and how to start over.
* **Runs** -- with ``record=True`` (the default) each run is kept under
  ``$KERAS_CNN_HOME/runs`` (see :mod:`keras_cnn.runs`), with its trained model
  (``model.keras``, when the run finished or was stopped): ``keras_cnn.runs.load_model(id)``.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import math
import os
import tempfile
import threading
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from keras_cnn.training import data as data_lib
from keras_cnn.training import runs as runs_lib

COLUMNS = [
    "epoch",
    "loss",
    "accuracy",
    "test_loss",
    "test_accuracy",
    "learning_rate",
    "seconds",
    "images_per_second",
]


#: Names of earlier versions' columns (``val_*`` were always the test split).
RENAMED = {"val_loss": "test_loss", "val_accuracy": "test_accuracy"}
#: Below this many epochs the ``"auto"`` schedule keeps the rate constant.
PAPER_MIN_EPOCHS = 5


class CheckpointError(ValueError):
    """A checkpoint directory holds another run, other settings, or an unreadable file.

    ``str(error)`` advises Python users (``resume=False``, ``checkpoint_dir``); ``cli`` holds
    the same message for the command line (``--no-resume``, ``--checkpoint-dir``).
    """

    def __init__(self, text: str):
        api = text.replace("{resume}", "resume=False").replace("{dir}", "checkpoint_dir")
        super().__init__(api)
        self.cli = text.replace("{resume}", "--no-resume").replace("{dir}", "--checkpoint-dir")


def _paper(base: float, epoch: int, epochs: int) -> float:
    return base * (0.1 ** ((epoch >= 0.5 * epochs) + (epoch >= 0.75 * epochs)))


def _cosine(base: float, epoch: int, epochs: int) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * epoch / max(epochs, 1)))


def _auto(base: float, epoch: int, epochs: int) -> float:
    return _paper(base, epoch, epochs) if epochs >= PAPER_MIN_EPOCHS else base


#: name -> learning rate of a 0-based epoch: f(base, epoch, epochs).
SCHEDULES: dict[str, Callable[[float, int, int], float]] = {
    "auto": _auto,
    "paper": _paper,
    "cosine": _cosine,
    "constant": lambda base, epoch, epochs: base,
}

#: name -> optimizer(learning_rate, momentum, weight_decay).
OPTIMIZERS: dict[str, Callable[[float, float, float], keras.optimizers.Optimizer]] = {
    "sgd": lambda lr, m, wd: keras.optimizers.SGD(lr, momentum=m, weight_decay=wd or None),
    "adam": lambda lr, m, wd: keras.optimizers.Adam(lr, weight_decay=wd or None),
    "adamw": lambda lr, m, wd: keras.optimizers.AdamW(lr, weight_decay=wd),
    "rmsprop": lambda lr, m, wd: keras.optimizers.RMSprop(lr, momentum=m, weight_decay=wd or None),
}

#: "auto" / True / False -> whether a setting is on, given whether a GPU is in use.
_SWITCH = {"auto": None, True: True, False: False, "on": True, "off": False}


def learning_rate_at(schedule: str, base: float, epoch: int, epochs: int) -> float:
    """The learning rate of a 0-based ``epoch`` under a schedule.

    Args:
        schedule: str. ``"auto"``, ``"paper"``, ``"cosine"`` or ``"constant"``.
        base: float. The initial learning rate.
        epoch: int. 0-based epoch.
        epochs: int. Total epochs of the run.

    Returns:
        float.

    Raises:
        ValueError: for an unknown schedule.

    Example:
        >>> [learning_rate_at("paper", 0.1, e, 4) for e in range(4)]
        [0.1, 0.1, 0.010000000000000002, 0.0010000000000000002]
        >>> [learning_rate_at("auto", 0.1, e, 4) for e in range(4)]
        [0.1, 0.1, 0.1, 0.1]
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {list(SCHEDULES)}. Received: {schedule=}")
    return float(SCHEDULES[schedule](base, epoch, epochs))


def device_info() -> dict[str, Any]:
    """The backend and the accelerators training would use.

    Returns:
        ``{"backend", "device" ("GPU" or "CPU"), "gpus" (count), "names", "cpus"}``.
    """
    backend = keras.backend.backend()
    names: list[str] = []
    if backend == "tensorflow":
        import tensorflow as tf

        names = [d.name for d in tf.config.list_physical_devices("GPU")]
    elif backend == "jax":
        import jax

        names = [str(d) for d in jax.devices() if d.platform == "gpu"]
    elif backend == "torch":
        import torch

        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return {
        "backend": backend,
        "device": "GPU" if names else "CPU",
        "gpus": len(names),
        "names": names,
        "cpus": os.cpu_count(),
    }


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


def _wait_for_device(model: keras.Model) -> None:
    """Block until the model's queued training steps have run.

    JAX (and TensorFlow or PyTorch on a GPU) return from a step before the device has done
    it; reading the optimizer's step counter back to the host waits for the last one.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        keras.ops.convert_to_numpy(optimizer.iterations)


class _History(keras.callbacks.Callback):
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
        self.batches = None  # set by _Live when it runs; else the whole epoch ran

    def _finished(self) -> float:
        """The time once the device has finished the epoch's training steps."""
        _wait_for_device(self.model)
        return time.perf_counter()

    def on_test_begin(self, logs=None):
        if self.train_end is None:
            self.train_end = self._finished()

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
        row = {k: (float(v) if k != "epoch" else int(v)) for k, v in row.items()}
        self.rows.append(row)
        for callback in self.on_row:
            callback(self.rows, self.stopped)
        for observer in self.observers:
            observer.on_epoch(dict(row))


class _Live(keras.callbacks.Callback):
    """Per-batch hooks: observers and the stop request. Installed only when needed, since
    any batch hook makes Keras convert the logs to Python numbers after every step."""

    def __init__(self, history: _History):
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
            history.stopped = True
            self.model.stop_training = True


class _Schedule(keras.callbacks.Callback):
    def __init__(self, schedule: str, base: float, epochs: int):
        super().__init__()
        self.schedule, self.base, self.epochs = schedule, base, epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.model.optimizer.learning_rate = learning_rate_at(
            self.schedule, self.base, epoch, self.epochs
        )


def model_fingerprint(model: keras.Model) -> str:
    """A short hash of a model's structure: layer types, output shapes and parameter counts.

    Layer and model names are left out, so the same architecture built twice matches.

    Args:
        model: a built ``keras.Model``.

    Returns:
        16 hex digits.
    """
    parts = [(type(layer).__name__, layer.count_params()) for layer in model.layers]
    shapes = [str(tuple(model.input_shape)), str(tuple(model.output_shape))]
    text = json.dumps([parts, shapes])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _Checkpoint:
    """The files of one checkpoint directory (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self.meta = self.dir / "meta.json"

    def read(self, fingerprint: str, settings: dict) -> dict | None:
        if not self.meta.exists():
            return None
        try:
            meta = json.loads(self.meta.read_text(encoding="utf-8"))
            epoch, history, path = int(meta["epoch"]), meta["history"], meta["checkpoint"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CheckpointError(
                f"The checkpoint in {self.dir} is unreadable ({self.meta.name}: {error}). "
                "Delete the directory, choose another {dir}, or pass {resume} to start over."
            ) from error
        if meta.get("fingerprint") != fingerprint:
            raise CheckpointError(
                f"The checkpoint in {self.dir} belongs to another model "
                f"({meta.get('model')!r}, fingerprint {meta.get('fingerprint')}; this model: "
                f"{fingerprint}). Choose another {{dir}}, or pass {{resume}} to overwrite it."
            )
        stored = meta.get("settings", {})
        changed = {k: (stored.get(k), v) for k, v in settings.items() if stored.get(k) != v}
        if changed:
            detail = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise CheckpointError(
                f"The checkpoint in {self.dir} was made with other settings ({detail}). "
                "Use the same settings to resume, another {dir}, or pass {resume} to overwrite it."
            )
        model_path = self.dir / path
        if not model_path.is_file():
            raise CheckpointError(
                f"The checkpoint in {self.dir} names {path}, which is missing. Delete the "
                "directory or pass {resume} to start over."
            )
        history = [{RENAMED.get(k, k): v for k, v in row.items()} for row in history]
        return {"epoch": epoch, "history": history, "model_path": model_path}

    def load_into(self, model: keras.Model, model_path: Path) -> None:
        """Copy the weights and optimizer state of a saved model into ``model``."""
        if not zipfile.is_zipfile(model_path):
            size = model_path.stat().st_size
            raise CheckpointError(
                f"The checkpoint file {model_path} exists but is not a .keras archive "
                f"({size:,} bytes, not a zip file: truncated or overwritten). Delete "
                f"{self.dir}, or pass {{resume}} to start over."
            )
        try:
            saved = keras.models.load_model(model_path, compile=True)
        except Exception as error:
            raise CheckpointError(
                f"The checkpoint file {model_path} is a .keras archive that cannot be loaded "
                f"({type(error).__name__}: {error}). Delete {self.dir}, or pass {{resume}} to "
                "start over."
            ) from error
        model.set_weights(saved.get_weights())
        model.optimizer.build(model.trainable_variables)
        theirs = saved.optimizer.variables if saved.optimizer is not None else []
        ours = model.optimizer.variables
        if len(theirs) != len(ours) or any(
            tuple(a.shape) != tuple(b.shape) for a, b in zip(ours, theirs, strict=False)
        ):
            raise CheckpointError(
                f"The optimizer state in {model_path} does not match this run's optimizer. "
                "Use the same optimizer to resume, or pass {resume} to start over."
            )
        for ours_var, theirs_var in zip(ours, theirs, strict=True):
            ours_var.assign(theirs_var.value)

    @staticmethod
    def take_part(model: keras.Model) -> None:
        """A non-chief's share of the chief's save across JAX processes (then discarded).

        Reading weights spread over several JAX processes is a collective operation: every
        process must do it, or the chief waits for ever. Only the chief keeps the file.
        """
        with tempfile.TemporaryDirectory(prefix="keras-cnn-") as scratch:
            model.save(Path(scratch) / "discarded.keras")

    def save(self, model: keras.Model, rows: list[dict], meta: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        epoch = len(rows)
        name = f"ckpt-{epoch:04d}.keras"
        tmp = self.dir / f".tmp-{name}"
        model.save(tmp)
        os.replace(tmp, self.dir / name)
        full = {**meta, "epoch": epoch, "checkpoint": name, "history": rows}
        runs_lib.atomic_write_text(self.meta, json.dumps(full, indent=1))
        runs_lib.atomic_write_text(
            self.dir / "history.csv", pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False)
        )
        for old in self.dir.glob("ckpt-*.keras"):
            if old.name != name:
                old.unlink(missing_ok=True)


def _softmax_output(model: keras.Model) -> bool:
    activation = getattr(model.layers[-1], "activation", None)
    return getattr(activation, "__name__", "") == "softmax"


def build_model(
    name: str, data: str = "digits", *, mixed_precision: bool = False, **kwargs
) -> keras.Model:
    """Build a model by name for a dataset: its classes, and its channels for small models.

    The small variants (:data:`keras_cnn.small.SMALL_MODELS`: ``lenet5``, ``vgg_small``, and
    any CIFAR ``resnet{6n+2}``/``plain{6n+2}``) are built for 32x32 images with the data's
    channels; any other registry name with its default input (the data is resized).

    Args:
        name: str. A small-model or registry name.
        data: str. A dataset name (see :data:`keras_cnn.data.DATASETS`).
        mixed_precision: bool. Build under the ``mixed_float16`` policy.
        **kwargs: passed to the builder.

    Returns:
        A ``keras.Model``.
    """
    from keras_cnn.models.registry import get_model
    from keras_cnn.models.small import build_small, is_small

    spec = data_lib.spec(data) if isinstance(data, str) else None
    classes = kwargs.pop("classes", spec.classes if spec else 10)
    previous = keras.config.dtype_policy()
    if mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    try:
        if is_small(name):
            channels = spec.shape[-1] if spec else 3
            shape = kwargs.pop("input_shape", (32, 32, channels))
            return build_small(name, input_shape=shape, classes=classes, **kwargs)
        return get_model(name, classes=classes, **kwargs)
    finally:
        keras.config.set_dtype_policy(previous)


def _is_tf_dataset(value) -> bool:
    """Whether ``value`` is a ``tf.data.Dataset`` (without importing TensorFlow)."""
    return type(value).__module__.startswith("tensorflow") and hasattr(value, "element_spec")


def _pair(value, what: str) -> tuple[np.ndarray, np.ndarray]:
    """An ``(images, labels)`` tuple as arrays, checked."""
    if len(value) != 2:
        raise ValueError(
            f"`{what}` as a tuple must be (images, labels). Received: a tuple of {len(value)}"
        )
    x, y = np.asarray(value[0]), np.asarray(value[1])
    if x.ndim not in (3, 4) or y.ndim != 1 or len(x) != len(y) or not len(x):
        raise ValueError(
            f"`{what}` must be (images (N, H, W[, C]), labels (N,)) with N >= 1. "
            f"Received: images {x.shape}, labels {y.shape}"
        )
    if x.ndim == 3:
        x = x[..., None]
    return x.astype("float32"), y.astype("int32")


def _datasets(
    data, validation, *, batch_size, augment, input_shape, seed, limit, data_dir, shard=(0, 1)
):
    """(training data, test data or None, images per epoch, data label) for ``model.fit``.

    TFDS datasets use ``tf.data``; in-memory data (the embedded digits, arrays) uses it under
    the TensorFlow backend and :class:`keras_cnn.data.ArrayBatches` under the others.
    """
    tf_data = keras.backend.backend() == "tensorflow"
    if isinstance(data, str):
        info = data_lib.spec(data)
        if info.source == "tfds" or tf_data:
            common = dict(batch_size=batch_size, data_dir=data_dir, input_shape=input_shape)
            train_ds = data_lib.load(
                data, "train", augment=augment, seed=seed, limit=limit, **common
            )
            count = data_lib.num_examples(data, "train", data_dir=data_dir)
            count = min(count, limit) if count and limit else (count or limit)
            val_ds = None
            if isinstance(validation, str):
                val_ds = data_lib.load(data, validation, limit=limit, shuffle=False, **common)
            return train_ds, val_ds, count, data
        x, y = data_lib.arrays(data, "train", input_shape=input_shape, limit=limit)
        train_ds = data_lib.ArrayBatches(
            x, y, batch_size, augment=augment, flip=info.flip, seed=seed, shard=shard
        )
        val_ds = None
        if isinstance(validation, str):
            x_val, y_val = data_lib.arrays(data, validation, input_shape=input_shape, limit=limit)
            val_ds = data_lib.ArrayBatches(x_val, y_val, batch_size, shuffle=False, shard=shard)
        return train_ds, val_ds, len(train_ds) * batch_size if shard[1] > 1 else len(x), data
    if isinstance(data, tuple):
        x, y = _pair(data, "data")
        x, y = data_lib.adapt_arrays(x[:limit], input_shape), y[:limit]
        if not tf_data:
            train_ds = data_lib.ArrayBatches(
                x, y, batch_size, augment=augment, seed=seed, shard=shard
            )
            return train_ds, None, len(train_ds) * batch_size if shard[1] > 1 else len(x), "arrays"
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((x, y)).cache()
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        if augment:
            ds = ds.map(lambda a, b: (data_lib.augment_image(a, flip=False), b))
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE), None, len(x), "arrays"
    if _is_tf_dataset(data):
        return data, None, None, "dataset"
    raise ValueError(
        "`data` must be a dataset name, an (images, labels) tuple or a batched "
        f"tf.data.Dataset. Received: data={type(data).__name__}"
    )


def _validation(validation, *, batch_size, input_shape, shard=(0, 1)):
    """A test dataset from arrays / a dataset, or None (names are handled earlier)."""
    if validation is None or isinstance(validation, str) or _is_tf_dataset(validation):
        return validation if _is_tf_dataset(validation) else None
    x, y = _pair(validation, "validation")
    x = data_lib.adapt_arrays(x, input_shape)
    if keras.backend.backend() != "tensorflow":
        return data_lib.ArrayBatches(x, y, batch_size, shuffle=False, shard=shard)
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _switch(value, what: str) -> bool | None:
    if value not in _SWITCH or isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"`{what}` must be 'auto', True or False. Received: {what}={value!r}")
    return _SWITCH[value]


def _check_strategy(strategy) -> None:
    if strategy is None:
        return
    if keras.backend.backend() != "tensorflow" and type(strategy).__module__.startswith(
        "tensorflow"
    ):
        raise ValueError(
            "A tf.distribute strategy needs the TensorFlow backend; under "
            f"{keras.backend.backend()!r} pass a keras.distribution distribution (e.g. "
            f"keras.distribution.DataParallel()). Received: strategy={strategy!r}"
        )
    if not hasattr(strategy, "scope"):
        raise ValueError(
            "`strategy` must be a tf.distribute.Strategy or a keras.distribution "
            f"Distribution. Received: strategy={strategy!r}"
        )


def _multi_worker(strategy) -> bool:
    """Whether ``strategy`` is a ``tf.distribute`` strategy over several worker processes."""
    extended = getattr(strategy, "extended", None)
    return bool(getattr(extended, "_in_multi_worker_mode", lambda: False)())


def _build_from_a_local_batch(model: keras.Model, dataset) -> None:
    """Work around Keras 3's ``fit`` under ``MultiWorkerMirroredStrategy``.

    Before its first step Keras builds the metrics from one batch, which it first averages
    across the workers with ``strategy.reduce`` -- and that fails on a distributed batch
    ("Attempt to convert a value (PerReplica ...) to a Tensor", keras-team/keras#20585,
    open in Keras 3.15). Only the batch's shapes and dtypes matter for that build, so this
    gives it one batch of this worker's own (undistributed) dataset instead.
    """
    original = getattr(model, "_maybe_symbolic_build", None)
    if original is None:  # another Keras: nothing to work around
        return
    batch = next(iter(dataset))

    def build(iterator=None, data_batch=None):
        return original(data_batch=batch)

    object.__setattr__(model, "_maybe_symbolic_build", build)


def _reduce_scalars_across_workers() -> None:
    """Work around Keras 3's reporting under ``MultiWorkerMirroredStrategy``.

    After each step Keras averages the step's logs (loss, metrics: scalars) across workers
    with ``strategy.reduce("MEAN", value, axis=0)``, which fails on a scalar ("Invalid
    reduction dimension 0 for input with 0 dimensions"). This replaces that one reduction
    with ``axis=None`` (the mean over all replicas of every worker) in multi-worker mode,
    and leaves every other case to Keras. Training itself (the all-reduced gradients) is
    Keras' own.
    """
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original = tf_trainer.reduce_per_replica
    if getattr(original, "keras_cnn_patched", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(
            strategy
        ):
            return keras.tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original(values, strategy, reduction)

    reduce_per_replica.keras_cnn_patched = True
    tf_trainer.reduce_per_replica = reduce_per_replica


def _process_shard(strategy, seed) -> tuple[int, int]:
    """``(process index, process count)`` under a ``keras.distribution`` across processes.

    Each process then feeds its own part of every global batch (in-memory data), so Keras'
    own sharding, which needs ``tf.data``, is turned off.
    """
    if strategy is None or keras.backend.backend() != "jax":
        return (0, 1)
    import jax

    if jax.process_count() == 1:
        return (0, 1)
    if seed is None:
        raise ValueError(
            "Training across processes needs `seed=` so that every process shuffles its data "
            "alike and feeds its part of the same global batches. Received: seed=None"
        )
    strategy.auto_shard_dataset = False
    return (jax.process_index(), jax.process_count())


def _is_chief(strategy) -> bool:
    """Whether this process writes checkpoints and runs (always, without a strategy)."""
    extended = getattr(strategy, "extended", None)
    if extended is not None and hasattr(extended, "should_checkpoint"):
        return bool(extended.should_checkpoint)  # tf.distribute: the chief worker
    if strategy is not None and keras.backend.backend() == "jax":
        import jax

        return jax.process_index() == 0
    return True


#: numeric argument -> (test, what valid values are). Shared with the command line.
NUMBERS: dict[str, tuple[Callable[[float], bool], str]] = {
    "learning_rate": (lambda v: v > 0, "a finite number > 0, e.g. 0.1"),
    "momentum": (lambda v: 0 <= v < 1, "a finite number in [0, 1), e.g. 0.9"),
    "weight_decay": (lambda v: v >= 0, "a finite number >= 0, e.g. 1e-4 (0 for none)"),
    "bn_momentum": (lambda v: 0 <= v < 1, "a finite number in [0, 1), e.g. 0.9, or None"),
}
#: integer argument -> smallest valid value. Shared with the command line.
INTEGERS = {"epochs": 1, "batch_size": 1, "limit": 1}


def check_number(name: str, value):
    """``value`` if it is valid for the numeric argument ``name`` (see :data:`NUMBERS`).

    Raises:
        ValueError: naming the valid values.
    """
    test, valid = NUMBERS[name]
    number = isinstance(value, int | float | np.integer | np.floating)
    if isinstance(value, bool) or not number or not math.isfinite(value) or not test(value):
        raise ValueError(f"`{name}` must be {valid}. Received: {name}={value!r}")
    return value


def check_integer(name: str, value):
    """``value`` if it is a valid integer for ``name`` (see :data:`INTEGERS`).

    Raises:
        ValueError: naming the valid values.
    """
    low = INTEGERS[name]
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise ValueError(f"`{name}` must be an int >= {low}. Received: {name}={value!r}")
    return int(value)


def check_checkpoint_dir(directory) -> Path:
    """A usable checkpoint directory: created if missing, and writable.

    Raises:
        ValueError: for a path that is a file, under a file, or not writable.
    """
    path = Path(directory).expanduser()
    received = f"Received: checkpoint_dir={os.fspath(directory)!r}"
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"`checkpoint_dir` must be a directory (it is created if missing), but {path} is "
            f"a file. Choose another path. {received}"
        )
    parent = path
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(
            f"`checkpoint_dir` cannot be created: {parent} is a file, not a directory. {received}"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(
            f"`checkpoint_dir` {path} is not a writable directory ({error.strerror or error}). "
            f"Choose a directory you can write to. {received}"
        ) from error
    return path


def _training_size(data, limit, data_dir) -> int | None:
    """How many training images an epoch has, when that is known before loading."""
    if isinstance(data, str):
        count = data_lib.num_examples(data, "train", data_dir=data_dir)
    elif isinstance(data, tuple):
        count = len(_pair(data, "data")[0])
    else:
        return None
    return min(count, limit) if count and limit else count


def _check_arguments(args: dict) -> None:
    """Every argument of :func:`train`, before any work (see its ``Raises``)."""
    model = args["model_or_name"]
    if not isinstance(model, keras.Model | str):
        raise ValueError(
            "`model_or_name` must be a keras.Model or a model name. "
            f"Received: {type(model).__name__}"
        )
    if isinstance(model, str):
        _check_model_name(model)
    for name in ("epochs", "batch_size"):
        check_integer(name, args[name])
    if args["limit"] is not None:
        check_integer("limit", args["limit"])
    for name in ("learning_rate", "momentum", "weight_decay"):
        check_number(name, args[name])
    if args["bn_momentum"] is not None:
        check_number("bn_momentum", args["bn_momentum"])
    learning_rate_at(args["schedule"], 0.1, 0, 1)  # a known schedule
    optimizer = args["optimizer"]
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise ValueError(f"`optimizer` must be one of {list(OPTIMIZERS)}. Received: {optimizer=}")
    if not isinstance(optimizer, str | keras.optimizers.Optimizer):
        raise ValueError(
            f"`optimizer` must be one of {list(OPTIMIZERS)} or a keras optimizer. "
            f"Received: optimizer={optimizer!r}"
        )
    data, validation = args["data"], args["validation"]
    if isinstance(data, str):
        data_lib.spec(data)
    elif not isinstance(data, tuple) and not _is_tf_dataset(data):
        raise ValueError(
            "`data` must be a dataset name, an (images, labels) tuple or a batched "
            f"tf.data.Dataset. Received: data={type(data).__name__}"
        )
    if isinstance(validation, str):
        data_lib._check_split(validation)
    elif isinstance(validation, tuple):
        _pair(validation, "validation")
    elif validation is not None and not _is_tf_dataset(validation):
        raise ValueError(
            "`validation` must be a split name, an (images, labels) tuple, a tf.data.Dataset "
            f"or None. Received: validation={type(validation).__name__}"
        )
    count = _training_size(data, args["limit"], args["data_dir"])
    if count is not None and args["batch_size"] > count:
        raise ValueError(
            f"`batch_size` must be at most the {count:,} training images of this run "
            f"({data if isinstance(data, str) else 'the arrays'}"
            f"{', limit ' + str(args['limit']) if args['limit'] else ''}). "
            f"Received: batch_size={args['batch_size']}"
        )
    if args["seed"] is not None and (
        isinstance(args["seed"], bool) or not isinstance(args["seed"], int | np.integer)
    ):
        raise ValueError(f"`seed` must be an int or None. Received: seed={args['seed']!r}")
    if args["verbose"] not in ("auto", 0, 1, 2) or isinstance(args["verbose"], bool):
        raise ValueError(
            f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={args['verbose']!r}"
        )
    _switch(args["mixed_precision"], "mixed_precision")
    _switch(args["jit_compile"], "jit_compile")
    _check_strategy(args["strategy"])
    if args["checkpoint_dir"] is not None:
        check_checkpoint_dir(args["checkpoint_dir"])


def _check_model_name(name: str) -> None:
    from keras_cnn.models.registry import MODELS
    from keras_cnn.models.small import SMALL_MODELS, is_small

    if not is_small(name) and name not in MODELS:
        close = difflib.get_close_matches(name, [*SMALL_MODELS, *MODELS], n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}.{hint} Small variants: {sorted(SMALL_MODELS)} and any "
            f"CIFAR resnet/plain of depth 6n+2 (resnet20, plain56, ...); or a registry name "
            f"(`python -m keras_cnn list`). Received: model_or_name={name!r}"
        )


def train(
    model_or_name: keras.Model | str,
    data: Any = "digits",
    *,
    epochs: int = 5,
    batch_size: int = 128,
    optimizer: str | keras.optimizers.Optimizer = "sgd",
    learning_rate: float = 0.1,
    momentum: float = 0.9,
    weight_decay: float = 1e-4,
    schedule: str = "auto",
    validation: Any = "test",
    augment: bool = False,
    limit: int | None = None,
    data_dir: str | os.PathLike | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    observers: Sequence[TrainingObserver] = (),
    stop: threading.Event | None = None,
    strategy=None,
    mixed_precision: bool | str = "auto",
    jit_compile: bool | str = "auto",
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = True,
    seed: int | None = None,
    verbose: int | str = "auto",
    record: bool = True,
    bn_momentum: float | None = 0.9,
    tags: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Train a model with ``model.fit`` and return one row per epoch.

    Args:
        model_or_name: a ``keras.Model`` (trained in place), or a name for
            :func:`build_model` (``"resnet20"``, ``"plain56"``, ``"lenet5"``, ``"vgg_small"`` …).
        data: a dataset name (``"digits"``, the embedded default; ``"cifar10"`` … via TFDS), an
            ``(images, labels)`` tuple of arrays, or a batched ``tf.data.Dataset``. Images are
            resized and grey/RGB-converted to the model's input.
        epochs: int. Total epochs (a resumed run continues up to it).
        batch_size: int. Global batch size (split across replicas under a strategy).
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"`` or an optimizer instance.
        learning_rate: float. Initial learning rate. Defaults to 0.1 (He et al.).
        momentum: float. Defaults to 0.9.
        weight_decay: float. The optimizer's decoupled weight decay. Defaults to 1e-4.
        schedule: ``"auto"`` (the default: ``"paper"`` from :data:`PAPER_MIN_EPOCHS` epochs
            on, ``"constant"`` below), ``"paper"`` (÷10 at 50% and 75% of the epochs; warns
            on a shorter run), ``"cosine"`` or ``"constant"``.
        validation: the data measured after every epoch (the history's ``test_*``
            columns): a split name of ``data`` (default ``"test"``), ``(images, labels)``,
            a batched ``tf.data.Dataset``, or None.
        augment: bool. The papers' pad-crop(-flip) augmentation.
        limit: optional int. Use only the first ``limit`` images of each split.
        data_dir: TFDS data directory.
        callbacks: more Keras callbacks.
        observers: :class:`TrainingObserver` objects for live progress.
        stop: a ``threading.Event``; setting it stops training at the next batch.
        strategy: a ``tf.distribute`` strategy (TensorFlow; ``MultiWorkerMirroredStrategy``
            across processes, each running this call with its ``TF_CONFIG``) or a
            ``keras.distribution`` distribution (JAX); the model is built (or cloned) and
            trained in its scope. Only the chief writes checkpoints and the stored run.
        mixed_precision: ``"auto"`` (on a GPU), True or False. Applies to models built here
            by name; a given model keeps its own dtype policy.
        jit_compile: ``"auto"`` (XLA on a GPU, and always under JAX), True or False.
        checkpoint_dir: optional directory to save and resume from (see the module doc);
            created if missing. Across machines it must be shared storage for the other
            workers to resume.
        resume: bool. Resume from ``checkpoint_dir`` when it holds a checkpoint.
        seed: optional int: the same seed gives the same initial weights and data order.
        verbose: Keras' ``verbose``: ``"auto"``/1 a progress bar, 2 a line per epoch, 0 none.
        record: bool. Keep the run, and the trained model, under ``$KERAS_CNN_HOME/runs``.
        bn_momentum: float or None. Momentum of every batch normalization's moving
            statistics during this training. Defaults to 0.9, as Caffe and PyTorch (the
            papers' frameworks); Keras' 0.99 needs hundreds of steps to forget its initial
            statistics, so after a short run the test error is near chance (measured: ResNet-20,
            5 epochs on digits, test accuracy 0.18 with 0.99). None keeps the model's own.
        tags: optional JSON-serialisable fields stored with the run.

    Returns:
        A DataFrame with :data:`COLUMNS`, one row per epoch (``epoch`` is 1-based). Its
        ``attrs`` hold ``model``, ``data``, ``device``, ``stopped`` and ``run_dir``.

    Raises:
        ValueError: for an invalid argument, before any work: a non-positive or non-finite
            rate, ``limit`` < 1, a batch larger than the training images, a checkpoint
            directory that is a file or not writable ... (the message names valid values).
        CheckpointError: for a checkpoint of another model or settings, or a corrupt one.
        keras_cnn.data.DatasetUnavailableError: for a TFDS dataset that is not available.

    Example:
        >>> history = train("resnet20", epochs=5)          # digits, CPU or GPU
        >>> history[["epoch", "test_accuracy"]].tail(1)
    """
    _check_arguments(dict(locals()))
    if schedule == "paper" and 2 <= epochs < PAPER_MIN_EPOCHS:  # 1 epoch: no division
        warnings.warn(
            f'schedule="paper" divides the learning rate by 10 at 50% and 75% of the epochs: '
            f"with epochs={epochs} the first division comes after epoch "
            f"{math.ceil(epochs / 2)}, too early for most networks to have learned. "
            f'schedule="auto" (the default) keeps runs under {PAPER_MIN_EPOCHS} epochs at a '
            "constant rate.",
            UserWarning,
            stacklevel=2,
        )
    mixed, jit = _switch(mixed_precision, "mixed_precision"), _switch(jit_compile, "jit_compile")
    device = device_info()
    gpu = device["device"] == "GPU"
    mixed = gpu if mixed is None else mixed
    jit = (gpu or device["backend"] == "jax") if jit is None else jit
    chief = _is_chief(strategy)
    if seed is not None:
        keras.utils.set_random_seed(seed)

    def scope():  # a fresh context each time: a strategy's scope cannot be entered twice
        return strategy.scope() if strategy is not None else contextlib.nullcontext()

    given = model_or_name if isinstance(model_or_name, keras.Model) else None
    with scope():
        if given is None:
            model = build_model(
                model_or_name, data if isinstance(data, str) else "digits", mixed_precision=mixed
            )
        elif strategy is not None:
            model = keras.models.clone_model(given)
            model.set_weights(given.get_weights())
        else:
            model = given
        if bn_momentum is not None:
            for layer in model._flatten_layers():
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.momentum = float(bn_momentum)
        opt = (
            OPTIMIZERS[optimizer](learning_rate, momentum, weight_decay)
            if isinstance(optimizer, str)
            else optimizer
        )
        model.compile(
            optimizer=opt,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=not _softmax_output(model)),
            metrics=["accuracy"],
            jit_compile=jit,
        )

    input_shape = tuple(model.input_shape[1:])
    shard = _process_shard(strategy, seed)
    train_ds, val_ds, images, data_label = _datasets(
        data,
        validation,
        batch_size=batch_size,
        augment=augment,
        input_shape=input_shape,
        seed=seed,
        limit=limit,
        data_dir=data_dir,
        shard=shard,
    )
    if val_ds is None:
        val_ds = _validation(
            validation, batch_size=batch_size, input_shape=input_shape, shard=shard
        )
    if _multi_worker(strategy):
        _build_from_a_local_batch(model, train_ds)
        _reduce_scalars_across_workers()

    settings = {
        "data": data_label,
        "epochs": epochs,
        "batch_size": batch_size,
        "optimizer": optimizer if isinstance(optimizer, str) else type(optimizer).__name__,
        "learning_rate": learning_rate,
        "momentum": momentum,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "augment": augment,
        "limit": limit,
    }
    fingerprint = model_fingerprint(model)
    rows: list[dict] = []
    checkpoint = _Checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
    if checkpoint is not None and resume:
        state = checkpoint.read(fingerprint, settings)
        if state is not None:
            with scope():
                checkpoint.load_into(model, state["model_path"])
            rows = [dict(r) for r in state["history"]]
    initial_epoch = len(rows)

    meta = {
        "model": model.name,
        "fingerprint": fingerprint,
        "settings": settings,
        "device": device["device"],
        "backend": device["backend"],
        "mixed_precision": bool(mixed),
        "jit_compile": bool(jit),
        "seed": seed,
        **(tags or {}),
    }
    collective_save = shard[1] > 1  # JAX processes: every process takes part in a save
    keep_elsewhere = record and not chief  # the chief keeps this run's model
    record = record and chief
    run_dir = runs_lib.new_run(model.name, meta | {"data": data_label}) if record else None

    def save(rows: list[dict], stopped: bool) -> None:
        if checkpoint is not None and not chief and not stopped and collective_save:
            checkpoint.take_part(model)
        if checkpoint is not None and chief and not stopped:  # a stopped epoch is incomplete
            checkpoint.save(model, rows, meta)
        if run_dir is not None:
            runs_lib.update_run(run_dir, pd.DataFrame(rows, columns=COLUMNS))

    history_cb = _History(rows, observers, stop, batch_size, images, on_row=[save])
    for observer in observers:
        observer.on_train_begin(
            {
                "model": model.name,
                "epochs": epochs,
                "initial_epoch": initial_epoch,
                "steps": math.ceil(images / batch_size) if images else None,
                "device": device,
            }
        )
    status = "failed"
    try:
        if initial_epoch < epochs:
            # keras.distribution shards each batch only inside its scope; a tf.distribute
            # strategy's fit runs outside it (inside, the chief's save is a collective)
            tf_strategy = type(strategy).__module__.startswith("tensorflow")
            with contextlib.nullcontext() if tf_strategy else scope():
                model.fit(
                    train_ds,
                    validation_data=val_ds,
                    epochs=epochs,
                    initial_epoch=initial_epoch,
                    callbacks=[
                        _Schedule(schedule, learning_rate, epochs),
                        *([_Live(history_cb)] if observers or stop is not None else []),
                        history_cb,
                        *callbacks,
                    ],
                    verbose=verbose,
                    shuffle=False,  # the pipelines shuffle
                )
        status = "stopped" if history_cb.stopped else "finished"
        if run_dir is not None:
            _keep_model(run_dir, model)
        elif keep_elsewhere and collective_save:
            _Checkpoint.take_part(model)
    except (KeyboardInterrupt, SystemExit):
        status = "interrupted"
        raise
    finally:
        if run_dir is not None:
            runs_lib.update_run(run_dir, status=status)
    if given is not None and model is not given:
        given.set_weights(model.get_weights())

    history = pd.DataFrame(rows, columns=COLUMNS)
    history.attrs.update(
        model=model.name,
        data=data_label,
        device=device["device"],
        stopped=history_cb.stopped,
        run_dir=str(run_dir) if run_dir else None,
    )
    for observer in observers:
        observer.on_train_end(history)
    return history


def _keep_model(run_dir: Path, model: keras.Model) -> None:
    """Save the trained model into its run; a model Keras cannot save is reported, not fatal."""
    try:
        runs_lib.save_model(run_dir, model)
    except Exception as error:  # e.g. a subclassed model without get_config
        runs_lib.update_run(run_dir, model_error=f"{type(error).__name__}: {error}")
        warnings.warn(
            f"The run in {run_dir} is kept without its model: saving it failed "
            f"({type(error).__name__}: {error}).",
            stacklevel=3,
        )
