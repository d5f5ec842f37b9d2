"""Train a model with ``model.fit``: ``train("resnet20")`` and the steps it takes.

``train("resnet20")`` trains the CIFAR ResNet-20 on the embedded digits and returns one row
per epoch. The loop is Keras' own (``model.fit`` and callbacks); the training package only
chooses the settings, wires the callbacks and keeps the records, one concern a module:

* :mod:`~keras_cnn.training.config` -- :class:`TrainConfig`: every argument, its default and
  its check (shared with the command line);
* :mod:`~keras_cnn.training.schedules` -- optimizers and learning-rate schedules by name;
* :mod:`~keras_cnn.training.inputs` -- the training and test data and their image counts;
* :mod:`~keras_cnn.training.callbacks` -- the per-epoch rows, live progress, stop;
* :mod:`~keras_cnn.training.logits` -- under JAX and PyTorch, fit the logits (the loss as
  TensorFlow computes it);
* :mod:`~keras_cnn.training.checkpoints` -- save every epoch, resume, refuse a mismatch;
* :mod:`~keras_cnn.training.distribute` -- devices and strategies;
* :mod:`~keras_cnn.training.runs` -- the stored runs.

This module runs the steps in order (:func:`run_training`): check the configuration,
resolve the devices, build and compile the model, load the data, resume from a
checkpoint, open the stored run, fit, finish. Its public names are importable from
``keras_cnn.train`` as before. (It is a little over 500 lines because ``train()``'s
signature and docstring, the reference of every argument, take 130 of them.)

* **Devices** -- on a GPU mixed precision (``mixed_float16``) and XLA are on by default; on
  a CPU float32 without XLA (XLA halves ResNet-20's training speed on a 2-core CPU:
  57 vs 119 images/s measured).
* **Runs** -- with ``record=True`` (the default) each run is kept under
  ``$KERAS_CNN_HOME/runs`` (see :mod:`keras_cnn.runs`), with its trained model
  (``model.keras``, when the run finished or was stopped): ``keras_cnn.runs.load_model(id)``.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import keras
import pandas as pd

from keras_cnn.analysis.head import output_activation
from keras_cnn.training import data as data_lib
from keras_cnn.training import inputs
from keras_cnn.training import runs as runs_lib
from keras_cnn.training.callbacks import (
    COLUMNS,
    HistoryCallback,
    LiveCallback,
    ScheduleCallback,
    TrainingObserver,
)
from keras_cnn.training.checkpoints import RENAMED, Checkpoint, CheckpointError, model_fingerprint
from keras_cnn.training.config import (
    INTEGERS,
    NUMBERS,
    TrainConfig,
    check_checkpoint_dir,
    check_integer,
    check_number,
    switch,
)
from keras_cnn.training.distribute import (
    build_from_a_local_batch,
    device_info,
    is_chief,
    is_multi_worker,
    process_shard,
    reduce_scalars_across_workers,
)
from keras_cnn.training.logits import logits_trainee
from keras_cnn.training.runs import StorageError, writing
from keras_cnn.training.schedules import (
    OPTIMIZERS,
    PAPER_MIN_EPOCHS,
    SCHEDULES,
    learning_rate_at,
    short_paper_warning,
    warmup_epochs,
)

__all__ = [
    "COLUMNS",
    "INTEGERS",
    "NUMBERS",
    "OPTIMIZERS",
    "PAPER_MIN_EPOCHS",
    "RENAMED",
    "SCHEDULES",
    "CheckpointError",
    "StorageError",
    "TrainConfig",
    "TrainingObserver",
    "build_model",
    "check_checkpoint_dir",
    "check_integer",
    "check_number",
    "device_info",
    "learning_rate_at",
    "model_fingerprint",
    "run_training",
    "train",
]
#: The checkpoint files' class under its earlier name (tests and tools patch it here).
_Checkpoint = Checkpoint


def build_model(
    name: str, data: str = "digits", *, mixed_precision: bool = False, **kwargs
) -> keras.Model:
    """Build a registry model by name for a dataset, as the registry says it adapts.

    Every name is a registry id (``list_models()``): the ImageNet networks keep their input
    (the data is resized) and get the data's classes; the small live-training networks
    (``lenet5``, ``vgg_small``, any CIFAR ``resnet{6n+2}``/``plain{6n+2}``) are built for
    32x32 images with the data's channels (:func:`keras_cnn.models.registry.data_kwargs`).

    Args:
        name: str. A registry id.
        data: str. A dataset name (see :data:`keras_cnn.data.DATASETS`).
        mixed_precision: bool. Build under the ``mixed_float16`` policy.
        **kwargs: passed to the builder (they override the dataset's ``classes`` and
            ``input_shape``).

    Returns:
        A ``keras.Model``.
    """
    from keras_cnn.models.registry import data_kwargs, get_model

    spec = data_lib.spec(data) if isinstance(data, str) else None
    fit = data_kwargs(
        name, channels=spec.shape[-1] if spec else 3, classes=spec.classes if spec else 10
    )
    previous = keras.config.dtype_policy()
    if mixed_precision:
        keras.config.set_dtype_policy("mixed_float16")
    try:
        return get_model(name, **{**fit, **kwargs})
    finally:
        keras.config.set_dtype_policy(previous)


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
    warmup: float | str = "auto",
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
        model_or_name: a ``keras.Model`` (its weights are trained in place; its
            batch-norm momenta and compiled optimizer are given back as they were), or a name for
            :func:`build_model` (``"resnet20"``, ``"plain56"``, ``"lenet5"``, ``"vgg_small"`` …).
        data: a dataset name (``"digits"``, the embedded default; ``"cifar10"`` … via TFDS), an
            ``(images, labels)`` tuple of arrays, or a batched ``tf.data.Dataset``. Images are
            resized and grey/RGB-converted to the model's input.
        epochs: int. Total epochs (a resumed run continues up to it), at most
            :data:`~keras_cnn.training.config.MAX_EPOCHS`.
        batch_size: int. Global batch size (split across replicas under a strategy).
        optimizer: ``"sgd"``, ``"adam"``, ``"adamw"``, ``"rmsprop"`` or an optimizer instance.
        learning_rate: float. Initial learning rate. Defaults to 0.1 (He et al.).
        momentum: float. Defaults to 0.9.
        weight_decay: float. The optimizer's decoupled weight decay. Defaults to 1e-4.
        schedule: ``"auto"`` (the default: ``"paper"`` from :data:`PAPER_MIN_EPOCHS` epochs
            on, ``"cosine"`` below), ``"paper"`` (÷10 at 50% and 75% of the epochs; warns
            on a shorter run), ``"cosine"`` or ``"constant"``.
        warmup: epochs over which the rate rises linearly, step by step, from
            ``learning_rate / steps`` to the schedule's (fractions allowed; 0 for none).
            ``"auto"`` (the default): the first epoch of a run of two or more epochs, none for
            a one-epoch run. Without it some initial draws diverge at a rate of 0.1 (see
            :mod:`keras_cnn.training.schedules`).
        validation: the data measured after every epoch (the history's ``test_*``
            columns): a split name of ``data`` (default ``"test"``), ``(images, labels)``,
            a batched ``tf.data.Dataset``, or None.
        augment: bool. The papers' pad-crop(-flip) augmentation.
        limit: optional int. Use only the first ``limit`` images of the training and the
            test data (names and arrays; a ``tf.data.Dataset`` is used whole).
        data_dir: TFDS data directory.
        callbacks: more Keras callbacks.
        observers: :class:`TrainingObserver` objects for live progress.
        stop: a ``threading.Event``; setting it ends the run after the current batch. The
            epoch it ends is marked ``partial`` (see :mod:`keras_cnn.training.callbacks`).
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
        seed: optional int from 0 to 2**32 - 1: the same seed gives the same initial
            weights and data order.
        verbose: Keras' ``verbose``: ``"auto"``/1 a progress bar, 2 a line per epoch, 0 none.
        record: bool. Keep the run, and the trained model, under ``$KERAS_CNN_HOME/runs``.
        bn_momentum: float or None. Momentum of every batch normalization's moving
            statistics during this training (a given model gets its own back afterwards).
            Defaults to 0.9, as Caffe and PyTorch (the papers' frameworks); Keras' 0.99
            needs hundreds of steps to forget its initial statistics, so after a short run
            the test error is near chance (measured: ResNet-20, 5 epochs on digits, test
            accuracy 0.18 with 0.99). None keeps the model's own.
        tags: optional JSON-serialisable fields stored with the run.

    Returns:
        A DataFrame with :data:`COLUMNS`, one row per epoch (``epoch`` is 1-based; a last
        epoch ended by ``stop`` has ``partial`` True, its test and speed columns NaN). Its
        ``attrs`` hold ``model``, ``data``, ``device``, ``stopped`` and ``run_dir``.

    Raises:
        ValueError: for an invalid argument, before any work: a non-positive or non-finite
            rate, ``limit`` < 1, a batch larger than the training images, a checkpoint
            directory that is a file or not writable ... (the message names valid values).
        CheckpointError: for a checkpoint of another model or settings, or a corrupt one.
        keras_cnn.data.DatasetUnavailableError: for a TFDS dataset that is not available.

    Example:
        >>> history = train("resnet20", epochs=5)  # digits, minutes on a CPU  # doctest: +SKIP
        >>> history[["epoch", "test_accuracy"]].tail(1)  # doctest: +SKIP
    """
    config = TrainConfig(
        model_or_name,
        data,
        epochs=epochs,
        batch_size=batch_size,
        optimizer=optimizer,
        learning_rate=learning_rate,
        momentum=momentum,
        weight_decay=weight_decay,
        schedule=schedule,
        warmup=warmup,
        validation=validation,
        augment=augment,
        limit=limit,
        data_dir=data_dir,
        callbacks=callbacks,
        observers=observers,
        stop=stop,
        strategy=strategy,
        mixed_precision=mixed_precision,
        jit_compile=jit_compile,
        checkpoint_dir=checkpoint_dir,
        resume=resume,
        seed=seed,
        verbose=verbose,
        record=record,
        bn_momentum=bn_momentum,
        tags=tags,
    )
    return run_training(config)


class _Devices(NamedTuple):
    """Where and how a run computes (see :func:`_resolve_devices`)."""

    info: dict[str, Any]
    mixed: bool
    jit: bool
    #: Whether this process writes checkpoints and the stored run.
    chief: bool
    #: ``(process index, process count)`` of the in-memory data feed.
    shard: tuple[int, int]


def _scope(strategy):
    """A fresh context each time: a strategy's scope cannot be entered twice."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def run_training(config: TrainConfig) -> pd.DataFrame:
    """Train as :func:`train` does, from a checked :class:`TrainConfig`.

    Args:
        config: TrainConfig. The run's settings.

    Returns:
        The history, as :func:`train` returns it.
    """
    if text := short_paper_warning(config.schedule, config.epochs):
        warnings.warn(text, UserWarning, stacklevel=3)
    devices = _resolve_devices(config)
    if config.seed is not None:
        keras.utils.set_random_seed(config.seed)
    given = config.model_or_name if isinstance(config.model_or_name, keras.Model) else None
    with _settings_restored(given):
        model = _build_and_compile(config, devices)
        feed = _load_data(config, model, devices.shard)
        if is_multi_worker(config.strategy):
            build_from_a_local_batch(model, feed.train)
            reduce_scalars_across_workers()
        settings = _settings(config, feed.label)
        checkpoint = None if config.checkpoint_dir is None else Checkpoint(config.checkpoint_dir)
        rows = _resume(config, model, checkpoint, settings)
        meta = _meta(config, model, devices, settings)
        return _fit(config, model, devices, feed, checkpoint, rows, meta)


@contextlib.contextmanager
def _settings_restored(model: keras.Model | None):
    """Give a user's model back with its own settings once training ends, however it ends.

    Training sets every batch normalization's momentum (``bn_momentum``) and compiles the
    model with this run's optimizer; afterwards the momenta are restored and a model that
    was compiled is compiled again as it was, with its own optimizer object (and that
    optimizer's state). A model that was not compiled stays compiled as trained, so that
    ``model.evaluate`` works. Only the weights keep what training changed.
    """
    if model is None:
        yield
        return
    momenta = [
        (layer, layer.momentum)
        for layer in model._flatten_layers()
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    compiled = getattr(model, "compiled", False) and hasattr(model, "_compile_config")
    arguments = dict(model._compile_config.config) if compiled else None
    optimizer = model.optimizer if compiled else None
    try:
        yield
    finally:
        for layer, momentum in momenta:
            layer.momentum = momentum
        if arguments is not None:
            model.compile(**{**arguments, "optimizer": optimizer})


def _resolve_devices(config: TrainConfig) -> _Devices:
    """The device, the "auto" settings resolved for it, the chief and the data shard."""
    mixed = switch(config.mixed_precision, "mixed_precision")
    jit = switch(config.jit_compile, "jit_compile")
    info = device_info()
    gpu = info["device"] == "GPU"
    mixed = gpu if mixed is None else mixed
    jit = (gpu or info["backend"] == "jax") if jit is None else jit
    shard = process_shard(config.strategy, config.seed)
    return _Devices(info, bool(mixed), bool(jit), is_chief(config.strategy), shard)


def _build_and_compile(config: TrainConfig, devices: _Devices) -> keras.Model:
    """The model to train: built by name, the given one, or its clone under a strategy."""
    given = config.model_or_name if isinstance(config.model_or_name, keras.Model) else None
    with _scope(config.strategy):
        if given is None:
            name, data = config.model_or_name, config.data
            model = build_model(
                name, data if isinstance(data, str) else "digits", mixed_precision=devices.mixed
            )
        elif config.strategy is not None:
            model = keras.models.clone_model(given)
            model.set_weights(given.get_weights())
        else:
            model = given
        if config.bn_momentum is not None:
            for layer in model._flatten_layers():
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.momentum = float(config.bn_momentum)
        optimizer = config.optimizer
        if isinstance(optimizer, str):
            optimizer = OPTIMIZERS[optimizer](
                config.learning_rate, config.momentum, config.weight_decay
            )
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(
                from_logits=output_activation(model) != "softmax"
            ),
            metrics=["accuracy"],
            jit_compile=devices.jit,
        )
    return model


def _load_data(config: TrainConfig, model: keras.Model, shard: tuple[int, int]):
    """The training and test data for ``model.fit``, adapted to the model's input."""
    return inputs.training_data(
        config.data,
        config.validation,
        batch_size=config.batch_size,
        input_shape=tuple(model.input_shape[1:]),
        augment=config.augment,
        seed=config.seed,
        limit=config.limit,
        data_dir=config.data_dir,
        shard=shard,
    )


def _settings(config: TrainConfig, label: str) -> dict[str, Any]:
    """The settings a checkpoint must share to be resumed."""
    optimizer = config.optimizer
    return {
        "data": label,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "optimizer": optimizer if isinstance(optimizer, str) else type(optimizer).__name__,
        "learning_rate": config.learning_rate,
        "momentum": config.momentum,
        "weight_decay": config.weight_decay,
        "schedule": config.schedule,
        "augment": config.augment,
        "limit": config.limit,
    }


def _resume(
    config: TrainConfig, model: keras.Model, checkpoint: Checkpoint | None, settings: dict
) -> list[dict]:
    """The epochs already trained (from the checkpoint, loaded into ``model``), or none."""
    if checkpoint is None or not config.resume:
        return []
    state = checkpoint.read(model_fingerprint(model), settings)
    if state is None:
        return []
    with _scope(config.strategy):
        checkpoint.load_into(model, state["model_path"])
    return [dict(r) for r in state["history"]]


def _meta(config: TrainConfig, model: keras.Model, devices: _Devices, settings: dict) -> dict:
    """What a checkpoint and the stored run record about this run."""
    name = config.model_or_name if isinstance(config.model_or_name, str) else None
    return {
        "model": model.name,
        "built_from": name,  # the build_model name, so the run can be rebuilt (notebook export)
        "fingerprint": model_fingerprint(model),
        "settings": settings,
        "device": devices.info["device"],
        "backend": devices.info["backend"],
        "mixed_precision": devices.mixed,
        "jit_compile": devices.jit,
        "seed": config.seed,
        "warmup_epochs": warmup_epochs(config.warmup, config.epochs),
        **(config.tags or {}),
    }


def _fit(
    config: TrainConfig,
    model: keras.Model,
    devices: _Devices,
    feed: inputs.TrainingData,
    checkpoint: Checkpoint | None,
    rows: list[dict],
    meta: dict,
) -> pd.DataFrame:
    """Open the stored run, fit from the first untrained epoch, save, and finish."""
    chief, strategy = devices.chief, config.strategy
    initial_epoch = len(rows)
    collective_save = devices.shard[1] > 1  # JAX processes: every process takes part in a save
    keep_elsewhere = config.record and not chief  # the chief keeps this run's model
    record = config.record and chief
    run_dir = runs_lib.new_run(model.name, meta | {"data": feed.label}) if record else None

    def save(rows: list[dict], stopped: bool) -> None:
        whole = not rows[-1]["partial"]  # a partial epoch (stopped within it) is not saved
        epoch = len(rows)
        if checkpoint is not None and not chief and whole and collective_save:
            checkpoint.take_part(model)
        if checkpoint is not None and chief and whole:
            kept = f"The checkpoint of epoch {epoch - 1} is intact." if epoch > 1 else ""
            with writing(f"the checkpoint of epoch {epoch}", checkpoint.dir, kept):
                checkpoint.save(model, rows, meta)
        if run_dir is not None:
            kept = f"Its epochs up to {epoch - 1} are stored." if epoch > 1 else ""
            with writing(f"epoch {epoch} of the stored run", run_dir, kept):
                runs_lib.update_run(run_dir, pd.DataFrame(rows, columns=COLUMNS))

    observers, stop = config.observers, config.stop
    history_cb = HistoryCallback(
        rows, observers, stop, config.batch_size, feed.images, on_row=[save]
    )
    steps = math.ceil(feed.images / config.batch_size) if feed.images else None
    for observer in observers:
        observer.on_train_begin(
            {
                "model": model.name,
                "epochs": config.epochs,
                "initial_epoch": initial_epoch,
                "steps": steps,
                "device": devices.info,
            }
        )
    status = "failed"
    try:
        if initial_epoch < config.epochs:
            # keras.distribution shards each batch only inside its scope; a tf.distribute
            # strategy's fit runs outside it (inside, the chief's save is a collective)
            tf_strategy = type(strategy).__module__.startswith("tensorflow")
            with contextlib.nullcontext() if tf_strategy else _scope(strategy):
                trainee = logits_trainee(model, jit_compile=devices.jit)
                trainee.fit(
                    feed.train,
                    validation_data=feed.test,
                    epochs=config.epochs,
                    initial_epoch=initial_epoch,
                    callbacks=[
                        ScheduleCallback(
                            config.schedule,
                            config.learning_rate,
                            config.epochs,
                            warmup_steps=_warmup_steps(config, steps),
                            steps=steps,
                        ),
                        *([LiveCallback(history_cb)] if observers or stop is not None else []),
                        history_cb,
                        *config.callbacks,
                    ],
                    verbose=config.verbose,
                    shuffle=False,  # the pipelines shuffle
                )
        status = "stopped" if history_cb.stopped else "finished"
        if run_dir is not None:
            runs_lib.keep_model(run_dir, model)
        elif keep_elsewhere and collective_save:
            Checkpoint.take_part(model)
    except (KeyboardInterrupt, SystemExit):
        status = "interrupted"
        raise
    finally:
        if run_dir is not None:
            runs_lib.set_status(run_dir, status)
    given = config.model_or_name
    if isinstance(given, keras.Model) and model is not given:
        given.set_weights(model.get_weights())
    return _finish(config, model, devices, feed, rows, history_cb.stopped, run_dir)


def _warmup_steps(config: TrainConfig, steps: int | None) -> int:
    """The run's steps of linear warm-up (at least one when there is any)."""
    epochs = warmup_epochs(config.warmup, config.epochs)
    return max(1, round(epochs * steps)) if epochs and steps else 0


def _finish(config, model, devices, feed, rows, stopped, run_dir) -> pd.DataFrame:
    """The history as a DataFrame, its ``attrs``, and the observers told."""
    history = pd.DataFrame(rows, columns=COLUMNS)
    history.attrs.update(
        model=model.name,
        data=feed.label,
        device=devices.info["device"],
        stopped=stopped,
        run_dir=str(run_dir) if run_dir else None,
    )
    for observer in config.observers:
        observer.on_train_end(history)
    return history
