"""The grader's side of a sandboxed run, without a sandbox: the ``.keras`` files it gets back
are loaded in safe mode (the architecture only: the function check gives every layer the
reference's weights), a Lambda layer and an oversized or broken file are refused with a
message, and the weights a file carries change no verdict."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest

from keras_cnn import exercises
from keras_cnn.exercises.grader import (
    MAX_CONFIG_BYTES,
    SubmissionError,
    build_case,
    grade_outputs,
    load_safe,
)

EXERCISE = exercises.get("conv_bn_relu")


def _saved(tmp_path, code: str) -> list[dict]:
    fn = exercises.load_function(EXERCISE, code)
    outputs = []
    for i, case in enumerate(EXERCISE.cases):
        path = tmp_path / f"case{i}.keras"
        build_case(EXERCISE.kind, fn, case).save(path)
        outputs.append({"model": str(path)})
    return outputs


def test_files_graded_from_their_architecture_pass_and_fail_as_in_a_notebook(tmp_path):
    timings: dict = {}
    right = grade_outputs(EXERCISE, _saved(tmp_path, EXERCISE.solution), timings=timings)
    assert right.passed, right.feedback
    assert set(timings) == {"load", "compare"} and all(v > 0 for v in timings.values())
    mistake = EXERCISE.mistakes[0]
    wrong = grade_outputs(EXERCISE, _saved(tmp_path, mistake.code))
    assert not wrong.passed and mistake.feedback in wrong.feedback


def test_the_architecture_loads_without_the_files_weights(tmp_path):
    outputs = _saved(tmp_path, EXERCISE.solution)
    full = load_safe(outputs[0]["model"])
    bare = load_safe(outputs[0]["model"], weights=False)
    assert bare.to_json() == full.to_json()
    # the saved weights (all 0.25) come back only with weights=True
    for w in full.weights:
        w.assign(np.full(w.shape, 0.25, dtype="float32"))
    full.save(tmp_path / "set.keras")
    assert all(
        np.all(w.numpy() != 0.25) for w in load_safe(tmp_path / "set.keras", weights=False).weights
    )
    assert all(np.all(w.numpy() == 0.25) for w in load_safe(tmp_path / "set.keras").weights)
    # ... and a file whose weights are nonsense grades the same as the right one
    assert grade_outputs(EXERCISE, [{"model": str(tmp_path / "set.keras")}, *outputs[1:]]).passed


def test_a_lambda_layer_is_refused_when_only_the_architecture_is_loaded(tmp_path):
    x = keras.Input((4, 4, 3))
    model = keras.Model(x, keras.layers.Lambda(lambda t: t * 0 + 1)(x))
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(SubmissionError, match="Lambda layer"):
        load_safe(tmp_path / "lambda.keras", weights=False)


@pytest.mark.parametrize(
    "member, data, words",
    [
        ("config.json", b" " * (MAX_CONFIG_BYTES + 1), "larger than 16 MB"),
        ("config.json", b"[1, 2]", "not a model"),
        ("weights.h5", b"", "could not be loaded"),
    ],
)
def test_a_broken_file_is_refused_with_a_message(tmp_path, member, data, words):
    path = tmp_path / "case0.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, data)
    with pytest.raises(SubmissionError, match=words):
        load_safe(path, weights=False)


def test_opening_an_exercise_prepares_its_grading_once_in_the_background(monkeypatch):
    """The page calls exercise_runs.prepare: the references get built (and the loading and
    comparison run once) in a thread, so the first Run checks finds them ready."""
    from app import exercise_runs
    from keras_cnn.exercises import grader

    monkeypatch.setattr(grader, "_REFERENCE_MODELS", {})
    monkeypatch.setattr(exercise_runs, "_prepared", set())
    thread = exercise_runs.prepare(EXERCISE)
    assert thread is not None and exercise_runs.prepare(EXERCISE) is None
    thread.join(120)
    assert len(grader._REFERENCE_MODELS) == len(EXERCISE.cases)
    assert all(isinstance(m, keras.Model) for m in grader._REFERENCE_MODELS.values())
