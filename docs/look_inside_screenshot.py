"""Screenshot of the Look inside page for the README: ``docs/look-inside.png``.

    .venv/bin/python docs/look_inside_screenshot.py

Trains LeNet-5 on the embedded digits (5 epochs, seed 0) into a temporary KERAS_CNN_HOME,
starts the app, opens Look inside, clicks a unit of C3 and captures the unit and Grad-CAM
views. Needs Chromium (``/usr/bin/chromium``) and Playwright.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # serve.py, the browser harness


def main() -> None:
    import serve
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as home:
        os.environ["KERAS_CNN_HOME"] = home
        from keras_cnn.train import train

        train("lenet5", epochs=5, seed=0, verbose=0)
        with serve.streamlit_server(home) as (url, _), sync_playwright() as pw:
            browser = serve.launch(pw)
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(serve.learner_url(url, "learner")())
            serve.settle(page, 120_000)
            page.get_by_role("link", name="Look inside").click()
            chart = page.locator('[data-testid="stVegaLiteChart"]').first
            chart.wait_for(timeout=120_000)
            serve.settle(page, 120_000)
            page.screenshot(path=ROOT / "docs" / "look-inside-top.png")
            canvas = chart.locator("canvas, svg").first
            canvas.scroll_into_view_if_needed()
            box = canvas.bounding_box()
            page.mouse.click(box["x"] + 6.5 * 24, box["y"] + 3.5 * 24)  # C3's unit (3, 6)
            page.get_by_text(re.compile(r"^Unit \(3, 6\) of c3")).wait_for(timeout=60_000)
            serve.settle(page, 120_000)
            page.get_by_role(
                "heading", name="One unit: what it can see"
            ).scroll_into_view_if_needed()
            page.screenshot(path=ROOT / "docs" / "look-inside.png")
            browser.close()


if __name__ == "__main__":
    main()
