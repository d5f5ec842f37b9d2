"""Every registry entry, as timm's tests/test_models.py runs every registered model: it builds
at a small input (where its family allows), is named by its id, round-trips through ``.keras``
with the same predictions, and ``keras.Model.from_config(model.get_config())`` has the same
parameters and layers.

The ImageNet-size ones (over 30M parameters even at 32x32) are checked structure-only, without
initialising weights (:func:`keras_cnn.inspect_structure`); the two with thousands of layers
are skipped here, visibly: their dedicated tests build them once already.
"""

import json

import keras
import numpy as np
import pytest

import keras_cnn
from keras_cnn.analysis.summary import inspect_structure
from keras_cnn.models import registry

FIGURES = registry._figures()
#: Their own tests build them (test_models, test_resnet_family); a sweep build adds minutes.
HUGE = {
    "resnet1202": "5,000 layers: built by test_models.test_resnet1202_has_19_4_million_parameters",
    "resnet1001v2": "4,000 layers: built by test_resnet_family's ResNet-1001 test",
}


def _small(name: str) -> dict:
    """The smallest build of ``name`` that keeps its structure: a small input, and for the
    fully connected VGGs and AlexNet narrow fully connected layers or few classes."""
    entry = registry.MODELS[name]
    if entry.builder in ("build_vgg",):
        return {"input_shape": (32, 32, 3), "fc_units": 64, "classes": 10}
    if entry.builder == "build_alexnet":
        return {"input_shape": (67, 67, 3), "classes": 10}
    if entry.input_size[0] > 32:
        return {"input_shape": (32, 32, 3), "classes": 10}
    return {}


def _kind(name: str) -> str:
    if name in HUGE:
        return "skip"
    family = registry.MODELS[name].family
    if FIGURES[name]["params"] > 30e6 and family not in ("VGG", "AlexNet"):
        return "structure"
    return "full"


def _params():
    for name in registry.MODELS:
        fig, kind = FIGURES[name], _kind(name)
        slow = fig["params"] > 3e6 or fig["weight_layers"] > 32
        yield pytest.param(
            name, kind, id=f"{name}-{kind}", marks=[pytest.mark.slow] if slow else []
        )


def _config_twin(model):
    config = model.get_config()
    json.dumps(config)  # JSON-serializable, as keras-hub's backbones require
    twin = keras.Model.from_config(config)
    return twin.count_params(), [layer.name for layer in twin.layers]


@pytest.mark.parametrize(("name", "kind"), list(_params()))
def test_every_registry_model_builds_saves_and_round_trips_its_config(name, kind, tmp_path):
    if kind == "skip":
        pytest.skip(HUGE[name])
    kwargs = _small(name)
    if kind == "structure":

        def check(model):
            return (
                model.name,
                model.count_params(),
                [layer.name for layer in model.layers],
                (_config_twin(model)),
            )

        model_name, params, names, twin = inspect_structure(
            lambda: keras_cnn.get_model(name, **kwargs), check
        )
        assert model_name == name and twin == (params, names)
        return
    keras.utils.set_random_seed(0)
    model = keras_cnn.get_model(name, **kwargs)
    assert model.name == name
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(0).normal(size=(2, *model.input_shape[1:])).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-5)
    names = [layer.name for layer in model.layers]
    assert [layer.name for layer in loaded.layers] == names
    assert _config_twin(model) == (model.count_params(), names)


def test_the_sweep_covers_the_whole_registry():
    kinds = {name: kind for name, kind in ((p.values[0], p.values[1]) for p in _params())}
    assert list(kinds) == list(registry.MODELS)
    assert {n for n, k in kinds.items() if k == "skip"} == set(HUGE)
