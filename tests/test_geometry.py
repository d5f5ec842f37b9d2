"""The one geometry engine (keras_cnn.analysis.geometry): receptive fields, boxes and
multiply-adds for nested models, every kind of convolution and every spatial axis, checked
against what Keras itself computes; layers it cannot follow raise (issue 18; issue 19, item 8)."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import keras_cnn
from keras_cnn import inside
from keras_cnn.analysis.geometry import geometry
from keras_cnn.analysis.summary import inspect_structure


def model_of(shape, *stack) -> keras.Model:
    x = inp = keras.Input(shape)
    for layer in stack:
        x = layer(x)
    return keras.Model(inp, x)


def probe(model: keras.Model) -> list[list[int]]:
    """For each output unit of a 1-D model, the input positions that reach it, found by
    feeding one-hot inputs through all-ones kernels and zero biases (nothing cancels)."""
    for layer in model.layers:
        layer.set_weights(
            [np.ones_like(w) if w.ndim > 1 else np.zeros_like(w) for w in layer.get_weights()]
        )
    length = model.input_shape[1]
    eyes = np.eye(length, dtype=np.float32)[:, :, None].repeat(model.input_shape[2], axis=2)
    reached = model.predict(eyes, verbose=0).sum(axis=-1) > 0  # (input position, output unit)
    return [np.flatnonzero(reached[:, o]).tolist() for o in range(reached.shape[1])]


# ----------------------------------------------------------------------------- nested models


def _nested_vgg11(_):
    backbone = keras_cnn.build_vgg(11, include_top=False, input_shape=(64, 64, 3))
    inp = keras.Input((64, 64, 3))
    head = layers.Conv2D(10, 1, name="head")(backbone(inp))
    model = keras.Model(inp, head, name="outer")
    return (
        keras_cnn.receptive_field(model, "head"),
        inside.receptive_field_box(model, "head", clip=False),
        keras_cnn.receptive_field(model, "vgg11/block5_conv2"),
        inside.receptive_field_box(model, "vgg11/block5_conv2", (0, 0), clip=False),
        inside.receptive_field_box(backbone, "block5_conv2", (0, 0), clip=False),
        inside.spatial_layers(model),
        keras_cnn.receptive_field(model, "vgg11"),  # the nested model by its name: its output
    )


def test_a_nested_backbones_box_is_its_receptive_field():
    """The issue's bug: inside treated the nested VGG-11 as an identity layer (a 1x1 box)."""
    found = inspect_structure(lambda: None, _nested_vgg11)
    field, box, inner, inner_box, flat_box, spatial, whole = found
    # VGG-11: 3x3 convs and 2x2 pools: 3, 4/2, 8, 10/4, 18, 26, 30/8, 46, 62, 70/16, 102, 134,
    # 150/32 after block5_pool; the 1x1 head adds nothing.
    assert field == whole == 150
    top, left, bottom, right = box
    assert bottom - top == right - left == 150
    assert inner == 134 and inner_box == flat_box
    assert inner_box[2] - inner_box[0] == 134
    assert spatial == ["vgg11", "head"]  # the backbone, as one layer, has its output's map


# ----------------------------------------------------------------------------- layer kinds


def test_a_conv2d_subclass_counts_as_a_conv2d():
    class Scaled(layers.Conv2D):
        pass

    model = model_of((8, 8, 2), Scaled(4, 3, name="scaled"), layers.Conv2D(4, 3, name="plain"))
    assert keras_cnn.count_macs(model) == 6 * 6 * 9 * 2 * 4 + 4 * 4 * 9 * 4 * 4
    assert keras_cnn.receptive_field(model, "scaled") == 3
    assert keras_cnn.receptive_field(model, "plain") == 5
    assert keras_cnn.weight_layers(model) == 2


def test_conv1d_macs_and_fields_equal_what_keras_computes():
    model = model_of((100, 3), layers.Conv1D(8, 5, name="c"))
    assert keras_cnn.count_macs(model) == 11_520  # 96 positions * 5 * 3 * 8
    assert keras_cnn.receptive_field(model, "c") == 5

    stack = model_of(
        (24, 1),
        layers.Conv1D(2, 3, padding="causal", dilation_rate=2, name="a"),
        layers.MaxPooling1D(2, name="p"),
        layers.Conv1D(2, 3, strides=2, padding="same", name="b"),
    )
    seen = probe(stack)
    # causal dilated 3 (5 px), pool 2 (6, jump 2), 3 with jump 2 (10): inner units see 10.
    assert keras_cnn.receptive_field(stack, "b") == 10
    assert max(len(s) for s in seen) == 10
    assert keras_cnn.summarize(stack).receptive_field.tolist() == [1, 5, 6, 10]


def test_conv3d_counts_every_axis():
    model = model_of((8, 8, 8, 2), layers.Conv3D(4, (3, 3, 1), name="c"))
    assert keras_cnn.count_macs(model) == 6 * 6 * 8 * (3 * 3 * 1 * 2 * 4)
    assert keras_cnn.receptive_field(model, "c") == (3, 3, 1)


def test_a_1x7_kernel_has_a_1_by_7_field_and_box():
    model = model_of((16, 16, 3), layers.Conv2D(4, (1, 7), padding="same", name="row"))
    assert keras_cnn.receptive_field(model, "row") == (1, 7)
    table = keras_cnn.summarize(model)
    assert table.receptive_field.tolist() == [1, (1, 7)]  # not square: a tuple per axis
    assert inside.receptive_field_box(model, "row", clip=False) == (8, 5, 9, 12)
    assert keras_cnn.count_macs(model) == 16 * 16 * 7 * 3 * 4
    square = keras_cnn.summarize(model_of((16, 16, 3), layers.Conv2D(4, 3)))
    assert str(square.receptive_field.dtype) == "Int64"


@pytest.mark.parametrize(
    ("kernel", "strides", "padding"),
    [(3, 1, "same"), (4, 1, "valid"), (4, 2, "same"), (2, 2, "valid")],
)
def test_transposed_convolution_macs_and_fields_equal_what_keras_computes(kernel, strides, padding):
    model = model_of(
        (24, 2),
        layers.Conv1DTranspose(3, kernel, strides=strides, padding=padding, name="up"),
        layers.Conv1D(3, 3, padding="same", name="after"),
    )
    up = model.get_layer("up")
    length = up.output.shape[1]
    assert keras_cnn.count_macs(model) == 24 * kernel * 2 * 3 + length * 3 * 3 * 3
    fields = geometry(model)
    for name, sub in (("up", keras.Model(model.input, up.output)), ("after", model)):
        seen = probe(sub)
        inner = range(2 * kernel, length - 2 * kernel)  # away from the borders
        assert {max(seen[o]) - min(seen[o]) + 1 for o in inner} == {
            keras_cnn.receptive_field(model, name)
        }
        (axis,) = fields.find(name)[0][1].spatial
        if strides == 1:  # a lattice: unit o starts at start + o * jump
            assert [min(seen[o]) for o in inner] == [axis.start + o * axis.jump for o in inner]


def test_a_transposed_convolution_whose_units_differ_raises():
    model = model_of((9, 9, 2), layers.Conv2DTranspose(3, 3, strides=2, name="up"))
    with pytest.raises(ValueError, match="'up'.*kernel 3 and stride 2"):
        keras_cnn.receptive_field(model, "up")
    assert keras_cnn.count_macs(model) == 81 * 9 * 2 * 3  # the multiply-adds are known


def test_boxes_of_a_strided_transposed_convolution_are_refused_with_the_field():
    model = model_of((8, 8, 2), layers.Conv2DTranspose(3, 4, strides=2, padding="same", name="up"))
    assert keras_cnn.receptive_field(model, "up") == 2
    with pytest.raises(ValueError, match="steps unevenly.*receptive field is 2"):
        inside.receptive_field_box(model, "up")


# ----------------------------------------------------------------------------- what is not known


def test_a_layer_the_engine_does_not_know_raises_instead_of_a_wrong_field():
    model = model_of(
        (8, 8, 2),
        layers.Conv2D(4, 3, name="c"),
        layers.UpSampling2D(name="up"),
        layers.Conv2D(4, 3, name="after"),
        layers.GlobalAveragePooling2D(name="gap"),
        layers.Dense(3, name="out"),
    )
    assert keras_cnn.receptive_field(model, "c") == 3
    for name in ("up", "after"):
        with pytest.raises(ValueError, match="past layer 'up'.*UpSampling2D.*does not know"):
            keras_cnn.receptive_field(model, name)
    with pytest.raises(ValueError, match="UpSampling2D"):
        keras_cnn.summarize(model)
    with pytest.raises(ValueError, match="UpSampling2D"):
        inside.receptive_field_box(model, "after")
    assert inside.spatial_layers(model) == ["c"]
    # Multiply-adds and depth do not depend on it: still given.
    assert keras_cnn.count_macs(model) == 6 * 6 * 9 * 2 * 4 + 10 * 10 * 9 * 4 * 4 + 4 * 3
    assert keras_cnn.weight_layers(model) == 3


def test_a_layer_with_weights_it_cannot_count_raises():
    class Mixer(layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], shape[-1]))

        def call(self, x):
            return keras.ops.matmul(x, self.w)

    model = model_of((8, 8, 2), Mixer(name="mixer"))
    with pytest.raises(ValueError, match="multiply-adds layer 'mixer' \\(Mixer\\)"):
        keras_cnn.count_macs(model)


def test_harmless_layers_pass_through():
    inp = keras.Input((16, 16, 3))
    x = layers.Conv2D(4, 3, padding="same", name="c1")(inp)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.ReLU(name="relu")(x)
    x = layers.Dropout(0.1, name="drop")(x)
    y = layers.Conv2D(4, 5, padding="same", name="c2")(x)
    x = layers.Add(name="add")([x, y])
    x = layers.Concatenate(name="cat")([x, layers.Activation("tanh", name="act")(y)])
    x = layers.Cropping2D(1, name="crop")(layers.ZeroPadding2D(1, name="pad")(x))
    x = layers.Dense(4, name="per_pixel")(x)
    x = layers.Reshape((16 * 16 * 4,), name="flat")(x)
    model = keras.Model(inp, x)
    fields = dict(
        zip(*keras_cnn.summarize(model)[["layer", "receptive_field"]].T.values, strict=True)
    )
    assert fields["drop"] == 3 and fields["add"] == fields["cat"] == 7
    assert fields["pad"] == fields["crop"] == fields["per_pixel"] == 7
    assert fields["flat"] is None or str(fields["flat"]) == "<NA>"
    assert inside.receptive_field_box(model, "crop", (0, 0), clip=False) == (-3, -3, 4, 4)


def test_alexnets_keras_ops_lrn_keeps_the_field():
    def fields(model):
        return keras_cnn.receptive_field(model, "pool5"), keras_cnn.count_macs(model)

    with_lrn = inspect_structure(lambda: keras_cnn.build_alexnet(lrn=True), fields)
    without = inspect_structure(lambda: keras_cnn.build_alexnet(), fields)
    assert with_lrn == without
