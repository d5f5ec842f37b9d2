"""ResNets: the ImageNet family (18-152, v1 and v2) and the CIFAR-10 family (6n+2)."""

from __future__ import annotations

from typing import NamedTuple

import keras
from keras import layers

from keras_cnn import _common
from keras_cnn.blocks import basic_block, bottleneck_block


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


def _check_choice(value, allowed, what: str) -> None:
    if value not in allowed:
        raise ValueError(f"`{what}` must be one of {sorted(allowed)}. Received: {what}={value!r}")


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


def build_resnet(
    depth: int = 50,
    *,
    version: int = 1,
    shortcut: str = "B",
    include_top: bool = True,
    weights: str | None = None,
    input_tensor=None,
    input_shape=None,
    pooling: str | None = None,
    classes: int = 1000,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """Build the ImageNet ResNet-18/34/50/101/152 of He et al. (2015), or its v2.

    A 7x7/2 convolution and a 3x3/2 max-pool, four stages of basic (18, 34) or
    bottleneck (50, 101, 152) blocks with 64/128/256/512 inner filters, global average
    pooling and the classifier. ``build_resnet(50)`` has the layers, names, weights
    (25,636,712 parameters) and outputs of ``keras.applications.ResNet50``, and
    ``version=2`` those of ``ResNet50V2`` (pre-activation blocks, He et al. 2016).
    ResNet-18/34 follow torchvision (no convolution biases: 11,689,512 and 21,797,672
    parameters).

    Args:
        depth: int. 18, 34, 50, 101 or 152. Defaults to 50.
        version: int. 1 (original) or 2 (pre-activation). Defaults to 1.
        shortcut: str. The paper's option: "A" (zero-padding identity), "B"
            (projection when the shape changes; the default) or "C" (all projections).
        include_top: bool. Include global average pooling and the classifier.
        weights: None, ``"imagenet"`` (50/101/152, options B) or a weights file path.
        input_tensor: optional Keras tensor to use as the input.
        input_shape: optional ``(height, width, channels)``; at least 32x32.
        pooling: None, ``"avg"`` or ``"max"`` when ``include_top=False``.
        classes: int. Defaults to 1000.
        classifier_activation: str or None. Defaults to ``"softmax"``.
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
    if depth not in RESNET_SPECS:
        raise ValueError(
            f"ResNet depth must be one of {sorted(RESNET_SPECS)}. Received: depth={depth!r}"
        )
    _check_choice(version, VERSIONS, "version")
    _check_choice(shortcut, SHORTCUT_OPTIONS, "shortcut")
    spec, ver = RESNET_SPECS[depth], VERSIONS[version]
    default_name = f"resnet{depth}" if version == 1 else f"resnet{depth}v2"
    weights_name = default_name if shortcut == "B" else None
    _common.check_args(
        weights=weights,
        weights_name=weights_name,
        include_top=include_top,
        classes=classes,
        pooling=pooling,
        classifier_activation=classifier_activation,
    )
    input_shape = _common.resolve_input_shape(
        input_shape, default_size=224, min_size=32, weights=weights
    )
    inputs, x = _common.make_input(input_tensor, input_shape)

    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(
        64, 7, strides=2, use_bias=spec.conv_bias or ver.preactivation, name="conv1_conv"
    )(x)
    if not ver.preactivation:
        x = layers.BatchNormalization(epsilon=_common.BN_EPSILON, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
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
        )
    if ver.preactivation:
        x = layers.BatchNormalization(epsilon=_common.BN_EPSILON, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = _common.pooled_head(
        x,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )
    return _common.finish(
        inputs,
        x,
        name=name or default_name,
        weights=weights,
        weights_name=weights_name,
        include_top=include_top,
    )


#: Filters of the three stages of the CIFAR-10 networks (He et al. 2015, §4.2).
CIFAR_FILTERS = (16, 32, 64)


def build_cifar_resnet(
    depth: int = 20,
    *,
    residual: bool = True,
    shortcut: str = "A",
    preactivation: bool = False,
    include_top: bool = True,
    weights: str | None = None,
    input_tensor=None,
    input_shape=None,
    pooling: str | None = None,
    classes: int = 10,
    classifier_activation: str | None = "softmax",
    name: str | None = None,
) -> keras.Model:
    """Build a CIFAR-10 ResNet (or its plain twin) of depth 6n+2 (He et al. 2015, §4.2).

    A 3x3 convolution with 16 filters, then three stages of n basic blocks with 16, 32
    and 64 filters on 32x32, 16x16 and 8x8 maps, global average pooling and a 10-way
    classifier: 6n + 2 weight layers. ResNet-20/32/44/56/110 have 0.27M / 0.46M /
    0.66M / 0.85M / 1.7M parameters with option A shortcuts (Table 6), ResNet-1202
    19.4M. ``residual=False`` builds the "plain" network of the same depth, used in
    the degradation experiment (Figure 6, left).

    Args:
        depth: int. 6n + 2: 20, 32, 44, 56, 110, 1202 …
        residual: bool. False removes every shortcut (the plain twin).
        shortcut: str. "A" (zero-padding, the paper's choice for CIFAR), "B" or "C".
        preactivation: bool. Pre-activation blocks (He et al. 2016). Defaults to False.
        include_top: bool. Include pooling and the classifier.
        weights: None or the path to a weights file (no published weights exist).
        input_tensor: optional Keras tensor to use as the input.
        input_shape: optional ``(height, width, channels)``; defaults to (32, 32, 3).
        pooling: None, ``"avg"`` or ``"max"`` when ``include_top=False``.
        classes: int. Defaults to 10.
        classifier_activation: str or None. Defaults to ``"softmax"``.
        name: str. Defaults to ``resnet20`` / ``plain20``.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: if depth is not 6n+2, or for invalid arguments.

    Example:
        >>> build_cifar_resnet(20).count_params()  # 269,722 trainable
        271098
    """
    if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(
            "CIFAR ResNet depth must be 6n+2 with n >= 1 (20, 32, 44, 56, 110, 1202 …). "
            f"Received: depth={depth!r}"
        )
    _check_choice(shortcut, SHORTCUT_OPTIONS, "shortcut")
    _common.check_args(
        weights=weights,
        weights_name=None,
        include_top=include_top,
        classes=classes,
        pooling=pooling,
        classifier_activation=classifier_activation,
    )
    input_shape = _common.resolve_input_shape(
        input_shape, default_size=32, min_size=8, weights=weights
    )
    inputs, x = _common.make_input(input_tensor, input_shape)
    n = (depth - 2) // 6

    x = layers.Conv2D(CIFAR_FILTERS[0], 3, padding="same", use_bias=False, name="conv1_conv")(x)
    if not preactivation:
        x = layers.BatchNormalization(epsilon=_common.BN_EPSILON, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    for stage, (filters, stride) in enumerate(zip(CIFAR_FILTERS, (1, 2, 2), strict=True), start=2):
        x = _stage(
            x,
            basic_block,
            filters,
            n,
            stride,
            on_last=False,
            option=shortcut if residual else None,
            name=f"conv{stage}",
            preactivation=preactivation,
        )
    if preactivation:
        x = layers.BatchNormalization(epsilon=_common.BN_EPSILON, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = _common.pooled_head(
        x,
        include_top=include_top,
        pooling=pooling,
        classes=classes,
        classifier_activation=classifier_activation,
    )
    default_name = f"{'resnet' if residual else 'plain'}{depth}"
    return _common.finish(
        inputs,
        x,
        name=name or default_name,
        weights=weights,
        weights_name=None,
        include_top=include_top,
    )
