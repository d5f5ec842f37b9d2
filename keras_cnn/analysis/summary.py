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
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import keras
import pandas as pd
from keras import layers as L

from keras_cnn.analysis import geometry as G
from keras_cnn.analysis.graph import Step

#: Columns of :func:`summarize`.
_COLUMNS = (
    "layer",
    "type",
    "output_shape",
    "params",
    "macs",
    "receptive_field",
    "activation_bytes",
)
#: Layers with weights that do no multiply-adds in the papers' count (normalisations, PReLU).
_NO_MACS = (*G.POINTWISE, *G.MERGES, *G.POOLING, *G.GLOBAL)

T = TypeVar("T")


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
    field: G.Geometry
    activation_bytes: int | None


def _macs(step: Step) -> int:
    """Multiply-accumulates of one call of a layer for one image (convolutions and dense).

    A convolution does ``prod(kernel.shape)`` multiply-adds per output position (per input
    position for a transposed one, whose kernel is applied at every input unit); a separable
    convolution adds its pointwise kernel; a dense layer works at every position of its
    output but the last axis.

    Raises:
        ValueError: For a layer with weights that keras_cnn does not know how to count.
    """
    layer = step.op
    out = step.output_shapes[0]

    def positions(shape) -> int:
        return math.prod(d for d in shape[:-1] if d is not None)

    if isinstance(layer, G.TRANSPOSED):
        return positions(step.input_shapes[0]) * math.prod(layer.kernel.shape)
    if isinstance(layer, L.SeparableConv1D | L.SeparableConv2D):
        per = math.prod(layer.depthwise_kernel.shape) + math.prod(layer.pointwise_kernel.shape)
        return positions(out) * per
    if isinstance(layer, (*G.CONVOLUTIONS, L.Dense)):
        return positions(out) * math.prod(layer.kernel.shape)
    if layer.weights and not isinstance(layer, _NO_MACS):
        raise ValueError(
            f"keras_cnn does not know how many multiply-adds layer {step.name!r} "
            f"({type(layer).__name__}) does: it counts convolutions (1-D, 2-D, 3-D, depthwise, "
            "separable, transposed) and Dense layers, and leaves out normalisations, "
            f"activations, pooling and merges. Received: a {type(layer).__name__} layer."
        )
    return 0


def _activation_bytes(step: Step) -> int | None:
    """Bytes of a call's outputs for one image: their sizes times their dtypes' (None when a
    size is unknown)."""
    total = 0
    for shape, dtype in zip(step.output_shapes, step.dtypes, strict=True):
        if any(d is None for d in shape):
            return None
        bits = re.search(r"\d+", dtype)
        total += math.prod(shape) * (int(bits.group()) // 8 if bits else 1)  # bool: 1 byte
    return total


def _calls(model: keras.Model) -> list[_Call]:
    """Every layer call of the model in graph order, nested models expanded in place.

    A nested functional or ``Sequential`` model is walked with the receptive fields and
    depths of the tensors it is called on (:mod:`keras_cnn.analysis.geometry`), so its
    layers get the numbers they would have in the flattened model. Its own InputLayer adds
    no row (the flattened model has none); a ``keras.ops`` call adds none either.

    Raises:
        ValueError: If the model, or a model nested in it, has no graph to follow, or has a
            layer with weights whose multiply-adds keras_cnn cannot count.
    """
    fields = G.geometry(model)
    return [
        _Call(
            name=step.name,
            path=step.path,
            layer=step.op,
            output_shape=step.output_shapes[0],
            params=step.op.count_params() if step.call == 1 and step.op.built else 0,
            macs=_macs(step),
            field=fields.of(step),
            activation_bytes=_activation_bytes(step),
        )
        for step in fields.flat.steps
        if isinstance(step.op, keras.layers.Layer)
    ]


def summarize(model: keras.Model) -> pd.DataFrame:
    """One row per layer: what it is, its output, its parameters, cost and field of view.

    Columns: ``layer``, ``type``, ``output_shape`` (without the batch axis),
    ``params`` (weights including batch-norm statistics, as ``count_params``),
    ``macs`` (multiply-accumulates for one image), ``receptive_field`` (input pixels a unit
    sees, as :func:`receptive_field` gives it: an int when every spatial axis sees as many,
    else a tuple with one size per axis; None after global pooling or flattening; the
    column is an integer column (``Int64``) unless some layer's field is not square), and
    ``activation_bytes``: the memory of the layer's forward output for one image, its output
    shape's size times its dtype's bytes (4 for float32, 2 for a ``mixed_float16`` layer's
    float16 output).

    What ``activation_bytes`` counts: every row's output once, the InputLayer's (the image)
    included, and a shared layer once per call. A layer's fused activation
    (``Conv2D(..., activation="relu")``) has no output of its own, so it adds nothing, while
    a separate ``Activation``, ``BatchNormalization``, ``Dropout``, ``Flatten`` or ``Add``
    row counts its own output, although a backend may reuse or skip that memory at
    inference. The column's sum is the forward activations of one image (VGG-16, 224x224:
    15,262,696 values, 61,050,784 bytes in float32), not the training memory (the backward
    pass keeps gradients of about as many again) and not the weights. None when a size is
    unknown (an input of shape ``(None, None, 3)``).

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
            does not know its input shape yet), or has a layer keras_cnn cannot count or
            follow (the message names it): never a table with a wrong number in it.

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
            "receptive_field": call.field.field(),
            "activation_bytes": call.activation_bytes,
        }
        for call in _calls(model)
    ]
    table = pd.DataFrame(rows, columns=list(_COLUMNS))
    if not any(isinstance(f, tuple) for f in table["receptive_field"]):
        table["receptive_field"] = table["receptive_field"].astype("Int64")
    table["activation_bytes"] = table["activation_bytes"].astype("Int64")
    return table


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates of one forward pass for one image ("FLOPs" in He et al.).

    The papers count the multiply-adds of the convolutions and fully connected layers
    (ResNet-50: 3.8 x 10^9 at 224x224); batch norm, activations, pooling and additions
    are left out, as there. Convolutions of every kind count (1-D, 2-D, 3-D, depthwise,
    separable, transposed, and subclasses of them, matched by type); nested models count
    their layers; a shared layer counts once per call.

    Raises:
        ValueError: If the model has no layer graph (see :func:`summarize`), or a layer with
            weights that keras_cnn does not know how to count.

    Example:
        >>> x = keras.Input((100, 3))
        >>> count_macs(keras.Model(x, keras.layers.Conv1D(8, 5)(x)))  # 96 * 5 * 3 * 8
        11520
    """
    return int(sum(call.macs for call in _calls(model)))


def receptive_field(model: keras.Model, layer_name: str) -> int | tuple[int, ...]:
    """The receptive field of a layer: how many input pixels one of its units sees.

    Two stacked 3x3 convolutions see 5 pixels, three see 7 (the VGG argument). When every
    spatial axis sees as many pixels (square kernels, the usual case) it is one int; when the
    axes differ it is one size per spatial axis, in the input's order: a (1, 7) convolution
    on an image sees ``(1, 7)`` (rows, columns). A 1-D model gives an int, a 3-D one an int
    or three sizes.

    Args:
        model: keras.Model. A functional or ``Sequential`` model.
        layer_name: str. A layer name as in :func:`summarize` (``"backbone/conv1_conv"``); a
            nested model's layer may also be named without the model's prefix, and a nested
            model by its own name (its output).

    Returns:
        An int, or a tuple of ints (one per spatial axis) when they differ.

    Raises:
        ValueError: If the layer does not exist, has no spatial output, names several
            calls of a shared layer whose fields differ, or comes after a layer keras_cnn
            cannot follow (the message names it).

    Example:
        >>> receptive_field(build_vgg(16), "block1_conv2")
        5
    """
    found = G.geometry(model).find(layer_name)
    if not found:
        raise ValueError(
            f"Model {model.name!r} has no layer {layer_name!r}. Received: layer_name={layer_name!r}"
        )
    fields = {geometry.field() for _, geometry, _ in found}
    if len(fields) > 1:
        names = ", ".join(name for name, _, _ in found)
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
    return field


def weight_layers(model: keras.Model) -> int:
    """The depth the papers name a network by: weight layers on the longest path.

    VGG-16 has 16, ResNet-50 50 (the projection shortcuts are side paths), GoogLeNet 22.
    """
    return max((call.field.depth for call in _calls(model)), default=0)


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
        Exception: whatever ``build`` or ``inspect`` raised (a builder's ``ValueError``, say).

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
