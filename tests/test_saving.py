"""Every builder round-trips through model.save / keras.models.load_model."""

import keras
import numpy as np
import pytest

import keras_cnn

# builder, arguments: small inputs where the builder allows it, every option that adds
# layers of its own (batch norm, zero-padding shortcuts, LRN, pre-activation, groups).
ROUND_TRIPS = {
    "lenet5": (keras_cnn.build_lenet5, {}),
    "alexnet_lrn_two_tower": (
        keras_cnn.build_alexnet,
        dict(lrn=True, two_tower=True, include_top=False, pooling="avg", input_shape=(67, 67, 3)),
    ),
    "vgg11_bn": (
        keras_cnn.build_vgg,
        dict(depth=11, batch_norm=True, input_shape=(32, 32, 3), classes=5),
    ),
    "googlenet_lrn": (
        keras_cnn.build_googlenet,
        dict(lrn=True, input_shape=(64, 64, 3), classes=5),
    ),
    "resnet18": (keras_cnn.build_resnet, dict(depth=18, input_shape=(64, 64, 3), classes=5)),
    "resnet50_v2": (
        keras_cnn.build_resnet,
        dict(depth=50, version=2, include_top=False, pooling="max", input_shape=(32, 32, 3)),
    ),
    "resnet20": (keras_cnn.build_cifar_resnet, dict(depth=20)),
    "resnext50_grouped": (
        keras_cnn.build_resnext,
        dict(depth=50, cardinality=8, base_width=2, input_shape=(32, 32, 3), classes=5),
    ),
    "wrn10_2_dropout": (keras_cnn.build_wide_resnet, dict(depth=10, widen_factor=2, dropout=0.3)),
    "resnet11_v2_bottleneck": (
        keras_cnn.build_cifar_resnet,
        dict(depth=11, version=2, block="bottleneck"),
    ),
    "plain20": (keras_cnn.build_cifar_resnet, dict(depth=20, residual=False)),
}


@pytest.mark.parametrize("key", sorted(ROUND_TRIPS))
def test_save_and_load_without_custom_objects(tmp_path, key):
    builder, kwargs = ROUND_TRIPS[key]
    model = builder(**kwargs)
    path = tmp_path / f"{key}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    shape = (2, *model.input_shape[1:])
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    assert loaded.count_params() == model.count_params()


def test_config_round_trips():
    model = keras_cnn.build_cifar_resnet(20, shortcut="A")
    clone = keras.Model.from_config(model.get_config())
    assert clone.count_params() == model.count_params()
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
