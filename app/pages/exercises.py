"""Write it yourself: a code exercise with an editor, Run checks, feedback, hints and the
solution. The learner's code runs in the sandbox (``quiz/sandbox.py``), never in the server."""

import html

import streamlit as st
from code_editor import code_editor

from app import exercise_runs, exercise_views, identity, shell
from app import lesson as lesson_pages
from quiz import exercises as course_exercises
from quiz.sandbox import Sandbox

RUN = "run"
EDITOR_BUTTONS = [
    {
        "name": "Run checks",
        "hasText": True,
        "alwaysOn": True,
        "primary": True,
        "showWithIcon": True,
        "feather": "Play",
        "commands": [["response", RUN]],
        "style": {"bottom": "0.4rem", "right": "0.4rem"},
    }
]


@st.cache_resource
def sandbox() -> Sandbox:
    """One pool of pre-started sandbox workers per server process."""
    return Sandbox()


sandbox()  # the pool starts while the learner reads and types: the first Run checks is warm
catalogue = exercise_runs.exercises()
progress = shell.store()
learner = identity.learner(progress)
work = exercise_views.work()
built = work.built(learner)
course = shell.course()

requested = st.query_params.get("id")
ids = list(catalogue)
order = {le.id: le.order for le in course.lessons}
ids.sort(
    key=lambda i: (order.get(catalogue[i].lesson, 99), catalogue[i].series, catalogue[i].step, i)
)
if requested not in catalogue:
    requested = ids[0]

st.title("Write it yourself")
choice = st.selectbox(
    "Exercise",
    ids,
    index=ids.index(requested),
    format_func=lambda i: f"{'✓ ' if i in built else ''}{catalogue[i].title}",
    key="exercise_choice",
)
if choice != requested:
    st.query_params["id"] = choice
    st.rerun()
exercise = catalogue[choice]
st.query_params["id"] = exercise.id
exercise_runs.prepare(exercise)  # its grading warms up while the learner reads and types
lesson = course.lesson(exercise.lesson)
lesson_pages.lesson_link(lesson.id, label=f"Lesson {lesson.order}: {lesson.title}")

state = work.work(learner, exercise.id)
view = course_exercises.view(exercise, state.attempts, state.passed, built)
st.subheader(exercise.title)
if state.passed:
    st.success("Built: you passed this exercise.", icon=":material/check_circle:")
if view.locked_by:
    names = ", ".join(f"**{catalogue[r].title}**" for r in view.locked_by)
    st.info(f"This step is locked: pass {names} first.", icon=":material/lock:")
    st.stop()
st.markdown(exercise.statement)

version_key = f"editor_version_{exercise.id}"
st.session_state.setdefault(version_key, 0)
code = state.code if state.code is not None else exercise.starter
response = code_editor(
    code,
    lang="python",
    height=[16, 36],
    buttons=EDITOR_BUTTONS,
    options={"showLineNumbers": True, "tabSize": 4, "useSoftTabs": True},
    # Ace's own textmate theme: the component's streamlit_light/dark themes import a font
    # from Google Fonts, which an offline machine cannot fetch (a console error).
    props={"theme": "textmate"},
    key=f"editor_{exercise.id}_{st.session_state[version_key]}",
)
st.caption("Run checks (or Ctrl+Enter) runs your code in a sandbox and grades it.")

left, right = st.columns(2)
if left.button("Reset to starter", key="reset"):
    work.reset(learner, exercise.id)
    st.session_state[version_key] += 1
    st.session_state.pop(f"report_{exercise.id}", None)
    st.rerun()

seen_key = f"seen_{exercise.id}"
event = response.get("type") if response else ""
if (
    event in (RUN, "submit")
    and response.get("id")
    and response["id"] != st.session_state.get(seen_key)
):
    st.session_state[seen_key] = response["id"]
    submitted = response.get("text", "")
    work.save_code(learner, exercise.id, submitted)
    spinner = (
        "Training your network for two epochs…"
        if exercise.kind == "train"
        else "Running the checks…"
    )
    with st.spinner(spinner):
        report = exercise_runs.run_checks(exercise, submitted, sandbox(), state.attempts + 1)
    state = work.record_run(learner, exercise.id, submitted, report["passed"], report["feedback"])
    st.session_state[f"report_{exercise.id}"] = report
    view = course_exercises.view(exercise, state.attempts, state.passed, work.built(learner))

report = st.session_state.get(f"report_{exercise.id}")
if report is not None:
    if report["passed"]:
        st.success(
            "All checks passed: your code builds the reference network.",
            icon=":material/check_circle:",
        )
        if report.get("accuracy") is not None:
            st.metric("Test accuracy after training", f"{report['accuracy']:.1%}")
    else:
        st.error(report["feedback"], icon=":material/error:")
        if report["hint"]:
            st.info(f"Hint: {report['hint']}", icon=":material/lightbulb:")
    rows = report["rows"]
    if rows:
        header = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
            for r in rows
        )
        st.html(f"<table class='exercise-checks'><tr>{header}</tr>{body}</table>")
    if report.get("output"):
        with st.expander("What your code printed"):
            st.code(report["output"], language="text")
    st.caption(
        f"Checked in {report['seconds']:.1f} s"
        + (" (the sandbox was starting)" if report.get("cold") else "")
    )

if view.show_solution:
    with st.expander("Reference solution", expanded=state.passed):
        st.markdown(view.solution_reason)
        st.code(exercise.solution, language="python")
        if state.passed:
            st.markdown(exercise.explanation)
elif state.attempts:
    left_tries = exercise.solution_after - state.attempts
    right.caption(f"The reference solution appears after a pass, or after {left_tries} more tries.")

nxt = [e for e in catalogue.values() if exercise.id in e.requires]
if nxt and state.passed:
    if st.button(f"Next: {nxt[0].title}", type="primary", key="next"):
        st.query_params["id"] = nxt[0].id
        st.rerun()
