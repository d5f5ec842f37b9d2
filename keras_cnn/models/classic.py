"""LeNet-5 (1998), AlexNet (2012) and GoogLeNet / Inception v1 (2014)."""

from __future__ import annotations

import keras
from keras import layers

from keras_cnn.models import common as _common
from keras_cnn.models.blocks import inception_block, local_response_normalization


@_common.builder(classes=10)
def build_lenet5(
    *,
    app: _common.Application,
    activation: str = "tanh",
    name: str = "lenet5",
) -> keras.Model:
    """Build LeNet-5 (LeCun et al. 1998), the first convolutional network that worked.

    C1: 6 5x5 convolutions -> S2: 2x2 average-pool subsampling -> C3: 16 5x5
    convolutions -> S4: subsampling -> C5: 120 5x5 convolutions -> F6: 84 units ->
    10 outputs, on a 32x32 grey image, with tanh activations. This is the common
    modern reading of the paper's Figure 2: C3 is fully connected to S2's six maps
    (the paper's sparse connection table has 1,516 weights here, this 2,416), the
    subsampling layers have no trainable coefficients and the output is a softmax
    rather than Euclidean RBF units. It has 61,706 parameters (the paper: "about 60,000").

    Args:
        include_top: bool. Include F6 and the classifier.
        weights: None or the path to a weights file.
        input_shape: optional ``(height, width, channels)``; defaults to (32, 32, 1).
        {application_args}
        activation: str. Hidden activation; the paper's squashing function is a scaled
            tanh. Defaults to ``"tanh"``.
        name: str. Defaults to ``lenet5``.

    Returns:
        A ``keras.Model``.

    Reference:
        LeCun, Bottou, Bengio & Haffner, "Gradient-Based Learning Applied to Document
        Recognition", Proc. IEEE 86(11), 1998.

    Example:
        >>> build_lenet5().count_params()
        61706
    """

    def body(x):
        x = layers.Conv2D(6, 5, activation=activation, name="c1")(x)
        x = layers.AveragePooling2D(2, name="s2")(x)
        x = layers.Conv2D(16, 5, activation=activation, name="c3")(x)
        x = layers.AveragePooling2D(2, name="s4")(x)
        return layers.Conv2D(120, 5, activation=activation, name="c5")(x)

    def top(x):
        return _common.dense_top(x, [("f6", 84)], activation=activation)

    return app.assemble(
        body, top, name=name, default_size=32, min_size=32, channels=1, flattens=True
    )


@_common.builder()
def build_alexnet(
    *,
    two_tower: bool = False,
    lrn: bool = False,
    dropout: float = 0.5,
    app: _common.Application,
    name: str = "alexnet",
) -> keras.Model:
    """Build AlexNet (Krizhevsky, Sutskever & Hinton 2012).

    Five convolutions (96 11x11/4, 256 5x5, 384 3x3, 384 3x3, 256 3x3) with ReLU and
    three overlapping 3x3/2 max-pools, then two fully connected layers of 4096 units
    with dropout and the 1000-way classifier, on a 227x227 image. By default the
    single-tower network: 62,378,344 parameters. ``two_tower=True`` splits conv2, conv4
    and conv5 into two groups, as the paper's two GTX 580 GPUs did (conv3 and the
    fully connected layers see both): 60,965,224 parameters, the paper's "60 million".
    ``lrn=True`` adds the paper's local response normalization after conv1 and conv2.

    Args:
        two_tower: bool. Grouped convolutions as on the paper's two GPUs.
        lrn: bool. Local response normalization after conv1 and conv2.
        dropout: float. Dropout after fc6 and fc7. Defaults to 0.5.
        include_top: bool. Include the fully connected layers.
        weights: None or the path to a weights file.
        input_shape: optional ``(height, width, channels)``; at least 67x67.
        {application_args}
        name: str. Defaults to ``alexnet``.

    Returns:
        A ``keras.Model``.

    Reference:
        Krizhevsky, Sutskever & Hinton, "ImageNet Classification with Deep
        Convolutional Neural Networks", NeurIPS 2012.
    """
    groups = 2 if two_tower else 1
    # (filters, kernel, stride, groups, then LRN, then max-pool) per convolution.
    convs = (
        (96, 11, 4, 1, lrn, True),
        (256, 5, 1, groups, lrn, True),
        (384, 3, 1, 1, False, False),
        (384, 3, 1, groups, False, False),
        (256, 3, 1, groups, False, True),
    )

    def body(x):
        for i, (filters, kernel, stride, g, norm, pool) in enumerate(convs, start=1):
            x = layers.Conv2D(
                filters,
                kernel,
                strides=stride,
                padding="valid" if i == 1 else "same",
                groups=g,
                activation="relu",
                name=f"conv{i}",
            )(x)
            if norm:
                x = local_response_normalization(x)
            if pool:
                x = layers.MaxPooling2D(3, strides=2, name=f"pool{i}")(x)
        return x

    def top(x):
        return _common.dense_top(x, [("fc6", 4096), ("fc7", 4096)], dropout=dropout)

    return app.assemble(body, top, name=name, default_size=227, min_size=67, flattens=True)


#: GoogLeNet's Inception modules (Szegedy et al. 2014, Table 1): name -> (#1x1,
#: #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj); "pool" is a 3x3/2 max-pool.
GOOGLENET_SPEC: tuple = (
    ("3a", (64, 96, 128, 16, 32, 32)),
    ("3b", (128, 128, 192, 32, 96, 64)),
    "pool",
    ("4a", (192, 96, 208, 16, 48, 64)),
    ("4b", (160, 112, 224, 24, 64, 64)),
    ("4c", (128, 128, 256, 24, 64, 64)),
    ("4d", (112, 144, 288, 32, 64, 64)),
    ("4e", (256, 160, 320, 32, 128, 128)),
    "pool",
    ("5a", (256, 160, 320, 32, 128, 128)),
    ("5b", (384, 192, 384, 48, 128, 128)),
)


@_common.builder()
def build_googlenet(
    *,
    lrn: bool = False,
    dropout: float = 0.4,
    app: _common.Application,
    name: str = "googlenet",
) -> keras.Model:
    """Build GoogLeNet (Inception v1, Szegedy et al. 2014), without the auxiliary heads.

    The stem (7x7/2 convolution, 3x3/2 max-pool, 1x1 and 3x3 convolutions, max-pool),
    nine `inception_block`s (3a-5b, Table 1 of the paper) with two more max-pools, global
    average pooling, 40% dropout and the classifier: 22 layers with weights. The
    convolutions have biases and no batch normalization, as in the paper; the 5x5
    branches are real 5x5 convolutions. 6,998,552 parameters at 1000 classes (the paper's
    Table 1 sums to "6.8M"). The auxiliary classifiers used only in training are left
    out, as at inference time.

    Args:
        lrn: bool. The paper's local response normalization in the stem.
        dropout: float. Dropout before the classifier. Defaults to 0.4.
        include_top: bool. Include pooling, dropout and the classifier.
        weights: None or the path to a weights file.
        input_shape: optional ``(height, width, channels)``; at least 32x32.
        {application_args}
        name: str. Defaults to ``googlenet``.

    Returns:
        A ``keras.Model``.

    Reference:
        Szegedy et al., "Going Deeper with Convolutions", CVPR 2015 (arXiv:1409.4842).
    """

    def relu_conv(t, filters, kernel, stride, name):
        return layers.Conv2D(
            filters, kernel, strides=stride, padding="same", activation="relu", name=name
        )(t)

    def body(x):
        x = relu_conv(x, 64, 7, 2, "conv1_7x7")
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1_3x3")(x)
        if lrn:
            x = local_response_normalization(x)
        x = relu_conv(x, 64, 1, 1, "conv2_3x3_reduce")
        x = relu_conv(x, 192, 3, 1, "conv2_3x3")
        if lrn:
            x = local_response_normalization(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2_3x3")(x)
        pools = 2
        for entry in GOOGLENET_SPEC:
            if entry == "pool":
                pools += 1
                x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"pool{pools}_3x3")(x)
            else:
                module, filters = entry
                x = inception_block(x, *filters, name=f"inception_{module}")
        return x

    def top(x):
        x = _common.avg_pool_top(x)
        return layers.Dropout(dropout, name="dropout")(x)

    return app.assemble(body, top, name=name, default_size=224, min_size=32)
