"""Interactive views a lesson embeds with a ``kind = "widget"`` section.

``WIDGETS`` maps a widget name (the section's ``widget`` field) to its render function,
``render(key)``, where ``key`` is a prefix unique on the page for the widgets' session-state
keys. The names are also listed, as data, in ``quiz.WIDGETS`` (so ``python -m quiz check``
rejects an unknown name without importing the app); ``tests/test_app.py`` checks both tables
name the same widgets. To add a widget: write ``def my_view(key: str) -> None``, add it here and
its name and description to ``quiz/data.py``'s ``WIDGETS``.

Imports Streamlit, ``app.logic`` and ``app.inside_widgets`` only; a widget that needs ``keras_cnn`` imports it inside
its function (the lesson text must not wait for TensorFlow).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from app import inside_widgets, logic

#: The LeNet-5 feature extractor on a 32x32 image: conv 5x5, pool 2x2, conv 5x5, pool 2x2.
_DEFAULT_LAYERS = ((5, 1, 0), (2, 2, 0), (5, 1, 0), (2, 2, 0))
_MAX_LAYERS = 8


def conv_calculator(key: str) -> None:
    """Output size, jump and receptive field of a stack of convolution or pooling layers."""
    top = st.columns([1, 1, 2])
    size = top[0].number_input(
        "Input size (pixels)", min_value=1, max_value=4096, value=32, key=f"{key}:size"
    )
    count = top[1].number_input(
        "Layers", min_value=1, max_value=_MAX_LAYERS, value=len(_DEFAULT_LAYERS), key=f"{key}:n"
    )
    top[2].caption(
        "Each layer is a k x k window moved by stride s over the input padded by p zeros on "
        "each side. A 2x2 pooling with stride 2 is a layer like any other. Start: LeNet-5."
    )
    layers = []
    for i in range(int(count)):
        k0, s0, p0 = _DEFAULT_LAYERS[i] if i < len(_DEFAULT_LAYERS) else (3, 1, 1)
        cols = st.columns(3)
        k = cols[0].number_input(f"Layer {i + 1}: kernel k", 1, 64, k0, key=f"{key}:k{i}")
        s = cols[1].number_input(f"Layer {i + 1}: stride s", 1, 16, s0, key=f"{key}:s{i}")
        p = cols[2].number_input(f"Layer {i + 1}: padding p", 0, 32, p0, key=f"{key}:p{i}")
        layers.append((int(k), int(s), int(p)))
    try:
        rows = logic.conv_stack(int(size), layers)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    lines = [
        "| Layer | k, s, p | Output size | Jump | Receptive field |",
        "|---:|:---:|---:|---:|---:|",
        f"| input | | {int(size)} x {int(size)} | 1 | 1 x 1 |",
    ]
    for row in rows:
        lines.append(
            f"| {row['layer']} | {row['kernel']}, {row['stride']}, {row['padding']} "
            f"| {row['size']} x {row['size']} | {row['jump']} | {row['rf']} x {row['rf']} |"
        )
    st.markdown("\n".join(lines))
    last = rows[-1]
    st.markdown(
        f"After {len(rows)} layers every unit sees a **{last['rf']} x {last['rf']}** patch of the "
        f"{int(size)} x {int(size)} input, and neighbouring units are **{last['jump']}** input "
        "pixels apart."
    )


WIDGETS: dict[str, Callable[[str], None]] = {
    "conv-calculator": conv_calculator,
    "first-layer-maps": inside_widgets.first_layer_maps,
    "vgg-boxes": inside_widgets.vgg_boxes,
    "residual-erf": inside_widgets.residual_erf,
}
"""Widget name -> render function ``render(key)``; the same names as ``quiz.WIDGETS``."""


def render(name: str, key: str) -> None:
    """Draw the widget ``name`` (a name of :data:`WIDGETS`) with session keys under ``key``.

    Raises:
        ValueError: If ``name`` is not a known widget (the loader rejects such content first).
    """
    if name not in WIDGETS:
        raise ValueError(f"Unknown widget {name!r}; expected one of {sorted(WIDGETS)}.")
    WIDGETS[name](key)
