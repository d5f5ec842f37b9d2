"""The exercise page's work, without Streamlit: the exercises, the sandbox, one Run checks.

A submission from the browser runs in a sandbox worker (``quiz/sandbox.py``): the server only
loads the ``.keras`` files it sends back, in safe mode, and grades them against references it
builds itself (:func:`keras_cnn.exercises.grader.grade_outputs`). The page
(``app/pages/exercises.py``) draws the result.
"""

from __future__ import annotations

import functools
import time

from keras_cnn.exercises.spec import Exercise, load_exercises
from quiz.sandbox import Outcome, Sandbox


@functools.cache
def exercises() -> dict[str, Exercise]:
    """The course's exercises by id (read once per process)."""
    return load_exercises()


def cases(exercise: Exercise) -> list[dict]:
    """The cases as the sandbox's worker takes them (plain JSON)."""
    return [
        {
            "args": [[k, v] for k, v in c.args],
            "input_shape": list(c.input_shape) if c.input_shape else None,
        }
        for c in exercise.cases
    ]


def run_checks(exercise: Exercise, code: str, sandbox: Sandbox, attempt: int) -> dict:
    """Run the learner's code in the sandbox and grade what it built.

    Returns:
        The report as plain data (:meth:`keras_cnn.exercises.grader.Report.to_dict`), with
        ``output`` (what the code printed), ``seconds``, ``cold`` (no worker was ready) and
        ``timings`` (where the seconds went: the sandbox's parts, see
        :class:`quiz.sandbox.Outcome`, then ``sandbox``, ``grading``, and within grading
        ``load`` and ``compare``).
    """
    from keras_cnn.exercises.grader import grade_outputs

    start = time.perf_counter()
    try:
        outcome: Outcome = sandbox.run(
            code, kind=exercise.kind, function=exercise.function, cases=cases(exercise),
            refill=False,
        )  # fmt: skip
        ran = time.perf_counter()
        timings = dict(outcome.timings)
        try:
            outputs = outcome.outputs if outcome.ok else []
            if not outcome.ok:
                outputs = [{"error": outcome.message}] * len(exercise.cases)
            report = grade_outputs(exercise, outputs, attempt=attempt, timings=timings).to_dict()
        finally:
            outcome.cleanup()
    finally:
        sandbox.refill()  # after grading: a worker's start would share the CPU with it
    end = time.perf_counter()
    timings.update(sandbox=ran - start, grading=end - ran)
    report.update(output=outcome.output, seconds=end - start, cold=outcome.cold, timings=timings)
    return report
