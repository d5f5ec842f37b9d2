"""Course servers in class mode for the browser tests: secrets, a server, signing in.

The identity provider is ``oidc-provider-mock`` (the ``oidc_provider`` fixture in conftest.py):
its sign-in form takes any e-mail as the user (``sub``), which is what a school's provider
would vouch for.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import serve

COOKIE_SECRET = "a-test-cookie-secret-that-is-long-enough-0123456789"
ROSTER = """email,name,role
ada@school.example,Ada Lovelace,learner
grace@school.example,Grace Hopper,instructor
"""


@contextlib.contextmanager
def oidc_provider() -> Iterator[str]:
    """``oidc-provider-mock`` on a free 127.0.0.1 port; yields its URL."""
    port = serve.free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "oidc_provider_mock", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        serve.wait_listening(port, 60, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def class_server(
    folder: Path, database: str, provider: str, log: Path | None = None
) -> Iterator[str]:
    """``streamlit run`` in class mode over ``database``, signing in at ``provider``; yields
    the app's URL."""
    port = serve.free_port()
    folder.mkdir(parents=True, exist_ok=True)
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{COOKIE_SECRET}"\n'
        'client_id = "keras-cnn-course"\n'
        'client_secret = "not-a-real-secret"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8",
    )
    with serve.streamlit_server(
        folder / "home",
        log=log,
        port=port,
        args=("--secrets.files", str(secrets)),
        env={"KERAS_CNN_DATABASE_URL": database, "KERAS_CNN_CLASS": "1"},
    ) as (url, _):
        yield url


def sign_in(page, url: str, email: str) -> None:
    """Open the course, press Sign in, sign in at the provider as ``email``, come back."""
    page.goto(url)
    serve.settle(page, 90_000)
    page.get_by_role("button", name="Sign in").click()
    page.locator('input[name="sub"]').fill(email)  # the provider's sign-in form
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{url}**", timeout=60_000)
    serve.settle(page, 90_000)
