"""Model lab: pick a family and its options, see the live summary, totals and diagram, copy
the exact call that builds it, download it as ``.keras``."""

import gc
import inspect
import json
import tempfile
from pathlib import Path

import streamlit as st

from app import logic, views

st.title("Model lab")
st.markdown(
    "Choose a family and its options: the summary, the diagram and the code below follow. "
    "Invalid combinations show the builder's own message."
)

with st.spinner("Loading keras_cnn ..."):
    import keras_cnn
    from keras_cnn.models.resnet import (
        CIFAR_DEFAULT_SHORTCUT,
        RESNET_SPECS,
        RESNEXT_DEPTHS,
        SHORTCUT_OPTIONS,
        VERSIONS,
    )
    from keras_cnn.models.vgg import VGG_SPECS

FAMILIES = {
    "ResNet (ImageNet)": "build_resnet",
    "ResNet (CIFAR-10)": "build_cifar_resnet",
    "ResNeXt / Wide ResNet (ImageNet)": "build_resnext",
    "Wide ResNet (CIFAR-10)": "build_wide_resnet",
    "VGG": "build_vgg",
    "GoogLeNet": "build_googlenet",
    "AlexNet": "build_alexnet",
    "LeNet-5": "build_lenet5",
}


def shortcut_select(default: str, key: str) -> str:
    """The paper's shortcut option A/B/C, starting at the builder's default."""
    options = list(SHORTCUT_OPTIONS)
    return st.selectbox(
        "Shortcut",
        options,
        index=options.index(default),
        format_func=shortcut_label,
        key=key,
        help="; ".join(
            f"{o}: {SHORTCUT_OPTIONS[o][0]} where the shape changes, else {SHORTCUT_OPTIONS[o][1]}"
            for o in options
        ),
    )


def shortcut_label(option: str) -> str:
    """Short enough for the narrow column: ``A: zero_pad / identity`` (the help says more)."""
    changing, same = SHORTCUT_OPTIONS[option]
    return f"{option}: {changing} / {same}"


left, right = st.columns([1, 3], gap="large")
with left:
    family = st.selectbox("Family", list(FAMILIES), key="lab_family")
    builder = FAMILIES[family]
    defaults = {
        k: p.default
        for k, p in inspect.signature(getattr(keras_cnn, builder)).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    positional: list = []
    options: dict = {}
    if builder == "build_resnet":
        depths = sorted(RESNET_SPECS)
        positional.append(st.selectbox("Depth", depths, index=depths.index(50), key="lab_depth"))
        options["version"] = st.selectbox("Version", sorted(VERSIONS), key="lab_version")
        options["shortcut"] = shortcut_select(defaults["shortcut"], "lab_shortcut")
    elif builder == "build_cifar_resnet":
        positional.append(
            int(st.number_input("Depth (6n + 2)", 1, 2000, 20, step=6, key="lab_cifar_depth"))
        )
        options["version"] = st.selectbox(
            "Version (2: pre-activation; bottlenecks beyond 110, depth 9n + 2)",
            sorted(VERSIONS),
            key="lab_cifar_version",
        )
        options["residual"] = st.checkbox("Residual (off: the plain twin)", True, key="lab_res")
        paper_shortcut = CIFAR_DEFAULT_SHORTCUT[options["version"]]
        shortcut = shortcut_select(paper_shortcut, f"lab_cifar_shortcut_{options['version']}")
        options["shortcut"] = None if shortcut == paper_shortcut else shortcut
    elif builder == "build_resnext":
        depths = list(RESNEXT_DEPTHS)
        positional.append(st.selectbox("Depth", depths, key="lab_resnext_depth"))
        options["cardinality"] = int(
            st.number_input("Cardinality (groups; 1: a Wide ResNet)", 1, 256, 32, key="lab_card")
        )
        options["width"] = int(
            st.number_input("Width of each group in conv2_x", 1, 512, 4, key="lab_width")
        )
    elif builder == "build_wide_resnet":
        positional.append(
            int(st.number_input("Depth (6n + 4)", 1, 1000, 28, step=6, key="lab_wrn_depth"))
        )
        options["width"] = int(st.number_input("Widening factor k", 1, 20, 10, key="lab_wrn_k"))
        options["dropout"] = st.slider("Dropout", 0.0, 0.9, 0.0, 0.1, key="lab_wrn_dropout")
    elif builder == "build_vgg":
        depths = sorted(VGG_SPECS)
        positional.append(st.selectbox("Depth", depths, index=depths.index(16), key="lab_vgg"))
        options["batch_norm"] = st.checkbox("Batch normalization", False, key="lab_bn")
    elif builder == "build_alexnet":
        options["two_tower"] = st.checkbox("Two towers (two GPUs)", False, key="lab_two_tower")
        options["lrn"] = st.checkbox("Local response normalization", False, key="lab_lrn")
    elif builder == "build_googlenet":
        options["lrn"] = st.checkbox("Local response normalization", False, key="lab_g_lrn")

    shape_text = st.text_input(
        "Input shape", placeholder="default, or e.g. 160, 160, 3", key="lab_shape"
    )
    options["include_top"] = st.checkbox(
        "Classifier", True, key="lab_top", help="include_top: the pooling and dense head"
    )
    options["classes"] = int(
        st.number_input(
            "Classes", 1, 100_000, int(defaults["classes"]), key=f"lab_classes_{builder}"
        )
    )
    options["pooling"] = st.selectbox(
        "Pooling",
        [None, "avg", "max"],
        key="lab_pooling",
        help="pooling: used without the classifier",
    )

with right:
    try:
        shape = logic.parse_shape(shape_text)
    except ValueError as exc:
        st.error(str(exc))
        st.stop()
    try:
        logic.check_lab_request(shape, options["classes"])
    except ValueError as exc:
        st.error(str(exc), icon=":material/block:")
        st.stop()
    if shape is not None:
        options["input_shape"] = shape
    kwargs = {k: v for k, v in options.items() if not (k in defaults and defaults[k] == v)}
    call = logic.builder_call(builder, positional, kwargs, defaults)
    st.code(f"import keras_cnn\n\nmodel = {call}\nkeras_cnn.summarize(model)", language="python")
    call_kwargs = dict(kwargs)
    if positional:
        call_kwargs["depth"] = positional[0]
    try:
        with st.spinner("Building the model ..."):
            view = views.model_view(
                "", json.dumps(call_kwargs, sort_keys=True, default=list), builder=builder
            )
    except Exception as exc:  # the builder's message, never a traceback
        st.error(f"This combination cannot be built: {exc}")
        st.stop()

    views.show_totals(view)

    def keras_file() -> bytes:
        """Build with weights, save, and let the model go at once (not at some later GC)."""
        model = getattr(keras_cnn, builder)(**call_kwargs)
        try:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / f"{model.name}.keras"
                model.save(path)
                return path.read_bytes()
        finally:
            del model
            gc.collect()

    # Built in the page, not in a deferred download callback, so that a failure is shown here
    # (a callback's error never reaches the page: the browser just got no file). The file lives
    # until the next change of the page.
    refusal = logic.download_refusal(view.totals["params"])
    if refusal:
        st.info(refusal, icon=":material/block:")
    elif st.button("Prepare a .keras download", key="lab_prepare", icon=":material/build:"):
        try:
            with st.spinner(f"Building {view.name} with its weights and saving it ..."):
                data = keras_file()
        except Exception as exc:  # MemoryError included: said in the page, never lost
            gc.collect()
            st.error(f"{view.name} could not be saved: {type(exc).__name__}: {exc}")
        else:
            st.download_button(
                f"Download {view.name}.keras ({len(data) / 1e6:,.1f} MB)",
                data=data,
                file_name=f"{view.name}.keras",
                mime="application/octet-stream",
                on_click="ignore",
                icon=":material/download:",
                key="lab_download",
            )
    diagram, layers = st.tabs(["Diagram", f"Layers ({len(view.table)})"])
    with diagram:
        views.show_diagram(view, "lab")
    with layers:
        views.show_table(view, "lab")
