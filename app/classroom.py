"""Class mode: who is signed in (``st.login`` / ``st.user``, OpenID Connect) and what the
roster lets them do. Without class mode none of this runs: no sign-in, the single-user course.

:func:`member` is the one answer to "who is this?" in class mode: it refuses to open the class
without a cookie secret, an identity provider or a roster, asks a signed-out browser to sign
in, and refuses an e-mail the roster does not name. The learner's progress is kept under their
e-mail; ``?learner=`` in the address means nothing here. Imports Streamlit and ``quiz`` only.
"""

from __future__ import annotations

import streamlit as st

import quiz
from app import identity, logic, shell
from quiz import roster
from quiz import settings as quiz_settings

#: Session-state key of the signed-in roster member (identity.learner and the instructor page
#: read it).
MEMBER_KEY = identity.CLASS_MEMBER_KEY
NO_ROSTER = (
    "This class has no roster yet: the instructor imports one with "
    "`python -m quiz roster import class.csv` (columns email,name,role; see docs/class.md)."
)


def settings() -> quiz_settings.ClassSettings:
    """How the course is served, from the environment and ``st.secrets``."""
    return quiz_settings.load(shell.secrets())


def member(progress: quiz.ProgressStore, config: quiz_settings.ClassSettings) -> roster.Member:
    """The signed-in roster member; anything else ends the script run with a message."""
    problems = config.problems()
    members = roster.load(progress)
    if not members:
        problems.append(NO_ROSTER)
    if problems:
        st.title("The class cannot open yet")
        for problem in problems:
            st.error(problem, icon=":material/error:")
        st.session_state.pop(MEMBER_KEY, None)
        st.stop()
    if not st.user.is_logged_in:
        st.session_state.pop(MEMBER_KEY, None)
        st.title("keras-cnn course")
        st.write("Sign in with your school account to take the course.")
        if st.button("Sign in", type="primary"):
            st.login()
        st.stop()
    email = st.user.get("email")
    found = roster.admit(members, email)
    if found is None:
        st.session_state.pop(MEMBER_KEY, None)
        st.title("Not on this class's roster")
        st.error(
            f"You are signed in as {identity.shown(str(email or 'an account without an e-mail'))}"
            ", which is not on this class's roster. Ask your instructor to add you, or sign "
            "out and sign in with the account they know.",
            icon=":material/block:",
        )
        if st.button("Sign out"):
            st.logout()
        st.stop()
    st.session_state[MEMBER_KEY] = found
    return found


def current() -> roster.Member | None:
    """The member this browser session signed in as (``None`` outside class mode)."""
    return st.session_state.get(MEMBER_KEY)


def sidebar(progress: quiz.ProgressStore, who: roster.Member) -> None:
    """Who is signed in, sign-out, course progress (no learner picker in class mode)."""
    states = quiz.lesson_states(shell.course(), progress.passed_lessons(who.email))
    done, total = logic.course_progress(states)
    with st.sidebar:
        role = " (instructor)" if who.is_instructor else ""
        st.markdown(f"Signed in as **{identity.shown(who.name)}**{role}")
        st.caption(identity.shown(who.email))
        if st.button("Sign out", key="sign_out"):
            st.logout()
        st.progress(
            done / total if total else 0.0, text=f"Course: {done} of {total} lessons passed"
        )
