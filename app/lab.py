"""The model lab's table: for each family its builder and the options the lab offers.

One row per family (:data:`FAMILIES`), each option a builder argument with the widget that
sets it (:class:`Option`); ``app/pages/model_lab.py`` draws them in one loop. No Streamlit
here; the family tables come from ``keras_cnn.models`` (TensorFlow loads with them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keras_cnn.models.resnet import RESNET_SPECS, RESNEXT_DEPTHS, SHORTCUT_OPTIONS, VERSIONS
from keras_cnn.models.vgg import VGG_SPECS


@dataclass(frozen=True)
class Option:
    """One option of a family in the lab: a builder argument and the widget that sets it.

    ``kind`` is ``select`` (``choices``), ``number`` (``low``..``high``, ``step``), ``check``,
    ``slider`` (``low``..``high``, ``step``) or ``shortcut`` (the paper's A/B/C; ``paper``
    names the option whose value picks the paper's default, which then is left out of the
    call). ``depth`` is the builder's positional argument.
    """

    arg: str
    kind: str
    label: str
    key: str
    default: Any = None
    choices: tuple = ()
    low: float = 0
    high: float = 0
    step: float = 1
    paper: str = ""


def depth_option(label: str, key: str, choices=(), default=None, low=1, high=0, step=1) -> Option:
    kind = "select" if choices else "number"
    return Option("depth", kind, label, key, default, tuple(choices), low, high, step)


#: Family -> (builder, options): one row per family, read by one loop below.
FAMILIES: dict[str, tuple[str, tuple[Option, ...]]] = {
    "ResNet (ImageNet)": (
        "build_resnet",
        (
            depth_option("Depth", "lab_depth", sorted(RESNET_SPECS), 50),
            Option("version", "select", "Version", "lab_version", choices=tuple(sorted(VERSIONS))),
            Option("shortcut", "shortcut", "Shortcut", "lab_shortcut"),
        ),
    ),
    "ResNet (CIFAR-10)": (
        "build_cifar_resnet",
        (
            depth_option("Depth (6n + 2)", "lab_cifar_depth", default=20, high=2000, step=6),
            Option(
                "version",
                "select",
                "Version (2: pre-activation; bottlenecks beyond 110, depth 9n + 2)",
                "lab_cifar_version",
                choices=tuple(sorted(VERSIONS)),
            ),
            Option("residual", "check", "Residual (off: the plain twin)", "lab_res", True),
            Option("shortcut", "shortcut", "Shortcut", "lab_cifar_shortcut", paper="version"),
        ),
    ),
    "ResNeXt / Wide ResNet (ImageNet)": (
        "build_resnext",
        (
            depth_option("Depth", "lab_resnext_depth", list(RESNEXT_DEPTHS)),
            Option(
                "cardinality",
                "number",
                "Cardinality (groups; 1: a Wide ResNet)",
                "lab_card",
                32,
                low=1,
                high=256,
            ),
            Option(
                "width", "number", "Width of each group in conv2_x", "lab_width", 4, low=1, high=512
            ),
        ),
    ),
    "Wide ResNet (CIFAR-10)": (
        "build_wide_resnet",
        (
            depth_option("Depth (6n + 4)", "lab_wrn_depth", default=28, high=1000, step=6),
            Option("width", "number", "Widening factor k", "lab_wrn_k", 10, low=1, high=20),
            Option(
                "dropout", "slider", "Dropout", "lab_wrn_dropout", 0.0, low=0.0, high=0.9, step=0.1
            ),
        ),
    ),
    "VGG": (
        "build_vgg",
        (
            depth_option("Depth", "lab_vgg", sorted(VGG_SPECS), 16),
            Option("batch_norm", "check", "Batch normalization", "lab_bn", False),
        ),
    ),
    "GoogLeNet": (
        "build_googlenet",
        (Option("lrn", "check", "Local response normalization", "lab_g_lrn", False),),
    ),
    "AlexNet": (
        "build_alexnet",
        (
            Option("two_tower", "check", "Two towers (two GPUs)", "lab_two_tower", False),
            Option("lrn", "check", "Local response normalization", "lab_lrn", False),
        ),
    ),
    "LeNet-5": ("build_lenet5", ()),
}


def shortcut_label(option: str) -> str:
    """Short enough for the narrow column: ``A: zero_pad``, ``C: all projection`` (the help
    says what each does where the shape changes and where it does not)."""
    changing, same = SHORTCUT_OPTIONS[option]
    return f"{option}: {changing}" if same == "identity" else f"{option}: all {changing}"
