"""Runs and model configurations as runnable notebooks: send a friend the ``.ipynb``.

:func:`run_notebook` turns a stored run (:mod:`keras_cnn.runs`) into a Jupyter notebook that
rebuilds the same model with the exact ``keras_cnn`` call, trains it with the run's settings and
shows the same table, curves and pictures; :func:`model_notebook` does the same for a builder
call such as the model lab's (``build_resnet(50, include_top=False)``) without training.
Notebooks are ``nbformat`` v4 objects; :func:`write` saves one. Every value written into a code
cell is a Python literal made by ``repr`` of a checked value, never text pasted in.

Example:
    >>> nb = run_notebook(keras_cnn.runs.list_runs().id[0])  # needs a run  # doctest: +SKIP
    >>> write(nb, "my_run.ipynb")  # doctest: +SKIP
"""

from __future__ import annotations

import keyword
import os
import re
from pathlib import Path
from typing import Any

#: The ``train()`` settings a stored run records and its notebook passes on, in this order.
SETTINGS = (
    "epochs",
    "batch_size",
    "optimizer",
    "learning_rate",
    "momentum",
    "weight_decay",
    "schedule",
    "augment",
    "limit",
)
#: A notebook built with ``small=True`` (the test suite's tiny setting) trains at most this.
SMALL_EPOCHS, SMALL_LIMIT = 1, 128

_INSTALL = (
    "If `keras_cnn` is not installed where this notebook runs (Colab, a friend's machine), "
    "install it first: `pip install keras-cnn` from the project's repository."
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _nbformat():
    import nbformat

    return nbformat


def _literal(value: Any) -> str:
    """``repr`` of a JSON-like value, refusing anything else (no code can be smuggled in)."""
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    if isinstance(value, list | tuple):
        inner = ", ".join(_literal(v) for v in value)
        return (
            f"({inner}{',' if len(value) == 1 else ''})"
            if isinstance(value, tuple)
            else f"[{inner}]"
        )
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    raise ValueError(f"Cannot write {type(value).__name__} into a notebook. Received: {value!r}")


def _call(function: str, args: tuple = (), kwargs: dict | None = None, *, names: tuple = ()) -> str:
    """``function(*names, *args, **kwargs)`` as code: ``names`` are variables of the notebook."""
    assert all(_IDENTIFIER.match(n) for n in names), names
    parts = [*names, *(_literal(a) for a in args)]
    for key, value in (kwargs or {}).items():
        if not _IDENTIFIER.match(key) or keyword.iskeyword(key):
            raise ValueError(f"Not an argument name: {key!r}")
        parts.append(f"{key}={_literal(value)}")
    return f"{function}({', '.join(parts)})"


def _notebook(cells: list) -> Any:
    nbf = _nbformat()
    nb = nbf.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def _md(text: str):
    return _nbformat().v4.new_markdown_cell(text.strip())


def _code(text: str):
    return _nbformat().v4.new_code_cell(text.strip())


def _pictures(input_note: str) -> list:
    return [
        _md(
            f"## Looking inside\nFeature maps of each stage and Grad-CAM for one test image {input_note}."
        ),
        _code(
            "from keras_cnn import inside\n"
            "from keras_cnn.training import data as data_lib\n\n"
            "x, y = data_lib.arrays(DATA, 'test', input_shape=model.input_shape[1:], limit=4)\n"
            "maps = inside.feature_maps(model, x[0])\n"
            "{name: m.shape for name, m in maps.items()}"
        ),
        _code(
            "from PIL import Image\n\n"
            "first = next(iter(maps.values()))[0]\n"
            "Image.fromarray(inside.to_image(inside.tile(first.transpose(2, 0, 1)), size=256))"
        ),
        _code(
            "heat = inside.grad_cam(model, x[:1])\nImage.fromarray(inside.overlay(x[0], heat[0]))"
        ),
    ]


def run_notebook(run_id: str, *, small: bool = False) -> Any:
    """A notebook that rebuilds, retrains and looks inside the model of a stored run.

    The model is rebuilt with the call that built it (``keras_cnn.train.build_model(name, data)``
    for a run started by name, as on the Training page); a run of a model passed as an object
    whose name is not in the registry loads the run's saved ``.keras`` file instead (safe mode),
    which only exists on the machine that trained it, and says so.

    Args:
        run_id: str. A stored run (``keras_cnn.runs.list_runs().id``).
        small: bool. Train at most one epoch on 128 images (for tests and a quick look).

    Returns:
        An ``nbformat`` v4 notebook (not executed).

    Raises:
        ValueError: for an unknown run, or a run trained on data the notebook cannot name
            (in-memory arrays or a ``tf.data`` pipeline).
    """
    from keras_cnn.models.registry import MODELS
    from keras_cnn.training import runs

    history, meta = runs.load_run(run_id)
    data = meta.get("data") or meta.get("settings", {}).get("data")
    if not isinstance(data, str) or data in ("arrays", "dataset"):
        raise ValueError(
            f"Run {run_id!r} trained on {data!r} (in-memory data), which a notebook cannot "
            "reload: export runs trained on a named dataset such as 'digits'."
        )
    settings = {
        k: meta.get("settings", {}).get(k) for k in SETTINGS if k in meta.get("settings", {})
    }
    if small:
        settings["epochs"] = min(int(settings.get("epochs") or 1), SMALL_EPOCHS)
        settings["limit"] = min(int(settings.get("limit") or SMALL_LIMIT), SMALL_LIMIT)
    name = meta.get("built_from") or meta.get("model")
    last = history.iloc[-1].to_dict() if len(history) else {}
    card = [
        f"# Run `{run_id}`: {meta.get('model')} on {data}",
        "",
        "| | |",
        "|---|---|",
        f"| model | `{meta.get('model')}` |",
        f"| data | `{data}` |",
        *(f"| {k} | `{v}` |" for k, v in settings.items()),
        f"| seed | `{meta.get('seed')}` |",
        f"| status | {meta.get('status')} |",
    ]
    if last:
        card.append(f"| final test accuracy | {last.get('test_accuracy', float('nan')):.4f} |")
    cells = [_md("\n".join(card) + "\n\n" + _INSTALL)]
    cells.append(
        _code(f"import keras_cnn\nfrom keras_cnn.train import train\n\nDATA = {_literal(data)}")
    )
    if name in MODELS:
        build = _call("keras_cnn.train.build_model", (name, data))
        cells.append(_md("## The model\nRebuilt with the same `keras_cnn` call as the run."))
    else:
        path = runs.model_path(run_id)
        if path is None:
            raise ValueError(
                f"Run {run_id!r} trained a model keras_cnn cannot rebuild by name ({name!r}) "
                "and kept no .keras file."
            )
        build = _call("keras.saving.load_model", (os.fspath(path),), {"safe_mode": True})
        build = "import keras\n\n" + build
        cells.append(
            _md(
                "## The model\nThis run trained a model of your own, not a registry model: the "
                "notebook loads the run's saved file, which exists only on the machine that "
                "trained it (send the `.keras` file along)."
            )
        )
    cells.append(_code(f"model = {build}\nkeras_cnn.summarize(model)"))
    cells.append(_code("keras_cnn.totals(model)"))
    kwargs = {**settings, "seed": meta.get("seed"), "verbose": 0, "record": False}
    cells.append(_md("## Training\nThe run's settings; `history` has one row per epoch."))
    cells.append(_code(f"history = {_call('train', (), kwargs, names=('model', 'DATA'))}\nhistory"))
    cells.append(_code(_CURVES))
    cells.extend(_pictures("of the data set"))
    return _notebook(cells)


_CURVES = """
import altair as alt

long = history.melt("epoch", ["accuracy", "test_accuracy"], var_name="split", value_name="value")
alt.Chart(long).mark_line(point=True).encode(x="epoch:O", y="value:Q", color="split:N")
"""


def model_notebook(builder: str, args: tuple = (), kwargs: dict | None = None) -> Any:
    """A notebook that builds one model with a ``keras_cnn`` builder and shows its table and
    diagram (the model lab's "notebook" download).

    Args:
        builder: str. A public builder name such as ``"build_resnet"``.
        args: positional arguments (``(50,)``).
        kwargs: keyword arguments (``{"include_top": False}``), JSON-like values only.

    Returns:
        An ``nbformat`` v4 notebook (not executed).

    Raises:
        ValueError: for a name that is not a ``keras_cnn`` builder, or a value that is not
            JSON-like.
    """
    import keras_cnn

    if not (
        isinstance(builder, str) and builder.startswith("build_") and builder in keras_cnn.__all__
    ):
        builders = sorted(n for n in keras_cnn.__all__ if n.startswith("build_"))
        raise ValueError(f"`builder` must be one of {builders}. Received: builder={builder!r}")
    call = _call(f"keras_cnn.{builder}", tuple(args), kwargs or {})
    return _notebook(
        [
            _md(f"# `{call}`\n\n{_INSTALL}"),
            _code(f"import keras_cnn\n\nmodel = {call}\nkeras_cnn.totals(model)"),
            _code("keras_cnn.summarize(model)"),
            _code("keras_cnn.show(model)"),
        ]
    )


def write(notebook: Any, path: str | os.PathLike) -> Path:
    """Save a notebook as ``.ipynb``.

    Returns:
        The path written.
    """
    path = Path(path)
    _nbformat().write(notebook, path)
    return path


def to_bytes(notebook: Any) -> bytes:
    """The ``.ipynb`` file's bytes (for a download button)."""
    return _nbformat().writes(notebook).encode("utf-8")
