"""Training speed of ``keras_cnn.train`` per backend, plain ``model.fit``, and a PyTorch loop.

One run, on the same data (the embedded digits at 32x32x3, replicated to ``--images``),
the same network, batch size and optimizer (SGD, momentum 0.9, weight decay 1e-4):

* ``keras_cnn.train`` (its ``"auto"`` settings) under TensorFlow, JAX and PyTorch;
* plain ``model.fit`` of the same ``keras_cnn`` builder under each backend (Keras' own
  defaults, in-memory arrays, one callback that times epochs);
* a hand-written PyTorch loop (eager, ``channels_last``, ``torch.optim.SGD``:
  ``benchmarks/torch_reference.py``), the reference.

Each contestant is its own process (one Keras backend per process), started once and paused
between epochs, so the epochs are **interleaved**: every round runs one epoch of each, in a
rotating order, and a contestant's figure is its **best** warm epoch (the first epoch, with
compilation, is not timed). On a shared machine the load of other processes changes within
seconds: best-of is the figure least disturbed by them, and the spread is printed with it.
Printed: the machine, ``os.getloadavg()`` before and after, and a markdown table per model
with images/s and the ratios against the PyTorch loop and against plain ``fit`` on the
same backend.

    .venv/bin/python benchmarks/train_vs_pytorch.py [--models resnet20,lenet5] [--rounds 3]
        [--images 2874] [--batch-size 128] [--backends tensorflow,jax,torch]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The images of the issue's measurement: twice the 1,437 training digits.
IMAGES = 2874
BACKENDS = ("tensorflow", "jax", "torch")


# ----------------------------------------------------------------------------- workers


def _arrays(images: int, channels: int = 3):
    import numpy as np

    from keras_cnn.training import data

    x, y = data.arrays("digits", "train", input_shape=(32, 32, channels))
    reps = -(-images // len(x))
    return np.concatenate([x] * reps)[:images], np.concatenate([y] * reps)[:images]


def _report(**fields) -> None:
    sys.stdout.write(json.dumps(fields) + "\n")
    sys.stdout.flush()


def _wait_for_go() -> bool:
    line = sys.stdin.readline().strip()
    return line == "go"


def _keras_pacer():
    """A callback that waits for the coordinator before each epoch and reports its time."""
    import keras

    class Pacer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if not _wait_for_go():
                raise SystemExit(0)
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            keras.ops.convert_to_numpy(self.model.optimizer.iterations)  # device finished
            _report(seconds=time.perf_counter() - self.start, loss=float(logs.get("loss", -1)))

    return Pacer()


def _keras_model(name: str):
    import keras_cnn

    builders = {
        "resnet20": lambda: keras_cnn.build_cifar_resnet(20, input_shape=(32, 32, 3)),
        "lenet5": lambda: keras_cnn.build_lenet5(input_shape=(32, 32, 3)),
    }
    return builders[name]()


def worker(kind: str, model_name: str, images: int, batch_size: int, epochs: int) -> None:
    """Run one contestant, pausing for a ``go`` line on stdin before every epoch."""
    x, y = _arrays(images)
    if kind == "pytorch":
        import torch

        sys.path.insert(0, str(Path(__file__).parent))
        from torch_reference import TorchLoop

        loop = TorchLoop(model_name, x, y, batch_size)
        _report(ready=True, threads=torch.get_num_threads(), version=torch.__version__)
        for _ in range(epochs):
            if not _wait_for_go():
                return
            seconds = loop.epoch()
            _report(seconds=seconds, loss=loop.losses[-1])
        return
    import keras

    from keras_cnn.train import train

    keras.utils.set_random_seed(0)
    model = _keras_model(model_name)
    _report(ready=True, backend=keras.backend.backend(), version=keras.__version__)
    if kind == "train":
        train(
            model,
            (x, y),
            validation=None,
            epochs=epochs,
            batch_size=batch_size,
            schedule="constant",
            verbose=0,
            record=False,
            seed=0,
            callbacks=[_keras_pacer()],
        )
    else:  # plain fit, as a learner writes it
        model.compile(
            optimizer=keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=1e-4),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[_keras_pacer()])


# ------------------------------------------------------------------------- coordinator


class Contestant:
    def __init__(self, label: str, kind: str, backend: str, args):
        self.label, self.kind, self.backend = label, kind, backend
        self.log = tempfile.TemporaryFile("w+")
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
        command = [sys.executable, __file__, "--worker", kind, "--models", args.model]
        command += ["--images", str(args.images), "--batch-size", str(args.batch_size)]
        command += ["--rounds", str(args.rounds)]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        self.seconds: list[float] = []
        self.losses: list[float] = []
        self.info: dict = {}

    def _read(self) -> dict:
        while True:
            line = self.process.stdout.readline()
            if not line:
                self.log.seek(0)
                tail = self.log.read()[-2000:]
                raise RuntimeError(f"{self.label} ended early:\n{tail}")
            if line.startswith("{"):
                return json.loads(line)

    def ready(self) -> None:
        self.info = self._read()

    def epoch(self) -> float:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        record = self._read()
        self.seconds.append(record["seconds"])
        self.losses.append(record["loss"])
        return record["seconds"]

    def close(self) -> None:
        try:
            self.process.stdin.close()
        finally:
            self.process.wait(timeout=120)


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def _load() -> str:
    return " / ".join(f"{v:.1f}" for v in os.getloadavg())


def run_model(args) -> list[dict]:
    """Interleave every contestant on one model; return their rows."""
    plan = [("PyTorch loop (eager, channels_last)", "pytorch", "torch")]
    for backend in args.backends:
        plan.append((f"keras_cnn.train, {backend}", "train", backend))
        plan.append((f"plain model.fit, {backend}", "fit", backend))
    contestants = [Contestant(label, kind, backend, args) for label, kind, backend in plan]
    try:
        for c in contestants:
            c.ready()
        for round_ in range(args.rounds + 1):  # round 0 warms up (compilation)
            shift = round_ % len(contestants)
            for c in contestants[shift:] + contestants[:shift]:
                c.epoch()
            print(
                f"  round {round_}{' (warm-up)' if round_ == 0 else ''}: "
                + ", ".join(
                    f"{c.kind}/{c.backend} {args.images / c.seconds[-1]:.0f}" for c in contestants
                )
                + f" images/s; load {_load()}",
                flush=True,
            )
    finally:
        for c in contestants:
            c.close()
    rows = []
    reference = max(args.images / s for s in contestants[0].seconds[1:])
    fits = {
        c.backend: max(args.images / s for s in c.seconds[1:])
        for c in contestants
        if c.kind == "fit"
    }
    for c in contestants:
        rates = [args.images / s for s in c.seconds[1:]]
        best = max(rates)
        rows.append(
            {
                "trainer": c.label,
                "kind": c.kind,
                "backend": c.backend,
                "best": best,
                "worst": min(rates),
                "vs_pytorch": best / reference,
                "vs_fit": best / fits[c.backend] if c.kind != "pytorch" else None,
                "first_epoch_loss": c.losses[0],
            }
        )
    return rows


def table(model: str, rows: list[dict], args) -> str:
    lines = [
        f"{model}, {args.images} images 32x32x3, batch {args.batch_size}, SGD momentum 0.9; "
        f"best of {args.rounds} interleaved warm epochs",
        "",
        "| trainer | images/s (best) | worst | vs PyTorch loop | vs plain fit |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        vs_fit = f"{r['vs_fit']:.2f}x" if r["vs_fit"] is not None else ""
        lines.append(
            f"| {r['trainer']} | {r['best']:.0f} | {r['worst']:.0f} | "
            f"{r['vs_pytorch']:.2f}x | {vs_fit} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="resnet20,lenet5")
    parser.add_argument("--rounds", type=int, default=3, help="timed epochs per contestant")
    parser.add_argument("--images", type=int, default=IMAGES)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--json", help="also write the rows to this file")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.models, args.images, args.batch_size, args.rounds + 1)
        return
    args.backends = [b for b in args.backends.split(",") if b]
    unknown = sorted(set(args.backends) - set(BACKENDS))
    if unknown:
        parser.error(f"--backends must be among {list(BACKENDS)}. Received: {unknown}")
    print(f"machine: {_machine()}; Python {platform.python_version()}")
    print(f"load average (1/5/15 min) at start: {_load()}")
    print(
        "The machine may be shared: other processes' load changes within seconds, so each "
        "figure is the best of interleaved warm epochs and the worst is printed beside it.",
        flush=True,
    )
    results = {}
    start = time.perf_counter()
    for model in args.models.split(","):
        args.model = model
        print(f"{model}:", flush=True)
        results[model] = run_model(args)
    print()
    for model, rows in results.items():
        print(table(model, rows, args))
        print()
    print(f"load average at end: {_load()}; {time.perf_counter() - start:.0f} s in all")
    if args.json:
        meta = {"machine": _machine(), "load_end": os.getloadavg(), "args": vars(args)}
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=1))


if __name__ == "__main__":
    main()
