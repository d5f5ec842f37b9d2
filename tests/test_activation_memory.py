"""summarize's activation-memory column (issue 24, item 14): bytes of each layer's forward
output for one image, as CS231n counts VGG-16's memory."""

from __future__ import annotations

import keras
from keras import layers

import keras_cnn
from keras_cnn.analysis.summary import inspect_structure


def _tables(_):
    return (
        keras_cnn.summarize(keras.applications.VGG16(weights=None)),
        keras_cnn.summarize(keras_cnn.build_vgg(16)),
    )


def test_vgg16_forward_activations_per_image():
    reference, ours = inspect_structure(lambda: None, _tables)
    # 224*224*3 + 2*224*224*64 + 112*112*64 + 2*112*112*128 + 56*56*128 + 3*56*56*256
    # + 28*28*256 + 3*28*28*512 + 14*14*512 + 3*14*14*512 + 7*7*512 (pool) + 25088 (flatten)
    # + 4096 + 4096 + 1000: each layer's output once, the image included.
    values = (
        150_528
        + 2 * 3_211_264
        + 802_816
        + 2 * 1_605_632
        + 401_408
        + 3 * 802_816
        + 200_704
        + 3 * 401_408
        + 100_352
        + 3 * 100_352
        + 2 * 25_088
        + 4_096
        + 4_096
        + 1_000
    )
    assert values == 15_262_696  # "about 15.2M values"
    assert int(reference.activation_bytes.sum()) == 4 * values == 61_050_784  # ~61 MB, float32
    row = reference.set_index("layer").loc["block1_conv1"]
    assert row.activation_bytes == 224 * 224 * 64 * 4
    # keras_cnn's VGG-16 has the same layers (and maybe dropout rows, counted as layers).
    ours = ours[ours.type != "Dropout"]
    assert int(ours.activation_bytes.sum()) == 61_050_784


def test_activation_bytes_follow_the_dtype_and_unknown_sizes():
    inp = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, padding="same", dtype="mixed_float16", name="half")(inp)
    x = layers.Conv2D(4, 3, padding="same", name="full")(x)
    table = keras_cnn.summarize(keras.Model(inp, x)).set_index("layer")
    assert table.activation_bytes.tolist() == [8 * 8 * 3 * 4, 8 * 8 * 4 * 2, 8 * 8 * 4 * 4]
    free = keras.Input((None, None, 3))
    table = keras_cnn.summarize(keras.Model(free, layers.Conv2D(2, 3)(free)))
    assert table.activation_bytes.isna().all()
