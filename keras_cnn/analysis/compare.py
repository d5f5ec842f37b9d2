"""Compare a model with a reference: shapes, parameters, the layers on each path, the function.

:func:`compare` answers "is my network the reference network?" the way a reviewer would: it
checks the output shape, the trainable and non-trainable parameters, then walks both layer
graphs backwards from the outputs, pairing layer with layer (an addition's inputs in either
order) and comparing what a lesson teaches about each (kernel, strides, padding, filters,
bias, groups, activation), and finally copies the reference's weights into the model and
requires equal outputs on random inputs. It ignores what does not change the function as
taught: layer names, initializers, and batch normalization's ``epsilon`` and ``momentum``
(copied from the reference before the outputs are compared).

Padding is compared by what it does: ``ZeroPadding2D(p)`` then a ``"valid"`` convolution is
the same as padding ``p`` on every side, and ``padding="same"`` with stride 1 is the same as
``k // 2`` on every side; a strided ``"same"`` convolution is not (Keras then pads only the
bottom and right), and the comparison says so.

The layer graphs come from :func:`keras_cnn.analysis.taught.taught_graph` (a model as a
lesson teaches it); this module pairs two of them, counts, words the differences and runs
the function check.

Example:
    >>> result = keras_cnn.compare(my_model, keras_cnn.build_cifar_resnet(20))  # doctest: +SKIP
    >>> result.equal, result.first  # a learner's model  # doctest: +SKIP
    (False, Difference(check='count', message='your model has 18 batch normalizations; ...'))
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import keras
import numpy as np

from keras_cnn.analysis.taught import Node, taught_graph

#: Layer kinds whose count is compared, in the order a difference is reported.
_COUNTED = ("add", "concat", "conv", "bn", "dense", "pool", "act", "gpool", "flatten")

_WORDS = {
    "input": ("input", "inputs"),
    "conv": ("convolution", "convolutions"),
    "dense": ("dense layer", "dense layers"),
    "bn": ("batch normalization", "batch normalizations"),
    "act": ("activation", "activations"),
    "pool": ("pooling layer", "pooling layers"),
    "gpool": ("global pooling", "global poolings"),
    "flatten": ("Flatten", "Flattens"),
    "add": ("addition", "additions"),
    "concat": ("concatenation", "concatenations"),
}


_PADDING_NOTE = {
    ("same", "pad 1"): (
        " (with a stride, padding='same' pads only the bottom and right; pad one pixel on every"
        " side with layers.ZeroPadding2D(1), then padding='valid')"
    ),
}


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _word(kind: str, settings: dict | None = None, plural: bool = False) -> str:
    if kind == "act" and settings and not plural:
        fn = settings.get("fn", "")
        return {"relu": "ReLU", "softmax": "softmax", "tanh": "tanh"}.get(fn, f"{fn} activation")
    if kind == "pool" and settings and not plural:
        return {"max": "max-pooling", "avg": "average pooling"}[settings["op"]]
    singular, many = _WORDS.get(kind, (kind, kind + "s"))
    return many if plural else singular


@dataclass(frozen=True)
class Difference:
    """One way the model differs from the reference.

    Attributes:
        check: Which check found it: ``"inputs"``, ``"output_shape"``, ``"params"``,
            ``"count"`` (how many layers of a kind), ``"type"`` (another kind of layer where
            the reference has this one), ``"setting"`` (a layer's setting) or ``"function"``
            (different outputs with the reference's weights).
        message: The difference in words.
        kind: The layer kind concerned (``"conv"``, ``"bn"``, ``"act"``, ``"add"`` ...).
        field: The setting or quantity (``"strides"``, ``"use_bias"``, ``"trainable"`` ...).
        got: The model's value.
        expected: The reference's value.
        ordinal: Position of the reference's layer among the layers of its kind (1-based,
            in the reference's build order); 0 when not about one layer.
        layer: The model's layer name (empty when not about one layer).
    """

    check: str
    message: str
    kind: str = ""
    field: str = ""
    got: object = None
    expected: object = None
    ordinal: int = 0
    layer: str = ""


#: The comparison's checks in the order they run and are shown.
CHECKS = ("output_shape", "params", "layers", "function")


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`: every difference found, and each check's verdict.

    ``checks`` maps each of :data:`CHECKS` to True (passed), False (failed) or None (not
    run: the function check needs the same layers). ``bool(result)`` is ``result.equal``.
    """

    differences: tuple[Difference, ...]
    checks: dict = field(default_factory=dict)
    max_error: float | None = None

    @property
    def equal(self) -> bool:
        return not self.differences and all(v is not False for v in self.checks.values())

    @property
    def first(self) -> Difference | None:
        """The difference to fix first: a layer difference before a count of parameters."""
        for check in ("inputs", "count", "type", "setting", "output_shape", "params", "function"):
            for d in self.differences:
                if d.check == check:
                    return d
        return None

    def failed(self, check: str) -> list[Difference]:
        """The differences found by one of :data:`CHECKS`."""
        group = {"layers": ("count", "type", "setting"), "output_shape": ("inputs", "output_shape")}
        return [d for d in self.differences if d.check in group.get(check, (check,))]

    def __bool__(self) -> bool:
        return self.equal

    def __str__(self) -> str:
        if self.equal:
            return "equal: same output shape, parameters, layers and outputs"
        lines = [f"{len(self.differences)} difference(s):"]
        lines += [f"- [{d.check}] {d.message}" for d in self.differences]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        rows = []
        for check in CHECKS:
            verdict = self.checks.get(check)
            mark = {True: "✓", False: "✗", None: "–"}[verdict]
            found = self.failed(check)
            text = "; ".join(d.message for d in found[:3]) if found else ""
            rows.append(f"<tr><td>{check}</td><td>{mark}</td><td>{html.escape(text)}</td></tr>")
        return (
            "<table><tr><th>check</th><th></th><th>first differences</th></tr>"
            + "".join(rows)
            + "</table>"
        )


def _describe(node: Node, plural: bool = False) -> str:
    return _word(node.kind, node.settings, plural)


def _fmt(value) -> str:
    if isinstance(value, str) and value.startswith("pad "):
        amount = value[4:]
        return f"{amount} pixel(s) on every side" if amount.isdigit() else f"padding {amount}"
    if value == "same":
        return "'same'"
    if isinstance(value, tuple) and len(value) == 2 and value[0] == value[1]:
        return str(value[0])
    return repr(value) if isinstance(value, str) else str(value)


class _Matcher:
    """Pairs the model's nodes with the reference's, backwards from the outputs."""

    def __init__(self, mine: list[Node], ref: list[Node]):
        self.mine, self.ref = mine, ref
        self.memo: dict[tuple[int, int], tuple[list[Difference], dict[int, int]]] = {}

    def where(self, a: Node, b: Node) -> str:
        own = f" ({a.name})" if a.name else ""
        return f"your {_ordinal(b.ordinal)} {_describe(b)}{own}"

    def match(self, ia: int, ib: int) -> tuple[list[Difference], dict[int, int]]:
        key = (ia, ib)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = ([], {ia: ib})  # a cycle cannot happen; guards re-entry
        a, b = self.mine[ia], self.ref[ib]
        diffs: list[Difference] = []
        mapping = {ia: ib}
        same_kind = a.kind == b.kind and (a.kind != "act" or a.settings == b.settings)
        if a.kind == "pool" and b.kind == "pool" and a.settings["op"] != b.settings["op"]:
            same_kind = False
        if not same_kind:
            fed = ", ".join(_describe(self.ref[i]) for i in b.inputs)
            there = (
                f"its {_ordinal(b.ordinal)} {_describe(b)} (fed by the {fed})"
                if fed
                else "the model's input"
            )
            article = "an" if _describe(a)[0] in "aeio" else "a"
            diffs.append(
                Difference(
                    "type",
                    f"where the reference has {there}, your model has {article} {_describe(a)}"
                    + (f" ({a.name})" if a.name else ""),
                    kind=b.kind,
                    field="type",
                    got=_describe(a),
                    expected=_describe(b),
                    ordinal=b.ordinal,
                    layer=a.name,
                )
            )
            self.memo[key] = (diffs, {})
            return diffs, {}
        for name, want in b.settings.items():
            have = a.settings.get(name)
            if have != want and a.kind != "input":
                diffs.append(
                    Difference(
                        "setting",
                        f"{self.where(a, b)} has {name}={_fmt(have)}; the reference's has "
                        f"{name}={_fmt(want)}" + _PADDING_NOTE.get((have, want), ""),
                        kind=b.kind,
                        field=name,
                        got=have,
                        expected=want,
                        ordinal=b.ordinal,
                        layer=a.name,
                    )
                )
        if len(a.inputs) != len(b.inputs):
            diffs.append(
                Difference(
                    "type",
                    f"{self.where(a, b)} combines {len(a.inputs)} inputs; the reference's "
                    f"combines {len(b.inputs)}",
                    kind=b.kind,
                    field="inputs",
                    got=len(a.inputs),
                    expected=len(b.inputs),
                    ordinal=b.ordinal,
                    layer=a.name,
                )
            )
        else:
            orders = [a.inputs]
            if b.kind in ("add", "multiply") and len(a.inputs) <= 4:
                orders = list(itertools.permutations(a.inputs))
            best = None
            for order in orders:
                sub_diffs, sub_map = [], {}
                for x, y in zip(order, b.inputs, strict=True):
                    d, m = self.match(x, y)
                    sub_diffs += d
                    sub_map.update(m)
                score = (sum(1 for d in sub_diffs if d.check == "type"), len(sub_diffs))
                if best is None or score < best[0]:
                    best = (score, sub_diffs, sub_map)
                if not sub_diffs:
                    break
            diffs += best[1]
            mapping.update(best[2])
        self.memo[key] = (diffs, mapping)
        return diffs, mapping


def _count_differences(mine: list[Node], ref: list[Node]) -> list[Difference]:
    out = []
    for kind in _COUNTED:
        if kind == "act":
            fns = sorted({n.settings["fn"] for n in ref + mine if n.kind == "act"})
            groups = [
                (fn, lambda n, fn=fn: n.kind == "act" and n.settings["fn"] == fn) for fn in fns
            ]
        else:
            groups = [(None, lambda n, kind=kind: n.kind == kind)]
        for fn, test in groups:
            have = sum(1 for n in mine if test(n))
            want = sum(1 for n in ref if test(n))
            if have == want:
                continue
            settings = {"fn": fn} if fn else None
            one, many = _word(kind, settings), _word(kind, settings, plural=True)
            if fn:
                many = f"{one}s"
            if have == 0:
                message = f"your model has no {one}; the reference has {want}"
            else:
                message = (
                    f"your model has {have} {one if have == 1 else many}; the reference has {want}"
                )
            out.append(
                Difference(
                    "count",
                    message,
                    kind=kind if not fn else "act",
                    field=fn or "count",
                    got=have,
                    expected=want,
                )
            )
    return out


def _randomize(model: keras.Model, seed: int) -> None:
    """Give every weight a random value, batch-norm statistics a plausible one."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        for w in layer.weights:
            shape = tuple(w.shape)
            path = getattr(w, "path", w.name)
            if "variance" in path:
                value = rng.uniform(0.5, 1.5, shape)
            elif "gamma" in path:
                value = rng.uniform(0.5, 1.5, shape)
            else:
                fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
                value = rng.normal(0, 1 / np.sqrt(max(fan_in, 1)), shape)
            w.assign(value.astype(w.dtype if isinstance(w.dtype, str) else "float32"))


def _function_check(model, reference, mine, ref, mapping, *, samples, seed, atol, rtol):
    """Copy the reference's weights into the paired layers; the largest output difference."""
    for ia, ib in mapping.items():
        a, b = mine[ia].layer, ref[ib].layer
        if a is None or b is None:
            continue
        for wa, wb in zip(a.weights, b.weights, strict=True):
            wa.assign(wb.value)
        if ref[ib].kind == "bn":
            a.epsilon = b.epsilon
    rng = np.random.default_rng(seed)
    shapes = [tuple(t.shape[1:]) for t in keras.tree.flatten(reference.inputs)]
    data = [rng.normal(size=(samples, *s)).astype("float32") for s in shapes]
    feed = data[0] if len(data) == 1 else data
    got = keras.tree.flatten(model(feed, training=False))
    want = keras.tree.flatten(reference(feed, training=False))
    worst, ok = 0.0, True
    for g, w in zip(got, want, strict=True):
        g, w = keras.ops.convert_to_numpy(g), keras.ops.convert_to_numpy(w)
        worst = max(worst, float(np.max(np.abs(g - w))))
        ok = ok and bool(np.allclose(g, w, atol=atol, rtol=rtol))
    return ok, worst


def compare(
    model: keras.Model,
    reference: keras.Model,
    *,
    function: bool = True,
    samples: int = 2,
    seed: int = 0,
    atol: float = 1e-5,
    rtol: float = 1e-5,
    copy: bool = True,
) -> Comparison:
    """Compare a model with a reference network, layer by layer and as a function.

    Neither model is changed: both are cloned, the reference's clone gets random weights
    (batch-norm statistics included) and the model's clone gets the same weights, layer by
    paired layer, before the outputs are compared in inference mode. Nested models are
    not followed (build one functional model).

    Args:
        model: keras.Model. A functional or ``Sequential`` model (yours).
        reference: keras.Model. The network it should be.
        function: bool. Run the function check (copy weights, compare outputs). Defaults
            to True.
        samples: int. Random inputs for the function check. Defaults to 2.
        seed: int. Seed of the random weights and inputs. Defaults to 0.
        atol: float. Absolute tolerance on the outputs. Defaults to 1e-5.
        rtol: float. Relative tolerance on the outputs. Defaults to 1e-5.
        copy: bool. Clone both models first, so that neither is changed. Defaults to True;
            a caller that built both models for the comparison alone (the exercise grader)
            passes False and the function check overwrites their weights.

    Returns:
        A :class:`Comparison`: ``.equal``, ``.first`` (the difference to fix first),
        ``.differences`` and ``.checks``; it displays itself as a table in a notebook.

    Raises:
        ValueError: For a model without a layer graph (subclassed) or with a nested model.

    Example:
        >>> keras_cnn.compare(keras_cnn.build_cifar_resnet(20), keras_cnn.build_cifar_resnet(20)).equal
        True
    """
    if copy:
        model = keras.models.clone_model(model)
        reference = keras.models.clone_model(reference)
    mine, mine_out = taught_graph(model)
    ref, ref_out = taught_graph(reference)
    diffs: list[Difference] = []
    checks: dict[str, bool | None] = {}

    in_a = [n.settings["shape"] for n in mine if n.kind == "input"]
    in_b = [n.settings["shape"] for n in ref if n.kind == "input"]
    if in_a != in_b:
        diffs.append(
            Difference(
                "inputs",
                f"your model takes inputs of shape {in_a}; the reference takes {in_b}",
                field="input_shape",
                got=in_a,
                expected=in_b,
            )
        )
    shape_a = [tuple(t.shape[1:]) for t in keras.tree.flatten(model.outputs)]
    shape_b = [tuple(t.shape[1:]) for t in keras.tree.flatten(reference.outputs)]
    if shape_a != shape_b:
        show = (lambda s: s[0]) if len(shape_a) == len(shape_b) == 1 else (lambda s: s)
        diffs.append(
            Difference(
                "output_shape",
                f"your output has shape {show(shape_a)}; the reference's has {show(shape_b)}",
                field="output_shape",
                got=show(shape_a),
                expected=show(shape_b),
            )
        )
    checks["output_shape"] = in_a == in_b and shape_a == shape_b

    def trainable(m):
        return sum(int(np.prod(w.shape)) for w in m.trainable_weights)

    def frozen(m):
        return sum(int(np.prod(w.shape)) for w in m.non_trainable_weights)

    params_ok = True
    for what, count in (("trainable", trainable), ("non-trainable", frozen)):
        have, want = count(model), count(reference)
        if have != want:
            params_ok = False
            diffs.append(
                Difference(
                    "params",
                    f"your model has {have:,} {what} parameters; the reference has {want:,}",
                    field=what,
                    got=have,
                    expected=want,
                )
            )
    checks["params"] = params_ok

    layer_diffs = _count_differences(mine, ref)
    mapping: dict[int, int] = {}
    if len(mine_out) != len(ref_out):
        layer_diffs.append(
            Difference(
                "type",
                f"your model has {len(mine_out)} outputs; the reference has {len(ref_out)}",
                field="outputs",
                got=len(mine_out),
                expected=len(ref_out),
            )
        )
    else:
        matcher = _Matcher(mine, ref)
        seen = set()
        found: list[Difference] = []
        for a, b in zip(mine_out, ref_out, strict=True):
            d, m = matcher.match(a, b)
            mapping.update(m)
            for x in d:
                k = (x.check, x.kind, x.ordinal, x.field)
                if k not in seen:
                    seen.add(k)
                    found.append(x)
        order = {(n.kind, n.ordinal): n.index for n in ref}
        found.sort(key=lambda x: order.get((x.kind, x.ordinal), 0))
        layer_diffs += found
    diffs[len(diffs) :] = layer_diffs
    checks["layers"] = not layer_diffs

    max_error = None
    weighted_ref = {n.index for n in ref if n.layer is not None}
    if function and checks["layers"] and checks["params"] and checks["output_shape"]:
        if weighted_ref <= set(mapping.values()):
            _randomize(reference, seed)
            ok, max_error = _function_check(
                model,
                reference,
                mine,
                ref,
                mapping,
                samples=samples,
                seed=seed,
                atol=atol,
                rtol=rtol,
            )
            checks["function"] = ok
            if not ok:
                diffs.append(
                    Difference(
                        "function",
                        "with the reference's weights your model computes other outputs (largest "
                        f"difference {max_error:.3g}): something between the layers differs, such "
                        "as padding, a shortcut's subsampling or the order of the channels",
                        field="outputs",
                        got=max_error,
                        expected=0.0,
                    )
                )
        else:
            checks["function"] = None
    else:
        checks["function"] = None
    return Comparison(tuple(diffs), checks, max_error)


__all__ = ["CHECKS", "Comparison", "Difference", "compare"]
