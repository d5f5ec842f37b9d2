"""The Look inside page in Chromium: a learner's run, a unit clicked on the layer's map, its
receptive-field box drawn, Grad-CAM shown, no exception and no console error. Screenshots go
to ``test-artifacts/browser/``. Reuses ``tests/test_browser.py``'s fixtures and pattern."""

import os
import re
from pathlib import Path

import numpy as np
import pytest
import serve
from PIL import Image

from keras_cnn.train import train

ARTIFACTS = serve.ROOT / "test-artifacts" / "browser"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def unit_text(page) -> str:
    return page.get_by_text(re.compile(r"^Unit \(\d+, \d+\) of")).inner_text()


def test_look_inside_click_a_unit_in_chromium(playwright):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = Path(os.environ["KERAS_CNN_HOME"])
    train("lenet5", epochs=3, seed=0, verbose=0)  # the learner's run, on the embedded digits
    with serve.streamlit_server(home, log=ARTIFACTS / "streamlit-look-inside.log") as (url, _):
        browser = serve.launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors = serve.collect_errors(page)
        try:
            # Through the sidebar: a deep link first asks /look_inside/_stcore/health (a 404).
            page.goto(serve.learner_url(url, "learner")())
            serve.settle(page, 120_000)
            page.get_by_role("link", name="Look inside").click()
            page.get_by_text(re.compile(r"^Prediction: ")).wait_for(timeout=120_000)
            chart = page.locator('[data-testid="stVegaLiteChart"]').first
            chart.wait_for(timeout=120_000)
            serve.settle(page, 120_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert "Unit (5, 5) of c3" in unit_text(page)
            # Click the unit in row 1, column 8 of C3's 10x10 map.
            canvas = chart.locator("canvas, svg").first
            canvas.wait_for()
            canvas.scroll_into_view_if_needed()
            page.screenshot(path=ARTIFACTS / "look-inside-before-click.png")
            box = canvas.bounding_box()
            cell = 240 / 10
            page.mouse.click(box["x"] + 8.5 * cell, box["y"] + 1.5 * cell)
            page.get_by_text(re.compile(r"^Unit \(1, 8\) of c3")).wait_for(timeout=60_000)
            serve.settle(page, 120_000)
            assert "14x14 pixels (rows 2..15, columns 16..29)" in unit_text(page)
            assert page.locator('[data-testid="stException"]').count() == 0
            page.screenshot(path=ARTIFACTS / "look-inside.png", full_page=True)

            # An uploaded picture is centre-cropped and resized to the model's input, as said.
            picture = Path(os.environ["KERAS_CNN_HOME"]) / "upload.png"
            Image.fromarray(np.tile(np.arange(0, 250, 5, dtype=np.uint8), (40, 1))).save(picture)
            page.get_by_text("Upload an image").click()
            dropzone = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
            dropzone.set_input_files(picture)
            fitted = "upload.png: 50x40 → centre-cropped to 40x40, resized to 32x32"
            page.get_by_text(fitted).wait_for(timeout=60_000)
            serve.settle(page, 120_000)
            assert page.locator('[data-testid="stException"]').count() == 0

            # A text file named .png (issue 19, item 4): one line, no traceback, page usable.
            notes = Path(os.environ["KERAS_CNN_HOME"]) / "notes.png"
            notes.write_text("just some notes\n")
            dropzone.set_input_files(notes)
            message = page.locator('[data-testid="stAlertContentError"]').get_by_text(
                re.compile(r"^notes\.png is")
            )
            message.wait_for(timeout=60_000)
            serve.settle(page, 120_000)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert message.inner_text() == (
                "notes.png is not a PNG or JPEG picture, whatever its name says"
            )
            page.screenshot(path=ARTIFACTS / "look-inside-bad-upload.png", full_page=True)
            dropzone.set_input_files(picture)  # the page still works
            page.get_by_text(fitted).wait_for(timeout=60_000)
            page.get_by_text(re.compile(r"^Prediction: ")).wait_for(timeout=60_000)
            serve.settle(page, 120_000)
            assert page.locator('[data-testid="stException"]').count() == 0
        except Exception:
            page.screenshot(path=ARTIFACTS / "look-inside-failure.png", full_page=True)
            raise
        finally:
            browser.close()
    assert not errors, f"browser console errors: {errors}"
