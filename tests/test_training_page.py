"""The app's training page, driven by Streamlit's AppTest: a tiny live run, stored runs,
the degradation and gradient views."""

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "pages" / "training.py")


def _page(view: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    if view:
        at.query_params["view"] = view
    return at.run()


def test_page_shows_the_device_and_trains_live_and_stores_the_run():
    at = _page()
    assert not at.exception
    assert "Device: **CPU**" in at.caption[0].value
    at.selectbox(key="model").set_value("lenet5")
    at.number_input(key="epochs").set_value(2)
    at.number_input(key="limit").set_value(128)
    at.selectbox(key="batch_size").set_value(32)
    at.button(key="start").click().run()
    assert not at.exception and not at.error
    history = at.dataframe[-1].value
    assert history.epoch.tolist() == [1, 2]
    assert history.val_accuracy.between(0, 1).all()
    assert "lenet5 finished after 2 epoch(s)." in at.success[0].value
    assert at.metric[1].label == "Test accuracy"
    assert float(at.metric[1].value) == pytest.approx(history.val_accuracy.iloc[-1], abs=1e-3)
    # The run is stored under KERAS_CNN_HOME, so a reload (a new session) still has it.
    runs = list((Path(os.environ["KERAS_CNN_HOME"]) / "runs").iterdir())
    assert len(runs) == 1 and (runs[0] / "history.csv").is_file()
    again = _page("compare")
    table = again.dataframe[0].value
    assert table.model.tolist() == ["lenet5"] and table.epochs.tolist() == [2]
    assert table.status.tolist() == ["finished"]


def test_gradient_view_measures_plain_and_residual():
    at = _page("gradients")
    at.selectbox(key="grad_depth").set_value(20)
    at.selectbox(key="grad_batch").set_value(16)
    at.button(key="grad_start").click().run()
    assert not at.exception
    norms = at.dataframe[-1].value
    assert set(norms.model) == {"plain20", "resnet20"}
    assert (norms.groupby("model").size() == 11).all()  # stem, 9 blocks, head


def test_degradation_view_shows_stored_results_with_provenance():
    at = _page("degradation")
    assert not at.exception
    results = sorted((Path(PAGE).parents[2] / "results").glob("degradation_*.csv"))
    for csv in results:
        assert any(csv.name in m.value for m in at.markdown)
    assert at.button(key="deg_start")
