"""How fast the course feels, measured in a real browser (Debian's Chromium via Playwright).

    .venv/bin/python benchmarks/app_latency.py [--runs 1] [--sessions 5]

Every latency runs from a click (or from opening the address) until the content is on the
screen, on a cold server (a fresh ``streamlit run``: TensorFlow not imported yet). Prints, in
seconds, with the issue's goals:

* ``first_paint``: the course map's title and architecture matrix (goal < 3 s);
* ``lesson1_first_open``: "Start the course" clicked 1 s after that paint, until lesson 1's
  System Check is drawn with its first question (< 3 s); ``lesson1_models`` until its live
  LeNet-5 table is there too (no goal: TensorFlow loads meanwhile);
* ``submit_to_score``: Submit clicked until the score shows (< 1 s);
* ``first_open:<page>``: each further page's first open, in the order a learner might go:
  a locked lesson, the explorer (its first chart), the model lab (its code), the glossary,
  the training page (its device line) (< 3 s);
* ``warm_switch``: course map -> glossary once both were shown (< 1 s);
* ``resnet152_cold``: the model lab's depth set to 152 until its totals and diagram show,
  not cached yet (< 3 s);
* ``concurrent_first_paint_max``: N sessions open the course at once on a fresh server: the
  slowest first paint (< 5 s); ``concurrent_lesson1_max``: then all click "Start the course"
  at once: the slowest System Check (< 3 s; nobody waits for another's model build).

The concurrent numbers include the browsers' own work: N headless Chromium pages render on
the same cores as the server. What the server controls is printed beside them, from its run log
(``KERAS_CNN_RUN_LOG``, written by ``app.shell.log_event`` on the same monotonic clock):

* ``concurrent_server_paint_max``: the slowest session's first script run (the course map), from
  its start on the server to its end;
* ``concurrent_server_paint_done``: from opening the N addresses until the server had finished
  every first run (includes the browsers loading the page's JavaScript and connecting);
* ``concurrent_server_lesson1_max``: the slowest session's run from its start after the click
  until lesson 1's System Check was sent;
* ``concurrent_tf_import_start``: when the background TensorFlow import began, from opening the
  addresses (it must not compete with the first paints);
* ``concurrent_cpu_server`` and ``concurrent_cpu_browsers``: CPU seconds the server process and
  all Chromium processes used from opening the addresses until every page had painted (Linux
  ``/proc``; on a 2-core machine, wall time is at least their sum / 2);
  ``concurrent_cpu_server_lesson1`` and ``concurrent_cpu_browsers_lesson1``: the same from the
  click on "Start the course" until every System Check was drawn (the server's share includes
  the background TensorFlow import when it runs then).

Not a test: numbers depend on the machine and on what else runs on it. Needs /usr/bin/chromium
(apt-get install chromium).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # serve.py, the harness

import serve  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

RUN_LOG_ENV = "KERAS_CNN_RUN_LOG"  # app.shell.RUN_LOG_ENV (the benchmark imports no Streamlit)

TITLE = "The classic CNNs, from LeNet-5 to ResNet"
GOALS = {
    "first_paint": 3.0,
    "lesson1_first_open": 3.0,
    "lesson1_models": None,
    "submit_to_score": 1.0,
    "first_open:locked lesson": 3.0,
    "first_open:explorer": 3.0,
    "first_open:model lab": 3.0,
    "first_open:glossary": 3.0,
    "first_open:training": 3.0,
    "warm_switch": 1.0,
    "resnet152_cold": 3.0,
    "concurrent_first_paint_max": 5.0,
    "concurrent_lesson1_max": 3.0,
    "concurrent_server_paint_max": None,
    "concurrent_server_paint_done": None,
    "concurrent_server_lesson1_max": None,
    "concurrent_tf_import_start": None,
    "concurrent_cpu_server": None,
    "concurrent_cpu_browsers": None,
    "concurrent_cpu_server_lesson1": None,
    "concurrent_cpu_browsers_lesson1": None,
}
TIMEOUT = 120_000


def _course_map(page):
    return page.get_by_text(TITLE).first, page.locator('[data-testid="stGraphVizChart"] svg').first


def _check_drawn(page):
    form = page.locator('[data-testid="stForm"]')
    return page.get_by_role("heading", name="System Check").first, form.get_by_text(
        "Question 1."
    ).first


def _timed(action, *targets) -> float:
    start = time.monotonic()
    action()
    for target in targets:
        target.wait_for(timeout=TIMEOUT)
    return time.monotonic() - start


def _link(page, name: str):
    return lambda: page.get_by_role("link", name=name, exact=True).first.click()


def tour(playwright) -> dict[str, float]:
    """One learner on a cold server: every page's first open, submit, warm switch, ResNet-152."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as home, serve.streamlit_server(home) as (url, _):
        browser = serve.launch(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        try:
            out["first_paint"] = _timed(
                lambda: page.goto(serve.learner_url(url, "learner")()), *_course_map(page)
            )
            page.wait_for_timeout(1000)
            start = time.monotonic()
            page.get_by_role("button", name="Start the course").click()
            for target in _check_drawn(page):
                target.wait_for(timeout=TIMEOUT)
            out["lesson1_first_open"] = time.monotonic() - start
            page.locator('[data-testid="stDataFrame"]').first.wait_for(
                state="attached", timeout=TIMEOUT
            )
            out["lesson1_models"] = time.monotonic() - start
            serve.settle(page, TIMEOUT)
            serve.answer_everything(page)
            serve.settle(page, TIMEOUT)
            start = time.monotonic()
            serve.submit_check(page)
            out["submit_to_score"] = time.monotonic() - start
            serve.settle(page, TIMEOUT)

            firsts = [
                ("locked lesson", "2. AlexNet (locked)", page.get_by_text("This lesson is locked")),
                (
                    "explorer",
                    "Architecture explorer",
                    page.locator('[data-testid="stVegaLiteChart"]'),
                ),
                ("model lab", "Model lab", page.get_by_text("model = keras_cnn.build_resnet(50)")),
                ("glossary", "Glossary and FAQ", page.get_by_role("heading", name="Glossary")),
                ("training", "Training", page.get_by_text("Device:")),
            ]
            for label, link, content in firsts:
                out[f"first_open:{label}"] = _timed(_link(page, link), content.first)
                serve.settle(page, TIMEOUT)

            _timed(_link(page, "Course map"), page.get_by_text(TITLE).first)
            serve.settle(page, TIMEOUT)
            out["warm_switch"] = _timed(
                _link(page, "Glossary and FAQ"),
                page.get_by_role("heading", name="Glossary and FAQ").first,
            )
            serve.settle(page, TIMEOUT)

            _timed(_link(page, "Model lab"), page.get_by_text("Weight layers").first)
            serve.settle(page, TIMEOUT)
            depth = page.locator('[data-testid="stSelectbox"]').filter(has_text="Depth")
            depth.get_by_role("combobox").click()
            option = page.get_by_role("option", name="152", exact=True)
            option.wait_for(timeout=10_000)
            out["resnet152_cold"] = _timed(
                option.click,
                page.get_by_text("model = keras_cnn.build_resnet(152)").first,
                page.locator('[data-testid="stMetricValue"]', has_text="60.42M").first,
                page.locator('[data-testid="stGraphVizChart"] svg').first,
            )
        finally:
            browser.close()
    return out


def _first_seen(pages, locate, start: float) -> list[float]:
    """Poll every page until ``locate(page)`` is visible on each; seconds since ``start``."""
    seen: list[float | None] = [None] * len(pages)
    deadline = time.monotonic() + TIMEOUT / 1000
    while None in seen and time.monotonic() < deadline:
        for i, page in enumerate(pages):
            if seen[i] is None and locate(page).first.is_visible():
                seen[i] = time.monotonic() - start
        time.sleep(0.05)
    if None in seen:
        raise TimeoutError(f"not every session drew its content: {seen}")
    return seen


def _cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) used so far by this process's descendants: the Streamlit
    server and the Chromium processes (Linux ``/proc``; empty elsewhere)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
            fields = rest.split()
            pid = int(stat.parent.name)
            parents[pid] = int(fields[1])
            cmd = (
                (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            )
            used[pid] = (f"{name} {cmd}", (int(fields[11]) + int(fields[12])) / tick)
    me, out = os.getpid(), {"server": 0.0, "browsers": 0.0}
    for pid, (cmd, cpu) in used.items():
        up = parents.get(pid)
        while up not in (None, 0, 1, me):
            up = parents.get(up)
        if up != me:
            continue
        if "streamlit" in cmd:
            out["server"] += cpu
        elif "chrom" in cmd:
            out["browsers"] += cpu
    return out


@contextlib.contextmanager
def _run_log(path: Path):
    """The server started inside writes its run log to ``path``."""
    old = os.environ.get(RUN_LOG_ENV)
    os.environ[RUN_LOG_ENV] = str(path)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(RUN_LOG_ENV, None)
        else:
            os.environ[RUN_LOG_ENV] = old


def _events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def server_times(events: list[dict], opened: float, clicked: float) -> dict[str, float]:
    """The server's share of the concurrent numbers, from its run log (see the docstring).

    Args:
        events: The log's lines, ``{"event", "session", "t"}``.
        opened: ``time.monotonic()`` when the addresses were opened.
        clicked: ``time.monotonic()`` when "Start the course" was clicked on every page.
    """
    first_runs: dict[str, list[float]] = {}
    lesson1: dict[str, list[float]] = {}
    for e in events:
        session, t, what = e["session"], e["t"], e["event"]
        if t < clicked:
            run = first_runs.setdefault(session, [])
            if (what == "run start" and not run) or (what == "run end" and len(run) == 1):
                run.append(t)
        else:
            run = lesson1.setdefault(session, [])
            if (what == "run start" and not run) or (what == "check drawn" and len(run) == 1):
                run.append(t)
    paint = [run for run in first_runs.values() if len(run) == 2]
    checks = [run for run in lesson1.values() if len(run) == 2]
    tf = [e["t"] for e in events if e["event"] == "tensorflow import start"]
    nan = float("nan")
    return {
        "concurrent_server_paint_max": max((end - begin for begin, end in paint), default=nan),
        "concurrent_server_paint_done": max((end for _, end in paint), default=nan) - opened,
        "concurrent_server_lesson1_max": max((end - begin for begin, end in checks), default=nan),
        "concurrent_tf_import_start": (tf[0] - opened) if tf else nan,
    }


def concurrent(playwright, sessions: int) -> dict[str, float]:
    """``sessions`` learners open a cold server at once, then all start lesson 1 at once."""
    with (
        tempfile.TemporaryDirectory() as home,
        _run_log(Path(home) / "runs.jsonl"),
        serve.streamlit_server(home) as (url, _),
    ):
        browser = serve.launch(playwright)
        try:
            pages = [
                browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                for _ in range(sessions)
            ]
            cpu_before = _cpu_seconds()
            opened = time.monotonic()
            for i, page in enumerate(pages):
                page.goto(serve.learner_url(url, f"learner{i}")(), wait_until="commit")
            paints = _first_seen(pages, lambda p: p.get_by_text(TITLE), opened)
            cpu = {k: v - cpu_before[k] for k, v in _cpu_seconds().items()}
            for page in pages:
                serve.settle(page, TIMEOUT)
            cpu_before = _cpu_seconds()
            clicked = time.monotonic()
            for page in pages:
                page.get_by_role("button", name="Start the course").click(no_wait_after=True)
            checks = _first_seen(
                pages,
                lambda p: p.locator('[data-testid="stForm"]').get_by_text("Question 1."),
                clicked,
            )
            cpu_lesson1 = {k: v - cpu_before[k] for k, v in _cpu_seconds().items()}
        finally:
            browser.close()
        events = _events(Path(home) / "runs.jsonl")
    return (
        {
            "concurrent_first_paint_max": max(paints),
            "concurrent_lesson1_max": max(checks),
        }
        | server_times(events, opened, clicked)
        | {
            "concurrent_cpu_server": cpu["server"],
            "concurrent_cpu_browsers": cpu["browsers"],
            "concurrent_cpu_server_lesson1": cpu_lesson1["server"],
            "concurrent_cpu_browsers_lesson1": cpu_lesson1["browsers"],
        }
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="repeat and print each run")
    parser.add_argument("--sessions", type=int, default=5, help="concurrent sessions")
    args = parser.parse_args(argv)
    for run in range(args.runs):
        with sync_playwright() as pw:
            result = tour(pw) | concurrent(pw, args.sessions)
        print(f"run {run + 1}:")
        for key, value in result.items():
            goal = GOALS[key]
            verdict = (
                ""
                if goal is None
                else f"(goal < {goal:.0f} s, " + ("ok)" if value < goal else "OVER GOAL)")
            )
            print(f"  {key:32s} {value:6.2f}  {verdict}")


if __name__ == "__main__":
    main()
