"""Lesson 7's exercise in Chromium: a learner submits a block without the shortcut, sees the
feedback and the hint, fixes it, passes, reloads, and finds the pass and the code kept. The
code runs in the sandbox of the real server (``streamlit run``)."""

from __future__ import annotations

import pytest
import serve

from keras_cnn.exercises.spec import load_exercises

ARTIFACTS = serve.ROOT / "test-artifacts" / "browser"
EXERCISE = load_exercises()["residual_block"]

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SET_CODE = (
    "code => { const e = document.querySelector('.ace_editor').env.editor; e.setValue(code, 1); }"
)
GET_CODE = "() => document.querySelector('.ace_editor').env.editor.getValue()"


def _editor(page):
    frame = page.frame_locator('iframe[title="code_editor.code_editor"]')
    frame.locator(".ace_editor").wait_for(timeout=90_000)
    handle = page.locator('iframe[title="code_editor.code_editor"]').element_handle()
    return frame, handle.content_frame()


def _run(page, code: str) -> None:
    frame, inner = _editor(page)
    inner.evaluate(SET_CODE, code)
    frame.get_by_text("Run checks").click()
    page.wait_for_timeout(500)
    serve.settle(page, 300_000)


def test_lesson7_exercise_hint_fix_pass_reload_in_chromium(playwright, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"
    with serve.streamlit_server(home, log=ARTIFACTS / "streamlit-exercises.log") as (url, _):
        browser = serve.launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        errors = serve.collect_errors(page)
        try:
            page.goto(serve.learner_url(url, "learner")("exercises", id="residual_block"))
            page.get_by_role("heading", name="A basic residual block").wait_for(timeout=90_000)
            _editor(page)
            serve.settle(page)
            page.screenshot(path=ARTIFACTS / "exercise-01-open.png", full_page=True)

            no_shortcut = next(m for m in EXERCISE.mistakes if m.name == "no shortcut").code
            _run(page, no_shortcut)
            page.get_by_text("the output never adds the shortcut").first.wait_for(timeout=300_000)
            assert page.get_by_text(f"Hint: {EXERCISE.hints[0]}").count() == 1
            page.get_by_text(f"Hint: {EXERCISE.hints[0]}").scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "exercise-02-feedback.png", full_page=True)

            _run(page, EXERCISE.solution)
            page.get_by_text("All checks passed").wait_for(timeout=300_000)
            assert page.get_by_text("Reference solution").count() >= 1
            page.get_by_text("All checks passed").scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "exercise-03-passed.png", full_page=True)

            page.reload()
            page.get_by_text("Built: you passed this exercise.").wait_for(timeout=90_000)
            _, inner = _editor(page)
            serve.settle(page)
            assert inner.evaluate(GET_CODE).strip() == EXERCISE.solution.strip()
            page.screenshot(path=ARTIFACTS / "exercise-04-reloaded.png", full_page=True)
            assert not page.locator('[data-testid="stException"]').count()
            assert errors == [], errors
        finally:
            browser.close()
