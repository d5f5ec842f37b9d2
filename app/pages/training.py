"""Training page: train a small network live, compare stored runs, and look at the
degradation experiment and the gradient-flow probe.

Training, the degradation experiment and the gradient probe run on a background thread as an
:class:`app.jobs.Job` (``keras_cnn.train.train`` with the job as observer and its stop event;
at most ``jobs.MAX_RUNS`` on the server at once), never on the script thread.
Start and Stop change the job in their callbacks, before the page is drawn, so both buttons
always show the run's state; a fragment redraws the progress and the curves every
``POLL_SECONDS`` and reruns the page when the run ends. Every run is stored under
``$KERAS_CNN_HOME/runs`` after each epoch, so a reload loses nothing.
The page's address is ``/training``; lessons link to its views with
``/training?view=train|compare|degradation|gradients``.
"""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import charts, classroom, jobs, logic, queue_view

RESULTS = Path(__file__).resolve().parents[2] / "results"
VIEWS = {
    "train": "Train",
    "compare": "Compare runs",
    "degradation": "Degradation experiment",
    "gradients": "Gradient flow",
}
#: How often the live progress redraws. Not faster: every redraw takes the GIL from the training
#: thread, and on a busy 2-core machine 0.5 s made LeNet-5's first batch take 40 s instead of 3.
POLL_SECONDS = 1.5


def _job(kind: str) -> jobs.Job | None:
    """This session's job of a view (running or finished), if any."""
    job = st.session_state.get("job")
    return job if isinstance(job, jobs.Job) and job.kind == kind else None


def _busy() -> bool:
    job = st.session_state.get("job")
    return isinstance(job, jobs.Job) and job.alive


def _launch(kind: str, target, **kwargs) -> None:
    """Start a job for this session, or keep the server's refusal to show it."""
    st.session_state.pop("job_refused", None)
    try:
        st.session_state["job"] = jobs.start(kind, target, **kwargs)
    except jobs.Busy as exc:
        st.session_state["job_refused"] = str(exc)


def _stop(kind: str) -> None:
    job = _job(kind)
    if job is not None:
        job.request_stop()


def _controls(kind: str, start_label: str, on_start) -> None:
    """Start and Stop, drawn from the job's state at this run (callbacks change it first)."""
    job = _job(kind)
    busy = _busy()
    left, right = st.columns(2)
    left.button(start_label, key=f"{kind}_start", type="primary", disabled=busy, on_click=on_start)
    stopping = job is not None and job.alive and job.stop.is_set()
    right.button(
        "Stopping…" if stopping else "Stop",
        key=f"{kind}_stop",
        disabled=job is None or not job.alive or stopping,
        on_click=_stop,
        args=(kind,),
    )
    if st.session_state.get("job_refused"):
        st.warning(st.session_state["job_refused"], icon=":material/hourglass_top:")


def _live(kind: str) -> None:
    """Progress and curves of the running job, redrawn every ``POLL_SECONDS`` in a fragment;
    when the job ends the whole page reruns, so Start and Stop and the result follow."""
    job = _job(kind)
    watching = job is not None and job.alive

    @st.fragment(run_every=POLL_SECONDS if watching else None)
    def live() -> None:
        job = _job(kind)
        if job is None:
            return
        if not job.alive:
            if watching:
                st.rerun()
            return
        st.progress(job.fraction(), text=job.status())
        if job.rows:
            st.altair_chart(charts.training_curves(pd.DataFrame(job.rows)), width="stretch")
        else:
            st.caption("The curves appear after the first epoch.")

    live()


# ----------------------------------------------------------------------------- views


def _train_view(device: dict) -> None:
    st.subheader("Train a small network")
    left, middle, right = st.columns(3)
    model = left.selectbox(
        "Model",
        list(SMALL_MODELS),
        index=list(SMALL_MODELS).index("resnet20"),
        format_func=lambda n: f"{n} — {SMALL_MODELS[n][1].split(',')[0].split(':')[0]}",
        key="model",
    )
    dataset = left.selectbox(
        "Data",
        list(data_lib.DATASETS),
        format_func=lambda n: f"{n} ({'embedded' if n == 'digits' else 'TFDS'})",
        key="data",
        help=data_lib.DATASETS["digits"].description,
    )
    middle.number_input("Epochs", 1, 200, 5, key="epochs")
    middle.selectbox("Batch size", [32, 64, 128, 256], index=2, key="batch_size")
    middle.number_input("Images per split (0 = all)", 0, 100_000, 0, step=64, key="limit")
    right.number_input("Learning rate", 0.0001, 1.0, 0.1, format="%.4f", key="lr")
    right.selectbox(
        "Schedule",
        list(SCHEDULES),
        key="schedule",
        help="auto: the paper's ÷10 at 50% and 75% of the epochs from 5 epochs on, the cosine "
        "for shorter runs; paper: always those divisions; cosine; constant.",
    )
    right.checkbox("Augment (pad, crop, flip)", key="augment")
    if dataset != "digits" and not data_lib.is_available(dataset):
        st.info(
            f"{dataset} is not on disk yet: starting will try to download it through "
            "TensorFlow Datasets, and say so within seconds if it cannot."
        )

    how = queue_view.mode()
    if how == "queue":  # a class on PostgreSQL: the class's workers train (app/queue_view.py)
        ended = queue_view.controls_and_progress(
            _queue_training,
            lambda rows: charts.training_curves(pd.DataFrame(rows).assign(model=model)),
        )
        if ended is not None:
            _queued_result(ended)
        return
    if how == "class-local":
        st.caption(
            "This class's database is SQLite (one machine): training runs on this server, one "
            "run at a time. Training on worker machines needs PostgreSQL (docs/workers.md)."
        )
    _controls("train", "Start", _start_training)
    _live("train")
    job = _job("train")
    if job is not None and not job.alive:
        _train_result(job)


def _settings() -> dict:
    """The training settings as the widgets hold them."""
    state = st.session_state
    return dict(
        epochs=int(state["epochs"]),
        batch_size=int(state["batch_size"]),
        learning_rate=float(state["lr"]),
        schedule=state["schedule"],
        augment=bool(state["augment"]),
        limit=int(state["limit"]) or None,
    )


def _queue_training() -> None:
    """Start's callback in a class on PostgreSQL: the job goes into the class's queue."""
    state = st.session_state
    queue_view.submit({"model": state["model"], "data": state["data"], **_settings()})


def _queued_result(job) -> None:
    """A queued job that ended: its result, read from the database."""
    what = f"{job.request['model']} on {job.request['data']}"
    if job.state == "failed":
        st.error(f"Training {what} failed: {job.error}", icon=":material/error:")
        return
    if job.state == "cancelled":
        st.info(f"Training {what} was cancelled before it started.")
        return
    st.success(f"{what} {job.state} after {len(job.rows)} epoch(s) on {job.worker}.")
    if job.rows:
        history = pd.DataFrame(job.rows)
        st.altair_chart(charts.training_curves(history.assign(model=job.request["model"])))
        st.dataframe(history, hide_index=True, key="history")


def _start_training() -> None:
    """Start's callback: the settings as the widgets hold them at the click."""
    state = st.session_state
    model, dataset = state["model"], state["data"]
    settings = _settings()

    member = classroom.current()  # class mode: the run names its learner (quiz.gallery)
    tags = {"learner": member.email} if member is not None else None

    def target(job):
        return train(
            model, dataset, observers=[job], stop=job.stop, verbose=0, tags=tags, **settings
        )

    _launch("train", target, label=f"{model} on {dataset}", model=model, data=dataset, **settings)


def _train_result(job: jobs.Job) -> None:
    if job.error:
        st.error(f"Training {job.label} failed: {job.error}", icon=":material/error:")
        return
    history = job.result
    if history is None:
        return
    state = "stopped" if history.attrs.get("stopped") else "finished"
    st.success(f"{history.attrs['model']} {state} after {len(history)} epoch(s).")
    if len(history):
        last = history.iloc[-1]
        cols = st.columns(4)
        cols[0].metric("Train accuracy", f"{last.accuracy:.3f}")
        cols[1].metric("Test accuracy", f"{last.test_accuracy:.3f}")
        cols[2].metric("Images / s", f"{history.images_per_second.iloc[-1]:.0f}")
        cols[3].metric("Seconds", f"{history.seconds.sum():.1f}")
        st.altair_chart(charts.training_curves(history.assign(model=history.attrs["model"])))
    st.dataframe(history, hide_index=True, key="history")
    if history.attrs.get("run_dir"):
        st.caption(f"Stored as run `{Path(history.attrs['run_dir']).name}`.")


def _compare_view() -> None:
    st.subheader("Compare stored runs")
    table = runs_lib.list_runs()
    if table.empty:
        st.info("No stored runs yet: train one in the Train view.")
        return
    links = table.id.map(logic.look_inside_address).where(table.model_file.notna(), None)
    table.insert(1, "look_inside", links)
    st.dataframe(
        table,
        hide_index=True,
        key="runs",
        column_config={
            "look_inside": st.column_config.LinkColumn(
                "Look inside", display_text="open", help="Open this run in Look inside"
            )
        },
    )
    chosen = st.multiselect(
        "Runs", table.id.tolist(), default=table.id.tolist()[:5], key="runs_pick"
    )
    metric = st.selectbox("Metric", charts.METRICS, key="runs_metric")
    frames = []
    for run_id in chosen:
        history, _ = runs_lib.load_run(run_id)
        if metric in history and len(history):
            frames.append(history.assign(run=run_id))
    if frames:
        long = pd.concat(frames, ignore_index=True)
        st.altair_chart(
            alt.Chart(long)
            .mark_line(point=True)
            .encode(
                x=charts.epoch_axis(),
                y=alt.Y(f"{metric}:Q"),
                color="run:N",
                tooltip=["run", "epoch", metric],
            ),
            width="stretch",
        )


def _error_chart(curves: pd.DataFrame) -> alt.Chart:
    """Error per epoch: models by colour; train solid with filled dots, test dashed with
    hollow ones, and a legend drawing each split's line (not two identical dots)."""
    long = curves.melt(
        id_vars=["model", "epoch"],
        value_vars=["train_error", "test_error"],
        var_name="error",
        value_name="value",
    )
    long["split"] = long.error.map({"train_error": "train", "test_error": "test"})
    splits = ["train", "test"]
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=charts.epoch_axis(),
            y=alt.Y("value:Q", title="error"),
            color=alt.Color("model:N", title="model"),
            strokeDash=alt.StrokeDash(
                "split:N",
                title="split",
                scale=alt.Scale(domain=splits, range=[[1, 0], [6, 4]]),
                legend=alt.Legend(symbolType="stroke", symbolStrokeWidth=2, symbolSize=400),
            ),
            shape=alt.Shape(
                "split:N", title="split", scale=alt.Scale(domain=splits, range=["circle", "square"])
            ),
            tooltip=["model", "epoch", "split", alt.Tooltip("value:Q", format=".3f")],
        )
    )


def _degradation_view() -> None:
    st.subheader("The degradation experiment (He et al. 2015, Figure 6)")
    st.markdown(
        "Plain networks of 20 and 56 layers and their residual twins, same seed, same "
        "schedule. On CIFAR-10 with the paper's 64k-iteration schedule the 56-layer plain net "
        "has the *higher training error*; the residual 56 the lowest. Below is what was "
        "actually run here: a small-scale run is not the paper's result."
    )
    for csv in sorted(RESULTS.glob("degradation_*.csv")):
        curves = pd.read_csv(csv)
        meta_path = csv.with_suffix(".json")
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        st.markdown(
            f"**{csv.name}** — {meta.get('hardware', '?')}, commit `{meta.get('commit', '?')}`"
        )
        st.caption(f"Command: `{meta.get('command', '?')}`")
        st.altair_chart(_error_chart(curves), width="stretch")
        final = curves.sort_values("epoch").groupby("model").last()[["train_error", "test_error"]]
        st.dataframe(final, key=f"final_{csv.stem}")

    st.markdown("**Run it yourself** (small depths finish in minutes on a CPU)")
    cols = st.columns(3)
    cols[0].multiselect("Depths", [8, 14, 20, 32, 56], default=[20, 56], key="deg_depths")
    cols[1].number_input("Epochs", 1, 100, 5, key="deg_epochs")
    cols[2].number_input("Images per split (0 = all)", 0, 100_000, 0, key="deg_limit")
    _controls("degradation", "Run the experiment", _start_degradation)
    _live("degradation")
    job = _job("degradation")
    if job is not None and not job.alive:
        if job.error:
            st.error(f"The experiment failed: {job.error}", icon=":material/error:")
        elif job.result is not None:
            st.altair_chart(_error_chart(job.result), width="stretch")
            st.dataframe(job.result, hide_index=True, key="deg_result")


def _start_degradation() -> None:
    """The experiment's Start callback: the settings as the widgets hold them at the click."""
    state = st.session_state
    depths = tuple(sorted(state["deg_depths"]))
    epochs, limit = int(state["deg_epochs"]), int(state["deg_limit"]) or None
    if not depths:
        st.session_state["job_refused"] = "Pick at least one depth."
        return

    def target(job):
        return degradation(depths, epochs=epochs, limit=limit, observers=[job])

    _launch(
        "degradation",
        target,
        label=f"the degradation experiment (depths {', '.join(map(str, depths))})",
        epochs=epochs,
        models=2 * len(depths),
    )


def _gradients_view() -> None:
    st.subheader("Gradient flow: plain vs residual")
    st.markdown(
        "The gradient of the loss with respect to each block's weights, input on the left, "
        "for a freshly initialised plain network and its residual twin on one batch of the "
        "embedded digits (batch norm in training mode). Measured here with seed 0, batch 64: "
        "in plain-56 the gradient grows about 1,000x from the last block to the first, "
        "in ResNet-56 about 5x: without the identity path the gradient's scale depends "
        "violently on depth."
    )
    cols = st.columns(3)
    cols[0].selectbox("Depth", [20, 32, 56, 110], index=2, key="grad_depth")
    cols[1].selectbox("Batch", [16, 32, 64, 128], index=2, key="grad_batch")
    cols[2].number_input("Seed", 0, 10_000, 0, key="grad_seed")
    _controls("gradients", "Measure", _start_gradients)
    _live("gradients")
    job = _job("gradients")
    if job is None or job.alive:
        return
    if job.error:
        st.error(f"The measurement failed: {job.error}", icon=":material/error:")
        return
    if job.result is None:
        return
    st.altair_chart(
        alt.Chart(job.result)
        .mark_line(point=True)
        .encode(
            x=alt.X("position:Q", title="block (0 = stem, input side)"),
            y=alt.Y("weight_grad_norm:Q", scale=alt.Scale(type="log"), title="‖∂L/∂W‖"),
            color="model:N",
            tooltip=["model", "block", alt.Tooltip("weight_grad_norm:Q", format=".3g")],
        ),
        width="stretch",
    )
    st.dataframe(job.result, hide_index=True, key="grad_table")


def _start_gradients() -> None:
    """Measure's callback: one forward and backward pass per model, as a job like training
    (a background thread, the server's one-run limit), never on the script thread."""
    state = st.session_state
    depth, batch, seed = int(state["grad_depth"]), int(state["grad_batch"]), int(state["grad_seed"])

    def target(job: jobs.Job) -> pd.DataFrame:
        x, y = data_lib.arrays("digits", limit=batch)
        frames = []
        for kind in ("plain", "resnet"):
            if job.stop.is_set():
                break
            job.model, job.models_started = f"{kind}{depth}", job.models_started + 1
            with _seeded(seed):
                model = build_model(job.model)
            frames.append(gradient_norms(model, (x, y)).assign(model=job.model))
        return pd.concat(frames, ignore_index=True) if frames else None

    _launch(
        "gradients",
        target,
        label=f"the gradient probe (plain{depth}, resnet{depth})",
        epochs=0,
        models=2,
    )


@contextlib.contextmanager
def _seeded(seed: int):
    """Keras' seed for one model's initial weights; Python's and NumPy's global generators are
    given back as they were (lesson checks and other sessions draw from them)."""
    import keras

    py_state, np_state = random.getstate(), np.random.get_state()
    keras.utils.set_random_seed(seed)
    try:
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)


# ----------------------------------------------------------------------------- page

st.title("Train, live")
# The title shows at once; TensorFlow loads under a visible message (seconds on a cold server).
with st.spinner("Loading TensorFlow and keras_cnn …"):
    from keras_cnn import data as data_lib
    from keras_cnn import runs as runs_lib
    from keras_cnn.models.small import SMALL_MODELS
    from keras_cnn.train import SCHEDULES, build_model, device_info, train
    from keras_cnn.training.experiments import degradation, gradient_norms
device = device_info()
st.caption(
    f"Device: **{device['device']}**"
    + (f" ({', '.join(device['names'])}, mixed precision + XLA)" if device["gpus"] else "")
    + f" · {device['cpus']} CPU cores · Keras backend {device['backend']}"
    + ("" if device["gpus"] else " · float32")
)
requested = st.query_params.get("view", "train")
view = st.radio(
    "View",
    list(VIEWS),
    index=list(VIEWS).index(requested) if requested in VIEWS else 0,
    format_func=VIEWS.get,
    horizontal=True,
    key="view",
    label_visibility="collapsed",
)
st.query_params["view"] = view
{
    "train": lambda: _train_view(device),
    "compare": _compare_view,
    "degradation": _degradation_view,
    "gradients": _gradients_view,
}[view]()
