"""keras_cnn.experiments: the degradation experiment's shape and the gradient-flow probe."""

import keras
import numpy as np
import pytest

from keras_cnn import data
from keras_cnn.train import build_model
from keras_cnn.training.experiments import block_of, degradation, gradient_norms, save_result


def test_block_of_groups_layers_by_name():
    assert block_of("conv3_block2_1_conv") == "conv3_block2"
    assert block_of("conv3_block2_out") == "conv3_block2"
    assert block_of("conv1_bn") == "stem"
    assert block_of("block4_conv1") == "block4"
    assert block_of("predictions") == block_of("avg_pool") == "head"
    assert block_of("c3") == "c3"


@pytest.mark.slow
def test_degradation_trains_plain_and_residual_twins_alike(tmp_path):
    curves = degradation((8, 14), epochs=1, limit=64, batch_size=32)
    assert curves.model.tolist() == ["plain8", "resnet8", "plain14", "resnet14"]
    assert curves.depth.tolist() == [8, 8, 14, 14]
    assert curves.residual.tolist() == [False, True, False, True]
    assert curves.epoch.tolist() == [1, 1, 1, 1]
    for column in ("train_error", "test_error"):
        assert curves[column].between(0, 1).all()
    assert np.isfinite(curves.loss).all() and (curves.seconds > 0).all()
    # Each model is stored as a run tagged with the experiment.
    from keras_cnn import runs

    stored = runs.list_runs()
    assert sorted(stored.model) == sorted(curves.model)
    assert {runs.load_run(i)[1]["experiment"] for i in stored.id} == {"degradation"}
    save_result(curves, tmp_path / "d.csv", "pytest")
    meta = (tmp_path / "d.json").read_text()
    assert '"command": "pytest"' in meta and '"hardware"' in meta


@pytest.fixture(scope="module")
def digits_batch():
    return data.arrays("digits", limit=64)


def _norms(name, batch, seed=0):
    keras.utils.set_random_seed(seed)
    return gradient_norms(build_model(name), batch).set_index("block")


@pytest.mark.parametrize("seed", [0, 1])
def test_gradient_norms_plain56_vs_resnet56(digits_batch, seed):
    plain = _norms("plain56", digits_batch, seed)
    residual = _norms("resnet56", digits_batch, seed)
    blocks = ["stem"] + [f"conv{s}_block{i}" for s in (2, 3, 4) for i in range(1, 10)] + ["head"]
    assert plain.index.tolist() == residual.index.tolist() == blocks
    assert plain.position.tolist() == list(range(29))
    assert (plain.weight_grad_norm > 0).all() and (residual.weight_grad_norm > 0).all()

    def ratio(norms, column):  # first residual block over last
        return norms.loc["conv2_block1", column] / norms.loc["conv4_block9", column]

    # Measured with this batch (seeds 0 and 1): plain-56's weight gradient grows ~1,000x from
    # the last block to the first (1247x, 1008x), ResNet-56's only ~5x (4.5x, 4.9x); block
    # outputs: ~4,000-7,000x vs ~15-20x. Without shortcuts, the gradient's scale explodes
    # with depth (batch norm in training mode); the identity path keeps it within an order.
    assert ratio(plain, "weight_grad_norm") > 200
    assert ratio(residual, "weight_grad_norm") < 20
    assert ratio(plain, "activation_grad_norm") > 20 * ratio(residual, "activation_grad_norm")
    # In the plain net the gradient falls monotonically-ish from input to output.
    plain_body = plain.weight_grad_norm.iloc[1:28]
    assert (np.diff(np.log(plain_body.to_numpy())) < 0.2).mean() > 0.9


def test_gradient_norms_leave_the_model_unchanged(digits_batch):
    keras.utils.set_random_seed(0)
    model = build_model("resnet20")
    before = [w.copy() for w in model.get_weights()]
    gradient_norms(model, digits_batch)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
