"""Look inside a model: a layer table, parameters, multiply-adds, receptive fields, depth.

Everything here is computed from the model's own graph, so it holds for any functional or
``Sequential`` Keras model, not only the ones this package builds. A model nested in another
(a backbone called as one layer) is expanded in place: the totals and receptive fields are
those of the flattened model, and its layers' names are prefixed with its own
(``"resnet50/conv1_conv"``). A layer called several times is counted on every call (its
weights once). A model without a graph (subclassed, or a ``Sequential`` without an input
shape) raises a ``ValueError`` rather than giving a wrong number.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import keras
import pandas as pd

from keras_cnn.analysis.graph import flatten

#: Layers that look at a window of pixels: class name -> (kernel, strides, dilation) attrs.
_WINDOWED = {
    "Conv2D": ("kernel_size", "strides", "dilation_rate"),
    "DepthwiseConv2D": ("kernel_size", "strides", "dilation_rate"),
    "SeparableConv2D": ("kernel_size", "strides", "dilation_rate"),
    "MaxPooling2D": ("pool_size", "strides", None),
    "AveragePooling2D": ("pool_size", "strides", None),
}
#: Layers after which the output no longer has a spatial layout.
_GLOBAL = {"GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten", "Dense", "Reshape"}
#: Columns of :func:`summarize`.
_COLUMNS = ("layer", "type", "output_shape", "params", "macs", "receptive_field")
#: Layers whose weights make a network "deep" in the papers' sense.
_WEIGHT_LAYERS = {"Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense"}

T = TypeVar("T")


@dataclass(frozen=True)
class _Field:
    """Receptive field size and jump (distance in input pixels between outputs)."""

    size: int
    jump: int


@dataclass(frozen=True)
class _Call:
    """One call of a layer in the flattened graph of a model.

    ``name`` is qualified by the nested models the layer sits in (``"backbone/conv1_conv"``);
    ``params`` counts the layer's weights on its first call only, so a shared layer's weights
    are counted once while its multiply-adds are counted on every call.
    """

    name: str
    path: str
    layer: object
    output_shape: tuple
    params: int
    macs: int
    field: _Field | None
    depth: int


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, list | tuple) else (value, value)


def _macs(layer, output_shape: tuple) -> int:
    """Multiply-accumulates of one call of a layer for one image (convolutions and dense)."""
    kind = type(layer).__name__
    if kind not in _WEIGHT_LAYERS:
        return 0
    spatial = math.prod(d for d in output_shape[:-1] if d is not None)
    if kind == "Dense":
        return spatial * layer.kernel.shape[0] * layer.kernel.shape[1]
    if kind == "Conv2D":
        kh, kw, cin_per_group, cout = layer.kernel.shape
        return spatial * kh * kw * cin_per_group * cout
    if kind == "DepthwiseConv2D":
        kh, kw, cin, mult = layer.kernel.shape
        return spatial * kh * kw * cin * mult
    kh, kw, cin, mult = layer.depthwise_kernel.shape  # SeparableConv2D
    return spatial * (kh * kw * cin * mult + cin * mult * layer.pointwise_kernel.shape[-1])


def _grow(op, parents: list[_Field | None]) -> _Field | None:
    """The receptive field after ``op``, from its inputs' fields (None once it is global).

    A windowed layer grows the field by ``(k - 1) * jump`` and multiplies the jump by its
    stride; a merge (Add, Concatenate) takes the largest field among its inputs, which is the
    main path's.
    """
    kind = type(op).__name__
    if kind in _GLOBAL or any(p is None for p in parents):
        return None
    base = max(parents, key=lambda f: (f.size, f.jump))
    if kind not in _WINDOWED:
        return base
    k_attr, s_attr, d_attr = _WINDOWED[kind]
    k = _pair(getattr(op, k_attr))[0]
    s = _pair(getattr(op, s_attr) or k)[0]
    d = _pair(getattr(op, d_attr))[0] if d_attr else 1
    return _Field(base.size + d * (k - 1) * base.jump, base.jump * s)


def _calls(model: keras.Model) -> list[_Call]:
    """Every layer call of the model in graph order, nested models expanded in place.

    A nested functional or ``Sequential`` model is walked with the receptive fields and
    depths of the tensors it is called on, so its layers get the numbers they would have in
    the flattened model. Its own InputLayer adds no row (the flattened model has none).

    Raises:
        ValueError: If the model, or a model nested in it, has no graph to follow.
    """
    flat = flatten(model)
    values = {key: (_Field(1, 1), 0) for key in flat.inputs}
    calls: list[_Call] = []
    for step in flat.steps:
        op = step.op
        if step.inputs:
            parents = [values[k] for k in step.inputs]
            field = _grow(op, [p[0] for p in parents])
            depth = max(p[1] for p in parents) + (type(op).__name__ in _WEIGHT_LAYERS)
            values.update({k: (field, depth) for k in step.outputs})
        if not isinstance(op, keras.layers.Layer):
            continue  # a keras.ops call: no row, but the field flows through it
        field, depth = values[step.outputs[0]]
        shape = step.output_shapes[0]
        calls.append(
            _Call(
                name=step.name,
                path=step.path,
                layer=op,
                output_shape=shape,
                params=op.count_params() if step.call == 1 and op.built else 0,
                macs=_macs(op, shape),
                field=field,
                depth=depth,
            )
        )
    return calls


def summarize(model: keras.Model) -> pd.DataFrame:
    """One row per layer: what it is, its output, its parameters, cost and field of view.

    Columns: ``layer``, ``type``, ``output_shape`` (without the batch axis),
    ``params`` (weights including batch-norm statistics, as ``count_params``),
    ``macs`` (multiply-accumulates for one image), ``receptive_field`` (input pixels
    seen along one axis; None after global pooling or flattening).

    A nested model has no row of its own: its layers are rows, named
    ``"<model>/<layer>"``; a layer's second call is a row ``"<layer> (call 2)"`` with 0
    params, so that ``params`` sums to ``model.count_params()`` and ``macs`` to
    :func:`count_macs`.

    Args:
        model: keras.Model. A functional or ``Sequential`` model, possibly with models
            nested in it.

    Returns:
        A ``pandas.DataFrame``, in the model's layer order.

    Raises:
        ValueError: If the model has no layer graph (subclassed, or a ``Sequential`` that
            does not know its input shape yet).

    Example:
        >>> table = summarize(build_resnet(50))
        >>> int(table.params.sum())
        25636712
    """
    rows = [
        {
            "layer": call.name,
            "type": type(call.layer).__name__,
            "output_shape": call.output_shape,
            "params": call.params,
            "macs": call.macs,
            "receptive_field": call.field.size if call.field else None,
        }
        for call in _calls(model)
    ]
    table = pd.DataFrame(rows, columns=list(_COLUMNS))
    table["receptive_field"] = table["receptive_field"].astype("Int64")
    return table


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates of one forward pass for one image ("FLOPs" in He et al.).

    The papers count the multiply-adds of the convolutions and fully connected layers
    (ResNet-50: 3.8 x 10^9 at 224x224); batch norm, activations, pooling and additions
    are left out, as there. Nested models count their layers; a shared layer counts once
    per call.

    Raises:
        ValueError: If the model has no layer graph (see :func:`summarize`).
    """
    return int(sum(call.macs for call in _calls(model)))


def receptive_field(model: keras.Model, layer_name: str) -> int:
    """The receptive field of a layer, in input pixels along one axis.

    Two stacked 3x3 convolutions see 5 pixels, three see 7 (the VGG argument).

    Args:
        model: keras.Model. A functional or ``Sequential`` model.
        layer_name: str. A layer name as in :func:`summarize` (``"backbone/conv1_conv"``); a
            nested model's layer may also be named without the model's prefix.

    Raises:
        ValueError: If the layer does not exist, has no spatial output, or names several
            calls of a shared layer whose fields differ.
    """
    calls = _calls(model)
    found = [c for c in calls if layer_name in (c.name, c.path)] or [
        c for c in calls if c.path.rpartition("/")[2] == layer_name
    ]  # every call of a shared layer; a nested model's layer without the model's name
    if not found:
        raise ValueError(
            f"Model {model.name!r} has no layer {layer_name!r}. Received: layer_name={layer_name!r}"
        )
    fields = {c.field for c in found}
    if len(fields) > 1:
        names = ", ".join(c.name for c in found)
        raise ValueError(
            f"{layer_name!r} is more than one layer call ({names}) with different receptive "
            f"fields: ask for one of them. Received: layer_name={layer_name!r}"
        )
    field = fields.pop()
    if field is None:
        raise ValueError(
            f"Layer {layer_name!r} comes after global pooling or flattening: it sees the whole "
            "input. Ask for a convolution or pooling layer."
        )
    return field.size


def weight_layers(model: keras.Model) -> int:
    """The depth the papers name a network by: weight layers on the longest path.

    VGG-16 has 16, ResNet-50 50 (the projection shortcuts are side paths), GoogLeNet 22.
    """
    return max((call.depth for call in _calls(model)), default=0)


def totals(model: keras.Model) -> dict[str, int]:
    """Parameters (all, trainable), multiply-adds and depth of a model."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    return {
        "params": model.count_params(),
        "trainable_params": int(trainable),
        "macs": count_macs(model),
        "weight_layers": weight_layers(model),
        "input_size": int(model.input_shape[1] or 0),
    }


def inspect_structure(build: Callable[[], keras.Model], inspect: Callable[[keras.Model], T]) -> T:
    """Build a model without initialising its weights, and return ``inspect(model)``.

    For tables and diagrams only shapes matter: ResNet-152's summary, totals and diagram
    take 0.9 s this way instead of 2.8 s on a 2-core CPU. The model is built in a
    ``keras.StatelessScope(initialize_variables=False)``, whose variables Keras defers to the
    next eager moment of the same thread; running in a thread of its own, which ends here,
    keeps them from ever being initialised or reaching the caller. The model itself must not
    escape ``inspect``: return what it computes (``summarize(model)``, ``totals(model)`` …).

    Args:
        build: Callable[[], keras.Model]. E.g. ``lambda: get_model("resnet152")``.
        inspect: Callable[[keras.Model], T]. What to compute from the built model.

    Returns:
        What ``inspect`` returned.

    Raises:
        Whatever ``build`` or ``inspect`` raised (a builder's ``ValueError``, say).

    Example:
        >>> inspect_structure(lambda: build_resnet(152), totals)["params"]
        60419944
    """
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            with keras.StatelessScope(initialize_variables=False):
                outcome["value"] = inspect(build())
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=run, name="keras-cnn-structure")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[return-value]
