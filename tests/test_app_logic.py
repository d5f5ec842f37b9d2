"""The app's pure helpers (app.logic): no Streamlit session, no TensorFlow."""

import pytest

import quiz
from app import logic

COURSE = quiz.get_course()


def test_course_map_dot_has_every_lesson_edge_and_state():
    matrix = quiz.architecture_matrix(COURSE, {"convolution"})
    dot = logic.course_map_dot(matrix)
    for node in matrix.nodes:
        assert f'"{node.lesson_id}" [label=' in dot
    for src, dst in matrix.edges:
        assert f'"{src}" -> "{dst}";' in dot
    assert "LeNet-5 (1998)\\n✔ passed" in dot
    assert "AlexNet (2012)\\nopen" in dot and "VGG (2014)\\nlocked" in dot


def test_continue_goes_to_last_visited_open_lesson_else_next():
    states = quiz.lesson_states(COURSE, {"convolution"})
    assert logic.continue_lesson(COURSE, states, None) == "alexnet"
    assert logic.continue_lesson(COURSE, states, ("convolution", "")) == "alexnet"  # passed
    assert logic.continue_lesson(COURSE, states, ("vgg", "")) == "alexnet"  # locked
    every = quiz.lesson_states(COURSE, {le.id for le in COURSE.lessons})
    assert logic.continue_lesson(COURSE, every, ("vgg", "")) is None
    assert logic.course_progress(every) == (len(COURSE.lessons), len(COURSE.lessons))


def test_missing_prerequisites():
    vgg = COURSE.lesson("vgg")
    assert logic.missing_prerequisites(vgg, set()) == list(vgg.prerequisites)
    assert logic.missing_prerequisites(vgg, set(vgg.prerequisites)) == []


@pytest.mark.parametrize(
    ("query", "term"),
    [
        ("BatchNorm", "Batch normalization"),
        ("receptive fields", "Receptive field"),
        ("Grad-CAM", "Grad-CAM"),
        ("grad cam", "Grad-CAM"),
        ("cardinality", "Cardinality"),
        ("bottlenecks", "Bottleneck"),
    ],
)
def test_glossary_search_ignores_case_hyphens_spaces_and_plurals(query, term):
    """Issue 19, item 7: these found nothing (exact text only; two terms were missing)."""
    hits = logic.search_glossary(COURSE.glossary, query)
    assert hits and hits[0].term == term, [e.term for e in hits]


def test_search_glossary_and_faq():
    hits = logic.search_glossary(COURSE.glossary, "Receptive  FIELD")
    assert hits and hits[0].term == "Receptive field"
    assert logic.search_glossary(COURSE.glossary, "") == list(COURSE.glossary)
    assert logic.search_glossary(COURSE.glossary, "zzzzqqq") == []
    assert any("VGG16" in e.question for e in logic.search_faq(COURSE.faq, "vgg16 resnet50"))


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("build_resnet", [50], {}), "keras_cnn.build_resnet(50)"),
        (
            ("build_resnet", [50], {"include_top": False, "pooling": "avg"}),
            'keras_cnn.build_resnet(50, include_top=False, pooling="avg")',
        ),
        (
            ("build_vgg", [16], {"batch_norm": False, "input_shape": (64, 64, 3)}),
            "keras_cnn.build_vgg(16, input_shape=(64, 64, 3))",
        ),
        (("build_lenet5", [], {"classes": 10}), "keras_cnn.build_lenet5()"),
    ],
)
def test_builder_call_is_exact_copyable_code(args, code):
    defaults = {"batch_norm": False, "include_top": True, "pooling": None, "classes": 10}
    builder, positional, kwargs = args
    assert logic.builder_call(builder, positional, kwargs, defaults) == code


def test_parse_shape():
    assert logic.parse_shape(" ") is None
    assert logic.parse_shape("160, 160, 3") == (160, 160, 3)
    assert logic.parse_shape("(32x32x3)") == (32, 32, 3)
    for bad in ("160, 160", "a, b, c", "0, 32, 3"):
        with pytest.raises(ValueError, match="three positive integers"):
            logic.parse_shape(bad)


def test_widget_values_round_trip_to_right_answers():
    for question in quiz.prepare_check(COURSE.lesson("convolution"), seed=3):
        expected = quiz.expected_response(question)
        response = logic.widget_response(question, logic.widget_value(question, expected))
        assert quiz.grade(question, response).correct


def test_widget_response_unanswered_and_unreadable():
    questions = {q.kind: q for q in quiz.prepare_check(COURSE.lesson("convolution"), seed=3)}
    assert logic.widget_response(questions["single"], None) is None
    assert logic.widget_response(questions["multiple"], []) is None
    assert logic.widget_response(questions["numeric"], "  ") is None
    assert logic.widget_response(questions["numeric"], "61,706") == 61706
    with pytest.raises(quiz.ResponseError):
        logic.widget_response(questions["numeric"], "lots")
    with pytest.raises(quiz.ResponseError, match="put all"):
        logic.widget_response(questions["ordering"], [0])


def test_conv_stack_lenet5_sizes_jumps_and_receptive_fields():
    rows = logic.conv_stack(32, [(5, 1, 0), (2, 2, 0), (5, 1, 0), (2, 2, 0)])
    assert [(r["size"], r["jump"], r["rf"]) for r in rows] == [
        (28, 1, 5),
        (14, 2, 6),
        (10, 2, 14),
        (5, 4, 16),
    ]
    # Two and three stacked 3x3 "same" convolutions see 5x5 and 7x7 (lesson 1's text).
    assert [r["rf"] for r in logic.conv_stack(8, [(3, 1, 1)] * 3)] == [3, 5, 7]
    assert logic.conv_stack(224, [(7, 2, 3)])[0]["size"] == 112  # ResNet's stem


@pytest.mark.parametrize(
    ("size", "layers", "message"),
    [
        (0, [(3, 1, 1)], "input size must be at least 1"),
        (8, [(0, 1, 0)], "Layer 1: kernel and stride must be at least 1"),
        (8, [(3, 1, -1)], "padding at least 0"),
        (8, [(5, 1, 0), (5, 1, 0)], "Layer 2: a 5x5 window does not fit a 4x4 input"),
    ],
)
def test_conv_stack_refuses_what_cannot_be_computed(size, layers, message):
    with pytest.raises(ValueError, match=message):
        logic.conv_stack(size, layers)


def test_job_status_says_what_happens_and_never_none():
    from app import jobs

    job = jobs.Job(kind="train", label="resnet20 on digits", epochs=5)
    assert job.status() == "resnet20 on digits: Loading the data and building the model…"
    job.on_train_begin({"model": "resnet20", "epochs": 5, "initial_epoch": 0, "steps": None})
    assert job.status().startswith("resnet20: Compiling the model and running the first batch")
    job.on_batch(1, 3, None, {})
    assert job.status() == "resnet20: epoch 1 of 5, batch 3"
    job.on_batch(2, 6, 12, {})
    assert job.status() == "resnet20: epoch 2 of 5, batch 6 of 12"
    assert job.fraction() == pytest.approx(1.5 / 5)
    job.thread = type("Alive", (), {"is_alive": lambda self: True})()
    job.request_stop()
    assert job.status() == "resnet20: Stopping after the current batch…"
    many = jobs.Job(kind="degradation", label="degradation", epochs=2, models=4)
    many.on_train_begin({"model": "plain20", "epochs": 2, "steps": 10})
    many.on_batch(1, 5, 10, {})
    assert many.status() == "model 1 of 4 (plain20): epoch 1 of 2, batch 5 of 10"
    assert many.fraction() == pytest.approx(0.25 / 4)
    assert "None" not in job.status() + many.status()


def test_the_server_runs_one_training_at_a_time_and_refuses_clearly():
    import threading

    from app import jobs

    release = threading.Event()
    first = jobs.start("train", lambda job: release.wait(30) and "done", label="lenet5", epochs=1)
    try:
        assert jobs.running() == [first]
        with pytest.raises(jobs.Busy, match=r"already training lenet5 \(for \d+ s\).*1 training"):
            jobs.start("train", lambda job: None, label="resnet20", epochs=1)
    finally:
        release.set()
        first.thread.join(10)
    assert first.result == "done" and jobs.running() == []
    failing = jobs.start("train", lambda job: 1 / 0, label="broken", epochs=1)
    failing.thread.join(10)
    assert failing.error == "ZeroDivisionError: division by zero"


def test_page_addresses_get_html_that_points_the_frontend_at_the_root():
    from app import server

    html = server.page_html().decode()
    script = html.index('BACKEND_BASE_URL:window.location.origin+"/"')
    assert script < html.index("<script type=")  # set before Streamlit's own script runs
    assert server.PAGE_PATH.match("/model_lab") and server.PAGE_PATH.match("/lesson-vgg")
    for path in ("/", "/static/js/index.js", "/favicon.png", "/_stcore/health", "/a/b"):
        assert not server.PAGE_PATH.match(path), path


def test_a_new_attempt_draws_new_questions_after_training_reseeds_random():
    """Training in the server (the lesson-1 LeNet-5, the Training page) calls
    keras.utils.set_random_seed, which reseeds Python's global random: a retry right after must
    still get another seed, or the learner sees the same generated questions again."""
    import random

    from app import check as check_page

    lesson = quiz.get_course().lessons[0]
    random.seed(0)
    first = check_page.new_attempt(lesson)["seed"]
    random.seed(0)
    assert check_page.new_attempt(lesson)["seed"] != first


def test_markdown_escape_escapes_every_ascii_punctuation_and_nothing_else():
    """Issue 19, item 2: a name is shown as typed; ``:`` and ``/`` too (no autolink forms)."""
    import string

    assert logic.markdown_escape(string.punctuation) == "".join(
        "\\" + c for c in string.punctuation
    )
    assert logic.markdown_escape("Zoë 12") == "Zoë 12"


def test_conv_stack_follows_keras_cnns_geometry_engine():
    """One receptive-field rule: the calculator's numbers are those of receptive_field on the
    same stack built in Keras (explicit padding as ZeroPadding2D, then a valid window)."""
    import keras

    import keras_cnn

    stack = [(7, 2, 3), (3, 2, 1), (3, 1, 1), (5, 2, 0), (2, 2, 0)]
    x = inputs = keras.Input((64, 64, 1))
    for i, (k, s, p) in enumerate(stack):
        x = keras.layers.ZeroPadding2D(p)(x) if p else x
        x = keras.layers.Conv2D(1, k, strides=s, name=f"c{i}")(x)
    model = keras.Model(inputs, x)
    fields = [keras_cnn.receptive_field(model, f"c{i}") for i in range(len(stack))]
    rows = logic.conv_stack(64, stack)
    assert [r["rf"] for r in rows] == fields == [7, 11, 19, 35, 43]
    assert rows[-1]["size"] == x.shape[1]


def test_course_prose_shows_no_raw_tex():
    """Issue 19, item 7: `x_{l+1} = x_l + F(x_l)` and `27C^2` appeared as raw text (Markdown
    and choice labels do not typeset them; code spans and LaTeX sections are fine)."""
    import re

    raw_tex = re.compile(r"\w\^\d|_\{")
    texts = [e.answer for e in COURSE.faq]
    for lesson in COURSE.lessons:
        texts += [s.body for s in lesson.sections if s.kind == "markdown"]
        for question in lesson.questions:
            texts += [question.prompt, question.explanation, *question.choices]
    code = re.compile(r"```.*?```|`[^`]*`|^    [^\n]*$", flags=re.S | re.M)  # spans, blocks
    prose = [code.sub("", t) for t in texts]
    assert [t for t in prose if raw_tex.search(t)] == []
