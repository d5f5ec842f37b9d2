"""Model lab: pick a family and its options, see the live summary, totals and diagram, copy
the exact call that builds it, download it as ``.keras`` or as a notebook. The options live in
the page address (``/model_lab?family=resnet&depth=50&version=2``), so a configuration can be
linked; values the address gets wrong fall back to their defaults with a message."""

import gc
import inspect
import json
import tempfile
from pathlib import Path
from typing import Any

import streamlit as st

from app import logic, views

st.title("Model lab")
st.markdown(
    "Choose a family and its options: the summary, the diagram and the code below follow. "
    "Invalid combinations show the builder's own message."
)

with st.spinner("Loading keras_cnn ..."):
    import keras_cnn
    from app.lab import FAMILIES, Option, address_of, lab_query_names, read_address, shortcut_label
    from keras_cnn.models.resnet import CIFAR_DEFAULT_SHORTCUT, SHORTCUT_OPTIONS
    from keras_cnn.training import notebook as notebook_export


#: Where the page started: the address it was opened with, read once per session (so the
#: widgets keep their identity while the learner changes them).
if "lab_start" not in st.session_state:
    st.session_state.lab_start = read_address(st.query_params.to_dict())
    for problem in st.session_state.lab_start.problems:
        st.warning(f"The page address: {problem}", icon=":material/link_off:")
START = st.session_state.lab_start.values


def _shortcut(option: Option, chosen: dict, defaults: dict) -> str | None:
    """The paper's shortcut option A/B/C, starting at the builder's (or the paper's) default;
    ``None`` (left out of the call) when it is the paper's choice for ``option.paper``."""
    choices = list(SHORTCUT_OPTIONS)
    if option.paper:
        paper = CIFAR_DEFAULT_SHORTCUT[chosen[option.paper]]
        key = f"{option.key}_{chosen[option.paper]}"
        default = START.get(key, paper)
    else:
        default, key = START.get(option.key, defaults["shortcut"]), option.key
        paper = None
    value = st.selectbox(
        option.label,
        choices,
        index=choices.index(default),
        format_func=shortcut_label,
        key=key,
        help="; ".join(
            f"{o}: {SHORTCUT_OPTIONS[o][0]} where the shape changes, else {SHORTCUT_OPTIONS[o][1]}"
            for o in choices
        ),
    )
    return None if option.paper and value == paper else value


def _widget(option: Option, chosen: dict, defaults: dict) -> Any:
    """Draw one option's widget; returns its value as the builder takes it."""
    if option.kind == "shortcut":
        return _shortcut(option, chosen, defaults)
    start = START.get(option.key, option.default)
    if option.kind == "select":
        choices = list(option.choices)
        index = choices.index(start) if start in choices else 0
        return st.selectbox(option.label, choices, index=index, key=option.key)
    if option.kind == "check":
        return st.checkbox(option.label, bool(start), key=option.key)
    if option.kind == "slider":
        return st.slider(option.label, option.low, option.high, start, option.step, key=option.key)
    value = st.number_input(
        option.label,
        int(option.low),
        int(option.high),
        int(start),
        step=int(option.step),
        key=option.key,
    )
    return int(value)


left, right = st.columns([1, 3], gap="large")
with left:
    families = list(FAMILIES)
    family = st.selectbox(
        "Family",
        families,
        index=families.index(st.session_state.lab_start.family),
        key="lab_family",
    )
    builder, family_options = FAMILIES[family]
    defaults = {
        k: p.default
        for k, p in inspect.signature(getattr(keras_cnn, builder)).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    positional: list = []
    options: dict = {}
    for option in family_options:
        value = _widget(option, options, defaults)
        if option.arg == "depth":
            positional.append(value)
        else:
            options[option.arg] = value

    shape_text = st.text_input(
        "Input shape",
        START.get("lab_shape", ""),
        placeholder="default, or e.g. 160, 160, 3",
        key="lab_shape",
    )
    top = st.checkbox(
        "Classifier",
        START.get("lab_top", True),
        key="lab_top",
        help="include_top: the pooling and dense head",
    )
    options["include_top"] = top
    # What the builder uses, no more: classes only with the classifier, pooling only without
    # it (the classifier has its own pooling or Flatten), so the code never shows an argument
    # the model ignores.
    classes = st.number_input(
        "Classes",
        1,
        100_000,
        int(START.get(f"lab_classes_{builder}", defaults["classes"])),
        key=f"lab_classes_{builder}",
        disabled=not top,
        help="classes: outputs of the classifier",
    )
    poolings = [None, "avg", "max"]
    pooling = st.selectbox(
        "Pooling",
        poolings,
        index=poolings.index(START.get("lab_pooling")),
        key="lab_pooling",
        disabled=top,
        help="pooling: the output of the model without its classifier",
    )
    options["classes"] = int(classes) if top else defaults["classes"]
    if not top:
        options["pooling"] = pooling

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
    linked = {**({"depth": positional[0]} if positional else {}), **kwargs}
    if shape is not None:
        linked["input_shape"] = shape_text.strip()
    query = st.query_params.to_dict()
    others = {k: v for k, v in query.items() if k not in lab_query_names(family)}
    wanted = {**others, **address_of(family, linked)}
    if wanted != query:
        st.query_params.from_dict(wanted)
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
    notebook = notebook_export.model_notebook(builder, tuple(positional), kwargs)
    st.download_button(
        "Download as a notebook",
        data=notebook_export.to_bytes(notebook),
        file_name=f"{view.name}.ipynb",
        mime="application/x-ipynb+json",
        on_click="ignore",
        icon=":material/description:",
        key="lab_notebook",
        help="A Jupyter notebook that builds this model with the call above and shows its table",
    )

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
