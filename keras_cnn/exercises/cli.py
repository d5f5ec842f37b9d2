"""``python -m keras_cnn exercise {list,starter,check}``: the exercises in a terminal.

``check ID FILE`` grades the exercise's function defined in FILE (run in this process: it is
the learner's own code on the learner's machine), prints the table of checks, the feedback and
a hint, and exits 0 when every case passes, 1 when one does not, 2 for an unknown id or a file
that cannot be read, does not parse, or defines no function of the exercise's name.
"""

from __future__ import annotations

import argparse
import sys

HELP = "list, show or check the course's code exercises"


def add_parser(sub) -> None:
    p = sub.add_parser("exercise", help=HELP, description=__doc__)
    actions = p.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="list the exercises")
    starter = actions.add_parser("starter", help="print an exercise's starter code")
    starter.add_argument("id")
    check = actions.add_parser("check", help="grade your solution file")
    check.add_argument("id", help="exercise id, e.g. residual_block (see `exercise list`)")
    check.add_argument("file", help="a Python file defining the exercise's function")
    check.add_argument("--attempt", type=int, default=1, help="which try (chooses the hint)")
    check.add_argument("--no-train", action="store_true", help="skip the training step's run")


def run(args: argparse.Namespace) -> int:
    from keras_cnn import exercises

    if args.action == "list":
        print(exercises.list_exercises().to_string(index=False))
        return 0
    try:
        exercise = exercises.get(args.id)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.action == "starter":
        print(exercise.starter)
        return 0
    try:
        with open(args.file, encoding="utf-8") as fh:
            code = fh.read()
        fn = exercises.load_function(exercise, code, args.file)
    except OSError as error:
        print(f"error: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    except SyntaxError as error:
        print(f"error: {args.file} line {error.lineno}: {error.msg}", file=sys.stderr)
        return 2
    except Exception as error:  # the file's own top-level code failed, or no function
        print(f"error: {args.file}: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    report = exercises.check(args.id, fn, attempt=args.attempt, train=not args.no_train)
    print(report)
    return 0 if report.passed else 1
