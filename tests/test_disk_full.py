"""A full disk under KERAS_CNN_HOME (issue 19, item 6): one clear line, saved progress intact.

A real 2 MB tmpfs is mounted (root only; skipped elsewhere) and filled to the last byte, the
way a user's disk fills while the course runs.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from quiz_answers import answers

from quiz import get_course
from quiz.cli import main
from quiz.data import Result
from quiz.store import ProgressStore, StoreError

FILLER = "filler"


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 2 MB tmpfs, unmounted afterwards."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    folder = Path(tempfile.mkdtemp(prefix="keras-cnn-full-"))
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()


def fill(folder: Path) -> None:
    """Write until the disk has no byte left."""
    fd = os.open(folder / FILLER, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for size in (1 << 16, 1 << 12, 1 << 8, 1):
            with pytest.raises(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    assert shutil.disk_usage(folder).free == 0


def call(*args: str, stdin: io.StringIO | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), stdin=stdin or io.StringIO(""), stdout=out)
    return code, out.getvalue()


def results(n: int = 20) -> list[Result]:
    return [Result(f"q{i}", True, 1.0, "x" * 500, "y" * 500, "r" * 2000, ()) for i in range(n)]


def test_a_write_on_a_full_disk_is_one_store_error_and_keeps_what_was_saved(small_disk):
    path = small_disk / "progress.sqlite3"
    store = ProgressStore(path)
    store.record_check("ada", "convolution", results(2))
    fill(small_disk)
    for write in (
        lambda: store.record_check("ada", "alexnet", results()),
        lambda: store.add_learner("bob"),
        lambda: store.set_last_visited("ada", "alexnet"),
    ):
        with pytest.raises(StoreError, match="the disk holding .* is full"):
            write()
    opened = ProgressStore(path)  # opening a full disk reads what is there
    assert opened.read_only and "is full" in opened.read_only_reason
    assert opened.passed_lessons("ada") == {"convolution"}
    (small_disk / FILLER).unlink()
    again = ProgressStore(path)
    assert not again.read_only and again.passed_lessons("ada") == {"convolution"}
    assert again.learners() == ["ada"]


class FillingInput(io.StringIO):
    """Standard input that fills the disk just before the learner's last answer."""

    def __init__(self, text: str, folder: Path) -> None:
        super().__init__(text)
        self.left = text.count("\n")
        self.folder = folder

    def readline(self, *args) -> str:
        self.left -= 1
        if self.left == 0:
            fill(self.folder)
        return super().readline(*args)


def test_quiz_take_on_a_full_disk_ends_in_one_line(small_disk, monkeypatch):
    monkeypatch.setenv("KERAS_CNN_HOME", str(small_disk))
    stdin = FillingInput(answers("convolution", 3), small_disk)
    code, out = call("take", "convolution", "--learner", "ada", "--seed", "3", stdin=stdin)
    last = out.splitlines()[-1]
    assert code == 1, out
    assert last.startswith("error: your answers were graded but not saved: progress store ")
    assert f"the disk holding {small_disk} is full" in last
    assert "Score:" not in out  # no verdict for a check that was not saved
    (small_disk / FILLER).unlink()
    assert ProgressStore().checks("ada") == []


def test_quiz_import_on_a_full_disk_ends_in_one_line(small_disk, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_CNN_HOME", str(small_disk))
    call(
        "take",
        "convolution",
        "--learner",
        "ada",
        "--seed",
        "3",
        stdin=io.StringIO(answers("convolution", 3)),
    )
    exported = tmp_path / "ada.json"
    assert call("export", "--learner", "ada", "-o", str(exported))[0] == 0
    fill(small_disk)
    code, out = call("import", str(exported), "--learner", "bob")
    assert code == 1, out
    assert out.count("\n") == 1 and out.startswith("error: progress store")
    assert "is full" in out
    (small_disk / FILLER).unlink()
    n = len(get_course().lesson("convolution").questions)
    assert len(ProgressStore().attempts("ada")) == n and "bob" not in ProgressStore().learners()


def test_the_course_on_a_full_disk_draws_its_pages_and_says_why_nothing_is_saved(
    small_disk, monkeypatch
):
    import sys

    from streamlit.testing.v1 import AppTest

    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:  # the app imports `app` like `streamlit run` does
        sys.path.insert(0, str(root))
    monkeypatch.setenv("KERAS_CNN_HOME", str(small_disk))
    ProgressStore().record_check("ada", "convolution", results(2))
    fill(small_disk)
    at = AppTest.from_file(str(root / "streamlit_app.py"), default_timeout=120)
    at.query_params["learner"] = "ada"
    at.run()
    assert not at.exception, at.exception
    warnings = [str(w.value) for w in at.warning]
    assert any("read-only" in w and f"the disk holding {small_disk} is full" in w for w in warnings)
    at.sidebar.text_input(key="new_learner").input("Bob").run()
    assert not at.exception, at.exception
    assert any("is full" in str(e.value) for e in at.error)
    at.switch_page("app/pages/course_map.py").run()
    at.selectbox(key="jump_lesson").select("convolution").run()
    at.button(key="jump").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title][-1].startswith("1. ")  # lesson 1 is drawn
    # The disk fills between the store's opening (writable) and saving the visit.
    (small_disk / FILLER).unlink()
    save_visit = ProgressStore.set_last_visited

    def fill_then_save(self, *args):
        fill(small_disk)
        return save_visit(self, *args)

    monkeypatch.setattr(ProgressStore, "set_last_visited", fill_then_save)
    at.switch_page("app/pages/course_map.py").run()
    at.selectbox(key="jump_lesson").select("alexnet").run()
    at.button(key="jump").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title][-1].startswith("2. ")
    saved = [str(w.value) for w in at.warning if "was not saved" in str(w.value)]
    assert saved and f"the disk holding {small_disk} is full" in saved[0], saved


def test_quiz_export_to_a_full_disk_is_one_line_and_leaves_no_partial_file(
    small_disk, monkeypatch, tmp_path
):
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path))
    stdin = io.StringIO(answers("convolution", 3))
    call("take", "convolution", "--learner", "ada", "--seed", "3", stdin=stdin)
    (small_disk / "pad").write_bytes(b"\0" * 1000)
    fill(small_disk)
    (small_disk / "pad").unlink()  # 4 KB free: the export (some 10 KB) starts, then stops
    target = small_disk / "ada.json"
    code, out = call("export", "--learner", "ada", "-o", str(target))
    assert (code, out) == (2, f"error: cannot write {target}: No space left on device\n")
    assert not target.exists()
