"""Generated questions: closed-form answers against brute-force simulation, and rendering."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from quiz import get_course
from quiz.data import Question
from quiz.facts import KNOWN_MODELS, Check, matches, parse_check, validate_value
from quiz.generators import (
    FC_LAYERS,
    GENERATORS,
    GeneratorError,
    draw_params,
    format_number,
    param_space,
    render_question,
)

# ---------------------------------------------------------------------------------------------
# Brute-force reference implementations (deliberately naive: they simulate, not compute).
# ---------------------------------------------------------------------------------------------


def sim_rf(layers: list[tuple[int, int]]) -> int:
    """Receptive field by tracking which input pixels reach output position 0 (1-D)."""
    positions = {0}
    for k, s in reversed(layers):
        positions = {p * s + d for p in positions for d in range(k)}
    return max(positions) - min(positions) + 1


def sim_out_size(n: int, k: int, s: int, p: int) -> int:
    """Count the window positions that fit into the padded input."""
    padded = n + 2 * p
    return sum(1 for start in range(0, padded, s) if start + k <= padded)


def count_conv_weights(k: int, c_in: int, c_out: int, bias: bool = True) -> int:
    count = 0
    for _o in range(c_out):
        for _i in range(c_in):
            for _y in range(k):
                for _x in range(k):
                    count += 1
        count += int(bias)
    return count


def sim_macs(h: int, k: int, c_in: int, c_out: int) -> int:
    per_output = sum(1 for _ in itertools.product(range(k), range(k), range(c_in)))
    return sum(per_output for _ in range(h * h * c_out))


def numeric_derivative(f, x: float = 0.3, eps: float = 1e-6) -> float:
    return (f(x + eps) - f(x - eps)) / (2 * eps)


def brute(name: str, p: dict) -> float:
    if name == "stacked_conv_rf":
        return sim_rf([(p["k"], 1)] * p["n"])
    if name == "conv_params":
        return count_conv_weights(p["k"], p["c_in"], p["c_out"])
    if name == "conv_output_size":
        return sim_out_size(p["n"], p["k"], p["s"], p["p"])
    if name == "vgg_stack_output":
        n = p["n"]
        for _ in range(p["blocks"]):
            n = sim_out_size(n, 3, 1, 1)
            n = sim_out_size(n, 3, 1, 1)
            n = sim_out_size(n, 2, 2, 0)
        return n
    if name == "stack_rf":
        return sim_rf(([(3, 1)] * p["convs"] + [(2, 2)]) * p["blocks"])
    if name == "stack_weight_saving":
        single = count_conv_weights(2 * p["n"] + 1, p["c"], p["c"], bias=False)
        stack = p["n"] * count_conv_weights(3, p["c"], p["c"], bias=False)
        return single - stack
    if name == "bottleneck_params":
        c, b = p["c"], p["b"]
        return (
            count_conv_weights(1, c, b, False)
            + count_conv_weights(3, b, b, False)
            + count_conv_weights(1, b, c, False)
        )
    if name == "conv_macs_millions":
        return sim_macs(p["h"], p["k"], p["c_in"], p["c_out"]) / 1e6
    if name == "inception_reduction_macs":
        h, r = p["h"], p["r"]
        return (sim_macs(h, 1, p["c_in"], r) + sim_macs(h, 5, r, p["c_out"])) / 1e6
    if name == "plain_gradient":

        def chain(x: float) -> float:
            for _ in range(p["n"]):
                x = p["a"] * x
            return x

        return numeric_derivative(chain)
    if name == "residual_gradient":

        def blocks(x: float) -> float:
            for _ in range(p["n"]):
                x = x + p["f"] * x  # F(x) = f * x, so F'(x) = f
            return x

        return numeric_derivative(blocks)
    if name == "cifar_resnet_depth":
        layers = ["conv1"]
        for stage in range(3):
            for block in range(p["n"]):
                layers += [f"s{stage}b{block}c1", f"s{stage}b{block}c2"]
        layers.append("dense")
        return len(layers)
    if name == "dense_params":
        return sum(1 for _ in range(p["n_out"]) for _ in range(p["n_in"] + 1))
    if name == "bn_params":
        # gamma, beta, moving mean, moving variance: one vector of c each
        return sum(len([0.0] * p["c"]) for _vector in ("gamma", "beta", "mean", "variance"))
    if name == "conv_bn_params":
        return count_conv_weights(p["k"], p["c_in"], p["c_out"], bias=False) + 4 * p["c_out"]
    if name == "bn_normalize":
        # a batch whose values have exactly this mean and (population) variance
        sd = p["var"] ** 0.5
        batch = [p["mean"] - sd, p["mean"] + sd]
        mu = sum(batch) / len(batch)
        var = sum((v - mu) ** 2 for v in batch) / len(batch)
        return p["gamma"] * (p["x"] - mu) / var**0.5 + p["beta"]
    if name == "moving_average_left":
        # moving statistic starts at 1, every batch statistic is 0: what is left of the 1
        moving = 1.0
        for _ in range(p["steps"]):
            moving = p["momentum"] * moving + (1 - p["momentum"]) * 0.0
        return moving
    if name == "he_std":
        # bisection for the std that keeps E[y^2] = E[x^2] through conv + ReLU:
        # fan_in * std^2 * (1/2) = 1
        fan_in = p["k"] * p["k"] * p["c_in"]
        lo, hi = 0.0, 10.0
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fan_in * mid * mid / 2 < 1 else (lo, mid)
        return lo
    if name == "fc_layer_params":
        _, _, n_in, n_out = FC_LAYERS[p["net"]][p["layer"] - 1]
        return sum(1 for _ in range(n_out) for _ in range(n_in + 1))
    if name == "dropout_scale":
        # the expected output of a unit must not change: keep-probability x scale = 1
        return p["x"] / sum([1 - p["rate"]])
    if name == "residual_paths":
        # every way of taking each block either through its branch or its shortcut
        return sum(1 for _ in itertools.product(("branch", "shortcut"), repeat=p["n"]))
    if name == "basic_block_params":
        conv = count_conv_weights(3, p["c"], p["c"], bias=False)
        return 2 * (conv + 4 * p["c"])
    if name == "separable_saving":
        h, k, c_in, c_out = 4, p["k"], p["c_in"], p["c_out"]
        standard = sim_macs(h, k, c_in, c_out)
        depthwise = sum(1 for _ in range(h * h * c_in) for _ in range(k * k))
        return standard / (depthwise + sim_macs(h, 1, c_in, c_out))
    if name == "grouped_conv_params":
        return count_grouped_weights(p["k"], p["c"], p["c"], p["g"])
    if name == "resnext_block_params":
        # one block: 1x1 to paths * d channels, the 3x3 in `paths` groups, 1x1 back
        width = p["paths"] * p["d"]
        return (
            count_conv_weights(1, p["c"], width, False)
            + count_grouped_weights(3, width, width, p["paths"])
            + count_conv_weights(1, width, p["c"], False)
        )
    raise AssertionError(f"no brute force for {name}")


def count_grouped_weights(k: int, c_in: int, c_out: int, groups: int) -> int:
    """Count the (input, output) channel pairs a grouped convolution connects, k*k each."""
    group_of_in = [i * groups // c_in for i in range(c_in)]
    group_of_out = [o * groups // c_out for o in range(c_out)]
    return sum(k * k for o in group_of_out for i in group_of_in if i == o)


# Keep the brute force affordable: cap the simulated sizes, not the closed forms.
CHEAP_LIMITS = {
    "conv_params": {"c_in": (3, 16, 32), "c_out": (16, 32)},
    "conv_macs_millions": {"c_in": (64,), "c_out": (64,)},
    "inception_reduction_macs": {"h": (14,), "c_in": (192,), "c_out": (32,)},
    "dense_params": {"n_in": (512, 2048), "n_out": (10, 100)},
    "fc_layer_params": {"layer": (3,)},
    "residual_paths": {"n": (3, 9)},
    "basic_block_params": {"c": (16, 32)},
    "separable_saving": {"c_in": (32,), "c_out": (32, 64)},
    "bottleneck_params": {"c": (256, 512), "b": (64, 128)},
    "stack_weight_saving": {"c": (64,)},
    "grouped_conv_params": {"c": (64, 128)},
}


def all_params(name: str):
    gen = GENERATORS[name]
    space = dict(gen.space)
    space.update(CHEAP_LIMITS.get(name, {}))
    names = sorted(space)
    for values in itertools.product(*(space[n] for n in names)):
        params = dict(zip(names, values, strict=True))
        if gen.constraint(**params):
            yield params


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_matches_brute_force(name):
    gen = GENERATORS[name]
    checked = 0
    for params in all_params(name):
        expected = brute(name, params)
        assert gen.func(**params) == pytest.approx(expected, rel=1e-6), (name, params)
        checked += 1
    assert checked > 0, f"{name}: no parameter combination satisfies the constraint"


def test_known_values():
    f = {name: g.func for name, g in GENERATORS.items()}
    assert f["stacked_conv_rf"](n=2, k=3) == 5
    assert f["stacked_conv_rf"](n=3, k=3) == 7
    assert f["conv_params"](k=3, c_in=64, c_out=128) == 73856
    assert f["conv_output_size"](n=227, k=11, s=4, p=0) == 55
    assert f["conv_output_size"](n=32, k=5, s=1, p=0) == 28
    assert f["stack_rf"](blocks=1, convs=2) == 6
    assert f["bottleneck_params"](c=256, b=64) == 69632
    assert f["inception_reduction_macs"](h=28, c_in=192, r=16, c_out=32) == pytest.approx(12.443648)
    assert f["dense_params"](n_in=25088, n_out=4096) == 102764544
    assert f["cifar_resnet_depth"](n=9) == 56
    assert f["bn_params"](c=64) == 256
    assert f["conv_bn_params"](k=3, c_in=16, c_out=16) == 2304 + 64
    assert f["bn_normalize"](x=3, mean=1, var=4, gamma=2, beta=0.5) == 2.5
    assert f["moving_average_left"](momentum=0.99, steps=60) == pytest.approx(0.547, abs=1e-3)
    assert f["he_std"](k=3, c_in=64) == pytest.approx(0.0589, abs=1e-4)


def test_vgg16_receptive_field_by_simulation():
    """The lesson's 196/212 figures, from VGG-16's layer list (2, 2, 3, 3, 3 convs per block)."""
    layers: list[tuple[int, int]] = []
    for convs in (2, 2, 3, 3, 3):
        layers += [(3, 1)] * convs + [(2, 2)]
    assert sim_rf(layers[:2]) == 5
    assert sim_rf(layers[:-1]) == 196
    assert sim_rf(layers) == 212


def test_every_generator_is_used_by_some_question():
    used = {q.generator for q in get_course().questions if q.kind == "generated"}
    assert used == set(GENERATORS)


def test_render_is_deterministic_and_varies():
    q = get_course().question("vgg-stacked-rf-gen")
    assert q.is_template
    a, b = render_question(q, 7), render_question(q, 7)
    assert a == b and not a.is_template
    prompts = {render_question(q, seed).prompt for seed in range(30)}
    assert len(prompts) > 1
    for seed in range(30):
        r = render_question(q, seed)
        params = dict(r.params)
        assert r.answer == 1 + params["n"] * (params["k"] - 1)
        assert "{" not in r.prompt and "{" not in r.explanation
        assert format_number(r.answer) in r.explanation


def test_param_overrides_restrict_the_draw():
    q = get_course().question("alexnet-conv1-gen")
    space = param_space(q)
    assert space["k"] == (11,) and space["n"] == (224, 227)
    rng = random.Random(0)
    for _ in range(50):
        params = draw_params(q, rng)
        assert params["k"] == 11 and params["s"] == 4 and params["n"] in (224, 227)


def test_render_errors_are_generator_errors():
    base = Question(
        id="x", lesson_id="l", kind="generated", prompt="{n}", explanation="{answer}", section="s"
    )
    with pytest.raises(GeneratorError, match="unknown generator"):
        render_question(base, 0)
    bad_prompt = Question(**{**base.__dict__, "generator": "stacked_conv_rf", "prompt": "{nope}"})
    with pytest.raises(GeneratorError, match="prompt"):
        render_question(bad_prompt, 0)
    impossible = Question(
        **{
            **base.__dict__,
            "generator": "bottleneck_params",
            "param_space": (("b", (64,)), ("c", (512,))),
        }
    )
    with pytest.raises(GeneratorError, match="constraint"):
        render_question(impossible, 0)


def test_non_generated_questions_are_returned_unchanged():
    q = get_course().question("vgg-two-3x3-rf")
    assert render_question(q, 1) is q


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (138357544, "138,357,544"),
        (12.443648, "12.44"),
        (9.5367431640625e-07, "9.537e-07"),
        (5.0, "5"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


# ---------------------------------------------------------------------------------------------
# Check strings of lesson facts (pure parsing; the comparison with keras_cnn is in
# test_quiz_facts.py).
# ---------------------------------------------------------------------------------------------


def test_parse_check_valid():
    assert parse_check("params:vgg16") == Check("params", "vgg16")
    assert parse_check("macs:resnet152") == Check("macs", "resnet152")
    assert parse_check("rf:vgg16:block5_pool") == Check("rf", "vgg16", "block5_pool")
    assert parse_check("shape:resnet50:avg_pool") == Check("shape", "resnet50", "avg_pool")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "params",
        "params:",
        "params:vgg17",
        "flops:vgg16",
        "rf:vgg16",
        "shape:vgg16:",
        "params:vgg16:fc1",
        3,
    ],
)
def test_parse_check_invalid(text):
    with pytest.raises(ValueError):
        parse_check(text)


def test_validate_value_and_matches():
    validate_value(Check("shape", "vgg16", "fc1"), [4096])
    with pytest.raises(ValueError):
        validate_value(Check("shape", "vgg16", "fc1"), 4096)
    with pytest.raises(ValueError):
        validate_value(Check("params", "vgg16"), [1])
    assert matches(15.3e9, 15.47e9, 0.05)
    assert not matches(15.3e9, 15.47e9, 0.001)
    assert matches([7, 7, 512], (7, 7, 512))
    assert not matches([7, 7, 512], (14, 14, 512))


def test_every_fact_of_the_course_parses_and_names_a_known_model():
    facts = [f for lesson in get_course().lessons for f in lesson.facts]
    assert len(facts) >= 20
    for fact in facts:
        check = parse_check(fact.check)
        assert check.model in KNOWN_MODELS
        validate_value(check, fact.value)


@pytest.mark.slow
@pytest.mark.parametrize(("net", "model"), [(1, "alexnet"), (2, "vgg16")])
def test_fc_layers_are_the_networks_own(net, model):
    """fc_layer_params asks only about layers the named network has, with their real sizes."""
    keras_cnn = pytest.importorskip("keras_cnn")
    counts = keras_cnn.inspect_structure(
        lambda: keras_cnn.get_model(model),
        lambda m: {layer.name: layer.count_params() for layer in m.layers},
    )
    for index, (name, _, n_in, n_out) in enumerate(FC_LAYERS[net], start=1):
        assert counts[name] == GENERATORS["fc_layer_params"].func(net=net, layer=index)
        assert counts[name] == n_in * n_out + n_out


def test_stack_rf_prompt_reads_as_english_for_every_draw():
    """Issue 19, item 7: the VGG check said "each of 1 3x3 stride-1 convolutions"."""
    from quiz.generators import GENERATORS

    generator = GENERATORS["stack_rf"]
    [prompt] = [
        q.prompt for le in get_course().lessons for q in le.questions if q.generator == "stack_rf"
    ]
    for blocks, convs in itertools.product(generator.space["blocks"], generator.space["convs"]):
        values = {"blocks": blocks, "convs": convs}
        text = prompt.format(**values, **generator.derived(**values))
        one = convs == 1
        assert ("one 3x3 stride-1 convolution followed" in text) == one, text
        assert not re.search(
            r"(?<![-\w])1 \w+s\b|each of 1\b|\b(two|three) 3x3 stride-1 convolution\b", text
        )
