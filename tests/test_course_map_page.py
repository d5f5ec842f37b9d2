"""The course map's architecture matrix (issue 19, item 7): its nodes look like buttons, so a
click on one opens its lesson, for the same learner (the address keeps ``?learner=``)."""

import re
import urllib.parse

from test_app import COURSE, start

import quiz
from app import logic


def test_lesson_address_keeps_the_learner_and_escapes_the_name():
    assert logic.lesson_address("vgg", "Ada") == "lesson-vgg?learner=Ada"
    assert logic.lesson_address("vgg", "Zoë & co") == "lesson-vgg?learner=Zo%C3%AB+%26+co"


def test_matrix_nodes_link_to_their_lessons_only_when_asked():
    matrix = quiz.architecture_matrix(COURSE, set())
    assert "href" not in logic.course_map_dot(matrix)
    dot = logic.course_map_dot(matrix, href=lambda i: f"go/{i}")
    for lesson in COURSE.lessons:
        assert re.search(rf'"{lesson.id}" \[[^]]*href="go/{lesson.id}"', dot), lesson.id


def test_the_course_map_matrix_links_every_lesson_for_this_learner():
    at = start("Zoë")
    [chart] = at.get("graphviz_chart")
    links = re.findall(r'href="([^"]+)"', chart.proto.spec)
    learner = urllib.parse.urlencode({"learner": "Zoë"})
    assert sorted(links) == sorted(f"lesson-{le.id}?{learner}" for le in COURSE.lessons)
    assert chart.proto.spec.count("target=_self") == len(COURSE.lessons)
