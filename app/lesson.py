"""One page per lesson: the sections, live model views, widgets and the System Check.

``lesson_page(lesson_id)`` is the lesson's ``st.Page`` (its function from ``page_callable``, the
same object every time); ``lesson_link`` and ``go_to_lesson`` link and switch to it, and
``render(lesson_id)`` draws it. A locked lesson shows its summary and goals, which System Checks
to pass first, and the lesson the learner can open now.

The System Check is :mod:`app.check`. Imports :mod:`app.shell` (store, learner); ``shell``
never imports this module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

import quiz
from app import check, exercise_views, identity, logic, shell, widgets


@functools.cache
def page_callable(lesson_id: str) -> Callable[[], None]:
    """The page function of a lesson, the same object on every call."""

    def page() -> None:
        render(lesson_id)

    page.__name__ = f"lesson_{lesson_id.replace('-', '_')}"
    return page


def lesson_page(lesson_id: str, states: dict[str, str] | None = None) -> st.Page:
    """The ``st.Page`` of a lesson (the same callable every time, so links and switches match)."""
    lesson = shell.course().lesson(lesson_id)
    state = (states or {}).get(lesson_id, quiz.UNLOCKED)
    return st.Page(
        page_callable(lesson_id),
        title=f"{lesson.order}. {lesson.node}{logic.STATE_STYLE[state]['suffix']}",
        url_path=logic.lesson_url_path(lesson_id),
    )


def go_to_lesson(lesson_id: str) -> None:
    """Switch to a lesson page (for buttons; ``st.page_link`` for plain links)."""
    st.switch_page(lesson_page(lesson_id))


def lesson_link(lesson_id: str, label: str | None = None, icon: str | None = None) -> None:
    """A link to a lesson page."""
    lesson = shell.course().lesson(lesson_id)
    st.page_link(
        lesson_page(lesson_id), label=label or f"{lesson.order}. {lesson.title}", icon=icon
    )


def render(lesson_id: str) -> None:
    """Draw a lesson page for the current learner."""
    course = shell.course()
    progress = shell.store()
    learner = identity.learner(progress)
    try:
        lesson = course.lesson(lesson_id)
    except KeyError:
        st.title("Lesson not found")
        st.info(f"There is no lesson {lesson_id!r}. Pick one on the course map.")
        return
    passed = shell.passed_for_unlocking(progress, learner)
    st.title(f"{lesson.order}. {lesson.title}")
    _best_score(progress, learner, lesson.id)
    missing = logic.missing_prerequisites(lesson, passed)
    if missing:
        _locked(course, lesson, passed, missing)
        return
    if not progress.read_only and progress.last_visited(learner) != (lesson.id, ""):
        try:
            progress.set_last_visited(learner, lesson.id)
        except quiz.StoreError as exc:  # e.g. the disk filled up: the lesson is still drawn
            st.warning(
                f"Where you are in the course was not saved: {exc}", icon=":material/warning:"
            )

    st.markdown(lesson.summary)
    if lesson.goals:
        with st.expander("What you will learn", expanded=False):
            st.markdown("\n".join(f"- {goal}" for goal in lesson.goals))
    later = [draw for section in lesson.sections if (draw := _section(section))]
    _practice(lesson)
    _notebook(lesson)
    if lesson.sources:
        with st.expander("Sources"):
            st.markdown("\n".join(_source(s) for s in lesson.sources))
    exercise_views.lesson_exercises(lesson.id, learner)
    check.system_check(course, progress, learner, lesson, go_to_lesson)
    shell.log_event("check drawn")
    # Live models and widgets last: the text and the System Check are on screen already, and
    # each view is drawn into its place (TensorFlow loads on the first one, seconds when cold).
    for draw in later:
        draw()


def _locked(course: quiz.Course, lesson: quiz.Lesson, passed: set[str], missing: list[str]):
    """A locked lesson: what it teaches, what to pass first, and a lesson to open now."""
    titles = ", ".join(f"**{course.lesson(m).order}. {course.lesson(m).title}**" for m in missing)
    st.info(
        f"This lesson is locked. Pass the System Check of {titles} first "
        f"(at least {quiz.PASS_THRESHOLD:.0%}). You can read what it teaches now.",
        icon=":material/lock:",
    )
    st.markdown(lesson.summary)
    if lesson.goals:
        st.markdown("**What you will learn**\n\n" + "\n".join(f"- {goal}" for goal in lesson.goals))
    target = logic.next_open_step(course, lesson, quiz.lesson_states(course, passed))
    if target is not None:
        step = course.lesson(target)
        lesson_link(
            target, label=f"Open now: {step.order}. {step.title}", icon=":material/arrow_forward:"
        )


#: Seconds between two reads of the lesson's best score while the page is open: another tab
#: (or device) of the same learner may pass the check meanwhile, and this tab should say so
#: without a reload. A timed fragment waits for a running script instead of stopping it.
SCORE_REFRESH_S = 5


@st.fragment(run_every=SCORE_REFRESH_S)
def _best_score(progress: quiz.ProgressStore, learner: str, lesson_id: str) -> None:
    """The lesson's best score, as stored now (re-read every ``SCORE_REFRESH_S`` seconds)."""
    try:
        best = progress.lesson_scores(learner).get(lesson_id)
        passed = lesson_id in shell.passed_for_unlocking(progress, learner)
    except quiz.StoreError as exc:  # the store went away: say so, keep the page
        st.warning(f"Your best score could not be read: {exc}", icon=":material/warning:")
        return
    _progress_bar(best, passed)


def _progress_bar(best: float | None, passed: bool) -> None:
    if best is None:
        st.progress(0.0, text="System Check not taken yet")
    else:
        verdict = "passed" if passed else f"not passed yet, {quiz.PASS_THRESHOLD:.0%} needed"
        st.progress(
            min(max(best, 0.0), 1.0), text=f"Best System Check score: {best:.0%} ({verdict})"
        )


def _practice(lesson: quiz.Lesson) -> None:
    """The lesson's open exercises, each with its worked answer folded away until asked for."""
    if not lesson.practice:
        return
    st.header("Try it yourself", anchor="try-it-yourself")
    for number, item in enumerate(lesson.practice, start=1):
        st.markdown(f"**Exercise {number}.** {item.prompt}")
        with st.expander("Worked answer"):
            st.markdown(item.answer)


def _notebook(lesson: quiz.Lesson) -> None:
    """Download the lesson's executed example notebook; "Open in Colab" where the repository's
    GitHub address is configured (``KERAS_CNN_REPOSITORY``, e.g. ``github.com/owner/keras-cnn``)."""
    path = logic.notebook_path(lesson.notebook)
    if path is None:
        return
    st.download_button(
        "Download the example notebook",
        data=path.read_bytes(),
        file_name=path.name,
        mime="application/x-ipynb+json",
        key=f"notebook_{lesson.id}",
        help=f"{path.name}: this lesson's models built, trained and looked at with keras_cnn",
    )
    colab = logic.colab_url(lesson.notebook)
    if colab:
        st.link_button("Open in Colab", colab)


def _source(source: quiz.Source) -> str:
    title = f"[{source.title}]({source.url})" if source.url else source.title
    who = ", ".join(x for x in (source.authors, str(source.year) if source.year else "") if x)
    return f"- {title}" + (f" — {who}" if who else "")


def _section(section: quiz.Section) -> Callable[[], None] | None:
    """Draw a section; for a live model or a widget, draw a placeholder and return the function
    that draws the view into it later (after the System Check)."""
    st.subheader(section.title, anchor=section.id)
    draw = None
    if section.kind == "markdown":
        st.markdown(section.body)
    elif section.kind == "latex":
        st.latex(section.body)
    elif section.kind == "code":
        st.code(section.body, language=section.language or "python")
    elif section.kind in ("model", "widget"):
        if section.body:
            st.markdown(section.body)
        slot = st.empty()
        what = "live model" if section.kind == "model" else "interactive view"
        slot.caption(f":material/hourglass_top: Loading the {what} …")

        def draw(section=section, slot=slot) -> None:
            with slot.container():
                if section.kind == "model":
                    from app import views  # pandas, and TensorFlow on first use

                    views.show_model(
                        section.model, block=section.block, key=f"section-{section.id}"
                    )
                else:
                    widgets.render(section.widget, key=f"widget-{section.id}")

    if section.caption:
        st.caption(section.caption)
    return draw
