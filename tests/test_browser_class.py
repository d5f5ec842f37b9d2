"""A class in Chromium: sign-in through a real OpenID Connect provider (``oidc-provider-mock``,
started here), the roster deciding who is in, the instructor page only for instructors.

One Streamlit server in class mode over the session's PostgreSQL; the provider lets anyone
"sign in" by typing an e-mail (its ``sub``), which is what a school's provider would vouch for.
"""

from __future__ import annotations

import pytest
import serve
from class_servers import ROSTER, class_server, sign_in

from quiz import roster
from quiz.store import ProgressStore

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = serve.ROOT / "test-artifacts" / "browser-class"


@pytest.fixture
def class_url(postgres_server, oidc_provider, tmp_path):
    """The course in class mode: ``(url, database URL)``."""
    database = postgres_server.schema()
    roster.save(ProgressStore(database), roster.parse_roster(ROSTER))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with class_server(tmp_path, database, oidc_provider, ARTIFACTS / "streamlit.log") as url:
        yield url, database


def test_roster_learner_in_stranger_refused_instructor_page_for_instructors(playwright, class_url):
    url, database = class_url
    browser = serve.launch(playwright)
    try:
        # a learner on the roster: their own name, no learner picker, no instructor page
        page = browser.new_page()
        errors = serve.collect_errors(page)
        sign_in(page, url, "ada@school.example")
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("Signed in as").wait_for(timeout=30_000)
        assert "Ada Lovelace" in sidebar.inner_text()
        assert sidebar.locator('[data-testid="stSelectbox"]').count() == 0  # no picker
        assert page.get_by_text("Who are you?").count() == 0
        assert "Instructor" not in sidebar.inner_text()
        page.screenshot(path=str(ARTIFACTS / "learner.png"))
        for address in (f"{url}instructor", f"{url}instructor?learner=grace@school.example"):
            page.goto(address)
            serve.settle(page, 90_000)
            assert page.get_by_text("Your class").count() == 0, address
            assert "Ada Lovelace" in page.locator('[data-testid="stSidebar"]').inner_text()
        page.goto(f"{url}?learner=grace@school.example")  # someone else's name: still Ada
        serve.settle(page, 90_000)
        assert "Ada Lovelace" in page.locator('[data-testid="stSidebar"]').inner_text()
        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("button", name="End session").click()  # the provider's own page
        page.wait_for_url(f"{url}**", timeout=60_000)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        page.goto(url)  # signed out for good: a reload does not sign back in
        # (settle alone can return before a loaded server's first run has begun: wait for it)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        serve.settle(page, 90_000)
        assert page.get_by_role("button", name="Sign in").count() == 1
        assert page.locator('[data-testid="stSidebar"]').count() == 0
        app_errors = [e for e in errors if url in e]  # not the provider's page (its favicon)
        refused = "The page that you have requested does not seem to exist"
        assert sum(refused in e for e in app_errors) == 2  # the two instructor addresses
        assert all(refused in e for e in app_errors), app_errors

        # a stranger: signed in at the provider, refused by the roster
        stranger = browser.new_page()
        sign_in(stranger, url, "eve@elsewhere.example")
        stranger.get_by_text("which is not on this class's roster").wait_for(timeout=30_000)
        assert "eve@elsewhere.example" in stranger.inner_text("body")
        stranger.screenshot(path=str(ARTIFACTS / "stranger.png"))
        assert "eve@elsewhere.example" not in ProgressStore(database).learners()

        # an instructor: the class page, with the learner in it
        teacher = browser.new_page()
        sign_in(teacher, url, "grace@school.example")
        teacher.get_by_role("link", name="Instructor").click()
        serve.settle(teacher, 90_000)
        teacher.get_by_text("Your class").wait_for(timeout=60_000)
        teacher.screenshot(path=str(ARTIFACTS / "instructor.png"), full_page=True)
        teacher.get_by_role("tab", name="One learner").click()
        teacher.get_by_text("Ada Lovelace: 0 System Checks").wait_for(timeout=60_000)
    finally:
        browser.close()
