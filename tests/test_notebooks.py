"""The example notebooks run in a real Jupyter kernel, and the committed ones match their sources.

``notebooks/NN_*.py`` (Jupytext percent scripts) are the sources; ``make notebooks`` executes
them into ``docs/notebooks/*.ipynb`` with their outputs. Here each source runs at the tiny
setting (``KERAS_CNN_NOTEBOOK_SMALL=1``) in a fresh kernel, so any error fails the suite, and
each committed notebook must hold the same code as its source and outputs without errors.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("nbclient")
pytest.importorskip("jupytext")

_spec = importlib.util.spec_from_file_location("notebook_build", ROOT / "notebooks" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)

SOURCES = build.sources()


def test_one_notebook_per_lesson_theme():
    assert len(SOURCES) == 10
    import quiz

    named = {lesson.notebook for lesson in quiz.get_course().lessons}
    assert named <= {p.stem for p in SOURCES}
    assert len(named) >= 9  # every lesson links one (lessons 7 and 8 share one)


@pytest.mark.slow
@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_runs_in_a_kernel(source, tmp_path):
    import nbformat

    out = build.build(source, small=True, out=tmp_path / f"{source.stem}.ipynb")
    notebook = nbformat.read(out, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors
    shown = [
        o for c in code for o in c.outputs if o.output_type in ("execute_result", "display_data")
    ]
    assert shown, "the notebook displays nothing"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_committed_notebook_matches_its_source(source):
    import jupytext
    import nbformat

    built = build.OUT / f"{source.stem}.ipynb"
    assert built.is_file(), f"run `make notebooks` to build {built.name}"
    notebook = nbformat.read(built, as_version=4)
    expected = [c.source for c in jupytext.read(source).cells if c.cell_type == "code"]
    assert [c.source for c in notebook.cells if c.cell_type == "code"] == expected, (
        f"{built.name} is stale: run `make notebooks`"
    )
    assert not [
        o
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]


def test_colab_address_only_for_a_github_repository():
    from app import logic

    url = logic.colab_url("03_vgg_receptive_fields", "https://github.com/someone/keras-cnn.git")
    assert url == (
        "https://colab.research.google.com/github/someone/keras-cnn/blob/main/"
        "docs/notebooks/03_vgg_receptive_fields.ipynb"
    )
    assert logic.colab_url("03_vgg_receptive_fields", "github.com/someone/keras-cnn") == url
    for bad in ("", "gitlab.com/a/b", "github.com/a", "javascript:alert(1)", "github.com/a/b/../c"):
        assert logic.colab_url("03_vgg_receptive_fields", bad) is None, bad


def test_lesson_page_offers_its_notebook(monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from app import exercise_views, logic, widgets

    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path))
    monkeypatch.setenv(logic.REPOSITORY_ENV, "github.com/someone/keras-cnn")
    monkeypatch.setattr(widgets, "render", lambda name, key: None)  # no LeNet-5 training
    # the exercises' links are page links, which need the whole app's navigation (not drawn here)
    monkeypatch.setattr(exercise_views, "lesson_exercises", lambda lesson_id, learner: None)
    at = AppTest.from_function(_lesson_three, default_timeout=120)
    at.session_state["learner"] = "learner"  # a learner chosen in this browser
    at.query_params["learner"] = "learner"
    at.run()
    assert not at.exception, at.exception
    assert logic.notebook_path("03_vgg_receptive_fields") is not None
    downloads = at.get("download_button")
    assert any("example notebook" in d.proto.label for d in downloads)
    links = at.get("link_button")
    assert any("colab.research.google.com" in b.proto.url for b in links)


def _lesson_three():
    import quiz
    from app import lesson

    store = quiz.ProgressStore()
    course = quiz.get_course()
    for lesson_id in ("convolution", "alexnet"):  # lesson 3 needs both passed
        questions = quiz.prepare_check(course.lesson(lesson_id), seed=1)
        store.record_check(
            "learner", lesson_id, [quiz.grade(q, quiz.expected_response(q)) for q in questions]
        )
    lesson.render("vgg")
