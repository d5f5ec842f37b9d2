"""A class: the roster (CSV, CLI), class-mode settings, the instructor's statistics computed
against hand-worked values, and the app refusing class mode without what it needs."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from quiz import instructor, roster, settings
from quiz.cli import main
from quiz.data import Result
from quiz.store import Attempt, CheckRecord, ProgressStore

REPO = Path(__file__).resolve().parents[1]
ROSTER = """email,name,role
Ada@School.example, Ada Lovelace ,learner
grace@school.example,Grace Hopper,Instructor

bob@school.example,Bob,learner
"""


def call(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(args), stdout=out), out.getvalue()


# -- the roster ------------------------------------------------------------------------------------


def test_a_roster_csv_is_read_normalised():
    members = roster.parse_roster(ROSTER, "class.csv")
    assert members == [
        roster.Member("ada@school.example", "Ada Lovelace", "learner"),
        roster.Member("grace@school.example", "Grace Hopper", "instructor"),
        roster.Member("bob@school.example", "Bob", "learner"),
    ]
    assert roster.admit(members, "ADA@school.example ").name == "Ada Lovelace"
    assert roster.admit(members, "eve@school.example") is None
    assert roster.admit(members, None) is None


def test_every_roster_problem_is_named_with_file_and_line():
    text = "email,name,role\nnot-an-email,Bob,learner\nx@y.z,,teacher\nx@y.z,X,learner\na,b\n"
    text += "x@y.z,Again,learner\n"
    with pytest.raises(roster.RosterError) as caught:
        roster.parse_roster(text, "class.csv")
    assert caught.value.problems == [
        "class.csv:2: email: not an e-mail address. Received: 'not-an-email'",
        "class.csv:3: name: learner name must not be empty",
        "class.csv:3: role: 'teacher' is not one of ['learner', 'instructor']",
        "class.csv:5: expected 3 fields, found 2",
        "class.csv:6: email: x@y.z is already on line 4",
    ]
    with pytest.raises(roster.RosterError, match="header must be email,name,role"):
        roster.parse_roster("mail,name\n", "class.csv")


def test_roster_import_cli_adds_updates_and_replaces(tmp_path):
    path = tmp_path / "class.csv"
    path.write_text(ROSTER, encoding="utf-8")
    code, out = call("roster", "import", str(path))
    assert code == 0, out
    assert "3 added, 0 updated, 0 removed (2 learners, 1 instructors" in out
    path.write_text("email,name,role\nada@school.example,Ada L.,learner\n", encoding="utf-8")
    assert "0 added, 1 updated, 0 removed" in call("roster", "import", str(path))[1]
    assert "0 added, 0 updated, 2 removed" in call("roster", "import", str(path), "--replace")[1]
    code, out = call("roster", "list")
    assert code == 0 and out.splitlines()[0].split() == [
        "ada@school.example",
        "learner",
        "Ada",
        "L.",
    ]
    path.write_text("email,name,role\nbad,X,learner\n", encoding="utf-8")
    code, out = call("roster", "import", str(path))
    assert (
        code == 1 and "class.csv:2: email: not an e-mail" in out and "nothing was imported" in out
    )
    assert len(roster.load(ProgressStore())) == 1


# -- settings --------------------------------------------------------------------------------------

SECRET = "s" * 40
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": SECRET,
    "client_id": "course",
    "client_secret": "x",
    "server_metadata_url": "http://127.0.0.1:9400/.well-known/openid-configuration",
}


def test_class_mode_needs_a_cookie_secret_and_a_provider():
    assert settings.load({}, {}) == settings.ClassSettings()
    assert settings.load({}, {}).problems() == []  # single-user: nothing needed
    ok = settings.load({"keras_cnn": {"class_mode": True}, "auth": AUTH}, {})
    assert ok.class_mode and ok.problems() == []
    weak = settings.load(
        {"keras_cnn": {"class_mode": True}, "auth": {**AUTH, "cookie_secret": "x"}}, {}
    )
    assert (
        "at least 32 characters" in weak.problems()[0]
        and "Received: 1 characters" in weak.problems()[0]
    )
    bare = settings.load({}, {"KERAS_CNN_CLASS": "1"})
    assert len(bare.problems()) == 2 and "names no identity provider" in bare.problems()[1]
    with pytest.raises(ValueError, match="KERAS_CNN_CLASS must be true or false"):
        settings.load({}, {"KERAS_CNN_CLASS": "maybe"})
    env = {"KERAS_CNN_DATABASE_URL": "postgresql://a@b/c"}
    assert settings.load(
        {"keras_cnn": {"database_url": "postgresql://x@y/z"}}, env
    ).database_url == ("postgresql://a@b/c")


# -- the instructor's statistics, against hand-worked values ---------------------------------------


def answer(i, learner, qid, correct, response, check_id, lesson="vgg", kind="question"):
    return Attempt(
        i, learner, lesson, qid, response, correct, float(correct), (), check_id,
        f"2026-03-0{i % 9 + 1}T10:00:00+00:00", kind,
    )  # fmt: skip


#: Four learners, one System Check each of two questions. Mean scores: a 1.0, b 0.5, c 0.5,
#: d 0.0, so (ceil(0.27 * 4) = 2 per group) upper = a, b and lower = c, d.
#: q1: a, b right; c, d wrong (both answered 3): share 2/4, D = (1 + 1)/2 - (0 + 0)/2 = 1.
#: q2: a, c right; b answered 7, d answered 9: share 2/4, D = (1 + 0)/2 - (1 + 0)/2 = 0.
ANSWERS = [
    answer(1, "a", "q1", True, 2, 1), answer(2, "a", "q2", True, 5, 1),
    answer(3, "b", "q1", True, 2, 2), answer(4, "b", "q2", False, 7, 2),
    answer(5, "c", "q1", False, 3, 3), answer(6, "c", "q2", True, 5, 3),
    answer(7, "d", "q1", False, 3, 4), answer(8, "d", "q2", False, 9, 4),
    answer(9, "a", "q1", False, 0, None),  # practice, outside a check: not counted
    answer(10, "a", "ex1", True, "code", None, kind="exercise"),
    answer(11, "b", "ex1", False, "code", None, kind="exercise"),
]  # fmt: skip


def test_question_statistics_match_hand_computed_values():
    q1, q2 = instructor.question_stats(ANSWERS)
    assert (q1.question_id, q1.answers, q1.learners, q1.share_correct) == ("q1", 4, 4, 0.5)
    assert q1.common_wrong == (("3", 2),) and q1.discrimination == 1.0
    assert (q2.question_id, q2.share_correct, q2.discrimination) == ("q2", 0.5, 0.0)
    assert q2.common_wrong == (("7", 1), ("9", 1))
    assert instructor.discrimination({"a": 1, "b": 0.5, "c": 0.2}, {"a": 1, "b": 1, "c": 0}) is None
    # 7 learners: groups of ceil(1.89) = 2; upper e1, e2 (1, 1), lower e6, e7 (0, 1): D = 1 - 0.5
    strength = {f"e{i}": 1 - i / 10 for i in range(1, 8)}
    correct = {"e1": 1, "e2": 1, "e3": 0, "e4": 0, "e5": 1, "e6": 0, "e7": 1}
    assert instructor.discrimination(strength, correct) == 0.5
    (ex,) = instructor.exercise_stats(ANSWERS)
    assert (ex.exercise_id, ex.learners, ex.passed, ex.pass_rate) == ("ex1", 2, 1, 0.5)


def check(i, learner, lesson, score, day):
    return CheckRecord(
        i, learner, lesson, score, score >= 0.8, 10, f"2026-03-{day:02d}T09:00:00+00:00"
    )


def test_matrix_and_who_is_stuck():
    checks = [
        check(1, "a", "vgg", 0.5, 1), check(2, "a", "vgg", 0.9, 2),
        check(3, "b", "vgg", 0.3, 3), check(4, "b", "vgg", 0.4, 4), check(5, "b", "vgg", 0.7, 20),
    ]  # fmt: skip
    cells = instructor.matrix(["a", "b", "c"], ["vgg", "resnet"], checks)
    assert [(c.email, c.lesson_id, c.passed, c.best_score, c.attempts) for c in cells] == [
        ("a", "vgg", True, 0.9, 2), ("a", "resnet", False, None, 0),
        ("b", "vgg", False, 0.7, 3), ("b", "resnet", False, None, 0),
        ("c", "vgg", False, None, 0), ("c", "resnet", False, None, 0),
    ]  # fmt: skip
    assert cells[0].last_active == "2026-03-02T09:00:00+00:00"
    active = instructor.last_active(["a", "b", "c"], checks, [])
    now = datetime(2026, 3, 21, 12, tzinfo=UTC)
    assert instructor.stuck(cells, active, now) == [
        instructor.Stuck("b", "vgg", "3 checks, none passed"),
        instructor.Stuck("a", None, "no answer for 19 days"),
        instructor.Stuck("c", None, "no answer yet"),
    ]
    text = instructor.to_csv(cells[:1])
    assert text == (
        "email,lesson_id,passed,best_score,attempts,last_active\n"
        "a,vgg,True,0.9,2,2026-03-02T09:00:00+00:00\n"
    )


def test_class_rows_feed_the_statistics(tmp_path):
    store = ProgressStore(tmp_path / "p.sqlite3")
    for learner, right in (("a", True), ("b", True), ("c", False), ("d", False)):
        store.record_check(learner, "vgg", [Result("q1", right, float(right), "", "", 3)])
    checks, attempts = store.class_rows()
    assert [c.learner for c in checks] == ["a", "b", "c", "d"]
    (q1,) = instructor.question_stats(attempts)
    assert (q1.share_correct, q1.discrimination, q1.common_wrong) == (0.5, 1.0, (("3", 2),))


# -- the app refuses class mode without what it needs ----------------------------------------------


def test_class_mode_without_a_cookie_secret_or_roster_refuses_to_open(monkeypatch):
    monkeypatch.setenv("KERAS_CNN_CLASS", "1")
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60)
    at.secrets["auth"] = {**AUTH, "cookie_secret": "short"}
    at.run()
    assert not at.exception
    errors = " ".join(e.value for e in at.error)
    assert "cookie_secret" in errors and "roster" in errors
    assert not at.sidebar.selectbox and not at.text_input  # no learner picker, no name prompt


def test_the_sign_in_callback_reaches_streamlit_not_the_page_html():
    """``/oauth2callback`` looks like a page address (one segment, no dot), but it is where the
    identity provider sends the browser back: Streamlit must answer it, or sign-in never ends."""
    import asyncio

    from app import server

    seen = []

    async def streamlit(scope, receive, send):
        seen.append(scope["path"])

    async def send(message):
        seen.append(message["type"])

    middleware = server.PageAddress(streamlit)
    for path in ("/oauth2callback", "/model_lab"):
        asyncio.run(middleware({"type": "http", "method": "GET", "path": path}, None, send))
    assert seen == ["/oauth2callback", "http.response.start", "http.response.body"]


# -- a simulated class on the instructor page ------------------------------------------------------


@pytest.mark.slow
def test_the_instructor_page_shows_a_seeded_class_of_thirty(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "seed_class", REPO / "benchmarks" / "seed_class.py"
    )
    seed_class = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seed_class)
    store = ProgressStore()
    summary = seed_class.seed_class(store, 30, seed=3)
    members = roster.load(store)
    assert sum(not m.is_instructor for m in members) == 30 and summary["checks"] > 30
    checks, attempts = store.class_rows()
    stats = instructor.question_stats(attempts)
    assert len(stats) > 20 and all(0 <= q.share_correct <= 1 for q in stats)
    assert any(q.discrimination is not None for q in stats)

    at = AppTest.from_file(str(REPO / "app" / "pages" / "instructor.py"), default_timeout=120)
    at.session_state["class_member"] = seed_class.INSTRUCTOR
    at.run()
    assert not at.exception
    assert at.title[0].value == "Your class"
    assert [m.value for m in at.metric][:1] == ["30"]
    shown = " ".join(str(df.value.to_dict()) for df in at.dataframe)
    assert "Learner 01" in shown and "discrimination" in shown
    assert any("the training queue and its workers need" in i.value for i in at.info)  # SQLite

    learner = AppTest.from_file(str(REPO / "app" / "pages" / "instructor.py"), default_timeout=60)
    learner.session_state["class_member"] = members[1]  # a learner: refused, nothing read
    learner.run()
    assert [e.value for e in learner.error] == ["Only the class's instructors can open this page."]
    assert not learner.dataframe and not learner.metric
