"""Backend independence: the same builders train under Keras on JAX and run on PyTorch."""

import textwrap

import pytest
from python_runs import NO_TENSORFLOW, last_json, run_python

SCRIPT = textwrap.dedent(
    """
    import numpy as np, keras, keras_cnn
    assert keras.backend.backend() == "jax", keras.backend.backend()
    model = keras_cnn.get_model("resnet20")
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, size=16)
    before = [w.copy() for w in model.get_weights()]
    losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
    changed = sum(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    print("LOSSES", losses, "CHANGED", changed, "OF", len(before))
    # a grouped (ResNeXt) bottleneck and a wide pre-activation block with dropout
    inp = keras.Input((16, 16, 8))
    y = keras_cnn.bottleneck_block(inp, 8, groups=4, base_width=32, stride_in_3x3=True, name="x")
    y = keras_cnn.basic_block(y, 32, 2, preactivation=True, dropout=0.3, name="w")
    y = keras.layers.Dense(10)(keras.layers.GlobalAveragePooling2D()(y))
    small = keras.Model(inp, y)
    small.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(True))
    xs = rng.normal(size=(8, 16, 16, 8)).astype("float32")
    ys = rng.integers(0, 10, size=8)
    grouped = [float(small.train_on_batch(xs, ys[:8])) for _ in range(3)]
    print("GROUPED", grouped)
    """
)


@pytest.mark.slow
def test_resnet20_trains_under_jax():
    pytest.importorskip("jax")
    stdout = run_python(SCRIPT, env={"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}, timeout=600)
    line = next(ln for ln in stdout.splitlines() if ln.startswith("LOSSES"))
    losses = eval(line.split("LOSSES")[1].split("CHANGED")[0])  # a list literal we printed
    changed = int(line.split("CHANGED")[1].split("OF")[0])
    assert all(np.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0], losses  # three steps on one batch lower its loss
    assert changed > 50
    grouped_line = next(ln for ln in stdout.splitlines() if ln.startswith("GROUPED"))
    grouped = eval(grouped_line.split("GROUPED")[1])
    assert all(np.isfinite(loss) for loss in grouped) and grouped[-1] < grouped[0], grouped


import numpy as np  # noqa: E402

#: Under PyTorch with TensorFlow hidden: every builder of tests/test_saving.py (each family,
#: with LRN, two-tower grouped convolutions, ResNeXt's groups, zero-padding shortcuts, batch
#: norm, pre-activation, dropout) builds and runs forward at a small input; a few round-trip
#: through .keras; and models saved by the TensorFlow process load and predict the same.
TORCH_BUILDERS = """
import sys, json
sys.path.insert(0, "tests")
import keras, numpy as np
from test_saving import ROUND_TRIPS
from keras_cnn import inside
assert keras.backend.backend() == "torch", keras.backend.backend()
folder = sys.argv[1]
out = {"tensorflow_loaded": "tensorflow" in sys.modules, "forward": {}, "round_trip": {}}
rng = np.random.default_rng(0)
for key, (builder, kwargs) in sorted(ROUND_TRIPS.items()):
    model = builder(**kwargs)
    x = rng.normal(size=(2, *model.input_shape[1:])).astype("float32")
    y = keras.ops.convert_to_numpy(model(x, training=False))
    out["forward"][key] = [list(y.shape), bool(np.isfinite(y).all()), model.count_params()]
    if key in sys.argv[2].split(","):
        model.save(f"{folder}/{key}-torch.keras")
        loaded = keras.models.load_model(f"{folder}/{key}-torch.keras")
        out["round_trip"][key] = float(np.abs(loaded.predict(x, verbose=0) - y).max())
saved = {}
for key in sys.argv[3].split(","):
    model = keras.models.load_model(f"{folder}/{key}.keras")
    saved[key] = model.predict(np.load(f"{folder}/{key}.npy"), verbose=0)
maps = inside.feature_maps(model, np.load(f"{folder}/{key}.npy"), ["conv2_block1_out"])
saved["maps"] = maps["conv2_block1_out"]
np.savez(f"{folder}/torch.npz", **saved)
print(json.dumps(out))
"""


@pytest.mark.slow
def test_builders_run_save_and_load_under_torch_without_tensorflow(tmp_path):
    pytest.importorskip("torch")
    import keras
    from test_saving import ROUND_TRIPS

    from keras_cnn import inside

    round_trips = ["alexnet_lrn_two_tower", "resnext50_grouped", "resnet20"]
    from_tensorflow = ["googlenet_lrn", "resnet20"]  # LRN; zero-padding shortcuts (option A)
    expected = {}
    rng = np.random.default_rng(1)
    for key in from_tensorflow:
        builder, kwargs = ROUND_TRIPS[key]
        model = builder(**kwargs)
        x = rng.normal(size=(2, *model.input_shape[1:])).astype("float32")
        np.save(tmp_path / f"{key}.npy", x)
        model.save(tmp_path / f"{key}.keras")
        expected[key] = model.predict(x, verbose=0)
    expected["maps"] = inside.feature_maps(model, x, ["conv2_block1_out"])["conv2_block1_out"]
    args = [str(tmp_path), ",".join(round_trips), ",".join(from_tensorflow)]
    env = {"KERAS_BACKEND": "torch", "OMP_NUM_THREADS": "1"}
    out = last_json(run_python(NO_TENSORFLOW + TORCH_BUILDERS, *args, env=env, timeout=600))
    assert out["tensorflow_loaded"] is False
    assert sorted(out["forward"]) == sorted(ROUND_TRIPS)
    for key, (shape, finite, params) in out["forward"].items():
        builder, kwargs = ROUND_TRIPS[key]
        model = builder(**kwargs)  # the same model under TensorFlow, for its shape and size
        assert finite and shape == [2, *model.output_shape[1:]], (key, shape)
        assert params == model.count_params(), key
        keras.backend.clear_session()
    assert sorted(out["round_trip"]) == sorted(round_trips)
    assert max(out["round_trip"].values()) < 1e-6, out["round_trip"]
    torch_outputs = np.load(tmp_path / "torch.npz")
    for key, value in expected.items():
        np.testing.assert_allclose(torch_outputs[key], value, atol=1e-5, err_msg=key)
