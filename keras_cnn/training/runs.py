"""Stored training runs: ``$KERAS_CNN_HOME/runs/<timestamp>-<model>/{history.csv, meta.json}``.

``keras_cnn.train`` writes a run after every epoch (atomically: write to a temporary file,
then ``os.replace``), so a reload of the app, or a killed process, loses at most the epoch in
progress. When the run ends (finished or stopped) it keeps the trained model as
``model.keras`` and names it in ``meta.json`` (``"model_file"``). ``list_runs()``,
``load_run()`` and ``load_model()`` read them back. A write that fails (a full disk) while
training raises :class:`StorageError`: one line saying what was kept (:func:`writing`).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from keras_cnn.paths import runs_dir

META = "meta.json"
HISTORY = "history.csv"
MODEL = "model.keras"
#: Column names of earlier versions -> today's (the ``val_*`` columns were the test split).
RENAMED = {"val_loss": "test_loss", "val_accuracy": "test_accuracy"}


def _process_start(pid: int) -> str | None:
    """The start time of a process (clock ticks since boot; Linux), or None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _alive(pid: int, started: str | None) -> bool:
    """Whether the process ``pid`` that started at ``started`` still runs (this host)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process of that id
        pass
    now = _process_start(pid)
    return started is None or now is None or now == started


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half.

    Args:
        path: destination.
        text: content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StorageError(OSError):
    """Training could not write its checkpoint or stored run (e.g. the disk is full).

    ``str(error)`` is one line: what was being written where, why, and what was kept.
    ``errno`` is the operating system's (28, ``ENOSPC``, for a full disk).
    """


@contextlib.contextmanager
def writing(what: str, where: Path | str, kept: str):
    """Turn an ``OSError`` while writing ``what`` under ``where`` into a :class:`StorageError`.

    Args:
        what: str. What is being written, e.g. "the checkpoint of epoch 2".
        where: the directory it goes to.
        kept: str. What stays intact, said in the message.
    """
    try:
        yield
    except StorageError:
        raise
    except OSError as error:
        reason = error.strerror or str(error)
        storage = StorageError(
            f"Training stopped: {reason} while writing {what} in {where}. {kept} Free some "
            "space or choose another directory, then run again."
        )
        storage.errno = error.errno
        raise storage from None


def new_run(model: str, meta: dict[str, Any]) -> Path:
    """Create a run directory ``runs/<UTC timestamp>-<model>`` with ``meta.json``.

    Args:
        model: str. The model's name (part of the directory name).
        meta: JSON-serialisable settings of the run.

    Returns:
        The run directory.
    """
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S-%f")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model) or "model"
    path = runs_dir() / f"{stamp}-{safe}"
    path.mkdir(parents=True, exist_ok=False)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    process = {"pid": os.getpid(), "host": socket.gethostname()}
    process["process_start"] = _process_start(os.getpid())
    full = {
        "id": path.name,
        "model": model,
        "status": "running",
        "started": started,
        **process,
        **meta,
    }
    atomic_write_text(path / META, json.dumps(full, indent=1, default=str))
    return path


def update_run(path: Path, history: pd.DataFrame | None = None, **meta: Any) -> None:
    """Rewrite a run's history and merge ``meta`` into its ``meta.json``.

    Args:
        path: the run directory.
        history: the epochs so far, or None to keep the stored ones.
        **meta: fields to set (e.g. ``status="finished"``).
    """
    path = Path(path)
    if history is not None:
        atomic_write_text(path / HISTORY, history.to_csv(index=False))
    if meta:
        current = json.loads((path / META).read_text(encoding="utf-8"))
        current.update(meta)
        atomic_write_text(path / META, json.dumps(current, indent=1, default=str))


def save_model(path: Path, model: Any) -> Path:
    """Keep a run's trained model as ``model.keras`` and name it in the run's ``meta.json``.

    The file is written under a temporary name and renamed, so a reader sees the previous
    model or the new one, never half a file.

    Args:
        path: the run directory.
        model: the ``keras.Model`` to save.

    Returns:
        The model file.
    """
    path = Path(path)
    target = path / MODEL
    fd, tmp = tempfile.mkstemp(prefix=".model.", suffix=".keras", dir=path)
    os.close(fd)
    try:
        model.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    update_run(path, model_file=MODEL)
    return target


def _run_path(run_id: str) -> Path:
    path = runs_dir() / str(run_id)
    # a run id is one directory name under runs/: "..", "/etc" or "a/b" never name a run
    plain = (
        isinstance(run_id, str) and run_id not in ("", ".", "..") and Path(run_id).name == run_id
    )
    if not plain or "\\" in run_id or not (path / META).is_file():
        raise ValueError(f"No stored run {run_id!r} under {runs_dir()}. Received: {run_id=}")
    return path


def model_path(run_id: str) -> Path | None:
    """The trained model file of a run, or None if the run kept none.

    Args:
        run_id: str. The directory name under ``runs/`` (``list_runs().id``).

    Returns:
        The path of the run's ``.keras`` file, or None for a failed run, one still running,
        or one stored before runs kept their model.

    Raises:
        ValueError: if there is no such run.
    """
    path = _run_path(run_id)
    meta = json.loads((path / META).read_text(encoding="utf-8"))
    name = meta.get("model_file")
    return path / name if name and (path / name).is_file() else None


def load_model(run_id: str) -> Any:
    """The trained model of a stored run, ready to predict or to look inside.

    Args:
        run_id: str. The directory name under ``runs/`` (``list_runs().id``).

    Returns:
        The ``keras.Model`` as it was at the end of the run.

    Raises:
        ValueError: if there is no such run, or the run kept no model (it failed, is still
            running, or was stored before runs kept their model).

    Example:
        >>> model = load_model(list_runs().query("model_file.notna()").id[0])  # doctest: +SKIP
    """
    found = model_path(run_id)
    if found is None:
        raise ValueError(
            f"The run {run_id!r} kept no model: it failed, is still running, or was stored "
            "before runs kept their model. Runs with a model: "
            f"{[r for r in list_runs().query('model_file.notna()').id]}. Received: {run_id=}"
        )
    import keras  # here, so that listing runs does not import Keras

    return keras.models.load_model(found)


def load_run(run_id: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """One stored run.

    Args:
        run_id: str. The directory name under ``runs/`` (``list_runs().id``).

    Returns:
        ``(history, meta)``: one row per epoch, and the run's settings and status
        (``"running"``, ``"finished"``, ``"stopped"``, ``"failed"``, or ``"interrupted"``:
        the process ended without finishing, e.g. killed).

    Raises:
        ValueError: if there is no such run.
    """
    path = _run_path(run_id)
    meta = json.loads((path / META).read_text(encoding="utf-8"))
    history = (
        pd.read_csv(path / HISTORY) if (path / HISTORY).is_file() else pd.DataFrame(columns=[])
    )
    if (
        meta.get("status") == "running"
        and meta.get("host") == socket.gethostname()
        and isinstance(meta.get("pid"), int)
        and not _alive(meta["pid"], meta.get("process_start"))
    ):
        meta["status"] = "interrupted"
    history = history.rename(columns=RENAMED)
    if len(history.columns) and "partial" not in history:  # stored before epochs were marked
        history["partial"] = False
    return history, meta


def list_runs() -> pd.DataFrame:
    """Every stored run, newest first, with its final metrics.

    Returns:
        A DataFrame with columns id, model, data, status, epochs (whole epochs: a stopped
        run's partial last epoch is not counted), accuracy and test_accuracy (of the last
        whole epoch), started and model_file (the kept ``.keras`` file, or None; see
        :func:`load_model`), empty if there are none. Unreadable runs are skipped.
    """
    columns = [
        "id",
        "model",
        "data",
        "status",
        "epochs",
        "accuracy",
        "test_accuracy",
        "started",
        "model_file",
    ]
    rows = []
    root = runs_dir()
    for path in sorted(root.iterdir() if root.is_dir() else [], reverse=True):
        try:
            history, meta = load_run(path.name)
        except (ValueError, OSError, json.JSONDecodeError, pd.errors.ParserError):
            continue
        whole = history[~history.partial.astype(bool)] if "partial" in history else history
        last = whole.iloc[-1] if len(whole) else {}
        rows.append(
            {
                "id": meta.get("id", path.name),
                "model": meta.get("model"),
                "data": meta.get("data"),
                "status": meta.get("status"),
                "epochs": len(whole),
                "accuracy": last.get("accuracy"),
                "test_accuracy": last.get("test_accuracy"),
                "started": meta.get("started"),
                "model_file": meta.get("model_file")
                if meta.get("model_file") and (path / meta["model_file"]).is_file()
                else None,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def keep_model(path: Path, model: Any) -> None:
    """Save a run's trained model (:func:`save_model`); a failure is warned of, not fatal.

    Args:
        path: the run directory.
        model: the ``keras.Model``. One Keras cannot save (a subclassed model without
            ``get_config``), or a full disk, leaves the run without its model, with the
            reason in ``meta.json`` (``model_error``) when that can still be written.
    """
    try:
        save_model(path, model)
    except Exception as error:
        with contextlib.suppress(OSError):  # a full disk: the warning says it all the same
            update_run(path, model_error=f"{type(error).__name__}: {error}")
        warnings.warn(
            f"The run in {path} is kept without its model: saving it failed "
            f"({type(error).__name__}: {error}).",
            stacklevel=3,
        )


def set_status(path: Path, status: str) -> None:
    """Record how a run ended; when that write fails as the run fails, the run's error wins.

    Raises:
        StorageError: when the status of a finished or stopped run cannot be written.
    """
    failing = status in ("failed", "interrupted")  # an exception is on its way out
    try:
        with writing("the stored run's status", path, ""):
            update_run(path, status=status)
    except StorageError:
        if not failing:
            raise
