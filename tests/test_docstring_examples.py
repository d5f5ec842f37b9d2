"""The ``Example:`` blocks of keras_cnn's and quiz's docstrings run, and print what they say.

Each docstring with examples is one test (``keras_cnn.analysis.summary.summarize``), run with
the module's own names plus keras_cnn's public ones, ``keras``, ``np`` and a few inputs, and
with ``ELLIPSIS`` and ``NORMALIZE_WHITESPACE``. An example that needs the network,
a training run or a learner's own object says so with ``# doctest: +SKIP`` in its docstring.
Examples that only count or draw ImageNet-size models run structure-only
(:func:`keras_cnn.inspect_structure`'s scope: no weights are initialised), which keeps the whole
file to a few seconds of building.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import keras_cnn
import quiz

#: Examples that count, measure or draw ImageNet-size models: built without initialising
#: weights (what they print does not depend on the weights' values).
STRUCTURE_ONLY = {
    "keras_cnn",
    "keras_cnn.analysis.diagram.to_dot",
    "keras_cnn.analysis.inside",
    "keras_cnn.analysis.units.receptive_field_box",
    "keras_cnn.analysis.summary.receptive_field",
    "keras_cnn.analysis.summary.summarize",
    "keras_cnn.models.cifar.build_wide_resnet",
    "keras_cnn.models.resnet.build_resnet",
    "keras_cnn.models.resnet.build_resnext",
    "keras_cnn.models.vgg.build_vgg",
}

#: Examples not run, and why (keras_cnn/models/ is the models helper's: a ``+SKIP`` there
#: replaces a row here).
NOT_RUN = {
    "keras_cnn.models.imagenet": "downloads ImageNet weights and needs images of one's own",
}

#: Modules not imported for their examples: entry points that act when imported.
NOT_IMPORTED = {"keras_cnn.__main__", "quiz.__main__"}

FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _modules(package) -> list:
    names = [package.__name__]
    names += [
        info.name
        for info in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")
        if info.name not in NOT_IMPORTED
    ]
    return [importlib.import_module(name) for name in names]


def _examples() -> dict[str, doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    found: dict[str, doctest.DocTest] = {}
    for module in [*_modules(keras_cnn), *_modules(quiz)]:
        for test in finder.find(module):
            if test.examples and test.name not in found:  # alias modules repeat their home
                found[test.name] = test
    return found


EXAMPLES = _examples()


def _names() -> dict[str, object]:
    import keras

    names = {name: getattr(keras_cnn, name) for name in keras_cnn.__all__}
    return {**names, "keras": keras, "keras_cnn": keras_cnn, "np": np}


def test_examples_are_found():
    """The collection itself: the examples of every package, each once."""
    assert {"keras_cnn.analysis.summary.summarize", "keras_cnn.analysis.window"} <= set(EXAMPLES)
    assert STRUCTURE_ONLY <= set(EXAMPLES)
    assert len(EXAMPLES) >= 30


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_docstring_example(name, tmp_path, monkeypatch):
    if name in NOT_RUN:
        pytest.skip(NOT_RUN[name])
    monkeypatch.chdir(tmp_path)  # an example that saves a file saves it here
    test = EXAMPLES[name]
    test.globs = {**_names(), **test.globs}
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    if name in STRUCTURE_ONLY:
        result = keras_cnn.inspect_structure(
            lambda: None, lambda _: runner.run(test, out=report.append, clear_globs=False)
        )
    else:
        result = runner.run(test, out=report.append, clear_globs=False)
    test.globs.clear()
    assert result.failed == 0, "".join(report)
