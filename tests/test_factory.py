"""One model factory: the registry's table (and its CIFAR rule) is what every name means, for
``get_model``, ``keras_cnn.train.build_model`` and ``train``."""

import pytest

import keras_cnn
from keras_cnn.analysis.summary import inspect_structure, totals
from keras_cnn.models import registry
from keras_cnn.models.small import SMALL_MODELS
from keras_cnn.train import build_model, train


def _params(build) -> int:
    return inspect_structure(build, totals)["params"]


def test_build_model_resnet50_is_the_imagenet_resnet50():
    """It was the CIFAR ResNet-50 (759,130 parameters, 32x32x1): the CIFAR pattern matched
    every resnetN before the registry was asked."""
    assert _params(lambda: build_model("resnet50", classes=1000)) == 25_636_712
    model_input = inspect_structure(lambda: build_model("resnet50"), lambda m: m.input_shape)
    assert model_input == (None, 224, 224, 3)
    # on the digits: ImageNet ResNet-50 with a 10-way classifier
    assert _params(lambda: build_model("resnet50")) == 25_636_712 - 2049 * 990


def test_build_model_resnet18_is_the_imagenet_resnet18():
    """It raised "CIFAR ResNet depth must be 6n+2" though the name check accepted it."""
    assert _params(lambda: build_model("resnet18", classes=1000)) == _params(
        lambda: keras_cnn.build_resnet(18)
    )


@pytest.mark.slow
def test_train_resnet18_trains():
    history = train("resnet18", epochs=1, limit=8, batch_size=4, seed=0, verbose=0, record=False)
    assert len(history) == 1 and history.loss.notna().all()


@pytest.mark.parametrize(
    ("name", "data", "params", "shape"),
    [
        ("resnet20", "digits", 270_810, (None, 32, 32, 1)),
        ("plain20", "digits", 270_810, (None, 32, 32, 1)),
        ("lenet5", "digits", 61_706, (None, 32, 32, 1)),
        ("resnet8", "digits", 75_482, (None, 32, 32, 1)),
    ],
)
def test_small_networks_are_built_for_the_datas_channels(name, data, params, shape):
    """Unchanged: the live-training networks get the data's channels and classes."""
    model = build_model(name, data)
    assert (model.count_params(), model.input_shape, model.name) == (params, shape, name)


def test_cifar_rule_is_in_the_registry_and_keeps_the_table_first():
    assert registry.resolve("resnet26").builder == "build_cifar_resnet"
    assert registry.resolve("resnet26").kwargs == {"depth": 26, "residual": True}
    assert registry.resolve("plain14").kwargs == {"depth": 14, "residual": False}
    for imagenet in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"):
        assert registry.resolve(imagenet).builder == "build_resnet"
    assert keras_cnn.get_model("resnet8").name == "resnet8"


@pytest.mark.parametrize(
    ("name", "hint"),
    [("resnt50", "Did you mean 'resnet50'"), ("resnet51", "Did you mean"), ("resnet7", "")],
)
def test_unknown_names_suggest_the_closest(name, hint):
    for call in (keras_cnn.get_model, build_model, registry.resolve):
        with pytest.raises(ValueError, match=rf"Unknown model '{name}'\..*{hint}.*6n\+2"):
            call(name)


def test_the_training_pages_picker_is_made_of_small_registry_models():
    assert all(registry.resolve(name).adapt == "channels" for name in SMALL_MODELS)
    model = SMALL_MODELS["vgg_small"][0](input_shape=(32, 32, 3), classes=4)
    assert model.name == "vgg_small" and model.output_shape == (None, 4)
