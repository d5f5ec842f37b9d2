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
  ``"constant"`` keeps it.
* **Devices** -- on a GPU mixed precision (``mixed_float16``) and XLA are on by default; on
  a CPU float32 without XLA (XLA halves ResNet-20's training speed on a 2-core CPU:
  57 vs 119 images/s measured). ``strategy=`` takes any ``tf.distribute`` strategy
  (TensorFlow backend) or ``keras.distribution`` distribution (JAX backend).
* **Progress** -- Keras' progress bar in a terminal; a :class:`TrainingObserver` for live
  displays; a ``threading.Event`` (``stop=``) honoured at the next batch.
* **Checkpoints** -- with ``checkpoint_dir``, after every epoch ``ckpt-<epoch>.keras`` (model
  and optimizer), then ``meta.json`` (the history, the settings and a fingerprint of the
  model) and ``history.csv``, each written to a temporary file and renamed. A rerun resumes
  after the last saved epoch; another model, other settings or a corrupt file raise
  :class:`CheckpointError`.
* **Runs** -- with ``record=True`` (the default) each run is kept under
  ``$KERAS_CNN_HOME/runs`` (see :mod:`keras_cnn.runs`), with its trained model
  (``model.keras``, when the run finished or was stopped): ``keras_cnn.runs.load_model(id)``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from keras_cnn import data as data_lib
from keras_cnn import runs as runs_lib

COLUMNS = [
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "learning_rate",
    "seconds",
    "images_per_second",
]


class CheckpointError(ValueError):
    """A checkpoint directory holds another run, other settings, or an unreadable file."""


def _paper(base: float, epoch: int, epochs: int) -> float:
    return base * (0.1 ** ((epoch >= 0.5 * epochs) + (epoch >= 0.75 * epochs)))


def _cosine(base: float, epoch: int, epochs: int) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * epoch / max(epochs, 1)))


#: name -> learning rate of a 0-based epoch: f(base, epoch, epochs).
SCHEDULES: dict[str, Callable[[float, int, int], float]] = {
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
        schedule: str. ``"paper"``, ``"cosine"`` or ``"constant"``.
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
    elif backend == "torch":  # pragma: no cover - torch is not installed here
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

    def on_test_begin(self, logs=None):
        if self.train_end is None:
            self.train_end = time.perf_counter()

    @property
    def _current(self) -> int:
        return len(self.rows)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        end = time.perf_counter()
        train_seconds = (self.train_end or end) - self.start
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
            "val_loss": logs.get("val_loss", np.nan),
            "val_accuracy": logs.get("val_accuracy", np.nan),
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
                "Delete the directory, choose another checkpoint_dir, or pass resume=False "
                "to start over."
            ) from error
        if meta.get("fingerprint") != fingerprint:
            raise CheckpointError(
                f"The checkpoint in {self.dir} belongs to another model "
                f"({meta.get('model')!r}, fingerprint {meta.get('fingerprint')}; this model: "
                f"{fingerprint}). Choose another checkpoint_dir, or pass resume=False to "
                "overwrite it."
            )
        stored = meta.get("settings", {})
        changed = {k: (stored.get(k), v) for k, v in settings.items() if stored.get(k) != v}
        if changed:
            detail = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise CheckpointError(
                f"The checkpoint in {self.dir} was made with other settings ({detail}). "
                "Use the same settings to resume, another checkpoint_dir, or resume=False."
            )
        model_path = self.dir / path
        if not model_path.is_file():
            raise CheckpointError(
                f"The checkpoint in {self.dir} names {path}, which is missing. Delete the "
                "directory or pass resume=False to start over."
            )
        return {"epoch": epoch, "history": history, "model_path": model_path}

    def load_into(self, model: keras.Model, model_path: Path) -> None:
        """Copy the weights and optimizer state of a saved model into ``model``."""
        try:
            saved = keras.models.load_model(model_path, compile=True)
        except Exception as error:
            raise CheckpointError(
                f"The checkpoint file {model_path} cannot be loaded ({type(error).__name__}: "
                f"{error}). Delete {self.dir} or pass resume=False to start over."
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
                "Use the same optimizer to resume, or pass resume=False."
            )
        for ours_var, theirs_var in zip(ours, theirs, strict=True):
            ours_var.assign(theirs_var.value)

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
    from keras_cnn.registry import get_model
    from keras_cnn.small import build_small, is_small

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


def _datasets(data, validation, *, batch_size, augment, input_shape, seed, limit, data_dir):
    """(train dataset, validation dataset or None, images per epoch, data label)."""
    import tensorflow as tf

    if isinstance(data, str):
        common = dict(batch_size=batch_size, data_dir=data_dir, input_shape=input_shape)
        train_ds = data_lib.load(data, "train", augment=augment, seed=seed, limit=limit, **common)
        count = data_lib.num_examples(data, "train", data_dir=data_dir)
        count = min(count, limit) if count and limit else (count or limit)
        val_ds = None
        if isinstance(validation, str):
            val_ds = data_lib.load(data, validation, limit=limit, shuffle=False, **common)
        return train_ds, val_ds, count, data
    if isinstance(data, tuple):
        x, y = data
        x = data_lib.adapt_images(np.asarray(x, "float32"), input_shape).numpy()
        if limit:
            x, y = x[:limit], np.asarray(y)[:limit]
        ds = tf.data.Dataset.from_tensor_slices((x, np.asarray(y, "int32"))).cache()
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        if augment:
            ds = ds.map(lambda a, b: (data_lib.augment_image(a, flip=False), b))
        train_ds = ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
        return train_ds, None, len(x), "arrays"
    if isinstance(data, tf.data.Dataset):
        return data, None, None, "dataset"
    raise ValueError(
        "`data` must be a dataset name, an (images, labels) tuple or a batched "
        f"tf.data.Dataset. Received: data={type(data).__name__}"
    )


def _validation(validation, *, batch_size, input_shape):
    """A validation dataset from arrays / a dataset, or None (names are handled earlier)."""
    import tensorflow as tf

    if validation is None or isinstance(validation, str):
        return None
    if isinstance(validation, tuple):
        x, y = validation
        x = data_lib.adapt_images(np.asarray(x, "float32"), input_shape).numpy()
        ds = tf.data.Dataset.from_tensor_slices((x, np.asarray(y, "int32")))
        return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)
    if isinstance(validation, tf.data.Dataset):
        return validation
    raise ValueError(
        "`validation` must be a split name, an (images, labels) tuple, a tf.data.Dataset or "
        f"None. Received: validation={type(validation).__name__}"
    )


def _switch(value, what: str) -> bool | None:
    if value not in _SWITCH:
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
    schedule: str = "paper",
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
        schedule: ``"paper"`` (÷10 at 50% and 75% of the epochs), ``"cosine"`` or
            ``"constant"``.
        validation: a split name of ``data`` (default ``"test"``), ``(images, labels)``, a
            batched ``tf.data.Dataset``, or None.
        augment: bool. The papers' pad-crop(-flip) augmentation.
        limit: optional int. Use only the first ``limit`` images of each split.
        data_dir: TFDS data directory.
        callbacks: more Keras callbacks.
        observers: :class:`TrainingObserver` objects for live progress.
        stop: a ``threading.Event``; setting it stops training at the next batch.
        strategy: a ``tf.distribute`` strategy (TensorFlow) or ``keras.distribution``
            distribution (JAX); the model is built (or cloned) and trained in its scope.
        mixed_precision: ``"auto"`` (on a GPU), True or False. Applies to models built here
            by name; a given model keeps its own dtype policy.
        jit_compile: ``"auto"`` (XLA on a GPU, and always under JAX), True or False.
        checkpoint_dir: optional directory to save and resume from (see the module doc).
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
        ValueError: for invalid arguments.
        CheckpointError: for a checkpoint of another model or settings, or a corrupt one.
        keras_cnn.data.DatasetUnavailableError: for a TFDS dataset that is not available.

    Example:
        >>> history = train("resnet20", epochs=5)          # digits, CPU or GPU
        >>> history[["epoch", "val_accuracy"]].tail(1)
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"`epochs` must be a positive int. Received: {epochs=}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"`batch_size` must be a positive int. Received: {batch_size=}")
    learning_rate_at(schedule, learning_rate, 0, epochs)  # validates the schedule
    if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
        raise ValueError(f"`optimizer` must be one of {list(OPTIMIZERS)}. Received: {optimizer=}")
    mixed, jit = _switch(mixed_precision, "mixed_precision"), _switch(jit_compile, "jit_compile")
    _check_strategy(strategy)
    device = device_info()
    gpu = device["device"] == "GPU"
    mixed = gpu if mixed is None else mixed
    jit = (gpu or device["backend"] == "jax") if jit is None else jit
    if seed is not None:
        keras.utils.set_random_seed(seed)

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    given = model_or_name if isinstance(model_or_name, keras.Model) else None
    with scope:
        if given is None:
            if not isinstance(model_or_name, str):
                raise ValueError(
                    "`model_or_name` must be a keras.Model or a model name. "
                    f"Received: {type(model_or_name).__name__}"
                )
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
    train_ds, val_ds, images, data_label = _datasets(
        data,
        validation,
        batch_size=batch_size,
        augment=augment,
        input_shape=input_shape,
        seed=seed,
        limit=limit,
        data_dir=data_dir,
    )
    if val_ds is None:
        val_ds = _validation(validation, batch_size=batch_size, input_shape=input_shape)

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
            with scope:
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
    run_dir = runs_lib.new_run(model.name, meta | {"data": data_label}) if record else None

    def save(rows: list[dict], stopped: bool) -> None:
        if checkpoint is not None and not stopped:  # a stopped epoch is not complete
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
                shuffle=False,  # the tf.data pipeline shuffles
            )
        status = "stopped" if history_cb.stopped else "finished"
        if run_dir is not None:
            _keep_model(run_dir, model)
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


# ----------------------------------------------------------------------------- command line


def _on_off(value: str):
    return {"auto": "auto", "on": True, "off": False}[value]


def _train_command(args: argparse.Namespace) -> int:
    info = device_info()
    print(f"Training {args.model} on {args.data} ({info['device']}, {info['backend']} backend)")
    history = train(
        args.model,
        args.data,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        learning_rate=args.lr,
        momentum=args.momentum,
        weight_decay=args.weight_decay,
        schedule=args.schedule,
        augment=args.augment,
        limit=args.limit,
        data_dir=args.data_dir,
        checkpoint_dir=args.checkpoint_dir,
        resume=not args.no_resume,
        seed=args.seed,
        mixed_precision=_on_off(args.mixed_precision),
        jit_compile=_on_off(args.jit),
        verbose=args.verbose,
        record=not args.no_record,
    )
    print()
    with pd.option_context("display.width", 200, "display.max_rows", None):
        print(history.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if len(history):
        last = history.iloc[-1]
        total = history.seconds.sum()
        print(
            f"\nFinal: accuracy {last.accuracy:.3f}, val_accuracy {last.val_accuracy:.3f} "
            f"after {int(last.epoch)} epochs ({total:.0f} s)"
        )
    if history.attrs.get("run_dir"):
        print(f"Stored in {history.attrs['run_dir']}")
    return 0


def add_train_command(sub, commands: dict) -> None:
    """Add ``python -m keras_cnn train`` to the command line's subparsers.

    Args:
        sub: the ``argparse`` subparsers object.
        commands: the command table ``name -> (handler, help)``; ``train`` is added.
    """
    help_text = "train a model (default: on the embedded digits) and print its history"
    commands["train"] = (_train_command, help_text)
    p = sub.add_parser("train", help=help_text)
    p.add_argument("model", help="resnet20, plain20, resnet56, lenet5, vgg_small, …")
    p.add_argument("--data", default="digits", choices=sorted(data_lib.DATASETS))
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--optimizer", default="sgd", choices=sorted(OPTIMIZERS))
    p.add_argument("--lr", type=float, default=0.1, help="initial learning rate")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--schedule", default="paper", choices=list(SCHEDULES))
    p.add_argument("--augment", action="store_true", help="pad-crop(-flip) augmentation")
    p.add_argument("--limit", type=int, help="use only the first N images of each split")
    p.add_argument("--data-dir", help="TFDS data directory (default: TFDS_DATA_DIR)")
    p.add_argument("--checkpoint-dir", help="save every epoch here and resume from it")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.add_argument("--seed", type=int)
    p.add_argument("--mixed-precision", default="auto", choices=["auto", "on", "off"])
    p.add_argument("--jit", default="auto", choices=["auto", "on", "off"])
    p.add_argument("--verbose", type=int, default=1, choices=[0, 1, 2])
    p.add_argument("--no-record", action="store_true", help="do not store the run")
