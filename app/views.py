"""Model views shared by the lesson, explorer and model lab pages: cached summaries, totals
and diagrams. ``keras_cnn`` (and so TensorFlow) is imported inside the functions, on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    import pandas as pd

#: Above this many layers the diagram shows one node per block by default.
COLLAPSE_ABOVE = 120
#: A deep net with more blocks than this starts with one node per stage (ResNet-152: 7 nodes,
#: one screen); "Every block" and "Every layer" draw the rest on demand.
OVERVIEW_NODES = 16


@dataclass(frozen=True)
class ModelView:
    """Everything a page shows about one model (no keras objects: cheap to keep cached)."""

    name: str
    table: pd.DataFrame
    totals: dict[str, int]
    dot: str
    collapsed_dot: str
    layers: int
    overview_dot: str = ""


def _kwargs(kwargs_json: str) -> dict[str, Any]:
    kwargs = json.loads(kwargs_json)
    if isinstance(kwargs.get("input_shape"), list):
        kwargs["input_shape"] = tuple(kwargs["input_shape"])
    return kwargs


@st.cache_resource(show_spinner=False, max_entries=32)
def model_view(name: str, kwargs_json: str = "{}", block: str = "", builder: str = "") -> ModelView:
    """Build a model once per (name or builder, arguments, block) and keep its views.

    Args:
        name: Registry name (``get_model``), used when ``builder`` is empty.
        kwargs_json: Builder keyword arguments as JSON (hashable cache key).
        block: Draw only this block (``"conv2_block1"``) when set.
        builder: A ``keras_cnn`` builder function name (the model lab).

    Raises:
        ValueError: The builder's message for a bad name or a bad combination of arguments.
    """
    import keras_cnn
    from keras_cnn.analysis.diagram import to_dot

    kwargs = _kwargs(kwargs_json)

    def build():
        if builder:
            return getattr(keras_cnn, builder)(**kwargs)
        return keras_cnn.get_model(name, **kwargs)

    def view(model) -> ModelView:
        layers = len(model.operations)
        if block:
            dot = to_dot(model, block=block, title=f"{model.name}: {block}")
        elif layers > COLLAPSE_ABOVE:
            dot = ""
        else:
            dot = to_dot(model, title=model.name)
        collapsed = to_dot(model, collapse_blocks=True, title=f"{model.name}, one node per block")
        overview = ""
        if not block and collapsed.count(" [label=") > OVERVIEW_NODES:
            overview = to_dot(
                model, collapse_stages=True, title=f"{model.name}, one node per stage"
            )
        return ModelView(
            name=model.name,
            table=keras_cnn.summarize(model),
            totals=keras_cnn.totals(model),
            dot=dot,
            collapsed_dot=collapsed,
            layers=layers,
            overview_dot=overview,
        )

    # Only shapes are shown: build without initialising the weights (3x faster).
    return keras_cnn.inspect_structure(build, view)


def human(value: float) -> str:
    """1234567 -> '1.23M'."""
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.2f}{unit}"
    return f"{value:,.0f}"


def show_totals(view: ModelView) -> None:
    t = view.totals
    cols = st.columns(4)
    cols[0].metric("Parameters", human(t["params"]), help=f"{t['params']:,} (all weights)")
    cols[1].metric("Trainable", human(t["trainable_params"]), help=f"{t['trainable_params']:,}")
    cols[2].metric("Multiply-adds", human(t["macs"]), help=f"{t['macs']:,} for one image")
    cols[3].metric("Weight layers", t["weight_layers"], help="Depth as the papers count it")


#: Units for a table's activation memory: the largest that keeps the biggest layer at >= 1.
_BYTE_UNITS = (("GB", 2**30), ("MB", 2**20), ("KB", 2**10), ("bytes", 1))


def _field_text(field, output_shape) -> str:
    """A receptive field as the table shows it: a patch, ``7 x 7`` (one size per spatial axis
    of the output: ``7`` for a 1-D model, ``1 x 7`` for a non-square field), or ``whole
    input`` after global pooling or flattening (summarize's None)."""
    import pandas as pd

    if field is None or (not isinstance(field, tuple) and pd.isna(field)):
        return "whole input"
    if not isinstance(field, tuple):
        field = (int(field),) * max(len(output_shape) - 1, 1)
    return " x ".join(str(int(n)) for n in field)


def display_table(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """``summarize``'s table as the pages show it, and its column configuration.

    The receptive field reads as a patch (``7 x 7``; ``1 x 7`` for a non-square field, which
    no number column can hold; ``whole input`` after flattening); the activation memory is in the unit of its largest layer
    (KB for LeNet, MB for ResNet-50), as a number so the column still sorts.
    """
    shown = table.assign(output_shape=table.output_shape.map(str))
    config: dict[str, Any] = {
        "params": st.column_config.NumberColumn("params", format="localized"),
        "macs": st.column_config.NumberColumn("multiply-adds", format="localized"),
    }
    if "receptive_field" in shown:
        shown["receptive_field"] = [
            _field_text(field, shape)
            for field, shape in zip(table.receptive_field, table.output_shape, strict=True)
        ]
        config["receptive_field"] = st.column_config.TextColumn("receptive field (px)")
    if "activation_bytes" in shown:
        largest = int(shown.activation_bytes.fillna(0).max() or 0)
        unit, size = next((u, n) for u, n in _BYTE_UNITS if largest >= n or n == 1)
        shown["activation_bytes"] = shown.activation_bytes.astype("float64") / size
        config["activation_bytes"] = st.column_config.NumberColumn(
            f"activations ({unit})", format="%.0f" if size == 1 else "%.1f"
        )
    return shown, config


def show_table(view: ModelView, key: str) -> None:
    table, config = display_table(view.table)
    st.dataframe(
        table,
        hide_index=True,
        height=min(400, 35 * (len(table) + 1) + 3),
        key=key,
        column_config=config,
    )


#: The diagrams a deep net offers, from the one that fits a screen to the full graph.
_DIAGRAMS = {
    "overview": "Stages",
    "blocks": "Every block",
    "layers": "Every layer",
}


def show_diagram(view: ModelView, key: str, block: str = "") -> None:
    """The model's diagram. A deep net starts with one node per stage, which fits a screen;
    every block, and every layer where drawn, are a click away."""
    if block:
        st.graphviz_chart(view.dot)
        return
    sources = {"overview": view.overview_dot, "blocks": view.collapsed_dot, "layers": view.dot}
    offered = [name for name, dot in sources.items() if dot]
    if view.layers <= 60 and view.dot:  # a small net: every layer, blocks on request
        offered = ["layers", "blocks"]
    choice = offered[0]
    if len(offered) > 1:
        choice = (
            st.segmented_control(
                "Diagram",
                offered,
                default=offered[0],
                format_func=_DIAGRAMS.get,
                key=f"{key}-diagram",
                label_visibility="collapsed",
            )
            or offered[0]
        )
    st.graphviz_chart(sources[choice])
    if not view.dot:
        st.caption(f"{view.layers} layers: drawn at most one node per block.")


def show_model(
    name: str, *, block: str = "", caption: str = "", key: str = "", kwargs: dict | None = None
) -> ModelView | None:
    """Summary metrics, diagram and layer table of a registry model (errors as messages)."""
    key = key or f"model-{name}-{block}"
    try:
        with st.spinner(f"Building {name} ..."):
            view = model_view(name, json.dumps(kwargs or {}, sort_keys=True), block)
    except ValueError as exc:
        st.error(str(exc))
        return None
    show_totals(view)
    diagram, layers = st.tabs(["Diagram", f"Layers ({len(view.table)})"])
    with diagram:
        show_diagram(view, key, block)
    with layers:
        show_table(view, key)
    if caption:
        st.caption(caption)
    return view


def registry_table() -> pd.DataFrame:
    """``keras_cnn.list_models()``: the registry's table, which loads no deep-learning framework
    (the explorer's charts never wait for TensorFlow)."""
    import keras_cnn

    return keras_cnn.list_models()
