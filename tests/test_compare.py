"""keras_cnn.compare: the first differences between a model and a reference network."""

from __future__ import annotations

import keras
import numpy as np
from keras import layers

import keras_cnn


def _model(block, shape=(8, 8, 16), **kwargs):
    x = keras.Input(shape)
    return keras.Model(x, block(x, **kwargs))


def _plain_block(x, filters=16, *, bias=False, eps=1e-3, momentum=0.99, init="glorot_uniform"):
    y = layers.Conv2D(filters, 3, padding="same", use_bias=bias, kernel_initializer=init)(x)
    y = layers.BatchNormalization(epsilon=eps, momentum=momentum)(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization(epsilon=eps, momentum=momentum)(y)
    return layers.Activation("relu")(layers.Add()([x, y]))


def test_a_network_equals_itself_and_is_left_unchanged():
    model = keras_cnn.build_cifar_resnet(8)
    before = [w.copy() for w in model.get_weights()]
    result = keras_cnn.compare(model, keras_cnn.build_cifar_resnet(8))
    assert result.equal and bool(result)
    assert result.checks == dict.fromkeys(("output_shape", "params", "layers", "function"), True)
    assert result.max_error == 0.0
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_names_bn_epsilon_momentum_and_initializers_are_ignored():
    reference = _model(keras_cnn.basic_block, filters=16, stride=1, shortcut="identity")
    mine = _model(_plain_block, eps=1e-3, momentum=0.9, init="he_normal")
    result = keras_cnn.compare(mine, reference)
    assert result.equal, str(result)
    assert result.max_error < 1e-5


def test_the_first_difference_is_a_layer_setting_before_a_parameter_count():
    reference = _model(_plain_block)
    result = keras_cnn.compare(_model(_plain_block, bias=True), reference)
    assert not result.equal
    first = result.first
    assert (first.check, first.kind, first.field, first.got, first.expected, first.ordinal) == (
        "setting",
        "conv",
        "use_bias",
        True,
        False,
        1,
    )
    assert "your 1st convolution" in first.message and "use_bias=False" in first.message
    assert result.checks["params"] is False and result.checks["function"] is None
    params = next(d for d in result.differences if d.check == "params")
    assert (params.field, params.got - params.expected) == ("trainable", 16)  # the 16 biases


def test_a_missing_addition_and_a_swapped_relu():
    reference = _model(_plain_block)

    def no_add(x):
        y = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(16, 3, padding="same", use_bias=False)(y)
        return layers.ReLU()(layers.BatchNormalization()(y))

    def relu_then_add(x):
        y = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.Conv2D(16, 3, padding="same", use_bias=False)(y)
        return layers.Add()([layers.ReLU()(layers.BatchNormalization()(y)), x])

    first = keras_cnn.compare(_model(no_add), reference).first
    assert (first.check, first.kind, first.got, first.expected) == ("count", "add", 0, 1)
    assert first.message == "your model has no addition; the reference has 1"
    first = keras_cnn.compare(_model(relu_then_add), reference).first
    assert (first.check, first.kind, first.got) == ("type", "act", "addition")


def test_padding_is_compared_by_what_it_does():
    def explicit(x):
        return layers.Conv2D(8, 3, padding="valid")(layers.ZeroPadding2D(1)(x))

    def same(x):
        return layers.Conv2D(8, 3, padding="same")(x)

    def same_strided(x):
        return layers.Conv2D(8, 3, strides=2, padding="same")(x)

    def explicit_strided(x):
        return layers.Conv2D(8, 3, strides=2)(layers.ZeroPadding2D(1)(x))

    assert keras_cnn.compare(_model(same), _model(explicit)).equal
    result = keras_cnn.compare(_model(same_strided), _model(explicit_strided))
    assert result.first.field == "padding" and "bottom and right" in result.first.message


def test_the_function_check_catches_what_the_layers_do_not_show():
    """A parameter-free rearrangement (here a transpose of the map) is left out of the
    structure, so the layers agree; with the reference's weights the outputs do not."""

    def conv(x, transpose=False):
        y = layers.Conv2D(4, 3, padding="same")(x)
        return layers.Permute((2, 1, 3))(y) if transpose else y

    reference = _model(conv)
    assert keras_cnn.compare(_model(conv), reference).equal
    result = keras_cnn.compare(_model(conv, transpose=True), reference)
    assert result.checks == {
        "output_shape": True,
        "params": True,
        "layers": True,
        "function": False,
    }
    assert result.first.check == "function" and result.max_error > 1e-3


def test_an_addition_matches_its_inputs_in_either_order():
    reference = _model(keras_cnn.basic_block, filters=32, stride=2, shortcut="projection")

    def mine(x):  # shortcut first, as keras.applications builds it; names differ too
        s = layers.BatchNormalization()(layers.Conv2D(32, 1, strides=2, use_bias=False)(x))
        y = layers.ZeroPadding2D(1)(x)
        y = layers.Conv2D(32, 3, strides=2, use_bias=False)(y)
        y = layers.ReLU()(layers.BatchNormalization()(y))
        y = layers.BatchNormalization()(layers.Conv2D(32, 3, padding="same", use_bias=False)(y))
        return layers.ReLU()(layers.Add()([y, s]))

    result = keras_cnn.compare(_model(mine), reference)
    assert result.equal, str(result)


def test_a_comparison_shows_itself_as_a_table():
    result = keras_cnn.compare(_model(_plain_block, bias=True), _model(_plain_block))
    html = result._repr_html_()
    assert html.count("<tr>") == 5 and "use_bias" in html
