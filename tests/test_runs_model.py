"""A run keeps its trained model: ``keras_cnn.runs.load_model(run_id)``."""

import json
import threading

import numpy as np
import pytest

from keras_cnn import runs
from keras_cnn.train import TrainingObserver, build_model, train

TINY = dict(limit=64, batch_size=32, seed=0, verbose=0)


def test_a_finished_run_keeps_its_model_and_loads_it_back():
    model = build_model("lenet5")
    history = train(model, epochs=1, **TINY)
    stored = runs.list_runs()
    assert stored.model_file.tolist() == ["model.keras"]
    run_id = stored.id[0]
    _, meta = runs.load_run(run_id)
    assert meta["model_file"] == "model.keras" and meta["status"] == "finished"
    assert runs.model_path(run_id).parent.name == run_id
    assert str(runs.model_path(run_id).parent) == history.attrs["run_dir"]
    loaded = runs.load_model(run_id)
    x = np.random.default_rng(0).random((4, 32, 32, 1), dtype=np.float32)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    # No temporary file is left next to it.
    assert sorted(p.name for p in runs.model_path(run_id).parent.iterdir()) == [
        "history.csv",
        "meta.json",
        "model.keras",
    ]


def test_a_stopped_run_keeps_its_model_a_failed_one_does_not():
    stop = threading.Event()

    class StopAtOnce(TrainingObserver):
        def on_batch(self, epoch, batch, total_batches, logs):
            stop.set()

    train("lenet5", epochs=2, stop=stop, observers=[StopAtOnce()], **TINY)
    (stopped,) = runs.list_runs().itertuples()
    assert stopped.status == "stopped" and stopped.model_file == "model.keras"

    class Boom(TrainingObserver):
        def on_batch(self, epoch, batch, total_batches, logs):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        train("lenet5", epochs=1, observers=[Boom()], **TINY)
    failed = runs.list_runs().query("status == 'failed'")
    assert len(failed) == 1 and failed.model_file.isna().all()
    assert runs.model_path(failed.id.iloc[0]) is None
    with pytest.raises(ValueError, match="kept no model.*Runs with a model"):
        runs.load_model(failed.id.iloc[0])


def test_unknown_run_and_a_run_from_before_models_were_kept():
    with pytest.raises(ValueError, match="No stored run 'nope'"):
        runs.load_model("nope")
    old = runs.new_run("lenet5", {"data": "digits"})
    runs.update_run(old, status="finished")
    assert json.loads((old / runs.META).read_text()).get("model_file") is None
    with pytest.raises(ValueError, match="kept no model"):
        runs.load_model(old.name)
