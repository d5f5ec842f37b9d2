"""Faithful to keras.applications: parameters, layer names, weights and outputs."""

import h5py
import keras
import numpy as np
import pytest

import keras_cnn
from keras_cnn.models import common as _common

APPS = keras.applications

# (our builder arguments, the keras.applications constructor, its parameter count)
REFERENCES = {
    "vgg16": (lambda **k: keras_cnn.build_vgg(16, **k), APPS.VGG16, 138_357_544),
    "vgg19": (lambda **k: keras_cnn.build_vgg(19, **k), APPS.VGG19, 143_667_240),
    "resnet50": (lambda **k: keras_cnn.build_resnet(50, **k), APPS.ResNet50, 25_636_712),
    "resnet101": (lambda **k: keras_cnn.build_resnet(101, **k), APPS.ResNet101, 44_707_176),
    "resnet152": (lambda **k: keras_cnn.build_resnet(152, **k), APPS.ResNet152, 60_419_944),
    "resnet50v2": (lambda **k: keras_cnn.build_resnet(50, version=2, **k), APPS.ResNet50V2, None),
    "resnet101v2": (
        lambda **k: keras_cnn.build_resnet(101, version=2, **k),
        APPS.ResNet101V2,
        None,
    ),
    "resnet152v2": (
        lambda **k: keras_cnn.build_resnet(152, version=2, **k),
        APPS.ResNet152V2,
        None,
    ),
}


def _weighted_names(model):
    return [layer.name for layer in model.layers if layer.weights]


def _images(n=2, size=224, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, size=(n, size, size, 3)).astype("float32")


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_same_parameters_and_weight_layers_as_keras_applications(name):
    ours_fn, ref_fn, expected = REFERENCES[name]
    ref, ours = ref_fn(weights=None), ours_fn()
    assert ours.count_params() == ref.count_params()
    if expected is not None:
        assert ours.count_params() == expected
    assert _weighted_names(ours) == _weighted_names(ref)
    assert [w.shape for w in ours.weights] == [w.shape for w in ref.weights]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["vgg16", "resnet50", "resnet50v2"])
def test_same_outputs_as_keras_applications_given_the_same_weights(name):
    ours_fn, ref_fn, _ = REFERENCES[name]
    x = _images()
    ref, ours = ref_fn(weights=None), ours_fn()
    ours.set_weights(ref.get_weights())
    expected = ref.predict(x, verbose=0)
    np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-4)
    assert expected.shape == (2, 1000)


# every pooling on VGG-19, and each deep ResNet once (they take long to build)
WITHOUT_TOP = [
    ("vgg19", None),
    ("vgg19", "avg"),
    ("vgg19", "max"),
    ("resnet101", "avg"),
    ("resnet152", None),
    ("resnet101v2", None),
    ("resnet152v2", "max"),
]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "pooling"), WITHOUT_TOP)
def test_same_features_without_top_for_every_pooling(name, pooling):
    ours_fn, ref_fn, _ = REFERENCES[name]
    kwargs = dict(include_top=False, pooling=pooling, input_shape=(64, 64, 3))
    ref, ours = ref_fn(weights=None, **kwargs), ours_fn(**kwargs)
    ours.set_weights(ref.get_weights())
    x = _images(size=64)
    expected = ref.predict(x, verbose=0)
    got = ours.predict(x, verbose=0)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)


def _write_legacy_h5(model, path):
    """Write weights the way keras 2 wrote the published ``*_tf_kernels.h5`` files."""
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


@pytest.mark.slow
@pytest.mark.parametrize("include_top", [True, False])
def test_imagenet_weights_come_from_keras_published_files(tmp_path, monkeypatch, include_top):
    """weights="imagenet" asks get_file for keras' own file and hash, and loads it."""
    ref = APPS.ResNet50(weights=None, include_top=include_top)
    path = tmp_path / "published.h5"
    _write_legacy_h5(ref, path)
    calls = []

    def fake_get_file(fname, origin, cache_subdir, file_hash):
        calls.append((fname, origin, cache_subdir, file_hash))
        return str(path)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    ours = keras_cnn.build_resnet(50, weights="imagenet", include_top=include_top)
    suffix = "" if include_top else "_notop"
    fname = f"resnet50_weights_tf_dim_ordering_tf_kernels{suffix}.h5"
    expected_hash = (
        "2cb95161c43110f7111970584f804107" if include_top else "4d473c1dd8becc155b73f8504c6f6626"
    )
    assert calls == [
        (
            fname,
            f"https://storage.googleapis.com/tensorflow/keras-applications/resnet/{fname}",
            "models",
            expected_hash,
        )
    ]
    x = _images(n=1)
    np.testing.assert_allclose(ours.predict(x, verbose=0), ref.predict(x, verbose=0), atol=1e-4)


def test_weight_table_matches_keras_applications_source():
    """The URLs and hashes are keras' own, so keras' cached downloads are reused."""
    import inspect

    from keras.src.applications import resnet, vgg16, vgg19

    for name in ("resnet50", "resnet101", "resnet152", "resnet50v2", "resnet101v2", "resnet152v2"):
        top, notop = _common.IMAGENET_WEIGHTS[name]
        assert (top.file_hash, notop.file_hash) == resnet.WEIGHTS_HASHES[name]
        assert top.url == f"{resnet.BASE_WEIGHTS_PATH}{top.file_name}"
    for module, name in ((vgg16, "vgg16"), (vgg19, "vgg19")):
        top, notop = _common.IMAGENET_WEIGHTS[name]
        assert top.url == module.WEIGHTS_PATH and notop.url == module.WEIGHTS_PATH_NO_TOP
        source = inspect.getsource(module)
        assert top.file_hash in source and notop.file_hash in source


def test_weights_from_a_local_file(tmp_path):
    first = keras_cnn.build_cifar_resnet(20)
    path = tmp_path / "resnet20.weights.h5"
    first.save_weights(path)
    second = keras_cnn.build_cifar_resnet(20, weights=str(path))
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(first.predict(x, verbose=0), second.predict(x, verbose=0))
