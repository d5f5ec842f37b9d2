"""A model's layer graph as a lesson teaches it: each layer's kind and the settings a lesson
names about it, in forward order, for :func:`keras_cnn.compare`.

:func:`taught_graph` walks the one graph walk (:mod:`keras_cnn.analysis.graph`, nested models
expanded) and keeps, for every layer that computes something, a :class:`Node`: its kind
(``"conv"``, ``"bn"``, ``"act"``, ``"pool"``, ``"add"`` ...), the settings that change the
function as taught (kernel, strides, padding, filters, bias, groups, activation) and its
inputs. Layers that only pass values on (``Dropout``, ``Identity``) or only move them around
(``Permute``, ``Reshape``, ``ZeroPadding2D`` ...) are transparent: their effect, if any, is
left to the function check. Padding is recorded as what it does: ``ZeroPadding2D(p)`` then a
``"valid"`` convolution is ``"pad p"``, as is ``padding="same"`` with stride 1 and a
``2p + 1`` kernel; a strided ``"same"`` stays ``"same"`` (Keras pads only the bottom and
right).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from keras_cnn.analysis.graph import graph as _graph
from keras_cnn.analysis.graph import graph_nodes as _graph_nodes

#: Layers that pass their input through unchanged as far as the structure goes: their effect
#: (if any) is left to the function check.
_TRANSPARENT = {"Identity", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout"}
#: Parameter-free single-input layers and ``keras.ops`` calls that only move values around
#: (option A's zero-padding shortcut can be written many ways): transparent in the structure,
#: checked by the function.
_REARRANGING = {"Permute", "Reshape", "ZeroPadding2D", "Pad", "Transpose", "Cropping2D"}
_POOLS = {"MaxPooling2D": "max", "AveragePooling2D": "avg"}
_GLOBAL_POOLS = {"GlobalAveragePooling2D": "avg", "GlobalMaxPooling2D": "max"}
_MERGES = {"Add": "add", "Concatenate": "concat", "Multiply": "multiply", "Subtract": "subtract"}


@dataclass
class Node:
    index: int
    kind: str
    settings: dict
    inputs: list
    layer: object = None
    name: str = ""
    ordinal: int = 0


def _pair(value) -> tuple:
    return tuple(value) if isinstance(value, list | tuple) else (value, value)


def _activation_name(fn) -> str:
    name = getattr(fn, "__name__", str(fn))
    return {"relu": "relu", "linear": "linear"}.get(name, name)


def _padding(kind_padding: str, kernel: tuple, strides: tuple, dilation: tuple, pad) -> object:
    """A padding as what it does: ``"pad 1"`` (on every side), ``"same"`` (asymmetric when
    strided), or the explicit ``((top, bottom), (left, right))``."""
    if kind_padding == "same":
        odd = all(k % 2 == 1 for k in kernel)
        if all(s == 1 for s in strides) and odd and pad is None:
            amounts = {d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=True)}
            return f"pad {amounts.pop()}" if len(amounts) == 1 else "same"
        return "same" if pad is None else f"{pad} then same"
    if pad is None:
        return "pad 0"
    (t, b), (left, r) = pad
    return f"pad {t}" if t == b == left == r else f"pad {pad}"


def taught_graph(model: keras.Model) -> tuple[list[Node], list[int]]:
    """The model as canonical nodes (forward order) and the indices of its outputs."""
    graph = _graph(model)
    nodes: list[Node] = []
    where: dict[int, int] = {}  # tensor id -> node index
    pads: dict[int, tuple] = {}  # tensor id -> explicit padding waiting for its consumer
    inputs = keras.tree.flatten(graph.inputs)
    for t in inputs:
        where[id(t)] = len(nodes)
        nodes.append(Node(len(nodes), "input", {"shape": tuple(t.shape[1:])}, []))

    def add(kind, settings, ins, layer=None, name=""):
        nodes.append(Node(len(nodes), kind, settings, ins, layer, name))
        return len(nodes) - 1

    for op, node in _graph_nodes(graph):
        tin = keras.tree.flatten(node.input_tensors)
        tout = keras.tree.flatten(node.output_tensors)
        kind_name = type(op).__name__
        if kind_name == "InputLayer":
            continue
        if isinstance(op, keras.Model):
            raise ValueError(
                f"{op.name!r} is a model inside the model: keras_cnn.compare follows one "
                "functional graph; build the layers into one model."
            )
        ins = [where[id(t)] for t in tin if id(t) in where]
        pad = pads.get(id(tin[0])) if len(tin) == 1 else None
        name = op.name
        out = None
        if kind_name in _TRANSPARENT or (
            kind_name == "Activation" and _activation_name(op.activation) == "linear"
        ):
            out = ins[0]
            if pad is not None:
                pads[id(tout[0])] = pad
        elif kind_name == "ZeroPadding2D" and len(ins) == 1:
            out = ins[0]
            padding = tuple(tuple(p) for p in op.padding)
            if pad is not None:
                padding = tuple(
                    (a[0] + b[0], a[1] + b[1]) for a, b in zip(pad, padding, strict=True)
                )
            pads[id(tout[0])] = padding
        elif kind_name in _REARRANGING and len(ins) == 1:
            out = ins[0]
        elif kind_name == "Conv2D":
            kernel, strides, dilation = (
                _pair(op.kernel_size),
                _pair(op.strides),
                _pair(op.dilation_rate),
            )
            settings = {
                "filters": op.filters,
                "kernel_size": kernel,
                "strides": strides,
                "padding": _padding(op.padding, kernel, strides, dilation, pad),
                "use_bias": op.use_bias,
                "groups": op.groups,
                "dilation_rate": dilation,
            }
            out = add("conv", settings, ins, op, name)
            fn = _activation_name(op.activation)
            if fn != "linear":
                out = add("act", {"fn": fn}, [out], None, name)
        elif kind_name == "Dense":
            out = add("dense", {"units": op.units, "use_bias": op.use_bias}, ins, op, name)
            fn = _activation_name(op.activation)
            if fn != "linear":
                out = add("act", {"fn": fn}, [out], None, name)
        elif kind_name == "BatchNormalization":
            axis = op.axis if isinstance(op.axis, int) else tuple(op.axis)
            rank = len(tin[0].shape)
            if isinstance(axis, int) and axis < 0:
                axis += rank
            settings = {"axis": axis, "center": op.center, "scale": op.scale}
            out = add("bn", settings, ins, op, name)
        elif kind_name in ("Activation", "ReLU", "Softmax", "LeakyReLU"):
            if kind_name == "Activation":
                fn = _activation_name(op.activation)
            elif kind_name == "ReLU":
                plain = op.max_value is None and not op.negative_slope and not op.threshold
                fn = "relu" if plain else f"relu(max_value={op.max_value})"
            else:
                fn = kind_name.lower()
            out = add("act", {"fn": fn}, ins, None, name)
        elif kind_name in _POOLS and _pair(op.pool_size) == (1, 1):
            out = ins[0]  # a 1x1 pool only subsamples (option A's strided identity)
        elif kind_name in _POOLS:
            pool = _pair(op.pool_size)
            strides = _pair(op.strides or op.pool_size)
            settings = {
                "op": _POOLS[kind_name],
                "pool_size": pool,
                "strides": strides,
                "padding": _padding(op.padding, pool, strides, (1, 1), pad)
                if _POOLS[kind_name] == "avg" or op.padding == "valid"
                else ("same" if pad is None else f"{pad} then same"),
            }
            out = add("pool", settings, ins, None, name)
        elif kind_name in _GLOBAL_POOLS:
            settings = {"op": _GLOBAL_POOLS[kind_name], "keepdims": bool(op.keepdims)}
            out = add("gpool", settings, ins, None, name)
        elif kind_name == "Flatten":
            out = add("flatten", {}, ins, None, name)
        elif kind_name in _MERGES:
            settings = {"axis": op.axis} if kind_name == "Concatenate" else {}
            out = add(_MERGES[kind_name], settings, ins, None, name)
        else:
            config = {}
            if hasattr(op, "get_config"):
                try:
                    config = {
                        k: v
                        for k, v in op.get_config().items()
                        if k not in ("name", "trainable", "dtype")
                    }
                except (NotImplementedError, TypeError):
                    config = {}
            weights = op.weights if isinstance(op, keras.layers.Layer) else []
            if not weights and len(ins) == 1:
                out = ins[0]  # slicing, padding, reshaping: left to the function check
            else:
                settings = {"config": repr(sorted(config.items()))}
                out = add(kind_name, settings, ins, op if weights else None, name)
        for t in tout:
            where[id(t)] = out
    outputs = [where[id(t)] for t in keras.tree.flatten(graph.outputs)]
    counts: dict[str, int] = {}
    for n in nodes:
        counts[n.kind] = counts.get(n.kind, 0) + 1
        n.ordinal = counts[n.kind]
    return nodes, outputs
