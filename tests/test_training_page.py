"""The app's training page, driven by Streamlit's AppTest: a tiny live run, stored runs,
the degradation and gradient views."""

import json
import os
import random
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "pages" / "training.py")


def _page(view: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if view:
        at.query_params["view"] = view
    return at.run()


def _buttons(at: AppTest, kind: str = "train") -> tuple[bool, bool]:
    """Whether Start and Stop are enabled."""
    return (not at.button(key=f"{kind}_start").disabled, not at.button(key=f"{kind}_stop").disabled)


def _chart_spec(at: AppTest) -> dict:
    return json.loads(at.get("vega_lite_chart")[-1].proto.spec)


def _small_run(at: AppTest, epochs: int) -> None:
    at.selectbox(key="model").set_value("lenet5")
    at.number_input(key="epochs").set_value(epochs)
    at.number_input(key="limit").set_value(128)
    at.selectbox(key="batch_size").set_value(32)


def test_page_shows_the_device_and_trains_live_and_stores_the_run():
    at = _page()
    assert not at.exception
    assert "Device: **CPU**" in at.caption[0].value
    assert _buttons(at) == (True, False)
    _small_run(at, epochs=1)
    at.button(key="train_start").click().run()
    assert not at.exception and not at.error
    job = at.session_state["job"]
    # The run just started: Start is off, Stop is on, and the bar says what happens.
    assert job.alive and _buttons(at) == (False, True)
    status = at.get("progress")[-1].proto.text
    assert status.startswith("lenet5 on digits: Loading the data") or "lenet5:" in status
    assert "None" not in status and "?" not in status
    job.thread.join(120)
    at.run()
    assert not at.exception and not at.error
    assert _buttons(at) == (True, False)
    history = at.dataframe[-1].value
    assert history.epoch.tolist() == [1]
    assert history.test_accuracy.between(0, 1).all()
    assert "lenet5 finished after 1 epoch(s)." in at.success[0].value
    assert at.metric[1].label == "Test accuracy"
    assert float(at.metric[1].value) == pytest.approx(history.test_accuracy.iloc[-1], abs=1e-3)
    # After one epoch: integer epoch ticks, train and test in two colours with a legend.
    spec = _chart_spec(at)["spec"]["encoding"]
    assert spec["x"]["axis"]["format"] == "d" and spec["x"]["axis"]["tickMinStep"] == 1
    assert spec["color"]["field"] == "split"
    assert spec["color"]["scale"]["domain"] == ["train", "test"]
    assert len(set(spec["color"]["scale"]["range"])) == 2
    # The run is stored under KERAS_CNN_HOME, so a reload (a new session) still has it.
    runs = list((Path(os.environ["KERAS_CNN_HOME"]) / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "history.csv").is_file()
    again = _page("compare")
    table = again.dataframe[0].value
    assert table.model.tolist() == ["lenet5"] and table.epochs.tolist() == [1]
    assert table.status.tolist() == ["finished"]


def test_stop_works_for_the_run_just_started_and_start_comes_back():
    at = _page()
    _small_run(at, epochs=50)
    at.button(key="train_start").click().run()
    job = at.session_state["job"]
    assert _buttons(at) == (False, True)
    # A second session cannot start a run while this one trains: it is told why.
    other = _page()
    _small_run(other, epochs=1)
    other.button(key="train_start").click().run()
    assert any("already training lenet5 on digits" in w.value for w in other.warning)
    assert "job" not in other.session_state
    at.button(key="train_stop").click().run()
    assert job.stop.is_set() and _buttons(at) == (False, False)
    assert at.button(key="train_stop").label == "Stopping…"
    job.thread.join(120)
    at.run()
    assert _buttons(at) == (True, False)
    assert " stopped after " in at.success[0].value
    assert len(at.session_state["job"].result) < 50


def test_gradient_view_measures_plain_and_residual():
    at = _page("gradients")
    at.selectbox(key="grad_depth").set_value(20)
    at.selectbox(key="grad_batch").set_value(16)
    before = random.getstate()
    at.button(key="gradients_start").click().run()
    assert not at.exception
    # A job like training (issue 18, item 7): the script run returned before the measurement.
    job = at.session_state["job"]
    assert job.kind == "gradients" and job.models == 2
    job.thread.join(180)
    at.run()
    assert not at.exception and job.error is None
    assert random.getstate() == before  # Python's global generator was not reseeded
    norms = at.dataframe[-1].value
    assert set(norms.model) == {"plain20", "resnet20"}
    assert (norms.groupby("model").size() == 11).all()  # stem, 9 blocks, head


def test_degradation_view_shows_stored_results_with_provenance():
    at = _page("degradation")
    assert not at.exception
    results = sorted((Path(PAGE).parents[2] / "results").glob("degradation_*.csv"))
    for csv in results:
        assert any(csv.name in m.value for m in at.markdown)
    assert _buttons(at, "degradation") == (True, False)
    # The legend tells train from test: a split encoding drawn as strokes (issue 19, item 7).
    spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
    dash = spec["encoding"]["strokeDash"]
    assert dash["field"] == "split" and dash["scale"]["domain"] == ["train", "test"]
    assert dash["legend"]["symbolType"] == "stroke"
    assert spec["encoding"]["shape"]["field"] == "split"


def test_schedule_defaults_to_the_trainers_auto_and_model_labels_fit():
    """A 1-4 epoch run from the page keeps its rate (the paper's divisions after epoch 1 or 2
    of a short run leave little learned); the model's label is short enough for its column."""
    from keras_cnn.models.small import SMALL_MODELS
    from keras_cnn.train import SCHEDULES

    at = _page()
    schedule = at.selectbox(key="schedule")
    assert schedule.value == "auto" and schedule.options == list(SCHEDULES)
    labels = at.selectbox(key="model").options
    assert labels[list(SMALL_MODELS).index("lenet5")] == "lenet5 — LeNet-5 (1998)"
    assert max(len(label) for label in labels) <= 40
