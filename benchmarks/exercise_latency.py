"""How long does Run checks take? A block exercise submitted as the browser does.

    python benchmarks/exercise_latency.py [--exercise residual_block] [--repeats 3]

Runs the exercise's reference solution through the app's path (``app.exercise_runs``: a
sandbox worker builds and saves each case's model, the server loads them in safe mode and
grades them) and prints:

* **cold**: a sandbox with no pre-started worker, so the submission waits for a worker to start,
  confine itself and import Keras (what the first learner after a server start sees if the pool
  is not ready yet);
* **warm**: the median of ``--repeats`` submissions, each taken by a pre-started worker (the pool
  refills between them); goal: under 3 s on the course's 2-core machine;
* **in-process**: the same grading with the learner's function called in this process
  (``keras_cnn.exercises.check``, the notebook path), measured in the same run: warm / in-process
  is the sandbox's overhead.

and where a warm run's seconds go (``report["timings"]``): the worker running the code,
building and saving each case's model (its own account); the server writing the models out,
loading their architectures in safe mode and comparing them (with the function check), most
of it while the worker builds the next case; the wall-clock until the worker's last line and
the grading left after it.

Measured on the course's 2-core machine (AMD EPYC, TensorFlow 2.21, Keras 3.15), 5 repeats (inception_block 3):

=================  ==========  =====  ===========  ============
exercise           load avg.   warm   cold         in-process
=================  ==========  =====  ===========  ============
residual_block     4.4         1.03   13.65        0.46 (2.2x)
inception_block    6.2         1.24   9.31         0.51 (2.4x)
=================  ==========  =====  ===========  ============

(before the grading overlapped the building and skipped the weights: residual_block 3.17 s
warm at load 0.1, 6.9 s at load 14-20). A warm residual_block run: the worker builds 0.46 s
and saves 0.32 s, the server loads 0.40 s and compares 0.30 s while the worker builds; what
is left is the worker's own work and the last case's grading. See docs/exercises.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app import exercise_runs  # noqa: E402
from keras_cnn import exercises  # noqa: E402
from quiz.sandbox import Sandbox  # noqa: E402

GOAL_S = 3.0
#: A warm run's parts (medians; the worker's own are as it tells them).
PARTS = (
    ("exec", "  worker runs the code"),
    ("build", "  worker builds the models"),
    ("save", "  worker saves them (.keras)"),
    ("files", "  models written out"),
    ("load", "  safe-mode loading"),
    ("compare", "  comparing (with the function)"),
    ("graded", "  grading while the worker builds"),
    ("sandbox", "  until the worker's last line"),
    ("after", "  grading after it"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="residual_block")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    exercise = exercises.get(args.exercise)
    code = exercise.solution

    # The server process has Keras imported and the grader warmed (the app prewarms it).
    fn = exercises.load_function(exercise, code)
    exercises.check(args.exercise, fn, train=False)
    in_process = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        assert exercises.check(args.exercise, fn, train=False).passed
        in_process.append(time.perf_counter() - start)

    with Sandbox(size=0) as cold_pool:
        report = exercise_runs.run_checks(exercise, code, cold_pool, 1)
        assert report["passed"] and report["cold"], report["feedback"]
        cold = report["seconds"]

    warm, parts = [], []
    with Sandbox(size=1) as pool:
        for _ in range(args.repeats):
            pool.warm()
            report = exercise_runs.run_checks(exercise, code, pool, 1)
            assert report["passed"] and not report["cold"], report["feedback"]
            warm.append(report["seconds"])
            parts.append(report["timings"])

    median = statistics.median(warm)
    reference = statistics.median(in_process)
    print(f"exercise: {args.exercise} ({len(exercise.cases)} cases), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'':<34}{'seconds':>10}")
    print(f"{'cold (worker starts)':<34}{cold:>10.2f}")
    print(
        f"{'warm, median':<34}{median:>10.2f}   goal {GOAL_S:.0f} s: "
        f"{'met' if median <= GOAL_S else 'NOT met'} (ratio {median / GOAL_S:.2f})"
    )
    for key, label in PARTS:
        values = [p.get(key, 0.0) for p in parts]
        print(f"{label:<34}{statistics.median(values):>10.2f}")
    print(
        f"{'in-process (notebook)':<34}{reference:>10.2f}   warm / in-process = {median / reference:.2f}"
    )


if __name__ == "__main__":
    main()
