"""What :func:`keras_cnn.train.train` feeds ``model.fit``: training and test data, counted.

TFDS datasets go through ``tf.data`` (:func:`keras_cnn.data.load`). The embedded digits and
``(images, labels)`` arrays do too under the TensorFlow backend; under JAX or PyTorch they
go through :class:`keras_cnn.data.ArrayBatches` (numpy, the same shuffling, mean
subtraction and augmentation), so TensorFlow need not be installed.
"""

from __future__ import annotations

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


def datasets(
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
        x, y = pair(data, "data")
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
    if is_tf_dataset(data):
        return data, None, None, "dataset"
    raise ValueError(
        "`data` must be a dataset name, an (images, labels) tuple or a batched "
        f"tf.data.Dataset. Received: data={type(data).__name__}"
    )


def validation_data(validation, *, batch_size, input_shape, shard=(0, 1)):
    """A test dataset from arrays / a dataset, or None (names are handled earlier)."""
    if validation is None or isinstance(validation, str) or is_tf_dataset(validation):
        return validation if is_tf_dataset(validation) else None
    x, y = pair(validation, "validation")
    x = data_lib.adapt_arrays(x, input_shape)
    if keras.backend.backend() != "tensorflow":
        return data_lib.ArrayBatches(x, y, batch_size, shuffle=False, shard=shard)
    import tensorflow as tf

    ds = tf.data.Dataset.from_tensor_slices((x, y))
    return ds.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def training_size(data, limit, data_dir) -> int | None:
    """How many training images an epoch has, when that is known before loading."""
    if isinstance(data, str):
        count = data_lib.num_examples(data, "train", data_dir=data_dir)
    elif isinstance(data, tuple):
        count = len(pair(data, "data")[0])
    else:
        return None
    return min(count, limit) if count and limit else count
