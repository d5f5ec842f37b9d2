"""Write the networks yourself: the course's code exercises, in a notebook or a terminal.

Example:
    >>> from keras_cnn import exercises
    >>> print(exercises.starter("residual_block"))  # the starter code, with its TODOs
    from keras import layers...def residual_block(x, filters, stride):...return y
    >>> def residual_block(x, filters, stride):  # yours  # doctest: +SKIP
    ...     ...
    >>> exercises.check("residual_block", residual_block)  # checks and feedback  # doctest: +SKIP

The exercises are data (``quiz/content/exercises/*.toml``, read by
:mod:`keras_cnn.exercises.spec`); each is graded against a ``keras_cnn`` block or builder
(:mod:`keras_cnn.exercises.references`) by :mod:`keras_cnn.exercises.grader`, which uses
:func:`keras_cnn.compare`. Importing this package loads no framework; checking does.
In a notebook your function runs in your own kernel; the course app runs code submitted in
the browser in a sandboxed process instead (``quiz/sandbox.py``).
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path

from keras_cnn.exercises.spec import Exercise, load_exercises

__all__ = ["Code", "check", "check_file", "get", "hint", "list_exercises", "solution", "starter"]


class Code(str):
    """Python source that shows itself highlighted in a notebook and plain in a terminal."""

    def _repr_markdown_(self) -> str:
        return f"```python\n{self}\n```"

    def __repr__(self) -> str:
        return str(self)


@functools.cache
def _all() -> dict[str, Exercise]:
    return load_exercises()


def get(exercise_id: str) -> Exercise:
    """The exercise with this id.

    Raises:
        ValueError: naming the valid ids (and the closest one) for an unknown id.
    """
    exercises = _all()
    if exercise_id not in exercises:
        close = difflib.get_close_matches(str(exercise_id), exercises, n=1, cutoff=0.5)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise ValueError(
            f"Unknown exercise {exercise_id!r}.{hint} Expected one of {sorted(exercises)}. "
            f"Received: exercise_id={exercise_id!r}"
        )
    return exercises[exercise_id]


def list_exercises():
    """A table of the exercises: id, lesson, title, kind and the function to write."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "id": e.id,
                "lesson": e.lesson,
                "title": e.title,
                "kind": e.kind,
                "function": e.function,
                "requires": ", ".join(e.requires),
            }
            for e in _all().values()
        ]
    )


def starter(exercise_id: str) -> Code:
    """The starter code of an exercise, with its ``# TODO``s."""
    return Code(get(exercise_id).starter)


def solution(exercise_id: str) -> Code:
    """The reference solution (look after trying)."""
    return Code(get(exercise_id).solution)


def hint(exercise_id: str, n: int = 1) -> str:
    """The ``n``-th progressive hint (1-based; the last one once ``n`` passes the end)."""
    hints = get(exercise_id).hints
    return hints[max(1, min(n, len(hints))) - 1]


def check(exercise_id: str, fn, *, attempt: int = 1, train: bool = True):
    """Grade your function: every visible and hidden case, with feedback and a hint.

    Args:
        exercise_id: str. The exercise (``"residual_block"`` ...).
        fn: callable. Your function, with the exercise's signature.
        attempt: int. Which try this is: later tries get later hints. Defaults to 1.
        train: bool. For the training step, train the model once it is right.

    Returns:
        A :class:`keras_cnn.exercises.grader.Report` (``.passed``, ``.feedback``, ``.hint``);
        a notebook shows it as a table.
    """
    from keras_cnn.exercises.grader import grade

    if not callable(fn):
        raise TypeError(
            f"check() takes your function itself (e.g. check({exercise_id!r}, "
            f"{get(exercise_id).function})). Received: fn={fn!r}"
        )
    return grade(get(exercise_id), fn, attempt=attempt, train=train)


def load_function(exercise: Exercise, code: str, filename: str = "<exercise>"):
    """Run ``code`` (in this process) and return the function the exercise asks for.

    Raises:
        SyntaxError: for code that does not parse.
        ValueError: when the code defines no function of the exercise's name.
    """
    namespace: dict = {"__name__": "__exercise__"}
    exec(compile(code, filename, "exec"), namespace)  # noqa: S102 - the learner's own code
    fn = namespace.get(exercise.function)
    if not callable(fn):
        raise ValueError(
            f"the code defines no function {exercise.function!r}: the exercise asks for "
            f"def {exercise.function}({', '.join(exercise.parameters)}) ..."
        )
    return fn


def check_file(exercise_id: str, path: str | Path, *, attempt: int = 1, train: bool = True):
    """Grade the exercise's function defined in a Python file (the learner's own)."""
    exercise = get(exercise_id)
    code = Path(path).read_text()
    return check(
        exercise_id, load_function(exercise, code, str(path)), attempt=attempt, train=train
    )
