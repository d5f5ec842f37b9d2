"""The System Check after Submit, through AppTest (issue 19, item 7): the score and the next
step come first and the page scrolls to them once, passing a lesson that unlocks nothing new
still says where to go, an ordering question has no "Select all", a check with questions left
open names them in words, and the best score is re-read while the page is open."""

import pytest
from streamlit.testing.v1 import AppTest
from test_app import COURSE, answer, pass_lessons, start, texts

import quiz
from app import check as check_page
from app import lesson as lesson_page
from app import logic


def flat(node) -> list:
    """The page's elements in the order they are drawn."""
    children = getattr(node, "children", None)
    if children is None:
        return [node]
    return [e for _, child in sorted(children.items()) for e in flat(child)]


def kinds_in_order(at: AppTest) -> list[str]:
    """``score``, ``question`` and ``next`` in page order (the score bar, each question's
    prompt, the "Go to ..." buttons)."""
    order = []
    for element in flat(at.main):
        if element.type == "progress" and element.proto.text.startswith("Score:"):
            order.append("score")
        elif element.type == "markdown" and str(element.value).startswith("**Question "):
            order.append("question")
        elif element.type == "button" and str(element.label).startswith("Go to "):
            order.append("next")
    return order


def test_the_score_and_the_next_step_come_before_the_questions_and_are_scrolled_to():
    at = start()
    at.button(key="continue").click().run()
    assert "score" not in kinds_in_order(at) and not at.get("html")
    answer(at, "convolution", right=True)
    order = kinds_in_order(at)
    assert order.index("score") < order.index("question")
    assert order.index("next") < order.index("question")
    scroll = [h.proto.body for h in at.get("html")]
    assert len(scroll) == 1 and repr(check_page.RESULT_ANCHOR) in scroll[0]
    assert [h.proto.anchor for h in at.subheader if h.value == "Your result"] == [
        check_page.RESULT_ANCHOR
    ]
    at.run()  # any later run (a widget, the score refresh) does not scroll again
    assert not at.get("html") and "score" in kinds_in_order(at)


def test_passing_vgg_says_where_to_go_next_though_it_unlocks_nothing():
    pass_lessons("convolution", "alexnet")
    at = start()
    at.button(key="continue").click().run()  # the first open lesson: 3. VGG
    assert texts(at, "title")[0].startswith("3. VGG")
    answer(at, "vgg", right=True)
    assert not [i for i in texts(at, "info") if i.startswith("Unlocked")]
    inception = COURSE.lesson("inception")
    assert f"Next: **{inception.order}. {inception.title}**, which BatchNorm also needs." in texts(
        at, "info"
    )
    at.button(key="go:inception").click().run()
    assert not at.exception, at.exception
    assert texts(at, "title")[0] == f"{inception.order}. {inception.title}"


@pytest.mark.parametrize(
    ("passed", "just_passed", "expected"),
    [
        (("convolution", "alexnet", "vgg"), "vgg", ("inception", "batchnorm")),
        (("convolution", "alexnet", "inception"), "inception", ("vgg", "batchnorm")),
        # passed again later: the next lesson to do, no locked lesson waits for this one
        (("convolution", "alexnet", "vgg", "inception"), "convolution", ("batchnorm", None)),
        (tuple(le.id for le in COURSE.lessons), "using-cnns", (None, None)),
    ],
)
def test_next_after_pass(passed, just_passed, expected):
    states = quiz.lesson_states(COURSE, set(passed))
    assert logic.next_after_pass(COURSE, COURSE.lesson(just_passed), states) == expected


def test_an_ordering_question_offers_no_select_all():
    at = start()
    at.button(key="continue").click().run()
    attempt = at.session_state[check_page.attempt_key("convolution")]
    keys = {
        q.kind: check_page.widget_key("convolution", attempt["seed"], i)
        for i, q in enumerate(attempt["questions"])
    }
    assert "ordering" in keys, "lesson 1's check has an ordering question"
    assert at.multiselect(key=keys["ordering"]).proto.select_all == 0
    if "multiple" in keys:  # "choose all that apply" may still pick them all at once
        assert at.multiselect(key=keys["multiple"]).proto.select_all != 0


def test_unanswered_questions_are_named_in_words():
    at = start()
    at.button(key="continue").click().run()
    questions = at.session_state[check_page.attempt_key("convolution")]["questions"]
    [b for b in at.button if b.label == "Submit answers"][0].click().run()
    numbers = ", ".join(str(i) for i in range(1, len(questions))) + f" and {len(questions)}"
    assert (
        f"Answer every question before submitting: questions {numbers} have no answer yet."
        in texts(at, "warning")
    )
    assert not [w for w in texts(at, "warning") if "[" in w]


@pytest.mark.parametrize(
    ("numbers", "said"),
    [([3], "question 3"), ([2, 5], "questions 2 and 5"), ([1, 2, 5], "questions 1, 2 and 5")],
)
def test_numbered(numbers, said):
    assert logic.numbered("question", numbers) == said


def test_the_best_score_is_re_read_while_the_lesson_is_open(monkeypatch):
    """Another tab of the same learner passes: this tab's best score is drawn by a fragment
    the browser reruns on a timer (AppTest has no timer: the test sees the timer's message
    and runs the page again, as each tick does for the fragment)."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    timers = []
    enqueue = ScriptRunContext.enqueue

    def spy(self, msg):
        if msg.HasField("auto_rerun"):
            timers.append(msg.auto_rerun.interval)
        return enqueue(self, msg)

    monkeypatch.setattr(ScriptRunContext, "enqueue", spy)
    first, other = start(), start()
    for at in (first, other):
        at.button(key="continue").click().run()
    assert first.get("progress")[0].proto.text == "System Check not taken yet"
    assert timers and set(timers) == {lesson_page.SCORE_REFRESH_S}
    assert lesson_page.SCORE_REFRESH_S <= 10
    answer(other, "convolution", right=True)
    first.run()
    assert first.get("progress")[0].proto.text == "Best System Check score: 100% (passed)"
