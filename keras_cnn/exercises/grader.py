"""Grade a learner's function against the exercise's reference, case by case.

For every case (visible and hidden) the learner's function and the reference are called with
the same arguments; values are compared for a ``python`` exercise, models with
:func:`keras_cnn.compare` otherwise (output shape, parameters, the layers on each path, and
equal outputs with the reference's weights). The first difference is told in the lesson's
words when one of the exercise's ``[[feedback]]`` rules matches it.

Two ways in: :func:`grade` calls the learner's own function (a notebook, the command line:
the learner's own process), :func:`grade_outputs` grades what a sandboxed process built from
code submitted in the browser (``.keras`` files, loaded in safe mode, and JSON values).
"""

from __future__ import annotations

import html
import json
import math
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keras_cnn.exercises.references import REFERENCES
from keras_cnn.exercises.spec import Case, Exercise

if TYPE_CHECKING:
    from keras_cnn.analysis.compare import Comparison

#: The columns of a report, in order: a model exercise's four checks (a python exercise has
#: only "value"; a train exercise adds "training").
COLUMNS = ("output_shape", "params", "layers", "function")
_LABELS = {
    "output_shape": "output shape",
    "params": "parameters",
    "layers": "layers",
    "function": "function",
    "value": "value",
    "training": "training",
    "build": "builds",
}


class SubmissionError(Exception):
    """The learner's code did not produce what the case needs; the message says why."""


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None
    message: str = ""


@dataclass(frozen=True)
class CaseResult:
    index: int
    case: Case
    checks: tuple[Check, ...]
    feedback: str = ""

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def label(self) -> str:
        return f"{'hidden case' if self.case.hidden else 'case'} {self.index + 1}"


@dataclass(frozen=True)
class Report:
    """All cases' checks, the feedback to show, and the hint that goes with it.

    Displays itself as a table in a notebook (``_repr_html_``) and as text (``str``).
    """

    exercise: str
    cases: tuple[CaseResult, ...]
    feedback: str
    hint: str = ""
    accuracy: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.cases) and all(c.passed for c in self.cases)

    def __bool__(self) -> bool:
        return self.passed

    def columns(self) -> list[str]:
        names: list[str] = []
        for c in self.cases:
            for check in c.checks:
                if check.name not in names:
                    names.append(check.name)
        return names

    def rows(self) -> list[dict[str, str]]:
        """One row per case: ``case``, a mark per check (✓ ✗ –) and the case's feedback."""
        rows = []
        for c in self.cases:
            row = {"case": f"{c.label} ({c.case.describe()})" if c.case.describe() else c.label}
            marks = {ch.name: {True: "✓", False: "✗", None: "–"}[ch.passed] for ch in c.checks}
            for name in self.columns():
                row[_LABELS.get(name, name)] = marks.get(name, "")
            row["feedback"] = c.feedback
            rows.append(row)
        return rows

    def __str__(self) -> str:
        head = f"{self.exercise}: {'passed' if self.passed else 'not yet'}"
        rows = self.rows()
        lines = [head]
        if rows:
            keys = list(rows[0])
            widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys[:-1]}
            lines.append("  ".join(k.ljust(widths[k]) for k in keys[:-1]) + "  feedback")
            for r in rows:
                lines.append(
                    "  ".join(r[k].ljust(widths[k]) for k in keys[:-1]) + "  " + r["feedback"]
                )
        if self.accuracy is not None:
            lines.append(f"test accuracy after training: {self.accuracy:.1%}")
        if not self.passed:
            lines.append(f"feedback: {self.feedback}")
            if self.hint:
                lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = self.rows()
        verdict = "✓ passed" if self.passed else "✗ not yet"
        out = [f"<p><b>{html.escape(self.exercise)}</b>: {verdict}</p>"]
        if rows:
            keys = list(rows[0])
            out.append(
                "<table><tr>" + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>"
            )
            for r in rows:
                out.append(
                    "<tr>" + "".join(f"<td>{html.escape(r[k])}</td>" for k in keys) + "</tr>"
                )
            out.append("</table>")
        if self.accuracy is not None:
            out.append(f"<p>Test accuracy after training: {self.accuracy:.1%}</p>")
        if not self.passed:
            out.append(f"<p><b>Feedback:</b> {html.escape(self.feedback)}</p>")
            if self.hint:
                out.append(f"<p><b>Hint:</b> {html.escape(self.hint)}</p>")
        return "".join(out)

    def to_dict(self) -> dict:
        """Plain data (JSON-serializable) for the app's store and display."""
        return {
            "exercise": self.exercise,
            "passed": self.passed,
            "feedback": self.feedback,
            "hint": self.hint,
            "accuracy": self.accuracy,
            "columns": [_LABELS.get(n, n) for n in self.columns()],
            "rows": self.rows(),
        }


def lesson_words(exercise: Exercise, comparison: Comparison) -> str:
    """The first difference in the lesson's words: the first of the exercise's rules (in the
    file's order) that matches a difference; else the comparison's own words for the
    difference to fix first."""
    order = ("inputs", "count", "type", "setting", "output_shape", "params", "function")
    ranked = sorted(comparison.differences, key=lambda d: order.index(d.check))
    for rule in exercise.feedback:  # the file's order is the rules' priority
        for d in ranked:
            if rule.matches(d):
                return rule.message.format(got=_plain(d.got), expected=_plain(d.expected))
    first = comparison.first
    return first.message if first else ""


def _plain(value):
    """(2, 2) -> 2: a setting as a learner writes it."""
    if isinstance(value, tuple) and value and all(v == value[0] for v in value):
        return value[0]
    return value


#: Reference models by (reference, kind, case), built once per process: the comparison only
#: overwrites their weights with the same seeded random values, so a model can be reused.
_REFERENCE_MODELS: dict[tuple, object] = {}
_REFERENCE_LOCKS: dict[tuple, threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()


def _reference_lock(exercise: Exercise, case: Case) -> threading.Lock:
    key = (exercise.reference, exercise.kind, repr(case))  # TOML cases hold lists
    with _LOCKS_LOCK:
        return _REFERENCE_LOCKS.setdefault(key, threading.Lock())


def _reference(exercise: Exercise, case: Case):
    fn = REFERENCES[exercise.reference]
    if exercise.kind == "python":
        return build_case(exercise.kind, fn, case, who="the reference")
    key = (exercise.reference, exercise.kind, repr(case))  # TOML cases hold lists
    if key not in _REFERENCE_MODELS:
        _REFERENCE_MODELS[key] = build_case(exercise.kind, fn, case, who="the reference")
    return _REFERENCE_MODELS[key]


def _check_value(exercise: Exercise, case: Case, value) -> tuple[tuple[Check, ...], str]:
    want = _reference(exercise, case)
    call = f"{exercise.function}({', '.join(f'{k}={v!r}' for k, v in case.args)})"
    same = value == want
    if isinstance(value, float) or isinstance(want, float):
        try:
            same = math.isclose(float(value), float(want), rel_tol=1e-9)
        except (TypeError, ValueError):
            same = False
    if same:
        return (Check("value", True),), ""
    message = f"{call} returned {value!r}; expected {want!r}"
    for rule in exercise.feedback:
        if dict(rule.when).get("check") == "value" and dict(rule.when).get("got", value) == value:
            message = f"{message}. {rule.message}"
            break
    return (Check("value", False, message),), message


def _check_model(exercise: Exercise, case: Case, model) -> tuple[tuple[Check, ...], str]:
    import keras

    from keras_cnn.analysis.compare import CHECKS, compare

    if not isinstance(model, keras.Model):
        raise SubmissionError(
            f"{exercise.function} returned {type(model).__name__}; return a keras.Model"
        )
    with _reference_lock(exercise, case):  # one comparison at a time per reference model
        result = compare(model, _reference(exercise, case), copy=False)
    checks = tuple(
        Check(name, result.checks.get(name), "; ".join(d.message for d in result.failed(name)))
        for name in CHECKS
    )
    return checks, "" if result.equal else lesson_words(exercise, result)


def build_case(kind: str, fn: Callable, case: Case, *, who: str = "your function"):
    """Call ``fn`` for one case: a value (``python``), or a ``keras.Model``.

    A block is called on ``keras.Input(case.input_shape)`` with the case's arguments in
    the exercise's parameter order, and wrapped in a model.

    Raises:
        SubmissionError: when ``fn`` raises or returns something the case cannot use.
    """
    args = [v for _, v in case.args]
    try:
        if kind == "python":
            return fn(*args)
        if kind == "block":
            import keras

            x = keras.Input(tuple(case.input_shape))
            y = fn(x, *args)
            if not isinstance(y, keras.KerasTensor):
                raise SubmissionError(
                    f"{who} returned {type(y).__name__}, not a Keras tensor: return the block's "
                    "output (the tensor after its last layer)"
                )
            return keras.Model(x, y)
        return fn(*args)
    except SubmissionError:
        raise
    except Exception as exc:  # the learner's error, told as such
        raise SubmissionError(_error_message(exc, who)) from exc


def _error_message(exc: BaseException, who: str) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    library = str(Path(__file__).resolve().parents[1])
    mine = [
        f
        for f in frames
        if not f.filename.startswith(library)
        and "site-packages" not in f.filename
        and "dist-packages" not in f.filename
    ]
    line = f" (line {mine[-1].lineno}: {mine[-1].line})" if mine and mine[-1].line else ""
    if mine and not line:
        line = f" (line {mine[-1].lineno})"
    return f"{who} raised {type(exc).__name__}: {exc}{line}"


def _grade_case(
    exercise: Exercise, index: int, case: Case, produce: Callable[[], Any]
) -> CaseResult:
    try:
        made = produce()
        if exercise.kind == "python":
            checks, feedback = _check_value(exercise, case, made)
        else:
            checks, feedback = _check_model(exercise, case, made)
    except SubmissionError as exc:
        checks, feedback = (Check("build", False, str(exc)),), str(exc)
    return CaseResult(index, case, checks, feedback)


def _report(exercise: Exercise, results: list[CaseResult], attempt: int) -> Report:
    failing = [r for r in results if not r.passed]
    feedback = ""
    if failing:
        first = failing[0]
        where = f"{first.label} ({first.case.describe()})" if first.case.describe() else first.label
        feedback = f"{where}: {first.feedback}" if len(exercise.cases) > 1 else first.feedback
    hint = (
        exercise.hints[min(attempt, len(exercise.hints)) - 1] if failing and exercise.hints else ""
    )
    return Report(exercise.id, tuple(results), feedback, hint)


def _train(exercise: Exercise, report: Report, make_model: Callable) -> Report:
    """Train a fresh copy of the learner's first case (the comparison overwrote the graded
    one's weights) and add a ``training`` check."""
    from keras_cnn.training.trainer import train

    t = exercise.training
    history = train(
        make_model(),
        t.data,
        epochs=t.epochs,
        batch_size=t.batch_size,
        optimizer=t.optimizer,
        learning_rate=t.learning_rate,
        record=False,
        verbose=0,
        seed=0,
    )
    accuracy = float(history["test_accuracy"].iloc[-1])
    ok = accuracy >= t.min_accuracy
    check = Check(
        "training",
        ok,
        f"test accuracy {accuracy:.1%} after {t.epochs} epochs"
        + ("" if ok else f" (needs {t.min_accuracy:.0%})"),
    )
    first = report.cases[0]
    cases = (
        CaseResult(
            first.index,
            first.case,
            (*first.checks, check),
            first.feedback or ("" if ok else check.message),
        ),
        *report.cases[1:],
    )
    feedback = report.feedback or ("" if ok else check.message)
    return Report(report.exercise, cases, feedback, report.hint, accuracy)


def grade(
    exercise: Exercise,
    fn: Callable,
    *,
    attempt: int = 1,
    train: bool = True,
    stop_at_failure: bool = False,
) -> Report:
    """Grade the learner's own function (in the learner's process: a notebook, the CLI).

    Args:
        exercise: The exercise.
        fn: The learner's function (``residual_block`` ...).
        attempt: Which try this is (1-based): chooses the progressive hint.
        train: For a ``train`` exercise, train the model once its structure passes.
        stop_at_failure: Grade no case after the first that fails (the report then has
            fewer rows; its feedback is the same).

    Returns:
        A :class:`Report`.
    """
    results = []
    for i, case in enumerate(exercise.cases):
        results.append(
            _grade_case(exercise, i, case, lambda case=case: build_case(exercise.kind, fn, case))
        )
        if stop_at_failure and not results[-1].passed:
            break
    report = _report(exercise, results, attempt)
    if exercise.kind == "train" and report.passed and train:
        report = _train(exercise, report, lambda: build_case(exercise.kind, fn, exercise.cases[0]))
    return report


#: The largest ``config.json`` (a model's architecture) read from a sandbox's ``.keras`` file:
#: a ResNet-152's is under 1 MB, and a zip member may declare any size.
MAX_CONFIG_BYTES = 16 * 2**20


def load_safe(path: str | Path, *, weights: bool = True):
    """Load a ``.keras`` file built by the sandbox in safe mode (no code runs on loading).

    Args:
        path: The ``.keras`` file.
        weights: bool. Load the weights too. The grader does not need them (the function
            check gives every paired layer the reference's weights), so it passes False:
            the architecture (``config.json``) is deserialized in safe mode exactly as
            ``keras.saving.load_model`` does, and the layers keep fresh initial weights.
            Defaults to True (``keras.saving.load_model(path, safe_mode=True)``).

    Raises:
        SubmissionError: for a model Keras refuses in safe mode (a ``Lambda`` layer holds
            Python code) or a file that is not a model.
    """
    import keras

    try:
        if weights:
            return keras.saving.load_model(path, safe_mode=True, compile=False)
        config = json.loads(_read_config(path))
        if not isinstance(config, dict):
            raise ValueError(f"config.json holds a {type(config).__name__}, not a model")
        config["compile_config"] = None
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
        if not isinstance(model, keras.Model):
            raise ValueError(f"config.json describes a {type(model).__name__}, not a model")
        return model
    except Exception as exc:
        text = str(exc)
        if "Lambda" in text or "lambda" in text or "safe_mode" in text:
            raise SubmissionError(
                "your model contains a Lambda layer (Python code inside a layer), which the "
                "grader refuses to load: write the block with keras.layers and keras.ops"
            ) from None
        raise SubmissionError(
            f"the model your code built could not be loaded: {text[:300]}"
        ) from None


def _read_config(path: str | Path) -> bytes:
    import zipfile

    with zipfile.ZipFile(path) as archive, archive.open("config.json") as member:
        data = member.read(MAX_CONFIG_BYTES + 1)  # the declared size may lie
    if len(data) > MAX_CONFIG_BYTES:
        raise ValueError(f"config.json is larger than {MAX_CONFIG_BYTES // 2**20} MB")
    return data


def grade_entry(
    exercise: Exercise, index: int, entry: dict, *, timings: dict | None = None
) -> CaseResult:
    """Grade one case of a sandboxed run: ``entry`` is ``{"model": path}`` (a ``.keras``
    file, whose architecture is loaded in safe mode), ``{"value": json_value}`` or
    ``{"error": message}``. ``timings``, when given, adds the seconds spent loading
    (``load``) and comparing (``compare``)."""
    case = exercise.cases[index]
    spent = {"load": 0.0}

    def produce():
        if "error" in entry:
            raise SubmissionError(str(entry["error"]))
        if exercise.kind == "python":
            return _from_json(entry.get("value"))
        start = time.perf_counter()
        try:
            return load_safe(entry["model"], weights=False)
        finally:
            spent["load"] += time.perf_counter() - start

    start = time.perf_counter()
    result = _grade_case(exercise, index, case, produce)
    if timings is not None:
        timings["load"] = timings.get("load", 0.0) + spent["load"]
        timings["compare"] = (
            timings.get("compare", 0.0) + time.perf_counter() - start - spent["load"]
        )
    return result


def grade_outputs(
    exercise: Exercise,
    outputs: list[dict],
    *,
    attempt: int = 1,
    train: bool = True,
    timings: dict | None = None,
    graded: dict[int, CaseResult] | None = None,
) -> Report:
    """Grade what a sandboxed run built: one entry per case, in order (see
    :func:`grade_entry`). A missing entry (the run stopped early) fails its case.

    Args:
        graded: The cases already graded, by index (:func:`grade_entry` called as the
            run's entries arrived); the others are graded here.
        timings: Gets the seconds spent loading and comparing (see :func:`grade_entry`).
    """
    results = []
    for i in range(len(exercise.cases)):
        if graded and i in graded:
            results.append(graded[i])
            continue
        entry = outputs[i] if i < len(outputs) else {"error": "the run stopped before this case"}
        results.append(grade_entry(exercise, i, entry, timings=timings))
    report = _report(exercise, results, attempt)
    if exercise.kind == "train" and report.passed and train:
        report = _train(exercise, report, lambda: load_safe(outputs[0]["model"]))
    return report


def prepare(exercise: Exercise) -> None:
    """Make the first grading of ``exercise`` as fast as the next: build its reference
    models (kept for the process) and run the grading path once on the first one (save it
    as ``.keras``, load its architecture in safe mode, compare), so the first submission
    pays no first-call cost. The app calls it in the background when an exercise opens."""
    if exercise.kind == "python":
        return
    import tempfile

    from keras_cnn.analysis.compare import compare

    for case in exercise.cases:
        with _reference_lock(exercise, case):
            _reference(exercise, case)
    first = exercise.cases[0]
    with tempfile.TemporaryDirectory(prefix="keras-cnn-prepare-") as folder:
        path = Path(folder) / "reference.keras"
        with _reference_lock(exercise, first):
            _reference(exercise, first).save(path)
        model = load_safe(path, weights=False)
        with _reference_lock(exercise, first):
            compare(model, _reference(exercise, first), copy=False)


def _from_json(value):
    return json.loads(json.dumps(value))
