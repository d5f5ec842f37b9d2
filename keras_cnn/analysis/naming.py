"""Layer names -> blocks and stages: the one table of the names the builders give.

The builders name layers as keras.applications does: ResNet ``conv4_block6_2_conv`` (stage
``conv4``, block ``conv4_block6``), VGG ``block3_conv2`` (block ``block3``), GoogLeNet
``inception_4a_3x3`` (stage ``inception_4``, block ``inception_4a``), the stem ``conv1_*``
and the head ``predictions``, ``fc1``, ``avg_pool``, ``flatten``. Three callers read them:

* :func:`block_of` -- the block of a layer, None outside blocks (the diagrams collapse by it);
* :func:`group_of` -- a group for every layer: its block, ``"stem"``, ``"head"`` or its own
  name (the gradient-flow experiment sums per group);
* :func:`stage_of` -- the stage of a block (the one-node-per-stage diagram).

Nothing here imports a deep-learning framework.

Example:
    >>> block_of("conv4_block23_2_conv"), stage_of("conv4_block23")
    ('conv4_block23', 'conv4')
    >>> group_of("conv1_bn"), group_of("predictions"), group_of("c3")
    ('stem', 'head', 'c3')
"""

from __future__ import annotations

import re

#: Prefixes that name a block: ResNet ``conv3_block2``, VGG ``block3``, ``inception_4a``.
BLOCK = re.compile(r"^(.*?block\d+|inception_\d+[a-z])(?:_|$)")
#: (pattern, group) tried in order on a layer outside blocks; no match: its own name.
GROUPS: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"^conv1_"), "stem"),  # CIFAR and ImageNet ResNet stem
    (re.compile(r"^(predictions|fc\d*|f6|avg_pool|flatten)"), "head"),
)
#: Block names -> their stage: ``conv4_block36`` -> ``conv4``, ``inception_4e`` -> ``inception_4``.
STAGES: tuple[re.Pattern, ...] = (
    re.compile(r"^(?P<stage>.+?)_block\d+$"),
    re.compile(r"^(?P<stage>inception_\d+)[a-z]$"),
)


def block_of(name: str) -> str | None:
    """The block a layer belongs to, from its name: ``conv2_block1_1_conv`` -> ``conv2_block1``.

    Args:
        name: str. A layer name.

    Returns:
        The block prefix, or ``None`` for layers outside blocks (stem, head).
    """
    match = BLOCK.match(name)
    return match.group(1) if match else None


def group_of(name: str) -> str:
    """A group for every layer: its block, else ``"stem"``, ``"head"`` or its own name.

    Args:
        name: str. A layer name, e.g. ``"conv3_block2_1_conv"``.

    Returns:
        ``"conv3_block2"``, a VGG ``"block3"``, ``"inception_4a"``, ``"stem"`` (``conv1_*``),
        ``"head"`` (see :data:`GROUPS`), or the layer's own name (LeNet-5's ``c1``, ``s2`` …).
    """
    block = block_of(name)
    if block is not None:
        return block
    return next((group for pattern, group in GROUPS if pattern.match(name)), name)


def stage_of(block: str) -> str | None:
    """The stage of a block: ``conv4_block36`` -> ``conv4``, ``inception_4e`` -> ``inception_4``.

    Args:
        block: str. A block name (as :func:`block_of` gives it) or any layer name.

    Returns:
        The stage, or None for a name that is not a block of a stage (VGG's ``block3``, a
        head layer).
    """
    for pattern in STAGES:
        match = pattern.match(block)
        if match:
            return match.group("stage")
    return None
