"""Image transforms of the input pipelines, each in TensorFlow and as its numpy twin.

The ``tf.data`` pipeline (:func:`keras_cnn.data.load`) uses the TensorFlow ones; the
in-memory one (:class:`keras_cnn.data.ArrayBatches`, every Keras backend, no TensorFlow
needed) the numpy ones, which give the same numbers:

* resizing: ``tf.image.resize(method="bilinear")`` / :func:`resize_bilinear` (half-pixel
  centres, no antialiasing);
* grey <-> RGB and resize to a model's input: :func:`adapt_images` / :func:`adapt_arrays`;
* the papers' augmentation (He et al. 2015, §4.2: 4-pixel zero padding, a random crop, a
  random horizontal flip): :func:`augment_image` / :func:`augment_arrays`.

They are importable from :mod:`keras_cnn.data` as before.
"""

from __future__ import annotations

import numpy as np

#: Zero padding before the random crop (He et al. 2015, §4.2: "4 pixels are padded on each side").
PAD = 4
#: Weights of TensorFlow's ``rgb_to_grayscale`` (ITU-R BT.601 luma).
GREY_WEIGHTS = np.array([0.2989, 0.5870, 0.1140], "float32")


def _bilinear_axis(size_in: int, size_out: int):
    position = (np.arange(size_out) + 0.5) * (size_in / size_out) - 0.5
    floor = np.floor(position)
    low = np.clip(floor, 0, size_in - 1).astype("int64")
    high = np.clip(np.ceil(position), 0, size_in - 1).astype("int64")
    return low, high, (position - floor).astype("float32")


def resize_bilinear(images: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of ``(..., H, W, C)`` float arrays, as ``tf.image.resize`` does.

    Half-pixel centres, no antialiasing: the same numbers as TensorFlow's default
    ``method="bilinear"`` (to float32 rounding), without TensorFlow.

    Args:
        images: float array ``(..., H, W, C)``.
        size: ``(height, width)`` wanted.

    Returns:
        A float32 array ``(..., height, width, C)``.
    """
    images = np.asarray(images, "float32")
    low, high, frac = _bilinear_axis(images.shape[-3], size[0])
    frac = frac[:, None, None]
    images = images[..., low, :, :] * (1 - frac) + images[..., high, :, :] * frac
    low, high, frac = _bilinear_axis(images.shape[-2], size[1])
    frac = frac[:, None]
    return images[..., low, :] * (1 - frac) + images[..., high, :] * frac


def adapt_images(images, shape: tuple[int, int, int]):
    """Resize (bilinear) and convert grey <-> RGB a float image or batch to ``shape``.

    Args:
        images: float tensor ``(H, W, C)`` or ``(N, H, W, C)``.
        shape: ``(height, width, channels)`` wanted; channels 1 or 3.

    Returns:
        A float32 tensor with the wanted height, width and channels.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, tf.float32)
    height, width, channels = shape
    if tuple(images.shape[-3:-1]) != (height, width):
        images = tf.image.resize(images, (height, width), method="bilinear")
    have = images.shape[-1]
    if have == 1 and channels == 3:
        images = tf.image.grayscale_to_rgb(images)
    elif have == 3 and channels == 1:
        images = tf.image.rgb_to_grayscale(images)
    return images


def adapt_arrays(images, shape: tuple[int, int, int]) -> np.ndarray:
    """:func:`adapt_images` for numpy arrays, without TensorFlow (the same numbers).

    Args:
        images: float array ``(H, W, C)`` or ``(N, H, W, C)``.
        shape: ``(height, width, channels)`` wanted; channels 1 or 3.

    Returns:
        A float32 numpy array with the wanted height, width and channels.
    """
    images = np.asarray(images, "float32")
    height, width, channels = shape
    if tuple(images.shape[-3:-1]) != (height, width):
        images = resize_bilinear(images, (height, width))
    have = images.shape[-1]
    if have == 1 and channels == 3:
        images = np.repeat(images, 3, axis=-1)
    elif have == 3 and channels == 1:
        images = (images @ GREY_WEIGHTS)[..., None]
    return images


def augment_image(image, *, flip: bool, pad: int = PAD):
    """The papers' augmentation of one (mean-subtracted) image: pad, random crop, flip.

    Args:
        image: float tensor ``(H, W, C)``.
        flip: bool. Also flip left-right with probability 1/2.
        pad: int. Zero padding on each side before the crop. Defaults to 4.

    Returns:
        The augmented image, same shape.
    """
    import tensorflow as tf

    height, width, channels = image.shape
    image = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]])
    image = tf.image.random_crop(image, (height, width, channels))
    if flip:
        image = tf.image.random_flip_left_right(image)
    return image


def augment_arrays(images: np.ndarray, rng: np.random.Generator, *, flip: bool, pad: int = PAD):
    """:func:`augment_image` for a numpy batch: pad, random crop and flip, per image.

    Args:
        images: float array ``(N, H, W, C)`` (mean-subtracted, so the padding is the mean).
        rng: a ``numpy.random.Generator`` drawing the offsets and flips.
        flip: bool. Also flip left-right with probability 1/2.
        pad: int. Zero padding on each side before the crop. Defaults to 4.

    Returns:
        The augmented batch, same shape.
    """
    count, height, width, _ = images.shape
    padded = np.pad(images, [(0, 0), (pad, pad), (pad, pad), (0, 0)])
    rows = rng.integers(0, 2 * pad + 1, count)[:, None] + np.arange(height)
    columns = np.arange(width)
    columns = np.where(
        (rng.random(count) < 0.5)[:, None] if flip else np.zeros((count, 1), bool),
        columns[::-1],
        columns,
    )
    columns = columns + rng.integers(0, 2 * pad + 1, count)[:, None]
    index = np.arange(count)[:, None, None]
    return padded[index, rows[:, :, None], columns[:, None, :]]
