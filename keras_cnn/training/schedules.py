"""Learning-rate schedules and optimizers of :func:`keras_cnn.train.train`, by name.

* **Optimizer** -- SGD with momentum 0.9 and weight decay 1e-4 by default (He et al. 2015).
  Weight decay is the optimizer's ``weight_decay`` argument: decoupled decay
  ``w -= lr * weight_decay * w`` each step, applied to every weight (the paper's L2 term of
  1e-4 gives the same step for plain SGD; with momentum they differ slightly).
* **Schedules** -- per epoch: ``"paper"`` divides the rate by 10 at 50% and 75% of the
  epochs (He et al.: at 32k and 48k of 64k iterations), ``"cosine"`` anneals to 0,
  ``"constant"`` keeps it. ``"auto"`` (the default) is ``"paper"`` for runs of at least
  :data:`PAPER_MIN_EPOCHS` epochs and ``"constant"`` for shorter ones: a 2-epoch run that
  divides the rate after its first epoch learns far less (an explicit ``"paper"`` on so
  short a run is kept, with a warning: :func:`short_paper_warning`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras

#: Below this many epochs the ``"auto"`` schedule keeps the rate constant.
PAPER_MIN_EPOCHS = 5


def _paper(base: float, epoch: int, epochs: int) -> float:
    return base * (0.1 ** ((epoch >= 0.5 * epochs) + (epoch >= 0.75 * epochs)))


def _cosine(base: float, epoch: int, epochs: int) -> float:
    return 0.5 * base * (1.0 + math.cos(math.pi * epoch / max(epochs, 1)))


def _auto(base: float, epoch: int, epochs: int) -> float:
    return _paper(base, epoch, epochs) if epochs >= PAPER_MIN_EPOCHS else base


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
        >>> [learning_rate_at("auto", 0.1, e, 4) for e in range(4)]
        [0.1, 0.1, 0.1, 0.1]
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {list(SCHEDULES)}. Received: {schedule=}")
    return float(SCHEDULES[schedule](base, epoch, epochs))


def short_paper_warning(schedule: str, epochs: int) -> str | None:
    """The warning for ``schedule="paper"`` on a run too short for it, or None."""
    if schedule != "paper" or not 2 <= epochs < PAPER_MIN_EPOCHS:  # 1 epoch: no division
        return None
    return (
        f'schedule="paper" divides the learning rate by 10 at 50% and 75% of the epochs: '
        f"with epochs={epochs} the first division comes after epoch "
        f"{math.ceil(epochs / 2)}, too early for most networks to have learned. "
        f'schedule="auto" (the default) keeps runs under {PAPER_MIN_EPOCHS} epochs at a '
        "constant rate."
    )
