"""The degradation experiment long enough to see both effects, stored with its provenance.

He et al. (2015) Figure 1 and Figure 6: the deeper *plain* net trains worse than the shallower
one, and its residual twin, with the same layers, fixes that. Five epochs on the digits (the
course's first run, ``degradation_digits.csv``) cannot tell degradation from slow early
convergence; this run trains plain-20, ResNet-20, plain-56 and ResNet-56 for 20 epochs of the
embedded digits (8x8 pictures) at 16x16, a quarter of the pixels of 32x32 and so of the cost,
with the paper's recipe scaled to the run (SGD, momentum 0.9, weight decay 1e-4, batch 64, rate
0.1 divided by 10 at 50% and 75% of the epochs) and a warm-up at 0.01 for the first two epochs
for every model (the paper warms up ResNet-110 because 0.1 is too large a rate for it to start
converging, section 4.2; here all four get the same, so the comparison stays fair).

Run from the repository root (about a quarter of an hour on an idle 2-core CPU):

    python results/degradation_long.py

It writes ``results/degradation_long.csv`` and ``results/degradation_long.json``; lesson 6
quotes the final errors, and ``tests/test_quiz_facts.py`` checks the quotes against the CSV.
"""

from __future__ import annotations

import sys

import keras
import pandas as pd

from keras_cnn.train import build_model, train
from keras_cnn.training.experiments import save_result

EPOCHS = 20
INPUT_SHAPE = (16, 16, 1)
WARMUP_EPOCHS = 2
WARMUP_RATE = 0.01


class WarmUp(keras.callbacks.Callback):
    """The rate is WARMUP_RATE for the first WARMUP_EPOCHS epochs (runs after the schedule)."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch < WARMUP_EPOCHS:
            self.model.optimizer.learning_rate = WARMUP_RATE


def main() -> int:
    frames = []
    for depth in (20, 56):
        for residual in (False, True):
            name = f"{'resnet' if residual else 'plain'}{depth}"
            keras.utils.set_random_seed(0)
            model = build_model(name, "digits", input_shape=INPUT_SHAPE)
            history = train(
                model,
                "digits",
                epochs=EPOCHS,
                batch_size=64,
                learning_rate=0.1,
                schedule="paper",
                seed=0,
                callbacks=[WarmUp()],
                warmup=0,  # the paper's constant warm-up above, not train()'s linear one
                record=False,
                verbose=2,
            )
            frames.append(
                pd.DataFrame(
                    {
                        "model": name,
                        "depth": depth,
                        "residual": residual,
                        "epoch": history.epoch,
                        "train_error": 1.0 - history.accuracy,
                        "test_error": 1.0 - history.test_accuracy,
                        "loss": history.loss,
                        "test_loss": history.test_loss,
                        "learning_rate": history.learning_rate,
                        "seconds": history.seconds,
                    }
                )
            )
    curves = pd.concat(frames, ignore_index=True)
    save_result(curves, "results/degradation_long.csv", "python results/degradation_long.py")
    final = curves.groupby("model", sort=False).last()[["train_error", "test_error"]]
    print(final.to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
