"""keras_cnn.train on the embedded digits: history, schedules, live progress, stop,
checkpoints, the command line, MirroredStrategy and the JAX backend."""

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest

from keras_cnn import runs
from keras_cnn.__main__ import main
from keras_cnn.train import (
    COLUMNS,
    CheckpointError,
    TrainingObserver,
    build_model,
    device_info,
    learning_rate_at,
    train,
)

TINY = dict(limit=256, batch_size=32, seed=0, verbose=0)


def test_history_rows_schedule_and_stored_run():
    history = train("lenet5", epochs=2, **TINY)
    assert list(history.columns) == COLUMNS
    assert history.epoch.tolist() == [1, 2]
    # The paper's schedule divides the rate by 10 at 50% of the epochs.
    assert history.learning_rate.tolist() == pytest.approx([0.1, 0.01])
    for column in ("accuracy", "val_accuracy"):
        assert history[column].between(0, 1).all()
    assert (history.seconds > 0).all() and (history.images_per_second > 0).all()
    # LeNet-5 learns real digits: well above chance (0.1) after two epochs on 256 images.
    assert history.val_accuracy.iloc[-1] > 0.3
    assert history.attrs["device"] == "CPU" and history.attrs["stopped"] is False
    stored = runs.list_runs()
    assert stored.status.tolist() == ["finished"] and stored.model.tolist() == ["lenet5"]
    kept, meta = runs.load_run(stored.id[0])
    pd.testing.assert_frame_equal(kept, history, check_exact=False)
    assert meta["settings"]["epochs"] == 2 and meta["data"] == "digits"
    assert Path(history.attrs["run_dir"]).parent == Path(os.environ["KERAS_CNN_HOME"]) / "runs"


def test_same_seed_same_history():
    first = train("lenet5", epochs=1, record=False, **TINY)
    second = train("lenet5", epochs=1, record=False, **TINY)
    np.testing.assert_allclose(first.loss, second.loss, rtol=1e-5)
    np.testing.assert_allclose(first.val_accuracy, second.val_accuracy)


def test_schedules():
    assert [learning_rate_at("paper", 0.1, e, 8) for e in (0, 3, 4, 5, 6, 7)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001]
    )
    assert learning_rate_at("cosine", 0.1, 0, 10) == pytest.approx(0.1)
    assert learning_rate_at("cosine", 0.1, 5, 10) == pytest.approx(0.05)
    assert learning_rate_at("constant", 0.1, 9, 10) == 0.1
    with pytest.raises(ValueError, match="schedule.*Received: schedule='step'"):
        train("lenet5", schedule="step")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": -1}, "batch_size"),
        ({"optimizer": "lamb"}, "optimizer"),
        ({"mixed_precision": "yes"}, "mixed_precision"),
        ({"data": [1, 2]}, "data"),
    ],
)
def test_invalid_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        train("lenet5", **{"record": False, **kwargs})


def test_observer_sees_batches_and_stop_is_honoured_at_the_next_batch():
    stop = threading.Event()

    class Recorder(TrainingObserver):
        def __init__(self):
            self.begin, self.batches, self.epochs, self.end = None, [], [], None

        def on_train_begin(self, info):
            self.begin = info

        def on_batch(self, epoch, batch, total_batches, logs):
            self.batches.append((epoch, batch, total_batches))
            if epoch == 2 and batch == 3:
                stop.set()

        def on_epoch(self, row):
            self.epochs.append(row)

        def on_train_end(self, history):
            self.end = history

    recorder = Recorder()
    history = train("lenet5", epochs=3, observers=[recorder], stop=stop, **TINY)
    assert recorder.begin["steps"] == 8 and recorder.begin["epochs"] == 3
    assert recorder.batches[:8] == [(1, b, 8) for b in range(1, 9)]
    assert recorder.batches[-1] == (2, 3, 8)  # nothing after the stop request
    assert [row["epoch"] for row in recorder.epochs] == [1, 2]
    assert history.attrs["stopped"] is True and recorder.end is history
    assert runs.list_runs().status.tolist() == ["stopped"]


class _Kill(keras.callbacks.Callback):
    """Simulates a killed process in the middle of an epoch."""

    def __init__(self, epoch):
        super().__init__()
        self.kill_epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.kill_epoch and batch == 2:
            raise KeyboardInterrupt


def test_checkpoint_resumes_a_killed_run_with_the_same_history(tmp_path):
    ckpt = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):
        train("lenet5", epochs=3, checkpoint_dir=ckpt, callbacks=[_Kill(1)], **TINY)
    meta = json.loads((ckpt / "meta.json").read_text())
    assert meta["epoch"] == 1 and sorted(p.name for p in ckpt.glob("*.keras")) == [
        "ckpt-0001.keras"
    ]
    first = meta["history"][0]
    assert runs.list_runs().status.tolist() == ["failed"]

    resumed = train("lenet5", epochs=3, checkpoint_dir=ckpt, **TINY)
    assert resumed.epoch.tolist() == [1, 2, 3]
    assert resumed.iloc[0].to_dict() == pytest.approx(first)
    # Training went on from the saved weights: loss keeps falling, the schedule continues.
    assert resumed.learning_rate.tolist() == pytest.approx([0.1, 0.1, 0.01])
    assert resumed.loss.iloc[2] < resumed.loss.iloc[0]
    assert json.loads((ckpt / "meta.json").read_text())["epoch"] == 3
    # A finished run resumes to the same history without training.
    again = train("lenet5", epochs=3, checkpoint_dir=ckpt, **TINY)
    pd.testing.assert_frame_equal(again, resumed)


def test_checkpoint_of_another_model_or_corrupt_is_a_clear_error(tmp_path):
    ckpt = tmp_path / "ckpt"
    train("lenet5", epochs=1, checkpoint_dir=ckpt, **TINY)
    with pytest.raises(CheckpointError, match="another model.*resume=False"):
        train("vgg_small", epochs=1, checkpoint_dir=ckpt, **TINY)
    with pytest.raises(CheckpointError, match=r"other settings \(batch_size: 32 -> 16\)"):
        train("lenet5", epochs=1, checkpoint_dir=ckpt, **{**TINY, "batch_size": 16})
    (ckpt / "ckpt-0001.keras").write_bytes(b"not a zip file")
    with pytest.raises(CheckpointError, match="ckpt-0001.keras cannot be loaded"):
        train("lenet5", epochs=1, checkpoint_dir=ckpt, **TINY)
    (ckpt / "meta.json").write_text("{ truncated")
    with pytest.raises(CheckpointError, match=f"{ckpt}.*unreadable"):
        train("lenet5", epochs=1, checkpoint_dir=ckpt, **TINY)
    # resume=False starts over and overwrites.
    fresh = train("lenet5", epochs=1, checkpoint_dir=ckpt, resume=False, **TINY)
    assert json.loads((ckpt / "meta.json").read_text())["history"][0]["loss"] == pytest.approx(
        fresh.loss[0]
    )


def test_arrays_are_adapted_to_a_given_model_trained_in_place():
    from keras_cnn import data

    model = build_model("lenet5", input_shape=(36, 36, 3))
    before = model.get_weights()[0].copy()
    x, y = data.arrays("digits", limit=64)  # grey 32x32 -> RGB 36x36 for the model
    val = data.arrays("digits", "test", limit=32)
    history = train(model, (x, y), validation=val, epochs=1, **{**TINY, "batch_size": 16})
    assert len(history) == 1 and history.val_loss.notna().all()
    assert not np.allclose(model.get_weights()[0], before)


def test_device_info_on_this_machine():
    info = device_info()
    assert info["backend"] == "tensorflow" and info["device"] in ("CPU", "GPU")
    assert info["gpus"] == len(info["names"])


def test_command_line_trains_and_prints_a_table(capsys, tmp_path):
    code = main(
        ["train", "lenet5", "--epochs", "1", "--limit", "128", "--batch-size", "32"]
        + ["--verbose", "0", "--seed", "0", "--checkpoint-dir", str(tmp_path / "c")]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Training lenet5 on digits (CPU" in out and "val_accuracy" in out
    assert "Final: accuracy" in out and (tmp_path / "c" / "meta.json").is_file()
    assert main(["train", "lenet5", "--data", "digits", "--epochs", "0"]) == 2


def _run_script(script: str, env_extra: dict) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env_extra}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_mirrored_strategy_over_two_logical_cpus_trains_like_one_device():
    result = _run_script(
        """
        import json
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from keras_cnn.train import train
        kw = dict(epochs=1, limit=256, batch_size=64, seed=0, verbose=0, record=False)
        single = train("lenet5", **kw)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        mirrored = train("lenet5", strategy=strategy, **kw)
        print(json.dumps({"replicas": strategy.num_replicas_in_sync,
                          "single": single.loss.tolist(), "mirrored": mirrored.loss.tolist(),
                          "single_val": single.val_loss.tolist(),
                          "mirrored_val": mirrored.val_loss.tolist()}))
        """,
        {"KERAS_BACKEND": "tensorflow"},
    )
    assert result["replicas"] == 2
    # LeNet-5 has no batch norm, so two replicas of half a batch compute the same mean
    # gradient as one device: the same losses up to float summation order.
    # (measured: 2.1808 vs 2.1831 after 4 steps at lr 0.1, a 0.1% difference).
    np.testing.assert_allclose(result["mirrored"], result["single"], rtol=1e-2)
    np.testing.assert_allclose(result["mirrored_val"], result["single_val"], rtol=1e-2)


@pytest.mark.slow
def test_keras_distribution_data_parallel_under_jax_trains_like_one_device():
    """Under JAX, `strategy=` takes a keras.distribution: two (virtual) CPU devices."""
    result = _run_script(
        """
        import json
        import keras
        import keras_cnn
        from keras_cnn.train import train
        devices = keras.distribution.list_devices("cpu")
        dist = keras.distribution.DataParallel(devices=devices)
        with dist.scope():
            probe = keras_cnn.build_lenet5()
        replicated_on = len(probe.weights[0].value.sharding.device_set)
        kw = dict(epochs=1, limit=256, batch_size=64, seed=0, verbose=0, record=False)
        single = train("lenet5", **kw)
        parallel = train("lenet5", strategy=dist, **kw)
        print(json.dumps({"devices": len(devices), "replicated_on": replicated_on,
                          "single": single.loss.tolist(), "parallel": parallel.loss.tolist(),
                          "single_val": single.val_loss.tolist(),
                          "parallel_val": parallel.val_loss.tolist()}))
        """,
        {
            "KERAS_BACKEND": "jax",
            "JAX_PLATFORMS": "cpu",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
        },
    )
    assert result["devices"] == 2 and result["replicated_on"] == 2
    # measured: identical losses (2.1974 after 4 steps), as for MirroredStrategy above
    np.testing.assert_allclose(result["parallel"], result["single"], rtol=1e-2)
    np.testing.assert_allclose(result["parallel_val"], result["single_val"], rtol=1e-2)


@pytest.mark.slow
def test_the_same_code_trains_under_jax():
    result = _run_script(
        """
        import json
        from keras_cnn.train import train
        h = train("resnet20", epochs=1, limit=128, batch_size=32, seed=0, verbose=0)
        print(json.dumps({"backend": h.attrs, "rows": h.to_dict("records")}))
        """,
        {"KERAS_BACKEND": "jax"},
    )
    assert result["backend"]["device"] == "CPU" and len(result["rows"]) == 1
    row = result["rows"][0]
    assert np.isfinite(row["loss"]) and 0 <= row["val_accuracy"] <= 1
