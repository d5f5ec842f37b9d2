"""Code exercises: the data validates, every reference solution passes, and every typical
wrong solution fails with the lesson's words for its mistake (tested in-process: the grader,
``keras_cnn.exercises.check`` and the command line)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keras_cnn import exercises
from keras_cnn.exercises.grader import grade
from keras_cnn.exercises.spec import check_exercises
from quiz.loader import CONTENT_DIR, check_content

REPO = Path(__file__).resolve().parents[1]
ALL = exercises._all()
#: The exercises issue 21 lists, each in its lesson.
LISTED = {
    "conv_output_size": "convolution",
    "receptive_field": "convolution",
    "lenet5": "convolution",
    "vgg_block": "vgg",
    "inception_block": "inception",
    "conv_bn_relu": "batchnorm",
    "residual_block": "residual",
    "bottleneck": "deep-resnets",
}
BLOCKS = [e.id for e in ALL.values() if e.kind in ("block", "model") and not e.series]
MISTAKES = [(e.id, m.name) for e in ALL.values() for m in e.mistakes]


def test_exercise_files_are_valid_and_placed_in_their_lessons():
    found, problems = check_exercises(lesson_ids={le.id for le in check_content()[0].lessons})
    assert problems == []
    lessons = {e.id: e.lesson for e in found}
    assert {k: lessons.get(k) for k in LISTED} == LISTED
    steps = sorted((e.step, e.id) for e in found if e.series == "resnet20")
    assert [s for s, _ in steps] == [1, 2, 3, 4, 5, 6, 7]
    # each step unlocks the next
    for (_, before), (_, after) in zip(steps, steps[1:], strict=False):
        assert ALL[after].requires == (before,)
    assert not any(e.gates for e in found)  # gating is a content flag, off by default


@pytest.mark.parametrize("exercise_id", BLOCKS)
def test_block_exercises_have_four_typical_wrong_solutions(exercise_id):
    assert len(ALL[exercise_id].mistakes) >= 4


def test_quiz_check_names_file_id_and_field(tmp_path):
    root = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, root)
    bad = root / "exercises" / "residual_block.toml"
    bad.write_text(
        bad.read_text().replace('reference = "residual_block"', 'reference = "resnet_block"')
    )
    elsewhere = root / "exercises" / "vgg_block.toml"
    elsewhere.write_text(elsewhere.read_text().replace('lesson = "vgg"', 'lesson = "vggs"'))
    (root / "exercises" / "broken.toml").write_text('id = "broken"\nkind = "block"\n')
    _, problems = check_content(root)
    text = "\n".join(map(str, problems))
    assert (
        "exercises/residual_block.toml: residual_block: reference: unknown reference 'resnet_block'"
        in text
    )
    assert "exercises/vgg_block.toml: vgg_block: lesson: no lesson 'vggs'" in text
    assert "exercises/broken.toml: broken: function: missing" in text
    proc = subprocess.run(
        [sys.executable, "-m", "quiz", "--content", str(root), "check"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "unknown reference 'resnet_block'" in proc.stdout


@pytest.mark.parametrize("exercise_id", sorted(ALL))
def test_reference_solution_passes(exercise_id):
    exercise = ALL[exercise_id]
    fn = exercises.load_function(exercise, exercise.solution)
    report = grade(exercise, fn, train=False)
    assert report.passed, report.feedback
    assert len(report.cases) == len(exercise.cases) and report.feedback == ""


@pytest.mark.parametrize(("exercise_id", "mistake"), MISTAKES)
def test_typical_wrong_solution_fails_with_its_feedback(exercise_id, mistake):
    exercise = ALL[exercise_id]
    wrong = next(m for m in exercise.mistakes if m.name == mistake)
    fn = exercises.load_function(exercise, wrong.code)
    report = grade(exercise, fn, train=False, stop_at_failure=True)
    assert not report.passed
    assert wrong.feedback in report.feedback
    assert report.hint == exercise.hints[0]


def test_later_attempts_get_later_hints():
    exercise = ALL["residual_block"]
    wrong = exercises.load_function(exercise, exercise.mistakes[0].code)
    hints = [grade(exercise, wrong, attempt=n, train=False).hint for n in (1, 2, 3, 9)]
    assert hints == [*exercise.hints, exercise.hints[-1]]


def test_hidden_cases_catch_a_solution_fitted_to_the_visible_ones():
    exercise = ALL["conv_output_size"]
    table = {(32, 5, 1, 0): 28, (32, 3, 1, 1): 32}  # the visible answers, memorized
    report = grade(exercise, lambda n, k, s, p: table.get((n, k, s, p), 0))
    assert [c.passed for c in report.cases] == [True, True, False, False, False]
    assert report.feedback.startswith("hidden case 3 (n=227, k=11, s=4, p=0)")


def test_an_exception_names_the_learners_line():
    exercise = ALL["vgg_block"]
    code = "def vgg_block(x, filters, convs):\n    return undefined_name\n"
    report = grade(exercise, exercises.load_function(exercise, code, "solution.py"))
    assert "NameError" in report.feedback and "(line 2" in report.feedback
    assert report.cases[0].checks[0].name == "build"


def test_a_block_returning_something_else_is_told_so():
    exercise = ALL["vgg_block"]
    report = grade(exercise, lambda x, filters, convs: [x])
    assert "not a Keras tensor" in report.feedback


def test_notebook_api_starter_check_and_table():
    code = exercises.starter("residual_block")
    assert "# TODO" in code and code._repr_markdown_().startswith("```python")
    exercise = exercises.get("residual_block")
    wrong = exercises.load_function(exercise, exercise.mistakes[0].code)
    report = exercises.check("residual_block", wrong)
    html = report._repr_html_()
    assert "<table>" in html and "the output never adds the shortcut" in html
    assert "✗" in html and "hidden case 3" in html
    text = str(report)
    assert text.startswith("residual_block: not yet") and "hint:" in text
    right = exercises.load_function(exercise, exercise.solution)
    assert exercises.check("residual_block", right).passed
    assert "def residual_block" in exercises.solution("residual_block")
    assert set(exercises.list_exercises()["id"]) == set(ALL)


def test_unknown_exercise_names_the_valid_ones():
    with pytest.raises(
        ValueError, match=r"Did you mean 'residual_block'\?.*Received: exercise_id='residual_blok'"
    ):
        exercises.starter("residual_blok")
    with pytest.raises(TypeError, match="takes your function itself"):
        exercises.check("residual_block", "def residual_block(): ...")


def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "keras_cnn", "exercise", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "PYTHONPATH": str(REPO)},
    )


def test_command_line_exit_codes(tmp_path):
    exercise = ALL["conv_bn_relu"]
    (tmp_path / "right.py").write_text(exercise.solution)
    (tmp_path / "wrong.py").write_text(exercise.mistakes[0].code)
    (tmp_path / "broken.py").write_text("def conv_bn_relu(x:\n")
    (tmp_path / "other.py").write_text("def something_else(x):\n    return x\n")
    right = _cli("check", "conv_bn_relu", "right.py", cwd=tmp_path)
    assert right.returncode == 0, right.stderr
    assert "conv_bn_relu: passed" in right.stdout
    wrong = _cli("check", "conv_bn_relu", "wrong.py", cwd=tmp_path)
    assert wrong.returncode == 1 and "no bias before batch normalization" in wrong.stdout
    for args, words in (
        (("conv_bn_relu", "broken.py"), "broken.py"),
        (("conv_bn_relu", "other.py"), "no function 'conv_bn_relu'"),
        (("conv_bn_relu", "missing.py"), "missing.py"),
        (("conv_bn_rel", "right.py"), "Did you mean 'conv_bn_relu'"),
    ):
        bad = _cli("check", *args, cwd=tmp_path)
        assert bad.returncode == 2 and words in bad.stderr, (args, bad.stderr)
    starter = _cli("starter", "conv_bn_relu", cwd=tmp_path)
    assert starter.returncode == 0 and "# TODO" in starter.stdout


@pytest.mark.slow
def test_the_seven_step_resnet20_equals_build_cifar_resnet_20_and_trains_on_the_digits():
    import keras_cnn

    head = ALL["resnet20_6_head"]
    model = exercises.load_function(head, head.solution)(3, (32, 32, 3), 10)
    result = keras_cnn.compare(model, keras_cnn.build_cifar_resnet(20))
    assert result.equal, str(result)
    assert model.count_params() == 271_098
    step7 = ALL["resnet20_7_train"]
    report = grade(step7, exercises.load_function(step7, step7.solution), train=True)
    assert report.passed, report.feedback
    assert report.accuracy >= step7.training.min_accuracy
    assert [c.name for c in report.cases[0].checks][-1] == "training"
