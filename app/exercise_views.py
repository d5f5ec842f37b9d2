"""Where the course shows its code exercises: a lesson's "Write it yourself" links and the
course map's line of exercises built. Streamlit and ``quiz`` only (no TensorFlow)."""

from __future__ import annotations

import functools

import streamlit as st

from app import shell
from keras_cnn.exercises.spec import Exercise, check_exercises
from quiz import exercises as course_exercises
from quiz import settings as quiz_settings
from quiz.exercise_progress import ExerciseProgress, default_path


@functools.cache
def by_lesson() -> dict[str, list[Exercise]]:
    return course_exercises.by_lesson(check_exercises()[0])


@st.cache_resource
def _work_at(target: str) -> ExerciseProgress:
    return ExerciseProgress(target)


def work() -> ExerciseProgress:
    """The learner's exercise progress, in the progress store's database (the class database
    when ``secrets.toml`` names one); one object per database, shared by the sessions."""
    url = quiz_settings.database_url(shell.secrets())
    return _work_at(str(url or default_path()))


def built(learner: str) -> set[str]:
    return work().built(learner)


def lesson_exercises(lesson_id: str, learner: str) -> None:
    """The lesson's exercises, each a link to its editor, marked when built."""
    items = by_lesson().get(lesson_id, [])
    if not items:
        return
    done = built(learner)
    st.subheader("Write it yourself", anchor="write-it-yourself")
    st.markdown("Build the lesson's network in code; the checks compare it with the reference.")
    for e in items:
        st.page_link(
            "app/pages/exercises.py",
            label=("✓ " if e.id in done else "") + e.title,
            query_params={"id": e.id},
            icon=":material/code:",
        )


def built_line(lesson_id: str, learner: str) -> None:
    """A caption: how many of the lesson's exercises the learner has built."""
    items = by_lesson().get(lesson_id, [])
    if items:
        done = built(learner) & {e.id for e in items}
        st.caption(f"Code exercises built: {len(done)} of {len(items)}")
