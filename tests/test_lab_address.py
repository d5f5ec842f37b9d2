"""The model lab in the page address (issue 23 item 2): a link opens the same configuration,
bad or hostile values fall back to their defaults with a message, and the page writes its
options back into the address (keeping the learner's ``?learner=``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app import lab

PAGE = str(Path(__file__).resolve().parents[1] / "app" / "pages" / "model_lab.py")


def test_read_address_takes_valid_values():
    address = lab.read_address(
        {"family": "cifar_resnet", "depth": "56", "residual": "false", "classes": "100"}
    )
    assert address.family == "ResNet (CIFAR-10)" and address.problems == []
    assert address.values == {
        "lab_cifar_depth": 56,
        "lab_res": False,
        "lab_classes_build_cifar_resnet": 100,
    }


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ({"family": "resnext<script>"}, "is not one of"),
        ({"family": "resnet", "depth": "51"}, "must be one of"),
        ({"family": "resnet", "depth": "__import__('os')"}, "must be one of"),
        ({"family": "cifar_resnet", "depth": "99999999"}, "from 1 to 2000"),
        ({"family": "wide_resnet", "dropout": "nan"}, "from 0 to 0.9"),
        ({"family": "vgg", "batch_norm": "maybe"}, "true or false"),
        ({"family": "vgg", "groups": "2"}, "is not an option of VGG"),
        ({"family": "vgg", "classes": "0"}, "from 1 to 100000"),
        ({"family": "vgg", "pooling": "sum"}, "avg, max or none"),
        ({"family": "vgg", "depth": "1" * 100}, "longer than"),
    ],
)
def test_bad_address_values_fall_back_with_a_message(query, says):
    address = lab.read_address(query)
    assert len(address.problems) == 1 and says in address.problems[0], address.problems
    assert set(address.values) <= {"lab_vgg"}  # nothing bad was kept


def test_address_round_trip():
    query = lab.address_of("ResNet (ImageNet)", {"depth": 101, "version": 2, "include_top": False})
    assert query == {"family": "resnet", "depth": "101", "version": "2", "include_top": "false"}
    address = lab.read_address(query)
    assert address.values == {"lab_depth": 101, "lab_version": 2, "lab_top": False}


@pytest.mark.slow
def test_a_link_opens_its_configuration_and_the_page_keeps_the_address():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params.update(
        {"family": "cifar_resnet", "depth": "32", "residual": "false", "learner": "Ada", "x": "1"}
    )
    at.run()
    assert not at.exception, at.exception
    code = at.code[0].value
    assert "keras_cnn.build_cifar_resnet(32, residual=False)" in code
    assert any("x= is not an option" in w.value for w in at.warning)
    params = dict(at.query_params)
    assert params["family"] == ["cifar_resnet"] or params["family"] == "cifar_resnet"
    flat = {k: v[0] if isinstance(v, list) else v for k, v in params.items()}
    assert flat["depth"] == "32" and flat["residual"] == "false" and flat["learner"] == "Ada"
    assert "x" in flat  # not a lab name: left for whoever put it there
    downloads = [d.proto.label for d in at.get("download_button")]
    assert "Download as a notebook" in downloads


def test_bad_link_draws_the_default_page():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params.update({"family": "vgg", "depth": "17", "batch_norm": "yes"})
    at.run()
    assert not at.exception, at.exception
    assert any("depth='17' must be one of" in w.value for w in at.warning)
    assert "keras_cnn.build_vgg(16, batch_norm=True)" in at.code[0].value
