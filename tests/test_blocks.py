"""The blocks: shapes, shortcut kinds and what each computes."""

import keras
import numpy as np
import pytest

import keras_cnn


def _model(block, input_shape, **kwargs):
    x = keras.Input(input_shape)
    return keras.Model(x, block(x, **kwargs))


def test_vgg_block_halves_the_size_and_uses_3x3_convolutions():
    model = _model(keras_cnn.vgg_block, (32, 32, 3), filters=8, convs=3, name="b")
    assert model.output.shape == (None, 16, 16, 8)
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.name for c in convs] == ["b_conv1", "b_conv2", "b_conv3"]
    assert all(c.kernel_size == (3, 3) for c in convs)
    # 3x3x3x8+8 + 2 * (3x3x8x8+8)
    assert model.count_params() == 224 + 2 * 584


def test_vgg_block_with_batch_norm_names_its_layers():
    model = _model(keras_cnn.vgg_block, (8, 8, 3), filters=4, convs=2, batch_norm=True, name="b")
    names = [layer.name for layer in model.layers[1:]]
    assert names == ["b_conv1", "b_bn1", "b_relu1", "b_conv2", "b_bn2", "b_relu2", "b_pool"]


@pytest.mark.parametrize(
    ("block", "kwargs", "out_shape", "shortcut_layers"),
    [
        (keras_cnn.basic_block, dict(filters=16), (None, 8, 8, 16), []),
        (
            keras_cnn.basic_block,
            dict(filters=32, stride=2),
            (None, 4, 4, 32),
            ["b_0_conv", "b_0_bn"],
        ),
        (
            keras_cnn.basic_block,
            dict(filters=32, stride=2, shortcut="zero_pad"),
            (None, 4, 4, 32),
            ["b_0_pool", "b_0_transpose", "b_0_pad", "b_0_restore"],
        ),
        (keras_cnn.bottleneck_block, dict(filters=8), (None, 8, 8, 32), ["b_0_conv", "b_0_bn"]),
        (keras_cnn.bottleneck_block, dict(filters=4, stride=2), (None, 4, 4, 16), ["b_0_pool"]),
    ],
)
def test_residual_block_shapes_and_shortcuts(block, kwargs, out_shape, shortcut_layers):
    model = _model(block, (8, 8, 16), name="b", **kwargs)
    assert model.output.shape == out_shape
    shortcut = [layer.name for layer in model.layers if "_0_" in layer.name]
    assert shortcut == shortcut_layers
    assert model.layers[-1].name == "b_out"


def test_identity_with_stride_subsamples_like_keras_resnet_v2():
    model = _model(keras_cnn.bottleneck_block, (8, 8, 16), filters=4, stride=2, name="b")
    assert model.get_layer("b_0_pool").strides == (2, 2)


def test_residual_block_adds_its_input():
    """With F's last batch norm zeroed (gamma = beta = 0), F(x) = 0 and y = relu(x)."""
    model = _model(keras_cnn.basic_block, (6, 6, 4), filters=4, name="b")
    bn = model.get_layer("b_2_bn")
    bn.set_weights([np.zeros_like(w) if i < 2 else w for i, w in enumerate(bn.get_weights())])
    x = np.random.default_rng(1).normal(size=(2, 6, 6, 4)).astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.maximum(x, 0), atol=1e-6)


def test_zero_pad_shortcut_appends_zero_channels():
    """Option A: the shortcut is x subsampled, then zeros for the new channels."""
    x_in = keras.Input((4, 4, 2))
    block_out = keras_cnn.basic_block(x_in, 4, stride=2, shortcut="zero_pad", name="b")
    model = keras.Model(x_in, block_out)
    restore = model.get_layer("b_0_restore").output
    probe = keras.Model(x_in, restore)
    x = np.arange(2 * 4 * 4 * 2, dtype="float32").reshape(2, 4, 4, 2)
    got = probe.predict(x, verbose=0)
    assert got.shape == (2, 2, 2, 4)
    np.testing.assert_array_equal(got[..., :2], x[:, ::2, ::2, :])
    np.testing.assert_array_equal(got[..., 2:], 0)


def test_plain_twin_has_no_addition():
    model = _model(keras_cnn.basic_block, (8, 8, 16), filters=16, shortcut=None, name="b")
    assert not any(isinstance(layer, keras.layers.Add) for layer in model.layers)
    assert (
        model.count_params() == _model(keras_cnn.basic_block, (8, 8, 16), filters=16).count_params()
    )


def test_preactivation_block_ends_with_the_addition():
    model = _model(keras_cnn.basic_block, (8, 8, 16), filters=16, preactivation=True, name="b")
    assert isinstance(model.get_layer("b_out"), keras.layers.Add)
    assert model.layers[1].name == "b_preact_bn"


def test_inception_block_concatenates_four_branches():
    model = _model(
        keras_cnn.inception_block,
        (28, 28, 192),
        b1=64,
        b3_reduce=96,
        b3=128,
        b5_reduce=16,
        b5=32,
        pool_proj=32,
        name="inception_3a",
    )
    assert model.output.shape == (None, 28, 28, 256)
    # Szegedy et al. Table 1, inception (3a): 159K parameters (with biases: 163,696).
    assert model.count_params() == 163_696
    assert model.get_layer("inception_3a_5x5").kernel_size == (5, 5)


@pytest.mark.parametrize(
    ("shortcut", "message"),
    [("bogus", "`shortcut` must be one of"), ("identity", "identity shortcut needs")],
)
def test_bad_shortcut_is_a_clear_error(shortcut, message):
    x = keras.Input((8, 8, 16))
    with pytest.raises(ValueError, match=message):
        keras_cnn.basic_block(x, 32, stride=2, shortcut=shortcut)


def test_local_response_normalization_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    x = np.random.default_rng(2).normal(size=(2, 5, 5, 7)).astype("float32") * 10
    inp = keras.Input((5, 5, 7))
    model = keras.Model(inp, keras_cnn.local_response_normalization(inp))
    expected = tf.nn.local_response_normalization(
        x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75
    )
    np.testing.assert_allclose(model.predict(x, verbose=0), expected.numpy(), rtol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "strides"),
    [
        (dict(), ((2, 2), (1, 1))),  # original ordering: the stride on the first 1x1
        (dict(stride_in_3x3=True), ((1, 1), (2, 2))),  # torchvision, ResNeXt
        (dict(preactivation=True), ((1, 1), (2, 2))),  # keras' ResNetV2
    ],
)
def test_bottleneck_stride_placement(kwargs, strides):
    model = _model(keras_cnn.bottleneck_block, (8, 8, 16), filters=8, stride=2, name="b", **kwargs)
    got = (model.get_layer("b_1_conv").strides, model.get_layer("b_2_conv").strides)
    assert got == strides
    assert model.output.shape == (None, 4, 4, 32)


def test_basic_block_dropout_sits_between_the_convolutions():
    model = _model(keras_cnn.basic_block, (8, 8, 16), filters=16, dropout=0.25, name="b")
    names = [layer.name for layer in model.layers]
    assert names.index("b_1_relu") < names.index("b_1_dropout") < names.index("b_2_conv")
    assert model.get_layer("b_1_dropout").rate == 0.25


def test_blocks_pass_bn_momentum_to_every_batch_norm():
    model = _model(
        keras_cnn.bottleneck_block, (8, 8, 16), filters=8, stride=2, bn_momentum=0.9, name="b"
    )
    momenta = {
        layer.momentum
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    }
    assert momenta == {0.9}
