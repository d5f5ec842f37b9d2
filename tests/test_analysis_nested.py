"""Nested, Sequential and input_tensor models give the numbers of their flattened equivalent
(issue 11, item 1): summarize, count_macs, receptive_field, weight_layers and to_dot."""

from __future__ import annotations

import keras
import pandas as pd
import pytest
from keras import layers

import keras_cnn

NUMBERS = ["type", "output_shape", "params", "macs", "receptive_field"]


def numbers(table: pd.DataFrame) -> list[tuple]:
    """The table without the layer names, which a nested model prefixes with its own name."""
    return [tuple(row) for row in table[NUMBERS].astype(object).itertuples(index=False)]


@pytest.fixture(scope="module")
def flat() -> keras.Model:
    return keras_cnn.build_cifar_resnet(20, classes=10, input_shape=(32, 32, 3))


@pytest.fixture(scope="module")
def nested() -> keras.Model:
    """The issue's classifier: a ResNet-20 backbone called as one layer, then a head."""
    backbone = keras_cnn.build_cifar_resnet(20, include_top=False, input_shape=(32, 32, 3))
    inp = keras.Input((32, 32, 3))
    x = layers.GlobalAveragePooling2D(name="avg_pool")(backbone(inp))
    return keras.Model(inp, layers.Dense(10, name="predictions")(x), name="clf")


def test_nested_functional_model_counts_like_the_flat_one(nested, flat):
    assert keras_cnn.count_macs(nested) == keras_cnn.count_macs(flat) == 40_551_040
    table = keras_cnn.summarize(nested)
    assert numbers(table) == numbers(keras_cnn.summarize(flat))
    assert int(table.params.sum()) == nested.count_params() == flat.count_params()
    assert table.layer[1] == "resnet20/conv1_conv"  # qualified by the nested model's name
    assert keras_cnn.weight_layers(nested) == keras_cnn.weight_layers(flat) == 20
    for name in ("conv2_block3_out", "conv4_block3_out"):
        assert keras_cnn.receptive_field(nested, name) == keras_cnn.receptive_field(flat, name)
    assert keras_cnn.receptive_field(nested, "resnet20/conv4_block3_out") == 81
    assert keras_cnn.totals(nested) == keras_cnn.totals(flat)


def lenet_layers() -> list[layers.Layer]:
    return [
        layers.Conv2D(6, 5, padding="same", activation="tanh", name="c1"),
        layers.AveragePooling2D(2, name="s2"),
        layers.Conv2D(16, 5, activation="tanh", name="c3"),
        layers.AveragePooling2D(2, name="s4"),
        layers.Flatten(name="flat"),
        layers.Dense(120, activation="tanh", name="f5"),
        layers.Dense(10, name="out"),
    ]


def functional_lenet() -> keras.Model:
    x = inp = keras.Input((28, 28, 1))
    for layer in lenet_layers():
        x = layer(x)
    return keras.Model(inp, x)


def test_sequential_model_counts_like_the_functional_one():
    seq = keras.Sequential([keras.Input((28, 28, 1)), *lenet_layers()])
    func = functional_lenet()
    assert numbers(keras_cnn.summarize(seq)) == numbers(keras_cnn.summarize(func))
    # 28*28*5*5*1*6 + 10*10*5*5*6*16 + 400*120 + 120*10
    assert keras_cnn.count_macs(seq) == 117_600 + 240_000 + 48_000 + 1_200
    assert keras_cnn.receptive_field(seq, "s4") == keras_cnn.receptive_field(func, "s4") == 16
    assert keras_cnn.weight_layers(seq) == 4
    dot = keras_cnn.to_dot(seq)
    assert '"c1" -> "s2"' in dot and '"f5" -> "out"' in dot


def test_models_nested_both_ways_and_twice(flat):
    trunk = keras.Sequential([keras.Input((28, 28, 1)), *lenet_layers()[:4]], name="trunk")
    inp = keras.Input((28, 28, 1))
    x = layers.Flatten(name="flat")(trunk(inp))
    x = keras.Sequential([layers.Dense(120, activation="tanh", name="f5")], name="fc")(x)
    model = keras.Model(inp, layers.Dense(10, name="out")(x))
    assert numbers(keras_cnn.summarize(model)) == numbers(keras_cnn.summarize(functional_lenet()))

    backbone = keras_cnn.build_cifar_resnet(20, include_top=False, input_shape=(32, 32, 3))
    seq = keras.Sequential([keras.Input((32, 32, 3)), backbone, layers.GlobalAveragePooling2D()])
    seq.add(layers.Dense(10))
    assert keras_cnn.count_macs(seq) == keras_cnn.count_macs(flat)
    assert keras_cnn.receptive_field(seq, "conv4_block3_out") == 81


def test_shared_layers_and_models_count_every_call():
    conv = layers.Conv2D(4, 3, padding="same", name="shared")
    inp = keras.Input((8, 8, 4))
    model = keras.Model(inp, conv(conv(inp)))
    table = keras_cnn.summarize(model)
    assert list(table.layer[1:]) == ["shared", "shared (call 2)"]
    assert list(table.macs[1:]) == [8 * 8 * 9 * 4 * 4] * 2
    assert list(table.params[1:]) == [3 * 3 * 4 * 4 + 4, 0]  # the weights are counted once
    assert list(table.receptive_field[1:]) == [3, 5]
    assert keras_cnn.count_macs(model) == 2 * 8 * 8 * 9 * 4 * 4
    with pytest.raises(ValueError, match="more than one layer call"):
        keras_cnn.receptive_field(model, "shared")
    assert keras_cnn.receptive_field(model, "shared (call 2)") == 5

    tower = keras.Sequential([keras.Input((8, 8, 4)), conv], name="tower")
    a, b = keras.Input((8, 8, 4)), keras.Input((8, 8, 4))
    siamese = keras.Model([a, b], layers.Add()([tower(a), tower(b)]))
    assert keras_cnn.count_macs(siamese) == 2 * 8 * 8 * 9 * 4 * 4
    assert int(keras_cnn.summarize(siamese).params.sum()) == siamese.count_params()


def test_input_tensor_models_count_from_their_source_input():
    x = keras.Input((64, 64, 3))
    scaled = layers.Rescaling(1 / 255, name="scale")(x)
    model = keras_cnn.build_cifar_resnet(20, input_tensor=scaled)
    plain = keras_cnn.build_cifar_resnet(20, input_shape=(64, 64, 3))
    assert keras_cnn.count_macs(model) == keras_cnn.count_macs(plain) == 162_202_240
    assert keras_cnn.receptive_field(model, "conv4_block3_out") == 81
    assert keras_cnn.summarize(model).layer[1] == "scale"


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="custom")
        self.dense = layers.Dense(2)

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: keras.Sequential([layers.Dense(2)], name="unbuilt"), "no input shape yet"),
        (Subclassed, "no layer graph"),
    ],
    ids=["unbuilt-sequential", "subclassed"],
)
@pytest.mark.parametrize(
    "analyse",
    [keras_cnn.summarize, keras_cnn.count_macs, keras_cnn.weight_layers, keras_cnn.to_dot],
    ids=lambda f: f.__name__,
)
def test_what_cannot_be_analysed_is_a_clear_error(make, match, analyse):
    with pytest.raises(ValueError, match=match):
        analyse(make())


def test_nested_model_is_one_node_of_the_diagram_with_its_edges(nested):
    dot = keras_cnn.to_dot(nested)
    assert '"resnet20" -> "avg_pool"' in dot
    assert "resnet20\\nFunctional" in dot
    assert any(line.strip().endswith('-> "resnet20";') for line in dot.splitlines())
