"""The registry: names, the figures table against the code, the README's table."""

import re
from pathlib import Path

import pytest

import keras_cnn
from keras_cnn import registry

ROOT = Path(__file__).resolve().parents[1]


def test_registry_has_the_issue_names():
    for name in [
        "vgg16",
        "vgg16_bn",
        "resnet18",
        "resnet152",
        "resnet50_v2",
        "resnet20",
        "resnet1202",
        "plain20",
        "plain56",
        "lenet5",
        "alexnet",
        "googlenet",
    ]:
        assert name in registry.MODELS


def test_list_models_table():
    table = keras_cnn.list_models()
    assert list(table.name) == list(registry.MODELS)
    row = table.set_index("name").loc["resnet50"]
    assert row.params == 25_636_712 and row.weight_layers == 50 and row.year == 2015
    assert row.top5_error == 5.25 and bool(row.imagenet_weights)
    assert table.set_index("name").loc["resnet110"].cifar10_error == 6.43
    assert not table.set_index("name").loc["resnet18"].imagenet_weights


# ResNet-1202 alone takes most of a minute to build: it is checked in test_models.
FIGURE_NAMES = [n for n in registry.MODELS if n != "resnet1202"]


@pytest.mark.slow
@pytest.mark.parametrize("name", FIGURE_NAMES)
def test_stored_figures_are_computed_from_the_code(name):
    """figures.json is what `python -m keras_cnn figures --write` computes."""
    stored = registry._figures()[name]
    assert registry.compute_figures([name])[name] == stored


def test_stored_resnet1202_figures_match_a_cheap_check():
    stored = registry._figures()["resnet1202"]
    assert stored["weight_layers"] == 1202
    # each added basic block per stage (6 layers) adds the same parameters: 20 = 6*3+2,
    # 32 = 6*5+2, 1202 = 6*200+2
    p20, p32 = (registry._figures()[n]["params"] for n in ("resnet20", "resnet32"))
    assert stored["params"] == p20 + (p32 - p20) // 2 * (200 - 3)


def test_readme_models_table_equals_the_registry():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- models-table:start -->")[1].split("<!-- models-table:end -->")[0]
    assert block.strip() == registry.markdown_table().strip()
    names = re.findall(r"^\| `(\w+)` \|", block, flags=re.M)
    assert names == list(registry.MODELS)
