"""ImageNet helpers (issue 11, item 4) and offline ImageNet weights (item 3)."""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path

import keras
import numpy as np
import pytest
from keras.applications import resnet, resnet_v2, vgg16, vgg19
from keras.src.applications import imagenet_utils

import keras_cnn
from keras_cnn.models import weights
from keras_cnn.models.imagenet import (
    PREPROCESSING,
    class_names,
    decode_predictions,
    preprocess_input,
)

#: keras.applications' preprocess_input for each model family of this package.
KERAS_PREPROCESS = {
    "vgg16": vgg16.preprocess_input,
    "vgg19": vgg19.preprocess_input,
    "resnet50": resnet.preprocess_input,
    "resnet152": resnet.preprocess_input,
    "resnet50v2": resnet_v2.preprocess_input,
    "resnet101v2": resnet_v2.preprocess_input,
}
#: The file_hash keras.applications checks on imagenet_class_index.json.
KERAS_CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (2, 5, 4, 3), dtype="uint8")


@pytest.mark.parametrize("name", sorted(KERAS_PREPROCESS))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("kind", ["uint8", "float32", "float64", "one-image", "tensor"])
def test_preprocess_input_equals_keras_applications(images, name, data_format, kind):
    x = images if data_format == "channels_last" else images.transpose(0, 3, 1, 2)
    x = {"float32": x.astype("float32"), "float64": x.astype("float64"), "one-image": x[0]}.get(
        kind, x
    )
    if kind == "tensor":
        x = keras.ops.convert_to_tensor(x.astype("float32"))
        ours = keras.ops.convert_to_numpy(preprocess_input(x, name, data_format))
        theirs = keras.ops.convert_to_numpy(KERAS_PREPROCESS[name](x, data_format=data_format))
    else:
        before = x.copy()
        ours = preprocess_input(x, name, data_format)
        theirs = KERAS_PREPROCESS[name](x.copy(), data_format=data_format)
        np.testing.assert_array_equal(x, before)  # unlike keras, the input is left alone
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_each_family_gets_its_own_preprocessing():
    white = np.full((1, 1, 1, 3), 255, "uint8")
    red = np.array([[[[255, 0, 0]]]], "uint8")
    np.testing.assert_allclose(preprocess_input(white, "resnet50v2")[0, 0, 0], [1, 1, 1])
    np.testing.assert_allclose(
        preprocess_input(red, "vgg16")[0, 0, 0], [-103.939, -116.779, 255 - 123.68], rtol=1e-6
    )
    assert {PREPROCESSING[n] for n in ("vgg16", "vgg19", "resnet50")} == {"caffe"}
    assert {PREPROCESSING[n] for n in ("resnet50v2", "resnet152v2")} == {"tf"}


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((np.zeros((1, 4, 4, 3)), "googlenet"), "No ImageNet preprocessing is known"),
        ((np.zeros((1, 4, 4, 3)), "vgg16", "nchw"), "data_format must be one of"),
        ((np.zeros((1, 4, 4, 1)), "vgg16"), "expects RGB images"),
        ((np.zeros((4, 4)), "resnet50"), "expects RGB images"),
        ((np.zeros((1, 4, 4, 3)), "tf"), r"No ImageNet preprocessing .*pass mode='tf'"),
        ((np.zeros((1, 4, 4, 3)),), r"needs a model id .*\['resnet101', .*'caffe', 'tf'"),
    ],
)
def test_preprocess_input_refuses_what_it_cannot_do(args, match):
    with pytest.raises(ValueError, match=match):
        preprocess_input(*args)


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_input_mode_equals_keras_imagenet_utils(images, mode):
    ours = preprocess_input(images, mode=mode)
    theirs = imagenet_utils.preprocess_input(images.astype("float32"), mode=mode)
    np.testing.assert_array_equal(ours, theirs)
    tensor = preprocess_input(keras.ops.convert_to_tensor(images.astype("float32")), mode=mode)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(tensor), theirs, rtol=1e-6, atol=1e-6)


def test_preprocess_input_for_every_model_with_weights_and_old_ids():
    white = np.full((1, 1, 1, 3), 255, "uint8")
    for name, mode in PREPROCESSING.items():
        np.testing.assert_array_equal(
            preprocess_input(white, name), preprocess_input(white, mode=mode)
        )
    with pytest.warns(DeprecationWarning, match="'resnet50_v2' is now 'resnet50v2'"):
        np.testing.assert_allclose(preprocess_input(white, "resnet50_v2")[0, 0, 0], [1, 1, 1])
    with pytest.raises(ValueError, match="'vgg16''s weights expect mode='caffe'"):
        preprocess_input(white, "vgg16", mode="tf")
    with pytest.raises(ValueError, match=r"`mode` must be one of \['caffe', 'tf', 'torch'\]"):
        preprocess_input(white, mode="inception")


def test_class_names_are_keras_file_byte_for_byte_and_match_tfds():
    data = resources.files("keras_cnn.models").joinpath("imagenet_classes.json").read_bytes()
    assert hashlib.md5(data).hexdigest() == KERAS_CLASS_INDEX_MD5
    names = class_names()
    assert len(names) == 1000 and len({wnid for wnid, _ in names}) == 1000
    assert names[0] == ("n01440764", "tench") and names[999] == ("n15075141", "toilet_tissue")
    assert names[2][1] == "great_white_shark" and names[134][1] == names[517][1] == "crane"
    import tensorflow_datasets

    labels = Path(tensorflow_datasets.__file__).parent / "datasets/imagenet2012/labels.txt"
    if labels.exists():
        assert [wnid for wnid, _ in names] == labels.read_text().split()


def test_decode_predictions_matches_keras_offline(monkeypatch):
    preds = np.random.default_rng(1).random((3, 1000)).astype("float32")
    preds[1, 385] = 2.0  # Indian elephant
    ours = decode_predictions(preds, top=4)
    index = json.loads(
        resources.files("keras_cnn.models").joinpath("imagenet_classes.json").read_text()
    )
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", index)  # keras' own, without a download
    assert ours == imagenet_utils.decode_predictions(preds, top=4)
    assert ours[1][0][:2] == ("n02504013", "Indian_elephant") and ours[1][0][2] == 2.0
    assert [len(row) for row in ours] == [4, 4, 4]
    tensor = decode_predictions(keras.ops.convert_to_tensor(preds), top=1)
    assert tensor == [row[:1] for row in ours]


@pytest.mark.parametrize(
    ("preds", "top", "match"),
    [
        (np.zeros((1000,)), 5, r"shape \(n, 1000\)"),
        (np.zeros((2, 10)), 5, r"shape \(n, 1000\)"),
        (np.zeros((1, 1000)), 0, "top must be"),
        (np.zeros((1, 1000)), 1001, "top must be"),
        (np.zeros((1, 1000)), 2.5, "top must be"),
    ],
)
def test_decode_predictions_refuses_bad_arguments(preds, top, match):
    with pytest.raises(ValueError, match=match):
        decode_predictions(preds, top=top)


def test_offline_imagenet_weights_are_a_clear_error(monkeypatch):
    """No network (a closed local port here): one error of the package naming the file, the
    cache folder and weights=path, instead of keras' bare Exception and long traceback."""
    missing = weights.WeightFile("http://127.0.0.1:9/keras_cnn_test_vgg16_notop.h5", "0" * 32)
    monkeypatch.setitem(weights.IMAGENET_WEIGHTS, "vgg16", (missing, missing))
    with pytest.raises(keras_cnn.WeightsUnavailableError) as caught:
        keras_cnn.build_vgg(16, weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    message = str(caught.value)
    assert "keras_cnn_test_vgg16_notop.h5 are not in the Keras cache" in message
    assert f"{Path('.keras') / 'models'}" in message
    assert 'weights="path/to/keras_cnn_test_vgg16_notop.h5"' in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
