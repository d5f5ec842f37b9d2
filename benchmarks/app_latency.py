"""How fast the course feels, measured in a real browser (Debian's Chromium via Playwright).

    .venv/bin/python benchmarks/app_latency.py [--runs 1]

Prints three latencies (seconds):

* first paint: from the moment ``streamlit run`` listens until the course map's title and
  architecture matrix are drawn (goal < 3 s);
* warm page switch: clicking from the course map to the glossary once both have been shown
  (goal < 1 s);
* ResNet-152 cold: in the model lab, from choosing depth 152 until its totals and diagram are
  drawn, not cached yet (TensorFlow already imported; goal < 3 s).

Not a test: numbers depend on the machine. Needs /usr/bin/chromium (apt-get install chromium).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import sync_playwright  # noqa: E402

from app import serve  # noqa: E402


def _switch(page, link: str, heading: str) -> float:
    start = time.monotonic()
    page.get_by_role("link", name=link, exact=True).first.click()
    page.get_by_role("heading", name=heading).first.wait_for(timeout=60_000)
    serve.settle(page)
    return time.monotonic() - start


def measure() -> dict[str, float]:
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as home:
        browser = serve.launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            with serve.streamlit_server(home) as (url, listening):
                page.goto(url)
                page.get_by_text("The classic CNNs, from LeNet-5 to ResNet").wait_for(
                    timeout=60_000
                )
                page.locator('[data-testid="stGraphVizChart"] svg').first.wait_for(timeout=60_000)
                first_paint = time.monotonic() - listening
                serve.settle(page)

                _switch(page, "Glossary and FAQ", "Glossary and FAQ")
                _switch(page, "Course map", "The classic CNNs, from LeNet-5 to ResNet")
                warm = _switch(page, "Glossary and FAQ", "Glossary and FAQ")

                page.get_by_role("link", name="Model lab", exact=True).first.click()
                page.get_by_text("Weight layers").first.wait_for(timeout=120_000)
                serve.settle(page, 120_000)
                depth = page.locator('[data-testid="stSelectbox"]').filter(has_text="Depth")
                depth.get_by_role("combobox").click()
                option = page.get_by_role("option", name="152", exact=True)
                option.wait_for(timeout=10_000)
                start = time.monotonic()
                option.click()
                page.get_by_text("model = keras_cnn.build_resnet(152)").wait_for(timeout=60_000)
                page.locator('[data-testid="stMetricValue"]', has_text="60.42M").wait_for(
                    timeout=120_000
                )
                page.locator("svg", has_text="conv4_block36").first.wait_for(timeout=60_000)
                resnet152 = time.monotonic() - start
        finally:
            browser.close()
    return {"first_paint_s": first_paint, "warm_switch_s": warm, "resnet152_cold_s": resnet152}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeat and print each run")
    args = parser.parse_args(argv)
    goals = {"first_paint_s": 3.0, "warm_switch_s": 1.0, "resnet152_cold_s": 3.0}
    for run in range(args.runs):
        result = measure()
        print(f"run {run + 1}:")
        for key, value in result.items():
            verdict = "ok" if value < goals[key] else "over goal"
            print(f"  {key:18s} {value:6.2f}  (goal < {goals[key]:.0f} s, {verdict})")


if __name__ == "__main__":
    main()
