"""What :func:`keras_cnn.train.train` feeds ``model.fit``: training and test data, counted.

TFDS datasets go through ``tf.data`` (:func:`keras_cnn.data.load`). The embedded digits and
``(images, labels)`` arrays do too under the TensorFlow backend; under JAX or PyTorch they
go through :class:`keras_cnn.data.ArrayBatches` (numpy, the same shuffling, mean
subtraction and augmentation), so TensorFlow need not be installed.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import keras
import numpy as np

from keras_cnn.training import data as data_lib


def is_tf_dataset(value) -> bool:
    """Whether ``value`` is a ``tf.data.Dataset`` (without importing TensorFlow)."""
    return type(value).__module__.startswith("tensorflow") and hasattr(value, "element_spec")


def pair(value, what: str) -> tuple[np.ndarray, np.ndarray]:
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


def limited(count: int | None, limit: int | None) -> int | None:
    """The one limit rule: the first ``limit`` of ``count`` images (None: count unknown)."""
    if count is None:
        return None
    return count if limit is None else min(count, limit)


class TrainingData(NamedTuple):
    """What one run feeds ``model.fit`` (see :func:`training_data`)."""

    #: The training batches: a ``tf.data.Dataset`` or an :class:`~keras_cnn.data.ArrayBatches`.
    train: Any
    #: The test batches measured after every epoch, or None.
    test: Any
    #: Training images per epoch (global, all processes), or None when unknown.
    images: int | None
    #: Test images, or None when unknown or no test data.
    test_images: int | None
    #: What the data was: the dataset name, ``"arrays"`` or ``"dataset"``.
    label: str


def training_size(data, limit: int | None, data_dir=None) -> int | None:
    """How many training images an epoch has, known before loading (None if unknown).

    The same count :func:`training_data` reports: a dataset name's training split or the
    arrays, under :func:`limited`; None for a ``tf.data.Dataset``.
    """
    if isinstance(data, str):
        return limited(data_lib.num_examples(data, "train", data_dir=data_dir), limit)
    if isinstance(data, tuple):
        return limited(len(pair(data, "data")[0]), limit)
    return None


def training_data(
    data,
    validation,
    *,
    batch_size: int,
    input_shape: tuple[int, int, int],
    augment: bool = False,
    seed: int | None = None,
    limit: int | None = None,
    data_dir=None,
    shard: tuple[int, int] = (0, 1),
) -> TrainingData:
    """The training and test data of one run, their image counts and label.

    One rule for ``limit``: the first ``limit`` images of every split given by name or as
    arrays (training and test alike); a ``tf.data.Dataset`` is used whole. Images are
    adapted to ``input_shape``. TFDS datasets use ``tf.data``; in-memory data (the
    embedded digits, arrays) uses it under the TensorFlow backend and
    :class:`keras_cnn.data.ArrayBatches` under the others. Across ``shard[1]`` processes
    every process drops the last, smaller batch, so an epoch counts whole batches only.

    Args:
        data: a dataset name, ``(images, labels)`` or a batched ``tf.data.Dataset``.
        validation: a split name of ``data`` (arrays and a dataset have none: then no
            test data), ``(images, labels)``, a dataset or None.
        batch_size: int. The global batch size.
        input_shape: ``(height, width, channels)`` of the model.
        augment: bool. The papers' pad-crop(-flip) augmentation of the training data.
        seed: optional int for the order and the augmentation.
        limit: optional int (see above).
        data_dir: TFDS data directory.
        shard: ``(process index, process count)`` of an in-memory feed.

    Returns:
        A :class:`TrainingData`.
    """
    if is_tf_dataset(data):
        train, images, label = data, None, "dataset"
    elif isinstance(data, str):
        train, images = _named(
            data, "train", batch_size, input_shape, augment, seed, limit, data_dir, shard
        )
        label = data
    elif isinstance(data, tuple):
        x, y = pair(data, "data")
        train, images = _in_memory(
            x[:limit], y[:limit], batch_size, input_shape, augment, False, seed, True, shard
        )
        label = "arrays"
    else:
        raise ValueError(
            "`data` must be a dataset name, an (images, labels) tuple or a batched "
            f"tf.data.Dataset. Received: data={type(data).__name__}"
        )
    if validation is None:
        test, test_images = None, None
    elif is_tf_dataset(validation):
        test, test_images = validation, None
    elif isinstance(validation, str):
        if not isinstance(data, str):  # arrays and datasets have no splits: no test data
            return TrainingData(train, None, images, None, label)
        test, test_images = _named(
            data, validation, batch_size, input_shape, False, None, limit, data_dir, shard
        )
    else:
        x, y = pair(validation, "validation")
        test, test_images = _in_memory(
            x[:limit], y[:limit], batch_size, input_shape, False, False, None, False, shard
        )
    return TrainingData(train, test, images, test_images, label)


def _named(name, split, batch_size, input_shape, augment, seed, limit, data_dir, shard):
    """One split of a dataset name as batches, and its image count."""
    train = split == "train"
    if data_lib.spec(name).source == "tfds" or keras.backend.backend() == "tensorflow":
        batches = data_lib.load(
            name,
            split,
            batch_size=batch_size,
            data_dir=data_dir,
            input_shape=input_shape,
            augment=augment,
            seed=seed,
            limit=limit,
            shuffle=train,
        )
        return batches, limited(data_lib.num_examples(name, split, data_dir=data_dir), limit)
    x, y = data_lib.arrays(name, split, input_shape=input_shape, limit=limit)
    flip = data_lib.spec(name).flip
    return _in_memory(x, y, batch_size, None, augment, flip, seed, train, shard)


def _in_memory(x, y, batch_size, input_shape, augment, flip, seed, shuffle, shard):
    """Arrays as batches (``tf.data`` under TensorFlow, else ArrayBatches), and their count."""
    if input_shape is not None:
        x = data_lib.adapt_arrays(x, input_shape)
    if keras.backend.backend() != "tensorflow" or shard[1] > 1:
        batches = data_lib.ArrayBatches(
            x, y, batch_size, shuffle=shuffle, augment=augment, flip=flip, seed=seed, shard=shard
        )
        return batches, len(batches) * batch_size if shard[1] > 1 else len(x)
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.cache().shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    if augment:
        ds = ds.map(lambda a, b: (data_lib.augment_image(a, flip=flip), b))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE), len(x)
