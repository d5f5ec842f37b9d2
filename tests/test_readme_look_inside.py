"""The documentation's "Look inside" cell (docs/look-inside.md, once the README's) runs as written after the Training cell, whose ResNet-20
is then the latest run (issue 19, item 12: the cell assumed a LeNet-5 and failed)."""

import re
from pathlib import Path

from keras_cnn import runs
from keras_cnn.train import build_model, train

README = Path(__file__).resolve().parents[1] / "docs" / "look-inside.md"


def _look_inside_cell() -> str:
    section = README.read_text(encoding="utf-8").split("# Look inside a network", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_look_inside_cell_uses_the_latest_lenet5_run():
    cell = _look_inside_cell()
    train("lenet5", epochs=1, limit=64, batch_size=32, seed=0, verbose=0)
    later = runs.new_run("resnet20", {"data": "digits"})  # the Training cell's, newer
    runs.save_model(later, build_model("resnet20"))
    runs.update_run(later, status="finished")
    assert runs.list_runs().model.tolist() == ["resnet20", "lenet5"]
    namespace: dict = {}
    exec(compile(cell, str(README), "exec"), namespace)
    assert namespace["model"].name == "lenet5"
    assert sorted(namespace["maps"]) == ["c1", "c3", "s2", "s4"]
    assert namespace["heat"].shape == (2, 32, 32) and namespace["picture"].dtype == "uint8"
    assert namespace["inside"].receptive_field_box(namespace["model"], "c3", (1, 8)) == (
        2,
        16,
        16,
        30,
    )
