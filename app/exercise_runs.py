"""The exercise page's work, without Streamlit: the exercises, the sandbox, one Run checks.

A submission from the browser runs in a sandbox worker (``quiz/sandbox.py``): the server only
loads the ``.keras`` files it sends back, in safe mode, and grades them against references it
builds itself (:func:`keras_cnn.exercises.grader.grade_outputs`). The page
(``app/pages/exercises.py``) draws the result.
"""

from __future__ import annotations

import functools
import threading
import time

from keras_cnn.exercises.spec import Exercise, load_exercises
from quiz.sandbox import Outcome, Sandbox


@functools.cache
def exercises() -> dict[str, Exercise]:
    """The course's exercises by id (read once per process)."""
    return load_exercises()


_prepared: set[str] = set()
_prepared_lock = threading.Lock()


def prepare(exercise: Exercise) -> threading.Thread | None:
    """Prepare the exercise's grading in a background thread, once per server process
    (:func:`keras_cnn.exercises.grader.prepare`: its references built, the loading and the
    comparison run once), while the learner reads and types. Returns the thread, or None
    when it was prepared (or is being prepared) already."""
    with _prepared_lock:
        if exercise.id in _prepared:
            return None
        _prepared.add(exercise.id)

    def work() -> None:
        from keras_cnn.exercises.grader import prepare as prepare_grading

        try:
            prepare_grading(exercise)
        except Exception:  # noqa: BLE001 - a first Run checks then pays for it, and says why
            with _prepared_lock:
                _prepared.discard(exercise.id)

    thread = threading.Thread(target=work, name=f"prepare-{exercise.id}", daemon=True)
    thread.start()
    return thread


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
        :class:`quiz.sandbox.Outcome`; ``load`` and ``compare``, the grading's, most of it
        done while the worker built the next case; ``sandbox``, until the worker's last
        line, and ``after``, the grading and training left then).
    """
    from keras_cnn.exercises.grader import grade_entry, grade_outputs

    timings: dict = {}
    graded: dict = {}

    def grade_as_it_comes(index: int, entry: dict) -> None:
        if index < len(exercise.cases):
            graded[index] = grade_entry(exercise, index, entry, timings=timings)

    start = time.perf_counter()
    try:
        outcome: Outcome = sandbox.run(
            code, kind=exercise.kind, function=exercise.function, cases=cases(exercise),
            on_entry=grade_as_it_comes, refill=False,
        )  # fmt: skip
        ran = time.perf_counter()
        try:
            outputs = outcome.outputs
            if not outcome.ok:  # the cases that did not arrive get the reason
                outputs = outputs + [{"error": outcome.message}] * len(exercise.cases)
            report = grade_outputs(
                exercise, outputs, attempt=attempt, timings=timings, graded=graded
            ).to_dict()
        finally:
            outcome.cleanup()
    finally:
        sandbox.refill()  # after grading: a worker's start would share the CPU with it
    end = time.perf_counter()
    timings.update(outcome.timings, sandbox=ran - start, after=end - ran)
    report.update(output=outcome.output, seconds=end - start, cold=outcome.cold, timings=timings)
    return report
