"""The course in a real browser: Debian's Chromium driven by Playwright against
``streamlit run``. Fails on any Streamlit exception element or browser console error and saves
screenshots under ``test-artifacts/browser/``.

Chromium comes from ``apt-get install chromium`` (``.ci/run`` installs it). Without it the test
is skipped locally and fails in CI (``CI`` set).
"""

import re

import pytest
import serve

import quiz

ARTIFACTS = serve.ROOT / "test-artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def no_exceptions(page) -> None:
    exceptions = page.locator('[data-testid="stException"]')
    assert exceptions.count() == 0, exceptions.first.inner_text()


def test_course_end_to_end_in_chromium(playwright, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    with serve.streamlit_server(home, log=ARTIFACTS / "streamlit.log") as (url, _):
        browser = serve.launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = serve.collect_errors(page)
        try:
            # The course map, for the learner the address names (tests/test_browser_learner.py:
            # a browser without one is asked first).
            url_of = serve.learner_url(url, "learner")
            page.goto(url_of())
            page.get_by_text("The classic CNNs, from LeNet-5 to ResNet").wait_for(timeout=60_000)
            page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for()
            serve.settle(page)
            no_exceptions(page)
            page.screenshot(path=ARTIFACTS / "01-course-map.png", full_page=True)

            # The first lesson, its live model and its System Check.
            page.get_by_role("button", name="Start the course").click()
            page.get_by_role("heading", name="System Check").wait_for(timeout=90_000)
            page.locator('[data-testid="stDataFrame"]').first.wait_for(
                state="attached", timeout=90_000
            )
            page.locator('[data-testid="stMetric"]').first.wait_for(timeout=90_000)
            serve.settle(page, 90_000)
            no_exceptions(page)
            assert page.get_by_text("System Check not taken yet").count() == 1
            page.screenshot(path=ARTIFACTS / "02-lesson.png")
            serve.answer_everything(page)
            serve.settle(page, 90_000)
            serve.submit_check(page)
            serve.settle(page)
            no_exceptions(page)
            feedback = page.get_by_text("Right.").count() + page.get_by_text("Not quite.").count()
            assert feedback >= 1
            assert page.get_by_text("Best System Check score:").count() == 1
            form = page.locator('[data-testid="stForm"]')
            form.screenshot(path=ARTIFACTS / "03-system-check.png")
            stored = quiz.ProgressStore(home / quiz.default_path().name).checks("learner")
            assert len(stored) == 1 and stored[0].lesson_id == "convolution"

            # The architecture explorer and the model lab.
            page.get_by_role("link", name="Architecture explorer").click()
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=90_000)
            serve.settle(page, 120_000)
            no_exceptions(page)
            assert page.locator('[data-testid="stVegaLiteChart"]').count() == 4
            page.screenshot(path=ARTIFACTS / "04-explorer.png")
            page.get_by_role("link", name="Model lab").click()
            page.get_by_text("model = keras_cnn.build_resnet(50)").wait_for(timeout=90_000)
            page.get_by_role("button", name="Prepare a .keras download").wait_for(timeout=90_000)
            serve.settle(page, 120_000)
            no_exceptions(page)
            page.screenshot(path=ARTIFACTS / "05-model-lab.png")

            # Pages opened by their address load without a console error (no 404 for
            # /model_lab/_stcore/health), including a Training view a lesson links to.
            page.goto(url_of("model_lab"))
            page.get_by_text("model = keras_cnn.build_resnet(50)").wait_for(timeout=90_000)
            serve.settle(page, 120_000)
            no_exceptions(page)
            page.goto(url_of("training", view="degradation"))
            page.get_by_role("heading", name="The degradation experiment").wait_for(timeout=90_000)
            serve.settle(page, 120_000)
            no_exceptions(page)
            page.screenshot(path=ARTIFACTS / "07-training-degradation.png")

            # A live run in the browser: the progress redraws, Start and Stop follow the run.
            page.locator('[data-testid="stRadioOption"]', has_text="Train").first.click()
            page.get_by_label("Model").first.wait_for(timeout=60_000)
            serve.settle(page, 60_000)
            page.get_by_label("Model").first.click()
            page.get_by_role("option", name="lenet5").first.click()
            serve.settle(page)
            for label, value in (("Epochs", "1"), ("Images per split (0 = all)", "128")):
                page.get_by_label(label).fill(value)
                page.get_by_label(label).press("Enter")
                serve.settle(page)
            page.get_by_role("button", name="Start").click()
            page.get_by_text(re.compile(r"^lenet5")).first.wait_for(timeout=60_000)
            assert page.get_by_role("button", name="Stop").is_enabled()
            page.get_by_text("lenet5 finished after 1 epoch(s).").wait_for(timeout=180_000)
            serve.settle(page, 60_000)
            assert page.get_by_role("button", name="Start").is_enabled()
            assert not page.get_by_role("button", name="Stop").is_enabled()
            page.screenshot(path=ARTIFACTS / "08-training-run.png", full_page=True)

            # A phone-width course map.
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(url_of())
            page.get_by_text("The classic CNNs, from LeNet-5 to ResNet").wait_for(timeout=60_000)
            serve.settle(page)
            no_exceptions(page)
            page.screenshot(path=ARTIFACTS / "06-course-map-phone.png")
        except Exception:
            page.screenshot(path=ARTIFACTS / "failure.png", full_page=True)
            raise
        finally:
            browser.close()
    assert not errors, f"browser console errors: {errors}"
    # The server was started with no address or watcher flags: .streamlit/config.toml binds
    # 127.0.0.1 only and watches no files, so its log is a few readable lines.
    log = (ARTIFACTS / "streamlit.log").read_text()
    assert "http://127.0.0.1:" in log and "Network URL" not in log, log
    assert "Inotify" not in log and len(log.splitlines()) < 40, log[-2000:]
