"""What every page shares: the progress store, the sidebar (who the learner is: :mod:`app.identity`).

Imports Streamlit and ``quiz`` only, never TensorFlow (the course map must paint without it),
and no page module: lesson pages and links to them live in :mod:`app.lesson`, which imports this.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import warnings
from collections.abc import Iterator

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

import quiz
from app import identity, logic
from quiz import settings as quiz_settings

_STORE_WARNING = "_store_warning"


def course() -> quiz.Course:
    """The packaged course (validated once per process by ``quiz.get_course``)."""
    return quiz.get_course()


def secrets() -> dict:
    """``st.secrets`` as a dict (empty when there is no secrets file)."""
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets file (StreamlitSecretNotFoundError), or one that does not parse
        return {}


def store() -> quiz.ProgressStore:
    """The progress store (a class's database when ``secrets.toml`` names one); a corrupt
    file is moved aside by the store and reported here."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", quiz.StoreWarning)
            progress = quiz.ProgressStore(quiz_settings.database_url(secrets()))
    except (quiz.StoreError, OSError, ValueError) as exc:
        st.error(f"The progress store cannot be opened: {exc}")
        st.stop()
    for warning in caught:
        if issubclass(warning.category, quiz.StoreWarning):
            st.session_state[_STORE_WARNING] = str(warning.message)
    if st.session_state.get(_STORE_WARNING):
        st.warning(
            "Your saved progress could not be read, so the course started a fresh record. "
            f"Details: {st.session_state[_STORE_WARNING]}",
            icon=":material/warning:",
        )
    if progress.read_only:
        st.warning(
            "Your progress is read-only: it is shown, but nothing new is saved "
            f"({progress.read_only_reason}). Make {progress.location} writable, or set "
            "KERAS_CNN_HOME to a writable folder.",
            icon=":material/lock:",
        )
    return progress


def _switch() -> None:
    identity.choose(st.session_state.learner_select)


def _add_learner() -> None:
    name = st.session_state.get("new_learner", "")
    st.session_state.new_learner = ""
    identity.choose(name)


def passed_for_unlocking(progress: quiz.ProgressStore, learner: str) -> set[str]:
    """The passed lessons that unlock others: a lesson whose exercise gates it (a content
    flag, off by default) counts once that exercise is built."""
    from quiz import exercises

    return exercises.passed_for_unlocking(progress.passed_lessons(learner), learner)


def sidebar(progress: quiz.ProgressStore, learner: str) -> None:
    """The learner picker and course progress in the sidebar."""
    names = sorted(set(progress.learners()) | {learner})
    states = quiz.lesson_states(course(), passed_for_unlocking(progress, learner))
    done, total = logic.course_progress(states)
    with st.sidebar:
        st.session_state.learner_select = learner
        st.selectbox(
            "Learner",
            names,
            key="learner_select",
            on_change=_switch,
            help=f"Answers and progress are stored {identity.where(progress)}.",
        )
        st.text_input(
            "New learner",
            key="new_learner",
            placeholder="Type a name, press Enter",
            on_change=_add_learner,
        )
        if identity.error():
            st.error(identity.error())
        st.progress(
            done / total if total else 0.0, text=f"Course: {done} of {total} lessons passed"
        )


_prewarm_lock = threading.Lock()
_prewarmed = False
_last_run = 0.0
#: The server must have run no page for this long before TensorFlow is imported in the
#: background: the import keeps a core busy for seconds, and pages being drawn (several
#: learners arriving at once) need the CPU first.
PREWARM_IDLE_S = 2.0
#: ... but no later than this after the first page run (a page that needs TensorFlow earlier
#: imports it itself).
PREWARM_LATEST_S = 30.0


def prewarm() -> None:
    """Import TensorFlow and keras_cnn in a background thread once per server process, once
    the pages have been drawn (no page run for ``PREWARM_IDLE_S``), so the first model page does
    not wait for the import. Called at the end of every page run."""
    global _prewarmed, _last_run
    with _prewarm_lock:
        _last_run = time.monotonic()
        if _prewarmed:
            return
        _prewarmed = True
    first = _last_run

    def load() -> None:
        while True:
            now = time.monotonic()
            with _prewarm_lock:
                quiet = now - _last_run
            if quiet >= PREWARM_IDLE_S or now - first >= PREWARM_LATEST_S:
                break
            time.sleep(PREWARM_IDLE_S - quiet if quiet < PREWARM_IDLE_S else 0.1)
        log_event("tensorflow import start", session="-")
        try:
            import keras_cnn  # noqa: F401
        except Exception:  # pragma: no cover - the page importing it shows the error
            pass
        log_event("tensorflow import end", session="-")

    thread = threading.Thread(target=load, name="keras-cnn-prewarm", daemon=True)
    thread.start()


#: Set to a file name, the server appends one JSON line per script run event there (see
#: :func:`log_event`): ``benchmarks/app_latency.py`` reads it to tell the server's time from
#: the browser's. Unset (the default), nothing is written.
RUN_LOG_ENV = "KERAS_CNN_RUN_LOG"
_run_log_lock = threading.Lock()


def log_event(event: str, session: str | None = None) -> None:
    """Append ``{"event", "session", "t"}`` to the file named by ``KERAS_CNN_RUN_LOG``, if set.

    Args:
        event: What happened, e.g. ``"run start"``, ``"check drawn"``.
        session: The browser session's id; by default the current script run's (``"-"``
            outside a run).

    ``t`` is ``time.monotonic()``, the system's monotonic clock, which a benchmark in another
    process on the same machine reads too.
    """
    path = os.environ.get(RUN_LOG_ENV)
    if not path:
        return
    if session is None:
        ctx = get_script_run_ctx(suppress_warning=True)
        session = ctx.session_id if ctx is not None else "-"
    line = json.dumps({"event": event, "session": session, "t": time.monotonic()})
    with _run_log_lock, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")


@contextlib.contextmanager
def timed_run() -> Iterator[None]:
    """Log ``"run start"`` and ``"run end"`` around a script run (see :func:`log_event`).

    A run cut short by ``st.rerun``/``st.switch_page``/``st.stop`` logs its end too."""
    log_event("run start")
    try:
        yield
    finally:
        log_event("run end")
