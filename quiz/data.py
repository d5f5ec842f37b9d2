"""Frozen dataclasses describing the course: lessons, sections, questions, facts and results.

Everything here is plain data. Loading and validation live in :mod:`quiz.loader`, grading in
:mod:`quiz.grading`, mastery and unlocking in :mod:`quiz.mastery`.

Answer and response conventions (all indices are **0-based** in the Python API; the terminal
shows 1-based numbers and converts):

* ``single``: answer and response are one ``int``, the index of a choice.
* ``multiple``: answer is a sorted ``tuple[int, ...]``; the response is any collection of ints.
* ``numeric``: answer and response are numbers (``int`` or ``float``, not ``bool``).
* ``ordering``: ``choices`` are the items as displayed; the answer is the tuple of item indices
  in the correct order; the response is a permutation of ``range(len(choices))``.
* ``generated``: a template; :func:`quiz.generators.render_question` draws its parameters and
  returns a copy whose ``answer`` is the computed number; it is then graded like ``numeric``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

QUESTION_KINDS: tuple[str, ...] = ("single", "multiple", "numeric", "ordering", "generated")
"""The supported question kinds, in the order the documentation lists them."""

SECTION_KINDS: tuple[str, ...] = ("markdown", "latex", "code", "model", "widget")
"""The supported lesson section kinds (the app renders each kind differently)."""

WIDGETS: dict[str, str] = {
    "conv-calculator": "Output size, jump and receptive field of a stack of convolutions",
    "first-layer-maps": "A trained LeNet-5's first-layer kernels and feature maps of a digit",
    "vgg-boxes": "The 3x3, 5x5 and 7x7 receptive fields of stacked 3x3 convolutions on a digit",
    "residual-erf": "Effective receptive field and gradient map of ResNet-20 against plain-20",
}
"""The interactive app views a ``widget`` section may embed: name -> what it shows.

The app keeps the matching ``{name: render_function}`` table (``app/widgets.py``); a test checks
that both name the same widgets, so ``python -m quiz check`` can reject an unknown name without
importing the app.
"""


@dataclass(frozen=True)
class Section:
    """One part of a lesson.

    Attributes:
        id: Stable id, unique within the lesson; questions name it in ``section``.
        title: Heading shown above the section.
        kind: One of :data:`SECTION_KINDS`.
        body: Markdown text, a LaTeX formula (without ``$$``) or a code listing.
        language: Language of a ``code`` section (for syntax highlighting).
        model: Registry model name for a ``model`` section (e.g. ``"resnet20"``).
        block: Optional layer-name prefix of the block to highlight (e.g. ``"conv2_block1"``).
        caption: Optional caption shown under a formula, listing, model or widget.
        widget: Name of the interactive view of a ``widget`` section, one of :data:`WIDGETS`.
    """

    id: str
    title: str
    kind: str
    body: str = ""
    language: str = ""
    model: str = ""
    block: str = ""
    caption: str = ""
    widget: str = ""


@dataclass(frozen=True)
class Source:
    """A reference a lesson is based on."""

    title: str
    authors: str = ""
    year: int = 0
    url: str = ""


@dataclass(frozen=True)
class Practice:
    """An open exercise at the end of a lesson (d2l style): something to try in the model lab,
    on the Training page or in a notebook, with a worked answer revealed on request.

    Attributes:
        id: Stable id, unique across the course.
        prompt: What to try or work out (markdown).
        answer: The worked answer (markdown).
    """

    id: str
    prompt: str
    answer: str


@dataclass(frozen=True)
class Fact:
    """A number a lesson states that the code can compute, with its machine-readable check.

    Attributes:
        id: Stable id, unique within the lesson.
        text: The statement as the lesson makes it.
        value: The stated value (a number, or a list of ints for ``shape:`` checks).
        check: Check string, e.g. ``"params:vgg16"``; see :func:`quiz.facts.parse_check`.
        rel_tol: Relative tolerance of the comparison (0 means exact).
        section: Id of the section that states the fact ("" if lesson-wide).
    """

    id: str
    text: str
    value: Any
    check: str
    rel_tol: float = 0.0
    section: str = ""


@dataclass(frozen=True)
class Question:
    """One system-check question. See the module docstring for answer conventions.

    Attributes:
        id: Stable, readable id unique across the course (e.g. ``"vgg-two-3x3-rf"``).
        lesson_id: Id of the lesson whose system check holds the question.
        kind: One of :data:`QUESTION_KINDS`.
        prompt: The question text (a template for ``generated``).
        explanation: Shown after answering, right or wrong (a template for ``generated``).
        section: Id of the lesson section the question tests.
        choices: Choices (single/multiple) or items to order (ordering).
        answer: Normalised answer (see module docstring); ``None`` for an unrendered template.
        tolerance: Absolute tolerance for numeric answers.
        rel_tol: Relative tolerance for numeric answers.
        unit: Unit of a numeric answer, shown next to the input.
        generator: Registry name of the generator (``generated`` only).
        param_space: Per-parameter allowed values overriding the generator's defaults.
        params: Drawn parameter values of a rendered ``generated`` question.
        file: Content file the question was loaded from (relative to the content directory).
    """

    id: str
    lesson_id: str
    kind: str
    prompt: str
    explanation: str
    section: str
    choices: tuple[str, ...] = ()
    answer: Any = None
    tolerance: float = 0.0
    rel_tol: float = 0.0
    unit: str = ""
    generator: str = ""
    param_space: tuple[tuple[str, tuple[int | float, ...]], ...] = ()
    params: tuple[tuple[str, int | float], ...] = ()
    file: str = ""

    @property
    def is_template(self) -> bool:
        """True for a ``generated`` question whose parameters have not been drawn yet."""
        return self.kind == "generated" and self.answer is None

    @property
    def items(self) -> tuple[str, ...]:
        """Alias of ``choices`` for ordering questions."""
        return self.choices


@dataclass(frozen=True)
class Result:
    """The outcome of grading one response.

    Attributes:
        question_id: Id of the graded question.
        correct: True when the response is fully correct.
        score: Credit between 0.0 and 1.0 (partial credit for multiple choice and ordering).
        expected: The expected answer, human-readable (choice texts, number with unit).
        explanation: The question's explanation (rendered for generated questions).
        response: The validated response in a stable, JSON-friendly form for the history:
            the chosen choice text (single), the sorted list of chosen texts (multiple), the item
            texts in the learner's order (ordering), or the number (numeric, generated). Texts
            rather than indices, because choices are shuffled per attempt.
        params: Drawn parameters of a generated question (empty otherwise).
    """

    question_id: str
    correct: bool
    score: float
    expected: str
    explanation: str
    response: Any
    params: tuple[tuple[str, int | float], ...] = ()


@dataclass(frozen=True)
class Lesson:
    """One lesson: texts, formulas, code, model views, its system check, facts and sources.

    Attributes:
        id: Stable id (e.g. ``"vgg"``).
        title: Title shown in menus.
        order: Position in the course (1-based).
        summary: One-paragraph summary.
        node: Label of the lesson's node in the architecture matrix (e.g. ``"VGG"``).
        year: Year of the architecture or idea (0 if not applicable).
        prerequisites: Ids of lessons whose system checks must be passed first.
        goals: Learning goals.
        models: Registry models the lesson features.
        sections: The lesson's sections in reading order.
        questions: The system check.
        facts: Numbers stated by the lesson with their code checks.
        sources: Papers and other references.
        practice: Open exercises with worked answers, shown after the sections.
        notebook: The example notebook of the lesson's theme (``notebooks/<name>.py``), or "".
        file: Content file, relative to the content directory.
    """

    id: str
    title: str
    order: int
    summary: str
    node: str
    year: int
    prerequisites: tuple[str, ...]
    goals: tuple[str, ...]
    models: tuple[str, ...]
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]
    facts: tuple[Fact, ...] = ()
    sources: tuple[Source, ...] = ()
    practice: tuple[Practice, ...] = ()
    notebook: str = ""
    file: str = ""

    def section(self, section_id: str) -> Section:
        """Return the section with the given id.

        Args:
            section_id: Id of the section.

        Returns:
            The section.

        Raises:
            KeyError: If the lesson has no such section.
        """
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(f"lesson {self.id!r} has no section {section_id!r}")


@dataclass(frozen=True)
class GlossaryEntry:
    """A glossary term with its definition and the lesson that introduces it."""

    term: str
    definition: str
    lesson: str = ""
    see_also: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaqEntry:
    """A frequently asked question with its answer and related lessons."""

    id: str
    question: str
    answer: str
    lessons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Course:
    """The whole course: lessons in order, glossary and FAQ."""

    lessons: tuple[Lesson, ...]
    glossary: tuple[GlossaryEntry, ...] = ()
    faq: tuple[FaqEntry, ...] = ()

    def lesson(self, key: str | int) -> Lesson:
        """Return a lesson by id or by its 1-based order number.

        Args:
            key: Lesson id (``"vgg"``), or order as int or digit string (``3``, ``"3"``).

        Returns:
            The lesson.

        Raises:
            KeyError: If no lesson matches.
        """
        for lesson in self.lessons:
            if lesson.id == key:
                return lesson
        if isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit()):
            number = int(key)
            for lesson in self.lessons:
                if lesson.order == number:
                    return lesson
        raise KeyError(f"no lesson {key!r}; known: {', '.join(le.id for le in self.lessons)}")

    @property
    def questions(self) -> tuple[Question, ...]:
        """All questions of all lessons, in lesson order."""
        return tuple(q for lesson in self.lessons for q in lesson.questions)

    def question(self, question_id: str) -> Question:
        """Return a question by id.

        Args:
            question_id: The question id.

        Returns:
            The question.

        Raises:
            KeyError: If no question has that id.
        """
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"no question {question_id!r}")
