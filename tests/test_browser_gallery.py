"""The class gallery in Chromium: a learner signs in and shares a run with a note; a classmate
signs in, sees the leaderboards rank it and its model card, and downloads the ``.keras`` file,
byte for byte the shared one. The run is trained to >= 95% (LeNet-5, 4 epochs on the digits, about
10 s) so that both leaderboards hold it; their rows are read as a learner sees them, and the page
is saved as ``test-artifacts/browser-gallery/gallery.png`` (the picture in docs/sharing.md).

One Streamlit server in class mode over the session's PostgreSQL, signing in at a real
OpenID Connect provider (``oidc-provider-mock``), as in ``test_browser_class.py``.
"""

from __future__ import annotations

import hashlib

import pytest
import serve
from class_servers import class_server, sign_in

from quiz import gallery, roster
from quiz.store import ProgressStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = serve.ROOT / "test-artifacts" / "browser-gallery"
ROSTER = """email,name,role
ada@school.example,Ada Lovelace,learner
alan@school.example,Alan Turing,learner
grace@school.example,Grace Hopper,instructor
"""


def test_a_learner_shares_and_a_classmate_opens_and_downloads(
    playwright, postgres_server, oidc_provider, tmp_path, monkeypatch
):
    from keras_cnn import runs
    from keras_cnn.train import train

    database = postgres_server.schema()
    roster.save(ProgressStore(database), roster.parse_roster(ROSTER))
    monkeypatch.setenv("KERAS_CNN_SHARED_DIR", str(tmp_path / "shared"))  # the server's too
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "home"))  # class_server's home
    train("lenet5", epochs=4, batch_size=32, seed=0, verbose=0,
          tags={"learner": "ada@school.example"})  # fmt: skip
    (run_id,) = runs.list_runs().id
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with class_server(tmp_path, database, oidc_provider, ARTIFACTS / "streamlit.log") as url:
        browser = serve.launch(playwright)
        try:
            ada = browser.new_page()
            sign_in(ada, url, "ada@school.example")
            ada.goto(f"{url}gallery")
            serve.settle(ada, 120_000)
            ada.get_by_label("Note").wait_for(timeout=120_000)
            picker = ada.locator('[data-testid="stSelectbox"]').get_by_role("combobox")
            assert run_id in (picker.input_value() or picker.get_attribute("aria-label") or "")
            ada.get_by_label("Note").fill("LeNet-5 after four epochs")
            ada.get_by_label("Note").press("Control+Enter")  # commit the text area
            serve.settle(ada, 60_000)
            ada.get_by_role("button", name="Share").click()
            ada.get_by_text(f"Shared {run_id}.").wait_for(timeout=120_000)

            (entry,) = gallery.entries(ProgressStore(database), "alan@school.example")
            assert (
                entry.note == "LeNet-5 after four epochs" and entry.learner == "ada@school.example"
            )
            assert entry.test_accuracy >= gallery.DIGITS_BAR, entry  # else one board is empty

            alan = browser.new_page(viewport={"width": 1280, "height": 1700})  # his own sign-in
            sign_in(alan, url, "alan@school.example")
            alan.goto(f"{url}gallery")
            serve.settle(alan, 120_000)
            alan.get_by_text(f"#{entry.id} lenet5 on digits").wait_for(timeout=60_000)
            body = alan.inner_text("body")
            assert "by Ada Lovelace" in body and "LeNet-5 after four epochs" in body
            assert "parameters 61,706" in body
            assert "Train a model on the Training page" in body  # Alan has nothing to share
            assert _boards(alan) == {
                title: [
                    [
                        "1",
                        "Ada Lovelace",
                        "lenet5",
                        f"{entry.test_accuracy:.1%}",
                        "61,706",
                        f"#{entry.id}",
                    ]
                ]  # fmt: skip
                for title in (
                    "Best test accuracy on digits",
                    "Fewest parameters at ≥ 95% on the digits",
                )
            }
            serve.settle(alan, 60_000)
            alan.screenshot(path=str(ARTIFACTS / "classmate.png"))
            main = alan.locator('[data-testid="stMainBlockContainer"]')
            main.screenshot(path=str(ARTIFACTS / "gallery.png"))
            with alan.expect_download(timeout=60_000) as download:
                alan.get_by_role("button", name=".keras").click()
            saved = tmp_path / "downloaded.keras"
            download.value.save_as(saved)
            assert download.value.suggested_filename == f"lenet5_{entry.id}.keras"
            assert hashlib.sha256(saved.read_bytes()).hexdigest() == entry.sha256
        finally:
            browser.close()


def _boards(page) -> dict[str, list[list[str]]]:
    """Each leaderboard's title and its rows' cells as the page shows them (the text drawn in
    the table, read once it has rows)."""
    tables = page.locator('[data-testid="stTable"]')
    tables.locator("tbody tr").first.wait_for(timeout=60_000)
    boards = {}
    for i in range(tables.count()):
        table = tables.nth(i)
        title = table.locator("xpath=preceding::strong[1]").inner_text()
        rows = table.locator("tbody tr")
        boards[title] = [
            [cell.strip() for cell in rows.nth(r).locator("td, th").all_inner_texts()]
            for r in range(rows.count())
        ]
    return boards
