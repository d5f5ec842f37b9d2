"""Shared test setup: quiet TensorFlow, a private KERAS_CNN_HOME, small helpers."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _private_home(tmp_path, monkeypatch):
    """Every test gets its own KERAS_CNN_HOME so no test touches a learner's data."""
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "keras_cnn_home"))


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def playwright():
    """Playwright for the browser tests: Debian's Chromium, skipped locally without it and a
    failure in CI (``CI`` set), where ``.ci/run`` installs it."""
    from app import serve

    if not Path(serve.CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{serve.CHROMIUM} is missing in CI: install it with apt-get")
        pytest.skip(f"{serve.CHROMIUM} not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        yield pw
