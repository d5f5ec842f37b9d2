"""The loss of a softmax classifier computed from its logits, on every Keras backend.

Every ``keras_cnn`` classifier ends in ``Dense(classes, activation="softmax")``, and
:func:`keras_cnn.train.train` compiles it with ``SparseCategoricalCrossentropy``. Under
TensorFlow Keras computes that loss from the logits (the softmax tensor carries them, as
``_keras_logits``). Under JAX and PyTorch a tensor cannot carry them, and Keras takes the
log of the probabilities clipped to ``[1e-7, 1 - 1e-7]``: an example the network gets
confidently wrong (p < 1e-7) then adds a constant 16.1 to the loss and **no gradient**.
In ResNet-20's first steps at the learning rate of 0.1 many examples are that wrong, and
measured on the digits (seed 0, batch 64) the first epoch's loss under JAX was 3.30,
above chance (2.30), against 1.48 under TensorFlow.

:func:`logits_trainee` gives the model that ``fit`` trains instead: the same layers and
the same variables, with the last layer's affine part (``x @ kernel + bias``) as its
output, compiled with ``from_logits=True``. The model itself keeps its softmax, its
configuration and its compiled loss; it is what is saved, checkpointed and returned.
"""

from __future__ import annotations

import keras
from keras import ops


class _Logits(keras.layers.Layer):
    """A ``Dense`` layer's logits: ``x @ kernel + bias``, with that layer's own variables."""

    def __init__(self, dense: keras.layers.Dense, **kwargs):
        super().__init__(name=f"{dense.name}_logits", dtype=dense.dtype_policy, **kwargs)
        self.dense = dense

    def call(self, x):
        y = ops.matmul(x, self.dense.kernel)
        if self.dense.use_bias:
            y = ops.add(y, self.dense.bias)
        return ops.cast(y, "float32")  # a float16 softmax's logits, in float32 for the loss


def _softmax_dense(model: keras.Model) -> keras.layers.Dense | None:
    head = model.layers[-1] if model.layers else None
    if type(head) is not keras.layers.Dense:
        return None
    return head if getattr(head.activation, "__name__", "") == "softmax" else None


def logits_view(model: keras.Model) -> keras.Model | None:
    """The model with its last softmax ``Dense`` layer's logits as output, or None.

    None when the model does not end in a softmax ``Dense`` layer, or is not a graph of
    layers (a subclassed model): there is nothing to recover, or no way to.

    Args:
        model: keras.Model.

    Returns:
        A ``keras.Model`` sharing every layer and variable with ``model``, in the same order,
        or None.
    """
    head = _softmax_dense(model)
    if head is None:
        return None
    try:
        features = head.input
    except (AttributeError, ValueError):  # never called on a symbolic tensor
        return None
    view = keras.Model(model.input, _Logits(head)(features), name=model.name)
    same = all(
        [id(v) for v in getattr(view, kind)] == [id(v) for v in getattr(model, kind)]
        for kind in ("trainable_variables", "non_trainable_variables")
    )
    return view if same else None


def logits_trainee(model: keras.Model, *, jit_compile: bool) -> keras.Model:
    """The model ``fit`` should train for ``model`` (compiled): its logits view or itself.

    Under TensorFlow, or when there is no logits view, ``model`` itself. Otherwise the view,
    compiled with ``model``'s optimizer (one optimizer state, shared) and the same loss and
    metrics computed from the logits.

    Args:
        model: a compiled ``keras.Model`` with a sparse categorical cross-entropy loss.
        jit_compile: bool. For the view's ``compile``.

    Returns:
        A compiled ``keras.Model``.
    """
    if keras.backend.backend() == "tensorflow":  # Keras already uses the logits there
        return model
    view = logits_view(model)
    if view is None:
        return model
    view.compile(
        optimizer=model.optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    return view
