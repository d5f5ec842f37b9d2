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
