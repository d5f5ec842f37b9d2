"""Mastery, unlocking and the architecture matrix derived from the prerequisite graph.

* A system check is **passed** when the mean score of its questions is at least
  :data:`PASS_THRESHOLD` (80 %).
* A lesson is **unlocked** when all of its prerequisites are passed (lessons without
  prerequisites are always unlocked).
* The **architecture matrix** is the prerequisite graph laid out in columns: a lesson's column
  is the length of the longest prerequisite chain leading to it, so LeNet-5 sits in column 0,
  AlexNet in 1, VGG and Inception side by side in 2, and so on.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from quiz.data import Course, Lesson, Question, Result
from quiz.generators import render_question

PASS_THRESHOLD = 0.8
"""Minimum mean score for a system check to count as passed."""

LOCKED, UNLOCKED, PASSED = "locked", "unlocked", "passed"
"""Lesson states."""


def check_score(results: Iterable[Result]) -> float:
    """Score of a submitted system check: the mean of its question scores.

    Args:
        results: The graded results of one submission.

    Returns:
        The mean score in [0, 1] (0.0 for an empty submission).
    """
    scores = [r.score for r in results]
    return sum(scores) / len(scores) if scores else 0.0


def is_passing(score: float) -> bool:
    """Whether a system-check score passes.

    Args:
        score: Mean score in [0, 1].

    Returns:
        ``score >= PASS_THRESHOLD`` (with a tiny allowance for floating-point noise).
    """
    return score >= PASS_THRESHOLD - 1e-12


def unlocked_lessons(course: Course, passed: Collection[str]) -> set[str]:
    """Ids of the lessons whose prerequisites are all passed.

    Args:
        course: The course.
        passed: Ids of the lessons whose system check the learner passed.

    Returns:
        The unlocked lesson ids (passed lessons included).
    """
    passed = set(passed)
    return {le.id for le in course.lessons if all(p in passed for p in le.prerequisites)}


def lesson_states(course: Course, passed: Collection[str]) -> dict[str, str]:
    """State of every lesson for a learner.

    Args:
        course: The course.
        passed: Ids of the passed lessons.

    Returns:
        Lesson id -> ``"passed"``, ``"unlocked"`` or ``"locked"``, in course order.
    """
    unlocked = unlocked_lessons(course, passed)
    return {
        le.id: PASSED if le.id in passed else UNLOCKED if le.id in unlocked else LOCKED
        for le in course.lessons
    }


def next_lesson(course: Course, passed: Collection[str]) -> Lesson | None:
    """The first unlocked lesson not yet passed, in course order.

    Args:
        course: The course.
        passed: Ids of the passed lessons.

    Returns:
        The lesson, or ``None`` when everything is passed.
    """
    states = lesson_states(course, passed)
    for lesson in course.lessons:
        if states[lesson.id] == UNLOCKED:
            return lesson
    return None


def newly_unlocked(course: Course, passed_before: Collection[str], lesson_id: str) -> list[str]:
    """Lessons that passing ``lesson_id`` unlocks.

    Args:
        course: The course.
        passed_before: Lessons passed before this one.
        lesson_id: The lesson just passed.

    Returns:
        Ids of lessons unlocked now that were locked before, in course order.
    """
    before = unlocked_lessons(course, passed_before)
    after = unlocked_lessons(course, set(passed_before) | {lesson_id})
    return [le.id for le in course.lessons if le.id in after and le.id not in before]


@dataclass(frozen=True)
class MatrixNode:
    """One node of the architecture matrix.

    Attributes:
        lesson_id: The lesson.
        label: Node label (the lesson's ``node``, e.g. ``"VGG"``).
        title: Lesson title.
        year: Year of the architecture (0 if none).
        column: Longest prerequisite chain to this lesson (0 for roots).
        row: Position within the column (by course order).
        models: Registry models of the lesson.
        state: ``"passed"``, ``"unlocked"`` or ``"locked"``.
    """

    lesson_id: str
    label: str
    title: str
    year: int
    column: int
    row: int
    models: tuple[str, ...]
    state: str


@dataclass(frozen=True)
class Matrix:
    """The architecture matrix: nodes and prerequisite edges ``(from_lesson, to_lesson)``."""

    nodes: tuple[MatrixNode, ...]
    edges: tuple[tuple[str, str], ...]

    def columns(self) -> list[list[MatrixNode]]:
        """Nodes grouped by column, each column ordered by row.

        Returns:
            One list of nodes per column, left to right.
        """
        width = max((n.column for n in self.nodes), default=-1) + 1
        cols: list[list[MatrixNode]] = [[] for _ in range(width)]
        for node in sorted(self.nodes, key=lambda n: (n.column, n.row)):
            cols[node.column].append(node)
        return cols


def architecture_matrix(course: Course, passed: Collection[str] = ()) -> Matrix:
    """Derive the architecture matrix (LeNet -> AlexNet -> VGG / Inception -> ResNet ...).

    Args:
        course: A validated course (prerequisites acyclic).
        passed: Ids of the lessons the learner passed (sets each node's state).

    Returns:
        The matrix.
    """
    by_id = {le.id: le for le in course.lessons}
    depth: dict[str, int] = {}

    def column(lesson_id: str) -> int:
        if lesson_id not in depth:
            pres = [p for p in by_id[lesson_id].prerequisites if p in by_id]
            depth[lesson_id] = 1 + max((column(p) for p in pres), default=-1)
        return depth[lesson_id]

    states = lesson_states(course, passed)
    rows: dict[int, int] = {}
    nodes = []
    for lesson in course.lessons:
        col = column(lesson.id)
        row = rows.get(col, 0)
        rows[col] = row + 1
        nodes.append(
            MatrixNode(
                lesson_id=lesson.id,
                label=lesson.node,
                title=lesson.title,
                year=lesson.year,
                column=col,
                row=row,
                models=lesson.models,
                state=states[lesson.id],
            )
        )
    edges = tuple((p, le.id) for le in course.lessons for p in le.prerequisites if p in by_id)
    return Matrix(nodes=tuple(nodes), edges=edges)


def shuffle_choices(question: Question, rng: random.Random) -> Question:
    """Present the choices (or items to order) of a question in a random order.

    Args:
        question: A question; kinds without choices are returned unchanged.
        rng: Random source.

    Returns:
        A copy with permuted ``choices`` and the ``answer`` remapped to the new indices.
    """
    if question.kind not in ("single", "multiple", "ordering") or question.answer is None:
        return question
    perm = rng.sample(range(len(question.choices)), len(question.choices))
    new_index = {old: new for new, old in enumerate(perm)}
    choices = tuple(question.choices[old] for old in perm)
    if question.kind == "single":
        answer: object = new_index[question.answer]
    elif question.kind == "multiple":
        answer = tuple(sorted(new_index[a] for a in question.answer))
    else:
        answer = tuple(new_index[a] for a in question.answer)
    return dataclasses.replace(question, choices=choices, answer=answer)


def prepare_check(
    lesson: Lesson, seed: int | None = None, *, shuffle: bool = True
) -> tuple[Question, ...]:
    """The questions of a lesson's system check for one attempt.

    Generated questions are rendered (numbers drawn); with ``shuffle`` the question order and the
    order of each question's choices are randomised. The same seed gives the same questions,
    choices and numbers, so an attempt can be reproduced.

    Args:
        lesson: The lesson.
        seed: Random seed (``None`` for fresh randomness).
        shuffle: Whether to shuffle the questions and their choices.

    Returns:
        Ready-to-grade questions.
    """
    rng = random.Random(seed)
    questions: Sequence[Question] = list(lesson.questions)
    if shuffle:
        questions = rng.sample(questions, len(questions))
    prepared = []
    for q in questions:
        q = render_question(q, rng)
        prepared.append(shuffle_choices(q, rng) if shuffle else q)
    return tuple(prepared)
