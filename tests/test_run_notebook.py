"""A stored run, or a builder call, exported as a notebook that runs in a real Jupyter kernel."""

from __future__ import annotations

import pytest

import keras_cnn
from keras_cnn.training import notebook as nb_lib

nbclient = pytest.importorskip("nbclient")


def _execute(nb, tmp_path):
    import nbformat

    path = nb_lib.write(nb, tmp_path / "exported.ipynb")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return nb


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


@pytest.mark.slow
def test_a_run_exports_as_a_notebook_that_retrains_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "home"))
    from keras_cnn.train import train

    history = train("lenet5", epochs=2, limit=128, batch_size=32, seed=3, verbose=0)
    run_id = history.attrs["run_dir"].rsplit("/", 1)[-1]
    nb = keras_cnn.run_notebook(run_id, small=True)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "keras_cnn.train.build_model('lenet5', 'digits')" in code
    assert "epochs=1" in code and "batch_size=32" in code and "seed=3" in code
    assert "limit=128" in code and "record=False" in code
    card = nb.cells[0].source
    assert f"Run `{run_id}`" in card and "| batch_size | `32` |" in card

    done = _execute(nb, tmp_path)
    outputs = _outputs(done)
    assert not [o for o in outputs if o.output_type == "error"]
    texts = " ".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "61706" in texts  # totals(model): LeNet-5's parameters
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the pictures


def test_model_lab_call_as_a_notebook():
    nb = keras_cnn.model_notebook("build_resnet", (50,), {"include_top": False, "pooling": "avg"})
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert "model = keras_cnn.build_resnet(50, include_top=False, pooling='avg')" in code[0]
    assert nb_lib.to_bytes(nb).startswith(b"{")


@pytest.mark.parametrize(
    ("builder", "args", "kwargs"),
    [
        ("os.system", (), {}),
        ("build_resnet", (), {"x=__import__('os').system('id'),y": 1}),
        ("build_resnet", (object(),), {}),
        ("build_resnet", (), {"classes": print}),
        ("get_model", ("resnet50",), {}),
    ],
)
def test_nothing_but_literals_reach_a_code_cell(builder, args, kwargs):
    with pytest.raises(ValueError):
        keras_cnn.model_notebook(builder, args, kwargs)


def test_a_run_on_arrays_cannot_be_exported(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path))
    from keras_cnn.training import runs

    path = runs.new_run("lenet5", {"data": "arrays", "settings": {"data": "arrays", "epochs": 1}})
    with pytest.raises(ValueError, match="in-memory data"):
        keras_cnn.run_notebook(path.name)
    with pytest.raises(ValueError):
        keras_cnn.run_notebook("no-such-run")
