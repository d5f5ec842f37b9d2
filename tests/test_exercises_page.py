"""The exercise page without a browser (AppTest): it renders, locks a step until the one
before it is built, keeps the learner's code and tries, and the course and lessons link to it.
The sandbox run itself is tested in tests/test_sandbox.py and, end to end, in
tests/test_browser_exercises.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from keras_cnn.exercises.spec import check_exercises
from quiz import exercises as course_exercises
from quiz.exercise_progress import ExerciseProgress
from quiz.loader import check_content

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
ENTRY = str(ROOT / "streamlit_app.py")
PAGE = "app/pages/exercises.py"


@pytest.fixture(autouse=True)
def _no_sandbox_pool(monkeypatch):
    """The page starts the sandbox's pool when it opens; these tests run no code."""
    monkeypatch.setenv("KERAS_CNN_SANDBOX_POOL", "0")


def _start() -> AppTest:
    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.query_params["learner"] = "learner"
    return at.run()


def _open(exercise_id: str) -> AppTest:
    at = _start()
    at.query_params["id"] = exercise_id
    return at.switch_page(PAGE).run()


def test_exercise_page_renders_the_statement_and_editor():
    at = _open("residual_block")
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Write it yourself"]
    assert any("A basic residual block" in s.value for s in at.subheader)
    assert any("ReLU(F(x) + shortcut)" in m.value for m in at.markdown)
    assert [b.label for b in at.button][:1] == ["Reset to starter"]


def test_a_series_step_is_locked_until_the_step_before_is_built():
    at = _open("resnet20_2_basic_block")
    assert any(
        "locked: pass **ResNet-20, step 1 of 7: the stem** first" in i.value for i in at.info
    )
    ExerciseProgress().record_run("learner", "resnet20_1_stem", "code", True, "")
    at = _open("resnet20_2_basic_block")
    assert not any("locked" in i.value for i in at.info)


def test_progress_keeps_code_tries_and_the_pass(tmp_path):
    work = ExerciseProgress(tmp_path / "x.sqlite")
    work.save_code("Alice", "vgg_block", "draft")
    assert work.work("alice", "vgg_block").code == "draft"  # the store's learner key
    state = work.record_run("Alice", "vgg_block", "v1", False, "no ReLU")
    assert (state.code, state.attempts, state.passed, state.feedback) == ("v1", 1, False, "no ReLU")
    work.record_run("Alice", "vgg_block", "v2", True, "")
    work.record_run("Alice", "vgg_block", "v3", False, "worse")
    state = work.work("Alice", "vgg_block")
    assert (state.code, state.attempts, state.passed) == ("v3", 3, True)  # a pass is kept
    work.reset("Alice", "vgg_block")
    assert work.work("Alice", "vgg_block").code is None and work.built("Alice") == {"vgg_block"}


def test_the_solution_shows_after_a_pass_or_after_failed_tries():
    exercise = {e.id: e for e in check_exercises()[0]}["residual_block"]
    assert not course_exercises.view(exercise, 2, False, set()).show_solution
    after = course_exercises.view(exercise, 3, False, set())
    assert after.show_solution and "after 3 tries" in after.solution_reason
    assert course_exercises.view(exercise, 1, True, set()).show_solution


def test_gating_is_a_content_flag_off_by_default():
    exercises = check_exercises()[0]
    assert course_exercises.gated_passed({"residual"}, exercises, set()) == {"residual"}
    gating = [
        e.__class__(**{**e.__dict__, "gates": True}) for e in exercises if e.id == "residual_block"
    ]
    assert course_exercises.gated_passed({"residual", "vgg"}, gating, set()) == {"vgg"}
    assert course_exercises.gated_passed({"residual"}, gating, {"residual_block"}) == {"residual"}


def test_course_map_counts_built_exercises():
    ExerciseProgress().record_run("learner", "vgg_block", "code", True, "")
    at = _start()
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert "Code exercises built: 1 of 1" in captions  # lesson 3 has one exercise
    assert "Code exercises built: 0 of 8" in captions  # lesson 7: residual_block and the series
    assert check_content()[1] == []


def test_a_gating_exercise_holds_its_lesson_back_until_built(monkeypatch):
    exercises = check_exercises()[0]
    gating = tuple(
        e.__class__(**{**e.__dict__, "gates": True}) if e.id == "lenet5" else e for e in exercises
    )
    monkeypatch.setattr(course_exercises, "_shipped", lambda: gating)
    assert course_exercises.passed_for_unlocking({"convolution"}, "learner") == set()
    ExerciseProgress().record_run("learner", "lenet5", "code", True, "")
    assert course_exercises.passed_for_unlocking({"convolution"}, "learner") == {"convolution"}
    assert course_exercises.passed_for_unlocking({"convolution"}, "other") == set()
