"""The model lab's table: for each family its builder and the options the lab offers.

One row per family (:data:`FAMILIES`), each option a builder argument with the widget that
sets it (:class:`Option`); ``app/pages/model_lab.py`` draws them in one loop. No Streamlit
here; the family tables come from ``keras_cnn.models`` (TensorFlow loads with them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
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
                "base_width",
                "number",
                "Width of each group in conv2_x",
                "lab_width",
                4,
                low=1,
                high=512,
            ),
        ),
    ),
    "Wide ResNet (CIFAR-10)": (
        "build_wide_resnet",
        (
            depth_option("Depth (6n + 4)", "lab_wrn_depth", default=28, high=1000, step=6),
            Option("widen_factor", "number", "Widening factor k", "lab_wrn_k", 10, low=1, high=20),
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


# -- the lab in the page address: /model_lab?family=resnet&depth=50&version=2 ------------------

#: Family -> its name in the address.
SLUGS: dict[str, str] = {
    "ResNet (ImageNet)": "resnet",
    "ResNet (CIFAR-10)": "cifar_resnet",
    "ResNeXt / Wide ResNet (ImageNet)": "resnext",
    "Wide ResNet (CIFAR-10)": "wide_resnet",
    "VGG": "vgg",
    "GoogLeNet": "googlenet",
    "AlexNet": "alexnet",
    "LeNet-5": "lenet5",
}
#: The options every family has: address name -> (widget key, kind).
COMMON = {"input_shape": ("lab_shape", "text"), "include_top": ("lab_top", "check")}
#: At most this many characters of a value are read (anything longer is refused).
MAX_VALUE = 64
_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


@dataclass
class Address:
    """What a page address asks of the lab: the family, widget values to start from (by widget
    key), and one message per value that was not understood (it falls back to the default)."""

    family: str
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _parse(option: Option, text: str) -> Any:
    """``text`` as the option's widget value; ValueError when it is not one."""
    if option.kind == "check":
        low = text.lower()
        if low not in _TRUE | _FALSE:
            raise ValueError("true or false")
        return low in _TRUE
    if option.kind == "shortcut":
        from keras_cnn.models.resnet import SHORTCUT_OPTIONS

        if text.upper() not in SHORTCUT_OPTIONS:
            raise ValueError(f"one of {', '.join(SHORTCUT_OPTIONS)}")
        return text.upper()
    if option.kind == "select":
        for choice in option.choices:
            if str(choice) == text:
                return choice
        raise ValueError(f"one of {', '.join(map(str, option.choices))}")
    try:
        number = float(text) if option.kind == "slider" else int(text)
    except ValueError:
        raise ValueError(f"a number from {option.low:g} to {option.high:g}") from None
    if not (math.isfinite(number) and option.low <= number <= option.high):
        raise ValueError(f"a number from {option.low:g} to {option.high:g}")
    return number


def read_address(query: Mapping[str, str]) -> Address:
    """The lab's starting point from the page address (``st.query_params``).

    Unknown families and options, and values that are not valid for their widget, are left at
    their defaults with a message; nothing from the address reaches a builder unchecked (the
    input shape goes through the page's own shape check).
    """
    by_slug = {slug: family for family, slug in SLUGS.items()}
    slug = str(query.get("family", ""))[:MAX_VALUE]
    address = Address(family=by_slug.get(slug, next(iter(FAMILIES))))
    if slug and slug not in by_slug:
        address.problems.append(
            f"family={slug!r} is not one of {', '.join(by_slug)}: showing {address.family}."
        )
    options = {o.arg: o for o in FAMILIES[address.family][1]}
    for name, raw in query.items():
        if name == "family":
            continue
        text = str(raw)
        if len(text) > MAX_VALUE:
            address.problems.append(f"{name}= is longer than {MAX_VALUE} characters: ignored.")
            continue
        if name in COMMON:
            key, kind = COMMON[name]
            try:
                address.values[key] = (
                    text if kind == "text" else _parse(Option(name, kind, "", ""), text)
                )
            except ValueError as exc:
                address.problems.append(f"{name}={text!r} must be {exc}: ignored.")
            continue
        if name == "classes":
            try:
                value = _parse(Option(name, "number", "", "", low=1, high=100_000), text)
            except ValueError as exc:
                address.problems.append(f"{name}={text!r} must be {exc}: ignored.")
            else:
                address.values[f"lab_classes_{FAMILIES[address.family][0]}"] = value
            continue
        if name == "pooling":
            if text in ("avg", "max", "none"):
                address.values["lab_pooling"] = None if text == "none" else text
            else:
                address.problems.append(f"pooling={text!r} must be avg, max or none: ignored.")
            continue
        option = options.get(name)
        if option is None:
            known = ", ".join([*options, "classes", "pooling", *COMMON])
            address.problems.append(
                f"{name}= is not an option of {address.family} ({known}): ignored."
            )
            continue
        try:
            address.values[_key(option, query)] = _parse(option, text)
        except ValueError as exc:
            address.problems.append(f"{name}={text!r} must be {exc}: ignored.")
    return address


def _key(option: Option, query: Mapping[str, str]) -> str:
    """The widget key of an option (a paper-dependent shortcut is kept per version)."""
    if option.kind == "shortcut" and option.paper:
        return f"{option.key}_{query.get(option.paper, '1')}"
    return option.key


def address_of(family: str, values: Mapping[str, Any]) -> dict[str, str]:
    """The page address of a configuration: ``family`` and every option that is set.

    Args:
        family: a key of :data:`FAMILIES`.
        values: option name (``depth``, ``version``, ``input_shape``, ``classes`` ...) -> value;
            None values are left out.
    """
    out = {"family": SLUGS[family]}
    for name, value in values.items():
        if value is None or value == "":
            continue
        out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


def lab_query_names(family: str) -> set[str]:
    """Every address name the lab writes for ``family`` (others, like ``learner``, are kept)."""
    options = {o.arg for o in FAMILIES[family][1]}
    all_options = {o.arg for _, opts in FAMILIES.values() for o in opts}
    return {"family", "classes", "pooling", *COMMON, *options, *all_options}
