"""The one geometry engine: which input pixels every unit of every tensor can see.

For each tensor of the flattened model (nested functional and ``Sequential`` models expanded,
see :mod:`keras_cnn.analysis.graph`) and each of its spatial axes, an :class:`Axis`
``(start, size, jump)``: unit ``i`` along that axis sees the input pixels
``[start + i * jump, start + i * jump + size)``. It starts at ``(0, 1, 1)`` on the input and
follows the layers:

* a convolution or pooling window (1-, 2- or 3-D, depthwise, separable, dilated) grows the
  size by ``(k - 1) * d * jump``, moves the start back by its padding (``"same"`` as Keras
  pads: half before, the odd pixel after; ``"causal"``: all before) and multiplies the jump
  by its stride (:func:`keras_cnn.analysis.window.through_window`, framework-free, which the
  course's calculator uses too);
* a transposed convolution of stride 1 grows the size likewise; one of stride ``s`` whose
  kernel is a multiple of ``s`` divides the jump by ``s`` (every unit sees ``k / s`` input
  units, but where they start steps unevenly, so its units have no box: ``start`` is None);
* ``ZeroPadding*`` / ``Cropping*`` move the start, ``Permute`` reorders the axes;
* a merge (``Add``, ``Concatenate`` along channels, ...) takes the union of its inputs'
  fields (the main path's jump);
* layers that work pixel by pixel (activations, normalisations, dropout, ``Dense`` on the
  channels, ``Rescaling``, ``Identity``) and ``keras.ops`` calls that keep the spatial sizes
  (the LRN of AlexNet) keep the geometry; global pooling, ``Flatten`` and ``Reshape`` end it
  (the unit sees the whole input: no axes).

The layers are matched by type with ``isinstance``, so a subclass of ``Conv2D`` counts as
one. A layer it does not know, or one it knows but cannot follow (a convolution along an
axis that holds channels, a concatenation along a spatial axis), gives the tensors after it
a :attr:`Geometry.problem` instead of numbers: asking for their receptive field raises a
``ValueError`` that names the layer, never a plausible wrong number.

The same numbers feed :func:`keras_cnn.receptive_field`, the ``receptive_field`` column of
:func:`keras_cnn.summarize` and :func:`keras_cnn.inside.receptive_field_box`, so the box of
a unit always has the size of its layer's receptive field.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from keras import layers as L

from keras_cnn.analysis.graph import Flat, Step, flatten
from keras_cnn.analysis.window import INPUT, Axis, through_window


def _classes(*names: str) -> tuple[type, ...]:
    """The ``keras.layers`` classes of these names that this Keras has."""
    return tuple(getattr(L, n) for n in names if hasattr(L, n))


#: Convolutions, matched with isinstance: kernel, strides, dilation and padding per axis.
CONVOLUTIONS = _classes(
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
)
TRANSPOSED = _classes("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose")
POOLING = _classes(
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
)
PADDING = _classes("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
CROPPING = _classes("Cropping1D", "Cropping2D", "Cropping3D")
#: Layers after which a tensor has no spatial layout (each unit sees the whole input).
GLOBAL = _classes(
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "Flatten",
    "Reshape",
)
#: Merges of tensors of the same layout: the union of their fields.
MERGES = _classes("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")
#: Layers that work on every position by itself: the geometry passes through.
POINTWISE = _classes(
    "InputLayer",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "Softmax",
    "BatchNormalization",
    "LayerNormalization",
    "GroupNormalization",
    "UnitNormalization",
    "Normalization",
    "Rescaling",
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
    "Masking",
    "Identity",
    "Dense",
)
PERMUTE = _classes("Permute")
#: Layers whose weights make a network "deep" in the papers' sense.
WEIGHT_LAYERS = (*CONVOLUTIONS, *TRANSPOSED, L.Dense)


@dataclass(frozen=True)
class Geometry:
    """What the units of one tensor see, and how many weight layers lie before it.

    Attributes:
        axes: One entry per non-batch axis: an :class:`Axis` for a spatial axis, None for
            one that holds channels; None altogether when the tensor has no spatial layout
            (after global pooling or flattening: a unit sees the whole input).
        depth: Weight layers (convolutions, dense) on the longest path from the input.
        problem: Why the field is not known (a layer the engine does not understand), or
            None.
    """

    axes: tuple[Axis | None, ...] | None
    depth: int
    problem: str | None = None

    @property
    def spatial(self) -> tuple[Axis, ...]:
        """The spatial axes, in order."""
        return tuple(a for a in self.axes or () if a is not None)

    def field(self) -> int | tuple[int, ...] | None:
        """The receptive field: an int when every spatial axis has the same size, else one
        size per spatial axis (a (1, 7) kernel: ``(1, 7)``); None without a spatial layout.

        Raises:
            ValueError: If the field is not known (:attr:`problem`).
        """
        if self.problem:
            raise ValueError(self.problem)
        if self.axes is None or not self.spatial:
            return None
        sizes = tuple(int(a.size) for a in self.spatial)
        return sizes[0] if len(set(sizes)) == 1 else sizes


def _input(rank: int) -> Geometry:
    """A model input of ``rank`` non-batch axes, channels last."""
    if rank < 2:
        return Geometry(None, 0)
    return Geometry((INPUT,) * (rank - 1) + (None,), 0)


def _tuple(value, rank: int) -> tuple:
    return tuple(value) if isinstance(value, list | tuple) else (value,) * rank


def _before(padding: str, length, kernel: int, stride: int) -> int | None:
    """Pixels a window's padding adds before the input (None: it depends on an unknown size)."""
    if padding == "valid":
        return 0
    if padding == "causal":
        return kernel - 1
    if length is None:
        return (kernel - 1) // 2 if stride == 1 else None
    total = max((math.ceil(length / stride) - 1) * stride + kernel - length, 0)
    return total // 2


class _Cannot(Exception):
    """A layer the engine cannot follow (the message says why)."""


def _whole(size) -> int:
    """A field size, which must be whole: after a strided transposed convolution a window
    of units can cover different numbers of input pixels."""
    if Fraction(size).denominator != 1:
        raise _Cannot(
            "comes after a strided transposed convolution, and its units see different "
            "numbers of input pixels"
        )
    return int(size)


def _spatial_base(step: Step, base: Geometry) -> list[Axis]:
    """The input's spatial axes for a channels-last layer, or :class:`_Cannot`."""
    if getattr(step.op, "data_format", "channels_last") == "channels_first":
        raise _Cannot("works on channels_first data; keras_cnn follows channels_last models only")
    axes = list(base.axes[:-1])
    if any(a is None for a in axes):
        raise _Cannot("works along an axis that holds channels (moved there by a Permute)")
    return axes


def _window(step: Step, base: Geometry) -> tuple:
    op = step.op
    axes = _spatial_base(step, base)
    rank = len(axes)
    pool = isinstance(op, POOLING)
    kernel = _tuple(op.pool_size if pool else op.kernel_size, rank)
    strides = _tuple((op.strides or op.pool_size) if pool else op.strides, rank)
    dilation = (1,) * rank if pool else _tuple(op.dilation_rate, rank)
    lengths = step.input_shapes[0][:-1]
    out = []
    for a, f in enumerate(axes):
        k = dilation[a] * (kernel[a] - 1) + 1
        seen = through_window(f, k, strides[a], _before(op.padding, lengths[a], k, strides[a]))
        out.append(Axis(seen.start, _whole(seen.size), seen.jump))
    return (*out, None)


def _transposed(step: Step, base: Geometry) -> tuple:
    op = step.op
    axes = _spatial_base(step, base)
    rank = len(axes)
    kernel, strides = _tuple(op.kernel_size, rank), _tuple(op.strides, rank)
    dilation = _tuple(op.dilation_rate, rank)
    out = []
    for a, f in enumerate(axes):
        k, s = dilation[a] * (kernel[a] - 1) + 1, strides[a]
        if s == 1:  # unit o sees input units o + pad - k + 1 ... o + pad
            pad = (k - 1) // 2 if op.padding == "same" else 0
            start = None if f.start is None else f.start + (pad - k + 1) * f.jump
            out.append(Axis(start, f.size + (k - 1) * f.jump, f.jump))
        elif k % s == 0:  # each unit sees k / s input units, their start steps unevenly
            out.append(Axis(None, f.size + (k // s - 1) * f.jump, f.jump / s))
        else:
            raise _Cannot(
                f"is a transposed convolution of kernel {kernel[a]} and stride {s}: its units "
                "see different numbers of input pixels (use a kernel that is a multiple of the "
                "stride)"
            )
    return (*out, None)


def _shift(step: Step, base: Geometry) -> tuple:
    op = step.op
    padding = isinstance(op, PADDING)
    amounts = op.padding if padding else op.cropping
    if isinstance(amounts[0], int):  # the 1-D layers keep one (before, after) pair
        amounts = (amounts,)
    if getattr(op, "data_format", "channels_last") == "channels_first":
        raise _Cannot("works on channels_first data; keras_cnn follows channels_last models only")
    sign = -1 if padding else 1
    axes = list(base.axes)
    for a, (before, _after) in enumerate(amounts):
        f = axes[a]
        if f is not None:  # a Permute may have put channels here: padding them moves nothing
            start = None if f.start is None else f.start + sign * before * f.jump
            axes[a] = Axis(start, f.size, f.jump)
    return tuple(axes)


def _permute(step: Step, base: Geometry) -> tuple:
    return tuple(base.axes[d - 1] for d in step.op.dims)


def _union(fields: list[Axis | None]) -> Axis | None:
    """The union of merged fields (the main path's jump; others with another jump ignored)."""
    known = [f for f in fields if f is not None]
    if not known:
        return None
    main = max(known, key=lambda f: (f.size, f.jump))
    same = [f for f in known if f.jump == main.jump]
    if any(f.start is None for f in same):
        return Axis(None, main.size, main.jump)
    start = min(f.start for f in same)
    end = max(f.start + f.size for f in same)
    return Axis(start, _whole(end - start), main.jump)


def _merge(step: Step, parents: list[Geometry]) -> tuple:
    ranks = {len(p.axes) for p in parents}
    if len(ranks) != 1:
        raise _Cannot("merges tensors of different ranks")
    if isinstance(step.op, L.Concatenate):
        rank = ranks.pop()
        axis = step.op.axis - 1 if step.op.axis >= 0 else rank + step.op.axis
        if any(p.axes[axis] is not None for p in parents):
            raise _Cannot("concatenates along a spatial axis")
    return tuple(_union([p.axes[a] for p in parents]) for a in range(len(parents[0].axes)))


def _pointwise(step: Step, parents: list[Geometry]) -> tuple:
    if isinstance(step.op, L.Dense) and parents[0].axes[-1] is not None:
        raise _Cannot("is a Dense layer along a spatial axis (moved there by a Permute)")
    return _merge(step, parents) if len(parents) > 1 else parents[0].axes


def _operation(step: Step, parents: list[Geometry]) -> tuple:
    """A ``keras.ops`` call: followed when it keeps every spatial size (elementwise maths,
    slicing or padding the channels), as a merge of its inputs."""
    out = step.output_shapes[0]
    for p, shape in zip(parents, step.input_shapes, strict=False):
        if len(shape) != len(out) or any(
            a is not None and shape[i] != out[i] for i, a in enumerate(p.axes)
        ):
            raise _Cannot("is a keras.ops call that changes the spatial axes")
    return _merge(step, parents) if len(parents) > 1 else parents[0].axes


def _known() -> str:
    names = sorted(
        {c.__name__ for c in (*CONVOLUTIONS, *TRANSPOSED, *POOLING, *PADDING, *CROPPING)}
        | {c.__name__ for c in (*GLOBAL, *MERGES, *POINTWISE, *PERMUTE)}
    )
    return ", ".join(names)


#: What a layer does to the geometry, by kind (see :func:`_kind`).
_RULES: dict[str, Callable] = {
    "window": lambda step, parents: _window(step, parents[0]),
    "transposed": lambda step, parents: _transposed(step, parents[0]),
    "shift": lambda step, parents: _shift(step, parents[0]),
    "permute": lambda step, parents: _permute(step, parents[0]),
    "merge": _merge,
    "pointwise": _pointwise,
    "operation": _operation,
}


@functools.cache
def _kind(cls: type) -> str:
    """How the layers of a class change the geometry, matched once per class with
    ``issubclass`` (a subclass of ``Conv2D`` is a window)."""
    for classes, kind in (
        (GLOBAL, "global"),
        (CONVOLUTIONS + POOLING, "window"),
        (TRANSPOSED, "transposed"),
        (PADDING + CROPPING, "shift"),
        (PERMUTE, "permute"),
        (MERGES, "merge"),
        (POINTWISE, "pointwise"),
    ):
        if issubclass(cls, classes):
            return kind
    return "unknown" if issubclass(cls, L.Layer) else "operation"


def _follow(step: Step, parents: list[Geometry]) -> Geometry:
    """The geometry of a step's outputs from its inputs'."""
    op = step.op
    kind = _kind(type(op))
    depth = max((p.depth for p in parents), default=0) + _weighted(type(op))
    if len(step.output_shapes[0]) < 2 or kind == "global":
        return Geometry(None, depth)  # no spatial layout left
    problem = next((p.problem for p in parents if p.problem), None)
    if problem:
        return Geometry(None, depth, problem)
    if any(p.axes is None for p in parents):
        return Geometry(None, depth)  # fed by a global tensor: it sees everything
    try:
        if kind == "unknown":
            raise _Cannot(
                f"is a {type(op).__name__}, a layer keras_cnn does not know how to follow (it "
                f"follows {_known()} and their subclasses)"
            )
        return Geometry(_RULES[kind](step, parents), depth)
    except _Cannot as why:
        return Geometry(
            None,
            depth,
            f"keras_cnn cannot give receptive fields past layer {step.name!r}: it {why}.",
        )


@functools.cache
def _weighted(cls: type) -> bool:
    return issubclass(cls, WEIGHT_LAYERS)


@dataclass
class Fields:
    """The geometry of every tensor of a model (see :func:`geometry`).

    Attributes:
        flat: The flattened model the geometry was computed on.
        values: ``{tensor key: Geometry}``.
    """

    flat: Flat
    values: dict[int, Geometry]

    def of(self, step: Step) -> Geometry:
        """The geometry of a step's (first) output."""
        return self.values[step.outputs[0]]

    def find(self, name: str) -> list[tuple[str, Geometry, tuple]]:
        """``(name, geometry, output shape)`` of every call a layer name can mean.

        ``name`` is a name as in :func:`keras_cnn.summarize` (``"backbone/conv1_conv"``,
        ``"shared (call 2)"``), a top-level layer's name (a nested model's own name gives its
        output), or a nested model's layer without the model's prefix; a shared layer gives
        every call.
        """
        steps = self.flat.steps
        found = [s for s in steps if name in (s.name, s.path)]
        if not found and name in self.flat.top_outputs:
            key = self.flat.top_outputs[name]
            return [(name, self.values[key], tuple(self.flat.tensors[key].shape[1:]))]
        found = found or [s for s in steps if s.path.rpartition("/")[2] == name]
        return [(s.name, self.of(s), s.output_shapes[0]) for s in found]


def geometry(model) -> Fields:
    """The geometry of every tensor of a model, nested models expanded.

    Args:
        model: keras.Model. A functional or ``Sequential`` model.

    Returns:
        A :class:`Fields`.

    Raises:
        ValueError: If the model has no layer graph (see :func:`keras_cnn.summarize`).
    """
    flat = flatten(model)
    values = {key: _input(len(flat.tensors[key].shape) - 1) for key in flat.inputs}
    for step in flat.steps:
        if not step.inputs:
            continue  # an InputLayer: its output is a model input
        found = _follow(step, [values[k] for k in step.inputs])
        values.update(dict.fromkeys(step.outputs, found))
    return Fields(flat, values)
