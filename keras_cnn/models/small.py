"""Small variants for live training on a laptop: LeNet-5, a small VGG, CIFAR ResNets and
their plain twins, each built for 32x32 images with the data's channels and classes.
"""

from __future__ import annotations

import re

import keras
from keras import layers

from keras_cnn.models.blocks import vgg_block
from keras_cnn.models.classic import build_lenet5
from keras_cnn.models.common import BN_MOMENTUM_TORCH, check_rate
from keras_cnn.models.resnet import build_cifar_resnet


def build_small_vgg(
    *,
    input_shape=(32, 32, 3),
    classes: int = 10,
    filters: tuple[int, ...] = (16, 32, 64),
    convs: tuple[int, ...] = (1, 1, 2),
    fc_units: int = 128,
    batch_norm: bool = True,
    dropout: float = 0.5,
    bn_momentum: float = BN_MOMENTUM_TORCH,
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
    check_rate(bn_momentum, "bn_momentum")
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


def _cifar(depth: int, residual: bool):
    def build(*, input_shape, classes):
        return build_cifar_resnet(
            depth, residual=residual, input_shape=input_shape, classes=classes
        )

    return build


#: name -> (builder(input_shape=, classes=), description). The app's model picker.
SMALL_MODELS = {
    "lenet5": (build_lenet5, "LeNet-5 (1998), 5 weight layers, 62k parameters"),
    "vgg_small": (build_small_vgg, "a small VGG: 3 blocks of 3x3 convolutions, 0.19M"),
    **{
        f"{kind}{depth}": (
            _cifar(depth, kind == "resnet"),
            f"CIFAR {'ResNet' if kind == 'resnet' else 'plain net'}-{depth}, {depth} layers",
        )
        for depth in (20, 32, 56)
        for kind in ("resnet", "plain")
    },
}


#: CIFAR ResNets and plain nets of any depth: ``resnet8``, ``plain14``, ``resnet110`` …
CIFAR_NAME = re.compile(r"^(resnet|plain)(\d+)$")


def build_small(name: str, *, input_shape=(32, 32, 3), classes: int = 10) -> keras.Model:
    """Build one of :data:`SMALL_MODELS` for the given input shape and classes.

    Args:
        name: str. ``"lenet5"``, ``"vgg_small"``, ``"resnet20"``, ``"plain20"`` … or any
            ``resnet{6n+2}`` / ``plain{6n+2}``.
        input_shape: ``(height, width, channels)``. Defaults to (32, 32, 3).
        classes: int. Defaults to 10.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: for an unknown name.
    """
    cifar = CIFAR_NAME.match(name)
    if name not in SMALL_MODELS and not cifar:
        raise ValueError(
            f"Unknown small model. Expected one of {list(SMALL_MODELS)} or resnet/plain "
            f"with a depth 6n+2. Received: {name=}"
        )
    if name not in SMALL_MODELS:
        builder = _cifar(int(cifar.group(2)), cifar.group(1) == "resnet")
        return builder(input_shape=tuple(input_shape), classes=classes)
    return SMALL_MODELS[name][0](input_shape=tuple(input_shape), classes=classes)


def is_small(name: str) -> bool:
    """Whether :func:`build_small` builds ``name``: the table, or any ``resnet``/``plain``
    CIFAR depth (``plain8``, ``resnet110`` …).

    Args:
        name: str.

    Returns:
        bool.
    """
    return name in SMALL_MODELS or bool(CIFAR_NAME.match(name))
