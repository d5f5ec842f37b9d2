"""Lesson widgets that look inside networks (``keras_cnn.inside``), registered in
``app/widgets.py``'s ``WIDGETS``: a trained LeNet-5's first feature maps (lesson 1), the
growing boxes of a VGG stack (lesson 3), and ResNet-20 against plain-20 (the residual lessons).

Imports Streamlit only at the top; ``keras_cnn`` inside the functions (a lesson's text must not
wait for TensorFlow).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import streamlit as st

#: Box colours of the VGG stack's three convolutions.
BOX_COLOURS = ((255, 70, 70), (255, 170, 0), (60, 200, 255))
LENET_EPOCHS = 5


#: Lesson 1's LeNet-5 as the course ships it (``results/lenet5_digits.py`` made it): a new
#: server starts from this copy instead of training one in its own process.
SHIPPED_LENET5 = (
    Path(__file__).resolve().parent / "assets" / (f"lenet5_digits_{LENET_EPOCHS}epochs_seed0.keras")
)
#: Its accuracy on the 360 test digits (324 right), checked by tests/test_inside_widgets.py.
SHIPPED_LENET5_ACCURACY = 0.9


def lenet5_file():
    """Where lesson 1's trained LeNet-5 is kept: ``$KERAS_CNN_HOME/models/...keras`` (the Look
    inside page offers it once it is there)."""
    from keras_cnn.paths import home_dir

    return home_dir() / "models" / f"lenet5_digits_{LENET_EPOCHS}epochs_seed0.keras"


def trained_lenet5():
    """LeNet-5 trained on the embedded digits (5 epochs, seed 0, test accuracy in
    :data:`SHIPPED_LENET5_ACCURACY`): the shipped copy, or one trained on first use where it is
    missing (about 10 s on 2 cores), then kept in ``$KERAS_CNN_HOME/models``."""
    return _trained_lenet5(str(lenet5_file()))


@st.cache_resource(show_spinner=False)
def _trained_lenet5(file: str):
    """The model kept at ``file`` (cached per file: another ``KERAS_CNN_HOME`` has its own);
    where there is none yet, the shipped copy, else one trained now. Either is then kept at
    ``file``, where the Look inside page finds it."""
    import shutil

    import keras

    from keras_cnn.train import build_model, train

    path = Path(file)
    if path.is_file():
        try:
            return keras.models.load_model(path)
        except Exception:  # a damaged file: start again below
            path.unlink(missing_ok=True)
    if SHIPPED_LENET5.is_file():
        model = keras.models.load_model(SHIPPED_LENET5)
        _keep(path, lambda partial: shutil.copyfile(SHIPPED_LENET5, partial))
        return model
    keras.utils.set_random_seed(0)
    model = build_model("lenet5")
    train(model, epochs=LENET_EPOCHS, seed=0, record=False, verbose=0)
    _keep(path, model.save)
    return model


def _keep(path, write) -> None:
    """Put a model file at ``path`` whole or not at all: ``write(partial)`` writes it beside,
    then it replaces ``path``. A read-only ``KERAS_CNN_HOME`` keeps nothing: the model in
    memory still serves this process."""
    partial = path.with_suffix(f".{os.getpid()}.partial.keras")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(partial)
        os.replace(partial, path)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def _digits():
    from keras_cnn import data as data_lib

    return data_lib.arrays("digits", "test", input_shape=(32, 32, 1), normalize=False)


def _digit_input(key: str, digits, labels, column) -> int:
    return int(
        column.number_input(
            "Test digit",
            0,
            len(digits) - 1,
            3,
            key=f"{key}:digit",
            help="One of the 360 test digits",
        )
    )


def first_layer_maps(key: str) -> None:
    """A trained LeNet-5's C1 kernels and its six feature maps of one digit."""
    from keras_cnn import data as data_lib
    from keras_cnn import inside

    with st.spinner("Loading the LeNet-5 trained on the digits ..."):
        model = trained_lenet5()
    digits, labels = _digits()
    left, middle, right = st.columns([1, 2, 1])
    index = _digit_input(key, digits, labels, left)
    x = digits[index] - data_lib.pixel_mean("digits", (32, 32, 1))
    maps = inside.feature_maps(model, x, ["c1"])["c1"][0]
    predicted = int(inside.logits(model, x).argmax())
    left.image(
        inside.to_image(digits[index], size=128), caption=f"a {labels[index]}, read as {predicted}"
    )
    grid = inside.tile(np.moveaxis(maps, -1, 0), columns=3, pad=2, scale=True)
    middle.image(
        inside.to_image(grid, size=320), caption="C1's six 28x28 feature maps (yellow: high)"
    )
    right.image(
        inside.to_image(inside.first_layer_filters(model), size=128),
        caption="C1's six 5x5 kernels, each on its own scale (white: most positive)",
    )


@st.cache_resource(show_spinner=False)
def vgg_stack():
    """Three 3x3 "same" convolutions on a 32x32 grey image: VGG's stacking (no weights needed)."""
    import keras

    inputs = keras.Input((32, 32, 1))
    x = inputs
    for i in (1, 2, 3):
        x = keras.layers.Conv2D(1, 3, padding="same", name=f"conv{i}")(x)
    return keras.Model(inputs, x, name="vgg_stack")


def vgg_boxes(key: str) -> None:
    """The 3x3, 5x5 and 7x7 receptive fields of one position after one, two and three
    stacked 3x3 convolutions, drawn on a digit."""
    from keras_cnn import inside

    model = vgg_stack()
    digits, labels = _digits()
    left, right = st.columns([1, 2])
    index = _digit_input(key, digits, labels, left)
    row = left.slider("Row", 0, 31, 16, key=f"{key}:row")
    col = left.slider("Column", 0, 31, 12, key=f"{key}:col")
    factor = 8
    picture = inside.to_image(digits[index], size=32 * factor)
    legend = []
    for i, colour in reversed(list(enumerate(BOX_COLOURS, start=1))):
        box = inside.receptive_field_box(model, f"conv{i}", (row, col))
        picture = inside.draw_box(picture, tuple(v * factor for v in box), colour=colour, width=3)
        legend.append((i, box, colour))
    right.image(picture, width=32 * factor)
    lines = []
    for i, (top, lft, bottom, rgt), colour in sorted(legend):
        name = {(255, 70, 70): "red", (255, 170, 0): "orange", (60, 200, 255): "blue"}[colour]
        lines.append(
            f"- after {i} convolution{'s' if i > 1 else ''} ({name}): **{bottom - top}x{rgt - lft}** "
            f"pixels, rows {top}..{bottom - 1}, columns {lft}..{rgt - 1}"
        )
    left.markdown("\n".join(lines))


@st.cache_resource(show_spinner=False)
def resnet_twins():
    """ResNet-20 and plain-20 for 32x32 grey images, each built with seed 0 (random weights)."""
    import keras

    from keras_cnn.train import build_model

    twins = {}
    for name in ("resnet20", "plain20"):
        keras.utils.set_random_seed(0)
        twins[name] = build_model(name)
    return twins


def residual_erf(key: str) -> None:
    """Effective receptive field and input-gradient map of ResNet-20 against plain-20."""
    from keras_cnn import data as data_lib
    from keras_cnn import inside

    with st.spinner("Building ResNet-20 and plain-20 ..."):
        twins = resnet_twins()
    digits, labels = _digits()
    index = _digit_input(key, digits, labels, st)
    x = digits[index] - data_lib.pixel_mean("digits", (32, 32, 1))
    layer = "conv4_block3_out"
    columns = st.columns(2)
    totals = {}
    for column, (name, model) in zip(columns, twins.items(), strict=True):
        erf = inside.effective_receptive_field(model, layer, samples=8)
        totals[name] = float(erf.sum())
        heat = inside.saliency(model, x)[0]
        title = {"resnet20": "ResNet-20", "plain20": "Plain-20"}[name]
        column.markdown(f"**{title}**")
        column.image(
            inside.to_image(erf, size=192),
            caption=f"effective receptive field of the centre unit of {layer} (8 random inputs)",
        )
        column.image(
            inside.overlay(inside.to_image(digits[index], size=192), heat),
            caption="|gradient of the predicted class score| on this digit",
        )
    ratio = totals["resnet20"] / totals["plain20"] if totals["plain20"] else float("inf")
    st.markdown(
        "Same seed, not trained (batch norm as initialised). The total gradient that reaches the "
        f"input from that unit: **{totals['resnet20']:.3g}** through ResNet-20, "
        f"**{totals['plain20']:.3g}** through plain-20, **{ratio:,.0f}x** as much with the "
        "shortcuts: they carry the gradient past the layers, which shrink it on the plain path."
    )
