"""Where a ResNet-20 training step's time goes: Keras on TensorFlow against the PyTorch loop.

An ablation, in one process, interleaved: one training step (forward, backward, SGD with
momentum 0.9 and weight decay 1e-4) of ResNet-20 (option A, 32x32x3, batch 128) timed

* as built (``keras_cnn.build_cifar_resnet(20)``, compiled by ``model.compile`` as
  ``keras_cnn.train`` does on a CPU: float32, no XLA; the step is Keras' own
  ``train_on_batch``), and the same network in the hand-written PyTorch loop
  (``benchmarks/torch_reference.py``: eager, ``channels_last``);
* with every batch normalization replaced by an identity, in both;

so the difference between the two rows of a framework is what its batch normalization
costs, and the difference between the frameworks with and without it says how much of
their gap is batch normalization. Then PyTorch's own profiler lists the operators of its
step (``torch.profiler``: self CPU time per operator).

Each figure is the best of ``--rounds`` rounds of ``--steps`` steps; the rounds of the four
contestants are interleaved (a shared machine's load changes within seconds). Printed: the
machine and its load before and after.

    .venv/bin/python benchmarks/train_profile.py [--rounds 5] [--steps 10] [--batch-size 128]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _load() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def keras_step(batch_size: int, batch_norm: bool):
    """A warm ``train_on_batch`` of ResNet-20 (with or without batch normalization)."""
    import keras
    import numpy as np

    import keras_cnn

    keras.utils.set_random_seed(0)
    model = keras_cnn.build_cifar_resnet(20, input_shape=(32, 32, 3))
    if not batch_norm:

        class NoNorm(keras.layers.Layer):  # an identity that takes BN's call arguments
            def call(self, x, training=None, mask=None):
                return x

        def clone(layer):
            if isinstance(layer, keras.layers.BatchNormalization):
                return NoNorm(name=layer.name)
            return layer.__class__.from_config(layer.get_config())

        model = keras.models.clone_model(model, clone_function=clone)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        jit_compile=False,
    )
    rng = np.random.default_rng(0)
    x = rng.random((batch_size, 32, 32, 3), dtype="float32")
    y = rng.integers(0, 10, batch_size)
    model.train_on_batch(x, y)  # builds and traces the step

    def step():
        model.train_on_batch(x, y)

    return step


def torch_step(batch_size: int, batch_norm: bool):
    """One step of the PyTorch loop's ResNet-20 (with or without batch normalization)."""
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch_reference import CifarResNet

    torch.manual_seed(0)
    net = CifarResNet(20, 3)
    if not batch_norm:
        for module in list(net.modules()):
            for name, child in module.named_children():
                if isinstance(child, nn.BatchNorm2d):
                    setattr(module, name, nn.Identity())
    net = net.to(memory_format=torch.channels_last).train()
    opt = torch.optim.SGD(net.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
    x = torch.rand(batch_size, 3, 32, 32).to(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch_size,))

    def step():
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    return step


def best_ms(step, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps * 1000


def torch_operators(batch_size: int, steps: int = 5, top: int = 12) -> str:
    """PyTorch's profiler over ``steps`` steps of the full network: self CPU time per operator."""
    import torch

    step = torch_step(batch_size, True)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    return prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--no-operators", action="store_true", help="skip torch.profiler")
    args = parser.parse_args(argv)
    import keras
    import torch
    from train_vs_pytorch import _machine

    print(f"machine: {_machine()}")
    print(
        f"keras {keras.__version__} ({keras.backend.backend()}), torch {torch.__version__} "
        f"({torch.get_num_threads()} threads); load at start {_load()}"
    )
    contestants = {
        ("keras", True): keras_step(args.batch_size, True),
        ("keras", False): keras_step(args.batch_size, False),
        ("torch", True): torch_step(args.batch_size, True),
        ("torch", False): torch_step(args.batch_size, False),
    }
    times: dict = {key: [] for key in contestants}
    keys = list(contestants)
    for round_ in range(args.rounds):
        shift = round_ % len(keys)
        for key in keys[shift:] + keys[:shift]:
            times[key].append(best_ms(contestants[key], args.steps))
    best = {key: min(values) for key, values in times.items()}
    print(f"\nResNet-20, batch {args.batch_size}: ms per training step, best of {args.rounds}")
    print("\n| framework | with batch norm | without | batch norm's share |")
    print("|---|---|---|---|")
    for name, label in (("keras", "Keras 3 on TensorFlow"), ("torch", "PyTorch loop")):
        full, bare = best[(name, True)], best[(name, False)]
        print(f"| {label} | {full:.1f} | {bare:.1f} | {(full - bare) / full:.0%} |")
    ratio_full = best[("torch", True)] / best[("keras", True)]
    ratio_bare = best[("torch", False)] / best[("keras", False)]
    print(
        f"\nKeras speed vs PyTorch: {ratio_full:.2f}x with batch norm, {ratio_bare:.2f}x "
        f"without; load at end {_load()}"
    )
    if not args.no_operators:
        print("\nPyTorch's operators (torch.profiler, 5 steps):\n")
        print(torch_operators(args.batch_size))


if __name__ == "__main__":
    main()
