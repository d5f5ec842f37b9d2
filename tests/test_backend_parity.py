"""JAX and PyTorch train like TensorFlow (issue 20): ResNet-20 on the digits, 4 epochs, batch
64, seed 0, ``train``'s defaults (a linear warm-up over the first epoch, the cosine schedule
for so short a run), one process per backend on one thread.

Each backend's first-epoch loss is below chance (ln 10 = 2.30) and its test accuracy after
the last epoch is at least 93%. Measured on the 2-core machine: TensorFlow 97.2%, JAX 96.4%,
PyTorch 96.9% (first-epoch losses 1.64 / 1.95 / 1.62). Before the logits fix and the warm-up
JAX's seed-0 run started at a loss of 3.25 and ended at 51.9% (its three-seed mean 76.5%
against TensorFlow's 93.7%); under a constant rate after the warm-up PyTorch's seed 1 still
ended at 81.7%.

The issue's whole measurement, seeds 0, 1 and 2 of every backend and each mean within 3 points
of TensorFlow's, is ``results/backend_parity.py`` (about 15 minutes of three cores; its table
is in docs/training-speed.md). Here one seed per backend, each backend a test of its own, so
that the suite's workers share them out.
"""

from __future__ import annotations

import json
import math

import pytest
from python_runs import NO_TENSORFLOW, last_json, run_python

RUN = """
import json, sys
import keras
from keras_cnn.train import train
h = train("resnet20", epochs=4, batch_size=64, seed=0, verbose=0, record=False)
print(json.dumps({"backend": keras.backend.backend(), "tensorflow": "tensorflow" in sys.modules,
                  "loss": h["loss"].tolist(), "test": h["test_accuracy"].tolist()}))
"""
THREADS = {
    "OMP_NUM_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_resnet20_trains_on_the_digits_on_every_backend(backend):
    if backend == "torch":
        pytest.importorskip("torch")  # .ci/run installs the CPU wheel
    script = RUN if backend == "tensorflow" else NO_TENSORFLOW + RUN
    out = run_python(script, env={**THREADS, "KERAS_BACKEND": backend}, timeout=1500)
    result = last_json(out)
    print(json.dumps(result))
    assert result["backend"] == backend
    assert result["tensorflow"] is (backend == "tensorflow")
    assert len(result["loss"]) == len(result["test"]) == 4
    assert result["loss"][0] < math.log(10), result["loss"]
    assert result["loss"][-1] < result["loss"][0] / 4, result["loss"]
    assert result["test"][-1] >= 0.93, result["test"]
