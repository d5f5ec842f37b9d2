"""ResNets and their descendants, as tables read by a few builders.

* ``build_resnet``: the ImageNet ResNets (18-152, v1 and v2; He et al. 2015, 2016).
* ``build_resnext``: ResNeXt's grouped bottlenecks (Xie et al. 2017); with one group
  and a wider bottleneck also the ImageNet Wide ResNets (WRN-50-2, WRN-101-2).

The CIFAR-10 builders (:mod:`keras_cnn.models.cifar`: ``build_cifar_resnet``,
``build_wide_resnet``) read the same tables; the CIFAR rows are here beside them.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
from keras import layers

from keras_cnn.models import common as _common
from keras_cnn.models.blocks import basic_block, bottleneck_block


class ResNetSpec(NamedTuple):
    """One row of the ResNet table: the block kind and the blocks per stage."""

    block: str
    blocks: tuple[int, ...]
    #: Biases in convolutions that batch normalization follows. Keras' published
    #: ResNet-50/101/152 weights have them; torchvision's ResNet-18/34 do not.
    conv_bias: bool


#: depth -> block kind and stage sizes (Table 1 of He et al. 2015).
RESNET_SPECS: dict[int, ResNetSpec] = {
    18: ResNetSpec("basic", (2, 2, 2, 2), conv_bias=False),
    34: ResNetSpec("basic", (3, 4, 6, 3), conv_bias=False),
    50: ResNetSpec("bottleneck", (3, 4, 6, 3), conv_bias=True),
    101: ResNetSpec("bottleneck", (3, 4, 23, 3), conv_bias=True),
    152: ResNetSpec("bottleneck", (3, 8, 36, 3), conv_bias=True),
}
BLOCKS = {"basic": basic_block, "bottleneck": bottleneck_block}
#: Inner filters of the four stages conv2_x .. conv5_x.
STAGE_FILTERS = (64, 128, 256, 512)


class Version(NamedTuple):
    """How a ResNet version orders its blocks and where each stage downsamples."""

    preactivation: bool
    #: Stride of each stage, and whether it sits on the stage's first or last block.
    strides: tuple[int, ...]
    stride_on_last_block: bool


#: 1: the original ResNet (He et al. 2015), downsampling in the first block of
#: conv3_x..conv5_x. 2: the pre-activation ResNet (He et al. 2016) as keras.applications'
#: ResNetV2 builds it, downsampling in the last block of conv2_x..conv4_x.
VERSIONS: dict[int, Version] = {
    1: Version(preactivation=False, strides=(1, 2, 2, 2), stride_on_last_block=False),
    2: Version(preactivation=True, strides=(2, 2, 2, 1), stride_on_last_block=True),
}

#: The paper's shortcut options (He et al. 2015, §4.1): what a block uses when its
#: shape changes, and when it does not.
SHORTCUT_OPTIONS: dict[str, tuple[str, str]] = {
    "A": ("zero_pad", "identity"),
    "B": ("projection", "identity"),
    "C": ("projection", "projection"),
}


def _bn_relu(x, name: str, momentum: float):
    """``{name}_bn`` then ``{name}_relu``: the stem's and the v2 networks' last."""
    x = layers.BatchNormalization(momentum=momentum, epsilon=_common.BN_EPSILON, name=f"{name}_bn")(
        x
    )
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _stage(
    x,
    block_fn,
    filters: int,
    blocks: int,
    stride: int,
    *,
    on_last: bool,
    option: str,
    name: str,
    **block_kwargs,
):
    """A stage (``conv3_x`` …) of ``blocks`` residual blocks named ``{name}_block{i}``."""
    changed, kept = SHORTCUT_OPTIONS[option] if option else (None, None)
    for i in range(1, blocks + 1):
        block_stride = stride if i == (blocks if on_last else 1) else 1
        out_channels = filters * (4 if block_fn is bottleneck_block else 1)
        # Option B's "increasing dimensions" means channels: a strided block that keeps
        # its channels keeps the (subsampled) identity, as keras' ResNetV2 does.
        shortcut = (kept if x.shape[-1] == out_channels else changed) if option else None
        x = block_fn(
            x, filters, block_stride, shortcut=shortcut, name=f"{name}_block{i}", **block_kwargs
        )
    return x


@_common.builder()
def build_resnet(
    depth: int = 50,
    *,
    version: int = 1,
    shortcut: str = "B",
    app: _common.Application,
    bn_momentum: float = _common.BN_MOMENTUM_KERAS,
    name: str | None = None,
) -> keras.Model:
    """Build the ImageNet ResNet-18/34/50/101/152 of He et al. (2015), or its v2.

    A 7x7/2 convolution and a 3x3/2 max-pool, four stages of basic (18, 34) or
    bottleneck (50, 101, 152) blocks with 64/128/256/512 inner filters, global average
    pooling and the classifier. ``build_resnet(50)`` has the layers, names, weights
    (25,636,712 parameters) and outputs of ``keras.applications.ResNet50``, and
    ``version=2`` those of ``ResNet50V2`` (pre-activation blocks, He et al. 2016).
    ResNet-18/34 follow torchvision (no convolution biases: 11,689,512 and 21,797,672
    trainable parameters, as torchvision counts them; ``count_params()`` adds the
    batch-norm moving averages: 11,699,112 and 21,814,696).

    Args:
        depth: int. 18, 34, 50, 101 or 152. Defaults to 50.
        version: int. 1 (original) or 2 (pre-activation). Defaults to 1.
        shortcut: str. The paper's option: "A" (zero-padding identity), "B"
            (projection when the shape changes; the default) or "C" (all projections).
        include_top: bool. Include global average pooling and the classifier.
        weights: None, ``"imagenet"`` (50/101/152, options B) or a weights file path.
        input_shape: optional ``(height, width, channels)``; at least 32x32.
        {application_args}
        bn_momentum: float. Momentum of the batch-norm moving averages. Defaults to
            Keras' 0.99, as ``keras.applications`` (same layers, configs and outputs).
            Training from scratch on a small data set with plain ``model.fit``, pass
            0.9: with 0.99 the averages lag the weights for hundreds of steps and the
            model evaluates far worse than it trains (``keras_cnn.train`` sets 0.9).
        name: str. Model name; defaults to ``resnet50`` / ``resnet50v2``.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: for an unknown depth, version or shortcut, or invalid arguments.

    Reference:
        He et al., "Deep Residual Learning for Image Recognition" (arXiv:1512.03385);
        "Identity Mappings in Deep Residual Networks" (arXiv:1603.05027).

    Example:
        >>> build_resnet(50).count_params()
        25636712
    """
    _common.check_choice(depth, RESNET_SPECS, "depth", label="ResNet depth")
    _common.check_choice(version, VERSIONS, "version")
    _common.check_choice(shortcut, SHORTCUT_OPTIONS, "shortcut")
    _common.check_rate(bn_momentum, "bn_momentum")
    spec, ver = RESNET_SPECS[depth], VERSIONS[version]
    default_name = f"resnet{depth}" if version == 1 else f"resnet{depth}v2"

    def body(x):
        x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = layers.Conv2D(
            64, 7, strides=2, use_bias=spec.conv_bias or ver.preactivation, name="conv1_conv"
        )(x)
        if not ver.preactivation:
            x = _bn_relu(x, "conv1", bn_momentum)
        x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for stage, (filters, blocks, stride) in enumerate(
            zip(STAGE_FILTERS, spec.blocks, ver.strides, strict=True), start=2
        ):
            x = _stage(
                x,
                BLOCKS[spec.block],
                filters,
                blocks,
                stride,
                on_last=ver.stride_on_last_block,
                option=shortcut,
                name=f"conv{stage}",
                preactivation=ver.preactivation,
                # keras' ResNetV2 weights have no bias in the convolutions before a BN.
                use_bias=spec.conv_bias and not ver.preactivation,
                bn_momentum=bn_momentum,
            )
        return _bn_relu(x, "post", bn_momentum) if ver.preactivation else x

    return app.assemble(
        body,
        _common.avg_pool_top,
        name=name or default_name,
        default_size=224,
        min_size=32,
        weights_name=default_name if shortcut == "B" else None,
    )


#: ResNeXt depths: ResNet's bottleneck stage sizes (Xie et al. 2017, Table 1 for 50).
RESNEXT_DEPTHS = (50, 101, 152)


@_common.builder(renamed={"width": "base_width"})
def build_resnext(
    depth: int = 50,
    *,
    cardinality: int = 32,
    base_width: int = 4,
    app: _common.Application,
    bn_momentum: float = _common.BN_MOMENTUM_TORCH,
    name: str | None = None,
) -> keras.Model:
    """Build ResNeXt-50/101/152 (Xie et al. 2017): ResNet with grouped bottlenecks.

    ResNet-50/101/152's stem, stages and head, with each bottleneck's 3x3 convolution
    split into ``cardinality`` groups ("paths") of ``base_width`` channels in conv2_x
    (doubling with each stage): ResNeXt-50 (32x4d) has a 3x3 convolution of 32 x 4 = 128
    channels in 32 groups where ResNet-50 has 64 channels in one, for about the same
    parameters and multiply-adds (25.0M, 4.2G against 25.6M, 4.1G; the paper's Table 1)
    and a lower error. As in torchvision and the paper's Torch code, the stride is on
    the 3x3 convolution and no convolution before a batch norm has a bias:
    ``build_resnext(50)`` has torchvision's ``resnext50_32x4d`` 25,028,904 trainable
    parameters, ``(101, cardinality=32, base_width=8)`` ``resnext101_32x8d``'s 88,791,336 and
    ``(101, cardinality=64, base_width=4)`` ``resnext101_64x4d``'s 83,455,272.

    With one group the same table builds the ImageNet Wide ResNets of Zagoruyko &
    Komodakis (2016): ``build_resnext(50, cardinality=1, base_width=128)`` is WRN-50-2
    (torchvision's ``wide_resnet50_2``, 68,883,240), twice ResNet-50's bottleneck
    width; ``base_width=64`` is ResNet-50 with the stride on the 3x3 ("ResNet v1.5").

    Args:
        depth: int. 50, 101 or 152. Defaults to 50.
        cardinality: int. Groups of every 3x3 convolution. Defaults to 32.
        base_width: int. Channels of each group in conv2_x (the "d" of "32x4d"; timm's
            ``base_width``). Defaults to 4. The old name ``width`` still works, with a
            ``DeprecationWarning``.
        include_top: bool. Include global average pooling and the classifier.
        weights: None or the path to a weights file (no Keras weights are published).
        input_shape: optional ``(height, width, channels)``; at least 32x32.
        {application_args}
        bn_momentum: float. Momentum of the batch-norm moving averages. Defaults to 0.9
            (PyTorch's ``momentum=0.1``; there is no ``keras.applications`` twin to
            match), which a plain ``model.fit`` on a small data set needs.
        name: str. Defaults to ``resnext50_32x4d``.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: for an unknown depth, a cardinality or base width that is not a positive
            integer, or invalid arguments.

    Reference:
        Xie, Girshick, Dollár, Tu & He, "Aggregated Residual Transformations for Deep
        Neural Networks", CVPR 2017 (arXiv:1611.05431); Zagoruyko & Komodakis, "Wide
        Residual Networks", BMVC 2016 (arXiv:1605.07146).

    Example:
        >>> keras_cnn.totals(build_resnext(50))["trainable_params"]
        25028904
    """
    _common.check_choice(depth, RESNEXT_DEPTHS, "depth", label="ResNeXt depth")
    for what, value in (("cardinality", cardinality), ("base_width", base_width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"`{what}` must be a positive integer. Received: {what}={value!r}")
    _common.check_rate(bn_momentum, "bn_momentum")

    def body(x):
        x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
        x = _bn_relu(x, "conv1", bn_momentum)
        x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
        x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
        for stage, (filters, blocks, stride) in enumerate(
            zip(STAGE_FILTERS, RESNET_SPECS[depth].blocks, VERSIONS[1].strides, strict=True),
            start=2,
        ):
            x = _stage(
                x,
                bottleneck_block,
                filters,
                blocks,
                stride,
                on_last=False,
                option="B",
                name=f"conv{stage}",
                groups=cardinality,
                # conv2_x's groups have `base_width` channels; each stage doubles them.
                base_width=base_width,
                stride_in_3x3=True,
                bn_momentum=bn_momentum,
            )
        return x

    return app.assemble(
        body,
        _common.avg_pool_top,
        name=name or f"resnext{depth}_{cardinality}x{base_width}d",
        default_size=224,
        min_size=32,
    )


#: Filters of the three stages of the CIFAR-10 networks (He et al. 2015, §4.2).
CIFAR_FILTERS = (16, 32, 64)


class CifarBlock(NamedTuple):
    """A CIFAR block kind: its builder, weight layers per block, and the depth rule."""

    fn: object
    layers_per_block: int
    rule: str
    examples: str


#: The CIFAR ResNets' blocks: depth = layers_per_block * 3 * n + 2 (He et al. 2016, §4).
CIFAR_BLOCKS: dict[str, CifarBlock] = {
    "basic": CifarBlock(basic_block, 2, "6n+2", "20, 32, 44, 56, 110, 1202"),
    "bottleneck": CifarBlock(bottleneck_block, 3, "9n+2", "164, 1001"),
}
#: The deepest CIFAR ResNet built of basic blocks by default: He et al. (2016) build
#: ResNet-110 of basic blocks, ResNet-164 and ResNet-1001 of bottlenecks (Table 3);
#: the 2015 paper's networks (version 1) are all basic.
CIFAR_DEEPEST_BASIC = {1: None, 2: 110}
#: The shortcut option each version defaults to: the 2015 paper's zero-padding
#: identity (A) on CIFAR, the 2016 paper's projections (B).
CIFAR_DEFAULT_SHORTCUT = {1: "A", 2: "B"}
