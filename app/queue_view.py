"""The training page in a class on PostgreSQL: Start queues the job for the class's workers.

Which way a page trains (a table, not branches through the page):

=====================================  ==========================================
single-user (no class mode)            in-process, as always (:mod:`app.jobs`)
class mode, SQLite database (one box)  in-process, one run at a time on the server
class mode, PostgreSQL database        the queue: ``python -m keras_cnn worker``
=====================================  ==========================================

A class on SQLite is one machine: there is nowhere else to train and the queue engine
(procrastinate) needs PostgreSQL, so the page trains as today and says so. On PostgreSQL the
page draws the learner's job from the database (:class:`keras_cnn.training.queue.TrainingQueue`):
its place in the queue, then its progress per batch, on whichever replica they are. Imports
Streamlit and the framework-free queue module only.
"""

from __future__ import annotations

import streamlit as st

from app import classroom
from keras_cnn.training import queue as q

#: How often a queued or running job is read back from the database (seconds).
POLL_SECONDS = 1.0


@st.cache_resource(show_spinner=False)
def _queue(url: str) -> q.TrainingQueue:
    return q.TrainingQueue(url)


def mode() -> str:
    """``"single"``, ``"class-local"`` (class mode on SQLite) or ``"queue"``."""
    if classroom.current() is None:
        return "single"
    url = classroom.settings().database_url or ""
    return (
        "queue"
        if url.split("://", 1)[0].split("+")[0] in ("postgresql", "postgres")
        else ("class-local")
    )


def training_queue() -> q.TrainingQueue:
    """The class's queue (one per server process and database)."""
    return _queue(classroom.settings().database_url)


def limits_caption(jobs: q.TrainingQueue) -> str:
    limits = jobs.limits()
    images = f"at most {limits.images:,} images per split" if limits.images else "whole datasets"
    return (
        f"This class trains on its workers. The instructor's limits: {', '.join(limits.models)}; "
        f"{', '.join(limits.datasets)}; up to {limits.epochs} epochs; batches up to "
        f"{limits.batch_size}; {images}."
    )


def submit(request: dict) -> None:
    """Start's callback: queue the job, or keep the refusal to show it."""
    st.session_state.pop("job_refused", None)
    member = classroom.current()
    try:
        training_queue().submit(member.email, request)
    except q.QueueError as exc:
        st.session_state["job_refused"] = str(exc)


def _stop(ticket: int) -> None:
    training_queue().stop(ticket)


def controls_and_progress(on_start, curves) -> q.JobView | None:
    """Start and Stop, then the learner's job redrawn every :data:`POLL_SECONDS` while it is
    queued or running; the job (``None`` before the first) for the page's result view."""
    jobs = training_queue()
    member = classroom.current()
    job = jobs.current(member.email)
    active = job is not None and job.active
    left, right = st.columns(2)
    left.button("Start", key="train_start", type="primary", disabled=active, on_click=on_start)
    right.button(
        "Stopping…" if active and job.stop else "Stop",
        key="train_stop",
        disabled=not active or job.stop,
        on_click=_stop,
        args=(job.ticket if job else 0,),
    )
    if st.session_state.get("job_refused"):
        st.warning(st.session_state["job_refused"], icon=":material/hourglass_top:")
    st.caption(limits_caption(jobs))

    @st.fragment(run_every=POLL_SECONDS if active else None)
    def live() -> None:
        now = jobs.current(member.email)
        if now is None:
            return
        if not now.active:
            if active:
                st.rerun()
            return
        st.progress(now.fraction(), text=now.status())
        if now.rows:
            st.altair_chart(curves(now.rows), width="stretch")

    live()
    return None if active else job
