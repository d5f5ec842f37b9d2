"""The CIFAR-10 networks, read from the tables of :mod:`keras_cnn.models.resnet`.

* ``build_cifar_resnet``: the CIFAR-10 ResNets, original (6n+2) and pre-activation
  (ResNet-110, and the bottleneck ResNet-164 and ResNet-1001 of He et al. 2016), and
  their plain twins.
* ``build_wide_resnet``: the CIFAR Wide ResNets WRN-d-k (Zagoruyko & Komodakis 2016).
"""

from __future__ import annotations

import keras
from keras import layers

from keras_cnn.models import common as _common
from keras_cnn.models.blocks import basic_block
from keras_cnn.models.resnet import (
    CIFAR_BLOCKS,
    CIFAR_DEEPEST_BASIC,
    CIFAR_DEFAULT_SHORTCUT,
    CIFAR_FILTERS,
    RESNEXT_DEPTHS,
    SHORTCUT_OPTIONS,
    VERSIONS,
    CifarBlock,
    _bn_relu,
    _stage,
)


def _cifar_block(depth, version: int, block: str) -> CifarBlock:
    """The block kind for ``depth``; raises the depth rule it breaks."""
    if block == "auto":
        deepest = CIFAR_DEEPEST_BASIC[version]
        block = "bottleneck" if deepest and isinstance(depth, int) and depth > deepest else "basic"
    kind = CIFAR_BLOCKS[block]
    step = 3 * kind.layers_per_block
    if (
        isinstance(depth, bool)
        or not isinstance(depth, int)
        or depth < step + 2
        or (depth - 2) % step
    ):
        what = "CIFAR ResNet" if block == "basic" else "CIFAR bottleneck ResNet"
        raise ValueError(
            f"{what} depth must be {kind.rule} with n >= 1 ({kind.examples} …). "
            f"Received: depth={depth!r}"
        )
    return kind


def _cifar_trunk(
    x,
    block_fn,
    filters: tuple[int, ...],
    n: int,
    *,
    preactivation: bool,
    option: str | None,
    bn_momentum: float,
    **block_kwargs,
):
    """The CIFAR networks' body: a 3x3 stem, three stages of ``n`` blocks (strides 1, 2,
    2 on their first block), and for pre-activation networks the final BN and ReLU."""
    x = layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv1_conv")(x)
    if not preactivation:
        x = _bn_relu(x, "conv1", bn_momentum)
    for stage, (width, stride) in enumerate(zip(filters, (1, 2, 2), strict=True), start=2):
        x = _stage(
            x,
            block_fn,
            width,
            n,
            stride,
            on_last=False,
            option=option,
            name=f"conv{stage}",
            preactivation=preactivation,
            bn_momentum=bn_momentum,
            **block_kwargs,
        )
    if preactivation:
        x = _bn_relu(x, "post", bn_momentum)
    return x


@_common.builder(classes=10)
def build_cifar_resnet(
    depth: int = 20,
    *,
    version: int = 1,
    block: str = "auto",
    residual: bool = True,
    shortcut: str | None = None,
    app: _common.Application,
    bn_momentum: float = _common.BN_MOMENTUM_TORCH,
    name: str | None = None,
) -> keras.Model:
    """Build a CIFAR-10 ResNet (or its plain twin), original or pre-activation.

    Version 1 (He et al. 2015, §4.2): a 3x3 convolution with 16 filters, then three
    stages of n basic blocks with 16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps,
    global average pooling and a 10-way classifier: 6n + 2 weight layers.
    ResNet-20/32/44/56/110 have 0.27M / 0.46M / 0.66M / 0.85M / 1.7M parameters with
    option A shortcuts (Table 6), ResNet-1202 19.4M. ``residual=False`` builds the
    "plain" network of the same depth, used in the degradation experiment (Figure 6).

    Version 2 (He et al. 2016): the same network of full pre-activation blocks (BN and
    ReLU before each convolution, a clean identity path, one BN and ReLU before the
    pooling). Up to ResNet-110 the blocks are basic; deeper ones are bottlenecks (1x1,
    3x3, 1x1 with 16/32/64 inner and 64/128/256 output channels, 9n + 2 layers):
    ResNet-164 (1.7M) and ResNet-1001 (10.2M) of Table 4.

    Args:
        depth: int. 6n + 2 for basic blocks (20, 32, 44, 56, 110, 1202 …), 9n + 2 for
            bottlenecks (164, 1001 …).
        version: int. 1 (original) or 2 (pre-activation). Defaults to 1.
        block: str. ``"basic"``, ``"bottleneck"`` or ``"auto"`` (the papers' choice:
            bottlenecks for version 2 deeper than 110, basic otherwise).
        residual: bool. False removes every shortcut (the plain twin).
        shortcut: str or None. "A" (zero-padding), "B" or "C"; defaults to each paper's
            choice: "A" for version 1, "B" (projections) for version 2.
        include_top: bool. Include pooling and the classifier.
        weights: None or the path to a weights file (no published weights exist).
        input_shape: optional ``(height, width, channels)``; defaults to (32, 32, 3).
        {application_args}
        bn_momentum: float. Momentum of the batch-norm moving averages. Defaults to 0.9,
            the papers' (Caffe/Torch) setting: on a small data set the averages follow
            the weights within an epoch, so a plain ``model.compile`` / ``model.fit``
            evaluates as well as it trains. Keras' 0.99 smooths more but lags for
            hundreds of steps (a ResNet-20 fit for a few epochs on the digits then
            evaluates near chance).
        name: str. Defaults to ``resnet20`` / ``plain20`` / ``resnet164v2``.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: if the depth breaks its block's rule, or for invalid arguments.

    Reference:
        He et al., "Deep Residual Learning for Image Recognition" (arXiv:1512.03385);
        "Identity Mappings in Deep Residual Networks" (arXiv:1603.05027).

    Example:
        >>> build_cifar_resnet(20).count_params()  # 269,722 trainable
        271098
        >>> keras_cnn.totals(build_cifar_resnet(164, version=2))["trainable_params"]
        1711770
    """
    _common.check_choice(version, VERSIONS, "version")
    _common.check_choice(block, {*CIFAR_BLOCKS, "auto"}, "block")
    kind = _cifar_block(depth, version, block)
    shortcut = CIFAR_DEFAULT_SHORTCUT[version] if shortcut is None else shortcut
    _common.check_choice(shortcut, SHORTCUT_OPTIONS, "shortcut")
    _common.check_rate(bn_momentum, "bn_momentum")

    def body(x):
        return _cifar_trunk(
            x,
            kind.fn,
            CIFAR_FILTERS,
            (depth - 2) // (3 * kind.layers_per_block),
            preactivation=VERSIONS[version].preactivation,
            option=shortcut if residual else None,
            bn_momentum=bn_momentum,
        )

    default_name = f"{'resnet' if residual else 'plain'}{depth}{'' if version == 1 else 'v2'}"
    return app.assemble(
        body, _common.avg_pool_top, name=name or default_name, default_size=32, min_size=8
    )


@_common.builder(classes=10, renamed={"width": "widen_factor"})
def build_wide_resnet(
    depth: int = 28,
    widen_factor: int = 10,
    *,
    dropout: float = 0.0,
    app: _common.Application,
    bn_momentum: float = _common.BN_MOMENTUM_TORCH,
    name: str | None = None,
) -> keras.Model:
    """Build the CIFAR Wide ResNet WRN-d-k of Zagoruyko & Komodakis (2016).

    A pre-activation CIFAR ResNet of basic blocks made ``widen_factor`` (k) times wider: a 3x3
    convolution with 16 filters, three stages of n = (d - 4) / 6 pre-activation basic
    blocks with 16k, 32k and 64k filters (a 1x1 projection where the channels change),
    BN and ReLU, global average pooling and the classifier. The paper counts d = 6n + 4
    layers; the longest path has 6n + 2 weight layers (what ``weight_layers`` reports).
    WRN-28-10 has 36.5M parameters, WRN-40-4 8.9M, WRN-16-8 11.0M
    (the paper's Tables 4 and 5); ``dropout`` between the two convolutions of every
    block is the paper's regularizer (it uses 0.3).

    The ImageNet Wide ResNets (WRN-50-2-bottleneck) are bottleneck networks:
    ``build_resnext(50, cardinality=1, base_width=128)`` or ``get_model("wide_resnet50_2")``.

    Args:
        depth: int. 6n + 4: 10, 16, 22, 28, 40 … Defaults to 28.
        widen_factor: int. The widening factor k (timm's ``widen_factor``). Defaults to 10.
            The old name ``width`` still works, with a ``DeprecationWarning``.
        dropout: float. Dropout rate between each block's convolutions. Defaults to 0.
        include_top: bool. Include pooling and the classifier.
        weights: None or the path to a weights file.
        input_shape: optional ``(height, width, channels)``; defaults to (32, 32, 3).
        {application_args}
        bn_momentum: float. Momentum of the batch-norm moving averages. Defaults to 0.9
            (the paper's Torch setting; see `build_cifar_resnet`).
        name: str. Defaults to ``wrn28_10``.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: if depth is not 6n+4, widen_factor is not a positive integer, or for
            invalid arguments.

    Reference:
        Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016 (arXiv:1605.07146).

    Example:
        >>> keras_cnn.totals(build_wide_resnet(16, 8))["trainable_params"]
        10964058
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        hint = (
            f" For the ImageNet WRN-{depth}-2 use "
            f"build_resnext({depth}, cardinality=1, base_width=128)."
            if depth in RESNEXT_DEPTHS
            else ""
        )
        raise ValueError(
            "Wide ResNet depth must be 6n+4 with n >= 1 (10, 16, 22, 28, 40 …)."
            f"{hint} Received: depth={depth!r}"
        )
    if isinstance(widen_factor, bool) or not isinstance(widen_factor, int) or widen_factor < 1:
        raise ValueError(
            f"`widen_factor` must be a positive integer. Received: widen_factor={widen_factor!r}"
        )
    _common.check_rate(dropout, "dropout")
    _common.check_rate(bn_momentum, "bn_momentum")

    def body(x):
        return _cifar_trunk(
            x,
            basic_block,
            tuple(f * widen_factor for f in CIFAR_FILTERS),
            (depth - 4) // 6,
            preactivation=True,
            option="B",
            bn_momentum=bn_momentum,
            dropout=dropout,
        )

    return app.assemble(
        body,
        _common.avg_pool_top,
        name=name or f"wrn{depth}_{widen_factor}",
        default_size=32,
        min_size=8,
    )
