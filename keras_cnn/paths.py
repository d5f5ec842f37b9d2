"""Where keras-cnn keeps a learner's files: ``$KERAS_CNN_HOME`` or the user data directory.

The one rule for the library's runs and the course's progress store (``quiz/store.py`` imports
it): importing this module loads no deep-learning framework.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "keras-cnn"
HOME_ENV = "KERAS_CNN_HOME"


def home_dir() -> Path:
    """The directory holding a learner's keras-cnn files.

    Returns:
        ``$KERAS_CNN_HOME`` if set, else the platform user data directory for ``keras-cnn``
        (``platformdirs``; an XDG-style fallback when it is not installed).
    """
    home = os.environ.get(HOME_ENV)
    if home:
        return Path(home).expanduser()
    try:
        import platformdirs
    except ImportError:  # pragma: no cover - platformdirs is a dependency; fall back anyway
        if sys.platform == "win32":
            base = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming"))
        elif sys.platform == "darwin":
            base = Path.home() / "Library" / "Application Support"
        else:
            base = Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share"))
        return base / APP_NAME
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def runs_dir() -> Path:
    """The directory of stored training runs: ``home_dir() / "runs"``.

    Returns:
        The path (not created).
    """
    return home_dir() / "runs"
