"""Issue 20's parity measurement: ResNet-20 on the digits, 4 epochs, batch 64, seeds 0, 1 and 2,
``train``'s defaults, under TensorFlow, JAX (without TensorFlow) and PyTorch.

Run from the repository root (about 15 minutes with three free cores; each backend runs in a
process of its own on one thread, all three at once):

    python results/backend_parity.py

It prints, per backend, the test accuracy after the last epoch for each seed, their mean, the
first-epoch losses, and each mean's distance from TensorFlow's, then exits non-zero if a mean is
more than 3 points from TensorFlow's or a first-epoch loss is above chance (ln 10). The table it
measured is in docs/training-speed.md; ``tests/test_backend_parity.py`` runs seed 0 of each
backend in the suite.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from python_runs import NO_TENSORFLOW  # noqa: E402

SEEDS = (0, 1, 2)
TOLERANCE = 0.03
RUN = """
import json, sys
import keras
from keras_cnn.train import train
rows = []
for seed in SEEDS:
    h = train("resnet20", epochs=4, batch_size=64, seed=seed, verbose=0, record=False)
    rows.append({"seed": seed, "loss": h["loss"].tolist(), "test": h["test_accuracy"].tolist()})
print(json.dumps({"backend": keras.backend.backend(), "tensorflow": "tensorflow" in sys.modules,
                  "runs": rows}))
""".replace("SEEDS", repr(SEEDS))
THREADS = {"OMP_NUM_THREADS": "1", "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}


def _start(backend: str) -> subprocess.Popen:
    script = RUN if backend == "tensorflow" else NO_TENSORFLOW + RUN
    return subprocess.Popen(
        [sys.executable, "-c", script],
        env={**os.environ, **THREADS, "KERAS_BACKEND": backend},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def main() -> int:
    backends = ["tensorflow", "jax"]
    try:
        import torch  # noqa: F401

        backends.append("torch")
    except ImportError:
        print("PyTorch is not installed: measuring TensorFlow and JAX only", file=sys.stderr)
    processes = {backend: _start(backend) for backend in backends}
    results = {}
    for backend, process in processes.items():
        out, err = process.communicate()
        if process.returncode != 0:
            print(err[-3000:], file=sys.stderr)
            return 1
        results[backend] = json.loads(out.strip().splitlines()[-1])
    means = {b: sum(r["test"][-1] for r in res["runs"]) / len(SEEDS) for b, res in results.items()}
    failed = False
    print("| backend | test accuracy per seed | mean | vs TensorFlow | first-epoch losses |")
    print("|---|---|---|---|---|")
    for backend, result in results.items():
        accuracies = " / ".join(f"{r['test'][-1]:.1%}" for r in result["runs"])
        first = [r["loss"][0] for r in result["runs"]]
        gap = means[backend] - means["tensorflow"]
        losses = " / ".join(f"{loss:.2f}" for loss in first)
        print(f"| {backend} | {accuracies} | {means[backend]:.1%} | {gap:+.1%} | {losses} |")
        failed |= abs(gap) > TOLERANCE or max(first) >= math.log(10)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
