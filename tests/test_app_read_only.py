"""The course with a progress store it cannot write (issue 11, item 9): shown, not a traceback.

As root file permissions do not apply, so the store is made unwritable by a KERAS_CNN_HOME
that cannot be created (under a regular file); tests/test_quiz_store.py checks read-only
files and folders with progress in them.
"""

import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the app imports `app` like `streamlit run` does
    sys.path.insert(0, str(ROOT))


def test_unwritable_store_is_shown_read_only_and_lessons_open(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "a-file" / "home"))
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.query_params["learner"] = "learner"
    at.run()
    assert not at.exception, at.exception
    warnings = [str(w.value) for w in at.warning]
    assert any(w.startswith("Your progress is read-only") for w in warnings), warnings
    at.switch_page("app/pages/course_map.py").run()
    at.selectbox(key="jump_lesson").select("convolution").run()
    at.button(key="jump").click().run()
    assert not at.exception, at.exception  # opening a lesson does not try to save the visit
    at.sidebar.text_input(key="new_learner").input("Ada").run()
    assert not at.exception, at.exception
    assert any("is read-only" in str(e.value) for e in at.error)
