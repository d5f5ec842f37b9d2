"""Who the learner is, in a real browser (issue 19, items 1-3): the learner stays with the
browser across a reload, a fresh browser is asked, a name is never markup (no request to an
address hidden in it), and a double click on Submit stores one check; after it the score is
scrolled into view and a second tab of the same learner shows the new best score unreloaded.

Debian's Chromium driven by Playwright against ``streamlit run`` (see ``tests/serve.py``);
screenshots go to ``test-artifacts/browser/``.
"""

import http.server
import re
import threading
import urllib.parse

import pytest
import serve
from playwright.sync_api import expect

import quiz

ARTIFACTS = serve.ROOT / "test-artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class _Hits(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self):  # noqa: N802 (the name http.server calls)
        _Hits.seen.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def _caption(page) -> str:
    caption = page.get_by_text("your answers are saved for learner")
    caption.wait_for(timeout=90_000)
    return caption.inner_text()


def test_the_learner_stays_with_the_browser_and_a_name_is_text(playwright, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    store = quiz.ProgressStore(home / quiz.default_path().name)
    store.add_learner("Ada")  # the server's most recent learner: nobody else may become Ada
    trap = http.server.ThreadingHTTPServer(("127.0.0.1", serve.free_port()), _Hits)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    injected = f"![t](http://127.0.0.1:{trap.server_port}/x.png) **b** $x^2$"
    with serve.streamlit_server(home, log=ARTIFACTS / "streamlit-learner.log") as (url, _):
        browser = serve.launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = serve.collect_errors(page)
        try:
            # A fresh browser is asked who it is, in the main area.
            page.goto(url)
            page.get_by_role("heading", name="Who are you?").wait_for(timeout=60_000)
            serve.settle(page)
            assert page.get_by_text("Ada", exact=True).count() == 0
            page.screenshot(path=ARTIFACTS / "10-who-are-you.png")
            page.get_by_label("Your name").fill("Zoë")
            page.get_by_role("button", name="Start").click()
            page.get_by_text("The classic CNNs, from LeNet-5 to ResNet").wait_for(timeout=60_000)
            serve.settle(page)
            assert "learner=Zo%C3%AB" in page.url
            # Lesson 1, then a reload (F5): still Zoë.
            page.get_by_role("button", name="Start the course").click()
            assert _caption(page).endswith("learner Zoë.")
            serve.settle(page, 90_000)
            assert "lesson-convolution" in page.url and "learner=Zo%C3%AB" in page.url
            page.reload()
            assert _caption(page).endswith("learner Zoë.")
            serve.settle(page, 90_000)
            # A second tab of Zoë on lesson 1, left alone while the first one submits.
            # (a tab is a session of its own: Playwright's own page of a context opens none)
            second_tab = browser.new_context(viewport={"width": 1280, "height": 900})
            second = second_tab.new_page()
            errors += serve.collect_errors(second)
            second.goto(page.url)
            assert _caption(second).endswith("learner Zoë.")
            second.get_by_text("System Check not taken yet").wait_for(timeout=90_000)
            # A double click on Submit stores the check once.
            serve.answer_everything(page)
            serve.settle(page, 90_000)
            page.get_by_role("button", name="Submit answers").dblclick()
            score = page.get_by_text(re.compile(r"^Score: \d+%"))
            score.wait_for(timeout=90_000)
            serve.settle(page)
            # the score and the next step are scrolled into view (issue 19, item 7)
            expect(score).to_be_in_viewport(timeout=10_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=ARTIFACTS / "11-after-submit.png")
            assert len(store.checks("Zoë")) == 1 and store.checks("Ada") == []
            # and the untouched second tab shows the new best score without a reload
            second.get_by_text(re.compile(r"^Best System Check score: \d+%")).wait_for(
                timeout=30_000
            )
            second_tab.close()

            # Another browser (a fresh context: no address, no session) is asked again.
            other = browser.new_context(viewport={"width": 390, "height": 844})
            phone = other.new_page()
            errors += serve.collect_errors(phone)
            phone.goto(url + "lesson-convolution")
            phone.get_by_role("heading", name="Who are you?").wait_for(timeout=60_000)
            serve.settle(phone)
            phone.screenshot(path=ARTIFACTS / "12-who-are-you-phone.png")

            # A name with Markdown in it is shown as typed, and loads nothing.
            phone.goto(url + "?learner=" + urllib.parse.quote(injected))
            phone.get_by_text("The classic CNNs, from LeNet-5 to ResNet").wait_for(timeout=60_000)
            serve.settle(phone)
            phone.get_by_role("button", name="Start the course").click()
            assert _caption(phone).endswith(f"learner {injected}.")
            serve.settle(phone, 90_000)
            phone.screenshot(path=ARTIFACTS / "13-name-as-text.png")
            other.close()
        except Exception:
            page.screenshot(path=ARTIFACTS / "failure-learner.png", full_page=True)
            raise
        finally:
            browser.close()
            trap.shutdown()
    assert _Hits.seen == [], f"the page loaded an address from a name: {_Hits.seen}"
    assert not errors, f"browser console errors: {errors}"
    assert sorted(store.learners()) == sorted(["Ada", "Zoë", injected])
