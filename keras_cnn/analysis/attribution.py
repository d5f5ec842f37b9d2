"""Where the evidence lies, backward: gradient maps of a trained network.

* :func:`saliency` (Simonyan et al. 2014) and :func:`grad_cam` (Selvaraju et al. 2017) --
  where the evidence for a class lies in the input.
* :func:`effective_receptive_field` -- what a unit actually looks at: ``|d unit / d input|``
  (Luo et al. 2016), always inside :func:`~keras_cnn.analysis.units.receptive_field_box`.

Needs the TensorFlow, JAX or PyTorch backend (:data:`GRADIENT_BACKENDS`); the gradient
functions are compiled once per model. Built on :mod:`keras_cnn.analysis.units` (the forward
side); both are shown together as :mod:`keras_cnn.inside`.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np

from keras_cnn.analysis.gradients import GRADIENT_BACKENDS, gradient_backend
from keras_cnn.analysis.head import logits_head
from keras_cnn.analysis.units import (
    _batch,
    _layer,
    _position,
    _submodel,
    _upsample,
    logits,
    spatial_layers,
    unit_centres,
)


def _gradient(model: keras.Model, key: tuple, fn: Callable, target, *args) -> np.ndarray:
    """The gradient of the scalar ``fn(target, *args)`` with respect to ``target``; the
    compiled function is kept per model and ``key`` (``fn`` must depend on nothing else)."""
    backend = gradient_backend()
    compiled = _submodel(model, ("gradient", backend, *key), lambda: GRADIENT_BACKENDS[backend](fn))
    tensors = [keras.ops.convert_to_tensor(np.asarray(v, np.float32)) for v in (target, *args)]
    return keras.ops.convert_to_numpy(compiled(*tensors))


def _classes(class_index, logits: np.ndarray) -> np.ndarray:
    classes = logits.shape[-1]
    if class_index is None:
        return np.argmax(logits, axis=-1)
    chosen = np.broadcast_to(np.asarray(class_index), (logits.shape[0],))
    if not np.issubdtype(chosen.dtype, np.integer) or chosen.min() < 0 or chosen.max() >= classes:
        raise ValueError(
            f"`class_index` must be None (the predicted class), or an int (or one per image) "
            f"in [0, {classes}). Received: {class_index=}"
        )
    return chosen


def _one_hot(classes: np.ndarray, count: int) -> np.ndarray:
    return np.eye(count, dtype=np.float32)[classes]


def saliency(model: keras.Model, images, class_index=None) -> np.ndarray:
    """The plain gradient map: ``max over channels |d score_c / d pixel|``.

    Simonyan, Vedaldi & Zisserman (2014), "Deep inside convolutional networks". The score is
    the class logit (before the softmax).

    Args:
        model: keras.Model.
        images: one image or a batch, as the model expects.
        class_index: None for each image's predicted class, an int, or one int per image.

    Returns:
        ``(N, H, W)`` float array, each image scaled to a maximum of 1.

    Raises:
        ValueError: for invalid images or class indices.
        NotImplementedError: on a backend without gradients here (see
            :data:`GRADIENT_BACKENDS`).
    """
    x = _batch(model, images)
    scores = logits(model, x)
    picked = _one_hot(_classes(class_index, scores), scores.shape[-1])
    features, to_logits = logits_head(model)
    sub = _submodel(model, ("features",), lambda: keras.Model(model.input, features))

    def score(v, picked):
        return keras.ops.sum(to_logits(sub(v, training=False)) * picked)

    grad = np.abs(_gradient(model, ("saliency",), score, x, picked)).max(axis=-1)
    return _normalise(grad)


def _normalise(maps: np.ndarray) -> np.ndarray:
    peak = maps.reshape(len(maps), -1).max(axis=1)
    return (maps / np.where(peak > 0, peak, 1).reshape(-1, *([1] * (maps.ndim - 1)))).astype(
        np.float32
    )


def default_cam_layer(model: keras.Model) -> str:
    """The last layer with a spatial output (more than one position): Grad-CAM's default.

    Args:
        model: keras.Model.

    Returns:
        Its name (``conv5_block3_out`` for ResNet-50, ``block5_pool`` for VGG-16).

    Raises:
        ValueError: if the model has no spatial layer.
    """
    found = spatial_layers(model)
    if not found:
        raise ValueError(f"Model {model.name!r} has no layer with a spatial output.")
    return found[-1]


def grad_cam(model: keras.Model, images, class_index=None, layer: str | None = None) -> np.ndarray:
    """Where the evidence for a class lies: Grad-CAM (Selvaraju et al. 2017).

    At ``layer`` with maps ``A_k``, the weight of channel ``k`` is the spatial mean of
    ``d score_c / d A_k``; the map ``ReLU(sum_k weight_k A_k)`` is placed at the centres of
    the units' receptive fields and interpolated to the input size. The score is the class
    logit (before the softmax).

    Args:
        model: keras.Model.
        images: one image or a batch, as the model expects.
        class_index: None for each image's predicted class, an int, or one int per image.
        layer: the convolutional layer; None for :func:`default_cam_layer`.

    Returns:
        ``(N, H, W)`` float array in [0, 1], each image scaled to a maximum of 1 (all zero
        where the layer holds no positive evidence).

    Raises:
        ValueError: for an invalid layer, images or class indices.
        NotImplementedError: on a backend without gradients here (see
            :data:`GRADIENT_BACKENDS`).

    Example:
        >>> heat = grad_cam(model, x_test[:8])  # a trained model  # doctest: +SKIP
        >>> overlay(x_test[0], heat[0])          # an RGB picture  # doctest: +SKIP
    """
    layer = default_cam_layer(model) if layer is None else layer
    target = _layer(model, layer)
    x = _batch(model, images)
    features, to_logits = logits_head(model)
    probe = _submodel(
        model, ("cam-probe", layer), lambda: keras.Model(model.input, [target.output, features])
    )
    tail = _submodel(
        model, ("cam-tail", layer), lambda: keras.Model([model.input, target.output], features)
    )
    activations, penultimate = probe.predict_on_batch(x)
    scores = keras.ops.convert_to_numpy(to_logits(keras.ops.convert_to_tensor(penultimate)))
    picked = _one_hot(_classes(class_index, scores), scores.shape[-1])

    def score(a, x, picked):
        return keras.ops.sum(to_logits(tail([x, a], training=False)) * picked)

    grads = _gradient(model, ("grad-cam", layer), score, activations, x, picked)
    weights = grads.mean(axis=(1, 2), keepdims=True)
    cam = np.maximum((weights * activations).sum(axis=-1), 0)
    return _normalise(_upsample(cam, unit_centres(model, layer), model.input_shape[1:3]))


def effective_receptive_field(
    model: keras.Model,
    layer: str,
    images=None,
    *,
    position: tuple[int, int] | None = None,
    samples: int = 8,
    seed: int = 0,
) -> np.ndarray:
    """What a unit actually looks at: ``|d unit / d input|`` (Luo et al. 2016).

    The unit is the sum over channels of ``layer``'s output at ``position``; the absolute
    gradient is summed over the input channels and averaged over the images. It is zero
    outside :func:`receptive_field_box` (the box bounds it exactly: with all-positive weights
    and no ReLU cut-off its support is the box), and in a trained network it is much smaller
    and roughly Gaussian.

    Args:
        model: keras.Model.
        layer: str. A layer with a spatial output.
        images: images as the model expects; None for ``samples`` standard-normal images.
        position: optional ``(row, column)`` in the layer's output; None for the centre.
        samples: int. How many random images when ``images`` is None. Defaults to 8.
        seed: int. Seed of the random images. Defaults to 0.

    Returns:
        ``(H, W)`` float array (not normalised: the mean absolute gradient).

    Raises:
        ValueError: for an invalid layer, position or images.
        NotImplementedError: on a backend without gradients here.

    Reference:
        Luo, Li, Urtasun & Zemel (2016), "Understanding the effective receptive field in
        deep convolutional neural networks", NeurIPS.
    """
    target = _layer(model, layer)
    row, col = _position(layer, tuple(target.output.shape[1:]), position)
    if images is None:
        if not isinstance(samples, int) or samples < 1:
            raise ValueError(f"`samples` must be a positive int. Received: {samples=}")
        shape = tuple(model.input_shape[1:])
        images = np.random.default_rng(seed).standard_normal((samples, *shape), np.float32)
    x = _batch(model, images)
    sub = _submodel(model, ("output", layer), lambda: keras.Model(model.input, target.output))
    mask = np.zeros((1, *target.output.shape[1:3], 1), np.float32)
    mask[0, row, col, 0] = 1.0

    def unit(v, mask):
        return keras.ops.sum(sub(v, training=False) * mask)

    return np.abs(_gradient(model, ("erf", layer), unit, x, mask)).sum(axis=-1).mean(axis=0)
