"""Terminal interface: ``python -m quiz {check,list,take,progress,export,import,roster}``."""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from quiz import exercises as exercises_mod
from quiz import roster
from quiz.data import Course, Question, Result
from quiz.grading import ResponseError, grade, parse_response
from quiz.loader import CONTENT_DIR, ContentError, check_content, load_course
from quiz.mastery import (
    PASS_THRESHOLD,
    check_score,
    is_passing,
    lesson_states,
    newly_unlocked,
    prepare_check,
)
from quiz.store import ProgressStore, StoreError

DEFAULT_LEARNER = "learner"

_HINTS = {
    "single": "type the number of one choice",
    "multiple": "type every right number, separated by commas (e.g. 1,3)",
    "ordering": "type the item numbers in the right order (e.g. 3,1,2,4)",
    "numeric": "type a number",
    "generated": "type a number",
}


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    course, problems = check_content(args.content)
    if problems:
        for problem in problems:
            print(problem, file=out)
        print(f"{len(problems)} problem(s) found", file=out)
        return 1
    n_questions = len(course.questions)
    kinds: dict[str, int] = {}
    for q in course.questions:
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
    n_facts = sum(len(le.facts) for le in course.lessons)
    print(
        f"ok: {len(course.lessons)} lessons, {n_questions} questions, {n_facts} facts, "
        f"{len(course.glossary)} glossary terms, {len(course.faq)} FAQ entries",
        file=out,
    )
    print("questions by kind: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())), file=out)
    root = Path(args.content) if args.content else CONTENT_DIR
    built = exercises_mod.check(root, {le.id for le in course.lessons})[0]
    print(f"exercises: {len(built)}", file=out)
    return 0


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    course = load_course(args.content)
    store = ProgressStore()
    passed = store.passed_lessons(args.learner) if args.learner in store.learners() else set()
    scores = store.lesson_scores(args.learner) if passed or args.learner in store.learners() else {}
    states = lesson_states(course, passed)
    for lesson in course.lessons:
        best = f"  best {scores[lesson.id]:.0%}" if lesson.id in scores else ""
        print(
            f"{lesson.order:2d}. {lesson.id:<20} {states[lesson.id]:<9} {lesson.title} "
            f"({len(lesson.questions)} questions){best}",
            file=out,
        )
    return 0


def _show_question(q: Question, number: int, total: int, out: TextIO) -> None:
    print(f"\n[{number}/{total}] {q.prompt}", file=out)
    if q.kind in ("single", "multiple", "ordering"):
        for i, choice in enumerate(q.choices, start=1):
            print(f"  {i}) {choice}", file=out)
    unit = f" (in {q.unit})" if q.unit and q.kind in ("numeric", "generated") else ""
    print(f"  -> {_HINTS[q.kind]}{unit}", file=out)


def _ask(q: Question, inp: TextIO, out: TextIO) -> Result | None:
    while True:
        print("answer> ", end="", file=out, flush=True)
        line = inp.readline()
        if not line:
            return None
        if not inp.isatty():
            print(line.rstrip("\n"), file=out)
        if not line.strip():
            continue
        try:
            return grade(q, parse_response(q, line))
        except ResponseError as exc:
            print(f"  invalid answer: {exc}; try again", file=out)


def _cmd_take(args: argparse.Namespace, out: TextIO, inp: TextIO) -> int:
    course = load_course(args.content)
    try:
        lesson = course.lesson(args.lesson)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=out)
        return 2
    store = ProgressStore()
    if store.read_only:
        print(
            f"error: the progress store {store.location} is read-only ({store.read_only_reason}), "
            "so a System Check could not be saved. Make it writable, or set KERAS_CNN_HOME "
            "to a writable folder.",
            file=out,
        )
        return 1
    learner = store.add_learner(args.learner)
    passed_before = store.passed_lessons(learner)
    state = lesson_states(course, passed_before)[lesson.id]
    if state == "locked" and not args.force:
        missing = [p for p in lesson.prerequisites if p not in passed_before]
        print(
            f"lesson {lesson.id!r} is locked: pass {', '.join(missing)} first "
            "(or use --force to take it anyway)",
            file=out,
        )
        return 2
    questions = prepare_check(lesson, args.seed)
    print(
        f"System Check {lesson.order}: {lesson.title}\n"
        f"{len(questions)} questions; pass at {PASS_THRESHOLD:.0%}. Learner: {learner}",
        file=out,
    )
    results: list[Result] = []
    for number, q in enumerate(questions, start=1):
        _show_question(q, number, len(questions), out)
        result = _ask(q, inp, out)
        if result is None:
            print("\naborted: end of input; nothing was recorded", file=out)
            return 1
        results.append(result)
        if result.correct:
            verdict = "correct"
        elif result.score > 0:
            verdict = f"partly correct ({result.score:.0%})"
        else:
            verdict = "wrong"
        print(f"  {verdict}. Expected: {result.expected}", file=out)
        print(f"  Why: {result.explanation}", file=out)
        print(f"  (section: {lesson.section(q.section).title})", file=out)
    try:
        record = store.record_check(learner, lesson.id, results)
    except StoreError as exc:  # e.g. the disk filled up while the learner answered
        print(f"\nerror: your answers were graded but not saved: {exc}", file=out)
        return 1
    n_correct = sum(r.correct for r in results)
    score = check_score(results)
    verdict = "PASSED" if is_passing(score) else f"not passed (need {PASS_THRESHOLD:.0%})"
    print(f"\nScore: {score:.0%} ({n_correct}/{len(results)} fully correct) - {verdict}", file=out)
    if record.passed:
        unlocked = newly_unlocked(course, passed_before, lesson.id)
        if unlocked:
            print("Unlocked: " + ", ".join(unlocked), file=out)
    return 0


def _cmd_progress(args: argparse.Namespace, out: TextIO) -> int:
    course = load_course(args.content)
    store = ProgressStore()
    learners = store.learners()
    if not learners:
        print(f"no progress yet ({store.location}{_read_only_note(store)})", file=out)
        return 0
    names = [args.learner] if args.learner else learners
    for name in names:
        if name not in learners:
            print(f"no progress for {name!r}; learners: {', '.join(learners)}", file=out)
            return 1
        _print_progress(course, store, name, out)
    print(f"(store: {store.location}{_read_only_note(store)})", file=out)
    return 0


def _read_only_note(store: ProgressStore) -> str:
    return f"; read-only: {store.read_only_reason}" if store.read_only else ""


def _print_progress(course: Course, store: ProgressStore, learner: str, out: TextIO) -> None:
    passed = store.passed_lessons(learner)
    scores = store.lesson_scores(learner)
    checks = store.checks(learner)
    attempts = store.attempts(learner)
    states = lesson_states(course, passed)
    print(
        f"{learner}: {len(passed)}/{len(course.lessons)} lessons passed, "
        f"{len(checks)} checks submitted, {len(attempts)} answers",
        file=out,
    )
    for lesson in course.lessons:
        tries = sum(1 for c in checks if c.lesson_id == lesson.id)
        best = f"best {scores[lesson.id]:.0%} in {tries} tries" if lesson.id in scores else ""
        line = f"  {lesson.order:2d}. {lesson.id:<20} {states[lesson.id]:<9} {best}"
        print(line.rstrip(), file=out)
    visited = store.last_visited(learner)
    if visited:
        print(f"  last visited: {visited[0]} {visited[1]}".rstrip(), file=out)


def _cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    store = ProgressStore()
    try:
        text = store.export_json(args.learner)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=out)
        return 1
    if not args.output:
        print(text, file=out)
        return 0
    target = Path(args.output)
    new = not os.path.lexists(target)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        if new and target.is_file():  # a part written before the disk was full
            target.unlink()
        print(f"error: cannot write {args.output}: {_write_problem(target, exc)}", file=out)
        return 2
    print(f"exported {args.learner} to {args.output}", file=out)
    return 0


def _write_problem(target: Path, exc: OSError) -> str:
    """Why a file could not be written, in words that say what to do."""
    if isinstance(exc, IsADirectoryError):
        return f"it is a folder; name a file in it, e.g. {target / 'progress.json'}"
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return f"there is no folder {target.parent}"
    return exc.strerror or str(exc)


MAX_IMPORT_BYTES = 16 * 1024 * 1024
"""Largest export ``quiz import`` reads (16 MiB: a learner's export is some kilobytes)."""

_CHUNK = 1 << 20


class _Unreadable(Exception):
    """Internal: a file to import that cannot be read; the message is for the user."""


def _read_export(path: str | Path, limit: int = MAX_IMPORT_BYTES) -> str:
    """Read an export to import: a regular file (or a pipe) of UTF-8 text, at most ``limit`` bytes.

    Devices (``/dev/zero``), folders and sockets are refused before reading; the rest is read
    in chunks of 1 MiB and refused as soon as it passes ``limit``, so nothing is read without
    bound.

    Args:
        path: The file.
        limit: Most bytes accepted. Defaults to :data:`MAX_IMPORT_BYTES`.

    Returns:
        The text.

    Raises:
        _Unreadable: With a one-line reason.
    """
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise _Unreadable(f"{path} is a folder, not an exported file")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise _Unreadable(f"{path} is not a regular file (a device or a socket)")
        chunks, size = [], 0
        with open(path, "rb") as fh:
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise _Unreadable(
                        f"{path} is larger than {limit // (1024 * 1024)} MiB, the most an "
                        "export may be; is it a progress export?"
                    )
                chunks.append(chunk)
    except FileNotFoundError:
        raise _Unreadable(f"no such file: {path}") from None
    except OSError as exc:
        raise _Unreadable(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Unreadable(
            f"{path} is not UTF-8 text (byte {exc.start}); is it an export?"
        ) from None


def _cmd_import(args: argparse.Namespace, out: TextIO) -> int:
    try:
        text = _read_export(args.file)
    except _Unreadable as exc:
        print(f"error: {exc}", file=out)
        return 1
    lessons = [lesson.id for lesson in load_course(args.content).lessons]
    store = ProgressStore()
    try:
        report = store.import_json(text, learner=args.learner, lessons=lessons)
    except ValueError as exc:
        print(f"error: {exc}", file=out)
        return 1
    print(
        f"imported {report.checks} checks and {report.attempts} answers for {report.learner}",
        file=out,
    )
    if report.skipped:
        print(f"skipped {len(report.skipped)} row(s) that could not be trusted:", file=out)
        for line in report.skipped:
            print(f"  {line}", file=out)
    return 0


def _cmd_roster(args: argparse.Namespace, out: TextIO) -> int:
    store = ProgressStore(args.database)
    if args.action == "list":
        members = roster.load(store)
        for m in members:
            print(f"{m.email:<40} {m.role:<10} {m.name}", file=out)
        print(f"{len(members)} on the roster of {store.location}", file=out)
        return 0
    path = Path(args.file)
    try:
        if path.stat().st_size > roster.MAX_ROSTER_BYTES:
            print(f"error: {path} is larger than {roster.MAX_ROSTER_BYTES} bytes", file=out)
            return 1
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {path}: {exc}", file=out)
        return 1
    try:
        members = roster.parse_roster(text, str(path))
    except roster.RosterError as exc:
        for problem in exc.problems:
            print(problem, file=out)
        print(f"{len(exc.problems)} problem(s) found; nothing was imported", file=out)
        return 1
    added, updated, removed = roster.save(store, members, replace=args.replace)
    instructors = sum(m.is_instructor for m in members)
    print(
        f"roster of {store.location}: {added} added, {updated} updated, {removed} removed "
        f"({len(members) - instructors} learners, {instructors} instructors in {path})",
        file=out,
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``python -m quiz``.

    Returns:
        The parser.
    """
    parser = argparse.ArgumentParser(prog="python -m quiz", description=__doc__)
    parser.add_argument("--content", help="content directory (default: the packaged course)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="validate the course content")
    p_list = sub.add_parser("list", help="list the lessons")
    p_list.add_argument("--learner", default=DEFAULT_LEARNER)
    p_take = sub.add_parser("take", help="take a lesson's system check")
    p_take.add_argument("lesson", help="lesson id or number")
    p_take.add_argument("--learner", default=DEFAULT_LEARNER)
    p_take.add_argument("--seed", type=int, default=None, help="seed for order and numbers")
    p_take.add_argument("--force", action="store_true", help="take a locked lesson anyway")
    p_prog = sub.add_parser("progress", help="show progress")
    p_prog.add_argument("--learner", default=None, help="one learner (default: all)")
    p_exp = sub.add_parser("export", help="export a learner's progress as JSON")
    p_exp.add_argument("--learner", default=DEFAULT_LEARNER)
    p_exp.add_argument("-o", "--output", help="file to write (default: standard output)")
    p_imp = sub.add_parser("import", help="import progress exported as JSON")
    p_imp.add_argument("file")
    p_imp.add_argument("--learner", default=None, help="import under another name")
    p_roster = sub.add_parser("roster", help="a class's roster: who may sign in, and as what")
    p_roster.add_argument(
        "--database",
        default=None,
        help="the class database URL (default: KERAS_CNN_DATABASE_URL or secrets.toml)",
    )
    actions = p_roster.add_subparsers(dest="action", required=True)
    p_rimp = actions.add_parser("import", help="add or update people from a CSV: email,name,role")
    p_rimp.add_argument("file")
    p_rimp.add_argument(
        "--replace", action="store_true", help="take off the roster everyone not in the file"
    )
    actions.add_parser("list", help="show the roster")
    return parser


def main(
    argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run the terminal interface.

    Args:
        argv: Arguments (default: ``sys.argv[1:]``).
        stdin: Input for ``take`` (default: ``sys.stdin``).
        stdout: Output (default: ``sys.stdout``).

    Returns:
        The exit status (0 ok, 1 problems or aborted, 2 usage error).
    """
    args = build_parser().parse_args(argv)
    out = stdout or sys.stdout
    inp = stdin or sys.stdin
    try:
        if args.command == "check":
            return _cmd_check(args, out)
        if args.command == "take":
            return _cmd_take(args, out, inp)
        handlers = {
            "list": _cmd_list,
            "progress": _cmd_progress,
            "export": _cmd_export,
            "import": _cmd_import,
            "roster": _cmd_roster,
        }
        return handlers[args.command](args, out)
    except ContentError as exc:
        print(exc, file=out)
        return 1
    except StoreError as exc:
        print(f"error: {exc}", file=out)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=out)
        return 2
