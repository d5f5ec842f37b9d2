"""Training curves as the Training page draws them (live, stored runs, a queued job) and the
class gallery's model cards show them: one chart, one look."""

from __future__ import annotations

import altair as alt
import pandas as pd

METRICS = ["test_accuracy", "accuracy", "test_loss", "loss"]
#: Train and test curves: blue and orange (legible for the common colour-vision deficiencies).
SPLIT_COLOURS = ["#1a73e8", "#e8710a"]


def epoch_axis(last: int | None = None) -> alt.X:
    """Epochs are whole numbers: integer ticks (never "1.000000"), from 1 to at least 2."""
    scale = alt.Scale(domain=[1, max(last, 2)], nice=False) if last else alt.Undefined
    return alt.X("epoch:Q", title="epoch", scale=scale, axis=alt.Axis(format="d", tickMinStep=1))


def training_curves(rows: pd.DataFrame, height: int = 220) -> alt.Chart:
    """Accuracy and loss per epoch: train and test by colour (legend), models by dash and
    point shape; integer epoch ticks, also after a single epoch."""
    long = rows.melt(
        id_vars=["model", "epoch"],
        value_vars=[c for c in METRICS if c in rows],
        var_name="metric",
        value_name="value",
    ).dropna()
    long["panel"] = long.metric.str.replace("test_", "").map(
        {"accuracy": "accuracy", "loss": "loss"}
    )
    long["split"] = long.metric.str.startswith("test_").map({True: "test", False: "train"})
    encoding = dict(
        x=epoch_axis(int(long.epoch.max()) if len(long) else 1),
        y=alt.Y("value:Q", title=None),
        color=alt.Color(
            "split:N",
            title="split",
            scale=alt.Scale(domain=["train", "test"], range=SPLIT_COLOURS),
        ),
        tooltip=["model", "split", "epoch", "metric", alt.Tooltip("value:Q", format=".4f")],
    )
    if long.model.nunique() > 1:
        encoding |= dict(strokeDash=alt.StrokeDash("model:N"), shape=alt.Shape("model:N"))
    else:
        encoding["detail"] = alt.Detail("model:N")
    return (
        alt.Chart(long)
        .mark_line(point=alt.OverlayMarkDef(size=60, filled=True))
        .encode(**encoding)
        .properties(height=height, width=300)
        .facet(column=alt.Column("panel:N", title=None))
        .resolve_scale(y="independent")
    )
