"""The building blocks of the classic CNNs, as functions of Keras tensors.

Each block takes a Keras tensor and returns one, built from ``keras.layers`` and
``keras.ops`` only, so every Keras backend (TensorFlow, JAX, PyTorch) runs it and every
model round-trips through ``model.save`` / ``keras.models.load_model`` without
``custom_objects``. Layer names follow ``keras.applications`` (``{name}_1_conv``,
``{name}_0_conv`` for a projection shortcut, ``{name}_add``, ``{name}_out``) so the
published weights load and ``model.get_layer("conv4_block6_out")`` means what it says.
(About 500 lines, most of them the blocks' docstrings: each cites its paper's figure.)
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

from keras import layers, ops

from keras_cnn.models.common import BN_EPSILON, BN_MOMENTUM_KERAS, check_rate

#: The shortcut kinds a residual block accepts (He et al. 2015, Section 3.3):
#: "projection" is a strided 1x1 convolution (options B and C), "zero_pad" the
#: parameter-free identity padded with zero channels (option A), "identity" the plain
#: identity (subsampled when the block is strided), None no shortcut at all: the
#: "plain" twin of the degradation experiment. "auto" is the identity when the shape
#: is kept and a projection when it changes (option B).
SHORTCUTS = ("auto", "projection", "zero_pad", "identity", None)


def vgg_block(
    x,
    filters: int,
    convs: int,
    *,
    batch_norm: bool = False,
    bn_momentum: float = BN_MOMENTUM_KERAS,
    name: str = "block",
):
    """A VGG block: ``convs`` 3x3 convolutions with ReLU, then 2x2 max-pooling.

    Simonyan & Zisserman (2014) build every VGG from these: a stack of 3x3
    convolutions (stride 1, "same" padding) followed by a 2x2 max-pool of stride 2.

    Args:
        x: Keras tensor, ``(batch, height, width, channels)``.
        filters: int. Output channels of every convolution.
        convs: int. How many 3x3 convolutions.
        batch_norm: bool. Insert batch normalization between each convolution and
            its ReLU (the ``vgg16_bn`` variant). Defaults to False, as in the paper.
        bn_momentum: float. Momentum of the batch normalizations' moving averages.
            Defaults to 0.99 (Keras' own default).
        name: str. Prefix of the layer names: ``{name}_conv{i}``, ``{name}_pool``.

    Returns:
        The block's output tensor, half the height and width of ``x``.

    Reference:
        Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
        Recognition", ICLR 2015 (arXiv:1409.1556), Table 1.

    Example:
        >>> x = keras.Input((224, 224, 3))
        >>> vgg_block(x, 64, 2, name="block1").shape
        (None, 112, 112, 64)
    """
    if convs < 1:
        raise ValueError(f"A VGG block needs at least one convolution. Received: convs={convs}")
    for i in range(1, convs + 1):
        if batch_norm:
            x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv{i}")(x)
            x = layers.BatchNormalization(momentum=bn_momentum, epsilon=1e-5, name=f"{name}_bn{i}")(
                x
            )
            x = layers.Activation("relu", name=f"{name}_relu{i}")(x)
        else:
            x = layers.Conv2D(
                filters, 3, padding="same", activation="relu", name=f"{name}_conv{i}"
            )(x)
    return layers.MaxPooling2D(2, strides=2, name=f"{name}_pool")(x)


def _resolve_shortcut(shortcut, in_channels: int, out_channels: int, stride: int):
    if shortcut not in SHORTCUTS:
        raise ValueError(
            f"`shortcut` must be one of {list(SHORTCUTS)}. Received: shortcut={shortcut!r}"
        )
    same_shape = in_channels == out_channels and stride == 1
    if shortcut == "auto":
        return "identity" if in_channels == out_channels else "projection"
    if shortcut == "identity" and in_channels != out_channels:
        raise ValueError(
            "An identity shortcut needs as many input as output channels "
            f"({in_channels} != {out_channels}); use shortcut='projection' or 'zero_pad'. "
            f"Received: shortcut={shortcut!r}"
        )
    if shortcut == "zero_pad" and in_channels > out_channels:
        raise ValueError(
            f"A zero-padding shortcut cannot reduce channels ({in_channels} -> "
            f"{out_channels}). Received: shortcut={shortcut!r}"
        )
    if shortcut == "zero_pad" and same_shape:
        return "identity"
    return shortcut


def _subsample(x, stride: int, name: str):
    """Take every ``stride``-th pixel: a 1x1 max-pool, as keras' ResNetV2 does."""
    if stride == 1:
        return x
    return layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)


def _shortcut(
    x,
    kind,
    out_channels: int,
    stride: int,
    *,
    batch_norm: bool,
    bias: bool,
    bn_momentum: float,
    name: str,
):
    """The shortcut branch of a residual block (None for a plain block)."""
    if kind is None:
        return None
    if kind == "projection":
        s = layers.Conv2D(out_channels, 1, strides=stride, use_bias=bias, name=f"{name}_0_conv")(x)
        if batch_norm:
            s = _bn(s, f"{name}_0", bn_momentum)
        return s
    s = _subsample(x, stride, name)
    missing = out_channels - x.shape[-1]
    if kind == "zero_pad" and missing:
        # Option A: append zero channels. (B, H, W, C) -> (B, H, C, W), pad axis 2,
        # and back: built-in layers only, and any height and width.
        s = layers.Permute((1, 3, 2), name=f"{name}_0_transpose")(s)
        s = layers.ZeroPadding2D(((0, 0), (0, missing)), name=f"{name}_0_pad")(s)
        s = layers.Permute((1, 3, 2), name=f"{name}_0_restore")(s)
    return s


def _conv(
    x, filters: int, kernel: int, stride: int, *, groups: int = 1, bias: bool, pad: bool, name: str
):
    """A convolution; ``pad`` pads explicitly (symmetric, as Caffe/Torch) then 'valid'.

    ``groups > 1`` splits the input and output channels into that many groups, each
    convolved on its own (ResNeXt's aggregated transformations, Xie et al. 2017, Fig. 3c).
    """
    padding = "same"
    if pad and kernel > 1:
        x = layers.ZeroPadding2D(kernel // 2, name=f"{name}_pad")(x)
        padding = "valid"
    return layers.Conv2D(
        filters,
        kernel,
        strides=stride,
        padding=padding,
        groups=groups,
        use_bias=bias,
        name=f"{name}_conv",
    )(x)


def _bn(x, name: str, momentum: float):
    return layers.BatchNormalization(momentum=momentum, epsilon=BN_EPSILON, name=f"{name}_bn")(x)


def _bn_relu(x, name: str, momentum: float, relu: bool = True):
    x = _bn(x, name, momentum)
    if relu:
        x = layers.Activation("relu", name=f"{name}_relu")(x)
    return x


def _merge(shortcut, x, *, post_relu: bool, name: str):
    """y = F(x) + x (then ReLU in the original block); F(x) alone for a plain block."""
    if shortcut is None:
        if post_relu:
            return layers.Activation("relu", name=f"{name}_out")(x)
        return layers.Identity(name=f"{name}_out")(x)
    if post_relu:
        x = layers.Add(name=f"{name}_add")([shortcut, x])
        return layers.Activation("relu", name=f"{name}_out")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


class Conv(NamedTuple):
    """One convolution of a residual function F: filters, kernel, stride and groups."""

    filters: int
    kernel: int
    stride: int = 1
    groups: int = 1


def _residual(
    x,
    convs: list[Conv],
    out_channels: int,
    stride: int,
    shortcut,
    preactivation: bool,
    use_bias: bool,
    name: str,
    *,
    bn_momentum: float = BN_MOMENTUM_KERAS,
    dropout: float = 0.0,
):
    """The shared body of the basic and the bottleneck block.

    ``convs`` is the residual function F as a list of `Conv`; every convolution but the
    last is followed by batch normalization and ReLU (and ``dropout`` when it is not 0:
    the Wide ResNets' dropout between convolutions, Zagoruyko & Komodakis 2016, §2.4).
    A convolution that is not followed by batch normalization always has a bias.
    """
    check_rate(bn_momentum, "bn_momentum")
    check_rate(dropout, "dropout")
    kind = _resolve_shortcut(shortcut, x.shape[-1], out_channels, stride)

    def between(y, k):
        """What follows every convolution of F but the last one."""
        y = _bn_relu(y, f"{name}_{k}", bn_momentum)
        if dropout:
            y = layers.Dropout(dropout, name=f"{name}_{k}_dropout")(y)
        return y

    y = x
    if preactivation:
        # He et al. 2016: BN and ReLU before each convolution; the identity path
        # stays clean (no ReLU after the addition); a projection sees the activation.
        y = _bn(x, f"{name}_preact", bn_momentum)
        y = layers.Activation("relu", name=f"{name}_preact_relu")(y)
    s = _shortcut(
        y if preactivation and kind == "projection" else x,
        kind,
        out_channels,
        stride,
        batch_norm=not preactivation,
        bias=use_bias or preactivation,
        bn_momentum=bn_momentum,
        name=name,
    )
    for k, conv in enumerate(convs, start=1):
        last = k == len(convs)
        y = _conv(
            y,
            conv.filters,
            conv.kernel,
            conv.stride,
            groups=conv.groups,
            # a convolution that no batch normalization follows has a bias
            bias=use_bias or (preactivation and last),
            pad=preactivation or conv.stride > 1,
            name=f"{name}_{k}",
        )
        if not last:
            y = between(y, k)
        elif not preactivation:
            y = _bn(y, f"{name}_{k}", bn_momentum)
    return _merge(s, y, post_relu=not preactivation, name=name)


def basic_block(
    x,
    filters: int,
    stride: int = 1,
    *,
    shortcut: str | None = "auto",
    preactivation: bool = False,
    use_bias: bool = False,
    dropout: float = 0.0,
    bn_momentum: float = BN_MOMENTUM_KERAS,
    name: str = "block",
):
    """The basic residual block: two 3x3 convolutions and y = F(x) + x.

    He et al. (2015), Figure 2 and Figure 5 (left): the block of ResNet-18/34 and of the
    CIFAR-10 ResNets. With ``preactivation=True`` it is the "full pre-activation" unit
    of He et al. (2016), Figure 4(e): BN -> ReLU -> conv, twice, and no ReLU after the
    addition; with a ``dropout`` too it is the Wide ResNets' B(3,3) block (Zagoruyko &
    Komodakis 2016, Figure 1(d)).

    Args:
        x: Keras tensor, ``(batch, height, width, channels)``.
        filters: int. Channels of both convolutions and of the output.
        stride: int. Stride of the first convolution (2 halves height and width).
        shortcut: str or None. ``"auto"`` (identity, or a projection when the channels
            change), ``"projection"``, ``"zero_pad"``, ``"identity"``, or None for the
            plain twin without a shortcut. Defaults to ``"auto"``.
        preactivation: bool. Use the pre-activation ordering. Defaults to False.
        use_bias: bool. Give convolutions followed by batch normalization a bias.
            Defaults to False (torchvision's ResNet-18/34).
        dropout: float. Dropout rate between the two convolutions. Defaults to 0.
        bn_momentum: float. Momentum of the batch normalizations' moving averages.
            Defaults to 0.99 (Keras' own default).
        name: str. Prefix of the layer names (``{name}_1_conv`` … ``{name}_out``).

    Returns:
        The block's output tensor.

    Raises:
        ValueError: for an unknown or impossible ``shortcut``, or a rate outside [0, 1).

    Reference:
        He, Zhang, Ren & Sun, "Deep Residual Learning for Image Recognition", CVPR 2016
        (arXiv:1512.03385); "Identity Mappings in Deep Residual Networks", ECCV 2016
        (arXiv:1603.05027).

    Example:
        >>> x = keras.Input((32, 32, 16))
        >>> basic_block(x, 32, stride=2, shortcut="zero_pad", name="conv3_block1").shape
        (None, 16, 16, 32)
    """
    convs = [Conv(filters, 3, stride), Conv(filters, 3, 1)]
    return _residual(
        x,
        convs,
        filters,
        stride,
        shortcut,
        preactivation,
        use_bias,
        name,
        bn_momentum=bn_momentum,
        dropout=dropout,
    )


def bottleneck_block(
    x,
    filters: int,
    stride: int = 1,
    *,
    expansion: int = 4,
    groups: int = 1,
    base_width: int = 64,
    width: int | None = None,
    stride_in_3x3: bool | None = None,
    shortcut: str | None = "auto",
    preactivation: bool = False,
    use_bias: bool = False,
    bn_momentum: float = BN_MOMENTUM_KERAS,
    name: str = "block",
):
    """The bottleneck residual block: 1x1 reduce, 3x3, 1x1 expand, y = F(x) + x.

    He et al. (2015), Figure 5 (right): the block of ResNet-50/101/152. The 1x1
    convolutions reduce and then restore the channels so that the 3x3 convolution works
    on ``filters * base_width / 64 * groups`` channels (timm's rule; ``filters`` by default)
    while the block outputs ``expansion * filters``. With ``groups`` > 1 the 3x3 convolution
    is grouped: ResNeXt's block (Xie et al. 2017, Figure 3(c)) is ``groups=32,
    base_width=4``, 32 paths of 4 channels each in conv2_x (``filters=64``) and of 8, 16, 32
    in the stages after; a Wide ResNet's bottleneck (WRN-50-2) is ``base_width=128``.

    The stride sits on the first 1x1 convolution, as in the paper's Caffe models and
    ``keras.applications.ResNet50``; with ``preactivation=True`` it sits on the 3x3
    convolution, as in ``keras.applications.ResNet50V2``, torchvision and ResNeXt.
    ``stride_in_3x3`` chooses explicitly.

    Args:
        x: Keras tensor.
        filters: int. The stage's filters: the output has ``expansion * filters``.
        stride: int. Downsampling stride of the block.
        expansion: int. Output channels are ``expansion * filters``. Defaults to 4.
        groups: int. Groups of the 3x3 convolution (ResNeXt's cardinality). Defaults to 1.
        base_width: int. Channels of each group per 64 ``filters`` (timm's ``base_width``):
            the 1x1 reduction and the 3x3 convolution have ``filters * base_width // 64 *
            groups`` channels. Defaults to 64 (``filters`` channels, one group).
        width: int or None. Deprecated: the 3x3 convolution's channels directly (a
            multiple of ``groups``); use ``base_width``. Defaults to None.
        stride_in_3x3: bool or None. Put the stride on the 3x3 convolution (True) or on
            the first 1x1 (False). Defaults to None: the ordering's own place.
        shortcut: str or None. As in `basic_block`.
        preactivation: bool. Use the pre-activation ordering (ResNet v2).
        use_bias: bool. Give convolutions followed by batch normalization a bias
            (True in ``keras.applications.ResNet50``). Defaults to False.
        bn_momentum: float. Momentum of the batch normalizations' moving averages.
            Defaults to 0.99 (Keras' own default).
        name: str. Prefix of the layer names.

    Returns:
        The block's output tensor with ``expansion * filters`` channels.

    Raises:
        ValueError: if ``groups`` does not divide the width, or as `basic_block`.

    Reference:
        He et al., "Deep Residual Learning for Image Recognition" (arXiv:1512.03385);
        Xie et al., "Aggregated Residual Transformations for Deep Neural Networks",
        CVPR 2017 (arXiv:1611.05431).

    Example:
        >>> x = keras.Input((56, 56, 64))
        >>> bottleneck_block(x, 64, name="conv2_block1").shape
        (None, 56, 56, 256)
        >>> bottleneck_block(x, 64, groups=32, base_width=4, name="resnext").shape
        (None, 56, 56, 256)
    """
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"`groups` must be a positive integer. Received: groups={groups!r}")
    if isinstance(base_width, bool) or not isinstance(base_width, int) or base_width < 1:
        raise ValueError(
            f"`base_width` must be a positive integer. Received: base_width={base_width!r}"
        )
    if width is None:
        width = filters * base_width // 64 * groups
    else:
        warnings.warn(
            "bottleneck_block: `width` (the 3x3 convolution's channels) is deprecated; use "
            f"`base_width` (channels per group per 64 filters: here {width * 64 // filters // groups}).",
            DeprecationWarning,
            stacklevel=2,
        )
    if not isinstance(width, int) or width < 1 or width % groups:
        raise ValueError(
            f"The 3x3 convolution's width must be a positive multiple of `groups` ({groups}). "
            f"Received: width={width!r}, base_width={base_width!r}"
        )
    out = expansion * filters
    on_3x3 = preactivation if stride_in_3x3 is None else stride_in_3x3
    s1, s3 = (1, stride) if on_3x3 else (stride, 1)
    convs = [Conv(width, 1, s1), Conv(width, 3, s3, groups), Conv(out, 1, 1)]
    return _residual(
        x,
        convs,
        out,
        stride,
        shortcut,
        preactivation,
        use_bias,
        name,
        bn_momentum=bn_momentum,
    )


def inception_block(
    x,
    b1: int,
    b3_reduce: int,
    b3: int,
    b5_reduce: int,
    b5: int,
    pool_proj: int,
    *,
    name: str = "inception",
):
    """An Inception module (GoogLeNet's, Szegedy et al. 2014, Figure 2(b)).

    Four parallel branches, concatenated along the channels: a 1x1 convolution; a 1x1
    "reduction" then a 3x3; a 1x1 reduction then a 5x5; a 3x3 max-pool then a 1x1
    "pool projection". Every convolution is followed by a ReLU. The 1x1 reductions are
    what keeps the module cheap.

    Args:
        x: Keras tensor.
        b1: int. Filters of the 1x1 branch ("#1x1" in the paper's Table 1).
        b3_reduce: int. "#3x3 reduce". b3: int. "#3x3".
        b5_reduce: int. "#5x5 reduce". b5: int. "#5x5".
        pool_proj: int. "pool proj".
        name: str. Prefix of the layer names, e.g. ``inception_3a``.

    Returns:
        A tensor with ``b1 + b3 + b5 + pool_proj`` channels and the input's size.

    Reference:
        Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv:1409.4842).
    """

    def conv(t, filters, kernel, suffix):
        return layers.Conv2D(
            filters, kernel, padding="same", activation="relu", name=f"{name}_{suffix}"
        )(t)

    branch1 = conv(x, b1, 1, "1x1")
    branch3 = conv(conv(x, b3_reduce, 1, "3x3_reduce"), b3, 3, "3x3")
    branch5 = conv(conv(x, b5_reduce, 1, "5x5_reduce"), b5, 5, "5x5")
    pool = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch_pool = conv(pool, pool_proj, 1, "pool_proj")
    return layers.Concatenate(name=f"{name}_output")([branch1, branch3, branch5, branch_pool])


def local_response_normalization(
    x, *, depth_radius: int = 2, bias: float = 2.0, alpha: float = 1e-4, beta: float = 0.75
):
    """Local response normalization across channels (Krizhevsky et al. 2012, §3.3).

    ``b_i = a_i / (k + alpha * sum_j a_j^2) ^ beta`` over the ``n = 2 * depth_radius + 1``
    neighbouring channels, with the paper's k=2, n=5, alpha=1e-4, beta=0.75 (``alpha``
    per element, as ``tf.nn.local_response_normalization`` counts it). Written with
    ``keras.ops`` so it runs on every backend and saves without custom objects.
    """
    channels = x.shape[-1]
    squares = ops.square(x)
    padded = ops.pad(squares, [[0, 0], [0, 0], [0, 0], [depth_radius, depth_radius]])
    window = padded[..., 0:channels]
    for offset in range(1, 2 * depth_radius + 1):
        window = ops.add(window, padded[..., offset : offset + channels])
    scale = ops.power(ops.add(bias, ops.multiply(alpha, window)), beta)
    return ops.divide(x, scale)


__all__ = [
    "SHORTCUTS",
    "Conv",
    "basic_block",
    "bottleneck_block",
    "inception_block",
    "local_response_normalization",
    "vgg_block",
]
