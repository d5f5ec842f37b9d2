"""Seed a simulated class: a roster of N learners and an instructor, and their System Checks.

Each learner has an ability; each question a difficulty (from its id). A learner takes the
lessons in order, up to four tries each, answering a question right with probability
``ability - difficulty + 0.2`` (a wrong answer is a plausible one: another choice, a number
off by a factor, two items swapped), graded by the course's own grader, and stops at the
first lesson failed four times or, now and then, just stops. Some learners never start, and a
few try the exercises. So the instructor page has real questions, stuck learners and spread.

    python benchmarks/seed_class.py --database postgresql://.../course --learners 36
    python benchmarks/seed_class.py --learners 30        # the local SQLite file

Prints one JSON line: learners, checks, answers, seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import quiz  # noqa: E402
from quiz import roster  # noqa: E402
from quiz.data import Result  # noqa: E402

INSTRUCTOR = roster.Member("instructor@school.example", "Course Instructor", roster.INSTRUCTOR)


def difficulty(question_id: str) -> float:
    """A stable difficulty in [0, 0.5) from the question's id."""
    return int(hashlib.sha256(question_id.encode()).hexdigest()[:8], 16) / 2**32 / 2


def wrong_response(question: quiz.Question, rng: random.Random):
    """A plausible wrong response (the first distractor most often)."""
    right = quiz.expected_response(question)
    if question.kind == "single":
        others = [i for i in range(len(question.choices)) if i != right]
        return others[0] if rng.random() < 0.6 else rng.choice(others)
    if question.kind == "multiple":
        flip = rng.randrange(len(question.choices))
        return sorted(set(right) ^ {flip}) or [flip]
    if question.kind == "ordering":
        wrong = list(right)
        i = rng.randrange(len(wrong) - 1)
        wrong[i], wrong[i + 1] = wrong[i + 1], wrong[i]
        return wrong
    return float(right) * rng.choice((2, 0.5, 10)) + (1 if right == 0 else 0)


def answer(question: quiz.Question, ability: float, rng: random.Random) -> Result:
    if rng.random() < ability - difficulty(question.id) + 0.2:
        return quiz.grade(question, quiz.expected_response(question))
    try:
        return quiz.grade(question, wrong_response(question, rng))
    except quiz.ResponseError:
        return quiz.grade(question, quiz.expected_response(question))


def seed_class(store: quiz.ProgressStore, learners: int, seed: int = 0) -> dict[str, int | float]:
    """Write the roster and the simulated learners' checks into ``store``."""
    started = time.perf_counter()
    rng = random.Random(seed)
    course = quiz.get_course()
    members = [
        roster.Member(f"learner{i:02d}@school.example", f"Learner {i:02d}", roster.LEARNER)
        for i in range(1, learners + 1)
    ]
    roster.save(store, [INSTRUCTOR, *members])
    n_checks = n_answers = 0
    for member in members:
        ability = rng.uniform(0.3, 1.0)
        if rng.random() < 0.08:
            continue  # on the roster, never started
        passed: set[str] = set()
        for lesson in course.lessons:
            if not set(lesson.prerequisites) <= passed or rng.random() < 0.1:
                break
            for _ in range(4):
                questions = quiz.prepare_check(lesson, rng.randrange(2**31))
                results = [answer(q, ability, rng) for q in questions]
                record = store.record_check(member.email, lesson.id, results)
                n_checks += 1
                n_answers += len(results)
                if record.passed:
                    passed.add(lesson.id)
                    break
            if lesson.id not in passed:
                break
        if rng.random() < 0.3:
            for k in range(2):
                ok = rng.random() < ability
                exercise = f"{course.lessons[0].id}-exercise-{k + 1}"
                result = Result(exercise, ok, float(ok), "", "", "code")
                store.record_attempt(
                    member.email, course.lessons[0].id, exercise, "code", result, kind="exercise"
                )
                n_answers += 1
    return {
        "learners": learners,
        "checks": n_checks,
        "answers": n_answers,
        "seconds": round(time.perf_counter() - started, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database", default=None, help="database URL or file (default: the store's)"
    )
    parser.add_argument("--learners", type=int, default=36)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.learners < 1:
        parser.error(f"--learners must be at least 1. Received: {args.learners}")
    print(json.dumps(seed_class(quiz.ProgressStore(args.database), args.learners, args.seed)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
