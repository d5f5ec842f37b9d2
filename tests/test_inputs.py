"""keras_cnn.training.inputs: one function gives a run's data, image counts and label under
one limit rule, and the argument check counts the same images."""

import numpy as np
import pytest

from keras_cnn import data
from keras_cnn.training.config import TrainConfig
from keras_cnn.training.inputs import training_data, training_size

SHAPE = (32, 32, 1)


def _count(batches) -> int:
    return sum(len(labels) for _, labels in batches)


@pytest.mark.parametrize(("limit", "train", "test"), [(100, 100, 100), (None, 1437, 360)])
def test_a_named_dataset_limits_both_splits_alike(limit, train, test):
    feed = training_data("digits", "test", batch_size=64, input_shape=SHAPE, limit=limit)
    assert (feed.images, feed.test_images, feed.label) == (train, test, "digits")
    assert _count(feed.train) == train and _count(feed.test) == test
    assert training_size("digits", limit) == feed.images


def test_arrays_and_their_validation_follow_the_same_limit():
    x, y = data.arrays("digits", limit=80)
    val = data.arrays("digits", "test", limit=70)
    feed = training_data((x, y), val, batch_size=16, input_shape=(36, 36, 3), limit=50)
    assert (feed.images, feed.test_images, feed.label) == (50, 50, "arrays")
    assert _count(feed.train) == 50 and _count(feed.test) == 50  # the validation arrays too
    assert next(iter(feed.train))[0].shape == (16, 36, 36, 3)
    assert training_size((x, y), 50) == 50 and training_size((x, y), 500) == 80
    # Arrays have no splits: the default validation="test" means no test data.
    assert training_data((x, y), "test", batch_size=16, input_shape=SHAPE).test is None


def test_across_processes_an_epoch_counts_whole_batches():
    arrays = data.arrays("digits", limit=200)
    feed = training_data(arrays, None, batch_size=64, input_shape=SHAPE, seed=0, shard=(1, 2))
    # 200 images in global batches of 64: 3 whole batches, this process's half of each.
    assert feed.images == 192 and len(feed.train) == 3
    assert [len(feed.train[i][1]) for i in range(3)] == [32, 32, 32]


def test_a_dataset_is_used_whole_and_a_limit_on_it_is_refused():
    ds = data.load("digits", "test", batch_size=60)
    feed = training_data(ds, ds, batch_size=60, input_shape=SHAPE, limit=None)
    assert (feed.images, feed.label, feed.train) == (None, "dataset", ds)
    with pytest.raises(ValueError, match=r"`limit`.*tf.data.Dataset is used whole.*limit=10"):
        TrainConfig("lenet5", ds, limit=10)
    np.testing.assert_equal(training_size(ds, None), None)
