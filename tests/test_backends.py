"""Backend independence: the same builders train under Keras on JAX."""

import os
import subprocess
import sys
import textwrap

import pytest

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
    y = keras_cnn.bottleneck_block(inp, 8, groups=4, width=16, stride_in_3x3=True, name="x")
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
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("LOSSES"))
    losses = eval(line.split("LOSSES")[1].split("CHANGED")[0])  # a list literal we printed
    changed = int(line.split("CHANGED")[1].split("OF")[0])
    assert all(np.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0], losses  # three steps on one batch lower its loss
    assert changed > 50
    grouped_line = next(ln for ln in result.stdout.splitlines() if ln.startswith("GROUPED"))
    grouped = eval(grouped_line.split("GROUPED")[1])
    assert all(np.isfinite(loss) for loss in grouped) and grouped[-1] < grouped[0], grouped


import numpy as np  # noqa: E402
