"""The builders' arguments: one meaning per name (timm's ``base_width`` and
``widen_factor``), typos that suggest the right keyword, and clear refusals."""

import keras
import pytest

import keras_cnn
from keras_cnn.analysis.summary import inspect_structure, totals
from keras_cnn.models.common import ArgumentError


def _trainable(build) -> int:
    return inspect_structure(build, totals)["trainable_params"]


def test_resnext_base_width_and_the_old_width_keyword():
    new = _trainable(lambda: keras_cnn.build_resnext(101, cardinality=32, base_width=8))
    assert new == 88_791_336  # torchvision's resnext101_32x8d
    with pytest.warns(DeprecationWarning, match="`width` is now `base_width`"):
        old = _trainable(lambda: keras_cnn.build_resnext(101, cardinality=32, width=8))
    assert old == new
    with pytest.warns(DeprecationWarning, match="`width` is now `base_width`"):
        name = inspect_structure(
            lambda: keras_cnn.get_model("resnext50_32x4d", width=4), lambda m: m.name
        )
    assert name == "resnext50_32x4d"


def test_wide_resnet_widen_factor_and_the_old_width_keyword():
    assert _trainable(lambda: keras_cnn.build_wide_resnet(16, widen_factor=8)) == 10_964_058
    with pytest.warns(DeprecationWarning, match="`width` is now `widen_factor`"):
        assert _trainable(lambda: keras_cnn.build_wide_resnet(16, width=8)) == 10_964_058
    with pytest.raises(ArgumentError, match="both 'width' and its new name 'widen_factor'"):
        keras_cnn.build_wide_resnet(16, width=8, widen_factor=8)


def test_bottleneck_base_width_is_timms_rule_and_width_is_deprecated():
    x = keras.Input((8, 8, 256))
    y = keras_cnn.bottleneck_block(x, 128, groups=32, base_width=4, name="b")
    model = keras.Model(x, y)
    # conv3_x of ResNeXt-50 (32x4d): 128 * 4 / 64 * 32 = 256 channels in 32 groups
    assert model.get_layer("b_2_conv").filters == 256 and model.get_layer("b_2_conv").groups == 32
    with pytest.warns(DeprecationWarning, match="use `base_width`.*here 4"):
        old = keras.Model(x, keras_cnn.bottleneck_block(x, 128, groups=32, width=256, name="c"))
    assert old.count_params() == model.count_params()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: keras_cnn.build_vgg(16, clases=10), "build_vgg got an unknown argument 'clases'"),
        (lambda: keras_cnn.build_resnet(50, include_tops=False), "Did you mean 'include_top'"),
        (lambda: keras_cnn.build_resnext(50, cardinalty=8), "Did you mean 'cardinality'"),
        (lambda: keras_cnn.build_wide_resnet(16, widen=8), "Did you mean 'widen_factor'"),
        (lambda: keras_cnn.build_cifar_resnet(20, shortcuts="A"), "Did you mean 'shortcut'"),
        (lambda: keras_cnn.build_lenet5(activaton="relu"), "Did you mean 'activation'"),
        (lambda: keras_cnn.build_alexnet(two_towers=True), "Did you mean 'two_tower'"),
        (lambda: keras_cnn.build_googlenet(lnr=True), "takes: lrn, dropout"),
        (lambda: keras_cnn.build_small_vgg(filter=(8,)), "Did you mean 'filters'"),
    ],
)
def test_builder_typos_suggest_the_right_argument(call, message):
    with pytest.raises(ArgumentError, match=message) as caught:
        call()
    # a TypeError as Python's own, and a ValueError as the package's other refusals
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)


def _layers(build):
    def describe(model):
        return [(type(layer).__name__, layer.name) for layer in model.layers[1:]]

    return inspect_structure(build, describe)


def test_vgg16_has_exactly_keras_applications_23_layers():
    """It had 25: the paper's fc1_dropout and fc2_dropout, which keras' VGG16 has not."""
    ours = _layers(lambda: keras_cnn.build_vgg(16))
    theirs = _layers(lambda: keras.applications.VGG16(weights=None))
    assert ours == theirs and len(ours) + 1 == 23
    assert not any(kind == "Dropout" for kind, _ in ours)


def test_vgg_paper_configuration_has_the_papers_dropout():
    from keras_cnn.models.vgg import PAPER

    layers = _layers(lambda: keras_cnn.build_vgg(16, **PAPER))
    assert [name for kind, name in layers if kind == "Dropout"] == ["fc1_dropout", "fc2_dropout"]
    rates = inspect_structure(
        lambda: keras_cnn.build_vgg(11, **PAPER), lambda m: m.get_layer("fc2_dropout").rate
    )
    assert rates == 0.5 == PAPER["dropout"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: keras_cnn.build_resnet(50.0), r"ResNet depth must be one of .*depth=50\.0"),
        (lambda: keras_cnn.build_resnet(True), r"ResNet depth must be one of .*depth=True"),
        (lambda: keras_cnn.build_vgg(16.0), r"VGG depth must be one of .*depth=16\.0"),
        (lambda: keras_cnn.build_resnext(50.0), r"ResNeXt depth must be one of .*depth=50\.0"),
        (lambda: keras_cnn.build_resnet(50, version=2.0), r"`version` must be.*version=2\.0"),
        (lambda: keras_cnn.build_cifar_resnet(20.0), r"6n\+2.*depth=20\.0"),
        (lambda: keras_cnn.build_resnet(50, include_top="no"), r"include_top='no'"),
        (lambda: keras_cnn.build_lenet5(include_top=1), r"True or False.*include_top=1"),
        (
            lambda: keras_cnn.build_vgg(16, include_top=True, input_shape=(None, None, 3)),
            r"vgg16's fully connected top needs a known input size.*include_top=False",
        ),
        (
            lambda: keras_cnn.build_alexnet(input_shape=(None, 227, 3)),
            r"alexnet's fully connected top needs a known input size",
        ),
    ],
)
def test_argument_checks_refuse_before_any_work(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_any_size_without_the_fully_connected_top():
    shape = inspect_structure(
        lambda: keras_cnn.build_vgg(16, include_top=False, input_shape=(None, None, 3)),
        lambda m: m.output_shape,
    )
    assert shape == (None, None, None, 512)


def test_no_published_weights_lists_registry_ids():
    from keras_cnn.models.registry import MODELS
    from keras_cnn.models.weights import IMAGENET_WEIGHTS

    with pytest.raises(ValueError, match="for 'resnet18'; they exist for the registry") as caught:
        keras_cnn.build_resnet(18, weights="imagenet")
    listed = str(caught.value).split("registry models ")[1].split(" (list_models")[0]
    assert listed.split(", ") == sorted(IMAGENET_WEIGHTS)
    assert set(listed.split(", ")) <= set(MODELS) and "resnet50v2" in listed


def test_a_corrupt_cached_weights_file_is_reported_as_corrupt(tmp_path, monkeypatch):
    """It was "not in the Keras cache": keras deletes a damaged file when it cannot fetch it
    again, so the message hid what had happened."""
    from keras_cnn.models import weights

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    offline = weights.WeightFile("http://127.0.0.1:9/keras_cnn_test_notop.h5", "0" * 32)
    monkeypatch.setitem(weights.IMAGENET_WEIGHTS, "vgg16", (offline, offline))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / offline.file_name).write_bytes(b"half a file")
    with pytest.raises(keras_cnn.WeightsUnavailableError, match="were corrupt") as caught:
        keras_cnn.build_vgg(16, weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert "MD5 " in str(caught.value) and "published 000" in str(caught.value)
    assert "not in the Keras cache" not in str(caught.value)
