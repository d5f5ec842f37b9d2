"""Checkpoints of :func:`keras_cnn.train.train`: save every epoch, resume, refuse a mismatch.

With ``checkpoint_dir``, after every epoch ``ckpt-<epoch>.keras`` (model and optimizer),
then ``meta.json`` (the history, the settings and a fingerprint of the model) and
``history.csv``, each written to a temporary file and renamed. A rerun resumes after the
last saved epoch; another model, other settings or a corrupt file raise
:class:`CheckpointError`, which names what is wrong and how to start over.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras
import pandas as pd

from keras_cnn.training import runs as runs_lib
from keras_cnn.training.callbacks import COLUMNS
from keras_cnn.training.runs import StorageError, writing  # noqa: F401 (their home: runs)

#: Names of earlier versions' columns (``val_*`` were always the test split).
RENAMED = {"val_loss": "test_loss", "val_accuracy": "test_accuracy"}


class CheckpointError(ValueError):
    """A checkpoint directory holds another run, other settings, or an unreadable file.

    ``str(error)`` advises Python users (``resume=False``, ``checkpoint_dir``); ``cli`` holds
    the same message for the command line (``--no-resume``, ``--checkpoint-dir``).
    """

    def __init__(self, text: str):
        api = text.replace("{resume}", "resume=False").replace("{dir}", "checkpoint_dir")
        super().__init__(api)
        self.cli = text.replace("{resume}", "--no-resume").replace("{dir}", "--checkpoint-dir")


def model_fingerprint(model: keras.Model) -> str:
    """A short hash of a model's structure: layer types, output shapes and parameter counts.

    Layer and model names are left out, so the same architecture built twice matches.

    Args:
        model: a built ``keras.Model``.

    Returns:
        16 hex digits.
    """
    parts = [(type(layer).__name__, layer.count_params()) for layer in model.layers]
    shapes = [str(tuple(model.input_shape)), str(tuple(model.output_shape))]
    text = json.dumps([parts, shapes])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Checkpoint:
    """The files of one checkpoint directory (see the module docstring)."""

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self.meta = self.dir / "meta.json"

    def read(self, fingerprint: str, settings: dict) -> dict | None:
        if not self.meta.exists():
            return None
        try:
            meta = json.loads(self.meta.read_text(encoding="utf-8"))
            epoch, history, path = int(meta["epoch"]), meta["history"], meta["checkpoint"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CheckpointError(
                f"The checkpoint in {self.dir} is unreadable ({self.meta.name}: {error}). "
                "Delete the directory, choose another {dir}, or pass {resume} to start over."
            ) from error
        if meta.get("fingerprint") != fingerprint:
            raise CheckpointError(
                f"The checkpoint in {self.dir} belongs to another model "
                f"({meta.get('model')!r}, fingerprint {meta.get('fingerprint')}; this model: "
                f"{fingerprint}). Choose another {{dir}}, or pass {{resume}} to overwrite it."
            )
        stored = meta.get("settings", {})
        changed = {k: (stored.get(k), v) for k, v in settings.items() if stored.get(k) != v}
        if changed:
            detail = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise CheckpointError(
                f"The checkpoint in {self.dir} was made with other settings ({detail}). "
                "Use the same settings to resume, another {dir}, or pass {resume} to overwrite it."
            )
        model_path = self.dir / path
        if not model_path.is_file():
            raise CheckpointError(
                f"The checkpoint in {self.dir} names {path}, which is missing. Delete the "
                "directory or pass {resume} to start over."
            )
        history = [
            {"partial": False, **{RENAMED.get(k, k): v for k, v in row.items()}} for row in history
        ]
        return {"epoch": epoch, "history": history, "model_path": model_path}

    def load_into(self, model: keras.Model, model_path: Path) -> None:
        """Copy the weights and optimizer state of a saved model into ``model``."""
        if not zipfile.is_zipfile(model_path):
            size = model_path.stat().st_size
            raise CheckpointError(
                f"The checkpoint file {model_path} exists but is not a .keras archive "
                f"({size:,} bytes, not a zip file: truncated or overwritten). Delete "
                f"{self.dir}, or pass {{resume}} to start over."
            )
        try:
            saved = keras.models.load_model(model_path, compile=True)
        except Exception as error:
            raise CheckpointError(
                f"The checkpoint file {model_path} is a .keras archive that cannot be loaded "
                f"({type(error).__name__}: {error}). Delete {self.dir}, or pass {{resume}} to "
                "start over."
            ) from error
        model.set_weights(saved.get_weights())
        model.optimizer.build(model.trainable_variables)
        theirs = saved.optimizer.variables if saved.optimizer is not None else []
        ours = model.optimizer.variables
        if len(theirs) != len(ours) or any(
            tuple(a.shape) != tuple(b.shape) for a, b in zip(ours, theirs, strict=False)
        ):
            raise CheckpointError(
                f"The optimizer state in {model_path} does not match this run's optimizer. "
                "Use the same optimizer to resume, or pass {resume} to start over."
            )
        for ours_var, theirs_var in zip(ours, theirs, strict=True):
            ours_var.assign(theirs_var.value)

    @staticmethod
    def take_part(model: keras.Model) -> None:
        """A non-chief's share of the chief's save across JAX processes (then discarded).

        Reading weights spread over several JAX processes is a collective operation: every
        process must do it, or the chief waits for ever. Only the chief keeps the file.
        """
        with tempfile.TemporaryDirectory(prefix="keras-cnn-") as scratch:
            model.save(Path(scratch) / "discarded.keras")

    def save(self, model: keras.Model, rows: list[dict], meta: dict) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        epoch = len(rows)
        name = f"ckpt-{epoch:04d}.keras"
        tmp = self.dir / f".tmp-{name}"
        try:
            model.save(tmp)
            os.replace(tmp, self.dir / name)
        except BaseException:  # a full disk, an interrupt: leave no half-written file behind
            tmp.unlink(missing_ok=True)
            raise
        full = {**meta, "epoch": epoch, "checkpoint": name, "history": rows}
        runs_lib.atomic_write_text(self.meta, json.dumps(full, indent=1))
        runs_lib.atomic_write_text(
            self.dir / "history.csv", pd.DataFrame(rows, columns=COLUMNS).to_csv(index=False)
        )
        for old in self.dir.glob("ckpt-*.keras"):
            if old.name != name:
                old.unlink(missing_ok=True)
