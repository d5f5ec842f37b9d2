"""Training page: train a small network live, compare stored runs, and look at the
degradation experiment and the gradient-flow probe.

Training runs on a background thread (``keras_cnn.train.train`` with an observer and a stop
event); this script polls its state and redraws a progress bar and Altair curves, so the
Stop button (a rerun) reaches it at the next batch. Every run is stored under
``$KERAS_CNN_HOME/runs`` after each epoch, so a reload loses nothing.
Lessons link to the views with ``?view=train|compare|degradation|gradients``.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from keras_cnn import data as data_lib
from keras_cnn import runs as runs_lib
from keras_cnn.experiments import degradation, gradient_norms
from keras_cnn.small import SMALL_MODELS
from keras_cnn.train import TrainingObserver, build_model, device_info, train

RESULTS = Path(__file__).resolve().parents[2] / "results"
VIEWS = {
    "train": "Train",
    "compare": "Compare runs",
    "degradation": "Degradation experiment",
    "gradients": "Gradient flow",
}
METRICS = ["val_accuracy", "accuracy", "val_loss", "loss"]
POLL_SECONDS = 0.25


class _JobObserver(TrainingObserver):
    """Writes training progress into the job dict the page polls (no Streamlit calls here)."""

    def __init__(self, job: dict):
        self.job = job

    def on_train_begin(self, info):
        self.job["model"] = info["model"]
        self.job["epochs"] = info["epochs"]
        self.job["models_started"] = self.job.get("models_started", 0) + 1

    def on_batch(self, epoch, batch, total_batches, logs):
        self.job["position"] = (epoch, batch, total_batches)

    def on_epoch(self, row):
        self.job["rows"].append({"model": self.job.get("model"), **row})


def _start_job(kind: str, target, **settings) -> None:
    job = {"kind": kind, "rows": [], "stop": threading.Event(), "settings": settings}
    job["observer"] = _JobObserver(job)

    def run() -> None:
        try:
            job["result"] = target(job)
        except Exception as error:  # shown on the page
            job["error"] = f"{type(error).__name__}: {error}"

    job["thread"] = threading.Thread(target=run, name=f"keras-cnn-{kind}", daemon=True)
    st.session_state["job"] = job
    job["thread"].start()


def _running(kind: str | None = None) -> dict | None:
    job = st.session_state.get("job")
    if job and job["thread"].is_alive() and (kind is None or job["kind"] == kind):
        return job
    return None


def _curves(rows: pd.DataFrame, color: str = "model") -> alt.Chart:
    long = rows.melt(
        id_vars=[color, "epoch"],
        value_vars=[c for c in METRICS if c in rows],
        var_name="metric",
        value_name="value",
    ).dropna()
    long["panel"] = long.metric.str.replace("val_", "").map(
        {"accuracy": "accuracy", "loss": "loss"}
    )
    long["split"] = long.metric.str.startswith("val_").map({True: "test", False: "train"})
    base = alt.Chart(long).mark_line(point=True)
    return (
        base.encode(
            x=alt.X("epoch:Q", title="epoch"),
            y=alt.Y("value:Q", title=None),
            color=alt.Color(f"{color}:N"),
            strokeDash=alt.StrokeDash("split:N"),
            tooltip=[color, "epoch", "metric", alt.Tooltip("value:Q", format=".4f")],
        )
        .properties(height=220, width=300)
        .facet(column=alt.Column("panel:N", title=None))
        .resolve_scale(y="independent")
    )


def _poll(job: dict, label) -> None:
    """Redraw progress and curves until the job's thread ends."""
    bar = st.progress(0.0, text="starting…")
    chart = st.empty()
    drawn = -1
    while job["thread"].is_alive():
        epoch, batch, total = job.get("position", (0, 0, None))
        epochs = job.get("epochs") or 1
        done = ((epoch - 1) + (batch / total if total else 0)) / epochs if epoch else 0.0
        bar.progress(min(max(done, 0.0), 1.0), text=label(job, epoch, batch, total))
        if len(job["rows"]) != drawn and job["rows"]:
            drawn = len(job["rows"])
            chart.altair_chart(_curves(pd.DataFrame(job["rows"])), width="stretch")
        time.sleep(POLL_SECONDS)
    bar.empty()
    chart.empty()


# ----------------------------------------------------------------------------- views


def _train_view(device: dict) -> None:
    st.subheader("Train a small network")
    left, middle, right = st.columns(3)
    model = left.selectbox(
        "Model",
        list(SMALL_MODELS),
        index=list(SMALL_MODELS).index("resnet20"),
        format_func=lambda n: f"{n} — {SMALL_MODELS[n][1]}",
        key="model",
    )
    dataset = left.selectbox(
        "Data",
        list(data_lib.DATASETS),
        format_func=lambda n: f"{n} ({'embedded' if n == 'digits' else 'TFDS'})",
        key="data",
        help=data_lib.DATASETS["digits"].description,
    )
    epochs = middle.number_input("Epochs", 1, 200, 5, key="epochs")
    batch_size = middle.selectbox("Batch size", [32, 64, 128, 256], index=2, key="batch_size")
    limit = middle.number_input("Images per split (0 = all)", 0, 100_000, 0, step=64, key="limit")
    learning_rate = right.number_input("Learning rate", 0.0001, 1.0, 0.1, format="%.4f", key="lr")
    schedule = right.selectbox("Schedule", ["paper", "cosine", "constant"], key="schedule")
    augment = right.checkbox("Augment (pad, crop, flip)", key="augment")
    if dataset != "digits" and not data_lib.is_available(dataset):
        st.info(
            f"{dataset} is not on disk yet: starting will try to download it through "
            "TensorFlow Datasets, and say so within seconds if it cannot."
        )

    job = _running()
    start_col, stop_col = st.columns(2)
    start = start_col.button("Start", key="start", type="primary", disabled=job is not None)
    if stop_col.button("Stop", key="stop", disabled=job is None) and job:
        job["stop"].set()
        st.toast("Stopping at the next batch…")
    if start and job is None:
        settings = dict(
            epochs=int(epochs),
            batch_size=int(batch_size),
            learning_rate=float(learning_rate),
            schedule=schedule,
            augment=bool(augment),
            limit=int(limit) or None,
        )

        def target(job, model=model, dataset=dataset, settings=settings):
            return train(
                model,
                dataset,
                observers=[job["observer"]],
                stop=job["stop"],
                verbose=0,
                **settings,
            )

        _start_job("train", target, model=model, data=dataset, **settings)

    job = st.session_state.get("job")
    if job and job["kind"] == "train":
        if job["thread"].is_alive():
            _poll(
                job,
                lambda j, e, b, t: (
                    f"{j.get('model', '')}: epoch {e}/{j.get('epochs')}, "
                    f"batch {b}/{t or '?'}" + (" — stopping…" if j["stop"].is_set() else "")
                ),
            )
        _train_result(job)


def _train_result(job: dict) -> None:
    if job.get("error"):
        st.error(job["error"])
        return
    history = job.get("result")
    if history is None:
        return
    state = "stopped" if history.attrs.get("stopped") else "finished"
    st.success(f"{history.attrs['model']} {state} after {len(history)} epoch(s).")
    if len(history):
        last = history.iloc[-1]
        cols = st.columns(4)
        cols[0].metric("Train accuracy", f"{last.accuracy:.3f}")
        cols[1].metric("Test accuracy", f"{last.val_accuracy:.3f}")
        cols[2].metric("Images / s", f"{history.images_per_second.iloc[-1]:.0f}")
        cols[3].metric("Seconds", f"{history.seconds.sum():.1f}")
        st.altair_chart(_curves(history.assign(model=history.attrs["model"])))
    st.dataframe(history, hide_index=True, key="history")
    if history.attrs.get("run_dir"):
        st.caption(f"Stored as run `{Path(history.attrs['run_dir']).name}`.")


def _compare_view() -> None:
    st.subheader("Compare stored runs")
    table = runs_lib.list_runs()
    if table.empty:
        st.info("No stored runs yet: train one in the Train view.")
        return
    st.dataframe(table, hide_index=True, key="runs")
    chosen = st.multiselect(
        "Runs", table.id.tolist(), default=table.id.tolist()[:5], key="runs_pick"
    )
    metric = st.selectbox("Metric", METRICS, key="runs_metric")
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
                x="epoch:Q", y=alt.Y(f"{metric}:Q"), color="run:N", tooltip=["run", "epoch", metric]
            ),
            width="stretch",
        )


def _error_chart(curves: pd.DataFrame) -> alt.Chart:
    long = curves.melt(
        id_vars=["model", "epoch"],
        value_vars=["train_error", "test_error"],
        var_name="error",
        value_name="value",
    )
    return (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x="epoch:Q",
            y=alt.Y("value:Q", title="error"),
            color="model:N",
            strokeDash="error:N",
            tooltip=["model", "epoch", "error", alt.Tooltip("value:Q", format=".3f")],
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
    depths = cols[0].multiselect("Depths", [8, 14, 20, 32, 56], default=[20, 56], key="deg_depths")
    epochs = cols[1].number_input("Epochs", 1, 100, 5, key="deg_epochs")
    limit = cols[2].number_input("Images per split (0 = all)", 0, 100_000, 0, key="deg_limit")
    if st.button("Run the experiment", key="deg_start", disabled=_running() is not None):
        chosen = tuple(sorted(depths))

        def target(job, depths=chosen, epochs=int(epochs), limit=int(limit) or None):
            job["total_models"] = 2 * len(depths)
            return degradation(depths, epochs=epochs, limit=limit, observers=[job["observer"]])

        _start_job("degradation", target)
    job = st.session_state.get("job")
    if job and job["kind"] == "degradation":
        if job["thread"].is_alive():
            _poll(
                job,
                lambda j, e, b, t: (
                    f"model {j.get('models_started', 0)}/{j.get('total_models')}"
                    f" ({j.get('model', '')}): epoch {e}/{j.get('epochs')}"
                ),
            )
        if job.get("error"):
            st.error(job["error"])
        elif job.get("result") is not None:
            st.altair_chart(_error_chart(job["result"]), width="stretch")
            st.dataframe(job["result"], hide_index=True, key="deg_result")


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
    depth = cols[0].selectbox("Depth", [20, 32, 56, 110], index=2, key="grad_depth")
    batch = cols[1].selectbox("Batch", [16, 32, 64, 128], index=2, key="grad_batch")
    seed = cols[2].number_input("Seed", 0, 10_000, 0, key="grad_seed")
    if st.button("Measure", key="grad_start"):
        import keras

        x, y = data_lib.arrays("digits", limit=int(batch))
        frames = []
        with st.spinner("one forward and backward pass per model…"):
            for kind in ("plain", "resnet"):
                keras.utils.set_random_seed(int(seed))
                model = build_model(f"{kind}{depth}")
                frames.append(gradient_norms(model, (x, y)).assign(model=f"{kind}{depth}"))
        st.session_state["gradients"] = pd.concat(frames, ignore_index=True)
    norms = st.session_state.get("gradients")
    if norms is not None:
        st.altair_chart(
            alt.Chart(norms)
            .mark_line(point=True)
            .encode(
                x=alt.X("position:Q", title="block (0 = stem, input side)"),
                y=alt.Y("weight_grad_norm:Q", scale=alt.Scale(type="log"), title="‖∂L/∂W‖"),
                color="model:N",
                tooltip=["model", "block", alt.Tooltip("weight_grad_norm:Q", format=".3g")],
            ),
            width="stretch",
        )
        st.dataframe(norms, hide_index=True, key="grad_table")


# ----------------------------------------------------------------------------- page

st.title("Train, live")
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
