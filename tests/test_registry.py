"""The registry: names, the figures table against the code, the models table (docs/registry.md)."""

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
        "resnet50v2",
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
        "resnet110v2",
        "resnet164v2",
        "resnet1001v2",
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
FIGURE_NAMES = [n for n in registry.MODELS if n not in ("resnet1202", "resnet1001v2")]


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

    stored = registry._figures()["resnet1001v2"]
    assert stored["weight_layers"] == 1001
    p164 = registry._figures()["resnet164v2"]["params"]
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
    assert table.loc["resnet164v2"].cifar10_error == 5.46
    assert not table.loc["resnext50_32x4d"].imagenet_weights


def test_get_model_names_valid_arguments_for_a_typo():
    with pytest.raises(ValueError, match=r"unknown argument 'clases'\. Did you mean 'classes'\?"):
        keras_cnn.get_model("resnet20", clases=10)
    with pytest.raises(ValueError, match=r"build_cifar_resnet takes: depth, version, .*classes"):
        keras_cnn.get_model("resnet20", colour=True)


def test_help_quotes_torchvision_counts_as_trainable():
    doc = " ".join(keras_cnn.build_resnet.__doc__.split())
    assert "11,689,512 and 21,797,672 trainable parameters" in doc


def test_docs_models_table_equals_the_registry():
    text = (ROOT / "docs" / "registry.md").read_text()
    block = text.split("<!-- models-table:start -->")[1].split("<!-- models-table:end -->")[0]
    assert block.strip() == registry.markdown_table().strip()
    names = re.findall(r"^\| `(\w+)` \|", block, flags=re.M)
    assert names == list(registry.MODELS)


def test_one_id_per_model_registry_name_and_weights_agree():
    """The id is the built model's name and its weights' and preprocessing's key (it was
    ``resnet50_v2`` in the registry, ``resnet50v2`` for keras and the weights)."""
    from keras_cnn.models.imagenet import PREPROCESSING
    from keras_cnn.models.weights import IMAGENET_WEIGHTS

    assert set(IMAGENET_WEIGHTS) == set(PREPROCESSING) <= set(registry.MODELS)
    assert set(PREPROCESSING) == {n for n, e in registry.MODELS.items() if e.preprocessing}
    assert PREPROCESSING == {
        **dict.fromkeys(["vgg16", "vgg19", "resnet50", "resnet101", "resnet152"], "caffe"),
        **dict.fromkeys(["resnet50v2", "resnet101v2", "resnet152v2"], "tf"),
    }


@pytest.mark.parametrize(("old", "new"), sorted(registry.ALIASES.items()))
def test_old_ids_are_aliases_with_a_deprecation_warning(old, new):
    with pytest.warns(DeprecationWarning, match=f"'{old}' is now '{new}'"):
        assert registry.resolve(old) is registry.MODELS[new]
    assert old not in registry.MODELS


def test_an_alias_builds_the_model_under_its_id():
    from keras_cnn.analysis.summary import inspect_structure

    with pytest.warns(DeprecationWarning):
        name = inspect_structure(lambda: keras_cnn.get_model("resnet50_v2"), lambda m: m.name)
    assert name == "resnet50v2"


def test_each_entry_carries_its_data_configuration():
    cfg = registry.MODELS["resnet50"].cfg
    assert cfg["input_size"] == (224, 224, 3) and cfg["preprocessing"] == "caffe"
    assert cfg["mean"] == (0.48502, 0.457957, 0.407604) and cfg["weights"] == "imagenet"
    assert cfg["std"] == (0.003922,) * 3  # caffe: no scaling, 1/255 of [0, 1]
    assert registry.MODELS["resnet50v2"].cfg["mean"] == (0.5, 0.5, 0.5)
    assert registry.MODELS["resnet50v2"].cfg["std"] == (0.5, 0.5, 0.5)
    assert registry.MODELS["lenet5"].cfg["input_size"] == (32, 32, 1)
    assert registry.MODELS["resnet20"].cfg["preprocessing"] is None
    table = keras_cnn.list_models().set_index("name")
    assert table.loc["vgg16"].preprocessing == "caffe"
    assert table.loc["resnet152v2", "std"] == (0.5, 0.5, 0.5)
    assert table.loc["alexnet"].input_shape == (227, 227, 3)
    # the stated input is the one the builder makes (figures.json is computed from the code)
    figures = registry._figures()
    assert all(e.input_size[0] == figures[n]["input_size"] for n, e in registry.MODELS.items())


def test_list_models_takes_shell_patterns_as_timm():
    assert keras_cnn.list_models("vgg1?") == ["vgg11", "vgg13", "vgg16", "vgg19"]
    assert keras_cnn.list_models(["wrn*", "*_2"]) == [
        "wrn16_8",
        "wrn28_10",
        "wrn40_4",
        "wide_resnet50_2",
        "wide_resnet101_2",
    ]
    assert keras_cnn.list_models("*v2", pretrained=True) == [
        "resnet50v2",
        "resnet101v2",
        "resnet152v2",
    ]
    assert keras_cnn.list_models("nothing*") == []
    table = keras_cnn.list_models("resnet5*", table=True)
    assert list(table.name) == ["resnet50", "resnet50v2", "resnet56"]
    assert list(keras_cnn.list_models(pretrained=True).name) == sorted(
        keras_cnn.list_models(pretrained=True).name, key=list(registry.MODELS).index
    )
