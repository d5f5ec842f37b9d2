"""The registry: names, the figures table against the code, the README's table."""

import re
from pathlib import Path

import pytest

import keras_cnn
from keras_cnn.models import registry

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
        "resnext50_32x4d",
        "resnext101_32x8d",
        "resnext101_64x4d",
        "wide_resnet50_2",
        "wide_resnet101_2",
        "wrn28_10",
        "wrn40_4",
        "wrn16_8",
        "resnet110_v2",
        "resnet164_v2",
        "resnet1001_v2",
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


# ResNet-1202 and ResNet-1001 take long to build: they get cheaper checks below.
FIGURE_NAMES = [n for n in registry.MODELS if n not in ("resnet1202", "resnet1001_v2")]


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


def test_stored_resnet1001_figures_match_a_cheap_check():
    """Each bottleneck block per stage adds the same: 1001 = 9 * 111 + 2, 164 = 9 * 18 + 2."""
    import keras_cnn
    from keras_cnn.analysis.summary import inspect_structure, totals

    stored = registry._figures()["resnet1001_v2"]
    assert stored["weight_layers"] == 1001
    p164 = registry._figures()["resnet164_v2"]["params"]
    p29 = inspect_structure(
        lambda: keras_cnn.build_cifar_resnet(29, version=2, block="bottleneck"), totals
    )["params"]
    # 164 has 18 blocks per stage, 29 has 3: the 15 extra blocks give the per-block cost
    assert stored["params"] == p164 + (p164 - p29) // 15 * (111 - 18)


def test_new_families_in_list_models():
    table = keras_cnn.list_models().set_index("name")
    row = table.loc["resnext50_32x4d"]
    assert (row.family, row.year, row.top1_error) == ("ResNeXt", 2017, 22.2)
    assert row.trainable_params == 25_028_904 and row.weight_layers == 50
    assert table.loc["wide_resnet50_2"].trainable_params == 68_883_240
    assert table.loc["wrn28_10"].cifar10_error == 4.00 and table.loc["wrn28_10"].year == 2016
    assert table.loc["resnet164_v2"].cifar10_error == 5.46
    assert not table.loc["resnext50_32x4d"].imagenet_weights


def test_get_model_names_valid_arguments_for_a_typo():
    with pytest.raises(ValueError, match=r"unknown argument 'clases'\. Did you mean 'classes'\?"):
        keras_cnn.get_model("resnet20", clases=10)
    with pytest.raises(ValueError, match=r"build_cifar_resnet takes: depth, version, .*classes"):
        keras_cnn.get_model("resnet20", colour=True)


def test_help_quotes_torchvision_counts_as_trainable():
    doc = " ".join(keras_cnn.build_resnet.__doc__.split())
    assert "11,689,512 and 21,797,672 trainable parameters" in doc


def test_readme_models_table_equals_the_registry():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- models-table:start -->")[1].split("<!-- models-table:end -->")[0]
    assert block.strip() == registry.markdown_table().strip()
    names = re.findall(r"^\| `(\w+)` \|", block, flags=re.M)
    assert names == list(registry.MODELS)
