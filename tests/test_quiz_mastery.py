"""Mastery (pass at 80 %), unlocking along the prerequisite graph, and check preparation."""

from __future__ import annotations

import pytest

from quiz import get_course
from quiz.data import Result
from quiz.mastery import (
    LOCKED,
    PASS_THRESHOLD,
    PASSED,
    UNLOCKED,
    architecture_matrix,
    check_score,
    is_passing,
    lesson_states,
    newly_unlocked,
    next_lesson,
    prepare_check,
    unlocked_lessons,
)


def results(*scores: float) -> list[Result]:
    return [Result(f"q{i}", s == 1.0, s, "", "", 0) for i, s in enumerate(scores)]


def test_threshold_is_80_percent():
    assert PASS_THRESHOLD == 0.8
    assert is_passing(check_score(results(1, 1, 1, 1, 0)))  # exactly 0.8
    assert not is_passing(check_score(results(1, 1, 1, 0, 0)))
    assert check_score(results(1, 0.5)) == pytest.approx(0.75)
    assert check_score([]) == 0.0
    # 8 of 10 right out of floating-point sums still passes
    assert is_passing(check_score(results(*([1.0] * 8 + [0.0] * 2))))
    assert is_passing(check_score(results(*([0.1 * 8] * 10))))


def test_unlocking_follows_prerequisites():
    course = get_course()
    assert unlocked_lessons(course, set()) == {"convolution"}
    assert unlocked_lessons(course, {"convolution"}) == {"convolution", "alexnet"}
    after_alexnet = unlocked_lessons(course, {"convolution", "alexnet"})
    assert {"vgg", "inception"} <= after_alexnet and "degradation" not in after_alexnet
    # degradation needs both VGG and Inception
    assert "degradation" not in unlocked_lessons(course, {"convolution", "alexnet", "vgg"})
    assert "degradation" not in unlocked_lessons(
        course, {"convolution", "alexnet", "vgg", "inception"}
    )
    assert "batchnorm" in unlocked_lessons(course, {"convolution", "alexnet", "vgg", "inception"})
    assert "degradation" in unlocked_lessons(
        course, {"convolution", "alexnet", "vgg", "inception", "batchnorm"}
    )


def test_states_next_and_newly_unlocked():
    course = get_course()
    states = lesson_states(course, {"convolution"})
    assert states["convolution"] == PASSED
    assert states["alexnet"] == UNLOCKED
    assert states["vgg"] == LOCKED
    assert next_lesson(course, set()).id == "convolution"
    assert next_lesson(course, {"convolution"}).id == "alexnet"
    assert next_lesson(course, {le.id for le in course.lessons}) is None
    assert newly_unlocked(course, {"convolution"}, "alexnet") == ["vgg", "inception"]
    assert newly_unlocked(course, {"convolution", "alexnet"}, "vgg") == []


def test_matrix_states_and_columns():
    course = get_course()
    matrix = architecture_matrix(course, {"convolution", "alexnet"})
    by_id = {n.lesson_id: n for n in matrix.nodes}
    assert by_id["alexnet"].state == PASSED and by_id["vgg"].state == UNLOCKED
    assert by_id["residual"].state == LOCKED
    cols = matrix.columns()
    assert [n.label for n in cols[0]] == ["LeNet-5"]
    assert [n.label for n in cols[2]] == ["VGG", "Inception"]
    assert by_id["vgg"].year == 2014 and "vgg16" in by_id["vgg"].models
    for src, dst in matrix.edges:
        assert by_id[src].column < by_id[dst].column


def test_prepare_check_shuffles_reproducibly_and_renders():
    lesson = get_course().lesson("vgg")
    a = prepare_check(lesson, seed=3)
    b = prepare_check(lesson, seed=3)
    assert a == b
    assert sorted(q.id for q in a) == sorted(q.id for q in lesson.questions)
    assert not any(q.is_template for q in a)
    orders = {tuple(q.id for q in prepare_check(lesson, seed=s)) for s in range(10)}
    assert len(orders) > 1
    unshuffled = prepare_check(lesson, seed=1, shuffle=False)
    assert [q.id for q in unshuffled] == [q.id for q in lesson.questions]


def test_course_lookup_by_id_and_number():
    course = get_course()
    assert course.lesson("vgg").order == 3
    assert course.lesson(3).id == "vgg" and course.lesson("3").id == "vgg"
    with pytest.raises(KeyError):
        course.lesson("nope")
    assert course.lesson("vgg").section("small-filters").kind == "markdown"


def test_prepare_check_shuffles_choices_and_remaps_answers():
    from quiz.grading import expected_response, grade

    lesson = get_course().lesson("vgg")
    original = {q.id: q for q in lesson.questions}
    positions = set()
    for seed in range(8):
        for q in prepare_check(lesson, seed=seed):
            source = original[q.id]
            assert sorted(q.choices) == sorted(source.choices)
            if q.kind == "single":
                assert q.choices[q.answer] == source.choices[source.answer]
                if q.id == "vgg-two-3x3-rf":
                    positions.add(q.answer)
            elif q.kind == "multiple":
                assert {q.choices[i] for i in q.answer} == {
                    source.choices[i] for i in source.answer
                }
            elif q.kind == "ordering":
                assert [q.choices[i] for i in q.answer] == [
                    source.choices[i] for i in source.answer
                ]
            assert grade(q, expected_response(q)).correct
    assert len(positions) > 1  # the right choice is not always in the same place
