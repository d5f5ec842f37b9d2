"""The one check of a classifier's head: does the model end in a softmax (or sigmoid)?

The trainer asks it to choose ``from_logits`` for the loss; Grad-CAM and saliency
(:mod:`keras_cnn.analysis.inside`) ask it to score classes by their logits, before the
softmax, as the papers do. A model ends in probabilities when its last layer is a
``keras.layers.Softmax``, or has ``activation="softmax"`` / ``"sigmoid"`` (a ``Dense`` or an
``Activation``, as the builders' ``classifier_activation`` makes it); a nested model's last
layer counts (``Sequential([backbone_with_softmax])``).
"""

from __future__ import annotations

from collections.abc import Callable

import keras

#: Activations whose outputs are probabilities, not logits.
PROBABILITIES = ("softmax", "sigmoid")


def _last_layer(model: keras.Model):
    last = model.layers[-1]
    while isinstance(last, keras.Model) and last.layers:
        last = last.layers[-1]
    return last


def output_activation(model: keras.Model) -> str | None:
    """``"softmax"`` or ``"sigmoid"`` when the model's outputs are probabilities, else None.

    Args:
        model: keras.Model. A functional or ``Sequential`` model.

    Returns:
        The activation of the model's last layer when it is one of :data:`PROBABILITIES`.

    Example:
        >>> output_activation(build_lenet5())
        'softmax'
        >>> output_activation(build_lenet5(classifier_activation=None)) is None
        True
    """
    last = _last_layer(model)
    if isinstance(last, keras.layers.Softmax):
        return "softmax"
    name = getattr(getattr(last, "activation", None), "__name__", "")
    return name if name in PROBABILITIES else None


def logits_head(model: keras.Model) -> tuple[object, Callable]:
    """``(features, to_logits)``: the tensor before a softmax / sigmoid head, and the head
    without its activation, so that class scores are the logits, as in Grad-CAM.

    Only a head at the top level of the model is split (a ``Dense`` with the activation, or
    an ``Activation`` / ``Softmax`` layer); otherwise the features are the model's output
    and ``to_logits`` is the identity.
    """
    last = model.layers[-1]
    if output_activation(model) is not None:
        if isinstance(last, keras.layers.Dense):
            kernel, bias = last.kernel, last.bias

            def to_logits(features):
                logits = keras.ops.matmul(features, kernel)
                return logits if bias is None else logits + bias

            return last.input, to_logits
        if isinstance(last, keras.layers.Activation | keras.layers.Softmax):
            return last.input, lambda features: features
    return model.outputs[0], lambda features: features
