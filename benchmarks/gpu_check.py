"""One prepared GPU check of ``keras_cnn.train``, printing JSON lines (issue #15).

Runs in one go on a GPU machine with Keras 3 on JAX and no TensorFlow: install ``keras``,
``namex`` and ``optree`` beside JAX, plus ``pandas`` (``keras_cnn`` returns its histories as
DataFrames), and put this checkout on ``PYTHONPATH``::

    pip install keras namex optree pandas
    KERAS_BACKEND=jax PYTHONPATH=. python benchmarks/gpu_check.py > gpu_check.jsonl

The digits ship inside the package (no scikit-learn, no download). Each line is one
measurement:

* ``device``: backend, accelerator names, library versions, whether TensorFlow is present.
* ``throughput`` for ResNet-20 and ResNet-56 (32x32x3, batch 512) and ResNet-50 (224x224x3,
  batch 256), mixed precision on and off: images/s of ``keras_cnn.train`` and of plain
  ``model.fit`` on the same model and the same in-memory synthetic images, each after a
  warm-up epoch (compilation) and timed after the device has finished; ``ratio`` = train /
  fit, goal >= 0.95; beside them the hand-written PyTorch loop of
  ``benchmarks/torch_reference.py`` (eager, ``channels_last``, ``torch.optim.SGD``; float16
  autocast when mixed precision is on) on the same images, for the models it has
  (ResNet-20, ResNet-56), when a CUDA build of PyTorch is installed
  (``pip install torch``): ``ratio_vs_pytorch`` = train / PyTorch loop.
* ``digits_to_target``: ``train("resnet20")`` on the embedded digits, the first epoch whose
  test accuracy reaches 95%, and the seconds until then (and in all, with compilation).
* ``paper_schedule``: ResNet-20's CIFAR-10 schedule, 64k iterations at batch 128 (164 epochs
  of 50,000 images, the paper's rate divisions, pad-crop-flip augmentation, the 10,000 test
  images after every epoch), on CIFAR-10 when TensorFlow Datasets has it on this machine,
  else on synthetic images of its shape (``data`` says which); goal < 120 s.

``--tiny`` runs every check at toy sizes (LeNet-5, a few dozen images): a test runs it on
the CPU so that this script cannot rot. The tiny figures mean nothing.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script from a checkout
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_cnn.analysis.head import output_activation  # noqa: E402
from keras_cnn.train import build_model, device_info, train  # noqa: E402

#: (model, input shape, batch) of the throughput checks.
THROUGHPUT = (
    ("resnet20", (32, 32, 3), 512),
    ("resnet56", (32, 32, 3), 512),
    ("resnet50", (224, 224, 3), 256),
)
GOAL_RATIO = 0.95
GOAL_SCHEDULE_SECONDS = 120.0
#: He et al. 2015, CIFAR-10: 64k iterations at batch 128 on 50k training images.
PAPER = {"iterations": 64_000, "batch": 128, "images": 50_000, "test_images": 10_000}


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def _wait(model: keras.Model) -> None:
    keras.ops.convert_to_numpy(model.optimizer.iterations)


class _EpochClock(keras.callbacks.Callback):
    """Seconds of each epoch, stopped once the device has finished it."""

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        _wait(self.model)
        self.seconds.append(time.perf_counter() - self.start)


def _model(name: str, shape, mixed: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    return build_model(name, "cifar10", mixed_precision=mixed, input_shape=shape)


def _synthetic(count: int, shape, classes: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((count, *shape), dtype="float32"), rng.integers(
        0, classes, count
    ).astype("int32")


def plain_fit(name, shape, batch, mixed, x, y, epochs) -> float:
    """Images/s of plain ``model.fit`` (SGD as ``train`` uses it), warm-up epoch excluded."""
    model = _model(name, shape, mixed)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=output_activation(model) != "softmax"
        ),
        metrics=["accuracy"],
        jit_compile=True,
    )
    clock = _EpochClock()
    model.fit(x, y, batch_size=batch, epochs=epochs + 1, verbose=0, callbacks=[clock])
    return len(x) * epochs / sum(clock.seconds[1:])


def ours(name, shape, batch, mixed, x, y, epochs) -> float:
    """Images/s of ``keras_cnn.train`` by its own measurement, warm-up epoch excluded."""
    model = _model(name, shape, mixed)
    history = train(
        model,
        (x, y),
        validation=None,
        epochs=epochs + 1,
        batch_size=batch,
        schedule="constant",
        jit_compile=True,
        verbose=0,
        record=False,
        seed=0,
    )
    return len(x) * epochs / (len(x) / history.images_per_second.iloc[1:]).sum()


def pytorch_loop(name, batch, mixed, x, y, epochs, device) -> tuple[float | None, str]:
    """Images/s of the hand-written PyTorch loop of ``benchmarks/torch_reference.py`` on the
    same images (warm-up epoch excluded), and what it ran on or why it did not run."""
    if not _installed("torch"):
        return None, "not installed"
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from torch_reference import MODELS, TorchLoop

    if name not in MODELS:
        return None, f"no hand-written {name} (only {sorted(MODELS)})"
    if device == "cuda" and not torch.cuda.is_available():
        return None, f"torch {torch.__version__} sees no CUDA device"
    loop = TorchLoop(name, x, y, batch, device=device, mixed=mixed and device == "cuda")
    seconds = [loop.epoch() for _ in range(epochs + 1)][1:]
    return len(x) * epochs / sum(seconds), f"torch {torch.__version__} on {device}"


def check_throughput(models, precisions, steps: int, epochs: int, device: str) -> None:
    for name, shape, batch in models:
        x, y = _synthetic(batch * steps, shape)
        for mixed in precisions:
            fit = plain_fit(name, shape, batch, mixed, x, y, epochs)
            got = ours(name, shape, batch, mixed, x, y, epochs)
            torch_rate, torch_note = pytorch_loop(name, batch, mixed, x, y, epochs, device)
            emit(
                {
                    "check": "throughput",
                    "model": name,
                    "input": list(shape),
                    "batch": batch,
                    "mixed_precision": mixed,
                    "images_per_epoch": len(x),
                    "timed_epochs": epochs,
                    "train_images_per_second": round(got, 1),
                    "fit_images_per_second": round(fit, 1),
                    "ratio": round(got / fit, 3),
                    "goal": GOAL_RATIO,
                    "met": bool(got / fit >= GOAL_RATIO),
                    "pytorch_images_per_second": torch_rate and round(torch_rate, 1),
                    "ratio_vs_pytorch": torch_rate and round(got / torch_rate, 3),
                    "pytorch": torch_note,
                }
            )


def check_digits(model: str, target: float, epochs: int, limit: int | None) -> None:
    start = time.perf_counter()
    history = train(model, "digits", epochs=epochs, seed=0, verbose=0, record=False, limit=limit)
    wall = time.perf_counter() - start
    reached = history[history.test_accuracy >= target]
    first = int(reached.epoch.iloc[0]) if len(reached) else None
    emit(
        {
            "check": "digits_to_target",
            "model": model,
            "target": target,
            "reached": first is not None,
            "epoch": first,
            "seconds_to_target": round(float(history.seconds.iloc[:first].sum()), 2)
            if first
            else None,
            "epochs": epochs,
            "final_test_accuracy": round(float(history.test_accuracy.iloc[-1]), 4),
            "wall_seconds_with_compilation": round(wall, 2),
        }
    )


def _cifar10_on_disk() -> bool:
    if not _installed("tensorflow"):
        return False
    try:
        from keras_cnn import data

        return data.is_available("cifar10")
    except Exception:  # no tensorflow_datasets, or an unreadable data directory
        return False


def check_schedule(model: str, iterations: int, batch: int, images: int, test_images: int):
    epochs = math.ceil(iterations / math.ceil(images / batch))
    on_disk = _cifar10_on_disk() and images == PAPER["images"]
    if on_disk:
        data, validation, label = "cifar10", "test", "cifar10"
    else:
        shape = (32, 32, 3)
        data = _synthetic(images, shape)
        validation = _synthetic(test_images, shape, seed=1)
        label = "synthetic (CIFAR-10 is not on this machine)"
    net = _model(model, (32, 32, 3), device_info()["device"] == "GPU")
    start = time.perf_counter()
    history = train(
        net,
        data,
        validation=validation,
        epochs=epochs,
        batch_size=batch,
        schedule="paper",
        augment=True,
        verbose=0,
        record=False,
        seed=0,
    )
    wall = time.perf_counter() - start
    emit(
        {
            "check": "paper_schedule",
            "model": model,
            "data": label,
            "iterations": epochs * math.ceil(images / batch),
            "epochs": epochs,
            "batch": batch,
            "wall_seconds": round(wall, 2),
            "training_seconds": round(float(history.seconds.sum()), 2),
            "final_test_accuracy": round(float(history.test_accuracy.iloc[-1]), 4),
            "goal_seconds": GOAL_SCHEDULE_SECONDS,
            "met": wall < GOAL_SCHEDULE_SECONDS,
        }
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="toy sizes, for the CPU test")
    parser.add_argument(
        "--precision", choices=["both", "on", "off"], default="both", help="mixed precision"
    )
    parser.add_argument("--steps", type=int, default=40, help="steps per throughput epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed throughput epochs")
    args = parser.parse_args(argv)

    info = device_info()
    emit(
        {
            "check": "device",
            **info,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "keras": keras.__version__,
            "jax": _version("jax"),
            "tensorflow_installed": _installed("tensorflow"),
            "tiny": args.tiny,
            "pid": os.getpid(),
        }
    )
    precisions = {"both": (True, False), "on": (True,), "off": (False,)}[args.precision]
    if args.tiny:
        check_throughput([("lenet5", (32, 32, 1), 16)], precisions, steps=2, epochs=1, device="cpu")
        check_digits("lenet5", target=0.5, epochs=2, limit=128)
        check_schedule("lenet5", iterations=8, batch=16, images=64, test_images=32)
        return
    device = "cuda" if info["device"] == "GPU" else "cpu"
    check_throughput(THROUGHPUT, precisions, steps=args.steps, epochs=args.epochs, device=device)
    check_digits("resnet20", target=0.95, epochs=20, limit=None)
    check_schedule("resnet20", **PAPER)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # blocked, or a broken installation
        return False


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except ImportError:
        return None


if __name__ == "__main__":
    main()
