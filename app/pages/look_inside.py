"""Look inside: a model's prediction, feature maps, a unit's receptive fields and Grad-CAM
on an embedded digit or the learner's own image.

Models, in this order: the learner's own training runs (``keras_cnn.runs``), the small
course models and ImageNet models (ImageNet weights when they are on disk, else random
initialisation with a warning). ``/look_inside?run=<id>`` opens a stored run (an id that
is not one of them falls back to the first model with a one-line warning). All computing is ``keras_cnn.inside``; this page draws.
"""

from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from app import logic

st.title("Look inside")
st.markdown(
    "Pick a model and an input: see what the model predicts, what each stage computes, what "
    "one unit can see (its **receptive field**, the box) and what it actually looks at (its "
    "**effective receptive field**, the gradient), and where the evidence for a class lies "
    "(**Grad-CAM**)."
)

with st.spinner("Loading keras_cnn ..."):
    import keras

    from keras_cnn import data as data_lib
    from keras_cnn import inside
    from keras_cnn import runs as runs_lib
    from keras_cnn.analysis import images
    from keras_cnn.models import imagenet, weights
    from keras_cnn.train import build_model

#: The registry's models the page offers: the small 32x32 ones (digits) up to this size, and
#: every model with published ImageNet weights.
SMALL_MAX_PARAMS = 2_000_000
DISPLAY = 256  # pixels: every picture is enlarged (nearest neighbour) to at least this size
MAX_CELLS = 4096  # a layer output larger than this is picked with number inputs only


def model_sources() -> list[tuple[str, str, str]]:
    """``(kind, name, label)`` for every model the page offers: the learner's runs first, then
    the LeNet-5 lesson 1 trained, then the registry's small and ImageNet models."""
    import keras_cnn
    from app import inside_widgets

    sources = []
    stored = runs_lib.list_runs()
    for run in stored[stored.model_file.notna()].itertuples():
        accuracy = "" if pd.isna(run.test_accuracy) else f", test accuracy {run.test_accuracy:.0%}"
        sources.append(("run", run.id, f"Your run: {run.model} on {run.data}{accuracy} ({run.id})"))
    lesson_model = inside_widgets.lenet5_file()
    if lesson_model.is_file():
        sources.append(("file", str(lesson_model), "LeNet-5 trained in lesson 1 (digits)"))
    registry = keras_cnn.list_models()
    small = registry[
        registry.input_shape.map(lambda s: s[:2] == (32, 32))
        & (registry.params <= SMALL_MAX_PARAMS)
    ]
    sources += [
        ("small", r.name, f"{r.name} ({r.family}), random weights") for r in small.itertuples()
    ]
    for r in registry[registry.imagenet_weights.astype(bool)].itertuples():
        have = weights.on_disk(r.name)
        sources.append(
            ("imagenet", r.name, f"{r.name}, {'ImageNet weights' if have else 'random weights'}")
        )
    return sources


@st.cache_resource(show_spinner=False, max_entries=4)
def load(kind: str, name: str) -> tuple[keras.Model, dict]:
    """The model and what the page needs to know about it (cached for every session)."""
    if kind == "shared":
        from app import gallery_view

        return gallery_view.load(name)
    if kind == "run":
        _, meta = runs_lib.load_run(name)
        return runs_lib.load_model(name), {"data": meta.get("data", "digits"), "random": False}
    if kind == "file":  # lesson 1's LeNet-5, trained on the digits
        return keras.models.load_model(name), {"data": "digits", "random": False}
    if kind == "small":
        keras.utils.set_random_seed(0)
        return build_model(name), {"data": "digits", "random": True}
    from keras_cnn import get_model

    if weights.on_disk(name):
        try:
            return get_model(name, weights="imagenet"), {
                "data": "imagenet",
                "random": False,
                "name": name,
            }
        except Exception as error:  # e.g. a damaged file in the cache
            st.warning(f"The ImageNet weights did not load ({error}).")
    return get_model(name), {"data": "imagenet", "random": True, "name": name}


def preprocess(raw: np.ndarray, info: dict, shape: tuple) -> np.ndarray:
    """Raw [0, 1] images -> the model's input, as its training saw them."""
    if info["data"] == "imagenet":
        return imagenet.preprocess_input(raw * 255.0, info["name"])
    try:
        return raw - data_lib.pixel_mean(info["data"], shape)
    except Exception as error:  # a TFDS dataset that is not prepared here
        st.warning(f"Without the training data's mean image ({error}); the input is not centred.")
        return raw


@st.cache_data(show_spinner="Reading the test images ...", max_entries=2)
def test_images(name: str, shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """The first 500 test images of a prepared TFDS dataset, in [0, 1], at the model's size."""
    return data_lib.arrays(
        name, "test", input_shape=shape, limit=500, normalize=False, download=False
    )


def class_names(info: dict, count: int) -> list[str]:
    if info["data"] == "imagenet" and count == imagenet.N_CLASSES:
        return [
            f"{i}: {name.replace('_', ' ')}" for i, (_, name) in enumerate(imagenet.class_names())
        ]
    return [str(i) for i in range(count)]


sources = model_sources()
if "shared" in st.query_params:  # /look_inside?shared=<entry>: a classmate's gallery entry
    from app import gallery_view

    sources = gallery_view.sources(st.query_params["shared"]) + sources
linked, problem = logic.source_from_address(st.query_params.get("run"), sources)
if problem:
    st.warning(problem, icon=":material/link_off:")
if linked is not None and st.session_state.get("inside_linked") != sources[linked][1]:
    st.session_state["inside_linked"] = sources[linked][1]  # followed once, then the widget
    st.session_state["inside_model"] = linked
# across the page: a run's label (model, data, accuracy, id) is longer than a column
picked = st.selectbox(
    "Model", range(len(sources)), format_func=lambda i: sources[i][2], key="inside_model"
)
kind, name, label = sources[picked]
if kind == "run":  # the address names the run shown: /look_inside?run=<id>
    st.query_params["run"] = st.session_state["inside_linked"] = name
else:
    st.query_params.pop("run", None)
with st.spinner(f"Loading {label} ..."):
    model, info = load(kind, name)
shape = tuple(int(d) for d in model.input_shape[1:])
left, right = st.columns([1, 2], gap="large")
with left:
    if info["random"]:
        st.warning(
            "Random weights: this model has learned nothing, so its maps and heat maps show "
            "structure, not knowledge. Train one on the **Training** page (it appears here "
            "first), or put the ImageNet weights on disk."
        )
    if kind == "small" and not any(s[0] == "run" for s in sources):
        st.info("No trained run yet: `python -m keras_cnn train lenet5 --epochs 5` makes one.")

    inputs = ["Embedded digit", "Upload an image"]
    trained_on = info["data"]
    if trained_on in data_lib.DATASETS and trained_on != "digits":
        try:
            prepared = data_lib.is_available(trained_on)
        except Exception:  # tensorflow_datasets missing or its folder unreadable
            prepared = False
        if prepared:
            inputs.insert(1, f"Test image of {trained_on}")
    source = st.radio("Input", inputs, key="inside_input", horizontal=True)
    if source == "Embedded digit":
        digits, labels = data_lib.arrays("digits", "test", input_shape=shape, normalize=False)
        index = st.number_input("Test digit", 0, len(digits) - 1, 0, key="inside_digit")
        raw, caption = digits[index], f"test digit {index}: a {labels[index]}"
    elif source.startswith("Test image of"):
        images, labels = test_images(trained_on, shape)
        index = st.number_input("Test image", 0, len(images) - 1, 0, key="inside_test_image")
        raw, caption = images[index], f"{trained_on} test image {index}: class {labels[index]}"
    else:
        upload = st.file_uploader(
            "Image",
            type=["png", "jpg", "jpeg"],
            key="inside_upload",
            max_upload_size=images.MAX_UPLOAD_MB,
            help=f"A PNG or JPEG of at most {images.MAX_PIXELS / 1e6:.0f} megapixels. It is "
            "centre-cropped to the model's shape and resized, upright as its EXIF says.",
        )
        if upload is None:
            st.stop()
        try:
            fitted = images.read_image(upload.getvalue(), shape, name=upload.name)
        except images.ImageError as error:
            st.error(str(error), icon=":material/broken_image:")
            st.stop()
        raw, caption = fitted.pixels, f"{upload.name}: {fitted.description}"
    x = preprocess(raw[None], info, shape)
    st.image(inside.to_image(raw, size=DISPLAY), caption=caption)

    scores = inside.logits(model, x)[0]
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    names = class_names(info, len(scores))
    top = np.argsort(-probabilities)[:5]
    st.markdown(f"**Prediction: {names[top[0]]}** ({probabilities[top[0]]:.0%})")
    # one bar per class, its label whole (a table cell cut ImageNet's long labels)
    for i in top:
        st.progress(float(probabilities[i]), text=f"{names[i]}: {probabilities[i]:.1%}")

with right:
    blocks = inside.block_outputs(model)
    maps = inside.feature_maps(model, x, blocks)
    st.subheader("Feature maps")
    st.caption(
        "Each stage's output on this input: its 8 most active channels (by mean activation), "
        "each on its own scale (dark: low, yellow: high)."
    )
    columns = st.columns(min(2, len(blocks)))
    for i, (block, activation) in enumerate(maps.items()):
        channels = inside.top_channels(activation[0], 8)
        grid = inside.tile(np.moveaxis(activation[0][..., channels], -1, 0), columns=4, scale=True)
        h, w, c = activation.shape[1:]
        with columns[i % len(columns)]:
            st.image(
                inside.to_image(grid, size=DISPLAY),
                caption=f"{block}: {h}x{w}, channels {', '.join(map(str, channels))} of {c}",
            )

st.subheader("One unit: what it can see, and what it looks at")
layers = inside.spatial_layers(model)
default = blocks[len(blocks) // 2] if blocks else layers[0]
unit_left, unit_right = st.columns([1, 2], gap="large")
with unit_left:
    layer = st.selectbox("Layer", layers, index=layers.index(default), key="inside_layer")
    activation = inside.feature_maps(model, x, [layer])[layer][0]
    height, width = activation.shape[:2]
    for axis, size in (("row", height), ("col", width)):
        key = f"inside_{axis}"
        if st.session_state.get(key, 0) >= size or st.session_state.get(f"{key}_layer") != layer:
            st.session_state[key] = size // 2
            st.session_state[f"{key}_layer"] = layer
    if height * width <= MAX_CELLS:
        cells = pd.DataFrame(
            [(r, c, float(v)) for (r, c), v in np.ndenumerate(activation.sum(axis=-1))],
            columns=["row", "col", "activation"],
        )
        pick = alt.selection_point(fields=["row", "col"], name="unit", on="click")
        chart = (
            alt.Chart(cells)
            .mark_rect()
            .encode(
                x=alt.X("col:O", axis=None),
                y=alt.Y("row:O", axis=None),
                color=alt.Color("activation:Q", scale=alt.Scale(scheme="viridis"), legend=None),
                opacity=alt.condition(pick, alt.value(1.0), alt.value(0.6)),
                tooltip=["row", "col", "activation"],
            )
            .add_params(pick)
            .properties(width=240, height=240 * height / width)
        )
        event = st.altair_chart(chart, on_select="rerun", key="inside_units")
        chosen = (event or {}).get("selection", {}).get("unit") or []
        if chosen and chosen[0] != st.session_state.get("inside_last_click"):
            st.session_state["inside_last_click"] = chosen[0]
            st.session_state["inside_row"] = int(chosen[0]["row"])
            st.session_state["inside_col"] = int(chosen[0]["col"])
        st.caption(f"{layer}: {height}x{width} units (summed over channels). Click one.")
    row = st.number_input("Row", 0, height - 1, key="inside_row")
    col = st.number_input("Column", 0, width - 1, key="inside_col")

with unit_right:
    box = inside.receptive_field_box(model, layer, (row, col))
    full = inside.receptive_field_box(model, layer, (row, col), clip=False)
    erf = inside.effective_receptive_field(model, layer, x, position=(row, col))
    factor = max(1, -(-DISPLAY // shape[0]))
    scaled = tuple(v * factor for v in box)
    picture = inside.overlay(inside.to_image(raw, size=DISPLAY), erf)
    picture = inside.draw_box(picture, scaled, width=2)
    st.image(picture, width=DISPLAY * 2)
    size = full[2] - full[0], full[3] - full[1]
    st.markdown(
        f"Unit ({row}, {col}) of `{layer}`: its **receptive field** is {size[0]}x{size[1]} "
        f"pixels (rows {full[0]}..{full[2] - 1}, columns {full[1]}..{full[3] - 1}"
        + ("; clipped to the image, the rest is padding" if box != full else "")
        + "), the red box. The heat is its **effective receptive field** on this input, "
        "|d unit / d pixel|: "
        f"{100 * float((erf > 0.05 * erf.max()).sum()) / max(1, (box[2] - box[0]) * (box[3] - box[1])):.0f}% "
        "of the box gets more than 5% of the strongest gradient."
    )

st.subheader("Grad-CAM: where the evidence for a class lies")
cam_left, cam_right = st.columns([1, 2], gap="large")
with cam_left:
    options = ["predicted", *names]
    wanted = st.selectbox("Class", options, key="inside_class")
    class_index = None if wanted == "predicted" else names.index(wanted)
    cam_layers = [n for n in layers if model.get_layer(n).output.shape[1] > 1]
    cam_layer = st.selectbox(
        "Layer",
        cam_layers,
        index=cam_layers.index(inside.default_cam_layer(model)),
        key="inside_cam_layer",
    )
with cam_right:
    try:
        heat = inside.grad_cam(model, x, class_index, layer=cam_layer)[0]
    except NotImplementedError as error:
        st.error(str(error))
    else:
        shown = names[top[0]] if class_index is None else wanted
        st.image(
            inside.overlay(inside.to_image(raw, size=DISPLAY), heat),
            width=DISPLAY * 2,
        )
        st.caption(f"Grad-CAM of class {shown} at {cam_layer} (Selvaraju et al. 2017).")

with st.expander("The same in a notebook"):
    st.code(
        f"""from keras_cnn import inside
maps = inside.feature_maps(model, x)                       # each stage's output
box = inside.receptive_field_box(model, {layer!r}, ({row}, {col}))   # {box}
erf = inside.effective_receptive_field(model, {layer!r}, x, position=({row}, {col}))
heat = inside.grad_cam(model, x, layer={cam_layer!r})       # (N, H, W) in [0, 1]
picture = inside.overlay(x[0], heat[0])                    # RGB uint8""",
        language="python",
    )
