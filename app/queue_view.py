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
its place in the queue, then its progress per batch, on whichever replica they are. The
instructor's page lists the class's jobs (:func:`class_queue`). Imports Streamlit and the
framework-free queue module only.
"""

from __future__ import annotations

from collections.abc import Mapping

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


# ----------------------------------------------------------------------------- the instructor's view

#: Ended jobs the instructor's view lists after the active ones (the newest).
ENDED_SHOWN = 20
#: How often the instructor's view of the queue reads it back (seconds).
CLASS_POLL_SECONDS = 5.0


def class_rows(views: list[q.JobView], names: Mapping[str, str]) -> list[dict]:
    """The class's jobs as the instructor's table: running, then queued in their order, then
    the :data:`ENDED_SHOWN` latest ended; ``names`` maps e-mails to roster names."""
    running = [v for v in views if v.state == "running"]
    queued = sorted((v for v in views if v.state == "queued"), key=lambda v: v.place or 0)
    ended = sorted((v for v in views if not v.active), key=lambda v: -v.ticket)[:ENDED_SHOWN]
    return [
        {
            "ticket": v.ticket,
            "who": names.get(v.learner, v.learner),
            "model": v.request.get("model"),
            "data": v.request.get("data"),
            "epochs": v.epochs,
            "state": v.state + (" (stopping)" if v.active and v.stop else ""),
            "place": v.place,
            "worker": v.worker or "",
            "attempt": v.attempt,
            "progress": v.fraction(),
            "error": v.error or "",
        }
        for v in running + queued + ended
    ]


def class_queue(names: Mapping[str, str]) -> None:
    """The instructor's view of the class's queue (who, model, state, place, worker,
    progress), read back every :data:`CLASS_POLL_SECONDS`; a line where the class has none."""
    if mode() != "queue":
        st.info(
            "This class trains on the server, one run at a time: the training queue and its "
            "workers need the class database on PostgreSQL (see docs/workers.md)."
        )
        return
    jobs = training_queue()
    st.caption(limits_caption(jobs))

    @st.fragment(run_every=CLASS_POLL_SECONDS)
    def table() -> None:
        rows = class_rows(jobs.jobs(), names)
        states = [r["state"].split()[0] for r in rows]
        busy = sorted({r["worker"] for r in rows if r["state"].startswith("running")})
        left, middle, right = st.columns(3)
        left.metric("Running", states.count("running"))
        middle.metric("Queued", states.count("queued"))
        right.metric("Busy workers", len(busy), help=", ".join(busy) or None)
        if not rows:
            st.info("No training job yet: learners start them on the Training page.")
            return
        st.dataframe(
            rows,
            hide_index=True,
            column_config={
                "progress": st.column_config.ProgressColumn(min_value=0, max_value=1),
                "place": st.column_config.NumberColumn(help="place in the queue (queued only)"),
            },
        )

    table()
