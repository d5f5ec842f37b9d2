"""The answers of generated questions: closed formulas in pure Python, one a function.

Each takes the question's parameters as keyword arguments and returns the number a learner
computes (:mod:`quiz.generators` registers them, with the values each parameter may take, and
renders the questions). The tests compare every one with a brute-force simulation. Imports no
framework.
"""

from __future__ import annotations

import math

__all__ = [
    "FC_LAYERS",
    "FC_NETWORKS",
    "RESNEXT_TABLE_2",
    "basic_block_params",
    "bn_normalize",
    "bn_params",
    "bottleneck_params",
    "cifar_resnet_depth",
    "conv_bn_params",
    "conv_macs_millions",
    "conv_output_size",
    "conv_params",
    "dense_params",
    "dropout_scale",
    "fc_layer",
    "fc_layer_params",
    "grouped_conv_params",
    "he_std",
    "inception_reduction_macs",
    "moving_average_left",
    "plain_gradient",
    "residual_gradient",
    "residual_paths",
    "resnext_block_params",
    "separable_saving",
    "stack_rf",
    "stack_weight_saving",
    "stacked_conv_rf",
    "vgg_stack_output",
]


def stacked_conv_rf(n: int, k: int) -> int:
    """Receptive field (pixels along one axis) of ``n`` stacked ``k x k`` stride-1 convolutions.

    Args:
        n: Number of convolutions.
        k: Kernel size.

    Returns:
        ``1 + n * (k - 1)``.
    """
    return 1 + n * (k - 1)


def conv_params(k: int, c_in: int, c_out: int) -> int:
    """Parameters of a ``k x k`` convolution from ``c_in`` to ``c_out`` channels, with bias.

    Args:
        k: Kernel size.
        c_in: Input channels.
        c_out: Output channels (filters).

    Returns:
        ``k * k * c_in * c_out + c_out``.
    """
    return k * k * c_in * c_out + c_out


def conv_output_size(n: int, k: int, s: int, p: int) -> int:
    """Output size along one axis of a convolution or pooling window.

    Args:
        n: Input size.
        k: Window (kernel) size.
        s: Stride.
        p: Zero padding on each side.

    Returns:
        ``floor((n + 2p - k) / s) + 1``.
    """
    return (n + 2 * p - k) // s + 1


def vgg_stack_output(n: int, blocks: int) -> int:
    """Spatial size after ``blocks`` VGG blocks (3x3 'same' convolutions, then 2x2/2 max-pool).

    Args:
        n: Input size.
        blocks: Number of blocks.

    Returns:
        The size after the last pool (each pool halves, rounding down).
    """
    for _ in range(blocks):
        n //= 2
    return n


def stack_rf(blocks: int, convs: int) -> int:
    """Receptive field after ``blocks`` VGG blocks of ``convs`` 3x3 convolutions and a 2x2/2 pool.

    Uses the recurrence ``r += (k - 1) * j; j *= s`` over the layers (``j`` is the product of the
    strides so far, the distance in input pixels between neighbouring positions).

    Args:
        blocks: Number of blocks.
        convs: 3x3 convolutions per block.

    Returns:
        Receptive field in input pixels along one axis, measured after the last pool.
    """
    r, j = 1, 1
    for _ in range(blocks):
        for _ in range(convs):
            r += 2 * j
        r += j
        j *= 2
    return r


def stack_weight_saving(n: int, c: int) -> int:
    """Weights saved by ``n`` stacked 3x3 convolutions versus one ``(2n+1) x (2n+1)`` convolution.

    Both map ``c`` channels to ``c`` channels and see the same region; biases are ignored.

    Args:
        n: Number of stacked 3x3 convolutions.
        c: Channels.

    Returns:
        ``(2n + 1)^2 c^2 - 9 n c^2``.
    """
    return (2 * n + 1) ** 2 * c * c - 9 * n * c * c


def bottleneck_params(c: int, b: int) -> int:
    """Weights of a ResNet bottleneck residual branch (1x1 c->b, 3x3 b->b, 1x1 b->c; no bias).

    Args:
        c: Block input/output channels.
        b: Bottleneck width.

    Returns:
        ``c*b + 9*b*b + b*c``.
    """
    return c * b + 9 * b * b + b * c


def conv_macs_millions(h: int, k: int, c_in: int, c_out: int) -> float:
    """Multiply-accumulates (in millions) of a 'same' ``k x k`` conv on an ``h x h`` map.

    Args:
        h: Output height and width.
        k: Kernel size.
        c_in: Input channels.
        c_out: Output channels.

    Returns:
        ``h*h*k*k*c_in*c_out / 1e6``.
    """
    return h * h * k * k * c_in * c_out / 1e6


def inception_reduction_macs(h: int, c_in: int, r: int, c_out: int) -> float:
    """MACs (in millions) of a 5x5 Inception branch with a 1x1 reduction to ``r`` channels first.

    Args:
        h: Feature map height and width ('same' padding).
        c_in: Input channels.
        r: Channels after the 1x1 reduction.
        c_out: Output channels of the 5x5 convolution.

    Returns:
        ``h*h*(c_in*r + 25*r*c_out) / 1e6``.
    """
    return h * h * (c_in * r + 25 * r * c_out) / 1e6


def plain_gradient(a: float, n: int) -> float:
    """Gradient factor through ``n`` plain layers that each scale the gradient by ``a``.

    Args:
        a: Per-layer factor (local derivative).
        n: Number of layers.

    Returns:
        ``a ** n``.
    """
    return a**n


def residual_gradient(f: float, n: int) -> float:
    """Gradient factor through ``n`` residual blocks ``y = x + F(x)`` with ``F'(x) = f``.

    Args:
        f: Derivative of each residual branch.
        n: Number of blocks.

    Returns:
        ``(1 + f) ** n``.
    """
    return (1 + f) ** n


def cifar_resnet_depth(n: int) -> int:
    """Weighted layers of the CIFAR ResNet with ``n`` basic blocks per stage (He et al. 2015).

    Args:
        n: Blocks per stage (3 stages, 2 convolutions per block).

    Returns:
        ``6n + 2`` (first convolution and final dense layer included).
    """
    return 6 * n + 2


def dense_params(n_in: int, n_out: int) -> int:
    """Parameters of a fully connected layer with bias.

    Args:
        n_in: Input features.
        n_out: Output units.

    Returns:
        ``n_in * n_out + n_out``.
    """
    return n_in * n_out + n_out


def bn_params(c: int) -> int:
    """Parameters Keras counts for a batch normalization over ``c`` channels.

    Args:
        c: Channels (one statistic and one scale/shift pair per channel).

    Returns:
        ``4 * c``: gamma and beta (trainable), moving mean and moving variance (not trainable).
    """
    return 4 * c


def conv_bn_params(k: int, c_in: int, c_out: int) -> int:
    """Parameters of a bias-free ``k x k`` convolution followed by batch normalization.

    The convolution has no bias because the normalization's mean subtraction would cancel it
    (beta takes its place), as in ResNet.

    Args:
        k: Kernel size.
        c_in: Input channels.
        c_out: Output channels.

    Returns:
        ``k * k * c_in * c_out + 4 * c_out``.
    """
    return k * k * c_in * c_out + 4 * c_out


def bn_normalize(x: float, mean: float, var: float, gamma: float, beta: float) -> float:
    """Output of batch normalization for one value (epsilon ignored).

    Args:
        x: The input value.
        mean: The statistic's mean over the batch (and positions).
        var: Its variance.
        gamma: Learned scale.
        beta: Learned shift.

    Returns:
        ``gamma * (x - mean) / sqrt(var) + beta``.
    """
    return gamma * (x - mean) / math.sqrt(var) + beta


def moving_average_left(momentum: float, steps: int) -> float:
    """Fraction of its initial value a moving statistic still holds after ``steps`` updates.

    Keras updates ``moving = momentum * moving + (1 - momentum) * batch_statistic``.

    Args:
        momentum: The moving average's momentum (Keras' ``BatchNormalization(momentum=...)``).
        steps: Training steps (batches).

    Returns:
        ``momentum ** steps``.
    """
    return momentum**steps


def he_std(k: int, c_in: int) -> float:
    """Standard deviation of He (Kaiming) normal initialization for a ``k x k`` convolution.

    Args:
        k: Kernel size.
        c_in: Input channels (fan-in = ``k * k * c_in``).

    Returns:
        ``sqrt(2 / fan_in)``: keeps the variance of the signal through ReLU layers.
    """
    return math.sqrt(2 / (k * k * c_in))


FC_LAYERS: dict[int, tuple[tuple[str, str, int, int], ...]] = {
    1: (  # AlexNet (Krizhevsky et al. 2012, Fig. 2), the registry's single-tower alexnet
        ("fc6", "6 × 6 × 256 = 9,216 pooled features", 9216, 4096),
        ("fc7", "the 4,096 units of fc6", 4096, 4096),
        ("predictions", "the 4,096 units of fc7", 4096, 1000),
    ),
    2: (  # VGG-16 / VGG-19 (Simonyan and Zisserman 2014, Table 1), keras.applications names
        ("fc1", "7 × 7 × 512 = 25,088 pooled features", 25088, 4096),
        ("fc2", "the 4,096 units of fc1", 4096, 4096),
        ("predictions", "the 4,096 units of fc2", 4096, 1000),
    ),
}
"""Network (1 AlexNet, 2 VGG) -> its fully connected layers: name, input, inputs, units."""

FC_NETWORKS = {1: "AlexNet", 2: "VGG-16"}


def fc_layer(net: int, layer: int, classes: int) -> tuple[str, str, int, int]:
    """The layer's name, input, inputs and units; the classifier has ``classes`` units."""
    name, source, n_in, n_out = FC_LAYERS[net][layer - 1]
    return name, source, n_in, classes if layer == len(FC_LAYERS[net]) else n_out


def fc_layer_params(net: int, layer: int, classes: int = 1000) -> int:
    """Parameters (weights and biases) of a real fully connected layer of AlexNet or VGG-16.

    Args:
        net: 1 for AlexNet, 2 for VGG-16 (keys of :data:`FC_LAYERS`).
        layer: 1, 2 or 3: the first, second or last fully connected layer.
        classes: Units of the last layer: 1000 as published, another count for a classifier
            fine-tuned to other classes (the other layers ignore it).

    Returns:
        ``n_in * n_out + n_out`` of that layer.
    """
    _, _, n_in, n_out = fc_layer(net, layer, classes)
    return dense_params(n_in, n_out)


def dropout_scale(x: float, rate: float) -> float:
    """What a kept unit passes on in training under Keras' (inverted) dropout.

    Keras scales the kept units by ``1 / (1 - rate)`` during training, so that nothing needs
    rescaling at test time (the paper instead multiplied by ``1 - rate`` at test time).

    Args:
        x: The unit's output.
        rate: The dropout rate (probability of dropping).

    Returns:
        ``x / (1 - rate)``.
    """
    return x / (1 - rate)


def residual_paths(n: int) -> int:
    """Paths from input to output through ``n`` residual blocks (Veit et al. 2016).

    Each block is passed either through its residual branch or through its shortcut.

    Args:
        n: Number of residual blocks.

    Returns:
        ``2 ** n``.
    """
    return 2**n


def basic_block_params(c: int) -> int:
    """Parameters of a ResNet basic block on ``c`` channels with an identity shortcut.

    Two bias-free 3x3 convolutions ``c -> c``, each followed by batch normalization (4 numbers per
    channel, as Keras counts them); the shortcut adds nothing.

    Args:
        c: Channels.

    Returns:
        ``2 * (9 * c * c + 4 * c)``.
    """
    return 2 * (9 * c * c + 4 * c)


def separable_saving(k: int, c_in: int, c_out: int) -> float:
    """How many times fewer multiply-adds a depthwise separable convolution needs (MobileNet).

    A standard ``k x k`` convolution costs ``k*k*c_in*c_out`` per output position; a depthwise
    ``k x k`` convolution (one filter per input channel) followed by a 1x1 pointwise convolution
    costs ``k*k*c_in + c_in*c_out``.

    Args:
        k: Kernel size.
        c_in: Input channels.
        c_out: Output channels.

    Returns:
        The ratio of the two costs, ``1 / (1/c_out + 1/k**2)``.
    """
    return k * k * c_in * c_out / (k * k * c_in + c_in * c_out)


# --------------------------------------------------------------------------------------------
# Grouped convolutions (ResNeXt, lesson "deep-resnets").
# --------------------------------------------------------------------------------------------


def grouped_conv_params(k: int, c: int, g: int) -> int:
    """Weights of a ``k x k`` convolution from ``c`` to ``c`` channels in ``g`` groups, no bias.

    Each group convolves ``c / g`` input channels into ``c / g`` output channels, so every
    output channel sees only ``c / g`` inputs: ``g`` times fewer weights than ungrouped.

    Args:
        k: Kernel size.
        c: Input and output channels (a multiple of ``g``).
        g: Groups.

    Returns:
        ``k * k * (c // g) * c``.
    """
    return k * k * (c // g) * c


def resnext_block_params(c: int, paths: int, d: int) -> int:
    """Weights of a ResNeXt bottleneck branch on ``c`` channels: ``paths`` paths of width ``d``.

    Each path is a 1x1 convolution ``c -> d``, a 3x3 ``d -> d`` and a 1x1 ``d -> c`` (no
    biases); written as one block it is a 1x1 to ``paths * d`` channels, a 3x3 in ``paths``
    groups and a 1x1 back to ``c`` (Xie et al. 2017, Figure 3).

    Args:
        c: Channels of the block's input and output.
        paths: Cardinality (number of paths).
        d: Width of each path.

    Returns:
        ``paths * (c * d + 9 * d * d + d * c)``.
    """
    return paths * (c * d + 9 * d * d + d * c)


#: Xie et al. (2017) Table 2: (cardinality, width) pairs with about the same complexity
#: as ResNet-50's conv2 bottleneck (1 x 64d).
RESNEXT_TABLE_2 = ((1, 64), (2, 40), (4, 24), (8, 14), (32, 4))
