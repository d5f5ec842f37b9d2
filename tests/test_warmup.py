"""The learning-rate warm-up of keras_cnn.train: each step's rate, "auto", and its checks."""

import keras
import pytest

from keras_cnn.__main__ import build_parser, main
from keras_cnn.train import train
from keras_cnn.training.config import TrainConfig
from keras_cnn.training.schedules import warmup_epochs, warmup_factor

#: 128 images at batch 32: four steps an epoch.
TINY = dict(limit=128, batch_size=32, seed=0, verbose=0, record=False, validation=None)


class _Rates(keras.callbacks.Callback):
    """The rate each step trains at (after train()'s own schedule has set it)."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_train_batch_begin(self, batch, logs=None):
        rate = self.model.optimizer.learning_rate
        self.rates.append(round(float(keras.ops.convert_to_numpy(rate)), 6))


def _rates(**kwargs) -> list[float]:
    seen = _Rates()
    train("lenet5", callbacks=[seen], **TINY, **kwargs)
    return seen.rates


def test_auto_warms_the_first_epoch_up_step_by_step():
    # then epoch 2 at the "auto" (cosine, for so short a run) schedule's 0.05
    assert _rates(epochs=2) == [0.025, 0.05, 0.075, 0.1, 0.05, 0.05, 0.05, 0.05]


def test_a_fraction_of_an_epoch_none_and_a_one_epoch_run():
    flat = dict(epochs=2, schedule="constant")
    assert _rates(**flat, warmup=0.5) == [0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]
    assert _rates(**flat, warmup=0) == [0.1] * 8
    assert _rates(epochs=1) == [0.1] * 4  # "auto": the whole run would be its warm-up


def test_the_warm_up_scales_the_schedules_rate():
    # 8 epochs of the paper's schedule, a warm-up of 1.5 epochs: epoch 1's rate rises too
    rates = _rates(epochs=8, schedule="paper", warmup=1.5, learning_rate=0.2)
    assert rates[:8] == [round(0.2 * s / 6, 6) for s in range(1, 7)] + [0.2, 0.2]
    assert rates[16:] == [0.02] * 8 + [0.002] * 8  # the divisions at 50% and 75%


def test_warmup_helpers():
    assert warmup_epochs("auto", 2) == 1.0 and warmup_epochs("auto", 1) == 0.0
    assert [warmup_factor(s, 3) for s in range(4)] == pytest.approx([1 / 3, 2 / 3, 1, 1])


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), "one", True])
def test_a_bad_warmup_is_refused_before_any_work(value):
    with pytest.raises(ValueError, match=r"`warmup` must be 'auto' or a finite number of epochs"):
        train("lenet5", warmup=value)


@pytest.mark.parametrize("text", ["-1", "abc", "nan"])
def test_the_command_line_refuses_a_bad_warmup(capsys, text):
    with pytest.raises(SystemExit) as info:
        main(["train", "lenet5", "--warmup", text])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "argument --warmup: `warmup` must be 'auto'" in err


def test_the_command_line_takes_the_default_and_a_number():
    assert vars(build_parser().parse_args(["train", "lenet5"]))["warmup"] == "auto"
    assert TrainConfig.defaults()["warmup"] == "auto"
    assert vars(build_parser().parse_args(["train", "lenet5", "--warmup", "0.5"]))["warmup"] == 0.5
