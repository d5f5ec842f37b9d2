"""Numbers the lessons state, checked against what keras_cnn computes (text and code cannot drift).

Each ``[[facts]]`` entry of a lesson names a check (``params:``, ``macs:``, ``rf:``, ``shape:``);
this module builds the model once per module and compares. Facts about ImageNet-size models are
marked slow.
"""

from __future__ import annotations

import functools

import pytest

keras_cnn = pytest.importorskip("keras_cnn")
if not hasattr(keras_cnn, "get_model") and getattr(keras_cnn, "__file__", None) is None:
    pytest.skip("keras_cnn is not written yet (namespace package only)", allow_module_level=True)

from quiz import get_course  # noqa: E402
from quiz.facts import matches, parse_check  # noqa: E402

SMALL_MODELS = {"lenet5", "resnet20", "resnet32", "resnet44", "resnet56", "resnet110"}
SMALL_MODELS |= {"plain20", "plain32", "plain44", "plain56", "plain110"}

FACTS = [(lesson.id, fact) for lesson in get_course().lessons for fact in lesson.facts]


@functools.cache
def model(name: str):
    return keras_cnn.get_model(name)


def compute(check_text: str):
    check = parse_check(check_text)
    m = model(check.model)
    if check.kind == "params":
        return m.count_params()
    if check.kind == "trainable":
        return keras_cnn.totals(m)["trainable_params"]
    if check.kind == "layer_params":
        return m.get_layer(check.layer).count_params()
    if check.kind == "macs_of":
        table = keras_cnn.summarize(m)
        return int(table[table.layer.str.startswith(check.layer)].macs.sum())
    if check.kind == "macs":
        return keras_cnn.count_macs(m)
    if check.kind == "rf":
        return keras_cnn.receptive_field(m, check.layer)
    if check.kind == "activation_bytes":
        return int(keras_cnn.summarize(m).activation_bytes.sum())
    if check.kind == "shape":
        return list(m.get_layer(check.layer).output.shape[1:])
    raise AssertionError(check.kind)


def params():
    for lesson_id, fact in FACTS:
        name = parse_check(fact.check).model
        marks = [] if name in SMALL_MODELS else [pytest.mark.slow]
        yield pytest.param(fact, id=f"{lesson_id}:{fact.id}", marks=marks)


def test_there_are_facts_for_every_check_kind():
    kinds = {parse_check(f.check).kind for _, f in FACTS}
    assert kinds == {
        "params",
        "trainable",
        "macs",
        "rf",
        "shape",
        "layer_params",
        "macs_of",
        "activation_bytes",
    }


@pytest.mark.parametrize("fact", list(params()))
def test_fact_matches_keras_cnn(fact):
    computed = compute(fact.check)
    assert matches(fact.value, computed, fact.rel_tol), (
        f"{fact.text!r}: the lesson states {fact.value}, keras_cnn computes {computed} "
        f"({fact.check}, rel_tol={fact.rel_tol})"
    )
