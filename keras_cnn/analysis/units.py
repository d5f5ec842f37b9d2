"""A layer's units, forward: which layers hold maps, where each unit sits in the input, what
the units output.

* :func:`spatial_layers` and :func:`block_outputs` -- the layers with a map ``(N, H, W, C)``,
  and each stage's last one.
* :func:`receptive_field_box` and :func:`unit_centres` -- the input pixels one unit can see
  and the centre of every unit's field, from the one geometry engine
  (:mod:`keras_cnn.analysis.geometry`).
* :func:`feature_maps` and :func:`logits` -- the activations of chosen layers and the class
  scores before the softmax, each in one forward pass through a sub-model built once per
  model.

Works under every Keras backend; the gradient views built on it are in
:mod:`keras_cnn.analysis.attribution`. Both are shown together as :mod:`keras_cnn.inside`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence

import keras
import numpy as np

from keras_cnn.analysis import geometry as G
from keras_cnn.analysis.head import logits_head


def _batch(model: keras.Model, images) -> np.ndarray:
    """``images`` as a float32 batch matching the model's input (one image gets a batch axis)."""
    x = np.asarray(images, dtype=np.float32)
    expected = tuple(model.input_shape[1:])
    if x.ndim == len(expected):
        x = x[None]
    if x.ndim != len(expected) + 1 or any(
        e is not None and e != g for e, g in zip(expected, x.shape[1:], strict=True)
    ):
        raise ValueError(
            f"`images` must be one image of shape {expected} or a batch (N, *{expected}) for "
            f"model {model.name!r}. Received: images.shape={np.shape(images)}"
        )
    return x


def _layer(model: keras.Model, layer: str | None, *, spatial: bool = True):
    """The named layer of ``model``; with ``spatial`` it must have a (N, H, W, C) output."""
    if not isinstance(layer, str):
        raise ValueError(f"`layer` must be a layer name of {model.name!r}. Received: {layer=}")
    names = [op.name for op in model.layers]
    if layer not in names:
        raise ValueError(
            f"Model {model.name!r} has no layer {layer!r}; its spatial layers include "
            f"{spatial_layers(model)[-6:]}. Received: {layer=}"
        )
    found = model.get_layer(layer)
    if spatial and len(found.output.shape) != 4:
        raise ValueError(
            f"Layer {layer!r} has no spatial output (shape {found.output.shape}); choose one "
            f"of {spatial_layers(model)[-6:]} … Received: {layer=}"
        )
    return found


def spatial_layers(model: keras.Model) -> list[str]:
    """The layers whose output is a map ``(N, H, W, C)`` with more than one position.

    Args:
        model: keras.Model. A functional model (a model nested in it counts as one layer,
            with the geometry of its output).

    Returns:
        Their names, in the model's layer order (layers that move the channels onto a
        spatial axis, like the ``Permute`` of a zero-padding shortcut, and layers whose
        field keras_cnn cannot follow are left out).
    """
    fields = G.geometry(model)
    found = []
    for op in model.layers:
        key = fields.flat.top_outputs.get(op.name)
        if key is None or isinstance(op, keras.layers.InputLayer):
            continue
        shape = fields.flat.tensors[key].shape
        axes = fields.values[key].axes
        if (
            len(shape) == 4
            and axes is not None
            and None not in axes[:2]
            and None not in (axes[0].start, axes[1].start)
            and (shape[1] or 2) * (shape[2] or 2) > 1
        ):
            found.append(op.name)
    return found


#: Layers that only move pixels around: never shown as a stage's output.
_PLUMBING = ("ZeroPadding2D", "Cropping2D", "Permute")


def block_outputs(model: keras.Model) -> list[str]:
    """Each stage's last layer: the last spatial layer at every resolution.

    VGG-16: ``block1_conv2`` (224x224), ``block2_conv2``, …, ``block5_pool`` (7x7);
    ResNet-50: ``conv1_relu``, ``conv2_block3_out``, …, ``conv5_block3_out``. Padding
    layers are skipped.

    Args:
        model: keras.Model. A functional model.

    Returns:
        Layer names, from the input to the output.
    """
    last: dict[tuple, str] = {}
    for name in spatial_layers(model):
        found = model.get_layer(name)
        if type(found).__name__ not in _PLUMBING:
            last[tuple(found.output.shape[1:3])] = name
    order = {name: i for i, name in enumerate(op.name for op in model.layers)}
    return sorted(last.values(), key=order.__getitem__)


def _axes(model: keras.Model, layer) -> tuple[G.Axis, G.Axis, tuple]:
    """The row and column geometry of a layer with a spatial output, and that output's shape.

    ``layer`` is a layer name as :func:`keras_cnn.receptive_field` takes it (a nested
    model's layers too: ``"vgg11/block5_conv2"``).
    """
    if not isinstance(layer, str):
        raise ValueError(f"`layer` must be a layer name of {model.name!r}. Received: {layer=}")
    found = G.geometry(model).find(layer)
    if not found:
        raise ValueError(
            f"Model {model.name!r} has no layer {layer!r}; its spatial layers include "
            f"{spatial_layers(model)[-6:]}. Received: {layer=}"
        )
    if len({(g, shape) for _, g, shape in found}) > 1:
        raise ValueError(
            f"{layer!r} is more than one layer call ({', '.join(n for n, _, _ in found)}) with "
            f"different geometry: ask for one of them. Received: {layer=}"
        )
    _, geometry, shape = found[0]
    if len(shape) != 3:
        raise ValueError(
            f"Layer {layer!r} has no spatial output (shape {(None, *shape)}); choose one "
            f"of {spatial_layers(model)[-6:]} … Received: {layer=}"
        )
    if geometry.problem:
        raise ValueError(geometry.problem)
    axes = geometry.axes
    if axes is None or axes[0] is None or axes[1] is None:
        raise ValueError(
            f"Layer {layer!r} comes after global pooling or flattening (or has no spatial "
            f"axes): it sees the whole input. Received: {layer=}"
        )
    if axes[0].start is None or axes[1].start is None:
        raise ValueError(
            f"Layer {layer!r} comes after a strided transposed convolution: where its units' "
            f"fields start steps unevenly, so they have no boxes (its receptive field is "
            f"{geometry.field()}). Received: {layer=}"
        )
    return axes[0], axes[1], shape


def _position(layer: str, shape: tuple, position) -> tuple[int, int]:
    height, width = shape[:2]
    if position is None:
        return height // 2, width // 2
    if (
        not isinstance(position, Sequence)
        or len(position) != 2
        or not all(isinstance(p, int | np.integer) for p in position)
        or not (0 <= position[0] < height and 0 <= position[1] < width)
    ):
        raise ValueError(
            f"`position` must be (row, column) inside {layer!r}'s {height}x{width} output, or "
            f"None for the centre. Received: {position=}"
        )
    return int(position[0]), int(position[1])


def receptive_field_box(
    model: keras.Model, layer: str, position: tuple[int, int] | None = None, *, clip: bool = True
) -> tuple[int, int, int, int]:
    """The input pixels one unit of a layer can see: ``(top, left, bottom, right)``.

    Computed from the kernels, strides and padding on every path from the input (at a merge,
    the union of the paths), so its height and width unclipped equal
    :func:`keras_cnn.receptive_field` for the networks of this package. ``bottom`` and
    ``right`` are exclusive, as in slicing: ``image[top:bottom, left:right]``.

    Args:
        model: keras.Model. A functional model.
        layer: str. A layer with a spatial output.
        position: optional ``(row, column)`` of the unit in the layer's output; None for the
            centre ``(height // 2, width // 2)``.
        clip: bool. Clip the box to the image (the part outside is zero padding).
            Defaults to True.

    Returns:
        ``(top, left, bottom, right)`` in input pixels.

    Raises:
        ValueError: for an unknown layer, one without spatial output, or a position outside it.

    Example:
        >>> vgg = build_vgg(16)
        >>> receptive_field_box(vgg, "block1_conv2")           # 5x5 around the centre
        (110, 110, 115, 115)
        >>> receptive_field_box(vgg, "block5_conv3", (0, 0))   # 196 wide, clipped
        (0, 0, 106, 106)
    """
    rows, cols, shape = _axes(model, layer)
    row, col = _position(layer, shape, position)
    top, left = int(rows.start + row * rows.jump), int(cols.start + col * cols.jump)
    box = (top, left, top + rows.size, left + cols.size)
    if not clip:
        return box
    height, width = model.input_shape[1:3]
    return (max(box[0], 0), max(box[1], 0), min(box[2], height), min(box[3], width))


def unit_centres(model: keras.Model, layer: str) -> tuple[np.ndarray, np.ndarray]:
    """Input coordinates (pixel units, may be fractional) of the centre of every unit's field.

    Args:
        model: keras.Model.
        layer: str. A layer with a spatial output.

    Returns:
        ``(rows, columns)``: one centre per output row and per output column.
    """
    rows, cols, (height, width, _) = _axes(model, layer)
    return (
        float(rows.start) + (rows.size - 1) / 2 + float(rows.jump) * np.arange(height),
        float(cols.start) + (cols.size - 1) / 2 + float(cols.jump) * np.arange(width),
    )


def _upsample(maps: np.ndarray, centres: tuple[np.ndarray, np.ndarray], size) -> np.ndarray:
    """Bilinear interpolation of (N, h, w) maps placed at their units' field centres."""
    rows, cols = centres
    height, width = size
    y, x = np.arange(height), np.arange(width)
    out = np.empty((maps.shape[0], height, width), np.float32)
    for i, m in enumerate(maps):
        along_x = np.stack([np.interp(x, cols, r) for r in m]) if len(cols) > 1 else m[:, :1]
        along_x = np.broadcast_to(along_x, (m.shape[0], width))
        if len(rows) > 1:
            out[i] = np.stack([np.interp(y, rows, c) for c in along_x.T], axis=1)
        else:
            out[i] = along_x[:1]
    return out


_SUBMODELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _submodel(model: keras.Model, key, build: Callable[[], keras.Model]) -> keras.Model:
    """A sub-model of ``model`` built once (models are cached per model object)."""
    per_model = _SUBMODELS.setdefault(model, {})
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]


def feature_maps(
    model: keras.Model, images, layers: Sequence[str] | None = None
) -> dict[str, np.ndarray]:
    """The activations of the named layers, in one forward pass (inference mode).

    Args:
        model: keras.Model. A functional model.
        images: one image ``(H, W, C)`` or a batch ``(N, H, W, C)`` as the model expects
            (preprocessed as for ``predict``).
        layers: layer names; None for :func:`block_outputs` (each stage's last layer).

    Returns:
        ``{layer name: array (N, ...)}`` in the order asked.

    Raises:
        ValueError: for an unknown layer or images of the wrong shape.

    Example:
        >>> images = np.zeros((1, 64, 64, 3))
        >>> vgg = build_vgg(16, include_top=False, input_shape=(64, 64, 3))
        >>> feature_maps(vgg, images, ["block1_conv2"])["block1_conv2"].shape
        (1, 64, 64, 64)
    """
    names = list(block_outputs(model) if layers is None else layers)
    if isinstance(layers, str) or not names:
        raise ValueError(f"`layers` must be a non-empty list of layer names. Received: {layers=}")
    for name in names:
        _layer(model, name, spatial=False)
    x = _batch(model, images)
    sub = _submodel(
        model,
        ("maps", *names),
        lambda: keras.Model(model.input, [model.get_layer(n).output for n in names]),
    )
    outputs = sub.predict_on_batch(x)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    return {name: np.asarray(o) for name, o in zip(names, outputs, strict=True)}


def logits(model: keras.Model, images) -> np.ndarray:
    """The class scores before the final softmax (the model's output if it has none).

    Args:
        model: keras.Model.
        images: one image or a batch, as the model expects.

    Returns:
        ``(N, classes)`` float array.
    """
    x = _batch(model, images)
    features, to_logits = logits_head(model)
    sub = _submodel(model, ("features",), lambda: keras.Model(model.input, features))
    penultimate = keras.ops.convert_to_tensor(sub.predict_on_batch(x))
    return keras.ops.convert_to_numpy(to_logits(penultimate))
