"""keras_cnn.data: the embedded digits, TFDS through mock data, and the offline error."""

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_cnn import data


def test_digits_arrays_are_real_split_and_normalized():
    x_train, y_train = data.arrays("digits", "train", normalize=False)
    x_test, y_test = data.arrays("digits", "test", normalize=False)
    assert x_train.shape == (1437, 32, 32, 1) and x_test.shape == (360, 32, 32, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert 0.0 <= x_train.min() and x_train.max() <= 1.0
    # All ten classes in both splits (stratified), and real images, not noise: a digit's
    # pixels correlate strongly with its class mean.
    assert set(y_train) == set(y_test) == set(range(10))
    means = np.stack([x_train[y_train == c].mean(0).ravel() for c in range(10)])
    nearest = np.argmin(((x_test.reshape(360, -1)[:, None] - means[None]) ** 2).sum(-1), axis=1)
    assert (nearest == y_test).mean() > 0.8
    # Normalized arrays subtract the training split's per-pixel mean.
    x_norm, _ = data.arrays("digits", "train")
    assert abs(float(x_norm.mean())) < 1e-5
    np.testing.assert_allclose(x_norm, x_train - x_train.mean(0), atol=1e-5)


def test_load_adapts_to_the_model_input_and_batches():
    ds = data.load("digits", "test", batch_size=50, input_shape=(None, 28, 28, 3))
    batches = list(ds.as_numpy_iterator())
    assert [len(b[1]) for b in batches] == [50] * 7 + [10]
    images, labels = batches[0]
    assert images.shape == (50, 28, 28, 3) and images.dtype == np.float32
    np.testing.assert_array_equal(images[..., 0], images[..., 2])  # grey replicated
    # Test data is not shuffled: the same order as arrays().
    _, y = data.arrays("digits", "test")
    np.testing.assert_array_equal(labels, y[:50])


def test_train_split_is_shuffled_with_the_seed_and_augmented():
    first = [b[1] for b in data.load("digits", batch_size=64, seed=1, limit=256)]
    again = [b[1] for b in data.load("digits", batch_size=64, seed=1, limit=256)]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(again))
    assert sorted(np.concatenate(first)) == sorted(data.arrays("digits", limit=256)[1])
    plain = next(iter(data.load("digits", batch_size=256, limit=256, shuffle=False)))[0]
    aug = next(iter(data.load("digits", batch_size=256, limit=256, shuffle=False, augment=True)))
    assert aug[0].shape == plain.shape
    assert not np.allclose(aug[0], plain)  # random crops moved the digits


def test_unknown_names_and_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown dataset.*Received: name='svhn'"):
        data.load("svhn")
    with pytest.raises(ValueError, match="split"):
        data.load("digits", "validation")
    with pytest.raises(ValueError, match="input_shape"):
        data.load("digits", input_shape=(32, 32, 2))


@pytest.mark.parametrize(("name", "shape"), [("cifar10", (32, 32, 3)), ("mnist", (28, 28, 1))])
def test_tfds_pipeline_with_mock_data(monkeypatch, name, shape):
    monkeypatch.setattr(data, "_can_reach", lambda host, timeout=3.0: True)
    data._pixel_mean_cached.cache_clear()
    with tfds.testing.mock_data(num_examples=24):
        ds = data.load(name, batch_size=8, augment=True)
        images, labels = next(iter(ds))
        assert tuple(images.shape) == (8, *shape) and images.dtype.name == "float32"
        assert labels.dtype.name == "int32" and 0 <= int(min(labels)) and int(max(labels)) < 10
        # The same pipeline adapts to another model's input.
        images, _ = next(iter(data.load(name, "test", batch_size=4, input_shape=(32, 32, 1))))
        assert tuple(images.shape) == (4, 32, 32, 1)
    data._pixel_mean_cached.cache_clear()


def test_missing_tfds_dataset_fails_fast_with_instructions(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(data, "_can_reach", lambda host, timeout=3.0: calls.append(host) or False)
    monkeypatch.delenv("TFDS_DATA_DIR", raising=False)
    # Failing fast means no download is even started: the one connectivity check decides.
    downloads = []
    monkeypatch.setattr(
        tfds.core.DatasetBuilder,
        "download_and_prepare",
        lambda self, *args, **kwargs: downloads.append(self.name),
    )
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load("cifar10", data_dir=tmp_path / "empty")
    assert downloads == []
    message = str(info.value)
    assert calls == ["www.cs.toronto.edu"]
    for part in ("cifar10", "empty", "TFDS_DATA_DIR", "data_dir", "download_and_prepare", "digits"):
        assert part in message
    assert not data.is_available("cifar10", data_dir=tmp_path / "empty")
    # With download=False nothing is even tried.
    with pytest.raises(data.DatasetUnavailableError, match="download=False"):
        data.load("mnist", data_dir=tmp_path / "empty", download=False)
    assert calls == ["www.cs.toronto.edu"]


def test_connectivity_check_gives_up_on_a_host_that_never_answers(monkeypatch):
    """A proxy that accepts and never delivers: the check hands its timeout to the connection
    and returns False while the probe is still waiting (it does not wait for the probe)."""
    import http.client
    import threading

    release, opened, finished = threading.Event(), [], []

    class Silent:
        def __init__(self, host, timeout):
            opened.append((host, timeout))

        def request(self, method, url):
            release.wait(60)  # the test releases it; 60 s only if the check waited for it
            finished.append(method)
            raise OSError("no answer")

        def getresponse(self):
            raise OSError("never answers")

        def close(self):
            pass

    monkeypatch.setattr(http.client, "HTTPSConnection", Silent)
    try:
        assert data._can_reach("silent.example", timeout=0.05) is False
        assert opened == [("silent.example", 0.05)]
        assert finished == []  # returned before the probe finished
    finally:
        release.set()


def test_embedded_digits_are_scikit_learns_split_resized_as_tensorflow_does():
    """digits.npz holds scikit-learn's digits and split; numpy resizes them like TF."""
    import tensorflow as tf
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = tf.image.resize((digits.images / 16.0).astype("float32")[..., None], (32, 32))
    images = np.clip(images.numpy(), 0.0, 1.0)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=360, random_state=0, stratify=digits.target
    )
    for split, (x, y) in {"train": (x_train, y_train), "test": (x_test, y_test)}.items():
        ours_x, ours_y = data.arrays("digits", split, normalize=False)
        np.testing.assert_array_equal(ours_y, y)
        np.testing.assert_allclose(ours_x, x, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "target"),
    [((4, 8, 8, 1), (32, 32, 1)), ((3, 32, 32, 3), (36, 36, 3)), ((2, 32, 32, 3), (24, 20, 1))],
)
def test_numpy_adaptation_matches_tensorflow(rng, shape, target):
    images = rng.random(shape, dtype="float32")
    expected = data.adapt_images(images, target).numpy()
    np.testing.assert_allclose(data.adapt_arrays(images, target), expected, atol=1e-5)


def test_array_batches_shuffle_every_epoch_and_crop_and_flip_like_the_papers(rng):
    images = rng.random((10, 6, 6, 1), dtype="float32")
    labels = np.arange(10)
    batches = data.ArrayBatches(images, labels, 4, seed=0)
    assert len(batches) == 3 and [len(batches[i][1]) for i in range(3)] == [4, 4, 2]
    first = np.concatenate([batches[i][1] for i in range(3)])
    batches.on_epoch_end()
    second = np.concatenate([batches[i][1] for i in range(3)])
    assert sorted(first) == sorted(second) == list(range(10)) and list(first) != list(second)
    again = data.ArrayBatches(images, labels, 4, seed=0)
    np.testing.assert_array_equal(np.concatenate([again[i][1] for i in range(3)]), first)
    assert list(data.ArrayBatches(images, labels, 4, shuffle=False)[0][1]) == [0, 1, 2, 3]
    # Every augmented image is a 6x6 window of the zero-padded original, flipped or not,
    # and over many draws every offset and both orientations occur.
    padded = np.pad(images, [(0, 0), (4, 4), (4, 4), (0, 0)])
    seen = set()
    for _ in range(40):
        out = data.augment_arrays(images, rng, flip=True)
        for image, source in zip(out, padded, strict=True):
            found = [
                (dy, dx, flip)
                for dy in range(9)
                for dx in range(9)
                for flip in (False, True)
                if np.array_equal(
                    image, (source[:, ::-1] if flip else source)[dy : dy + 6, dx : dx + 6]
                )
            ]
            assert found
            seen.update(found)
    assert {dy for dy, _, _ in seen} == set(range(9)) and {f for _, _, f in seen} == {False, True}
