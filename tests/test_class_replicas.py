"""Two replicas, one class: two Streamlit servers in class mode over one PostgreSQL. A learner
submits a System Check on one and sees its score on the other; the instructor's view on the
other shows it too."""

from __future__ import annotations

import re

import pytest
import serve
from class_servers import ROSTER, class_server, sign_in

from quiz import roster
from quiz.store import ProgressStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = serve.ROOT / "test-artifacts" / "browser-replicas"


def test_submit_on_one_replica_see_it_on_the_other(
    playwright, postgres_server, oidc_provider, tmp_path
):
    database = postgres_server.schema()
    roster.save(ProgressStore(database), roster.parse_roster(ROSTER))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with (
        class_server(tmp_path / "a", database, oidc_provider, ARTIFACTS / "a.log") as one,
        class_server(tmp_path / "b", database, oidc_provider, ARTIFACTS / "b.log") as two,
    ):
        browser = serve.launch(playwright)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            sign_in(page, one, "ada@school.example")
            page.get_by_role("button", name="Start the course").click()
            page.get_by_role("heading", name="System Check").wait_for(timeout=120_000)
            serve.settle(page, 120_000)
            serve.answer_everything(page)
            serve.settle(page, 90_000)
            serve.submit_check(page)
            serve.settle(page)
            score = re.search(r"Score: (\d+)%", page.inner_text("body")).group(1)
            (stored,) = ProgressStore(database).checks("ada@school.example")
            assert f"{stored.score:.0%}" == f"{score}%"

            other = browser.new_page(viewport={"width": 1280, "height": 900})
            sign_in(other, two, "ada@school.example")
            other.get_by_text(f"best score {score}%").wait_for(timeout=60_000)
            other.screenshot(path=str(ARTIFACTS / "learner-on-b.png"))

            teacher = browser.new_page(viewport={"width": 1280, "height": 900})
            sign_in(teacher, two, "grace@school.example")
            teacher.get_by_role("link", name="Instructor").click()
            teacher.get_by_text("Your class").wait_for(timeout=60_000)
            serve.settle(teacher, 90_000)
            teacher.get_by_role("tab", name="One learner").click()
            teacher.get_by_text("Ada Lovelace: 1 System Checks").wait_for(timeout=60_000)
            teacher.screenshot(path=str(ARTIFACTS / "instructor-on-b.png"), full_page=True)
        finally:
            browser.close()
