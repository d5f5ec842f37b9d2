"""Load the course from TOML files and validate it.

Layout of the content directory (default: ``quiz/content`` inside the package)::

    lessons/NN_slug.toml   one lesson per file (NN = its order): :mod:`quiz.lessons`
    glossary.toml          [[terms]] term, definition, lesson, see_also
    faq.toml               [[entries]] id, question, answer, lessons
    exercises/             the code exercises: :mod:`quiz.exercises`

Validation never stops at the first mistake: every problem is collected as a :class:`Problem`
naming the file, the lesson/question/term id and the field, so an instructor sees them all
(:mod:`quiz.problems`). This module checks what spans the files: lesson ids, orders and
question ids unique, prerequisites that exist and form no cycle, the glossary and FAQ.
"""

from __future__ import annotations

from pathlib import Path

from quiz import exercises as exercises_mod
from quiz.data import Course, FaqEntry, GlossaryEntry, Lesson
from quiz.lessons import (
    E_NOTATION_BELOW,
    E_NOTATION_FROM,
    LESSON_FILE_PATTERN,
    MAX_KEY_LENGTH_RATIO,
    MAX_LONGEST_KEY_SHARE,
    MAX_RECALL_SHARE,
    NOTEBOOK_PATTERN,
    PRACTICE_PER_LESSON,
    TEMPLATE_TRIALS,
    parse_lesson,
)
from quiz.problems import ID_PATTERN, MAX_CONTENT_BYTES, ContentError, Problem, Reader, read_toml

CONTENT_DIR = Path(__file__).resolve().parent / "content"
"""The course content shipped with the package."""

MIN_QUESTIONS_PER_LESSON = 8
"""Every lesson's system check needs at least this many questions."""


__all__ = [
    "CONTENT_DIR",
    "E_NOTATION_BELOW",
    "E_NOTATION_FROM",
    "ID_PATTERN",
    "LESSON_FILE_PATTERN",
    "MAX_CONTENT_BYTES",
    "MAX_KEY_LENGTH_RATIO",
    "MAX_LONGEST_KEY_SHARE",
    "MAX_RECALL_SHARE",
    "MIN_QUESTIONS_PER_LESSON",
    "NOTEBOOK_PATTERN",
    "PRACTICE_PER_LESSON",
    "TEMPLATE_TRIALS",
    "ContentError",
    "Problem",
    "check_content",
    "load_course",
]


def _find_cycle(graph: dict[str, tuple[str, ...]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt in graph and state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return None


def _check_course(lessons: list[Lesson], problems: list[Problem]) -> None:
    ids: dict[str, Lesson] = {}
    for lesson in lessons:
        if lesson.id in ids:
            problems.append(
                Problem(
                    lesson.file,
                    lesson.id,
                    "id",
                    f"duplicate lesson id (also in {ids[lesson.id].file})",
                )
            )
        else:
            ids[lesson.id] = lesson
    orders: dict[int, str] = {}
    for lesson in lessons:
        if lesson.order in orders:
            problems.append(
                Problem(
                    lesson.file,
                    lesson.id,
                    "order",
                    f"{lesson.order} also used by {orders[lesson.order]}",
                )
            )
        orders[lesson.order] = lesson.file
    seen_questions: dict[str, str] = {}
    for lesson in lessons:
        for pre in lesson.prerequisites:
            if pre not in ids:
                problems.append(
                    Problem(lesson.file, lesson.id, "prerequisites", f"no lesson {pre!r}")
                )
            elif pre == lesson.id:
                problems.append(Problem(lesson.file, lesson.id, "prerequisites", "lists itself"))
        if len(lesson.questions) < MIN_QUESTIONS_PER_LESSON:
            problems.append(
                Problem(
                    lesson.file,
                    lesson.id,
                    "questions",
                    f"{len(lesson.questions)} valid questions, need at least {MIN_QUESTIONS_PER_LESSON}",
                )
            )
        for q in lesson.questions:
            if q.id in seen_questions:
                problems.append(
                    Problem(
                        lesson.file,
                        q.id,
                        "id",
                        f"duplicate question id (also in {seen_questions[q.id]})",
                    )
                )
            else:
                seen_questions[q.id] = lesson.file
    cycle = _find_cycle({le.id: le.prerequisites for le in lessons})
    if cycle:
        first = ids[cycle[0]]
        problems.append(
            Problem(first.file, first.id, "prerequisites", "cycle: " + " -> ".join(cycle))
        )


def _list_file(path: Path, key: str, problems: list[Problem]) -> list[dict]:
    """The tables under ``key`` of a glossary/FAQ file; [] (and a problem) when unreadable."""
    rel = path.name
    raw = read_toml(path, rel, problems)
    if raw is None:
        return []
    top = Reader(problems, rel, "-")
    top.unknown(raw, {key})
    return top.tables(raw, key)


def _parse_glossary(
    path: Path, lesson_ids: set[str], problems: list[Problem]
) -> list[GlossaryEntry]:
    rel = path.name
    entries = []
    for i, raw_t in enumerate(_list_file(path, "terms", problems)):
        r = Reader(problems, rel, raw_t.get("term") or f"terms[{i}]")
        r.unknown(raw_t, {"term", "definition", "lesson", "see_also"})
        lesson = r.text(raw_t, "lesson", required=False)
        if lesson and lesson not in lesson_ids:
            r.problem("lesson", f"no lesson {lesson!r}")
        for field in ("term", "definition"):
            r.prose(field, r.text(raw_t, field, required=False))
        entries.append(
            GlossaryEntry(
                term=r.text(raw_t, "term"),
                definition=r.text(raw_t, "definition"),
                lesson=lesson,
                see_also=tuple(r.texts(raw_t, "see_also")),
            )
        )
    terms = [e.term.lower() for e in entries]
    for term in sorted({t for t in terms if terms.count(t) > 1}):
        problems.append(Problem(rel, term, "term", "duplicate term"))
    for entry in entries:
        for other in entry.see_also:
            if other.lower() not in terms:
                problems.append(Problem(rel, entry.term, "see_also", f"no term {other!r}"))
    return entries


def _parse_faq(path: Path, lesson_ids: set[str], problems: list[Problem]) -> list[FaqEntry]:
    rel = path.name
    entries = []
    for i, raw_e in enumerate(_list_file(path, "entries", problems)):
        r = Reader(problems, rel, raw_e.get("id") or f"entries[{i}]")
        r.unknown(raw_e, {"id", "question", "answer", "lessons"})
        lessons = r.texts(raw_e, "lessons")
        for lesson in lessons:
            if lesson not in lesson_ids:
                r.problem("lessons", f"no lesson {lesson!r}")
        for field in ("question", "answer"):
            r.prose(field, r.text(raw_e, field, required=False))
        entries.append(
            FaqEntry(
                id=r.text(raw_e, "id"),
                question=r.text(raw_e, "question"),
                answer=r.text(raw_e, "answer"),
                lessons=tuple(lessons),
            )
        )
    ids = [e.id for e in entries]
    for fid in sorted({i for i in ids if ids.count(i) > 1}):
        problems.append(Problem(rel, fid, "id", "duplicate FAQ id"))
    return entries


def check_content(content_dir: str | Path | None = None) -> tuple[Course, list[Problem]]:
    """Load every content file and collect all problems.

    Args:
        content_dir: Content directory; defaults to :data:`CONTENT_DIR`.

    Returns:
        The course built from everything that parsed (invalid questions are left out) and the
        list of problems (empty when the content is valid).
    """
    root = Path(content_dir) if content_dir is not None else CONTENT_DIR
    problems: list[Problem] = []
    lesson_dir = root / "lessons"
    try:
        files = sorted(lesson_dir.glob("*.toml")) if lesson_dir.is_dir() else []
    except OSError as exc:
        problems.append(Problem("lessons", "-", "files", f"cannot read {lesson_dir}: {exc}"))
        files = []
    else:
        if not files:
            problems.append(Problem("lessons", "-", "files", f"no lesson files in {lesson_dir}"))
    lessons = [
        lesson
        for path in files
        if (lesson := parse_lesson(path, f"lessons/{path.name}", problems)) is not None
    ]
    _check_course(lessons, problems)
    lesson_ids = {le.id for le in lessons}
    glossary = _parse_glossary(root / "glossary.toml", lesson_ids, problems)
    faq = _parse_faq(root / "faq.toml", lesson_ids, problems)
    problems += [Problem(*p) for p in exercises_mod.check(root, lesson_ids)[1]]
    lessons.sort(key=lambda le: (le.order, le.id))
    return Course(lessons=tuple(lessons), glossary=tuple(glossary), faq=tuple(faq)), problems


def load_course(content_dir: str | Path | None = None) -> Course:
    """Load and validate the course.

    Args:
        content_dir: Content directory; defaults to :data:`CONTENT_DIR`.

    Returns:
        The validated course.

    Raises:
        ContentError: If any problem was found (``.problems`` lists them all).
    """
    course, problems = check_content(content_dir)
    if problems:
        raise ContentError(problems)
    return course
