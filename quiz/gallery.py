"""The class gallery: learners share trained runs as model cards; classmates open, download
and rebuild them; leaderboards per dataset; the instructor hides an entry.

The database (table ``gallery``, :mod:`quiz.schema` version 5) keeps each entry's model card
and the SHA-256 of its ``.keras`` file; the file itself is copied into the class's shared
folder (``KERAS_CNN_SHARED_DIR``, a folder every replica and worker sees). A file whose
checksum no longer matches is refused (:func:`verified_file`); the app loads what passes in
Keras safe mode only. Who may do what is checked here, not in the page: a learner shares only
a run whose ``meta.json`` names them (``tags={"learner": ...}`` when training in class mode),
hidden entries are seen by instructors only, and an entry holds no quiz answers. Imports no
framework (a run's ``meta.json`` and ``history.csv`` are read as JSON and CSV).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from quiz.schema import gallery as table
from quiz.store import ProgressStore

SHARED_DIR_ENV = "KERAS_CNN_SHARED_DIR"
#: A note is at most this long (characters).
MAX_NOTE = 500
#: The digits leaderboard's bar: the fewest parameters among entries at least this accurate.
DIGITS_BAR = 0.95
#: The history columns an entry keeps as its curves.
CURVES = ("epoch", "loss", "accuracy", "test_loss", "test_accuracy")


class GalleryError(ValueError):
    """A share, a read or a hide that is refused: one line says why."""


@dataclass(frozen=True)
class Entry:
    """One shared run's model card.

    Attributes:
        id: The entry's number. learner: who shared it. run_id: the run it came from.
        note: the learner's note. model, data: the model's name and its dataset.
        card: options (``builder``, ``args``, ``lab``: the model-lab address), ``params``,
            ``macs`` (multiply-adds), ``curves`` (one dict per epoch).
        params: parameters. epochs: whole epochs trained. test_accuracy: of the last one.
        file: the ``.keras`` file's name in the shared folder. sha256: its checksum.
        shared: when (UTC, ISO 8601). hidden: hidden by an instructor.
    """

    id: int
    learner: str
    run_id: str
    note: str
    model: str
    data: str
    card: dict[str, Any]
    params: int | None
    epochs: int
    test_accuracy: float | None
    file: str
    sha256: str
    shared: str
    hidden: bool


def shared_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The class's shared folder (``$KERAS_CNN_SHARED_DIR``), created if missing.

    Raises:
        GalleryError: If the variable is not set.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(SHARED_DIR_ENV, "").strip()
    if not value:
        raise GalleryError(
            f"The class gallery needs a folder every replica sees: set {SHARED_DIR_ENV} "
            f"(e.g. {SHARED_DIR_ENV}=/srv/course/shared). Received: {SHARED_DIR_ENV}={value!r}"
        )
    path = Path(value) / "gallery"
    path.mkdir(parents=True, exist_ok=True)
    return path


def sha256(path: Path) -> str:
    """The SHA-256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def read_run(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A stored run's ``meta.json`` and its whole epochs (``history.csv``; a stopped run's
    partial last epoch is left out), without pandas.

    Raises:
        GalleryError: If the folder holds no readable run.
    """
    run_dir = Path(run_dir)
    try:
        meta = json.loads((run_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise GalleryError(f"{run_dir} is not a stored run ({exc}).") from exc
    rows = []
    if (run_dir / "history.csv").is_file():
        with open(run_dir / "history.csv", newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                if str(row.get("partial", "False")).lower() == "true":
                    continue
                rows.append({k: _number(row.get(k)) for k in CURVES if k in row})
    return meta, rows


def share(
    store: ProgressStore,
    learner: str,
    run_dir: Path,
    card: Mapping[str, Any],
    note: str = "",
    folder: Path | None = None,
    notebook: bytes | None = None,
) -> Entry:
    """Share one of ``learner``'s runs: copy its model file to the shared folder, keep its card.

    The data, epochs, final test accuracy and curves come from the run itself; ``card`` adds
    what needs Keras to know (``params``, ``macs``, ``builder``, ``args``, ``lab``).

    Args:
        store: The class database.
        learner: The signed-in learner (their roster e-mail).
        run_dir: The run's folder (``$KERAS_CNN_HOME/runs/<id>``).
        card: The model card's fields computed by the app.
        note: The learner's note (at most :data:`MAX_NOTE` characters).
        folder: The shared folder; defaults to :func:`shared_dir`.
        notebook: The run as a notebook (``keras_cnn.run_notebook``), kept beside the model
            (it needs the run's folder, which only the sharer's machine has).

    Returns:
        The new entry (sharing the same run again replaces its note and file).

    Raises:
        GalleryError: If the run is not the learner's, kept no model, did not finish a whole
            epoch, or the note is too long.
    """
    run_dir = Path(run_dir)
    meta, rows = read_run(run_dir)
    owner = meta.get("learner")
    if owner != learner:
        raise GalleryError(
            f"Run {run_dir.name!r} is not yours to share: it was trained by "
            f"{'someone else' if owner else 'no signed-in learner'}. Share a run you trained "
            f"while signed in. Received: learner={learner!r}"
        )
    model_file = meta.get("model_file")
    if not model_file or not (run_dir / model_file).is_file():
        raise GalleryError(
            f"Run {run_dir.name!r} kept no model (it failed or is still running): share a "
            "finished or stopped run."
        )
    if not rows:
        raise GalleryError(f"Run {run_dir.name!r} has no whole epoch yet: nothing to compare.")
    note = str(note).strip()
    if len(note) > MAX_NOTE:
        raise GalleryError(
            f"The note is {len(note)} characters; at most {MAX_NOTE}. Received: {note[:40]!r}..."
        )
    folder = shared_dir() if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digest = sha256(run_dir / model_file)
    name = _keep(folder, digest, ".keras", lambda tmp: shutil.copyfile(run_dir / model_file, tmp))
    kept_notebook = None
    if notebook is not None:
        nb_digest = hashlib.sha256(notebook).hexdigest()
        nb_name = _keep(folder, nb_digest, ".ipynb", lambda tmp: Path(tmp).write_bytes(notebook))
        kept_notebook = {"file": nb_name, "sha256": nb_digest}
    last = rows[-1]
    full_card = {
        "builder": card.get("builder"),
        "args": dict(card.get("args") or {}),
        "lab": dict(card.get("lab") or {}),
        "params": card.get("params"),
        "macs": card.get("macs"),
        "input_shape": card.get("input_shape"),
        "settings": {
            k: meta[k] for k in ("batch_size", "learning_rate", "optimizer", "seed") if k in meta
        },
        "curves": rows,
        "notebook": kept_notebook,
    }
    values = {
        "note": note,
        "model": str(meta.get("model", "")),
        "data": str(meta.get("data", "")),
        "card": json.dumps(full_card, default=str),
        "params": int(card["params"]) if card.get("params") is not None else None,
        "epochs": len(rows),
        "test_accuracy": last.get("test_accuracy"),
        "file": name,
        "sha256": digest,
        "shared": datetime.now(UTC).isoformat(timespec="seconds"),
        "hidden": 0,
    }
    with store.db.write() as conn:
        found = conn.execute(
            select(table.c.id).where(table.c.learner == learner, table.c.run_id == run_dir.name)
        ).scalar()
        if found is None:
            conn.execute(table.insert().values(learner=learner, run_id=run_dir.name, **values))
        else:
            conn.execute(update(table).where(table.c.id == found).values(**values))
    return next(e for e in entries(store, learner) if e.run_id == run_dir.name)


def _keep(folder: Path, digest: str, suffix: str, fill) -> str:
    """Write a file into the shared folder under its checksum (atomically: a reader on another
    machine sees the whole file or none); one already there is kept. Returns its name."""
    name = f"{digest}{suffix}"  # content-addressed: two shares of one file are one file
    if not (folder / name).is_file():
        fd, tmp = tempfile.mkstemp(prefix=".share.", suffix=suffix, dir=folder)
        os.close(fd)
        try:
            fill(tmp)
            os.replace(tmp, folder / name)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return name


def _entry(row: Any) -> Entry:
    return Entry(
        id=row.id,
        learner=row.learner,
        run_id=row.run_id,
        note=row.note,
        model=row.model,
        data=row.data,
        card=json.loads(row.card),
        params=row.params,
        epochs=row.epochs,
        test_accuracy=row.test_accuracy,
        file=row.file,
        sha256=row.sha256,
        shared=row.shared,
        hidden=bool(row.hidden),
    )


def entries(store: ProgressStore, viewer: str, instructor: bool = False) -> list[Entry]:
    """The gallery as ``viewer`` sees it, newest first: hidden entries only for instructors."""
    query = select(table).order_by(table.c.shared.desc(), table.c.id.desc())
    if not instructor:
        query = query.where(table.c.hidden == 0)
    with store.db.read() as conn:
        return [_entry(row) for row in conn.execute(query)]


def entry(store: ProgressStore, entry_id: Any, viewer: str, instructor: bool = False) -> Entry:
    """One entry by its number, as ``viewer`` may see it.

    Raises:
        GalleryError: If there is no such entry, it is hidden from the viewer, or the id is
            not a number (an address value).
    """
    try:
        number = int(str(entry_id))
    except ValueError:
        number = None
    found = [e for e in entries(store, viewer, instructor) if e.id == number]
    if not found:
        shown = str(entry_id)[:40]
        raise GalleryError(f"No gallery entry {shown!r} you can see. Received: entry={shown!r}")
    return found[0]


def hide(store: ProgressStore, entry_id: int, instructor: bool, hidden: bool = True) -> None:
    """Hide (or show again) an entry: instructors only.

    Raises:
        GalleryError: If the caller is not an instructor, or there is no such entry.
    """
    if not instructor:
        raise GalleryError("Only the class's instructors can hide a gallery entry.")
    with store.db.write() as conn:
        changed = conn.execute(
            update(table).where(table.c.id == int(entry_id)).values(hidden=int(hidden))
        ).rowcount
    if not changed:
        raise GalleryError(f"No gallery entry {entry_id!r}. Received: entry={entry_id!r}")


def verified_file(item: Entry, folder: Path | None = None, kind: str = "model") -> Path:
    """The entry's ``.keras`` file (``kind="notebook"``: its notebook) in the shared folder,
    after checking its SHA-256.

    Raises:
        GalleryError: If the file is missing or its checksum differs from the one stored when
            it was shared (a changed or tampered file is never handed to Keras).
    """
    folder = shared_dir() if folder is None else Path(folder)
    if kind == "model":
        name, expected = item.file, item.sha256
    elif kind == "notebook" and item.card.get("notebook"):
        name, expected = item.card["notebook"]["file"], item.card["notebook"]["sha256"]
    else:
        raise GalleryError(f"Entry {item.id} has no {kind} (model, notebook). Received: {kind=}")
    path = folder / Path(name).name
    if not path.is_file():
        raise GalleryError(
            f"Entry {item.id}'s model file {path} is missing from the shared folder."
        )
    found = sha256(path)
    if found != expected:
        raise GalleryError(
            f"Entry {item.id}'s model file {path} was changed after it was shared (SHA-256 "
            f"{found[:12]}..., shared as {expected[:12]}...): refused."
        )
    return path


@dataclass(frozen=True)
class Board:
    """One leaderboard: a title, its dataset, its entries in rank order, and the line shown
    while nobody ranks (``empty``)."""

    title: str
    data: str
    ranked: tuple[Entry, ...]
    empty: str = ""


def _best_per_learner(items: Iterable[Entry], key) -> list[Entry]:
    """Each learner's best entry by ``key`` (lower is better), ranked, ties by share time."""
    best: dict[str, Entry] = {}
    for item in items:
        if item.learner not in best or key(item) < key(best[item.learner]):
            best[item.learner] = item
    return sorted(best.values(), key=lambda e: (key(e), e.shared))


def leaderboards(items: Iterable[Entry]) -> list[Board]:
    """Per dataset: "best test accuracy" (each learner's best entry), and for the digits also
    "fewest parameters at >= 95%". Hidden entries never rank."""
    shown = [e for e in items if not e.hidden and e.test_accuracy is not None]
    boards = []
    for data in sorted({e.data for e in shown}):
        here = [e for e in shown if e.data == data]
        boards.append(
            Board(
                f"Best test accuracy on {data}",
                data,
                tuple(_best_per_learner(here, lambda e: -e.test_accuracy)),
            )
        )
        if data == "digits":
            bar = [e for e in here if e.test_accuracy >= DIGITS_BAR and e.params is not None]
            boards.append(
                Board(
                    f"Fewest parameters at >= {DIGITS_BAR:.0%} on the digits",
                    data,
                    tuple(_best_per_learner(bar, lambda e: (e.params, -e.test_accuracy))),
                    f"No entry reaches {DIGITS_BAR:.0%} on the digits yet: the first to get "
                    "there leads this board.",
                )
            )
    return boards
