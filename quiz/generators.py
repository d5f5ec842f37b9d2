"""Generated questions: a registry of pure-Python answer functions and the template renderer.

A ``generated`` question in a lesson file names a generator from :data:`GENERATORS`::

    [[questions]]
    id = "vgg-stacked-rf-gen"
    kind = "generated"
    generator = "stacked_conv_rf"
    prompt = "What receptive field do {n} stacked {k}x{k} convolutions (stride 1) have?"
    explanation = "Each layer adds k - 1 = {k_minus_1}... RF = 1 + n(k - 1) = {answer}."
    params = { n = [2, 3, 4, 5] }   # optional: restrict the generator's default values

Per attempt, :func:`render_question` draws one value per parameter (uniformly from the allowed
values, redrawing until the generator's constraint holds), computes the answer with the
generator's function and formats ``prompt`` and ``explanation`` with :meth:`str.format`. The
placeholders available are the parameters, the generator's derived values and ``answer``.
The answer functions themselves, closed formulas, are :mod:`quiz.formulas` (importable from
here too).
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from quiz.data import Question
from quiz.formulas import (
    FC_LAYERS,
    FC_NETWORKS,
    RESNEXT_TABLE_2,
    basic_block_params,
    bn_normalize,
    bn_params,
    bottleneck_params,
    cifar_resnet_depth,
    conv_bn_params,
    conv_macs_millions,
    conv_output_size,
    conv_params,
    dense_params,
    dropout_scale,
    fc_layer,
    fc_layer_params,
    grouped_conv_params,
    he_std,
    inception_reduction_macs,
    moving_average_left,
    plain_gradient,
    residual_gradient,
    residual_paths,
    resnext_block_params,
    separable_saving,
    stack_rf,
    stack_weight_saving,
    stacked_conv_rf,
    vgg_stack_output,
)

Number = int | float
Params = dict[str, Number]

__all__ = [
    "FC_LAYERS",
    "FC_NETWORKS",
    "GENERATORS",
    "RESNEXT_TABLE_2",
    "Generator",
    "GeneratorError",
    "Number",
    "Params",
    "basic_block_params",
    "bn_normalize",
    "bn_params",
    "bottleneck_params",
    "cifar_resnet_depth",
    "conv_bn_params",
    "conv_macs_millions",
    "conv_output_size",
    "conv_params",
    "dense_params",
    "draw_params",
    "dropout_scale",
    "fc_layer",
    "fc_layer_params",
    "format_number",
    "grouped_conv_params",
    "he_std",
    "inception_reduction_macs",
    "moving_average_left",
    "param_space",
    "plain_gradient",
    "plural",
    "render_question",
    "residual_gradient",
    "residual_paths",
    "resnext_block_params",
    "separable_saving",
    "signed_sum",
    "stack_rf",
    "stack_weight_saving",
    "stacked_conv_rf",
    "vgg_stack_output",
]


@dataclass(frozen=True)
class Generator:
    """A registered generator.

    Attributes:
        name: Registry name used in lesson files.
        func: Pure function computing the answer from keyword parameters.
        space: Default allowed values of each parameter.
        constraint: Predicate a draw must satisfy (redrawn otherwise).
        derived: Extra template values computed from the parameters (e.g. ``c_out // 4``).
        description: One-line description for documentation.
    """

    name: str
    func: Callable[..., Number]
    space: Mapping[str, tuple[Number, ...]]
    constraint: Callable[..., bool] = lambda **_: True
    derived: Callable[..., Mapping[str, Any]] = lambda **_: {}
    description: str = ""


def _fc_layer_values(net: int, layer: int, classes: int = 1000) -> dict[str, Any]:
    name, source, n_in, n_out = fc_layer(net, layer, classes)
    last = layer == len(FC_LAYERS[net])
    return {
        "network": FC_NETWORKS[net],
        "name": name,
        "head": f" (fine-tuned for {format_number(classes)} classes)"
        if last and classes != 1000
        else "",
        "source": source,
        "n_in": format_number(n_in),
        "n_out": format_number(n_out),
    }


GENERATORS: dict[str, Generator] = {
    g.name: g
    for g in (
        Generator(
            "stacked_conv_rf",
            stacked_conv_rf,
            {"n": (2, 3, 4, 5, 6, 8, 10), "k": (3,)},
            derived=lambda n, k: {"k_minus_1": k - 1},
            description="receptive field of n stacked k x k stride-1 convolutions",
        ),
        Generator(
            "conv_params",
            conv_params,
            {"k": (1, 3, 5, 7), "c_in": (3, 16, 32, 64, 128, 256), "c_out": (16, 32, 64, 128, 256)},
            description="parameters of a k x k convolution with bias",
        ),
        Generator(
            "conv_output_size",
            conv_output_size,
            {
                "n": (28, 32, 56, 64, 112, 224, 227),
                "k": (1, 2, 3, 5, 7, 11),
                "s": (1, 2, 4),
                "p": (0, 1, 2, 3),
            },
            constraint=lambda n, k, s, p: n + 2 * p >= k and p < k,
            description="output size of a convolution or pooling layer",
        ),
        Generator(
            "vgg_stack_output",
            vgg_stack_output,
            {"n": (32, 64, 96, 128, 224, 256), "blocks": (1, 2, 3, 4, 5)},
            description="spatial size after n VGG blocks",
        ),
        Generator(
            "stack_rf",
            stack_rf,
            {"blocks": (1, 2, 3), "convs": (1, 2, 3)},
            derived=lambda blocks, convs: {
                "blocks_text": plural(blocks, "block"),
                "convs_text": f"{('one', 'two', 'three')[convs - 1]} 3x3 stride-1 convolution"
                + ("s" if convs > 1 else ""),
            },
            description="receptive field of a conv/pool stack",
        ),
        Generator(
            "stack_weight_saving",
            stack_weight_saving,
            {"n": (2, 3), "c": (64, 128, 256, 512)},
            derived=lambda n, c: {"single_k": 2 * n + 1},
            description="weights saved by stacking 3x3 convolutions",
        ),
        Generator(
            "bottleneck_params",
            bottleneck_params,
            {"c": (256, 512, 1024, 2048), "b": (64, 128, 256, 512)},
            constraint=lambda c, b: c == 4 * b,
            description="weights of a bottleneck residual branch",
        ),
        Generator(
            "conv_macs_millions",
            conv_macs_millions,
            {"h": (7, 14, 28, 56), "k": (1, 3), "c_in": (64, 128, 256), "c_out": (64, 128, 256)},
            description="multiply-accumulates of a convolution",
        ),
        Generator(
            "inception_reduction_macs",
            inception_reduction_macs,
            {"h": (14, 28), "c_in": (192, 256, 480), "r": (16, 32, 48), "c_out": (32, 64, 128)},
            description="cost of a 5x5 branch behind a 1x1 reduction",
        ),
        Generator(
            "plain_gradient",
            plain_gradient,
            {"a": (0.5, 0.6, 0.7, 0.8, 0.9), "n": (10, 20, 30, 50)},
            description="gradient factor through a plain chain",
        ),
        Generator(
            "residual_gradient",
            residual_gradient,
            {"f": (-0.02, -0.01, 0.01, 0.02), "n": (10, 20, 30, 50)},
            derived=lambda f, n: {"one_plus_f": signed_sum("1", f)},
            description="gradient factor through residual blocks with small residual derivatives",
        ),
        Generator(
            "cifar_resnet_depth",
            cifar_resnet_depth,
            {"n": (3, 5, 7, 9, 18, 200)},
            description="depth of the CIFAR ResNet 6n+2",
        ),
        Generator(
            "dense_params",
            dense_params,
            {"n_in": (512, 2048, 4096, 9216, 25088), "n_out": (10, 100, 1000, 4096)},
            description="parameters of a dense layer with bias",
        ),
        Generator(
            "bn_params",
            bn_params,
            {"c": (16, 32, 64, 128, 256, 512, 1024, 2048)},
            derived=lambda c: {"half": 2 * c},
            description="parameters of a batch normalization layer",
        ),
        Generator(
            "conv_bn_params",
            conv_bn_params,
            {"k": (1, 3), "c_in": (16, 32, 64, 128, 256), "c_out": (16, 32, 64, 128, 256)},
            derived=lambda k, c_in, c_out: {
                "conv": format_number(k * k * c_in * c_out),
                "bn": format_number(4 * c_out),
                "trainable": format_number(k * k * c_in * c_out + 2 * c_out),
            },
            description="parameters of a bias-free convolution and its batch normalization",
        ),
        Generator(
            "bn_normalize",
            bn_normalize,
            {
                "x": (-2, -1, 0, 1, 2, 3, 4, 5, 6),
                "mean": (-1, 0, 1, 2),
                "var": (0.25, 1, 4, 16),
                "gamma": (0.5, 1, 2, 3),
                "beta": (-1, 0, 0.5, 1),
            },
            constraint=lambda x, mean, var, gamma, beta: x != mean,
            derived=lambda x, mean, var, gamma, beta: {
                "sd": format_number(math.sqrt(var)),
                "xhat": format_number((x - mean) / math.sqrt(var)),
                "x_minus_mean": signed_sum(format_number(x), mean, -1),
                "scaled_plus_beta": signed_sum(
                    f"{format_number(gamma)} × {format_number((x - mean) / math.sqrt(var))}", beta
                ),
            },
            description="batch normalization of one value",
        ),
        Generator(
            "moving_average_left",
            moving_average_left,
            {"momentum": (0.9, 0.99), "steps": (12, 60, 120, 600)},
            derived=lambda momentum, steps: {"tau": format_number(round(1 / (1 - momentum)))},
            description="what a moving statistic keeps of its initial value",
        ),
        Generator(
            "he_std",
            he_std,
            {"k": (1, 3, 5, 7), "c_in": (3, 16, 64, 128, 256, 512)},
            derived=lambda k, c_in: {"fan_in": format_number(k * k * c_in)},
            description="standard deviation of He initialization",
        ),
        Generator(
            "fc_layer_params",
            fc_layer_params,
            {"net": (1, 2), "layer": (1, 2, 3), "classes": (1000,)},
            derived=_fc_layer_values,
            description="parameters of a fully connected layer of AlexNet or VGG-16",
        ),
        Generator(
            "dropout_scale",
            dropout_scale,
            {"x": (0.5, 1.2, 2, 3, 4.5), "rate": (0.2, 0.25, 0.5, 0.75)},
            derived=lambda x, rate: {"keep": format_number(1 - rate)},
            description="what inverted dropout passes on for a kept unit",
        ),
        Generator(
            "residual_paths",
            residual_paths,
            {"n": (3, 9, 18, 27, 54)},
            derived=lambda n: {"mean_length": format_number(n / 2)},
            description="paths through n residual blocks",
        ),
        Generator(
            "basic_block_params",
            basic_block_params,
            {"c": (16, 32, 64, 128, 256, 512)},
            derived=lambda c: {"conv": format_number(9 * c * c), "bn": format_number(4 * c)},
            description="parameters of a basic residual block with identity shortcut",
        ),
        Generator(
            "separable_saving",
            separable_saving,
            {"k": (3, 5), "c_in": (32, 64, 128, 256), "c_out": (32, 64, 128, 256, 512)},
            derived=lambda k, c_in, c_out: {
                "standard": format_number(k * k * c_in * c_out),
                "separable": format_number(k * k * c_in + c_in * c_out),
            },
            description="cost ratio of a standard to a depthwise separable convolution",
        ),
        Generator(
            "grouped_conv_params",
            grouped_conv_params,
            {"k": (1, 3), "c": (64, 128, 256, 512), "g": (1, 2, 4, 8, 32, 64)},
            derived=lambda k, c, g: {
                "per_group": c // g,
                "ungrouped": format_number(k * k * c * c),
            },
            description="weights of a grouped convolution",
        ),
        Generator(
            "resnext_block_params",
            resnext_block_params,
            {"c": (256,), "paths": (1, 2, 4, 8, 32), "d": (4, 14, 24, 40, 64)},
            constraint=lambda c, paths, d: (paths, d) in RESNEXT_TABLE_2,
            derived=lambda c, paths, d: {
                "width": paths * d,
                "grouped": format_number(9 * d * paths * d),
            },
            description="weights of a ResNeXt bottleneck branch of the paper's Table 2",
        ),
    )
}
"""The generator registry: name -> :class:`Generator`."""


class GeneratorError(ValueError):
    """A generated question cannot be rendered (unknown generator, bad template, no valid draw)."""


def signed_sum(left: str, value: Number, sign: int = 1) -> str:
    """``left + value`` (``sign`` 1) or ``left − value`` (``sign`` -1) as a learner writes it:
    ``"6 − -1"`` becomes ``"6 + 1"`` and ``"1 + -0.01"`` becomes ``"1 − 0.01"``."""
    value = sign * value
    return f"{left} {'−' if value < 0 else '+'} {format_number(abs(value))}"


def plural(count: int, noun: str) -> str:
    """``"1 block"``, ``"2 blocks"``."""
    return f"{format_number(count)} {noun}{'' if count == 1 else 's'}"


def format_number(value: Number) -> str:
    """Format a number for prompts and expected answers.

    Integers (and floats with an integral value below 1e15) print without decimals and with
    thousands separators; other floats print with up to 4 significant digits.

    Args:
        value: The number.

    Returns:
        The formatted text, e.g. ``"138,357,544"``, ``"12.44"``, ``"9.537e-07"``.
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) < 1e15):
        return f"{int(value):,}"
    return f"{value:.4g}"


def param_space(question: Question) -> dict[str, tuple[Number, ...]]:
    """The allowed values of each parameter of a generated question.

    Args:
        question: A ``generated`` question.

    Returns:
        The generator's default space, overridden by the question's ``params``.

    Raises:
        GeneratorError: If the generator is unknown.
    """
    try:
        generator = GENERATORS[question.generator]
    except KeyError:
        raise GeneratorError(f"unknown generator {question.generator!r}") from None
    space = dict(generator.space)
    space.update(dict(question.param_space))
    return space


def draw_params(question: Question, rng: random.Random, max_tries: int = 1000) -> Params:
    """Draw parameter values for a generated question.

    Args:
        question: A ``generated`` question.
        rng: Random source.
        max_tries: Draws attempted before giving up on the constraint.

    Returns:
        One value per parameter, satisfying the generator's constraint.

    Raises:
        GeneratorError: If the generator is unknown or no draw satisfies the constraint.
    """
    generator = GENERATORS.get(question.generator)
    if generator is None:
        raise GeneratorError(f"unknown generator {question.generator!r}")
    space = param_space(question)
    for _ in range(max_tries):
        params = {name: rng.choice(values) for name, values in sorted(space.items())}
        if generator.constraint(**params):
            return params
    raise GeneratorError(f"no parameter draw satisfies the constraint of {generator.name!r}")


def render_question(
    question: Question, rng: random.Random | int | None = None, params: Params | None = None
) -> Question:
    """Instantiate a generated question: draw parameters, compute the answer, fill the templates.

    Non-generated questions (and already rendered ones, unless ``params`` is given) are returned
    unchanged.

    Args:
        question: The question.
        rng: A ``random.Random``, a seed, or ``None`` for fresh randomness.
        params: Explicit parameter values (skip drawing), e.g. to re-render a stored attempt.

    Returns:
        A copy with ``prompt`` and ``explanation`` rendered, ``answer`` the computed number and
        ``params`` the drawn values.

    Raises:
        GeneratorError: If the generator is unknown, the templates do not render, or the answer is
            not a finite number.
    """
    if question.kind != "generated" or (not question.is_template and params is None):
        return question
    generator = GENERATORS.get(question.generator)
    if generator is None:
        raise GeneratorError(f"unknown generator {question.generator!r}")
    if params is None:
        if not isinstance(rng, random.Random):
            rng = random.Random(rng)
        params = draw_params(question, rng)
    try:
        answer = generator.func(**params)
        extra = dict(generator.derived(**params))
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise GeneratorError(f"answer does not compute for {params}: {exc}") from exc
    if isinstance(answer, bool) or not isinstance(answer, int | float) or not math.isfinite(answer):
        raise GeneratorError(f"answer {answer!r} for {params} is not a finite number")
    values = {**extra, **params, "answer": format_number(answer)}
    try:
        prompt = question.prompt.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise GeneratorError(f"prompt template does not render: {exc!r}") from exc
    try:
        explanation = question.explanation.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise GeneratorError(f"explanation template does not render: {exc!r}") from exc
    return dataclasses.replace(
        question,
        prompt=prompt,
        explanation=explanation,
        answer=answer,
        params=tuple(sorted(params.items())),
    )
