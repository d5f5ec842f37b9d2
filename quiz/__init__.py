"""The course half of keras-cnn: lessons and "System Check" quizzes as data, a pure-Python
grading engine, mastery/unlock logic and a durable progress store (a SQLite file, or a
PostgreSQL server for a class).

``quiz`` imports neither TensorFlow, Keras nor Streamlit. Typical use from an app::

    import quiz

    course = quiz.get_course()                       # validated, cached
    store = quiz.ProgressStore()                     # class database, else $KERAS_CNN_HOME
    passed = store.passed_lessons("ada")
    states = quiz.lesson_states(course, passed)      # id -> passed/unlocked/locked
    lesson = course.lesson("vgg")
    questions = quiz.prepare_check(lesson, seed=42)  # shuffled, generated ones rendered
    results = [quiz.grade(q, response) for q, response in zip(questions, responses)]
    record = store.record_check("ada", lesson.id, results)   # record.score, record.passed
"""

from __future__ import annotations

from functools import lru_cache

from quiz.data import (
    QUESTION_KINDS,
    SECTION_KINDS,
    WIDGETS,
    Course,
    Fact,
    FaqEntry,
    GlossaryEntry,
    Lesson,
    Practice,
    Question,
    Result,
    Section,
    Source,
)
from quiz.facts import Check, parse_check
from quiz.generators import GENERATORS, GeneratorError, format_number, render_question
from quiz.grading import (
    GRADERS,
    ResponseError,
    expected_response,
    grade,
    parse_number,
    parse_response,
)
from quiz.loader import CONTENT_DIR, ContentError, Problem, check_content, load_course
from quiz.mastery import (
    LOCKED,
    PASS_THRESHOLD,
    PASSED,
    UNLOCKED,
    Matrix,
    MatrixNode,
    architecture_matrix,
    check_score,
    is_passing,
    lesson_states,
    newly_unlocked,
    next_lesson,
    prepare_check,
    shuffle_choices,
    unlocked_lessons,
)
from quiz.store import (
    Attempt,
    CheckRecord,
    ImportReport,
    ProgressStore,
    StoreError,
    StoreWarning,
    default_path,
)


@lru_cache(maxsize=1)
def get_course() -> Course:
    """The packaged course, loaded and validated once per process.

    Returns:
        The course.

    Raises:
        ContentError: If the packaged content has problems.
    """
    return load_course()


__all__ = [
    "CONTENT_DIR",
    "GENERATORS",
    "GRADERS",
    "LOCKED",
    "PASSED",
    "PASS_THRESHOLD",
    "QUESTION_KINDS",
    "SECTION_KINDS",
    "WIDGETS",
    "UNLOCKED",
    "Attempt",
    "Check",
    "CheckRecord",
    "ContentError",
    "Course",
    "FaqEntry",
    "Fact",
    "GeneratorError",
    "GlossaryEntry",
    "ImportReport",
    "Lesson",
    "Matrix",
    "MatrixNode",
    "Problem",
    "ProgressStore",
    "Question",
    "ResponseError",
    "Result",
    "Section",
    "Practice",
    "Source",
    "StoreError",
    "StoreWarning",
    "architecture_matrix",
    "check_content",
    "check_score",
    "default_path",
    "expected_response",
    "format_number",
    "get_course",
    "grade",
    "is_passing",
    "lesson_states",
    "load_course",
    "newly_unlocked",
    "next_lesson",
    "parse_check",
    "parse_number",
    "parse_response",
    "prepare_check",
    "render_question",
    "shuffle_choices",
    "unlocked_lessons",
]
