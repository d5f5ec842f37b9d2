"""Who the learner is: kept with the browser, in the page address (``?learner=Zoë``).

:func:`learner` is the one answer to "who is this?"; class mode (sign-in) replaces it by
``st.user``. A reload (F5), a bookmark, a copied address and a new tab of it keep the learner,
because the address holds the name. Moving between pages inside the app drops the query string,
so every script run writes the name back from the session. A browser with neither is asked
"who are you?" in the main area (:func:`ask`, readable on a phone, where the sidebar is
collapsed): the server's other learners are never assumed.

Names are shown through :func:`shown` (Markdown-escaped): a name like ``![t](http://...)`` or
``$x$`` is text, never an image or a formula.

Imports Streamlit and ``quiz`` only.
"""

from __future__ import annotations

import streamlit as st

import quiz
from app import logic
from quiz.store import learner_key, validate_learner

#: The query parameter of the page address that holds the learner's name.
PARAM = "learner"
#: Session-state key of the learner of this browser session.
SESSION_KEY = "learner"
#: Session-state key of the signed-in roster member in class mode (set by
#: :func:`app.classroom.member` on every script run before any page): then the learner is
#: always their e-mail, whatever the address says.
CLASS_MEMBER_KEY = "class_member"
_ERROR_KEY = "learner_error"


def shown(name: str) -> str:
    """A learner name for ``st.markdown`` and any label that renders Markdown: exactly as typed."""
    return logic.markdown_escape(name)


def _resolve(progress: quiz.ProgressStore, name: str) -> tuple[str, bool]:
    """``(stored spelling, True)`` of a known learner ("ada" finds "Ada"), else ``(name checked
    and normalised, False)``.

    Raises:
        ValueError: If ``name`` is not a valid learner name (empty, all spaces, invisible
            characters, too long).
    """
    if isinstance(name, str) and name.strip():
        key = learner_key(name)
        for known in progress.learners():
            if learner_key(known) == key:
                return known, True
    return validate_learner(name), False


def learner(progress: quiz.ProgressStore) -> str | None:
    """The learner of this browser: ``?learner=`` in the address, else the one chosen earlier
    in this session; ``None`` when the browser has none (then :func:`ask`).

    A name in the address that the store does not know yet is added (unless the store is
    read-only); an invalid one is refused with a message and the browser is asked again.
    """
    member = st.session_state.get(CLASS_MEMBER_KEY)
    if member is not None:  # class mode: the sign-in decides, never ?learner=
        return member.email
    wanted = st.query_params.get(PARAM) or st.session_state.get(SESSION_KEY)
    if not wanted:
        return None
    try:
        name, known = _resolve(progress, wanted)
    except ValueError as exc:
        st.session_state.pop(SESSION_KEY, None)
        st.session_state[_ERROR_KEY] = f"Not a valid name: {exc}"
        st.query_params.pop(PARAM, None)
        return None
    if not known and not progress.read_only:
        try:
            name = progress.add_learner(name)
        except quiz.StoreError as exc:
            st.session_state[_ERROR_KEY] = str(exc)
    st.session_state[SESSION_KEY] = name
    if st.query_params.get(PARAM) != name:
        st.query_params[PARAM] = name
    return name


def choose(name: str) -> None:
    """Make ``name`` the learner of this browser (a callback: the next run reads it).

    An empty or invalid name leaves the learner unchanged and says why (:func:`error`).
    """
    st.session_state.pop(_ERROR_KEY, None)
    try:
        progress = quiz.ProgressStore()
        name, known = _resolve(progress, name)
        if not known:  # a read-only store says so (StoreError)
            name = progress.add_learner(name)
    except ValueError as exc:
        st.session_state[_ERROR_KEY] = f"Not a valid name: {exc}. Type your name."
        return
    except quiz.StoreError as exc:
        st.session_state[_ERROR_KEY] = str(exc)
        return
    st.session_state[SESSION_KEY] = name
    st.query_params[PARAM] = name


def error() -> str | None:
    """Why the last name typed was refused, or ``None``."""
    return st.session_state.get(_ERROR_KEY)


def where(progress: quiz.ProgressStore) -> str:
    """Where answers are kept, for the learner to read: "on this computer, in <path>"."""
    if progress.path is None:
        return "in the course's database"
    return f"on the computer running the course, in `{progress.path}`"


def _typed() -> None:
    choose(st.session_state.get("who_new", ""))


def _picked() -> None:
    if st.session_state.get("who_known"):
        choose(st.session_state.who_known)


def ask(progress: quiz.ProgressStore) -> None:
    """The "who are you?" prompt in the main area, for a browser without a learner."""
    st.title("Who are you?")
    st.markdown(
        "The course saves your System Check answers and progress under your name, "
        f"{where(progress)}. Your name is kept in this page's address: bookmark it, or type "
        "the same name again next time."
    )
    with st.form("who", border=True):
        st.text_input("Your name", key="who_new", placeholder="e.g. Ada", max_chars=64)
        st.form_submit_button("Start", type="primary", on_click=_typed)
    if error():
        st.error(error(), icon=":material/error:")
    names = progress.learners()
    if names:
        st.selectbox(
            "Or continue as",
            names,
            index=None,
            key="who_known",
            placeholder="A learner already on this computer",
            on_change=_picked,
        )
