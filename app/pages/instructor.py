"""The instructor's view of the class: progress per learner and lesson, who is stuck, how each
System Check question behaves, exercises, one learner's history, the training queue's jobs (a
class on PostgreSQL), CSV export.

Only in class mode and only for the roster's instructors: the entrypoint adds this page to an
instructor's navigation alone, and the page checks the role again before reading anything. The
numbers come from :mod:`quiz.instructor`.
"""

from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from app import classroom, identity, queue_view, shell
from quiz import instructor, roster

who = classroom.current()
if who is None or not who.is_instructor:
    st.error("Only the class's instructors can open this page.", icon=":material/block:")
    st.stop()

progress = shell.store()
course = shell.course()
members = roster.load(progress)
learners = [m for m in members if not m.is_instructor]
names = {m.email: m.name for m in members}
lesson_ids = [le.id for le in course.lessons]
titles = {le.id: f"{le.order}. {le.title}" for le in course.lessons}
checks, attempts = progress.class_rows()
emails = [m.email for m in learners]
cells = instructor.matrix(emails, lesson_ids, checks)
active = instructor.last_active(emails, checks, attempts)
stuck = instructor.stuck(cells, active, datetime.now(UTC))
questions = instructor.question_stats(attempts)
exercises = instructor.exercise_stats(attempts)

st.title("Your class")
passed = sum(c.passed for c in cells)
c1, c2, c3, c4 = st.columns(4)
c1.metric("Learners", len(learners))
c2.metric("Lessons passed", f"{passed} of {len(cells)}")
c3.metric("System Checks submitted", sum(1 for c in checks if c.learner in names))
c4.metric("Stuck", len({s.email for s in stuck}))

tab_progress, tab_stuck, tab_questions, tab_exercises, tab_one, tab_queue, tab_export = st.tabs(
    [
        "Progress",
        "Who is stuck",
        "Questions",
        "Exercises",
        "One learner",
        "Training queue",
        "Export",
    ]
)

frame = pd.DataFrame(
    [
        {
            "learner": names.get(c.email, c.email),
            "email": c.email,
            "lesson": titles[c.lesson_id],
            "state": "passed" if c.passed else ("tried" if c.attempts else "not started"),
            "best score": c.best_score,
            "attempts": c.attempts,
            "last active": c.last_active,
        }
        for c in cells
    ]
)
with tab_progress:
    st.caption("Each cell: a learner's best System Check score in a lesson (passed at 80 %).")
    if frame.empty:
        st.info("No learners on the roster yet.")
    else:
        chart = (
            alt.Chart(frame)
            .mark_rect()
            .encode(
                x=alt.X("lesson:N", sort=list(titles.values()), title=None),
                y=alt.Y("learner:N", title=None),
                color=alt.Color(
                    "state:N",
                    scale=alt.Scale(
                        domain=["passed", "tried", "not started"],
                        range=["#2e7d32", "#f9a825", "#e0e0e0"],
                    ),
                ),
                tooltip=["learner", "lesson", "state", "best score", "attempts", "last active"],
            )
        )
        st.altair_chart(chart, use_container_width=True)
        st.dataframe(
            frame.drop(columns=["email"]),
            hide_index=True,
            column_config={"best score": st.column_config.ProgressColumn(min_value=0, max_value=1)},
        )

with tab_stuck:
    st.caption(
        f"Stuck: {instructor.STUCK_FAILURES} or more failed checks on a lesson not passed, or "
        f"no answer for {instructor.STUCK_IDLE_DAYS} days while lessons remain."
    )
    if stuck:
        st.dataframe(
            pd.DataFrame(
                {
                    "learner": names.get(s.email, s.email),
                    "lesson": titles.get(s.lesson_id, "") if s.lesson_id else "",
                    "why": s.reason,
                }
                for s in stuck
            ),
            hide_index=True,
        )
    else:
        st.success("Nobody is stuck.")

question_frame = pd.DataFrame(
    [
        {
            "lesson": titles.get(q.lesson_id, q.lesson_id),
            "question": q.question_id,
            "answers": q.answers,
            "learners": q.learners,
            "share correct": q.share_correct,
            "discrimination": q.discrimination,
            "most common wrong answers": ", ".join(f"{r} ({n})" for r, n in q.common_wrong),
        }
        for q in questions
    ]
)
with tab_questions:
    st.caption(
        "Discrimination: share correct among the strongest 27 % of learners minus among the "
        "weakest 27 % (by their mean score in that lesson). Near 0 or below: the question does "
        "not separate them, or misleads the strong ones."
    )
    if question_frame.empty:
        st.info("No System Check answered yet.")
    else:
        chart = (
            alt.Chart(question_frame)
            .mark_circle(size=80)
            .encode(
                x=alt.X("share correct:Q", scale=alt.Scale(domain=[0, 1])),
                y=alt.Y("discrimination:Q", scale=alt.Scale(domain=[-1, 1])),
                color="lesson:N",
                tooltip=["lesson", "question", "share correct", "discrimination", "answers"],
            )
        )
        st.altair_chart(chart, use_container_width=True)
        st.dataframe(
            question_frame,
            hide_index=True,
            column_config={
                "share correct": st.column_config.ProgressColumn(min_value=0, max_value=1)
            },
        )

with tab_exercises:
    if exercises:
        st.dataframe(
            pd.DataFrame(
                {
                    "lesson": titles.get(e.lesson_id, e.lesson_id),
                    "exercise": e.exercise_id,
                    "learners": e.learners,
                    "passed": e.passed,
                    "pass rate": e.pass_rate,
                }
                for e in exercises
            ),
            hide_index=True,
        )
    else:
        st.info("No exercise attempted yet.")

with tab_one:
    if learners:
        chosen = st.selectbox(
            "Learner",
            emails,
            format_func=lambda e: f"{names[e]} ({e})",
            key="instructor_learner",
        )
        history = progress.checks(chosen)
        st.markdown(f"**{identity.shown(names[chosen])}**: {len(history)} System Checks")
        if history:
            st.dataframe(
                pd.DataFrame(
                    {
                        "when": c.created,
                        "lesson": titles.get(c.lesson_id, c.lesson_id),
                        "score": c.score,
                        "passed": c.passed,
                        "questions": c.n_questions,
                    }
                    for c in history
                ),
                hide_index=True,
            )
    else:
        st.info("No learners on the roster yet.")

with tab_queue:
    queue_view.class_queue(names)

with tab_export:
    st.caption("Everything above as CSV files.")
    for label, rows, name in (
        ("Progress matrix", cells, "class_progress.csv"),
        ("Who is stuck", stuck, "class_stuck.csv"),
        ("Question statistics", questions, "class_questions.csv"),
        ("Exercises", exercises, "class_exercises.csv"),
    ):
        st.download_button(
            label,
            instructor.to_csv(rows) or "no rows\n",
            file_name=name,
            mime="text/csv",
            key=f"export_{name}",
        )
