"""Learning-rate schedules and optimizers of :func:`keras_cnn.train.train`, by name.

* **Optimizer** -- SGD with momentum 0.9 and weight decay 1e-4 by default (He et al. 2015).
  Weight decay is the optimizer's ``weight_decay`` argument: decoupled decay
  ``w -= lr * weight_decay * w`` each step, applied to every weight (the paper's L2 term of
  1e-4 gives the same step for plain SGD; with momentum they differ slightly).
* **Schedules** -- per epoch: ``"paper"`` divides the rate by 10 at 50% and 75% of the
  epochs (He et al.: at 32k and 48k of 64k iterations), ``"cosine"`` anneals it towards 0
  (Loshchilov & Hutter 2017), ``"constant"`` keeps it. ``"auto"`` (the default) is
  ``"paper"`` for runs of at least :data:`PAPER_MIN_EPOCHS` epochs and ``"cosine"`` for
  shorter ones: a 2-epoch run that divides the rate after its first epoch learns far less
  (an explicit ``"paper"`` on so short a run is kept, with a warning:
  :func:`short_paper_warning`), and one that ends at the full rate ends wherever its last
  steps threw it: ResNet-20, the digits, 4 epochs, batch 64, seeds 0-2, test accuracy after
  the last epoch 90.6 / 94.4 / 95.6% at a constant rate, 97.2 / 97.2 / 96.1% annealed
  (TensorFlow; docs/training-speed.md has every backend).
* **Warm-up** -- the rate rises linearly from ``base / steps`` to the epoch's rate over the
  first ``warmup`` epochs, step by step (Goyal et al. 2017; He et al. 2015 warm ResNet-110
  up at 0.01 for about 400 iterations, one CIFAR-10 epoch at batch 128, because 0.1 is too
  large to start converging). ``"auto"`` (the default) is one epoch for runs of at least
  :data:`WARMUP_MIN_EPOCHS` epochs and none for a one-epoch run. Measured on ResNet-20,
  the digits, 4 epochs, batch 64: without it some initial draws diverge at 0.1 (JAX's
  seed 0: first-epoch loss 3.30, above the 2.30 of chance, test accuracy 79%); with it the
  same draw has 1.95 and 93.9% (docs/training-speed.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras

#: Below this many epochs the ``"auto"`` schedule is the cosine, from it on the paper's.
PAPER_MIN_EPOCHS = 5


def _paper(base: float, epoch: int, epochs: int) -> float:
    return base * (0.1 ** ((epoch >= 0.5 * epochs) + (epoch >= 0.75 * epochs)))


def _cosine(base: float, epoch: int, epochs: int) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * epoch / max(epochs, 1)))


def _auto(base: float, epoch: int, epochs: int) -> float:
    return (_paper if epochs >= PAPER_MIN_EPOCHS else _cosine)(base, epoch, epochs)


#: From this many epochs on, the ``"auto"`` warm-up is the first epoch (none below).
WARMUP_MIN_EPOCHS = 2

#: name -> learning rate of a 0-based epoch: f(base, epoch, epochs).
SCHEDULES: dict[str, Callable[[float, int, int], float]] = {
    "auto": _auto,
    "paper": _paper,
    "cosine": _cosine,
    "constant": lambda base, epoch, epochs: base,
}

#: name -> optimizer(learning_rate, momentum, weight_decay).
OPTIMIZERS: dict[str, Callable[[float, float, float], keras.optimizers.Optimizer]] = {
    "sgd": lambda lr, m, wd: keras.optimizers.SGD(lr, momentum=m, weight_decay=wd or None),
    "adam": lambda lr, m, wd: keras.optimizers.Adam(lr, weight_decay=wd or None),
    "adamw": lambda lr, m, wd: keras.optimizers.AdamW(lr, weight_decay=wd),
    "rmsprop": lambda lr, m, wd: keras.optimizers.RMSprop(lr, momentum=m, weight_decay=wd or None),
}


def learning_rate_at(schedule: str, base: float, epoch: int, epochs: int) -> float:
    """The learning rate of a 0-based ``epoch`` under a schedule.

    Args:
        schedule: str. ``"auto"``, ``"paper"``, ``"cosine"`` or ``"constant"``.
        base: float. The initial learning rate.
        epoch: int. 0-based epoch.
        epochs: int. Total epochs of the run.

    Returns:
        float.

    Raises:
        ValueError: for an unknown schedule.

    Example:
        >>> [learning_rate_at("paper", 0.1, e, 4) for e in range(4)]
        [0.1, 0.1, 0.010000000000000002, 0.0010000000000000002]
        >>> [round(learning_rate_at("auto", 0.1, e, 4), 6) for e in range(4)]
        [0.1, 0.085355, 0.05, 0.014645]
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {list(SCHEDULES)}. Received: {schedule=}")
    return float(SCHEDULES[schedule](base, epoch, epochs))


def warmup_epochs(warmup: float | str, epochs: int) -> float:
    """The epochs of linear warm-up of a run: ``warmup``, or what ``"auto"`` means.

    Example:
        >>> warmup_epochs("auto", 4), warmup_epochs("auto", 1), warmup_epochs(0.5, 4)
        (1.0, 0.0, 0.5)
    """
    if warmup == "auto":
        return 1.0 if epochs >= WARMUP_MIN_EPOCHS else 0.0
    return float(warmup)


def warmup_factor(step: int, warmup_steps: int) -> float:
    """The fraction of its rate a 0-based global ``step`` trains at: linear warm-up.

    Example:
        >>> [warmup_factor(s, 4) for s in range(6)]
        [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    """
    return 1.0 if step >= warmup_steps else (step + 1) / warmup_steps


def short_paper_warning(schedule: str, epochs: int) -> str | None:
    """The warning for ``schedule="paper"`` on a run too short for it, or None."""
    if schedule != "paper" or not 2 <= epochs < PAPER_MIN_EPOCHS:  # 1 epoch: no division
        return None
    return (
        f'schedule="paper" divides the learning rate by 10 at 50% and 75% of the epochs: '
        f"with epochs={epochs} the first division comes after epoch "
        f"{math.ceil(epochs / 2)}, too early for most networks to have learned. "
        f'schedule="auto" (the default) anneals runs under {PAPER_MIN_EPOCHS} epochs with '
        "the cosine instead."
    )
