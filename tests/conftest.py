"""Shared test setup: quiet TensorFlow, a private KERAS_CNN_HOME, small helpers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_home(tmp_path, monkeypatch):
    """Every test gets its own KERAS_CNN_HOME so no test touches a learner's data."""
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "keras_cnn_home"))


@pytest.fixture
def rng():
    return np.random.default_rng(0)
