"""The settings of one training run: :class:`TrainConfig`, its defaults and its checks.

:func:`keras_cnn.train.train` and the command line (``python -m keras_cnn train``) share
them: ``train()`` builds a ``TrainConfig`` from its arguments, which checks every one
before any work; the command line takes its defaults and choices from here and applies
the same checks while parsing (:func:`check_number`, :func:`check_integer`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_cnn.training import data as data_lib
from keras_cnn.training.distribute import check_strategy
from keras_cnn.training.inputs import is_tf_dataset, pair, training_size
from keras_cnn.training.schedules import OPTIMIZERS, learning_rate_at

#: "auto" / True / False -> whether a setting is on, given whether a GPU is in use.
_SWITCH = {"auto": None, True: True, False: False, "on": True, "off": False}
#: Keras' ``verbose`` values: "auto"/1 a progress bar, 2 a line per epoch, 0 none.
VERBOSE = ("auto", 0, 1, 2)


#: numeric argument -> (test, what valid values are). Shared with the command line.
NUMBERS: dict[str, tuple[Callable[[float], bool], str]] = {
    "learning_rate": (lambda v: v > 0, "a finite number > 0, e.g. 0.1"),
    "momentum": (lambda v: 0 <= v < 1, "a finite number in [0, 1), e.g. 0.9"),
    "weight_decay": (lambda v: v >= 0, "a finite number >= 0, e.g. 1e-4 (0 for none)"),
    "bn_momentum": (lambda v: 0 <= v < 1, "a finite number in [0, 1), e.g. 0.9, or None"),
    "warmup": (lambda v: v >= 0, "'auto' or a finite number of epochs >= 0, e.g. 1 (0 for none)"),
}
#: The most epochs one run takes: far beyond any paper's schedule (He et al. 2015 train
#: CIFAR ResNets for about 182 epochs), short of a typo's 99999999999.
MAX_EPOCHS = 10_000
#: The largest seed: NumPy's and Keras' seeds are unsigned 32-bit integers.
MAX_SEED = 2**32 - 1
#: integer argument -> (smallest, largest or None) valid value. Shared with the command line.
INTEGERS: dict[str, tuple[int, int | None]] = {
    "epochs": (1, MAX_EPOCHS),
    "batch_size": (1, None),
    "limit": (1, None),
    "seed": (0, MAX_SEED),
}


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
    low, high = INTEGERS[name]
    valid = f"an int >= {low}" if high is None else f"an int from {low} to {high:,}"
    integer = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not integer or value < low or high is not None and value > high:
        raise ValueError(f"`{name}` must be {valid}. Received: {name}={value!r}")
    return int(value)


def check_checkpoint_dir(directory) -> Path:
    """A usable checkpoint directory: created if missing, and writable.

    Raises:
        ValueError: for a path that is a file, under a file, or not writable.
    """
    received = f"Received: checkpoint_dir={os.fspath(directory)!r}"
    if not os.fspath(directory).strip():
        raise ValueError(
            "`checkpoint_dir` must name a directory: an empty path would write the checkpoints "
            f"into the current directory. Name one (e.g. ckpt), or leave it out for none. {received}"
        )
    path = Path(directory).expanduser()
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


def switch(value, what: str) -> bool | None:
    """Whether an ``"auto"`` / True / False setting is on (None: decide by the device).

    Raises:
        ValueError: for another value.
    """
    if value not in _SWITCH or isinstance(value, int) and not isinstance(value, bool):
        raise ValueError(f"`{what}` must be 'auto', True or False. Received: {what}={value!r}")
    return _SWITCH[value]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every argument of :func:`keras_cnn.train.train`, with its default; checked on creation.

    The fields are ``train()``'s arguments (see its docstring for what each means).
    ``TrainConfig.defaults()`` gives the defaults, which the command line uses too.

    Raises:
        ValueError: for an invalid argument, naming the valid values.
    """

    model_or_name: keras.Model | str
    data: Any = "digits"
    epochs: int = 5
    batch_size: int = 128
    optimizer: str | keras.optimizers.Optimizer = "sgd"
    learning_rate: float = 0.1
    momentum: float = 0.9
    weight_decay: float = 1e-4
    schedule: str = "auto"
    warmup: float | str = "auto"
    validation: Any = "test"
    augment: bool = False
    limit: int | None = None
    data_dir: str | os.PathLike | None = None
    callbacks: Sequence[keras.callbacks.Callback] = ()
    observers: Sequence[Any] = ()
    stop: threading.Event | None = None
    strategy: Any = None
    mixed_precision: bool | str = "auto"
    jit_compile: bool | str = "auto"
    checkpoint_dir: str | os.PathLike | None = None
    resume: bool = True
    seed: int | None = None
    verbose: int | str = "auto"
    record: bool = True
    bn_momentum: float | None = 0.9
    tags: dict[str, Any] | None = None

    def __post_init__(self):
        self.check()

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """``{argument: default}`` of every argument that has one."""
        return {
            f.name: f.default
            for f in dataclasses.fields(cls)
            if f.default is not dataclasses.MISSING
        }

    def check(self) -> None:
        """Check every argument, before any work (see ``train()``'s ``Raises``)."""
        model = self.model_or_name
        if isinstance(model, str):
            from keras_cnn.models.registry import resolve

            resolve(model, what="model_or_name")  # a registry id, or "Did you mean ..."
        elif not isinstance(model, keras.Model):
            raise ValueError(
                "`model_or_name` must be a keras.Model or a model name. "
                f"Received: {type(model).__name__}"
            )
        for name in ("epochs", "batch_size"):
            check_integer(name, getattr(self, name))
        if self.limit is not None:
            check_integer("limit", self.limit)
        for name in ("learning_rate", "momentum", "weight_decay"):
            check_number(name, getattr(self, name))
        if self.bn_momentum is not None:
            check_number("bn_momentum", self.bn_momentum)
        learning_rate_at(self.schedule, 0.1, 0, 1)  # a known schedule
        if not (isinstance(self.warmup, str) and self.warmup == "auto"):
            check_number("warmup", self.warmup)
        optimizer = self.optimizer
        if isinstance(optimizer, str) and optimizer not in OPTIMIZERS:
            raise ValueError(
                f"`optimizer` must be one of {list(OPTIMIZERS)}. Received: {optimizer=}"
            )
        if not isinstance(optimizer, str | keras.optimizers.Optimizer):
            raise ValueError(
                f"`optimizer` must be one of {list(OPTIMIZERS)} or a keras optimizer. "
                f"Received: optimizer={optimizer!r}"
            )
        self._check_data()
        if self.seed is not None:
            check_integer("seed", self.seed)
        if self.verbose not in VERBOSE or isinstance(self.verbose, bool):
            raise ValueError(
                f"`verbose` must be 'auto', 0, 1 or 2. Received: verbose={self.verbose!r}"
            )
        switch(self.mixed_precision, "mixed_precision")
        switch(self.jit_compile, "jit_compile")
        check_strategy(self.strategy)
        if self.checkpoint_dir is not None:
            check_checkpoint_dir(self.checkpoint_dir)

    def _check_data(self) -> None:
        data, validation = self.data, self.validation
        if isinstance(data, str):
            data_lib.spec(data)
        elif not isinstance(data, tuple) and not is_tf_dataset(data):
            raise ValueError(
                "`data` must be a dataset name, an (images, labels) tuple or a batched "
                f"tf.data.Dataset. Received: data={type(data).__name__}"
            )
        if isinstance(validation, str):
            data_lib._check_split(validation)
        elif isinstance(validation, tuple):
            pair(validation, "validation")
        elif validation is not None and not is_tf_dataset(validation):
            raise ValueError(
                "`validation` must be a split name, an (images, labels) tuple, a "
                f"tf.data.Dataset or None. Received: validation={type(validation).__name__}"
            )
        if self.limit is not None and is_tf_dataset(data):
            raise ValueError(
                "`limit` takes the first images of a dataset name or of arrays; a "
                "tf.data.Dataset is used whole (take batches from it with dataset.take(n)). "
                f"Received: limit={self.limit}, data=a tf.data.Dataset"
            )
        count = training_size(data, self.limit, self.data_dir)
        if count is not None and self.batch_size > count:
            raise ValueError(
                f"`batch_size` must be at most the {count:,} training images of this run "
                f"({data if isinstance(data, str) else 'the arrays'}"
                f"{', limit ' + str(self.limit) if self.limit else ''}). "
                f"Received: batch_size={self.batch_size}"
            )
