"""benchmarks/gpu_check.py at toy sizes on the CPU, under JAX with TensorFlow absent, so
that the prepared GPU check cannot rot (its figures here mean nothing)."""

import importlib.util
import json

import pytest
from python_runs import ROOT, run_python

#: As on a JAX-only GPU machine: importing TensorFlow, TFDS or scikit-learn fails.
RUN = """
import runpy, sys
for name in ("tensorflow", "tensorflow_datasets", "sklearn"):
    sys.modules[name] = None
sys.argv = ["gpu_check.py", "--tiny"]
runpy.run_path("benchmarks/gpu_check.py", run_name="__main__")
"""


@pytest.mark.slow
def test_gpu_check_runs_without_tensorflow_and_prints_every_check():
    env = {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(ROOT)}
    stdout = run_python(RUN, env=env, timeout=400)
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    checks = {}
    for line in lines:
        checks.setdefault(line["check"], []).append(line)
    device = checks["device"][0]
    assert device["backend"] == "jax" and device["tensorflow_installed"] is False
    throughput = checks["throughput"]
    assert [t["mixed_precision"] for t in throughput] == [True, False]
    for t in throughput:
        assert t["train_images_per_second"] > 0 and t["fit_images_per_second"] > 0
        assert t["ratio"] == pytest.approx(
            t["train_images_per_second"] / t["fit_images_per_second"], rel=1e-2
        )
        if importlib.util.find_spec("torch") is None:
            assert t["pytorch"] == "not installed" and t["pytorch_images_per_second"] is None
        else:  # the hand-written PyTorch loop, side by side
            assert t["pytorch"].endswith("on cpu") and t["pytorch_images_per_second"] > 0
            assert t["ratio_vs_pytorch"] == pytest.approx(
                t["train_images_per_second"] / t["pytorch_images_per_second"], rel=1e-2
            )
    digits = checks["digits_to_target"][0]
    assert digits["epochs"] == 2 and 0 <= digits["final_test_accuracy"] <= 1
    schedule = checks["paper_schedule"][0]
    assert schedule["data"].startswith("synthetic") and schedule["iterations"] == 8
    assert schedule["wall_seconds"] > 0
