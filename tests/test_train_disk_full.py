"""A full disk while training: one clear line, no temporary checkpoint left behind, and what
was saved before stays usable (issue 19, item 6). The disk fills after epoch 1 (simulated:
every later write fails with ENOSPC after writing part of its file, as a 2 MB tmpfs does)."""

import errno
import json
import os
from pathlib import Path

import keras
import pytest

from keras_cnn.train import StorageError, train
from keras_cnn.training import runs as runs_lib

TINY = dict(limit=64, batch_size=32, seed=0, verbose=0)
ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class _FillDisk(keras.callbacks.Callback):
    def __init__(self, disk):
        super().__init__()
        self.disk = disk

    def on_epoch_begin(self, epoch, logs=None):
        self.disk["full"] = epoch >= 1


@pytest.fixture
def disk(monkeypatch):
    disk = {"full": False}
    save, write = keras.Model.save, runs_lib.atomic_write_text

    def model_save(self, path, *args, **kwargs):
        if disk["full"]:
            Path(path).write_bytes(b"PK\x03\x04" + bytes(4096))  # the part that fitted
            raise ENOSPC
        return save(self, path, *args, **kwargs)

    def atomic_write_text(path, text):
        if disk["full"]:
            raise ENOSPC
        return write(path, text)

    monkeypatch.setattr(keras.Model, "save", model_save)
    monkeypatch.setattr(runs_lib, "atomic_write_text", atomic_write_text)
    return disk


def test_a_full_disk_stops_training_with_one_line_and_no_temporary_file(tmp_path, disk):
    ckpt = tmp_path / "ckpt"
    with pytest.raises(StorageError) as info:
        train("lenet5", epochs=2, checkpoint_dir=ckpt, callbacks=[_FillDisk(disk)], **TINY)
    error = info.value
    assert str(error) == (
        f"Training stopped: No space left on device while writing the checkpoint of epoch 2 "
        f"in {ckpt}. The checkpoint of epoch 1 is intact. Free some space or choose another "
        "directory, then run again."
    )
    assert error.errno == errno.ENOSPC and "\n" not in str(error)
    assert error.__cause__ is None and error.__suppress_context__  # no chain of tracebacks
    assert sorted(p.name for p in ckpt.iterdir()) == ["ckpt-0001.keras", "history.csv", "meta.json"]
    assert json.loads((ckpt / "meta.json").read_text())["epoch"] == 1
    # With space again, the run resumes from the intact checkpoint.
    disk["full"] = False
    resumed = train("lenet5", epochs=2, checkpoint_dir=ckpt, **TINY)
    assert resumed.epoch.tolist() == [1, 2]


def test_the_command_line_reports_a_full_disk_in_one_line(tmp_path, disk, capsys, monkeypatch):
    from keras_cnn.__main__ import main
    from keras_cnn.training import trainer

    fill = _FillDisk(disk)
    run = trainer.train
    monkeypatch.setattr(trainer, "train", lambda *a, **k: run(*a, callbacks=[fill], **k))
    args = ["train", "lenet5", "--epochs", "2", "--limit", "64", "--batch-size", "32"]
    code = main([*args, "--verbose", "0", "--seed", "0"])  # no checkpoint: the stored run
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(lines) == 1, lines
    assert lines[0].startswith("error: Training stopped: No space left on device while writing ")
    assert "epoch 2 of the stored run" in lines[0] and "Its epochs up to 1 are stored." in lines[0]
    (run_dir,) = runs_lib.runs_dir().iterdir()
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".")]  # no temporaries
