"""The app's picker of small networks to train live: registry ids and their labels.

Which names exist and how a small network adapts to a dataset (its channels and classes) is
the registry's business (:mod:`keras_cnn.models.registry`, ``adapt="channels"``, and the rule
for any CIFAR ``resnet{6n+2}`` / ``plain{6n+2}``); this module only chooses the ones the
training page offers, in its order. It imports no deep-learning framework.
"""

from __future__ import annotations

import functools

from keras_cnn.models.registry import get_model

_LABELS = {
    "lenet5": "LeNet-5 (1998), 5 weight layers, 62k parameters",
    "vgg_small": "a small VGG: 3 blocks of 3x3 convolutions, 0.19M",
    **{
        f"{kind}{depth}": (
            f"CIFAR {'ResNet' if kind == 'resnet' else 'plain net'}-{depth}, {depth} layers"
        )
        for depth in (20, 32, 56)
        for kind in ("resnet", "plain")
    },
}

#: id -> (builder(input_shape=, classes=), description): the training page's model picker.
SMALL_MODELS = {
    name: (functools.partial(get_model, name), label) for name, label in _LABELS.items()
}
