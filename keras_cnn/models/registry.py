"""The model registry: every named network, its paper, and its reported results.

``get_model("resnet50")`` builds a model by name; ``list_models()`` returns the table
the README and the app's explorer show. The structural figures (weight layers,
parameters, multiply-adds at the default input) are computed from the builders by
``compute_figures()`` and stored in ``figures.json`` so that listing is instant; a test
rebuilds every model and checks the file against the code. The error rates are the
papers' own, cited below with the table they come from.

It is the one table of names: ``get_model``, :func:`keras_cnn.train.build_model` and
``train`` read it through :func:`resolve` (the table, its old ids in :data:`ALIASES`, then
the rule for any CIFAR ``resnet{6n+2}`` / ``plain{6n+2}``). Each entry's id is the built
model's name and its weights' key, and each carries its data configuration
(:attr:`ModelEntry.cfg`). The module is a little over 500 lines because the table is: one
row per model with its paper's cited numbers, kept together so a row reads in one place.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from keras_cnn.models.preprocessing import PREPROCESSING_MODES

if TYPE_CHECKING:
    import pandas as pd


FIGURES_PATH = Path(__file__).with_name("figures.json")

_PAPERS = {
    "lenet": ("LeCun et al., Gradient-Based Learning Applied to Document Recognition", 1998),
    "alexnet": ("Krizhevsky et al., ImageNet Classification with Deep CNNs", 2012),
    "vgg": ("Simonyan & Zisserman, Very Deep Convolutional Networks", 2014),
    "googlenet": ("Szegedy et al., Going Deeper with Convolutions", 2014),
    "resnet": ("He et al., Deep Residual Learning for Image Recognition", 2015),
    "resnet_v2": ("He et al., Identity Mappings in Deep Residual Networks", 2016),
    "wrn": ("Zagoruyko & Komodakis, Wide Residual Networks", 2016),
    "resnext": ("Xie et al., Aggregated Residual Transformations for Deep Neural Networks", 2017),
}


@dataclass(frozen=True)
class ModelEntry:
    """One registry row: how to build the model and what its paper reports."""

    name: str
    builder: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    family: str = ""
    paper: str = ""
    #: Reported ImageNet top-1 / top-5 error (%) and CIFAR-10 test error (%).
    top1: float | None = None
    top5: float | None = None
    cifar10: float | None = None
    #: Where the reported numbers come from.
    source: str = ""
    #: How :func:`keras_cnn.train.build_model` fits the model to a dataset, one of
    #: :data:`ADAPTATIONS`.
    adapt: str = "classes"
    #: The default input, ``(height, width, channels)``.
    input_size: tuple[int, int, int] = (224, 224, 3)
    #: How images are prepared for the published ImageNet weights (a key of
    #: :data:`PREPROCESSING_MODES`); None for a model without published weights.
    preprocessing: str | None = None

    @property
    def cfg(self) -> dict[str, Any]:
        """The data configuration, as timm's ``default_cfg``: ``input_size`` (height, width,
        channels), ``preprocessing`` (the mode), ``mean`` and ``std`` (RGB, for pixels in [0,
        1]; None without published weights) and ``weights`` (``"imagenet"`` or None)."""
        mode = PREPROCESSING_MODES.get(self.preprocessing)
        mean, std = mode.rgb_mean_std() if mode else (None, None)
        return {
            "input_size": self.input_size,
            "preprocessing": self.preprocessing,
            "mean": mean,
            "std": std,
            "weights": "imagenet" if self.preprocessing else None,
        }


#: How a registry model meets a dataset. ``"classes"``: it keeps its own input (an ImageNet
#: network's 224x224x3; the data are resized and grey images repeated to RGB) and gets the
#: data's classes. ``"channels"``: a small network for live training, built at its own input
#: size (32x32) with the data's channels as well as its classes.
ADAPTATIONS = ("classes", "channels")


def _entries() -> list[ModelEntry]:
    e: list[ModelEntry] = [
        ModelEntry(
            "lenet5",
            "build_lenet5",
            family="LeNet",
            paper="lenet",
            adapt="channels",
            input_size=(32, 32, 1),
        ),
        ModelEntry(
            "alexnet",
            "build_alexnet",
            family="AlexNet",
            paper="alexnet",
            top1=40.7,
            top5=18.2,
            source="Table 2: 1 CNN, ILSVRC-2012 validation",
            input_size=(227, 227, 3),
        ),
    ]
    # VGG: Table 3 of the paper (single-scale evaluation; D and E trained with scale
    # jittering [256; 512], tested at 384; A and B trained and tested at 256).
    vgg_errors = {11: (29.6, 10.4), 13: (28.7, 9.9), 16: (25.6, 8.1), 19: (25.5, 8.0)}
    for depth, (top1, top5) in vgg_errors.items():
        e.append(
            ModelEntry(
                f"vgg{depth}",
                "build_vgg",
                {"depth": depth},
                "VGG",
                "vgg",
                top1,
                top5,
                source="Table 3: single-scale evaluation, ILSVRC-2012 validation",
                # keras.applications publishes VGG-16 and VGG-19 weights, from Caffe
                preprocessing="caffe" if depth in (16, 19) else None,
            )
        )
    for depth in vgg_errors:
        e.append(
            ModelEntry(
                f"vgg{depth}_bn", "build_vgg", {"depth": depth, "batch_norm": True}, "VGG", "vgg"
            )
        )
    e.append(
        ModelEntry(
            "vgg_small",
            "build_small_vgg",
            family="VGG",
            paper="vgg",
            adapt="channels",
            input_size=(32, 32, 3),
        )
    )
    e.append(
        ModelEntry(
            "googlenet",
            "build_googlenet",
            family="GoogLeNet",
            paper="googlenet",
            top5=10.07,
            source="Table 5: 1 model, 1 crop, ILSVRC-2014 validation",
        )
    )
    # ResNet: Table 4 (single model, ILSVRC-2012 validation); ResNet-18 from Table 2
    # (top-1 only, 10-crop testing).
    resnet_errors = {
        18: (27.88, None, "Table 2: top-1, 10-crop, ILSVRC-2012 validation"),
        34: (21.53, 5.60, "Table 4: single model, ILSVRC-2012 validation (34 C)"),
        50: (20.74, 5.25, "Table 4: single model, ILSVRC-2012 validation"),
        101: (19.87, 4.60, "Table 4: single model, ILSVRC-2012 validation"),
        152: (19.38, 4.49, "Table 4: single model, ILSVRC-2012 validation"),
    }
    for depth, (top1, top5, source) in resnet_errors.items():
        e.append(
            ModelEntry(
                f"resnet{depth}",
                "build_resnet",
                {"depth": depth},
                "ResNet",
                "resnet",
                top1,
                top5,
                source=source,
                # keras.applications publishes ResNet-50/101/152 weights, from Caffe
                preprocessing="caffe" if depth >= 50 else None,
            )
        )
    for depth in (50, 101, 152):
        e.append(
            ModelEntry(
                f"resnet{depth}v2",
                "build_resnet",
                {"depth": depth, "version": 2},
                "ResNet v2",
                "resnet_v2",
                preprocessing="tf",
            )
        )
    # CIFAR-10: Table 6 of He et al. 2015 (test error, %; 110: best of 5 runs).
    cifar_errors = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43, 1202: 7.93}
    for depth, error in cifar_errors.items():
        e.append(
            ModelEntry(
                f"resnet{depth}",
                "build_cifar_resnet",
                {"depth": depth},
                "CIFAR ResNet",
                "resnet",
                cifar10=error,
                source="Table 6: CIFAR-10 test error",
                adapt="channels",
                input_size=(32, 32, 3),
            )
        )
    for depth in (20, 32, 44, 56, 110):
        e.append(
            ModelEntry(
                f"plain{depth}",
                "build_cifar_resnet",
                {"depth": depth, "residual": False},
                "CIFAR plain",
                "resnet",
                adapt="channels",
                input_size=(32, 32, 3),
            )
        )
    # Pre-activation CIFAR ResNets: Table 3 of He et al. 2016 (CIFAR-10 test error, %).
    for depth, error in {110: 6.37, 164: 5.46, 1001: 4.92}.items():
        e.append(
            ModelEntry(
                f"resnet{depth}v2",
                "build_cifar_resnet",
                {"depth": depth, "version": 2},
                "CIFAR ResNet v2",
                "resnet_v2",
                cifar10=error,
                source="Table 3: CIFAR-10 test error, pre-activation units",
                input_size=(32, 32, 3),
            )
        )
    # Wide ResNets on CIFAR: Table 5 of Zagoruyko & Komodakis (no dropout).
    for (depth, width), error in {(16, 8): 4.27, (28, 10): 4.00, (40, 4): 4.53}.items():
        e.append(
            ModelEntry(
                f"wrn{depth}_{width}",
                "build_wide_resnet",
                {"depth": depth, "widen_factor": width},
                "Wide ResNet (CIFAR)",
                "wrn",
                cifar10=error,
                source="Table 5: CIFAR-10 test error, no dropout",
                input_size=(32, 32, 3),
            )
        )
    # ImageNet Wide ResNets: bottleneck ResNets with twice the inner width (torchvision).
    wide = {
        50: (21.9, 6.03, "ImageNet results: WRN-50-2-bottleneck, single crop"),
        101: (None, None, "not in the paper (torchvision's configuration)"),
    }
    for depth, (top1, top5, source) in wide.items():
        e.append(
            ModelEntry(
                f"wide_resnet{depth}_2",
                "build_resnext",
                {
                    "depth": depth,
                    "cardinality": 1,
                    "base_width": 128,
                    "name": f"wide_resnet{depth}_2",
                },
                "Wide ResNet",
                "wrn",
                top1,
                top5,
                source=source,
            )
        )
    # ResNeXt: Tables 3 and 4 of Xie et al. (224x224 single crop, ILSVRC-2012 validation).
    resnext = {
        (50, 32, 4): (22.2, None, "Table 3: top-1, 224x224 single crop"),
        (101, 32, 8): (None, None, "not in the paper (torchvision's configuration)"),
        (101, 64, 4): (20.4, 5.3, "Table 4: 224x224 single crop"),
    }
    for (depth, cardinality, width), (top1, top5, source) in resnext.items():
        e.append(
            ModelEntry(
                f"resnext{depth}_{cardinality}x{width}d",
                "build_resnext",
                {"depth": depth, "cardinality": cardinality, "base_width": width},
                "ResNeXt",
                "resnext",
                top1,
                top5,
                source=source,
            )
        )
    return e


#: id -> entry, in the order of the models table (docs/registry.md). The id is the built model's ``name`` and
#: the key of its published weights (:data:`keras_cnn.models.weights.IMAGENET_WEIGHTS`):
#: ``keras.applications``' own names where it has the model (``vgg16``, ``resnet50``,
#: ``resnet50v2``), torchvision's where it has it (``resnext50_32x4d``, ``wide_resnet50_2``).
MODELS: dict[str, ModelEntry] = {entry.name: entry for entry in _entries()}

#: Old ids that still resolve to their model: id -> current id.
ALIASES: dict[str, str] = {
    f"resnet{depth}_v2": f"resnet{depth}v2" for depth in (50, 101, 152, 110, 164, 1001)
}


#: Any CIFAR ResNet or plain net of depth 6n+2 is a model too (``resnet8``, ``plain14``,
#: ``resnet110`` …): a rule after the table, which has the ImageNet ``resnet18``-``resnet152``.
CIFAR_RULE = re.compile(r"^(resnet|plain)(\d+)$")


def _cifar_entry(name: str) -> ModelEntry | None:
    """The entry the CIFAR rule gives ``name``, or None when it is not ``(resnet|plain)6n+2``."""
    match = CIFAR_RULE.match(name)
    if not match or int(match.group(2)) < 8 or (int(match.group(2)) - 2) % 6:
        return None
    kind, depth = match.group(1), int(match.group(2))
    return ModelEntry(
        name,
        "build_cifar_resnet",
        {"depth": depth, "residual": kind == "resnet"},
        "CIFAR ResNet" if kind == "resnet" else "CIFAR plain",
        "resnet",
        adapt="channels",
        input_size=(32, 32, 3),
    )


def _builder(name: str):
    import keras_cnn

    return getattr(keras_cnn, name)


def canonical(name: str) -> str:
    """The current id of ``name``: itself, or for an old id (:data:`ALIASES`) its new one, with a
    ``DeprecationWarning``."""
    if name in ALIASES:
        warnings.warn(
            f"Model id {name!r} is now {ALIASES[name]!r} (keras.applications' name, the built "
            f"model's name and its weights' key); the old id still works.",
            DeprecationWarning,
            stacklevel=3,
        )
        return ALIASES[name]
    return name


def resolve(name: str, *, what: str = "name") -> ModelEntry:
    """The registry entry of ``name``: a row of :data:`MODELS`, or a CIFAR ``resnet{6n+2}`` /
    ``plain{6n+2}`` by rule.

    Args:
        name: str. A model id (see ``list_models()``).
        what: str. The argument's name in the error message. Defaults to ``"name"``.

    Returns:
        The :class:`ModelEntry`.

    Raises:
        ValueError: for an unknown name, suggesting the closest and listing the known ones.
    """
    if isinstance(name, str) and name in MODELS:
        return MODELS[name]
    if isinstance(name, str) and name in ALIASES:
        return MODELS[canonical(name)]
    entry = _cifar_entry(name) if isinstance(name, str) else None
    if entry is None:
        close = difflib.get_close_matches(str(name), MODELS, n=3, cutoff=0.5)
        hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(
            f"Unknown model {name!r}.{hint} Known models: {', '.join(MODELS)}, and any CIFAR "
            f"resnet/plain of depth 6n+2 (resnet8, plain14, ...); `python -m keras_cnn list` "
            f"prints them all. Received: {what}={name!r}"
        )
    return entry


def data_kwargs(name: str, *, channels: int, classes: int) -> dict[str, Any]:
    """The builder arguments that fit model ``name`` to a dataset (see :data:`ADAPTATIONS`).

    Args:
        name: str. A model id.
        channels: int. The data's channels (1 for grey images, 3 for RGB).
        classes: int. The data's classes.

    Returns:
        ``{"classes": classes}``, and for a small network its ``input_shape`` at its own
        size with the data's channels.
    """
    entry = resolve(name)
    if entry.adapt == "channels":
        return {"classes": classes, "input_shape": (32, 32, channels)}
    return {"classes": classes}


def get_model(name: str, **kwargs):
    """Build a registry model by name, e.g. ``get_model("resnet50", include_top=False)``.

    Args:
        name: str. A registry name such as ``vgg16``, ``vgg16_bn``, ``resnet50``,
            ``resnet50v2``, ``resnet20``, ``plain56``, ``resnet164v2``, ``wrn28_10``,
            ``wide_resnet50_2``, ``resnext50_32x4d``, ``lenet5``, ``alexnet``,
            ``googlenet`` (see ``list_models()``), or any CIFAR ``resnet{6n+2}`` /
            ``plain{6n+2}``.
        **kwargs: passed to the builder (``include_top``, ``weights``, ``input_shape``,
            ``pooling``, ``classes``, ``classifier_activation`` …), overriding the
            registry's own arguments.

    Returns:
        A ``keras.Model``.

    Raises:
        ValueError: for an unknown name or argument (suggesting the closest, naming the
            valid ones) or bad values.
    """
    from keras_cnn.models.common import check_keywords

    entry = resolve(name)
    builder = _builder(entry.builder)
    kwargs = check_keywords(builder, kwargs, caller=f"get_model({name!r})")
    return builder(**{**entry.kwargs, **kwargs})


def compute_figures(names=None) -> dict[str, dict[str, int]]:
    """Build models and measure them: parameters, trainable parameters, MACs, depth."""
    import keras

    from keras_cnn.analysis.summary import inspect_structure, totals

    figures = {}
    for name in names or MODELS:
        # Only shapes matter: no weights are initialised (WRN-101-2 has 127M of them).
        figures[name] = inspect_structure(lambda name=name: get_model(name), totals)
        keras.backend.clear_session()
    return figures


@cache
def _figures() -> dict[str, dict[str, int]]:
    return json.loads(FIGURES_PATH.read_text())


def list_models(
    pattern: str | Sequence[str] | None = None,
    *,
    pretrained: bool = False,
    table: bool | None = None,
) -> pd.DataFrame | list[str]:
    """The registry: its ids matching shell-style patterns (as timm), or the table of them.

    ``list_models()`` is the table, one row per model; ``list_models("resnet*")`` the ids
    that match, in the table's order, as ``timm.list_models`` gives them.

    Columns of the table: ``name`` (the id), ``family``, ``year``, ``paper``,
    ``weight_layers``, ``params``, ``trainable_params``, ``macs`` (multiply-adds for one
    image at the default input), ``input_size``, ``top1_error``, ``top5_error`` (ImageNet,
    %), ``cifar10_error`` (%), ``source`` (where the errors are reported),
    ``imagenet_weights`` (whether ``weights="imagenet"`` is available), and the data
    configuration of each entry (:attr:`ModelEntry.cfg`): ``input_shape``,
    ``preprocessing`` (the mode of :func:`keras_cnn.preprocess_input`), ``mean`` and ``std``.

    Args:
        pattern: str, list of str or None. Shell-style patterns (``"resnet*"``,
            ``"*_bn"``, ``"wrn??_*"``); an id matching any of them is listed. Defaults to
            None: every model.
        pretrained: bool. Only the models with published ImageNet weights.
        table: bool or None. True for the table, False for the list of ids. Defaults to
            None: the table without a pattern, the ids with one.

    Returns:
        A ``pandas.DataFrame``, or a list of ids.

    Example:
        >>> list_models("vgg1?")
        ['vgg11', 'vgg13', 'vgg16', 'vgg19']
        >>> list_models("*v2", pretrained=True)
        ['resnet50v2', 'resnet101v2', 'resnet152v2']
    """
    patterns = [pattern] if isinstance(pattern, str) else list(pattern or ["*"])
    names = [
        name
        for name, entry in MODELS.items()
        if any(fnmatch.fnmatchcase(name, p) for p in patterns)
        and (entry.preprocessing or not pretrained)
    ]
    if table is False or (table is None and pattern is not None):
        return names
    return _table([MODELS[name] for name in names])


def _table(entries: list[ModelEntry]) -> pd.DataFrame:
    import pandas as pd

    from keras_cnn.models.weights import IMAGENET_WEIGHTS

    figures = _figures()
    rows = []
    for entry in entries:
        paper, year = _PAPERS[entry.paper]
        fig = figures.get(entry.name, {})
        cfg = entry.cfg
        rows.append(
            {
                "name": entry.name,
                "family": entry.family,
                "year": year,
                "paper": paper,
                "weight_layers": fig.get("weight_layers"),
                "params": fig.get("params"),
                "trainable_params": fig.get("trainable_params"),
                "macs": fig.get("macs"),
                "input_size": fig.get("input_size"),
                "top1_error": entry.top1,
                "top5_error": entry.top5,
                "cifar10_error": entry.cifar10,
                "source": entry.source,
                "imagenet_weights": entry.name in IMAGENET_WEIGHTS,
                "input_shape": cfg["input_size"],
                "preprocessing": cfg["preprocessing"],
                "mean": cfg["mean"],
                "std": cfg["std"],
            }
        )
    table = pd.DataFrame(rows)
    for column in ("weight_layers", "params", "trainable_params", "macs", "input_size"):
        table[column] = table[column].astype("Int64")
    return table


def _fmt(value, scale: float, digits: int, unit: str) -> str:
    import pandas as pd

    return "" if value is None or pd.isna(value) else f"{value / scale:.{digits}f}{unit}"


def _human(value) -> str:
    """1234567 -> '1.23M', 416520 -> '416.5k', 11282415616 -> '11.28G'."""
    for scale, unit, digits in ((1e9, "G", 2), (1e6, "M", 2), (1e3, "k", 1)):
        if value >= scale:
            return _fmt(value, scale, digits, unit)
    return str(value)


def markdown_table() -> str:
    """The registry as the Markdown table of the README (a test keeps them equal)."""
    lines = [
        "| Model | Family | Year | Weight layers | Parameters | Multiply-adds | "
        "ImageNet top-1 / top-5 error | CIFAR-10 error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in list_models().itertuples():
        imagenet = " / ".join(_fmt(v, 1, 2, "%") or "–" for v in (row.top1_error, row.top5_error))
        lines.append(
            f"| `{row.name}` | {row.family} | {row.year} | {row.weight_layers} | "
            f"{_human(row.params)} | {_human(row.macs)} | "
            f"{'' if imagenet == '– / –' else imagenet} | {_fmt(row.cifar10_error, 1, 2, '%')} |"
        )
    return "\n".join(lines) + "\n"
