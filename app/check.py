"""The System Check of a lesson: its form, the grading callback, the stored record, and the
verdict with the next step.

``system_check(course, progress, learner, lesson, go_to)`` draws it; ``go_to(lesson_id)``
opens a lesson (:func:`app.lesson.go_to_lesson`, passed in: this module never imports
:mod:`app.lesson`). One drawn check (``new_attempt``) is graded and stored at most once,
however many clicks reach the server.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from typing import Any

import streamlit as st

import quiz
from app import identity, logic, shell


def attempt_key(lesson_id: str) -> str:
    """Session-state key of the current attempt of a lesson's check."""
    return f"check:{lesson_id}"


def widget_key(lesson_id: str, seed: int, index: int) -> str:
    """Session-state key of the widget of question ``index`` in one attempt."""
    return f"q:{lesson_id}:{seed}:{index}"


#: Seeds of new attempts come from the operating system: training (``keras.utils.set_random_seed``)
#: reseeds Python's global ``random`` in this process, which would hand a retry the same questions.
_SEEDS = random.SystemRandom()


def new_attempt(lesson: quiz.Lesson, seed: int | None = None) -> dict:
    """A drawn check: its questions, and once submitted its results and stored record.

    ``token`` names this drawn check and ``lock`` guards its one submission: a double click
    on Submit sends two reruns, and Streamlit can run both callbacks at once on two script
    threads; the second finds the check submitted and stores nothing.
    """
    seed = _SEEDS.randrange(1 << 30) if seed is None else seed
    return {
        "token": uuid.uuid4().hex,
        "lock": threading.Lock(),
        "seed": seed,
        "questions": quiz.prepare_check(lesson, seed),
        "results": None,
        "record": None,
        "unlocked": [],
        "values": None,
    }


_UNANSWERED = object()

#: Question kinds answered with a multiselect: its label and placeholder.
#: Question kinds answered with a multiselect: its label, placeholder and whether it offers
#: Streamlit's "Select all" (an order is picked one item at a time: "Select all" would give
#: the listed order in one click).
_MULTISELECTS = {
    "multiple": ("Choose all that apply", "Choose all that apply", True),
    "ordering": (
        "Pick the items in order, first to last",
        "Pick the first item, then the next ...",
        False,
    ),
}


def _widget(question: quiz.Question, index: int, key: str, answered: Any = _UNANSWERED):
    """The input of one question; after submit (``answered`` given) a disabled copy showing the
    learner's answer, under its own key so Streamlit does not reset it to empty."""
    st.markdown(f"**Question {index + 1}.** {question.prompt}")
    label = f"Answer to question {index + 1}"
    choices = question.choices
    review = answered is not _UNANSWERED
    if review:
        key = f"{key}:review"

    def fmt(i: int) -> str:
        return choices[i]

    if question.kind == "single":
        return st.radio(
            label,
            range(len(choices)),
            format_func=fmt,
            index=answered if review else None,
            key=key,
            disabled=review,
            label_visibility="collapsed",
        )
    if question.kind in _MULTISELECTS:
        label, placeholder, select_all = _MULTISELECTS[question.kind]
        return st.multiselect(
            label,
            range(len(choices)),
            default=list(answered) if review else None,
            format_func=fmt,
            key=key,
            disabled=review,
            placeholder=placeholder,
            select_all=select_all,
        )
    unit = f" ({question.unit})" if question.unit else ""
    return st.text_input(
        f"Your answer{unit}",
        value=str(answered) if review else "",
        key=key,
        disabled=review,
        placeholder="A number, e.g. 1,234 or 3.8M",
    )


def your_answer(question: quiz.Question, result: quiz.Result, typed: Any) -> str:
    """The learner's answer as shown beside the expected one: the choice texts as the question
    shows them, a typed number exactly as typed (escaped: Markdown must not eat a ``*``)."""
    if question.kind in ("numeric", "generated"):
        return logic.markdown_escape(str(typed).strip())
    if question.kind == "ordering":
        return " < ".join(result.response)
    if question.kind == "multiple":
        return "; ".join(result.response)
    return str(result.response)


def _feedback(result: quiz.Result, answer: str) -> None:
    yours = f"Your answer: {answer}."
    if result.correct:
        st.success(f"**Right.** {yours} {result.explanation}", icon=":material/check:")
    elif result.score > 0:
        st.warning(
            f"**Partly right ({result.score:.0%}).** {yours} Expected: {result.expected}. "
            f"{result.explanation}",
            icon=":material/rule:",
        )
    else:
        st.error(
            f"**Not quite.** {yours} Expected: {result.expected}. {result.explanation}",
            icon=":material/close:",
        )


def system_check(
    course: quiz.Course,
    progress: quiz.ProgressStore,
    learner: str,
    lesson: quiz.Lesson,
    go_to: Callable[[str], None],
) -> None:
    """The System Check form: answer, submit, see feedback, score and what unlocked;
    ``go_to(lesson_id)`` opens the lesson a "Go to ..." button names."""
    st.divider()
    st.header("System Check", anchor="system-check")
    key = attempt_key(lesson.id)
    if key not in st.session_state:
        st.session_state[key] = new_attempt(lesson)
    attempt = st.session_state[key]
    seed, questions, results = attempt["seed"], attempt["questions"], attempt["results"]
    st.caption(
        f"{len(questions)} questions. Pass with {quiz.PASS_THRESHOLD:.0%}; "
        "your answers are saved for learner "
        f"**{identity.shown(learner)}**."
    )
    if results is not None:  # the score and the next step first, where the page scrolls to
        _verdict(course, progress, learner, lesson, attempt, go_to)
        if attempt.pop("scroll", False):  # once, right after Submit
            _scroll_to(RESULT_ANCHOR, attempt["token"])
    with st.form(f"form:{lesson.id}:{seed}", border=True):
        for i, question in enumerate(questions):
            wkey = widget_key(lesson.id, seed, i)
            if results is None:
                _widget(question, i, wkey)
            else:
                typed = attempt["values"][i]
                _widget(question, i, wkey, typed)
                _feedback(results[i], your_answer(question, results[i], typed))
        # Graded in the callback, before this script reruns: one run from Submit to the score.
        st.form_submit_button(
            "Submit answers",
            type="primary",
            disabled=results is not None,
            on_click=_submit,
            args=(course, progress, learner, lesson, attempt["token"]),
        )
    problem = attempt.pop("problem", None)
    if problem:
        kind, message = problem
        getattr(st, kind)(message, icon=":material/error:" if kind == "error" else None)
    if attempt["results"] is not None:
        st.button(
            "Try again with new questions",
            key=f"retry:{lesson.id}",
            on_click=_retry,
            args=(lesson,),
        )


def _retry(lesson: quiz.Lesson) -> None:
    st.session_state[attempt_key(lesson.id)] = new_attempt(lesson)


def _submit(
    course: quiz.Course,
    progress: quiz.ProgressStore,
    learner: str,
    lesson: quiz.Lesson,
    token: str,
) -> None:
    """Submit's callback: grade the answers as the form holds them, store and keep the result
    on the attempt, or keep the reason it was not graded (``attempt["problem"]``).

    One drawn check (``token``) is stored at most once, however many clicks reach the server.
    """
    attempt = st.session_state.get(attempt_key(lesson.id))
    if attempt is None or attempt["token"] != token or attempt["results"] is not None:
        return
    questions = attempt["questions"]
    values = [
        st.session_state.get(widget_key(lesson.id, attempt["seed"], i))
        for i in range(len(questions))
    ]
    # No Streamlit call below (each may end this run for the next click's): graded, stored
    # and kept on the attempt under its lock, or left for the click that holds it.
    with attempt["lock"]:
        if attempt["results"] is None:
            _grade_and_store(course, progress, learner, lesson, attempt, values)


def _grade_and_store(
    course: quiz.Course,
    progress: quiz.ProgressStore,
    learner: str,
    lesson: quiz.Lesson,
    attempt: dict,
    values: list,
) -> None:
    questions = attempt["questions"]
    responses, unreadable, missing = [], [], []
    for i, (question, value) in enumerate(zip(questions, values, strict=True)):
        try:
            response = logic.widget_response(question, value)
        except quiz.ResponseError as exc:
            unreadable.append(f"question {i + 1}: {exc}")
            response = None
        else:
            if response is None:
                missing.append(i + 1)
        responses.append(response)
    if unreadable:
        attempt["problem"] = ("warning", "Please check your answers: " + "; ".join(unreadable))
        return
    if missing:
        attempt["problem"] = (
            "warning",
            f"Answer every question before submitting: {logic.numbered('question', missing)} "
            f"{'has' if len(missing) == 1 else 'have'} no answer yet.",
        )
        return
    try:
        results = [quiz.grade(q, r) for q, r in zip(questions, responses, strict=True)]
    except quiz.ResponseError as exc:
        attempt["problem"] = ("warning", f"Please check your answers: {exc}")
        return
    passed_before = progress.passed_lessons(learner)
    try:
        # one attempt, one record: a second Submit of it, or a retry after the database
        # went away mid-save (was it saved?), stores nothing twice
        record = progress.record_check(learner, lesson.id, results, uid=attempt["token"])
    except quiz.StoreError as exc:
        attempt["problem"] = (
            "error",
            f"Your answers were graded but could not be saved: {exc}. Your progress is "
            "unchanged and your answers are still here: submit again once it can be saved.",
        )
        return
    unlocked = []
    if record.passed and lesson.id not in passed_before:
        unlocked = quiz.newly_unlocked(course, passed_before, lesson.id)
    attempt.update(results=results, record=record, unlocked=unlocked, values=values, scroll=True)


#: The anchor of the System Check's result (score and next step), above its questions.
RESULT_ANCHOR = "check-result"

#: Scrolls the page to an element id once it is drawn: after Submit the browser stays where the
#: button was, below every question's feedback, and the score would be out of sight.
_SCROLL_SCRIPT = """<script>
(() => {{
  const started = Date.now();  // drawn {token}
  const go = () => {{
    const target = document.getElementById({anchor!r});
    if (target) target.scrollIntoView({{behavior: "smooth", block: "start"}});
    else if (Date.now() - started < 10000) setTimeout(go, 100);
  }};
  go();
}})();
</script>"""


def _scroll_to(anchor: str, token: str) -> None:
    st.html(_SCROLL_SCRIPT.format(anchor=anchor, token=token), unsafe_allow_javascript=True)


def _verdict(
    course: quiz.Course,
    progress: quiz.ProgressStore,
    learner: str,
    lesson: quiz.Lesson,
    attempt: dict,
    go_to: Callable[[str], None],
) -> None:
    """Score, verdict and the next step: the lessons this pass unlocked, or else the lesson
    to open next (passing VGG unlocks nothing while Inception is still to pass)."""
    record = attempt["record"]
    right = sum(r.correct for r in attempt["results"])
    total = len(attempt["results"])
    st.subheader("Your result", anchor=RESULT_ANCHOR)
    st.progress(record.score, text=f"Score: {record.score:.0%} ({right} of {total} right)")
    if record.passed:
        st.success(f"**Passed** with {record.score:.0%}. Well done!", icon=":material/school:")
    else:
        st.error(
            f"**Not passed** ({record.score:.0%}; {quiz.PASS_THRESHOLD:.0%} needed). "
            "Reread the sections of the questions you missed and try again (the button is "
            "below the questions).",
            icon=":material/replay:",
        )
        return
    for lesson_id in attempt["unlocked"]:
        unlocked = course.lesson(lesson_id)
        st.info(f"Unlocked: **{unlocked.order}. {unlocked.title}**", icon=":material/lock_open:")
        if st.button(f"Go to {unlocked.node}", key=f"go:{lesson_id}", type="primary"):
            go_to(lesson_id)
    if attempt["unlocked"]:
        return
    states = quiz.lesson_states(course, shell.passed_for_unlocking(progress, learner))
    target, waiting = logic.next_after_pass(course, lesson, states)
    if target is None:
        st.info("You passed every System Check of the course.", icon=":material/celebration:")
        return
    step = course.lesson(target)
    why = f", which {course.lesson(waiting).node} also needs" if waiting else ""
    st.info(f"Next: **{step.order}. {step.title}**{why}.", icon=":material/arrow_forward:")
    if st.button(f"Go to {step.node}", key=f"go:{target}", type="primary"):
        go_to(target)
