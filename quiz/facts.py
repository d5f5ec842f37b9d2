"""Machine-readable checks of the numbers lessons state (pure Python; no Keras here).

A lesson's ``[[facts]]`` table carries a ``check`` string naming what ``keras_cnn`` computes:

=========================  ===================================================================
``params:<model>``          ``keras_cnn.get_model(model).count_params()``
``trainable:<model>``       ``keras_cnn.totals(model)["trainable_params"]``
``layer_params:<m>:<layer>`` ``model.get_layer(layer).count_params()``
``macs_of:<model>:<prefix>``  multiply-adds of the layers whose name starts with ``prefix``
``macs:<model>``            ``keras_cnn.count_macs(keras_cnn.get_model(model))``
``rf:<model>:<layer>``      ``keras_cnn.receptive_field(model, layer)`` (pixels along one axis)
``shape:<model>:<layer>``   ``list(model.get_layer(layer).output.shape[1:])``
``activation_bytes:<m>``      ``summarize(model).activation_bytes.sum()`` (forward, one image)
=========================  ===================================================================

The comparison itself lives in ``tests/test_quiz_facts.py`` so that ``quiz`` never imports Keras.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from keras_cnn.models.registry import MODELS

CHECK_KINDS: dict[str, bool] = {
    "params": False,
    "trainable": False,
    "macs": False,
    "rf": True,
    "shape": True,
    "layer_params": True,
    "macs_of": True,
    "activation_bytes": False,
}
"""Check kind -> whether it needs a layer name."""

KNOWN_MODELS: frozenset[str] = frozenset(MODELS)  # the registry itself (no Keras imported)
"""Model names of the ``keras_cnn`` registry that lessons may reference."""


@dataclass(frozen=True)
class Check:
    """A parsed check string.

    Attributes:
        kind: One of :data:`CHECK_KINDS`.
        model: Registry model name.
        layer: Layer name (``rf``, ``shape`` and ``layer_params``) or layer-name prefix
            (``macs_of``: a block or stage such as ``conv4`` or ``block1``), else ``""``.
    """

    kind: str
    model: str
    layer: str = ""


def parse_check(text: str) -> Check:
    """Parse a check string such as ``"params:vgg16"`` or ``"rf:vgg16:block5_pool"``.

    Args:
        text: The check string.

    Returns:
        The parsed check.

    Raises:
        ValueError: If the kind is unknown, the model is not in the registry, or the layer name is
            missing or superfluous.
    """
    if not isinstance(text, str):
        raise ValueError(f"check must be a string, got {type(text).__name__}")
    parts = text.strip().split(":")
    kind = parts[0]
    if kind not in CHECK_KINDS:
        raise ValueError(f"unknown check kind {kind!r} (expected one of {sorted(CHECK_KINDS)})")
    needs_layer = CHECK_KINDS[kind]
    expected = 3 if needs_layer else 2
    if len(parts) != expected or not all(parts):
        form = f"{kind}:<model>:<layer>" if needs_layer else f"{kind}:<model>"
        raise ValueError(f"malformed check {text!r} (expected {form})")
    model = parts[1]
    if model not in KNOWN_MODELS:
        raise ValueError(f"unknown model {model!r} in check {text!r}")
    return Check(kind=kind, model=model, layer=parts[2] if needs_layer else "")


def validate_value(check: Check, value: Any) -> None:
    """Check that a fact's stated value has the right form for its check.

    Args:
        check: The parsed check.
        value: The stated value.

    Raises:
        ValueError: If a ``shape`` value is not a list of positive ints, or another value is not a
            finite positive number.
    """
    if check.kind == "shape":
        if not (
            isinstance(value, list)
            and value
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
        ):
            raise ValueError(f"shape value must be a list of positive ints, got {value!r}")
        return
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"value must be a positive number, got {value!r}")


def matches(stated: Any, computed: Any, rel_tol: float = 0.0) -> bool:
    """Whether a computed value agrees with a stated one.

    Args:
        stated: The value the lesson states.
        computed: The value ``keras_cnn`` computes (shapes as lists, ``None`` entries not allowed).
        rel_tol: Relative tolerance for numbers (0 means exact).

    Returns:
        True when equal (shapes) or within ``rel_tol`` (numbers).
    """
    if isinstance(stated, list):
        return list(stated) == [int(v) for v in computed]
    return math.isclose(float(stated), float(computed), rel_tol=rel_tol, abs_tol=0.0)
