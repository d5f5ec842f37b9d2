"""Lesson 1's trained LeNet-5, shipped with the course so that its first picture (C1's feature
maps of a digit, ``app/inside_widgets.py``) is drawn at once on a new server instead of after
half a minute of training in the server's process.

Run from the repository root (about 20 s on 2 cores):

    python results/lenet5_digits.py

It trains ``build_model("lenet5")`` on the embedded digits for 5 epochs with seed 0 (``train``'s
defaults), writes ``app/assets/lenet5_digits_5epochs_seed0.keras`` and prints its test
accuracy; ``tests/test_inside_widgets.py`` checks the shipped file (architecture, accuracy).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keras  # noqa: E402

from app import inside_widgets  # noqa: E402
from keras_cnn.train import build_model, train  # noqa: E402


def main() -> None:
    keras.utils.set_random_seed(0)
    model = build_model("lenet5")
    history = train(model, epochs=inside_widgets.LENET_EPOCHS, seed=0, record=False, verbose=0)
    path = inside_widgets.SHIPPED_LENET5
    path.parent.mkdir(parents=True, exist_ok=True)
    shipped = keras.Model.from_config(model.get_config())  # uncompiled: no optimizer state
    shipped.set_weights(model.get_weights())
    shipped.save(path)
    print(f"{path.relative_to(ROOT)}: test accuracy {history['test_accuracy'].iloc[-1]:.1%}")


if __name__ == "__main__":
    main()
