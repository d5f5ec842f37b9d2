"""What each exercise is graded against: the library's own blocks and builders.

``REFERENCES`` maps an exercise's ``reference`` name to a function with the learner's
signature (a block takes the input tensor first). Where ``keras_cnn`` has the block, the
reference calls it; where a lesson writes its own listing (lesson 7's basic block and lesson
9's bottleneck pad with ``"same"`` as their listings do), the reference is that listing,
built from ``keras.layers``. Importing this module loads no framework (the functions
import Keras when called), so ``python -m quiz check`` can validate the names.
"""

from __future__ import annotations

import itertools
import math

_blocks = itertools.count(1)  # unique layer names when a reference builds many blocks


def conv_output_size(n, k, s, p):
    """floor((n + 2p - k) / s) + 1: the output size of a convolution or pooling."""
    return math.floor((n + 2 * p - k) / s) + 1


def stack_receptive_field(layers):
    """The receptive field of a stack of ``(kernel, stride)`` layers: r += (k - 1) * jump."""
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r


def lenet5(input_shape, classes):
    import keras_cnn

    return keras_cnn.build_lenet5(input_shape=tuple(input_shape), classes=classes)


def vgg_block(x, filters, convs):
    import keras_cnn

    return keras_cnn.vgg_block(x, filters, convs)


def inception_block(x, c1, c3r, c3, c5r, c5, pool_proj):
    import keras_cnn

    return keras_cnn.inception_block(x, c1, c3r, c3, c5r, c5, pool_proj)


def conv_bn_relu(x, filters, kernel_size, strides):
    """A convolution without bias (batch normalization's beta replaces it), BN, ReLU."""
    from keras import layers

    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def residual_block(x, filters, stride):
    """Lesson 7's basic block: identity shortcut, or a 1x1 projection where the shape changes
    (option B), the addition before the final ReLU."""
    from keras import layers

    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


def bottleneck(x, width, stride):
    """Lesson 9's bottleneck: 1x1 reduce, 3x3 (carrying the stride, as torchvision), 1x1 to
    4 x width, projection where the shape changes."""
    from keras import layers

    out = 4 * width
    y = layers.Conv2D(width, 1, use_bias=False)(x)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False)(y)
    y = layers.ReLU()(layers.BatchNormalization()(y))
    y = layers.Conv2D(out, 1, use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    shortcut = x  # built after the main path: its layers are the 4th convolution and BN
    if stride != 1 or x.shape[-1] != out:
        shortcut = layers.Conv2D(out, 1, strides=stride, use_bias=False)(x)
        shortcut = layers.BatchNormalization()(shortcut)
    return layers.ReLU()(layers.Add()([y, shortcut]))


# The CIFAR ResNet-20, step by step: each step is a piece of build_cifar_resnet.


def cifar_stem(x):
    from keras import layers

    x = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def cifar_identity_block(x, filters):
    import keras_cnn

    return keras_cnn.basic_block(x, filters, 1, shortcut="identity", name=f"block{next(_blocks)}")


def cifar_block(x, filters, stride):
    import keras_cnn

    return keras_cnn.basic_block(
        x, filters, stride, shortcut="zero_pad", name=f"block{next(_blocks)}"
    )


def cifar_stage(x, filters, blocks, stride):
    for i in range(blocks):
        x = cifar_block(x, filters, stride if i == 0 else 1)
    return x


def cifar_trunk(x, n):
    x = cifar_stem(x)
    for filters, stride in zip((16, 32, 64), (1, 2, 2), strict=True):
        x = cifar_stage(x, filters, n, stride)
    return x


def cifar_resnet(n, input_shape, classes):
    import keras_cnn

    return keras_cnn.build_cifar_resnet(6 * n + 2, input_shape=tuple(input_shape), classes=classes)


#: Reference name (an exercise's ``reference``) -> the function it is graded against.
REFERENCES = {
    f.__name__: f
    for f in (
        conv_output_size,
        stack_receptive_field,
        lenet5,
        vgg_block,
        inception_block,
        conv_bn_relu,
        residual_block,
        bottleneck,
        cifar_stem,
        cifar_identity_block,
        cifar_block,
        cifar_stage,
        cifar_trunk,
        cifar_resnet,
    )
}
