"""Run the course in a real browser: start ``streamlit run`` on a free port and drive Debian's
Chromium with Playwright. Shared by ``tests/test_browser.py``, ``benchmarks/app_latency.py``
and ``docs/screenshots.py``. Imports neither Streamlit nor TensorFlow.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> float:
    """Wait until something accepts connections on the port; returns that moment."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return time.monotonic()
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


@contextlib.contextmanager
def streamlit_server(
    home: str | Path, log: str | Path | None = None
) -> Iterator[tuple[str, float]]:
    """Start ``streamlit run streamlit_app.py`` with its own KERAS_CNN_HOME.

    Yields:
        ``(url, listening_at)``: the app's URL and the ``time.monotonic()`` it began listening.
    """
    port = free_port()
    env = {**os.environ, "KERAS_CNN_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.setdefault("KERAS_BACKEND", "tensorflow")
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "streamlit_app.py"),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]  # the address (127.0.0.1) and the file watcher (none) come from .streamlit/config.toml
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        listening = wait_listening(port, 90, proc)
        yield f"http://127.0.0.1:{port}/", listening
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log:
            out.close()


def launch(playwright):
    """Debian's Chromium, headless (``playwright install`` is not needed)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def settle(page, timeout: float = 60_000) -> None:
    """Wait until the script run has finished (the "running" status widget is gone)."""
    page.wait_for_timeout(100)
    page.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && !document.querySelector('[data-testid=\"stSpinner\"]'); }",
        timeout=timeout,
    )
