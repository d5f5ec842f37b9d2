"""Feature extraction: a model with one output per stage, as timm's ``features_only=True``.

A *stage* ends where the network next downsamples: its output is the last tensor at that
stride (pixels of the input per feature-map pixel) that every path from the input to the
output passes through. That one rule finds the stages of every family in the registry
without a table of layer names, and the same ones timm's feature extractors return:

=============  =====================================================  ================
family         stage outputs                                          strides
=============  =====================================================  ================
ResNet v1      conv1_relu, conv2_block3_out … conv5_block3_out         2, 4, 8, 16, 32
ResNet v2      conv1_conv, conv2_block2_out … post_relu                2, 4, 8, 16, 32
VGG            block1_conv2 … block5_conv3, block5_pool               1, 2, 4, 8, 16, 32
GoogLeNet      conv1_7x7, conv2_3x3, inception_3b/4e/5b_output        2, 4, 8, 16, 32
CIFAR ResNet   conv2_block{n}_out, conv3_…, conv4_…                   1, 2, 4
=============  =====================================================  ================

(keras.applications' ResNet v2 downsamples in the *last* block of conv2-conv4, so its stride-4
stage ends one block before ``conv2``'s last.) Padding layers are never a stage's output.

Example:
    >>> backbone = feature_extractor(build_resnet(50, include_top=False))
    >>> [(s.layer, s.stride, s.channels) for s in backbone.feature_info][:2]
    [('conv1_relu', 2, 64), ('conv2_block3_out', 4, 256)]
    >>> [tuple(y.shape) for y in backbone(np.zeros((1, 224, 224, 3)))][-1]
    (1, 7, 7, 2048)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import keras


class Stage(NamedTuple):
    """One stage of a network, as timm's ``feature_info`` lists it."""

    index: int
    #: The layer whose output is the stage's output.
    layer: str
    #: Input pixels per pixel of the stage's feature map.
    stride: int
    channels: int


#: Layers whose output is never a stage's output (they only pad or reshuffle).
_SKIPPED = ("InputLayer", "ZeroPadding2D", "Permute")


def _parents(op) -> list:
    if type(op).__name__ == "InputLayer":
        return []
    node = op._inbound_nodes[0]
    return [t._keras_history.operation for t in keras.tree.flatten(node.input_tensors)]


def _stride(op) -> int:
    strides = getattr(op, "strides", None)
    if strides is None:
        return 1
    return int(strides if isinstance(strides, int) else strides[0])


def _graph(model: keras.Model) -> list:
    """The model's operations in topological order (each after the ones it reads)."""
    if len(getattr(model, "inputs", None) or []) != 1:
        raise ValueError(
            f"feature_extractor needs a functional model with one input. Received: "
            f"{getattr(model, 'name', model)!r} ({type(model).__name__})"
        )
    ops, ordered = list(model.operations), []
    for op in ops:
        if isinstance(op, keras.Model):
            raise ValueError(
                f"feature_extractor works on a flat model: {op.name!r} is a model nested in "
                f"{model.name!r}. Pass the nested model itself."
            )
    parents = {id(op): _parents(op) for op in ops}
    waiting = {id(op): len(parents[id(op)]) for op in ops}
    readers: dict[int, list] = {}
    for op in ops:
        for parent in parents[id(op)]:
            readers.setdefault(id(parent), []).append(op)
    ready = [op for op in ops if not waiting[id(op)]]
    while ready:
        op = ready.pop()
        ordered.append(op)
        for reader in readers.get(id(op), []):
            waiting[id(reader)] -= 1
            if not waiting[id(reader)]:
                ready.append(reader)
    if len(ordered) < len(ops):
        raise ValueError(f"{model.name!r}: its graph could not be ordered.")
    return ordered


def _stages(model: keras.Model) -> list[tuple[Stage, object]]:
    """``(stage, output tensor)`` for every stage of ``model``, shallowest first."""
    ops = _graph(model)
    children: dict[int, int] = {}
    stride: dict[int, int] = {}
    for op in ops:
        parents = _parents(op)
        for parent in parents:
            children[id(parent)] = children.get(id(parent), 0) + 1
        stride[id(op)] = max([stride[id(p)] for p in parents] or [1]) * _stride(op)
    # In topological order an op is on every path when no edge passes it: open_edges counts
    # the edges that leave the ops seen so far and have not yet arrived.
    found: dict[int, tuple[Stage, object]] = {}
    open_edges = 0
    for op in ops:
        open_edges -= len(_parents(op))
        output = op._inbound_nodes[0].output_tensors[0]
        if (
            open_edges == 0
            and len(output.shape) == 4
            and type(op).__name__ not in _SKIPPED
            and "_preact" not in op.name  # a pre-activation belongs to the next block
        ):
            s = stride[id(op)]
            found[s] = (Stage(0, op.name, s, int(output.shape[-1])), output)
        open_edges += children.get(id(op), 0)
    return [(stage._replace(index=i), t) for i, (stage, t) in enumerate(found.values())]


def stages(model: keras.Model) -> list[Stage]:
    """The stages of ``model``: the last tensor at each stride that every path passes through.

    Args:
        model: keras.Model. A functional model of 2-D images, channels last (every model of
            the registry, with or without its top).

    Returns:
        The stages (:class:`Stage`: index, layer, stride, channels), shallowest first.

    Raises:
        ValueError: for a model that is not a flat single-input functional graph.

    Example:
        >>> [s.layer for s in stages(build_lenet5())]
        ['c1', 'c3', 'c5']
    """
    return [stage for stage, _ in _stages(model)]


def feature_extractor(
    model: keras.Model, stages: Sequence[int | str] | None = None, *, name: str | None = None
) -> keras.Model:
    """A model with one output per stage of ``model``, sharing its layers and weights.

    Args:
        model: keras.Model. Any registry model (``get_model("resnet50")``), with or without
            its top: the head is left out.
        stages: sequence of int or str, or None. Which stages, by index (timm's
            ``out_indices``; negative counts from the end) or by layer name. Defaults to
            None: every stage.
        name: str or None. The new model's name. Defaults to ``{model.name}_features``.

    Returns:
        A ``keras.Model`` whose outputs are the stages' feature maps, with the stages as
        ``feature_info`` (a list of :class:`Stage`: index, layer, stride, channels).

    Raises:
        ValueError: for an unknown stage (naming the stages there are) or a model without
            a plain functional graph.

    Example:
        >>> backbone = feature_extractor(get_model("vgg16"), stages=[-2, -1])
        >>> [(s.layer, s.stride) for s in backbone.feature_info]
        [('block5_conv3', 16), ('block5_pool', 32)]
    """
    found = _stages(model)
    chosen = found
    if stages is not None:
        by_name = {stage.layer: (stage, t) for stage, t in found}
        chosen = []
        for key in stages:
            if isinstance(key, str) and key in by_name:
                chosen.append(by_name[key])
            elif (
                isinstance(key, int)
                and not isinstance(key, bool)
                and -len(found) <= key < len(found)
            ):
                chosen.append(found[key])
            else:
                listed = ", ".join(f"{s.index}: {s.layer} (stride {s.stride})" for s, _ in found)
                raise ValueError(
                    f"{model.name} has no stage {key!r}; its stages are {listed}. "
                    f"Received: stages={list(stages)!r}"
                )
    extractor = keras.Model(
        model.inputs, [t for _, t in chosen], name=name or f"{model.name}_features"
    )
    extractor.feature_info = [stage for stage, _ in chosen]
    return extractor
