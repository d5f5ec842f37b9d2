"""Shared test setup: quiet TensorFlow, a private KERAS_CNN_HOME, small helpers."""

import os
import subprocess
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from postgres import PostgresServer  # noqa: E402


@pytest.fixture(autouse=True)
def _private_home(tmp_path, monkeypatch):
    """Every test gets its own KERAS_CNN_HOME so no test touches a learner's data."""
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "keras_cnn_home"))
    # nor a class database or class mode from the developer's environment
    monkeypatch.delenv("KERAS_CNN_DATABASE_URL", raising=False)
    monkeypatch.delenv("KERAS_CNN_CLASS", raising=False)


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of this test session (one per xdist worker), on a free 127.0.0.1
    port in a temporary folder, stopped and removed afterwards. Where none can start: skipped
    with a warning, and a failure in CI (``CI`` set), where ``.ci/run`` installs PostgreSQL."""
    server = PostgresServer()
    try:
        server.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        server.remove()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL could not start in CI: {exc}")
        warnings.warn(f"PostgreSQL tests skipped: {exc}", pytest.PytestWarning, stacklevel=1)
        pytest.skip(f"PostgreSQL could not start: {exc}")
    yield server
    server.remove()


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def playwright():
    """Playwright for the browser tests: Debian's Chromium, skipped locally without it and a
    failure in CI (``CI`` set), where ``.ci/run`` installs it."""
    import serve

    if not Path(serve.CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{serve.CHROMIUM} is missing in CI: install it with apt-get")
        pytest.skip(f"{serve.CHROMIUM} not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        yield pw


@pytest.fixture
def oidc_provider():
    """A real OpenID Connect provider (``oidc-provider-mock``) on a free 127.0.0.1 port."""
    pytest.importorskip("oidc_provider_mock")
    from class_servers import oidc_provider as start

    with start() as url:
        yield url
