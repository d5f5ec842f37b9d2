"""Architecture explorer: the registry's numbers as interactive charts. Every number comes
from ``keras_cnn.list_models()`` (computed from the code or cited from the paper), which loads no
deep-learning framework, so the charts never wait for TensorFlow."""

import altair as alt
import streamlit as st

from app import views


@st.cache_data(show_spinner=False)
def registry():
    """The registry's numbers: the charts never wait for TensorFlow (the model summary below
    them does, on a cold server)."""
    return views.registry_table()


ERRORS = {
    "ImageNet top-1 error (%)": "top1_error",
    "ImageNet top-5 error (%)": "top5_error",
    "CIFAR-10 error (%)": "cifar10_error",
}
#: Title -> (column, encoding, scale, tick format): counts in SI units (40G, not 40,000,000,000).
AXES = {
    "Year": ("year", "year:O", None, None),
    "Parameters": ("params", "params:Q", "log", "~s"),
    "Multiply-adds": ("macs", "macs:Q", "log", "~s"),
    "Depth (weight layers)": ("weight_layers", "weight_layers:Q", "log", "d"),
}

st.title("Architecture explorer")
st.markdown(
    "How the classic networks trade size, compute and depth for accuracy. Hover a point for "
    "its details; click one to open its summary below. Errors are the papers' own "
    "(single model; see the *source* column)."
)
with st.spinner("Loading the model registry ..."):
    table = registry()

#: One colour per family for every error choice: the scale's domain is every family of the
#: registry, not only those with a number for the chosen error (which renumbered the colours).
FAMILIES = alt.Scale(domain=sorted(table.family.unique()), scheme="tableau20")

error_label = st.radio("Error", list(ERRORS), horizontal=True, key="error_metric")
error = ERRORS[error_label]
data = table.dropna(subset=[error]).assign(
    params_m=lambda t: t.params / 1e6, gmacs=lambda t: t.macs / 1e9
)
tooltip = [
    alt.Tooltip("name:N", title="model"),
    alt.Tooltip("family:N"),
    alt.Tooltip("year:O"),
    alt.Tooltip("weight_layers:Q", title="weight layers"),
    alt.Tooltip("params_m:Q", title="parameters (M)", format=".2f"),
    alt.Tooltip("gmacs:Q", title="multiply-adds (G)", format=".2f"),
    alt.Tooltip(f"{error}:Q", title=error_label),
    alt.Tooltip("source:N"),
]

selected = []
columns = st.columns(2)
for i, (title, (_, encoding, scale, ticks)) in enumerate(AXES.items()):
    pick = alt.selection_point(fields=["name"], name="pick", on="click")
    x = alt.X(
        encoding,
        title=title,
        scale=alt.Scale(type=scale) if scale else alt.Undefined,
        axis=alt.Axis(format=ticks) if ticks else alt.Undefined,
    )
    chart = (
        alt.Chart(data, title=f"{title} vs error")
        .mark_circle(size=110)
        .encode(
            x=x,
            y=alt.Y(f"{error}:Q", title=error_label, scale=alt.Scale(zero=False)),
            color=alt.Color("family:N", title="Family", scale=FAMILIES),
            opacity=alt.condition(pick, alt.value(0.95), alt.value(0.35)),
            tooltip=tooltip,
        )
        .add_params(pick)
        .properties(height=300)
    )
    with columns[i % 2]:
        event = st.altair_chart(chart, on_select="rerun", key=f"chart-{i}", width="stretch")
    for point in (event or {}).get("selection", {}).get("pick", []) or []:
        if point.get("name"):
            selected.append(point["name"])

st.subheader("Open a model")
names = list(table.name)
default = selected[-1] if selected else "resnet50"
if selected:
    st.session_state.explore_model = default
name = st.selectbox("Model", names, index=names.index(default), key="explore_model")
row = table.set_index("name").loc[name]
st.caption(
    f"{row.family} · {row.paper} ({row.year})" + (f" · errors: {row.source}" if row.source else "")
)
views.show_model(name, key="explorer")

with st.expander("The whole registry"):
    st.dataframe(table, hide_index=True, key="registry-table")
