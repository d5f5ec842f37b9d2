"""What a learner types in ``python -m quiz take``: right or wrong answers to a check."""

from __future__ import annotations

from quiz import get_course
from quiz.data import Question
from quiz.grading import expected_response
from quiz.mastery import prepare_check


def typed(question: Question, correct: bool = True) -> str:
    """What a learner types to answer ``question`` (1-based numbers)."""
    response = expected_response(question)
    if question.kind in ("numeric", "generated"):
        return repr(response if correct else response * 3 + 1000)
    if question.kind == "single":
        index = response if correct else (response + 1) % len(question.choices)
        return str(index + 1)
    if question.kind == "multiple":
        if not correct:
            response = [i for i in range(len(question.choices)) if i not in response]
        return ",".join(str(i + 1) for i in response)
    order = response if correct else list(reversed(response))
    return ",".join(str(i + 1) for i in order)


def answers(lesson_id: str, seed: int, wrong: int = 0) -> str:
    questions = prepare_check(get_course().lesson(lesson_id), seed)
    return "".join(typed(q, correct=i >= wrong) + "\n" for i, q in enumerate(questions))
