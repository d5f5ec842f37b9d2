"""The class gallery's records on both databases: share (own runs only), see (hidden ones for
instructors only), hide, leaderboards, and the checksum that refuses a tampered file."""

import json
from pathlib import Path

import pytest

from quiz import gallery
from quiz.store import ProgressStore

CARD = {"builder": "build_lenet5", "args": {}, "lab": {"family": "lenet5"}, "params": 61706}


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        return ProgressStore(tmp_path / "class.db")
    return ProgressStore(request.getfixturevalue("postgres_server").schema())


def fake_run(root: Path, name: str, learner: str | None, accuracies, model_bytes=b"keras"):
    """A stored run as keras_cnn writes it (meta.json, history.csv, model.keras)."""
    path = root / "runs" / name
    path.mkdir(parents=True)
    meta = {"id": name, "model": "lenet5", "data": "digits", "status": "finished"}
    meta |= {"model_file": "model.keras", "batch_size": 32}
    if learner:
        meta["learner"] = learner
    (path / "meta.json").write_text(json.dumps(meta))
    lines = ["epoch,loss,accuracy,test_loss,test_accuracy,partial"]
    lines += [f"{i},1.0,0.5,1.0,{a},False" for i, a in enumerate(accuracies)]
    lines.append(f"{len(accuracies)},9,0,9,0.01,True")  # a stopped run's partial epoch: left out
    (path / "history.csv").write_text("\n".join(lines) + "\n")
    (path / "model.keras").write_bytes(model_bytes)
    return path


def test_share_keeps_the_card_and_a_checked_copy(store, tmp_path):
    shared = tmp_path / "shared"
    run = fake_run(tmp_path, "r1", "ada@x.org", [0.8, 0.96])
    item = gallery.share(
        store, "ada@x.org", run, CARD, "LeNet, 2 epochs", folder=shared, notebook=b"{}"
    )
    assert (item.learner, item.model, item.data, item.epochs) == (
        "ada@x.org",
        "lenet5",
        "digits",
        2,
    )
    assert item.test_accuracy == pytest.approx(0.96) and item.params == 61706
    assert [r["test_accuracy"] for r in item.card["curves"]] == [0.8, 0.96]
    assert item.card["lab"] == {"family": "lenet5"} and item.card["settings"] == {"batch_size": 32}
    path = gallery.verified_file(item, shared)
    assert path.read_bytes() == b"keras" and item.sha256 == gallery.sha256(run / "model.keras")
    assert gallery.verified_file(item, shared, "notebook").read_bytes() == b"{}"
    # a classmate sees it; sharing the same run again replaces the note, not a second entry
    assert [e.id for e in gallery.entries(store, "bob@x.org")] == [item.id]
    again = gallery.share(store, "ada@x.org", run, CARD, "better note", folder=shared)
    assert again.id == item.id and again.note == "better note"
    assert len(gallery.entries(store, "bob@x.org")) == 1
    # a changed file is refused, never handed to Keras
    path.write_bytes(b"evil")
    with pytest.raises(gallery.GalleryError, match="changed after it was shared.*refused"):
        gallery.verified_file(item, shared)
    gallery.verified_file(item, shared, "notebook").write_bytes(b'{"evil": 1}')
    with pytest.raises(gallery.GalleryError, match="changed after it was shared"):
        gallery.verified_file(item, shared, "notebook")
    path.unlink()
    with pytest.raises(gallery.GalleryError, match="missing"):
        gallery.verified_file(item, shared)


def test_a_learner_shares_only_their_own_finished_runs(store, tmp_path):
    theirs = fake_run(tmp_path, "r1", "ada@x.org", [0.9])
    with pytest.raises(gallery.GalleryError, match="not yours to share.*someone else"):
        gallery.share(store, "bob@x.org", theirs, CARD, folder=tmp_path / "s")
    nobodys = fake_run(tmp_path, "r2", None, [0.9])
    with pytest.raises(gallery.GalleryError, match="no signed-in learner"):
        gallery.share(store, "bob@x.org", nobodys, CARD, folder=tmp_path / "s")
    failed = fake_run(tmp_path, "r3", "bob@x.org", [0.9])
    (failed / "model.keras").unlink()
    with pytest.raises(gallery.GalleryError, match="kept no model"):
        gallery.share(store, "bob@x.org", failed, CARD, folder=tmp_path / "s")
    mine = fake_run(tmp_path, "r4", "bob@x.org", [0.9])
    with pytest.raises(gallery.GalleryError, match="at most 500"):
        gallery.share(store, "bob@x.org", mine, CARD, "x" * 501, folder=tmp_path / "s")
    assert gallery.entries(store, "bob@x.org") == []


def test_hidden_entries_and_addresses(store, tmp_path):
    run = fake_run(tmp_path, "r1", "ada@x.org", [0.9])
    item = gallery.share(store, "ada@x.org", run, CARD, folder=tmp_path / "s")
    with pytest.raises(gallery.GalleryError, match="Only the class's instructors"):
        gallery.hide(store, item.id, instructor=False)
    gallery.hide(store, item.id, instructor=True)
    assert gallery.entries(store, "bob@x.org") == []
    for wanted in (item.id, str(item.id), "1 OR 1=1", "../../x", "9" * 30):
        with pytest.raises(gallery.GalleryError, match="No gallery entry"):
            gallery.entry(store, wanted, "bob@x.org")
    assert gallery.entry(store, str(item.id), "teacher@x.org", instructor=True).hidden
    with pytest.raises(gallery.GalleryError, match="No gallery entry 999"):
        gallery.hide(store, 999, instructor=True)
    gallery.hide(store, item.id, instructor=True, hidden=False)
    assert gallery.entry(store, item.id, "bob@x.org").id == item.id


def test_leaderboards(store, tmp_path):
    folder = tmp_path / "s"
    shares = [  # learner, run, accuracies, params, bytes
        ("ada@x.org", "a1", [0.97], 60000, b"a1"),
        ("ada@x.org", "a2", [0.99], 90000, b"a2"),  # ada's best accuracy
        ("bob@x.org", "b1", [0.96], 20000, b"b1"),  # fewest parameters at >= 95%
        ("cy@x.org", "c1", [0.90], 1000, b"c1"),  # tiny but under the bar
        ("dee@x.org", "d1", [0.98], 50000, b"d1"),  # hidden: never ranks
    ]
    for learner, name, acc, params, data in shares:
        run = fake_run(tmp_path, name, learner, acc, data)
        item = gallery.share(store, learner, run, {**CARD, "params": params}, folder=folder)
        if learner == "dee@x.org":
            gallery.hide(store, item.id, instructor=True)
    cifar = fake_run(tmp_path, "e1", "eve@x.org", [0.7], b"e1")
    meta = json.loads((cifar / "meta.json").read_text())
    (cifar / "meta.json").write_text(json.dumps(meta | {"data": "cifar10"}))
    gallery.share(store, "eve@x.org", cifar, CARD, folder=folder)
    boards = gallery.leaderboards(gallery.entries(store, "t", instructor=True))
    ranked = {b.title: [(e.learner, e.run_id) for e in b.ranked] for b in boards}
    assert ranked == {
        "Best test accuracy on cifar10": [("eve@x.org", "e1")],
        "Best test accuracy on digits": [
            ("ada@x.org", "a2"),
            ("bob@x.org", "b1"),
            ("cy@x.org", "c1"),
        ],
        "Fewest parameters at >= 95% on the digits": [("bob@x.org", "b1"), ("ada@x.org", "a1")],
    }


def test_the_shared_folder_is_named_in_the_configuration(tmp_path):
    with pytest.raises(gallery.GalleryError, match="set KERAS_CNN_SHARED_DIR"):
        gallery.shared_dir({})
    assert gallery.shared_dir({"KERAS_CNN_SHARED_DIR": str(tmp_path)}) == tmp_path / "gallery"
