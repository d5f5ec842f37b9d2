"""Grading of every question kind: right, wrong, partially right and malformed responses."""

from __future__ import annotations

import math

import pytest

from quiz import get_course
from quiz.data import Question
from quiz.generators import render_question
from quiz.grading import (
    GRADERS,
    ResponseError,
    expected_response,
    grade,
    parse_number,
    parse_response,
)


def make(kind: str, **kw) -> Question:
    base = dict(
        id=f"t-{kind}",
        lesson_id="t",
        kind=kind,
        prompt="?",
        explanation="because",
        section="s",
    )
    base.update(kw)
    return Question(**base)


SINGLE = make("single", choices=("3x3", "5x5", "7x7"), answer=1)
MULTI = make("multiple", choices=("a", "b", "c", "d"), answer=(0, 2))
NUMERIC = make("numeric", answer=15.3, tolerance=0.05, unit="%")
EXACT = make("numeric", answer=73856)
RELATIVE = make("numeric", answer=120.4224, rel_tol=0.01)
ORDER = make("ordering", choices=("AlexNet", "ResNet", "LeNet-5", "GoogLeNet"), answer=(2, 0, 3, 1))
TEMPLATE = make(
    "generated",
    generator="stacked_conv_rf",
    prompt="{n} stacked {k}x{k}?",
    explanation="1 + {n}*{k_minus_1} = {answer}",
)


def test_every_kind_has_a_grader():
    assert set(GRADERS) == {"single", "multiple", "numeric", "ordering", "generated"}


def test_single_right_and_wrong():
    right = grade(SINGLE, 1)
    assert (right.correct, right.score, right.expected) == (True, 1.0, "5x5")
    assert right.explanation == "because"
    assert right.question_id == "t-single"
    assert right.response == "5x5"  # stored as text: choices are shuffled per attempt
    wrong = grade(SINGLE, 2)
    assert (wrong.correct, wrong.score, wrong.expected) == (False, 0.0, "5x5")
    assert wrong.explanation == "because"


@pytest.mark.parametrize("bad", [3, -1, "1", 1.0, True, None, [1]])
def test_single_malformed(bad):
    with pytest.raises(ResponseError):
        grade(SINGLE, bad)


@pytest.mark.parametrize(
    ("response", "score", "correct"),
    [
        ([0, 2], 1.0, True),
        ({2, 0}, 1.0, True),
        ((2, 0), 1.0, True),
        ([0], 0.5, False),
        ([0, 1], 0.0, False),  # one hit, one false pick
        ([0, 2, 1], 0.5, False),
        ([0, 1, 2, 3], 0.0, False),  # picking everything earns nothing
        ([1, 3], 0.0, False),
        ([], 0.0, False),
    ],
)
def test_multiple_partial_credit(response, score, correct):
    result = grade(MULTI, response)
    assert result.score == pytest.approx(score)
    assert result.correct is correct
    assert result.expected == "a; c"
    assert result.response == [MULTI.choices[i] for i in sorted(set(response))]


@pytest.mark.parametrize("bad", [2, "0,2", [0, 0], [0, 4], [-1], [0.0], None, [True]])
def test_multiple_malformed(bad):
    with pytest.raises(ResponseError):
        grade(MULTI, bad)


@pytest.mark.parametrize(
    ("question", "response", "correct"),
    [
        (NUMERIC, 15.3, True),
        (NUMERIC, 15.34, True),
        (NUMERIC, 15.26, True),
        (NUMERIC, 15.4, False),
        (NUMERIC, 26.2, False),
        (EXACT, 73856, True),
        (EXACT, 73856.0, True),
        (EXACT, 73857, False),
        (RELATIVE, 120.0, True),
        (RELATIVE, 121.6, True),
        (RELATIVE, 118.0, False),
        (RELATIVE, 12.4, False),
    ],
)
def test_numeric_tolerance(question, response, correct):
    result = grade(question, response)
    assert result.correct is correct
    assert result.score == (1.0 if correct else 0.0)


def test_numeric_expected_text_has_unit_and_tolerance():
    assert grade(NUMERIC, 1).expected == "15.3 % (± 0.05)"
    assert grade(EXACT, 1).expected == "73,856"


@pytest.mark.parametrize("bad", ["15.3", None, True, math.nan, math.inf, [15.3]])
def test_numeric_malformed(bad):
    with pytest.raises(ResponseError):
        grade(NUMERIC, bad)


def test_ordering_right_partial_reversed():
    right = grade(ORDER, [2, 0, 3, 1])
    assert right.correct and right.score == 1.0
    assert right.expected == "LeNet-5 < AlexNet < GoogLeNet < ResNet"
    assert right.response == ["LeNet-5", "AlexNet", "GoogLeNet", "ResNet"]
    reversed_ = grade(ORDER, [1, 3, 0, 2])
    assert not reversed_.correct and reversed_.score == 0.0
    swapped = grade(ORDER, [0, 2, 3, 1])  # first two swapped: 5 of 6 pairs right
    assert not swapped.correct
    assert swapped.score == pytest.approx(5 / 6)


@pytest.mark.parametrize("bad", [[2, 0, 3], [2, 0, 3, 3], [2, 0, 3, 4], "2031", 2, {0, 1, 2, 3}])
def test_ordering_malformed(bad):
    with pytest.raises(ResponseError):
        grade(ORDER, bad)


def test_generated_must_be_rendered():
    with pytest.raises(ValueError, match="render"):
        grade(TEMPLATE, 5)


def test_generated_right_wrong_malformed():
    q = render_question(TEMPLATE, params={"n": 4, "k": 3})
    assert q.prompt == "4 stacked 3x3?"
    assert q.answer == 9
    right = grade(q, 9)
    assert right.correct and right.explanation == "1 + 4*2 = 9"
    assert right.params == (("k", 3), ("n", 4))
    assert not grade(q, 7).correct
    with pytest.raises(ResponseError):
        grade(q, "9")


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown question kind"):
        grade(make("essay"), "text")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("42", 42),
        (" 138,357,544 ", 138357544),
        ("1_000", 1000),
        ("15.3", 15.3),
        ("15.3%", 15.3),
        ("1.5e-3", 0.0015),
        ("138M", 138e6),
        ("2k", 2000.0),
        ("11.3G", 11.3e9),
        ("-0.5", -0.5),
        ("8.9e-16", 8.9e-16),
        ("8.9E-16", 8.9e-16),
        ("8.9 × 10^-16", 8.9e-16),
        ("8.9x10^-16", 8.9e-16),
        ("8.9*10**-16", 8.9e-16),
        ("8.9·10⁻¹⁶", 8.9e-16),
        ("1.2 × 10^3", 1200.0),
        ("−0.25", -0.25),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == pytest.approx(value)


@pytest.mark.parametrize(
    "text", ["", "abc", "1.2.3", "5x5", "12 apples", "10^-3", "2x10^", "3x10^2.5"]
)
def test_parse_number_rejects(text):
    with pytest.raises(ResponseError):
        parse_number(text)


@pytest.mark.parametrize(
    "digits", ["9" * 5000, "9" * 400 + ".5", "1" * 101 + "M", "-" + "7" * 4301]
)
def test_a_number_with_thousands_of_digits_is_not_a_number(digits):
    with pytest.raises(ResponseError, match=r"^not a number: '[-0-9]{40}'\.\.\. has \d+ digits"):
        parse_number(digits)


def test_a_hundred_digits_are_still_a_number_and_grade():
    assert grade(NUMERIC, parse_number("9" * 100)).correct is False


def test_parse_response_is_one_based():
    assert parse_response(SINGLE, "2") == 1
    assert parse_response(MULTI, "1, 3") == [0, 2]
    assert parse_response(ORDER, "3,1,4,2") == [2, 0, 3, 1]
    assert parse_response(NUMERIC, "15.3") == 15.3
    for bad_single in ("1,2", "4", "0", "x"):
        with pytest.raises(ResponseError):
            parse_response(SINGLE, bad_single)
    with pytest.raises(ResponseError, match="1 to 4"):
        parse_response(MULTI, "5")


def test_every_real_question_accepts_its_expected_response_and_rejects_a_wrong_one():
    for q in get_course().questions:
        rendered = render_question(q, 0)
        ok = grade(rendered, expected_response(rendered))
        assert ok.correct and ok.score == 1.0, q.id
        assert ok.explanation, q.id
        if q.kind == "single":
            wrong = (rendered.answer + 1) % len(q.choices)
        elif q.kind == "multiple":
            wrong = [i for i in range(len(q.choices)) if i not in rendered.answer]
        elif q.kind == "ordering":
            wrong = list(reversed(rendered.answer))
        else:
            wrong = rendered.answer * 3 + 1000
        bad = grade(rendered, wrong)
        assert not bad.correct, q.id
        assert bad.score < 1.0, q.id


def test_tiny_generated_answers_are_graded_in_e_notation():
    """0.5^50 = 8.9e-16: typed in e-notation (as the prompt says) it is right, 0 is wrong."""
    from quiz import get_course
    from quiz.generators import render_question

    q = render_question(get_course().question("plain-gradient-gen"), params={"a": 0.5, "n": 50})
    assert "e-notation" in q.prompt
    assert grade(q, parse_number("8.882e-16")).correct
    assert grade(q, parse_number("8.88 × 10^-16")).correct
    assert not grade(q, parse_number("0")).correct
    assert not grade(q, parse_number("8.9e-15")).correct


def test_a_choice_number_with_thousands_of_digits_is_refused_in_a_short_line():
    with pytest.raises(ResponseError) as error:
        parse_response(SINGLE, "9" * 5000)
    assert str(error.value) == f"expected choice numbers such as 1,3 got '{'9' * 40}'..."
