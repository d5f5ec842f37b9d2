"""Where the course keeps progress and whether it serves a class: the environment, then
``secrets.toml``.

Single-user (the default, nothing to set): progress in a SQLite file beside one server, no
sign-in. A class sets, in ``.streamlit/secrets.toml`` (or the environment)::

    [keras_cnn]
    database_url = "postgresql://course:PASSWORD@db.school.example/course"
    class_mode = true

    [auth]                       # Streamlit's st.login (OpenID Connect)
    redirect_uri = "https://course.school.example/oauth2callback"
    cookie_secret = "a long random string"
    client_id = "..."
    client_secret = "..."
    server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"

``KERAS_CNN_DATABASE_URL`` and ``KERAS_CNN_CLASS=1`` override the file. The files read are
Streamlit's own (``~/.streamlit/secrets.toml``, then ``.streamlit/secrets.toml`` in the working
folder, the later winning); the app passes ``st.secrets`` instead, so that a server started with
``--secrets.files`` is configured by those. Imports no framework.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATABASE_URL_ENV = "KERAS_CNN_DATABASE_URL"
CLASS_MODE_ENV = "KERAS_CNN_CLASS"
SECTION = "keras_cnn"
MIN_COOKIE_SECRET = 32
"""Characters a class's cookie secret needs at least (it signs every learner's sign-in)."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def secrets_files() -> list[Path]:
    """Streamlit's default secrets files, in the order it reads them (later ones win)."""
    return [Path.home() / ".streamlit" / "secrets.toml", Path.cwd() / ".streamlit" / "secrets.toml"]


def read_secrets(files: list[Path] | None = None) -> dict[str, Any]:
    """The merged contents of the secrets files that exist (tables merged one level deep).

    Raises:
        ValueError: If a file is not valid TOML (naming the file).
    """
    merged: dict[str, Any] = {}
    for path in secrets_files() if files is None else files:
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"{path}: not valid TOML: {exc}") from exc
        for key, value in data.items():
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return merged


def _section(secrets: Mapping[str, Any]) -> Mapping[str, Any]:
    section = secrets.get(SECTION, {})
    return section if isinstance(section, Mapping) else {}


def database_url(
    secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> str | None:
    """The class database's URL: ``$KERAS_CNN_DATABASE_URL``, else ``[keras_cnn] database_url``.

    Args:
        secrets: The secrets (``st.secrets``); defaults to :func:`read_secrets`.
        environ: Defaults to ``os.environ``.

    Returns:
        The URL, or ``None`` for the single-user SQLite file.
    """
    environ = os.environ if environ is None else environ
    if environ.get(DATABASE_URL_ENV, "").strip():
        return environ[DATABASE_URL_ENV].strip()
    url = _section(read_secrets() if secrets is None else secrets).get("database_url")
    return str(url).strip() or None if url else None


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ValueError(f"{name} must be true or false. Received: {name}={value!r}")


@dataclass(frozen=True)
class ClassSettings:
    """How the course is served.

    Attributes:
        class_mode: Sign-in with ``st.login``, a roster, an instructor's view.
        database_url: The shared database (``None``: the local SQLite file).
        cookie_secret: ``[auth] cookie_secret`` (Streamlit signs its sign-in cookie with it).
        auth_configured: Whether ``[auth]`` names an identity provider.
    """

    class_mode: bool = False
    database_url: str | None = None
    cookie_secret: str = ""
    auth_configured: bool = False

    def problems(self) -> list[str]:
        """Why class mode cannot start (empty when it can, or when not in class mode).

        The roster is checked by the app against the database (see :mod:`quiz.roster`).
        """
        if not self.class_mode:
            return []
        found = []
        if len(self.cookie_secret) < MIN_COOKIE_SECRET:
            found.append(
                f"[auth] cookie_secret in secrets.toml must be a random string of at least "
                f"{MIN_COOKIE_SECRET} characters (it signs every sign-in cookie; make one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`). Received: "
                f"{len(self.cookie_secret)} characters"
            )
        if not self.auth_configured:
            found.append(
                "[auth] in secrets.toml names no identity provider: set client_id, "
                "client_secret, server_metadata_url and redirect_uri (see docs/class.md)"
            )
        return found


def load(
    secrets: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> ClassSettings:
    """The settings from the environment and the secrets.

    Args:
        secrets: The secrets (``st.secrets``); defaults to :func:`read_secrets`.
        environ: Defaults to ``os.environ``.

    Raises:
        ValueError: If ``class_mode`` / ``KERAS_CNN_CLASS`` is not a boolean.
    """
    environ = os.environ if environ is None else environ
    secrets = read_secrets() if secrets is None else secrets
    section = _section(secrets)
    if environ.get(CLASS_MODE_ENV, "").strip():
        class_mode = _flag(environ[CLASS_MODE_ENV], CLASS_MODE_ENV)
    else:
        class_mode = _flag(section.get("class_mode", False), "class_mode")
    auth = secrets.get("auth", {})
    auth = auth if isinstance(auth, Mapping) else {}
    providers = [auth] + [v for v in auth.values() if isinstance(v, Mapping)]
    configured = any(
        p.get("client_id") and p.get("server_metadata_url") for p in providers
    ) and bool(auth.get("redirect_uri"))
    return ClassSettings(
        class_mode=class_mode,
        database_url=database_url(secrets, environ),
        cookie_secret=str(auth.get("cookie_secret", "") or ""),
        auth_configured=configured,
    )
