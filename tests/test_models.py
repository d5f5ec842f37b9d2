"""The papers' numbers: parameters, multiply-adds, receptive fields, depth, bad input."""

import keras
import pandas as pd
import pytest

import keras_cnn


def _within(value, reference, rel):
    return abs(value - reference) <= rel * reference


# He et al. 2015, Table 6: parameters of the CIFAR-10 ResNets (option A), within 2%.
CIFAR_PARAMS = {20: 0.27e6, 32: 0.46e6, 44: 0.66e6, 56: 0.85e6, 110: 1.7e6}


@pytest.mark.parametrize(("depth", "params"), sorted(CIFAR_PARAMS.items()))
def test_cifar_resnet_parameters_match_table_6(depth, params):
    model = keras_cnn.build_cifar_resnet(depth)
    trainable = keras_cnn.totals(model)["trainable_params"]
    assert _within(trainable, params, 0.02), trainable
    assert keras_cnn.weight_layers(model) == depth
    assert model.output.shape == (None, 10)


@pytest.mark.slow
def test_resnet1202_has_19_4_million_parameters():
    model = keras_cnn.build_cifar_resnet(1202)
    assert _within(keras_cnn.totals(model)["trainable_params"], 19.4e6, 0.01)


def test_plain_twin_has_the_same_parameters_and_no_shortcut():
    plain, residual = (
        keras_cnn.build_cifar_resnet(20, residual=False),
        keras_cnn.build_cifar_resnet(20),
    )
    assert plain.count_params() == residual.count_params()
    assert plain.name == "plain20"
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    assert sum(isinstance(layer, keras.layers.Add) for layer in residual.layers) == 9


def test_cifar_option_b_adds_projection_parameters():
    a = keras_cnn.build_cifar_resnet(20, shortcut="A").count_params()
    b = keras_cnn.build_cifar_resnet(20, shortcut="B").count_params()
    # two projections: 16->32 and 32->64 (1x1, no bias) with batch norm (4 per channel)
    assert b - a == 16 * 32 + 4 * 32 + 32 * 64 + 4 * 64


@pytest.mark.slow
@pytest.mark.parametrize(("depth", "trainable"), [(18, 11_689_512), (34, 21_797_672)])
def test_resnet18_34_match_torchvision(depth, trainable):
    """torchvision counts parameters only; keras also counts batch-norm statistics."""
    model = keras_cnn.build_resnet(depth)
    assert keras_cnn.totals(model)["trainable_params"] == trainable
    assert keras_cnn.weight_layers(model) == depth


# He et al. 2015 Table 1 and Simonyan & Zisserman: multiply-adds at 224x224, within 5%.
PAPER_MACS = {
    "resnet18": 1.8e9,
    "resnet34": 3.6e9,
    "resnet50": 3.8e9,
    "resnet101": 7.6e9,
    "resnet152": 11.3e9,
    "vgg16": 15.3e9,
    "vgg19": 19.6e9,
}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "macs"), sorted(PAPER_MACS.items()))
def test_multiply_adds_match_the_papers(name, macs):
    model = keras_cnn.get_model(name)
    assert _within(keras_cnn.count_macs(model), macs, 0.05)


def test_small_models_match_their_stated_figures():
    assert keras_cnn.build_lenet5().count_params() == 61_706
    assert keras_cnn.build_googlenet().count_params() == 6_998_552
    assert _within(6_998_552, 6.8e6, 0.05)  # the paper's Table 1 total
    assert keras_cnn.weight_layers(keras_cnn.build_googlenet()) == 22


@pytest.mark.slow
def test_alexnet_parameters():
    assert keras_cnn.build_alexnet().count_params() == 62_378_344
    two = keras_cnn.build_alexnet(two_tower=True)
    assert two.count_params() == 60_965_224  # the paper's "60 million"
    assert keras_cnn.weight_layers(two) == 8
    assert two.get_layer("pool5").output.shape == (None, 6, 6, 256)


@pytest.mark.parametrize(("convs", "field"), [(1, 3), (2, 5), (3, 7), (4, 9)])
def test_stacked_3x3_convolutions_see_2n_plus_1(convs, field):
    x = keras.Input((32, 32, 3))
    y = x
    for i in range(convs):
        y = keras.layers.Conv2D(4, 3, padding="same", name=f"c{i}")(y)
    model = keras.Model(x, y)
    assert keras_cnn.receptive_field(model, f"c{convs - 1}") == field


def _hand_field(layers):
    """r_out = r_in + (k - 1) * j_in, j_out = j_in * s, along a chain of (k, s)."""
    r, j = 1, 1
    for k, s in layers:
        r, j = r + (k - 1) * j, j * s
    return r


def test_vgg16_receptive_field_by_hand():
    model = keras_cnn.build_vgg(16, include_top=False)
    chain = []
    for convs in (2, 2, 3, 3, 3):
        chain += [(3, 1)] * convs + [(2, 2)]
    assert _hand_field(chain[:-1]) == 196
    assert keras_cnn.receptive_field(model, "block5_conv3") == 196
    assert keras_cnn.receptive_field(model, "block5_pool") == _hand_field(chain) == 212


def test_resnet50_receptive_field_by_hand():
    model = keras_cnn.build_resnet(50, include_top=False)
    # stem: 7x7/2 conv, 3x3/2 pool; each bottleneck adds one 3x3 (its 1x1s add nothing)
    # and the first block of conv3..conv5 strides in its first 1x1.
    chain = [(7, 2), (3, 2)]
    for blocks, stride in ((3, 1), (4, 2), (6, 2), (3, 2)):
        chain += [(1, stride), (3, 1)] + [(3, 1)] * (blocks - 1)
    assert _hand_field(chain) == 483
    assert keras_cnn.receptive_field(model, "conv5_block3_out") == 483
    assert keras_cnn.receptive_field(model, "conv2_block1_out") == 19
    assert keras_cnn.receptive_field(model, "conv2_block3_out") == 35


def test_summarize_table():
    model = keras_cnn.build_cifar_resnet(20)
    table = keras_cnn.summarize(model)
    assert list(table.columns) == [
        "layer",
        "type",
        "output_shape",
        "params",
        "macs",
        "receptive_field",
        "activation_bytes",
    ]
    assert int(table.params.sum()) == model.count_params()
    assert int(table.macs.sum()) == keras_cnn.count_macs(model) == 40_551_040
    row = table.set_index("layer").loc["conv1_conv"]
    assert row.type == "Conv2D" and row.output_shape == (32, 32, 16)
    assert row.params == 3 * 3 * 3 * 16 and row.macs == 32 * 32 * 3 * 3 * 3 * 16
    assert row.receptive_field == 3
    # the conv1 3x3, then 18 3x3 convolutions; the first of conv3 and conv4 strides 2
    chain = [(3, 1)] * 7 + [(3, 2)] + [(3, 1)] * 5 + [(3, 2)] + [(3, 1)] * 5
    assert table.set_index("layer").loc["conv4_block3_out"].receptive_field == _hand_field(chain)
    assert pd.isna(table.set_index("layer").loc["predictions"].receptive_field)


def test_receptive_field_errors_name_the_layer():
    model = keras_cnn.build_lenet5()
    with pytest.raises(ValueError, match="no layer 'nope'"):
        keras_cnn.receptive_field(model, "nope")
    with pytest.raises(ValueError, match="whole"):
        keras_cnn.receptive_field(model, "f6")
    assert keras_cnn.receptive_field(model, "c5") == 32


BAD_CALLS = [
    (lambda: keras_cnn.build_resnet(42), r"one of \[18, 34, 50, 101, 152\]\. Received: depth=42"),
    (lambda: keras_cnn.build_vgg(17), r"one of \[11, 13, 16, 19\]\. Received: depth=17"),
    (lambda: keras_cnn.build_cifar_resnet(21), r"6n\+2.*Received: depth=21"),
    (lambda: keras_cnn.build_resnet(50, version=3), r"`version` must be one of \[1, 2\]"),
    (lambda: keras_cnn.build_resnet(50, shortcut="D"), r"`shortcut` must be one of"),
    (lambda: keras_cnn.build_resnet(50, include_top=False, pooling="mean"), r"`pooling` must be"),
    (lambda: keras_cnn.build_vgg(16, input_shape=(16, 16, 3)), r"at least 32x32.*\(16, 16, 3\)"),
    (lambda: keras_cnn.build_alexnet(input_shape=(64, 64, 3)), r"at least 67x67"),
    (
        lambda: keras_cnn.build_resnet(50, weights="imagenet", classes=10),
        r"`classes` should be 1000",
    ),
    (
        lambda: keras_cnn.build_resnet(
            50, weights="imagenet", include_top=False, input_shape=(64, 64, 1)
        ),
        r"3 channels",
    ),
    (
        lambda: keras_cnn.build_resnet(18, weights="imagenet"),
        r"No published ImageNet weights.*resnet50",
    ),
    (lambda: keras_cnn.build_lenet5(weights="imagenet"), r"No published ImageNet weights"),
    (
        lambda: keras_cnn.build_vgg(16, weights="/no/such/file.h5"),
        r"path to an existing weights file",
    ),
    (
        lambda: keras_cnn.get_model("resnet5O"),
        r"Unknown model 'resnet5O'\. Did you mean [^?]*'resnet50'",
    ),
    (lambda: keras_cnn.build_vgg(16, input_shape=(224, 224)), r"three integers"),
]


@pytest.mark.parametrize(("call", "message"), BAD_CALLS)
def test_bad_input_is_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_input_tensor_is_used():
    x = keras.Input((64, 64, 3), name="images")
    model = keras_cnn.build_resnet(18, input_tensor=x, include_top=False, pooling="avg")
    assert model.inputs[0] is x or model.inputs[0].name == x.name
    assert model.output.shape == (None, 512)


def test_builders_accept_a_keras_applications_signature():
    model = keras_cnn.build_googlenet(
        include_top=True,
        weights=None,
        input_shape=(96, 96, 3),
        classes=7,
        classifier_activation=None,
    )
    assert model.output.shape == (None, 7)
    assert model.get_layer("predictions").activation.__name__ == "linear"


def test_inspect_structure_sees_what_a_normal_build_sees_and_leaves_nothing_behind():
    from keras.src.backend.common import global_state

    from keras_cnn.analysis.summary import inspect_structure

    def describe(model):
        return keras_cnn.summarize(model), keras_cnn.totals(model), keras_cnn.to_dot(model)

    table, totals, dot = inspect_structure(lambda: keras_cnn.build_cifar_resnet(20), describe)
    model = keras_cnn.build_cifar_resnet(20)
    assert table.equals(keras_cnn.summarize(model))
    assert totals == keras_cnn.totals(model) and totals["params"] == 271_098
    assert dot == keras_cnn.to_dot(model)
    # no deferred (uninitialised) variable reaches this thread
    assert not global_state.get_global_attribute("uninitialized_variables")
    with pytest.raises(ValueError, match="6n\\+2"):
        inspect_structure(lambda: keras_cnn.build_cifar_resnet(21), keras_cnn.totals)
