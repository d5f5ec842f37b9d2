"""keras_cnn.inside: receptive-field boxes against hand derivations, effective receptive
fields against the boxes, Grad-CAM and saliency, feature maps and pictures."""

import keras
import numpy as np
import pytest
from python_runs import run_python

import keras_cnn
from keras_cnn import inside
from keras_cnn.analysis.summary import inspect_structure

# ----------------------------------------------------------------------------- boxes


def _vgg16_boxes(model):
    return {
        "centre1": inside.receptive_field_box(model, "block1_conv2"),
        "centre5": inside.receptive_field_box(model, "block5_conv3"),
        "corner5": inside.receptive_field_box(model, "block5_conv3", (0, 0)),
        "corner5_unclipped": inside.receptive_field_box(model, "block5_conv3", (0, 0), clip=False),
        "blocks": inside.block_outputs(model),
        "consistent": {
            name: (
                inside.receptive_field_box(model, name, clip=False),
                keras_cnn.receptive_field(model, name),
            )
            for name in inside.spatial_layers(model)
        },
    }


def test_vgg16_boxes_by_hand():
    boxes = inspect_structure(lambda: keras_cnn.build_vgg(16), _vgg16_boxes)
    # block1_conv2: two 3x3 "same" convolutions, so the unit at (112, 112) sees 111 - 1 ..
    # 113 + 1: rows and columns 110..114.
    assert boxes["centre1"] == (110, 110, 115, 115)
    # block5_conv3: 2 + 2*2 + 3*4 + 3*8 + 3*16 = 90 pixels of padding before unit 0, which
    # sees 1 + 2*(2 + 4) + 3*2*(4 + 8 + 16) = 196 pixels from -90; unit 7 starts at
    # -90 + 7*16 = 22.
    assert boxes["centre5"] == (22, 22, 218, 218)
    assert boxes["corner5_unclipped"] == (-90, -90, 106, 106)
    assert boxes["corner5"] == (0, 0, 106, 106)  # clipped at the border
    assert boxes["blocks"] == [f"block{b}_conv{2 if b < 3 else 3}" for b in range(1, 6)] + [
        "block5_pool"
    ]
    for name, (box, size) in boxes["consistent"].items():
        assert (box[2] - box[0], box[3] - box[1]) == (size, size), name


def _resnet50_boxes(model):
    return (
        inside.receptive_field_box(model, "conv5_block3_out"),
        inside.receptive_field_box(model, "conv5_block3_out", clip=False),
        inside.receptive_field_box(model, "conv2_block3_out", (0, 0), clip=False),
        inside.block_outputs(model),
        {
            name: (
                inside.receptive_field_box(model, name, clip=False),
                keras_cnn.receptive_field(model, name),
            )
            for name in inside.block_outputs(model)
        },
    )


def test_resnet50_boxes_by_hand():
    clipped, unclipped, conv2, blocks, consistent = inspect_structure(
        lambda: keras_cnn.build_resnet(50), _resnet50_boxes
    )
    # conv1: pad 3, 7x7 stride 2 (size 7, jump 2, start -3); pool1: pad 1, 3x3 stride 2
    # (11, 4, -5); conv2: three 3x3 (35, 4, -17); conv3: 1x1 stride 2 then four 3x3
    # (99, 8, -49); conv4: six (291, 16, -145); conv5: three (483, 32, -241).
    assert unclipped == (-241 + 3 * 32, -241 + 3 * 32, -241 + 3 * 32 + 483, -241 + 3 * 32 + 483)
    assert unclipped[2] - unclipped[0] == 483
    assert clipped == (0, 0, 224, 224)
    assert conv2 == (-17, -17, 18, 18)
    assert blocks == ["conv1_relu"] + [
        f"conv{s}_block{n}_out" for s, n in ((2, 3), (3, 4), (4, 6), (5, 3))
    ]
    for name, (box, size) in consistent.items():
        assert (box[2] - box[0], box[3] - box[1]) == (size, size), name


@pytest.mark.parametrize(
    "name", ["lenet5", "alexnet", "googlenet", "resnet50v2", "resnext50_32x4d", "wrn16_8"]
)
def test_box_sizes_equal_receptive_field_for_every_family(name):
    def sizes(model):
        return [
            (inside.receptive_field_box(model, b, clip=False), keras_cnn.receptive_field(model, b))
            for b in inside.block_outputs(model)
        ]

    found = inspect_structure(lambda: keras_cnn.get_model(name), sizes)
    assert len(found) >= 3
    for (top, left, bottom, right), size in found:
        assert bottom - top == right - left == size


def test_box_errors_name_the_valid_values():
    model = keras_cnn.build_lenet5()
    with pytest.raises(ValueError, match="no layer 'c9'.*Received: layer='c9'"):
        inside.receptive_field_box(model, "c9")
    with pytest.raises(ValueError, match="no spatial output"):
        inside.receptive_field_box(model, "f6")
    with pytest.raises(
        ValueError, match=r"inside 'c3''s 10x10 output.*Received: position=\(10, 0\)"
    ):
        inside.receptive_field_box(model, "c3", (10, 0))
    # LeNet-5: C1 5x5, S2 2x2/2, C3 5x5 -> 14 pixels, jump 2, all "valid".
    assert inside.receptive_field_box(model, "c3", (0, 0)) == (0, 0, 14, 14)
    assert inside.receptive_field_box(model, "c3", (9, 9)) == (18, 18, 32, 32)


# ----------------------------------------------------------------------------- effective fields


def _positive(model, seed=0):
    """All-positive weights scaled by fan-in, batch norm as the identity: no ReLU cuts off a
    positive input, so every pixel of the box reaches the unit."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [np.ones_like(gamma), np.zeros_like(beta), np.zeros_like(mean), np.ones_like(var)]
            )
        elif layer.weights:
            weights = []
            for w in layer.get_weights():
                fan_in = int(np.prod(w.shape[:-1])) or 1
                weights.append(rng.uniform(0.5, 1.5, w.shape).astype("float32") / fan_in)
            layer.set_weights(weights)
    return model


def _vgg_style_stack():
    """VGG's pattern (3x3 "same" convolutions, then halve) with average pooling: a max-pool
    passes the gradient to one pixel of its window only, so its field has holes."""
    x = inputs = keras.Input((32, 32, 1))
    for block, convs in ((1, 2), (2, 2), (3, 3)):
        for i in range(convs):
            x = keras.layers.Conv2D(
                4, 3, padding="same", activation="relu", name=f"block{block}_conv{i + 1}"
            )(x)
        x = keras.layers.AveragePooling2D(2, name=f"block{block}_pool")(x)
    return keras.Model(inputs, x)


def _support(field):
    rows, cols = np.nonzero(field > 0)
    return (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1), field[
        rows.min() : rows.max() + 1, cols.min() : cols.max() + 1
    ]


@pytest.mark.parametrize(
    "build, units",
    [
        (
            _vgg_style_stack,
            [
                ("block1_conv2", None),
                ("block2_conv2", (3, 5)),
                ("block3_conv3", None),
                ("block3_conv3", (0, 0)),
            ],
        ),
        (
            lambda: keras_cnn.build_cifar_resnet(20, input_shape=(32, 32, 1)),
            [
                ("conv2_block1_out", None),
                ("conv3_block1_out", (2, 3)),
                ("conv4_block3_out", None),
                ("conv4_block1_out", (0, 7)),
            ],
        ),
    ],
    ids=["vgg_style", "resnet20_shortcuts"],
)
def test_effective_field_support_is_the_box_for_positive_weights(build, units):
    model = _positive(build())
    images = np.random.default_rng(1).uniform(0.1, 1.0, (2, 32, 32, 1)).astype("float32")
    for layer, position in units:
        field = inside.effective_receptive_field(model, layer, images, position=position)
        box, inner = _support(field)
        assert box == inside.receptive_field_box(model, layer, position), (layer, position)
        assert (inner > 0).all(), (layer, position)  # no hole inside the box


def test_effective_field_of_a_trained_like_network_lies_inside_the_box():
    model = keras_cnn.build_cifar_resnet(20, input_shape=(32, 32, 1))  # random signs: ReLUs cut
    field = inside.effective_receptive_field(model, "conv3_block1_out", samples=4)
    top, left, bottom, right = inside.receptive_field_box(model, "conv3_block1_out")
    outside = field.copy()
    outside[top:bottom, left:right] = 0
    assert field.shape == (32, 32) and field.sum() > 0 and outside.sum() == 0


# ----------------------------------------------------------------------------- forward and gradients


@pytest.fixture(scope="module")
def resnet20():
    keras.utils.set_random_seed(0)
    return keras_cnn.build_cifar_resnet(20, input_shape=(32, 32, 1))


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).random((3, 32, 32, 1), dtype=np.float32)


def test_feature_maps_are_the_layers_outputs(resnet20, images):
    maps = inside.feature_maps(resnet20, images)
    assert list(maps) == ["conv2_block3_out", "conv3_block3_out", "conv4_block3_out"]
    assert [m.shape for m in maps.values()] == [(3, 32, 32, 16), (3, 16, 16, 32), (3, 8, 8, 64)]
    direct = keras.Model(resnet20.input, resnet20.get_layer("conv3_block3_out").output)
    np.testing.assert_allclose(
        maps["conv3_block3_out"], direct.predict(images, verbose=0), atol=1e-5
    )
    one = inside.feature_maps(resnet20, images[0], ["conv1_relu"])  # one image gets a batch axis
    assert one["conv1_relu"].shape == (1, 32, 32, 16)
    with pytest.raises(
        ValueError,
        match=r"one image of shape \(32, 32, 1\).*Received: images.shape=\(2, 28, 28, 1\)",
    ):
        inside.feature_maps(resnet20, np.zeros((2, 28, 28, 1)))
    with pytest.raises(ValueError, match="no layer 'conv9'"):
        inside.feature_maps(resnet20, images, ["conv9"])


def test_grad_cam_matches_a_direct_gradient_tape(resnet20, images):
    tf = pytest.importorskip("tensorflow")
    layer = "conv3_block2_1_conv"  # inside a residual block: the shortcut bypasses it
    head = resnet20.get_layer("predictions")
    probe = keras.Model(resnet20.input, [resnet20.get_layer(layer).output, head.input])
    with tf.GradientTape() as tape:
        activations, features = probe(images)
        logits = features @ head.kernel + head.bias  # the class score before the softmax
        score = tf.reduce_sum(logits[:, 3])
    grads = tape.gradient(score, activations).numpy()
    cam = np.maximum((grads.mean(axis=(1, 2), keepdims=True) * activations.numpy()).sum(-1), 0)
    expected = cam / cam.max(axis=(1, 2), keepdims=True)
    heat = inside.grad_cam(resnet20, images, 3, layer=layer)
    assert heat.shape == (3, 32, 32) and heat.max() == pytest.approx(1)
    # The 16x16 units sit at their fields' centres, pixels 0, 2, ..., 30.
    rows, cols = inside.unit_centres(resnet20, layer)
    np.testing.assert_array_equal(rows, np.arange(0, 32, 2))
    np.testing.assert_allclose(heat[:, ::2, ::2], expected, atol=1e-5)
    # Default: the predicted class at the last spatial layer.
    assert inside.default_cam_layer(resnet20) == "conv4_block3_out"
    predicted = inside.logits(resnet20, images).argmax(-1)
    np.testing.assert_allclose(
        inside.grad_cam(resnet20, images), inside.grad_cam(resnet20, images, predicted), atol=1e-6
    )
    with pytest.raises(ValueError, match=r"in \[0, 10\). Received: class_index=10"):
        inside.grad_cam(resnet20, images, 10)


def test_saliency_is_the_input_gradient(resnet20, images):
    tf = pytest.importorskip("tensorflow")
    x = tf.convert_to_tensor(images)
    head = resnet20.get_layer("predictions")
    probe = keras.Model(resnet20.input, head.input)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = tf.reduce_sum((probe(x) @ head.kernel + head.bias)[:, 1])
    grad = np.abs(tape.gradient(score, x).numpy()).max(-1)
    np.testing.assert_allclose(
        inside.saliency(resnet20, images, 1), grad / grad.max(axis=(1, 2), keepdims=True), atol=1e-5
    )


def test_gradients_on_another_backend_raise_a_clear_error(resnet20, images, monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "numpy")
    for call in (
        lambda: inside.grad_cam(resnet20, images),
        lambda: inside.saliency(resnet20, images),
        lambda: inside.effective_receptive_field(resnet20, "conv2_block1_out", images),
    ):
        with pytest.raises(
            NotImplementedError,
            match=r"\['jax', 'tensorflow', 'torch'\]; this Keras runs on 'numpy'",
        ):
            call()


# ----------------------------------------------------------------------------- pictures


def test_to_image_colours_sizes_and_gaps():
    ramp = np.array([[0.0, 0.5, 1.0]])
    picture = inside.to_image(ramp)
    assert picture.dtype == np.uint8 and picture.shape == (1, 3, 3)
    np.testing.assert_array_equal(picture[0, 0], inside.COLORMAPS["viridis"][0])
    np.testing.assert_array_equal(picture[0, 2], inside.COLORMAPS["viridis"][-1])
    np.testing.assert_array_equal(inside.to_image(ramp, "gray")[0, :, 0], [0, 128, 255])
    assert inside.to_image(np.zeros((4, 4, 1)), size=32).shape == (32, 32, 3)
    assert inside.to_image(np.array([[0.0, np.nan, 1.0]]))[0, 1].tolist() == [255, 255, 255]
    with pytest.raises(ValueError, match="`cmap` must be one of"):
        inside.to_image(ramp, "jet")
    grid = inside.tile(np.arange(5 * 2 * 2, dtype="float32").reshape(5, 2, 2))
    assert grid.shape == (5, 8) and np.isnan(grid[2]).all() and grid[3, 0] == 12.0
    lenet = keras_cnn.build_lenet5()
    filters = inside.first_layer_filters(lenet)  # 6 filters of 5x5 in a 3-column grid
    assert filters.shape == (11, 17, 3) and filters.min() == 0 and filters.max() == 1


def test_overlay_and_box():
    image = np.zeros((8, 8, 1), "float32")
    heat = np.zeros((4, 4), "float32")
    heat[1, 2] = 2.0
    picture = inside.overlay(inside.to_image(image, size=8), heat)  # heat at half the size
    assert picture.shape == (8, 8, 3)
    assert (picture[2:4, 4:6] > 100).any() and (picture[:2] == 0).all()  # cold pixels unchanged
    boxed = inside.draw_box(np.zeros((8, 8, 3), np.uint8), (2, 3, 6, 7), width=1)
    assert boxed[2, 3:7].tolist() == [[255, 64, 64]] * 4 and boxed[4, 4].tolist() == [0, 0, 0]
    assert boxed[5, 6].tolist() == [255, 64, 64] and boxed[6, 6].tolist() == [0, 0, 0]


_BACKEND_SCRIPT = """
import sys
import keras
import numpy as np
from keras_cnn import inside
assert keras.backend.backend() == sys.argv[4], keras.backend.backend()
model = keras.models.load_model(sys.argv[1])
x = np.load(sys.argv[2])
np.savez(
    sys.argv[3],
    cam=inside.grad_cam(model, x, layer="c3"),
    saliency=inside.saliency(model, x, 2),
    erf=inside.effective_receptive_field(model, "s4", x),
    maps=inside.feature_maps(model, x, ["s2"])["s2"],
)
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_give_the_same_maps_as_tensorflow(images, tmp_path, backend):
    pytest.importorskip(backend)
    keras.utils.set_random_seed(0)
    lenet = keras_cnn.build_lenet5(activation="relu")
    lenet.save(tmp_path / "m.keras")
    np.save(tmp_path / "x.npy", images)
    env = {"KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1"}
    files = (str(tmp_path / f) for f in ("m.keras", "x.npy", "out.npz"))
    run_python(_BACKEND_SCRIPT, *files, backend, env=env)
    other = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(other["cam"], inside.grad_cam(lenet, images, layer="c3"), atol=1e-4)
    np.testing.assert_allclose(other["saliency"], inside.saliency(lenet, images, 2), atol=1e-4)
    tf_erf = inside.effective_receptive_field(lenet, "s4", images)
    assert tf_erf.max() > 0
    np.testing.assert_allclose(other["erf"], tf_erf, rtol=1e-3, atol=1e-5 * tf_erf.max())
    tf_maps = inside.feature_maps(lenet, images, ["s2"])["s2"]
    np.testing.assert_allclose(other["maps"], tf_maps, atol=1e-5)


def _placed_digits(split: str, seed: int, copies: int = 1):
    """The embedded digits at 16x16, each pasted ``copies`` times at random places of a black
    32x32 canvas, with the bounding box of its ink: a model must find the digit to name it."""
    from keras_cnn import data

    x, y = data.arrays("digits", split, input_shape=(16, 16, 1), normalize=False)
    rng = np.random.default_rng(seed)
    canvas = np.zeros((copies * len(x), 32, 32, 1), "float32")
    boxes = []
    for i in range(copies * len(x)):
        image = x[i % len(x)]
        r, c = rng.integers(0, 17, size=2)
        canvas[i, r : r + 16, c : c + 16] = image
        ink = np.argwhere(image[..., 0] > 0.1)
        (top, left), (bottom, right) = ink.min(0), ink.max(0) + 1
        boxes.append((r + top, c + left, r + bottom, c + right))
    return canvas, np.tile(y, copies), np.array(boxes)


def _localisation(model, x, boxes):
    """Grad-CAM at C3 (10x10 units): its mean share of mass inside the digit's box, and the
    pointing game (Zhang et al. 2016): how often its peak lies inside the box."""
    heat = inside.grad_cam(model, x, layer="c3")
    mass, hits = [], []
    for h, (top, left, bottom, right) in zip(heat, boxes, strict=True):
        peak = np.unravel_index(np.argmax(h), h.shape)
        mass.append(h[top:bottom, left:right].sum() / h.sum() if h.sum() > 0 else 0.0)
        hits.append(h.max() > 0 and top <= peak[0] < bottom and left <= peak[1] < right)
    return float(np.mean(mass)), float(np.mean(hits))


@pytest.mark.slow
def test_grad_cam_finds_the_digit_a_random_label_model_does_not():
    from keras_cnn.train import train

    x, y, _ = _placed_digits("train", 0, copies=4)  # 5,748 training images
    x_test, y_test, boxes = _placed_digits("test", 1)
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).mean() / 32**2
    assert 0.18 < area < 0.22  # the ink box covers a fifth of the image
    results = {}
    for labels in ("true", "random"):
        keras.utils.set_random_seed(0)
        model = keras_cnn.build_lenet5(activation="relu")
        targets = y if labels == "true" else np.random.default_rng(0).permutation(y)
        history = train(
            model, (x, targets), validation=(x_test, y_test), epochs=8, batch_size=64,
            optimizer="adam", learning_rate=2e-3, schedule="constant", weight_decay=0.0,
            seed=0, record=False, verbose=0,
        )  # fmt: skip
        results[labels] = (history.test_accuracy.iloc[-1], *_localisation(model, x_test, boxes))
    accuracy, mass, pointing = results["true"]
    assert accuracy > 0.8  # measured 88.9%
    # Measured: the peak inside the box for 71% of the test digits, 49% of the heat inside a
    # box of 20% of the image.
    assert pointing > 0.65 and mass > 0.42
    accuracy, mass, pointing = results["random"]
    assert accuracy < 0.2  # learned nothing that generalises
    # Measured: 30% and 28%, near chance.
    assert pointing < 0.40 and mass < 0.35


def test_maps_follow_the_weights_after_further_training(images):
    """The compiled gradient functions read the current weights, not those of the first call."""
    keras.utils.set_random_seed(0)
    model = keras_cnn.build_lenet5(activation="relu")
    before = inside.grad_cam(model, images, 0, layer="c3")
    erf_before = inside.effective_receptive_field(model, "s4", images)
    model.set_weights([w * 1.5 for w in model.get_weights()])
    after = inside.grad_cam(model, images, 0, layer="c3")
    fresh = keras.models.clone_model(model)
    fresh.set_weights(model.get_weights())
    np.testing.assert_allclose(after, inside.grad_cam(fresh, images, 0, layer="c3"), atol=1e-5)
    assert not np.allclose(inside.effective_receptive_field(model, "s4", images), erf_before)
    assert before.shape == after.shape
