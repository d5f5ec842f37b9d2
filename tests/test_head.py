"""The one softmax-head check (keras_cnn.analysis.head), used by the trainer's loss and by
inside's logits (issue 18)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import keras_cnn
from keras_cnn import inside
from keras_cnn.analysis import head


def _dense(activation=None, *, then=None) -> keras.Model:
    inp = keras.Input((4,))
    x = layers.Dense(3, activation=activation, name="scores")(inp)
    if then is not None:
        x = then(x)
    return keras.Model(inp, x)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: _dense("softmax"), "softmax"),
        (lambda: _dense("sigmoid"), "sigmoid"),
        (lambda: _dense(), None),
        (lambda: _dense("relu"), None),
        (lambda: _dense(then=layers.Activation("softmax")), "softmax"),
        (lambda: _dense(then=layers.Softmax()), "softmax"),  # was taken for logits
        (lambda: keras.Sequential([keras.Input((4,)), _dense("softmax")]), "softmax"),  # nested
        (lambda: keras_cnn.build_lenet5(), "softmax"),
        (lambda: keras_cnn.build_lenet5(classifier_activation=None), None),
    ],
    ids=[
        "softmax",
        "sigmoid",
        "linear",
        "relu",
        "activation",
        "softmax-layer",
        "nested",
        "lenet5",
        "lenet5-logits",
    ],
)
def test_output_activation(make, expected):
    assert head.output_activation(make()) == expected


def test_the_trainer_and_inside_use_the_one_check():
    from keras_cnn.training import trainer

    assert trainer.output_activation is head.output_activation
    assert not hasattr(trainer, "_softmax_output")
    from keras_cnn.analysis import attribution, units  # inside's two halves

    assert units.logits_head is attribution.logits_head is head.logits_head


@pytest.mark.parametrize("then", [layers.Softmax(), layers.Activation("softmax"), None])
def test_logits_are_the_scores_before_the_softmax(then):
    model = _dense("softmax") if then is None else _dense(then=then)
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    dense = model.get_layer("scores")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in (dense.kernel, dense.bias))
    np.testing.assert_allclose(inside.logits(model, x), x @ kernel + bias, rtol=1e-5, atol=1e-6)
