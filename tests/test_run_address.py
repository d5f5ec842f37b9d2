"""A stored run has its own address: ``/look_inside?run=<id>`` opens Look inside on it, the
Training page's run list links there, and a bad or hostile id falls back with one line."""

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from app import logic
from keras_cnn import runs
from keras_cnn.train import build_model

ROOT = Path(__file__).resolve().parents[1]
LOOK_INSIDE = str(ROOT / "app" / "pages" / "look_inside.py")


def _run(model: str = "lenet5") -> str:
    path = runs.new_run(model, {"data": "digits"})
    runs.save_model(path, build_model(model))
    runs.update_run(path, status="finished")
    return path.name


def _page(**query) -> AppTest:
    at = AppTest.from_file(LOOK_INSIDE, default_timeout=180)
    at.query_params.update(query)
    return at.run()


def test_the_address_opens_that_run_and_follows_the_choice():
    older, newer = _run(), _run()
    at = _page(run=older)
    assert not at.exception, at.exception
    model = at.selectbox(key="inside_model")
    assert model.value == 1 and older in model.options[1]  # not the default (the newest run)
    assert not at.warning
    # another choice rewrites the address: the page shows what its address says
    model.set_value(0).run()
    assert at.selectbox(key="inside_model").value == 0
    assert at.query_params["run"] == newer
    at.selectbox(key="inside_model").set_value(2).run()  # LeNet-5, random weights
    assert "run" not in at.query_params


@pytest.mark.parametrize(
    "hostile", ["../../etc", "/etc/passwd", "20260101-000000-000000-nothere", "x" * 5000, ""]
)
def test_a_bad_or_hostile_run_falls_back_with_one_line(hostile):
    only = _run()
    at = _page(run=hostile)
    assert not at.exception, at.exception
    model = at.selectbox(key="inside_model")
    assert model.value == 0 and only in model.options[0]  # the default: the newest run
    (warning,) = at.warning
    assert warning.value.startswith("run=") and "is not one of your 1 stored runs" in warning.value
    assert "\n" not in warning.value and len(warning.value) < 200


def test_source_from_address_matches_exactly():
    sources = [("run", "a", "Run a"), ("small", "lenet5", "LeNet-5"), ("run", "b", "Run b")]
    assert logic.source_from_address(None, sources) == (None, None)
    assert logic.source_from_address("b", sources) == (2, None)
    index, message = logic.source_from_address("lenet5", sources)  # a name of another kind
    assert index is None and message == (
        "run='lenet5' is not one of your 2 stored runs with a model: showing Run a."
    )
    assert logic.look_inside_address("2026 a&b") == "/look_inside?run=2026+a%26b"


@pytest.mark.parametrize("bad", ["..", ".", "", "../runs", "a/b", "a\\b", "/tmp"])
def test_a_run_id_is_one_name_under_runs(bad, tmp_path):
    # a meta.json outside runs/ must not be reachable through the id
    (tmp_path / "meta.json").write_text("{}")
    with pytest.raises(ValueError, match="No stored run"):
        runs.load_run(bad)


def test_the_training_run_list_links_to_look_inside():
    kept = _run()
    bare = runs.new_run("lenet5", {"data": "digits"})  # no model kept: no link
    runs.update_run(bare, status="failed")
    at = AppTest.from_file(str(ROOT / "app" / "pages" / "training.py"), default_timeout=120)
    at.query_params["view"] = "compare"
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value.set_index("id")
    assert table.loc[kept, "look_inside"] == f"/look_inside?run={kept}"
    assert pd.isna(table.loc[bare.name, "look_inside"])
