"""Code exercises as data: read and validate ``quiz/content/exercises/*.toml``.

Framework-free (``tomllib`` and ``ast`` only), so ``python -m quiz check`` validates the
exercises without importing Keras, and the grader (:mod:`keras_cnn.exercises.grader`), the
notebook API and the app read the same :class:`Exercise` objects. The file format is described
in ``quiz/content/README.md``; every problem names ``file: id: field: what is wrong``.
"""

from __future__ import annotations

import ast
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keras_cnn.exercises.references import REFERENCES

#: Where the course keeps its exercises (next to its lessons).
EXERCISE_DIR = Path(__file__).resolve().parents[2] / "quiz" / "content" / "exercises"

#: What the learner's function returns, and so how a case is built and graded:
#: ``python`` a value compared with the reference's; ``block`` a tensor, called on
#: ``keras.Input(input_shape)`` and compared as a model; ``model`` a ``keras.Model``;
#: ``train`` a model that must equal the reference and is then trained on the digits.
KINDS = ("python", "block", "model", "train")
#: Fields of a ``[[feedback]]`` rule that must all equal the first difference's to match it
#: (see :class:`keras_cnn.analysis.compare.Difference`).
RULE_KEYS = ("check", "kind", "field", "got", "expected", "ordinal")

_ID = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_KEYS = {
    "id", "lesson", "title", "kind", "function", "parameters", "statement", "starter",
    "solution", "explanation", "reference", "hints", "gates", "requires", "series", "step",
    "cases", "feedback", "mistakes", "train", "solution_after",
}  # fmt: skip
_CASE_KEYS = {"args", "input_shape", "hidden"}
_MISTAKE_KEYS = {"name", "code", "feedback"}
_TRAIN_KEYS = {"epochs", "min_accuracy", "data", "batch_size", "optimizer", "learning_rate"}


@dataclass(frozen=True)
class Case:
    """One set of arguments the learner's function is called with."""

    args: tuple[tuple[str, Any], ...]
    input_shape: tuple[int, ...] | None = None
    hidden: bool = False

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.args)

    def describe(self) -> str:
        """The call in words: ``input 8x8x16, filters=32, stride=2``."""
        parts = ["input " + "x".join(map(str, self.input_shape))] if self.input_shape else []
        parts += [f"{k}={v!r}" for k, v in self.args]
        return ", ".join(parts)


@dataclass(frozen=True)
class Rule:
    """A lesson's words for one kind of difference: matches when the given fields agree."""

    message: str
    when: tuple[tuple[str, Any], ...]

    def matches(self, difference) -> bool:
        def norm(v):
            return tuple(norm(x) for x in v) if isinstance(v, list | tuple) else v

        return all(norm(getattr(difference, k)) == norm(v) for k, v in self.when)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong solution and the words its feedback must contain (a test fixture)."""

    name: str
    code: str
    feedback: str


@dataclass(frozen=True)
class Training:
    """What the ``train`` kind does after the structure passes."""

    epochs: int = 2
    min_accuracy: float = 0.5
    data: str = "digits"
    batch_size: int = 128
    optimizer: str = "sgd"
    learning_rate: float = 0.1


@dataclass(frozen=True)
class Exercise:
    """One code exercise (see the module doc and ``quiz/content/README.md``)."""

    id: str
    lesson: str
    title: str
    kind: str
    function: str
    parameters: tuple[str, ...]
    statement: str
    starter: str
    solution: str
    explanation: str
    reference: str
    hints: tuple[str, ...]
    cases: tuple[Case, ...]
    feedback: tuple[Rule, ...] = ()
    mistakes: tuple[Mistake, ...] = ()
    requires: tuple[str, ...] = ()
    gates: bool = False
    series: str = ""
    step: int = 0
    solution_after: int = 3
    training: Training | None = None
    file: str = ""

    @property
    def visible(self) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if not c.hidden)


@dataclass(frozen=True)
class ExerciseProblem:
    """One validation problem: ``file: id: field: message``."""

    file: str
    item: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.item}: {self.field}: {self.message}"


class ExerciseError(ValueError):
    """The exercise files have problems; ``problems`` lists them all."""

    def __init__(self, problems: list[ExerciseProblem]) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} exercise problem(s):\n" + "\n".join(map(str, problems[:20]))
        )


def _defines(code: str, name: str) -> str | None:
    """None when ``code`` parses and defines a top-level function ``name``; else why not."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"is not valid Python (line {exc.lineno}: {exc.msg})"
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    if name not in names:
        return f"defines no function {name!r} (defines {names or 'none'})"
    return None


class _Reader:
    def __init__(self, problems, file, item):
        self.problems, self.file, self.item = problems, file, item

    def problem(self, field, message):
        self.problems.append(ExerciseProblem(self.file, self.item, field, message))

    def text(self, raw, key, required=True):
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(key, "missing")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(key, "must be a non-empty string")
            return ""
        return value.strip("\n")

    def tables(self, raw, key, allowed):
        """``(where, table)`` for each table of the array ``key`` (unknown fields reported)."""
        for i, table in enumerate(raw.get(key, [])):
            where = f"{key}[{i}]"
            if not isinstance(table, dict):
                self.problem(where, "must be a table")
                continue
            for name in sorted(set(table) - allowed):
                self.problem(
                    where, f"unknown field {name!r} (allowed: {', '.join(sorted(allowed))})"
                )
            yield where, table

    def texts(self, raw, key):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(key, "must be a list of strings")
            return ()
        return tuple(value)


def _parse(path: Path, rel: str, problems: list[ExerciseProblem]) -> Exercise | None:
    try:
        raw = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError) as exc:
        problems.append(ExerciseProblem(rel, "-", "toml", f"cannot read: {exc}"))
        return None
    r = _Reader(problems, rel, raw.get("id") if isinstance(raw.get("id"), str) else "-")
    before = len(problems)
    for key in sorted(set(raw) - _KEYS):
        r.problem(key, f"unknown field (allowed: {', '.join(sorted(_KEYS))})")
    eid = r.text(raw, "id")
    if eid and not _ID.match(eid):
        r.problem("id", f"{eid!r} is not a lowercase id (letters, digits, - and _)")
    if eid and path.stem != eid:
        r.problem("id", f"is {eid!r} but the file is named {path.name}")
    kind = r.text(raw, "kind")
    if kind and kind not in KINDS:
        r.problem("kind", f"unknown kind {kind!r} (expected one of {list(KINDS)})")
    function = r.text(raw, "function")
    if function and not function.isidentifier():
        r.problem("function", f"{function!r} is not a Python name")
    reference = r.text(raw, "reference")
    if reference and reference not in REFERENCES:
        r.problem(
            "reference", f"unknown reference {reference!r} (expected one of {sorted(REFERENCES)})"
        )
    parameters = r.texts(raw, "parameters")
    code = {}
    for key in ("starter", "solution"):
        code[key] = r.text(raw, key)
        if code[key] and function:
            why = _defines(code[key], function)
            if why:
                r.problem(key, why)
    if code["starter"] and "TODO" not in code["starter"]:
        r.problem("starter", "has no '# TODO' telling the learner what to write")
    hints = r.texts(raw, "hints")
    if not hints:
        r.problem("hints", "give at least one hint")
    cases = []
    raw_cases = raw.get("cases", [])
    if not isinstance(raw_cases, list) or not raw_cases:
        r.problem("cases", "needs at least one [[cases]]")
        raw_cases = []
    for where, c in r.tables({"cases": raw_cases}, "cases", _CASE_KEYS):
        args = c.get("args", {})
        if not isinstance(args, dict):
            r.problem(f"{where}.args", "must be a table of parameter = value")
            args = {}
        if list(args) != list(parameters):
            r.problem(
                f"{where}.args",
                f"names {list(args)}; the exercise's parameters are {list(parameters)} (in order)",
            )
        shape = c.get("input_shape")
        if kind == "block":
            if not (
                isinstance(shape, list)
                and shape
                and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in shape)
            ):
                r.problem(
                    f"{where}.input_shape",
                    f"a block case needs a list of positive sizes, got {shape!r}",
                )
                shape = None
        elif shape is not None:
            r.problem(
                f"{where}.input_shape", f"only block cases have one (this exercise is {kind!r})"
            )
            shape = None
        hidden = c.get("hidden", False)
        if not isinstance(hidden, bool):
            r.problem(f"{where}.hidden", f"must be true or false, got {hidden!r}")
            hidden = False
        cases.append(Case(tuple(args.items()), tuple(shape) if shape else None, hidden))
    if cases and all(c.hidden for c in cases):
        r.problem("cases", "every case is hidden: show the learner at least one")
    if cases and not any(c.hidden for c in cases):
        r.problem(
            "cases", "no hidden case: add one that a solution fitted to the visible cases fails"
        )
    rules = []
    for where, f in r.tables(raw, "feedback", {"message", *RULE_KEYS}):
        if not isinstance(f.get("message"), str):
            r.problem(where, "needs a message")
            continue
        when = tuple((k, f[k]) for k in RULE_KEYS if k in f)
        if not when:
            r.problem(where, f"matches every difference: give one of {list(RULE_KEYS)}")
        rules.append(Rule(f["message"].strip(), when))
    mistakes = []
    for where, m in r.tables(raw, "mistakes", _MISTAKE_KEYS):
        name, mcode, words = (m.get(k) for k in ("name", "code", "feedback"))
        if not all(isinstance(v, str) and v.strip() for v in (name, mcode, words)):
            r.problem(where, "needs name, code and feedback (the words its feedback must contain)")
            continue
        why = _defines(mcode, function) if function else None
        if why:
            r.problem(f"{where}.code", why)
        mistakes.append(Mistake(name.strip(), mcode, words.strip()))
    if kind in ("block", "model") and len(mistakes) < 4 and not raw.get("series"):
        r.problem(
            "mistakes",
            f"a block exercise needs at least 4 typical wrong solutions, has {len(mistakes)}",
        )
    training = None
    if kind == "train":
        t = raw.get("train", {})
        if not isinstance(t, dict) or set(t) - _TRAIN_KEYS:
            r.problem("train", f"must be a table of {sorted(_TRAIN_KEYS)}")
            t = {}
        training = Training(**{k: t[k] for k in _TRAIN_KEYS if k in t})
    elif "train" in raw:
        r.problem("train", "only exercises of kind 'train' have a [train] table")
    gates = raw.get("gates", False)
    if not isinstance(gates, bool):
        r.problem("gates", f"must be true or false, got {gates!r}")
    step = raw.get("step", 0)
    series = raw.get("series", "")
    if series and (not isinstance(step, int) or step < 1):
        r.problem("step", "an exercise in a series needs its step number (1, 2, ...)")
    after = raw.get("solution_after", 3)
    if not isinstance(after, int) or isinstance(after, bool) or after < 1:
        r.problem("solution_after", f"must be a positive number of failed tries, got {after!r}")
        after = 3
    if len(problems) > before:
        return None
    return Exercise(
        id=eid,
        lesson=r.text(raw, "lesson"),
        title=r.text(raw, "title"),
        kind=kind,
        function=function,
        parameters=parameters,
        statement=r.text(raw, "statement"),
        starter=code["starter"],
        solution=code["solution"],
        explanation=r.text(raw, "explanation"),
        reference=reference,
        hints=hints,
        cases=tuple(cases),
        feedback=tuple(rules),
        mistakes=tuple(mistakes),
        requires=r.texts(raw, "requires"),
        gates=gates,
        series=series,
        step=step,
        solution_after=after,
        training=training,
        file=rel,
    )


def check_exercises(
    directory: str | Path | None = None, lesson_ids: set[str] | None = None
) -> tuple[list[Exercise], list[ExerciseProblem]]:
    """Read every exercise file and collect all problems.

    Args:
        directory: The exercise directory; defaults to :data:`EXERCISE_DIR`. A missing
            directory has no exercises (and no problem).
        lesson_ids: The course's lesson ids, to check each exercise's ``lesson``.

    Returns:
        The exercises that parsed (in lesson, series-step and file order) and the problems.
    """
    root = Path(directory) if directory is not None else EXERCISE_DIR
    problems: list[ExerciseProblem] = []
    files = sorted(root.glob("*.toml")) if root.is_dir() else []
    exercises = [e for p in files if (e := _parse(p, f"exercises/{p.name}", problems)) is not None]
    ids = {e.id for e in exercises}
    by_series: dict[str, list[Exercise]] = {}
    for e in exercises:
        if lesson_ids is not None and e.lesson not in lesson_ids:
            problems.append(ExerciseProblem(e.file, e.id, "lesson", f"no lesson {e.lesson!r}"))
        for req in e.requires:
            if req not in ids:
                problems.append(ExerciseProblem(e.file, e.id, "requires", f"no exercise {req!r}"))
            elif req == e.id:
                problems.append(ExerciseProblem(e.file, e.id, "requires", "lists itself"))
        if e.series:
            by_series.setdefault(e.series, []).append(e)
    for series, steps in by_series.items():
        numbers = sorted(e.step for e in steps)
        if numbers != list(range(1, len(steps) + 1)):
            problems.append(
                ExerciseProblem(
                    steps[0].file,
                    steps[0].id,
                    "step",
                    f"series {series!r} has steps {numbers}; expected 1 to {len(steps)}",
                )
            )
    return exercises, problems


def load_exercises(directory: str | Path | None = None) -> dict[str, Exercise]:
    """The exercises by id; raises :class:`ExerciseError` listing every problem."""
    exercises, problems = check_exercises(directory)
    if problems:
        raise ExerciseError(problems)
    return {e.id: e for e in exercises}
