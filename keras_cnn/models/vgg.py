"""VGG (Simonyan & Zisserman, 2014): configurations A, B, D and E as one table, and the
small VGG that trains live on a laptop (``vgg_small``)."""

from __future__ import annotations

import keras
from keras import layers

from keras_cnn.models import common as _common
from keras_cnn.models.blocks import vgg_block

#: depth -> convolutions per block (Table 1 of the paper: A=11, B=13, D=16, E=19).
VGG_SPECS: dict[int, tuple[int, ...]] = {
    11: (1, 1, 2, 2, 2),
    13: (2, 2, 2, 2, 2),
    16: (2, 2, 3, 3, 3),
    19: (2, 2, 4, 4, 4),
}
#: Output channels of the five blocks, the same for every configuration.
VGG_FILTERS = (64, 128, 256, 512, 512)
#: The paper's letter for each depth.
VGG_CONFIGS = {11: "A", 13: "B", 16: "D", 19: "E"}
#: The paper-faithful configuration: ``build_vgg(16, **PAPER)`` adds the dropout (0.5) after
#: ``fc1`` and ``fc2`` that Simonyan & Zisserman train with (Section 3.1); the default is
#: ``keras.applications``' VGG, which has no dropout layers.
PAPER = {"dropout": 0.5}


@_common.builder()
def build_vgg(
    depth: int = 16,
    *,
    batch_norm: bool = False,
    app: _common.Application,
    dropout: float = 0.0,
    fc_units: int = 4096,
    bn_momentum: float = _common.BN_MOMENTUM_KERAS,
    name: str | None = None,
) -> keras.Model:
    """Build VGG-11/13/16/19, configuration A/B/D/E of Simonyan & Zisserman (2014).

    Five `vgg_block`s of 3x3 convolutions (64, 128, 256, 512, 512 filters) and, with
    the top, two fully connected layers of 4096 units and the classifier.
    ``build_vgg(16)`` has exactly the 23 layers, names, weights (138,357,544 parameters)
    and outputs of ``keras.applications.VGG16``. The paper's configuration, which trains
    with dropout 0.5 after ``fc1`` and ``fc2`` (Section 3.1), is ``build_vgg(16,
    **PAPER)``: two more layers (``fc1_dropout``, ``fc2_dropout``) that hold no weights and
    act only in training.

    Args:
        depth: int. 11, 13, 16 or 19. Defaults to 16.
        batch_norm: bool. Batch normalization after every convolution (torchvision's
            ``vgg16_bn``; not in the paper). Defaults to False.
        include_top: bool. Include the flatten and three fully connected layers.
        weights: None, ``"imagenet"`` (VGG-16/19 without batch norm) or a file path.
        input_shape: optional ``(height, width, channels)``; at least 32x32.
        {application_args}
        dropout: float. Dropout rate after ``fc1`` and ``fc2`` (layers ``fc1_dropout``,
            ``fc2_dropout``). Defaults to 0: no dropout layers, as ``keras.applications``;
            the paper's 0.5 is :data:`PAPER`.
        fc_units: int. Units of ``fc1`` and ``fc2``. Defaults to 4096.
        bn_momentum: float. Momentum of the batch-norm moving averages with
            ``batch_norm=True``. Defaults to Keras' 0.99, like every builder with a
            ``keras.applications`` twin; pass 0.9 to train from scratch on small data with
            a plain ``model.fit`` (see `build_cifar_resnet`).
        name: str. Model name; defaults to ``vgg16`` / ``vgg16_bn`` etc.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: for an unknown depth or invalid arguments.

    Reference:
        Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
        Recognition", ICLR 2015 (arXiv:1409.1556).

    Example:
        >>> model = build_vgg(16)
        >>> model.count_params()
        138357544
    """
    _common.check_choice(depth, VGG_SPECS, "depth", label="VGG depth")
    _common.check_rate(bn_momentum, "bn_momentum")
    _common.check_rate(dropout, "dropout")

    def body(x):
        for b, (convs, filters) in enumerate(zip(VGG_SPECS[depth], VGG_FILTERS, strict=True), 1):
            x = vgg_block(
                x, filters, convs, batch_norm=batch_norm, bn_momentum=bn_momentum, name=f"block{b}"
            )
        return x

    def top(x):
        return _common.dense_top(x, [("fc1", fc_units), ("fc2", fc_units)], dropout=dropout)

    return app.assemble(
        body,
        top,
        name=name or (f"vgg{depth}_bn" if batch_norm else f"vgg{depth}"),
        default_size=224,
        min_size=32,
        weights_name=None if batch_norm else f"vgg{depth}",
        flattens=True,
    )


@_common.builder()
def build_small_vgg(
    *,
    input_shape=(32, 32, 3),
    classes: int = 10,
    filters: tuple[int, ...] = (16, 32, 64),
    convs: tuple[int, ...] = (1, 1, 2),
    fc_units: int = 128,
    batch_norm: bool = True,
    dropout: float = 0.5,
    bn_momentum: float = _common.BN_MOMENTUM_TORCH,
    name: str = "vgg_small",
) -> keras.Model:
    """A VGG in miniature: ``vgg_block`` stages of 3x3 convolutions, then two dense layers.

    The default is three blocks (16, 32, 64 filters; 1, 1, 2 convolutions) on 32x32 images,
    a 128-unit fully connected layer with dropout and the classifier: 6 weight layers and
    about 0.19M parameters, small enough to train live on a CPU.

    Args:
        input_shape: ``(height, width, channels)``. Defaults to (32, 32, 3).
        classes: int. Defaults to 10.
        filters: channels of each block.
        convs: 3x3 convolutions in each block.
        fc_units: int. Units of the hidden fully connected layer.
        batch_norm: bool. Batch normalization after each convolution. Defaults to True.
        dropout: float. Dropout after the hidden fully connected layer.
        bn_momentum: float. Momentum of the batch-norm moving averages. Defaults to 0.9,
            which a plain ``model.fit`` on a small data set needs (see
            `keras_cnn.build_cifar_resnet`).
        name: str. Model name.

    Returns:
        A ``keras.Model`` with a softmax output.

    Raises:
        ValueError: if ``filters`` and ``convs`` differ in length.
    """
    _common.check_rate(bn_momentum, "bn_momentum")
    if len(filters) != len(convs):
        raise ValueError(
            f"`filters` and `convs` must have the same length. Received: {filters=}, {convs=}"
        )
    inputs = keras.Input(input_shape, name="input")
    x = inputs
    for i, (width, n) in enumerate(zip(filters, convs, strict=True), start=1):
        x = vgg_block(x, width, n, batch_norm=batch_norm, bn_momentum=bn_momentum, name=f"block{i}")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(fc_units, activation="relu", name="fc1")(x)
    x = layers.Dropout(dropout, name="fc1_dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)
