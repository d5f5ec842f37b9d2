"""The class gallery through AppTest: a learner shares their run, a classmate sees its card,
downloads it and opens it in Look inside; the instructor hides it; a tampered file is refused."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from keras_cnn import runs
from keras_cnn.train import train
from quiz import gallery, roster
from quiz.store import ProgressStore

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "app" / "pages" / "gallery.py")
LOOK_INSIDE = str(ROOT / "app" / "pages" / "look_inside.py")
ADA = roster.Member("ada@x.org", "Ada", "learner")
BOB = roster.Member("bob@x.org", "Bob", "learner")
TEACHER = roster.Member("t@x.org", "Teacher", "instructor")


def _as(member, page=PAGE, **query) -> AppTest:
    at = AppTest.from_file(page, default_timeout=240)
    at.session_state["class_member"] = member
    at.query_params.update(query)
    return at.run()


@pytest.fixture
def shared(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_CNN_SHARED_DIR", str(tmp_path / "shared"))
    roster.save(ProgressStore(), [ADA, BOB, TEACHER])
    return tmp_path / "shared" / "gallery"


def test_share_open_download_hide(shared):
    train(
        "lenet5", epochs=1, limit=64, batch_size=32, seed=0, verbose=0, tags={"learner": ADA.email}
    )
    train("lenet5", epochs=1, limit=64, batch_size=32, seed=1, verbose=0)  # nobody's: not offered
    (run_id,) = [i for i in runs.list_runs().id if runs.load_run(i)[1].get("learner")]

    bob = _as(BOB)
    assert not bob.exception, bob.exception
    assert "Train a model on the Training page" in bob.info[0].value  # Bob has no run to share

    ada = _as(ADA)
    assert ada.selectbox(key="gallery_run").options == [run_id]
    ada.text_area(key="gallery_note").input("my first LeNet")
    ada.button(key="gallery_share").click().run()
    assert not ada.exception, ada.exception
    assert ada.success[0].value == f"Shared {run_id}."

    (item,) = gallery.entries(ProgressStore(), BOB.email)
    assert item.card["params"] == 61706 and item.card["macs"] > 0 and item.card["lab"]
    bob = _as(BOB)
    assert not bob.exception, bob.exception
    text = " ".join(m.value for m in bob.markdown)
    assert f"#{item.id} lenet5 on digits** by Ada" in text and "parameters 61,706" in text
    captions = [c.value for c in bob.caption]
    assert "my first LeNet" in captions
    assert "Best test accuracy on digits" in text
    (board,) = (t.value for t in bob.table)  # the run is under 95%: one board has rows
    assert board.to_dict("records") == [
        {
            "rank": 1,
            "who": "Ada",
            "model": "lenet5",
            "test accuracy": f"{item.test_accuracy:.1%}",
            "parameters": "61,706",
            "entry": f"#{item.id}",
        }
    ]
    assert item.test_accuracy < gallery.DIGITS_BAR
    assert any(c.startswith("No entry reaches 95% on the digits yet") for c in captions)
    downloads = bob.get("download_button")
    assert len(downloads) == 2  # the .keras file and the notebook
    links = [b.proto.url for b in bob.get("link_button")]
    assert links == [f"/look_inside?shared={item.id}", "/model_lab?family=lenet5"]
    assert not bob.button  # no Hide for a learner

    inside = _as(BOB, LOOK_INSIDE, shared=str(item.id))
    assert not inside.exception, inside.exception
    model = inside.selectbox(key="inside_model")
    assert model.value == 0 and model.options[0].startswith(f"Gallery #{item.id}: lenet5")
    assert any(m.value.startswith("**Prediction: ") for m in inside.markdown)

    teacher = _as(TEACHER)
    teacher.button(key=f"g_hide_{item.id}").click().run()
    assert gallery.entries(ProgressStore(), BOB.email) == []
    assert "(hidden)" in " ".join(m.value for m in _as(TEACHER).markdown)
    hidden = _as(BOB, LOOK_INSIDE, shared=str(item.id))
    assert "No gallery entry" in hidden.warning[0].value
    assert not hidden.selectbox(key="inside_model").options[0].startswith("Gallery")
    gallery.hide(ProgressStore(), item.id, instructor=True, hidden=False)

    (shared / item.file).write_bytes(b"tampered")
    tampered = _as(BOB, LOOK_INSIDE, shared=str(item.id))
    assert not tampered.exception
    assert "changed after it was shared" in tampered.warning[0].value
    assert "changed after it was shared" in _as(BOB).error[0].value  # no download


def test_outside_class_mode_the_page_says_so(shared):
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert at.info[0].value.startswith("The class gallery is part of class mode")
