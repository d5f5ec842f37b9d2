"""feature_extractor: one output per stage, for every family of the registry (as timm's
``features_only=True``), with the stages' names, strides and channels."""

import keras
import numpy as np
import pytest

import keras_cnn
from keras_cnn.analysis.summary import inspect_structure
from keras_cnn.models import registry
from keras_cnn.models.features import Stage, stages

#: The first registry entry of each family.
FAMILIES = {}
for _name, _entry in registry.MODELS.items():
    FAMILIES.setdefault(_entry.family, _name)


def _small(name):
    """Kwargs for a small build: the smallest input that keeps every stage."""
    size = registry.MODELS[name].input_size
    small = {"lenet5": (32, 32, 1), "alexnet": (99, 99, 3)}.get(name)
    if small is None:
        small = (size[0], size[1], 3) if size[0] <= 32 else (64, 64, 3)
    return {"input_shape": small}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_has_stages_with_strides_and_channels(family):
    name = FAMILIES[family]

    def check(model):
        found = stages(model)
        extractor = keras_cnn.feature_extractor(model)
        shapes = [tuple(t.shape) for t in extractor.outputs]
        return found, shapes, model.input_shape, extractor.feature_info

    found, shapes, input_shape, info = inspect_structure(
        lambda: keras_cnn.get_model(name, include_top=False, **_small(name)), check
    )
    assert info == found and len(found) >= 3
    assert [s.index for s in found] == list(range(len(found)))
    strides = [s.stride for s in found]
    assert strides == sorted(set(strides)) and all(s & (s - 1) == 0 for s in strides)
    for stage, shape in zip(found, shapes, strict=True):
        assert shape[-1] == stage.channels
        # "same" padding everywhere but LeNet's and AlexNet's valid convolutions
        if family not in ("LeNet", "AlexNet"):
            assert shape[1] == -(-input_shape[1] // stage.stride)


EXPECTED = {
    "resnet50": [
        ("conv1_relu", 2, 64),
        ("conv2_block3_out", 4, 256),
        ("conv3_block4_out", 8, 512),
        ("conv4_block6_out", 16, 1024),
        ("conv5_block3_out", 32, 2048),
    ],
    "resnet50v2": [
        ("conv1_conv", 2, 64),
        ("conv2_block2_out", 4, 256),
        ("conv3_block3_out", 8, 512),
        ("conv4_block5_out", 16, 1024),
        ("post_relu", 32, 2048),
    ],
    "vgg16": [
        ("block1_conv2", 1, 64),
        ("block2_conv2", 2, 128),
        ("block3_conv3", 4, 256),
        ("block4_conv3", 8, 512),
        ("block5_conv3", 16, 512),
        ("block5_pool", 32, 512),
    ],
    "googlenet": [
        ("conv1_7x7", 2, 64),
        ("conv2_3x3", 4, 192),
        ("inception_3b_output", 8, 480),
        ("inception_4e_output", 16, 832),
        ("inception_5b_output", 32, 1024),
    ],
    "lenet5": [("c1", 1, 6), ("c3", 2, 16), ("c5", 4, 120)],
    "resnet20": [
        ("conv2_block3_out", 1, 16),
        ("conv3_block3_out", 2, 32),
        ("conv4_block3_out", 4, 64),
    ],
    "wrn16_8": [("conv2_block2_out", 1, 128), ("conv3_block2_out", 2, 256), ("post_relu", 4, 512)],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stages_are_the_ones_timm_returns(name):
    found = inspect_structure(lambda: keras_cnn.get_model(name), stages)
    assert [(s.layer, s.stride, s.channels) for s in found] == EXPECTED[name]


def test_feature_extractor_shares_the_weights_and_picks_stages():
    model = keras_cnn.build_resnet(18, include_top=False, input_shape=(64, 64, 3))
    backbone = keras_cnn.feature_extractor(model, stages=[1, -1, "conv3_block2_out"])
    assert backbone.name == "resnet18_features"
    assert backbone.feature_info == [
        Stage(1, "conv2_block2_out", 4, 64),
        Stage(4, "conv5_block2_out", 32, 512),
        Stage(2, "conv3_block2_out", 8, 128),
    ]
    x = np.random.default_rng(0).normal(size=(2, 64, 64, 3)).astype("float32")
    features = backbone.predict(x, verbose=0)
    assert [f.shape for f in features] == [(2, 16, 16, 64), (2, 2, 2, 512), (2, 8, 8, 128)]
    np.testing.assert_allclose(features[1], model.predict(x, verbose=0), atol=1e-5)
    assert backbone.count_params() == model.count_params()


def test_feature_extractor_refuses_an_unknown_stage_naming_the_stages():
    model = keras_cnn.build_cifar_resnet(8)
    with pytest.raises(ValueError, match=r"no stage 5; its stages are 0: conv2_block1_out"):
        keras_cnn.feature_extractor(model, stages=[5])
    with pytest.raises(ValueError, match="flat model"):
        inner = keras.Input((32, 32, 3))
        keras_cnn.feature_extractor(keras.Model(inner, model(inner)))
