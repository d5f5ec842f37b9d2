"""ResNeXt, the Wide ResNets and the pre-activation CIFAR ResNets against their references.

Large models are measured with ``inspect_structure`` (shapes only, no weights
initialised), so exact counts of 127M-parameter networks cost about a second each.
"""

import keras
import numpy as np
import pytest

import keras_cnn
from keras_cnn import inspect_structure, totals


def _within(value, reference, rel):
    return abs(value - reference) <= rel * reference


def _totals(build):
    return inspect_structure(build, totals)


# torchvision's trainable parameter counts (sum of p.numel() for p in model.parameters()).
TORCHVISION = {
    "resnext50_32x4d": (dict(depth=50), 25_028_904),
    "resnext101_32x8d": (dict(depth=101, cardinality=32, base_width=8), 88_791_336),
    "resnext101_64x4d": (dict(depth=101, cardinality=64, base_width=4), 83_455_272),
    "wide_resnet50_2": (dict(depth=50, cardinality=1, base_width=128), 68_883_240),
    "wide_resnet101_2": (dict(depth=101, cardinality=1, base_width=128), 126_886_696),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_imagenet_resnext_and_wide_resnets_match_torchvision(name):
    kwargs, trainable = TORCHVISION[name]
    got = _totals(lambda: keras_cnn.build_resnext(**kwargs))
    assert got["trainable_params"] == trainable
    assert got["weight_layers"] == kwargs["depth"]
    # the registry row builds the same network
    assert _totals(lambda: keras_cnn.get_model(name))["trainable_params"] == trainable


def test_resnext50_has_about_resnet50s_cost_table_1():
    """Xie et al. Table 1: ResNeXt-50 (32x4d) 4.2 GFLOPs (multiply-adds) vs ResNet-50's 4.1
    (stride on the 3x3, as in their Torch code); parameters 25.0M vs 25.5M."""
    resnext = _totals(lambda: keras_cnn.build_resnext(50))
    resnet = _totals(lambda: keras_cnn.build_resnext(50, cardinality=1, base_width=64))
    assert _within(resnext["macs"], 4.2e9, 0.05), resnext["macs"]
    assert _within(resnet["macs"], 4.1e9, 0.05), resnet["macs"]
    # ResNet-50 "v1.5" is torchvision's resnet50: 25,557,032 trainable parameters
    assert resnet["trainable_params"] == 25_557_032
    assert _within(resnext["trainable_params"], 25.0e6, 0.02)


def test_grouped_bottleneck_block_arithmetic():
    """conv2_x's first block: ResNet's 64-channel 3x3 vs ResNeXt's 128 channels in 32 groups."""
    x = keras.Input((56, 56, 64))
    y = keras_cnn.bottleneck_block(x, 64, groups=32, base_width=4, stride_in_3x3=True, name="b")
    model = keras.Model(x, y)
    conv = model.get_layer("b_2_conv")
    assert conv.groups == 32 and conv.kernel.shape == (3, 3, 4, 128)
    table = keras_cnn.summarize(model).set_index("layer")
    assert table.loc["b_2_conv", "params"] == 3 * 3 * (128 // 32) * 128  # 4,608
    assert table.loc["b_2_conv", "macs"] == 56 * 56 * 4_608
    # 1x1 64->128, grouped 3x3, 1x1 128->256, projection 64->256 (no biases)
    convs = 64 * 128 + 4_608 + 128 * 256 + 64 * 256
    assert sum(layer.kernel.shape.num_elements() for layer in _convs(model)) == convs
    assert model.output.shape == (None, 56, 56, 256)


def _convs(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def test_resnext_block_computes_32_independent_paths():
    """A grouped convolution equals its groups run separately and concatenated."""
    x = keras.Input((5, 5, 8))
    grouped = keras.layers.Conv2D(8, 3, padding="same", groups=4, use_bias=False)
    model = keras.Model(x, grouped(x))
    data = np.random.default_rng(0).normal(size=(2, 5, 5, 8)).astype("float32")
    kernel = grouped.kernel.numpy()  # (3, 3, 2, 8): group g maps inputs 2g..2g+1 to 2g..2g+1
    parts = []
    for g in range(4):
        part_in = keras.Input((5, 5, 2))
        conv = keras.layers.Conv2D(2, 3, padding="same", use_bias=False)
        part = keras.Model(part_in, conv(part_in))
        conv.set_weights([kernel[..., 2 * g : 2 * g + 2]])
        parts.append(part.predict(data[..., 2 * g : 2 * g + 2], verbose=0))
    expected = np.concatenate(parts, axis=-1)
    np.testing.assert_allclose(model.predict(data, verbose=0), expected, atol=1e-5)


# Zagoruyko & Komodakis Tables 4-5 and He et al. 2016 Table 4: parameters, within 2%.
CIFAR_PAPER = {
    "wrn28_10": (lambda: keras_cnn.build_wide_resnet(28, 10), 36.5e6),
    "wrn40_4": (lambda: keras_cnn.build_wide_resnet(40, 4), 8.9e6),
    "wrn16_8": (lambda: keras_cnn.build_wide_resnet(16, 8), 11.0e6),
    "resnet164_v2": (lambda: keras_cnn.build_cifar_resnet(164, version=2), 1.7e6),
    "resnet110_v2": (lambda: keras_cnn.build_cifar_resnet(110, version=2), 1.7e6),
}


@pytest.mark.parametrize("name", sorted(CIFAR_PAPER))
def test_cifar_wide_and_preactivation_parameters_match_the_papers(name):
    build, params = CIFAR_PAPER[name]
    got = _totals(build)
    assert _within(got["trainable_params"], params, 0.02), got


@pytest.mark.slow
def test_resnet1001_has_10_2_million_parameters_and_1001_layers():
    got = _totals(lambda: keras_cnn.build_cifar_resnet(1001, version=2))
    assert _within(got["trainable_params"], 10.2e6, 0.02), got
    assert got["weight_layers"] == 1001


def test_preactivation_cifar_resnets_choose_the_papers_blocks():
    """He et al. 2016: ResNet-110 of basic units, ResNet-164 of bottlenecks (Table 3)."""

    def kinds(model):
        names = {layer.name for layer in model.layers}
        return "conv2_block1_3_conv" in names, "conv2_block1_preact_bn" in names

    basic = keras_cnn.build_cifar_resnet(20, version=2)
    assert kinds(basic) == (False, True) and basic.name == "resnet20v2"
    assert keras_cnn.weight_layers(basic) == 20
    bottleneck = keras_cnn.build_cifar_resnet(29, version=2, block="bottleneck")
    assert kinds(bottleneck) == (True, True)
    assert bottleneck.get_layer("conv4_block1_out").output.shape == (None, 8, 8, 256)
    assert keras_cnn.weight_layers(bottleneck) == 29
    # the original ordering keeps the 2015 paper's zero-padding shortcuts
    assert keras_cnn.build_cifar_resnet(20).get_layer("conv3_block1_0_pad")


def test_wide_resnet_is_a_wider_preactivation_network_with_dropout():
    model = keras_cnn.build_wide_resnet(10, 2, dropout=0.3, classes=7)
    assert model.name == "wrn10_2" and model.output.shape == (None, 7)
    assert model.get_layer("conv2_block1_1_dropout").rate == 0.3
    assert model.get_layer("conv4_block1_out").output.shape == (None, 8, 8, 128)
    # WRN-16-8: the paper's 6n + 4 = 16; the longest path has the 14 convolutions and FC
    assert _totals(lambda: keras_cnn.build_wide_resnet(16, 8))["weight_layers"] == 14
    # the first block widens 16 -> 32 channels: a 1x1 projection from the pre-activation
    assert model.get_layer("conv2_block1_0_conv").kernel.shape == (1, 1, 16, 32)


def test_grouped_and_wide_models_summarize_and_see_fields():
    model = keras_cnn.build_resnext(50, include_top=False, input_shape=(64, 64, 3))
    table = keras_cnn.summarize(model)
    assert int(table.macs.sum()) == keras_cnn.count_macs(model)
    assert int(table.params.sum()) == model.count_params()
    # by hand: the stem's 7x7/2 and 3x3/2 pool, then the first block's 1x1 and 3x3
    r, j = 1, 1
    for k, s in [(7, 2), (3, 2), (1, 1), (3, 1)]:
        r, j = r + (k - 1) * j, j * s
    assert keras_cnn.receptive_field(model, "conv2_block1_out") == r == 19


BAD = [
    (lambda: keras_cnn.build_resnext(34), r"ResNeXt depth must be one of \[50, 101, 152\]"),
    (lambda: keras_cnn.build_resnext(50, cardinality=0), r"`cardinality` must be a positive"),
    (lambda: keras_cnn.build_resnext(50, base_width=2.5), r"`base_width` must be a positive.*2\.5"),
    (lambda: keras_cnn.build_wide_resnet(27, 10), r"6n\+4.*Received: depth=27"),
    (
        lambda: keras_cnn.build_wide_resnet(50, 2),
        r"build_resnext\(50, cardinality=1, base_width=128",
    ),
    (lambda: keras_cnn.build_wide_resnet(28, 0), r"`widen_factor` must be a positive integer"),
    (lambda: keras_cnn.build_wide_resnet(16, 4, dropout=1.5), r"`dropout` must be.*1\.5"),
    (lambda: keras_cnn.build_cifar_resnet(1001, version=2, block="basic"), r"6n\+2.*1001"),
    (lambda: keras_cnn.build_cifar_resnet(165, version=2), r"9n\+2.*Received: depth=165"),
    (lambda: keras_cnn.build_cifar_resnet(20, version=3), r"`version` must be one of \[1, 2\]"),
    (lambda: keras_cnn.build_cifar_resnet(20, block="wide"), r"`block` must be one of"),
    (lambda: keras_cnn.build_cifar_resnet(20, bn_momentum=1.0), r"`bn_momentum` must be"),
    (lambda: keras_cnn.build_resnet(18, bn_momentum=-0.1), r"`bn_momentum` must be"),
]


@pytest.mark.parametrize(("call", "message"), BAD)
def test_bad_arguments_are_clear_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_grouped_width_must_split_into_the_groups():
    x = keras.Input((8, 8, 16))
    with pytest.raises(ValueError, match=r"multiple of `groups` \(32\).*width=100"):
        keras_cnn.bottleneck_block(x, 16, groups=32, width=100)
