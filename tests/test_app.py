"""The Streamlit course through streamlit.testing.v1.AppTest: every page renders, the key
elements are there, and the System Check grades, stores progress and unlocks the next lesson.

Every test has its own KERAS_CNN_HOME (tests/conftest.py), so stored progress starts empty.
"""

import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import quiz
from app import check as check_page
from app import logic

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the app imports `app` like `streamlit run` does
    sys.path.insert(0, str(ROOT))
ENTRY = str(ROOT / "streamlit_app.py")
COURSE = quiz.get_course()
FILE_PAGES = ["app/pages/course_map.py", "app/pages/explorer.py", "app/pages/model_lab.py"]
FILE_PAGES.append("app/pages/glossary.py")


def start(learner: str | None = "learner") -> AppTest:
    """The course in a browser whose address names ``learner`` (``?learner=``); ``None``: a
    browser without one."""
    at = AppTest.from_file(ENTRY, default_timeout=120)
    if learner is not None:
        at.query_params["learner"] = learner
    return at.run()


def texts(at: AppTest, kind: str) -> list[str]:
    return [str(e.value) for e in getattr(at, kind)]


def open_lesson(at: AppTest, lesson_id: str) -> AppTest:
    """Go to a lesson from the course map's "Open any lesson" picker."""
    at.switch_page("app/pages/course_map.py").run()
    at.selectbox(key="jump_lesson").select(lesson_id).run()
    at.button(key="jump").click().run()
    assert not at.exception, at.exception
    return at


def pass_lessons(*lesson_ids: str, learner: str = "learner") -> None:
    """Record a passing System Check for each lesson, as if answered right."""
    store = quiz.ProgressStore()
    for lesson_id in lesson_ids:
        questions = quiz.prepare_check(COURSE.lesson(lesson_id), seed=1)
        results = [quiz.grade(q, quiz.expected_response(q)) for q in questions]
        assert store.record_check(learner, lesson_id, results).passed


def wrong_response(question: quiz.Question):
    expected = quiz.expected_response(question)
    if question.kind == "single":
        return (expected + 1) % len(question.choices)
    if question.kind == "multiple":
        return [i for i in range(len(question.choices)) if i not in expected] or [0]
    if question.kind == "ordering":
        return list(reversed(expected))
    return expected * 10 + 7


def answer(at: AppTest, lesson_id: str, *, right: bool) -> list[quiz.Question]:
    """Fill in the lesson's System Check form and submit it."""
    attempt = at.session_state[check_page.attempt_key(lesson_id)]
    questions = attempt["questions"]
    for i, question in enumerate(questions):
        response = quiz.expected_response(question) if right else wrong_response(question)
        value = logic.widget_value(question, response)
        key = check_page.widget_key(lesson_id, attempt["seed"], i)
        if question.kind == "single":
            at.radio(key=key).set_value(value)
        elif question.kind in ("multiple", "ordering"):
            at.multiselect(key=key).set_value(value)
        else:
            at.text_input(key=key).input(value)
    submit = [b for b in at.button if b.label == "Submit answers"]
    assert len(submit) == 1
    submit[0].click().run()
    assert not at.exception, at.exception
    return list(questions)


@pytest.mark.parametrize("page", FILE_PAGES)
def test_every_file_page_renders(page):
    at = start()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert at.title, "every page has a title"


def test_course_map_shows_matrix_progress_and_continue():
    at = start()
    assert not at.exception
    assert texts(at, "title")[0].startswith("The classic CNNs")
    charts = at.get("graphviz_chart")
    assert len(charts) == 1
    dot = charts[0].proto.spec
    assert '"convolution" -> "alexnet"' in dot and "LeNet-5" in dot and "locked" in dot
    bars = at.get("progress")
    assert bars, "course progress bar"
    assert any(f"0 of {len(COURSE.lessons)}" in b.proto.text for b in bars)
    assert at.button(key="continue").label.startswith("Start the course: 1.")
    assert "keras_cnn" not in "".join(texts(at, "markdown"))


def test_course_map_does_not_import_tensorflow():
    """In a fresh interpreter, rendering the course map must not import TensorFlow."""
    import subprocess

    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from streamlit.testing.v1 import AppTest\n"
        "from app import shell\n"
        "shell.prewarm = lambda: None\n"
        f"at = AppTest.from_file({ENTRY!r}, default_timeout=60)\n"
        "at.query_params['learner'] = 'learner'\n"
        "at.run()\n"
        "assert not at.exception, at.exception\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "False False"


def test_wrong_answers_fail_and_are_stored():
    at = start()
    at.button(key="continue").click().run()
    assert texts(at, "title")[0].startswith("1. Convolution")
    questions = answer(at, "convolution", right=False)
    errors = [e for e in texts(at, "error") if e.startswith("**Not quite.**")]
    assert len(errors) == len(questions) - len([w for w in texts(at, "warning") if "Partly" in w])
    assert any("Not passed" in e for e in texts(at, "error"))
    store = quiz.ProgressStore()
    assert store.checks("learner", "convolution")[0].passed is False
    assert store.passed_lessons("learner") == set()
    assert len(store.attempts("learner", "convolution")) == len(questions)


def test_right_answers_pass_and_unlock_the_next_lesson():
    at = start()
    at.button(key="continue").click().run()
    questions = answer(at, "convolution", right=True)
    successes = texts(at, "success")
    assert sum(s.startswith("**Right.**") for s in successes) == len(questions)
    assert any(s.startswith("**Passed**") for s in successes)
    assert any("Unlocked: **2. AlexNet" in i for i in texts(at, "info"))
    store = quiz.ProgressStore()
    assert store.passed_lessons("learner") == {"convolution"}
    assert store.last_visited("learner") == ("convolution", "")
    # The next lesson is open now: follow the button.
    at.button(key="go:alexnet").click().run()
    assert not at.exception, at.exception
    assert texts(at, "title")[0].startswith("2. AlexNet")
    assert not any("locked" in i for i in texts(at, "info"))
    # And the course map shows the progress.
    at.switch_page("app/pages/course_map.py").run()
    assert any(f"1 of {len(COURSE.lessons)}" in b.proto.text for b in at.get("progress"))


def test_unanswered_questions_are_not_graded():
    at = start()
    at.button(key="continue").click().run()
    [b for b in at.button if b.label == "Submit answers"][0].click().run()
    assert not at.exception
    assert any("Answer every question" in w for w in texts(at, "warning"))
    assert quiz.ProgressStore().checks("learner") == []


@pytest.mark.parametrize("typed", ["lots", "9" * 5000], ids=["word", "5000-digits"])
def test_unreadable_number_asks_again(typed):
    at = start()
    at.button(key="continue").click().run()
    attempt = at.session_state[check_page.attempt_key("convolution")]
    numeric = [i for i, q in enumerate(attempt["questions"]) if q.kind in ("numeric", "generated")][
        0
    ]
    key = check_page.widget_key("convolution", attempt["seed"], numeric)
    at.text_input(key=key).input(typed)
    [b for b in at.button if b.label == "Submit answers"][0].click().run()
    assert not at.exception
    assert any("not a number" in w for w in texts(at, "warning"))
    assert at.text_input(key=key).value == typed  # the form and the answer stay


def test_locked_lesson_says_what_to_pass_first():
    at = start()
    open_lesson(at, "vgg")
    info = " ".join(texts(at, "info"))
    assert "locked" in info and "AlexNet" in info
    assert not [b for b in at.button if b.label == "Submit answers"]
    # Not a dead end: what it teaches, and a lesson the learner can open now (AlexNet, the
    # prerequisite, is locked too: the way starts at lesson 1).
    vgg = COURSE.lesson("vgg")
    shown = "\n".join(texts(at, "markdown"))
    assert vgg.summary in shown and all(goal in shown for goal in vgg.goals)
    links = [link.proto.label for link in at.get("page_link")]
    assert links == ["Open now: 1. " + COURSE.lesson("convolution").title]
    pass_lessons("convolution")
    open_lesson(at, "vgg")
    assert [link.proto.label for link in at.get("page_link")] == [
        "Open now: 2. " + COURSE.lesson("alexnet").title
    ]


def test_two_tabs_of_one_learner_lose_no_answers():
    tabs = [start(), start()]
    for at in tabs:
        at.button(key="continue").click().run()
    answer(tabs[0], "convolution", right=False)
    answer(tabs[1], "convolution", right=True)
    checks = quiz.ProgressStore().checks("learner", "convolution")
    assert sorted(c.passed for c in checks) == [False, True]


def test_corrupt_store_warns_and_goes_on():
    path = quiz.default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not a database" * 100)
    at = start()
    assert not at.exception, at.exception
    assert any("could not be read" in w for w in texts(at, "warning"))
    assert texts(at, "title")[0].startswith("The classic CNNs")
    assert list(path.parent.glob(path.name + ".corrupt-*"))


def test_new_learner_from_the_sidebar():
    at = start()
    at.sidebar.text_input(key="new_learner").input("Ada").run()
    assert not at.exception
    assert at.session_state["learner"] == "Ada" and at.query_params["learner"] == "Ada"
    assert "Ada" in quiz.ProgressStore().learners()
    assert any("Ada" in b.proto.text for b in at.get("progress"))
    at.sidebar.text_input(key="new_learner").input("bad\x07name").run()
    assert not at.exception
    assert any("Not a valid name" in e for e in texts(at, "error"))
    # An all-spaces name was ignored without a word (issue 19, item 7).
    at.sidebar.text_input(key="new_learner").input("   ").run()
    assert any("must not be empty" in e for e in texts(at, "error"))
    assert at.session_state["learner"] == "Ada"
    # "ada" is Ada, not a second learner.
    at.sidebar.text_input(key="new_learner").input("ada").run()
    assert at.session_state["learner"] == "Ada" and quiz.ProgressStore().learners() == [
        "Ada",
        "learner",
    ]
    help_text = at.sidebar.selectbox(key="learner_select").help
    assert str(quiz.default_path()) in help_text


def test_a_browser_without_a_learner_is_asked_and_never_gets_the_last_one():
    """Issue 19, item 1: a fresh browser (or a reload) became the server's most recent learner."""
    pass_lessons("convolution", learner="Ada")
    at = start(learner=None)
    assert not at.exception, at.exception
    assert texts(at, "title") == ["Who are you?"]
    assert "learner" not in at.session_state and "Ada" not in " ".join(texts(at, "markdown"))
    assert str(quiz.default_path()) in " ".join(texts(at, "markdown"))  # where it is stored
    assert not [b for b in at.button if b.key == "continue"]  # no course under Ada's name
    at.text_input(key="who_new").input("Zoë")
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert at.query_params["learner"] == "Zoë" and at.session_state["learner"] == "Zoë"
    assert texts(at, "title")[0].startswith("The classic CNNs")
    assert sorted(quiz.ProgressStore().learners()) == ["Ada", "Zoë"]
    # The address keeps the learner: a reload (a new session with the same address) is Zoë.
    again = start("zoë")
    assert again.session_state["learner"] == "Zoë"
    assert any(b.proto.text.startswith("**Zoë**: 0 of") for b in again.get("progress"))
    # A known learner can be picked in the prompt.
    other = start(learner=None)
    other.selectbox(key="who_known").select("Ada").run()
    assert other.session_state["learner"] == "Ada" and other.query_params["learner"] == "Ada"
    assert any(b.proto.text.startswith("**Ada**: 1 of") for b in other.get("progress"))


@pytest.mark.parametrize("name", ["   ", "bad\x07name"])
def test_the_prompt_refuses_empty_and_invalid_names_with_a_message(name):
    at = start(learner=None)
    at.text_input(key="who_new").input(name)
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert texts(at, "title") == ["Who are you?"]
    assert any("Not a valid name" in e for e in texts(at, "error")), texts(at, "error")
    assert quiz.ProgressStore().learners() == []


def test_an_invalid_name_in_the_address_asks_again():
    at = start("bad\x07name")
    assert not at.exception, at.exception
    assert texts(at, "title") == ["Who are you?"]
    assert any("control characters" in e for e in texts(at, "error"))


INJECTED = "![t](http://127.0.0.1:9/x.png) **bold** $x^2$ <b>b</b>"


def test_learner_names_are_shown_as_text_not_markup():
    """Issue 19, item 2: a name could load an image, render LaTeX and bold on every page."""
    at = start(INJECTED)
    assert not at.exception, at.exception
    shown = [b.proto.text for b in at.get("progress") if b.proto.text.startswith("**")]
    escaped = logic.markdown_escape(INJECTED)
    assert shown == [f"**{escaped}**: 0 of {len(COURSE.lessons)} lessons passed"]
    at.button(key="continue").click().run()
    captions = [c for c in texts(at, "caption") if "saved for learner" in c]
    assert len(captions) == 1 and escaped in captions[0]
    every = [
        *texts(at, "markdown"),
        *texts(at, "caption"),
        *texts(at, "info"),
        *texts(at, "success"),
        *(b.proto.text for b in at.get("progress")),
    ]
    assert not [t for t in every if "![t](" in t or "$x^2$" in t or "**bold**" in t]


@pytest.mark.slow
@pytest.mark.parametrize("lesson", COURSE.lessons, ids=lambda le: le.id)
def test_every_lesson_renders_with_live_models(lesson):
    order = [le.id for le in COURSE.lessons]
    pass_lessons(*order[: order.index(lesson.id)])
    at = open_lesson(start(), lesson.id)
    assert texts(at, "title")[0] == f"{lesson.order}. {lesson.title}"
    sections = [s for s in lesson.sections if s.kind == "model"]
    import keras_cnn

    registry = keras_cnn.list_models().set_index("name")
    tables = at.dataframe
    assert len(tables) == len(sections)
    for section, table in zip(sections, tables, strict=True):
        assert int(table.value.params.sum()) == registry.loc[section.model, "params"]
    charts = at.get("graphviz_chart")
    assert len(charts) == len(sections)
    if lesson.id == "residual":  # a residual block shows its skip path
        assert '"conv1_relu" -> "conv2_block1_add"' in charts[0].proto.spec
    assert len(at.latex) == sum(s.kind == "latex" for s in lesson.sections)
    assert len(at.code) == sum(s.kind == "code" for s in lesson.sections)
    assert [b for b in at.button if b.label == "Submit answers"]


def test_model_lab_code_totals_and_errors():
    at = start()
    at.switch_page("app/pages/model_lab.py").run()
    assert not at.exception
    assert "model = keras_cnn.build_resnet(50)" in at.code[0].value
    assert at.metric[0].value == "25.64M"
    at.checkbox(key="lab_top").uncheck().run()
    at.selectbox(key="lab_pooling").select("avg").run()
    assert 'keras_cnn.build_resnet(50, include_top=False, pooling="avg")' in at.code[0].value
    assert at.metric[0].value == "23.59M"
    # An invalid combination shows the builder's message, not a traceback.
    at.selectbox(key="lab_family").select("ResNet (CIFAR-10)").run()
    at.number_input(key="lab_cifar_depth").set_value(21).run()
    assert not at.exception
    assert any("cannot be built" in e and "21" in e for e in texts(at, "error"))
    at.number_input(key="lab_cifar_depth").set_value(20).run()
    at.text_input(key="lab_shape").input("huge").run()
    assert not at.exception
    assert any("three positive integers" in e for e in texts(at, "error"))
    at.text_input(key="lab_shape").input("64, 64, 3").run()
    assert "input_shape=(64, 64, 3)" in at.code[0].value
    assert not texts(at, "error")


def test_explorer_charts_and_model_summary():
    at = start()
    at.switch_page("app/pages/explorer.py").run()
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 4
    at.selectbox(key="explore_model").select("lenet5").run()
    assert not at.exception
    assert at.metric[0].value == "61.71k"
    at.radio(key="error_metric").set_value("CIFAR-10 error (%)").run()
    assert not at.exception


def test_explorer_keeps_each_family_s_colour_for_every_error():
    """Issue 19, item 7: switching top-1 / top-5 recoloured the families."""
    import json

    at = start()
    at.switch_page("app/pages/explorer.py").run()
    scales = {}
    for label in ("ImageNet top-1 error (%)", "ImageNet top-5 error (%)", "CIFAR-10 error (%)"):
        at.radio(key="error_metric").set_value(label).run()
        spec = json.loads(at.get("vega_lite_chart")[0].proto.spec)
        scales[label] = spec["encoding"]["color"]["scale"]
    first = scales["ImageNet top-1 error (%)"]
    assert "ResNet" in first["domain"] and all(s == first for s in scales.values())


def test_glossary_search():
    at = start()
    at.switch_page("app/pages/glossary.py").run()
    total = len(at.markdown)
    at.text_input(key="glossary_query").input("receptive field").run()
    assert not at.exception
    assert any(m.startswith("**Receptive field**") for m in texts(at, "markdown"))
    assert len(at.markdown) < total
    at.text_input(key="glossary_query").input("zzzzqqq").run()
    assert any("No glossary term" in i for i in texts(at, "info"))


def test_widget_tables_name_the_same_widgets():
    from app import widgets

    assert set(widgets.WIDGETS) == set(quiz.WIDGETS)
    with pytest.raises(ValueError, match="conv-calculator"):
        widgets.render("no-such-widget", key="k")


def test_lesson_one_calculator_updates_and_explains_impossible_stacks():
    at = start()
    at.button(key="continue").click().run()
    assert not at.exception, at.exception
    assert "Try it: output size and receptive field" in texts(at, "subheader")
    table = [m for m in texts(at, "markdown") if m.startswith("| Layer |")]
    assert len(table) == 1 and "| 4 | 2, 2, 0 | 5 x 5 | 4 | 16 x 16 |" in table[0]
    at.number_input(key="widget-calculator:n").set_value(2).run()
    at.number_input(key="widget-calculator:k1").set_value(3).run()
    at.number_input(key="widget-calculator:s1").set_value(1).run()
    table = [m for m in texts(at, "markdown") if m.startswith("| Layer |")][0]
    assert "| 2 | 3, 1, 0 | 26 x 26 | 1 | 7 x 7 |" in table
    at.number_input(key="widget-calculator:k0").set_value(40).run()
    assert not at.exception
    assert any(
        "Layer 1: a 40x40 window does not fit a 32x32 input" in e for e in texts(at, "error")
    )


def test_app_modules_import_no_circle():
    """No module of app/ imports (even lazily, inside a function) one that imports it back."""
    import ast

    deps: dict[str, set[str]] = {}
    for path in (ROOT / "app").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("app"):
                found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        deps[name] = found
    deps = {m: {d for d in found if d in deps and d not in ("app", m)} for m, found in deps.items()}
    assert "app.shell" in deps["app.lesson"] and "app.lesson" in deps["app.pages.course_map"]

    def cycle_from(module: str) -> bool:
        todo, seen = list(deps[module]), set()
        while todo:
            dep = todo.pop()
            if dep == module:
                return True
            if dep not in seen:
                seen.add(dep)
                todo.extend(deps[dep])
        return False

    assert [m for m in sorted(deps) if cycle_from(m)] == []


def test_answers_stay_on_screen_marked_after_submit_and_retry_starts_clean():
    at = start()
    at.button(key="continue").click().run()
    attempt = at.session_state[check_page.attempt_key("convolution")]
    seed = attempt["seed"]
    questions = answer(at, "convolution", right=False)
    feedback = texts(at, "error") + texts(at, "warning")
    for i, question in enumerate(questions):
        key = check_page.widget_key("convolution", seed, i) + ":review"
        given = logic.widget_value(question, wrong_response(question))
        if question.kind == "single":
            shown = at.radio(key=key)
            assert shown.value == given and shown.disabled
            assert any(f"Your answer: {question.choices[given]}." in f for f in feedback)
        elif question.kind in ("multiple", "ordering"):
            assert at.multiselect(key=key).value == given
        else:
            assert at.text_input(key=key).value == given
            assert any(f"Your answer: {given}." in f for f in feedback), given
    assert sum("Your answer:" in f for f in feedback) == len(questions)
    at.button(key="retry:convolution").click().run()
    attempt = at.session_state[check_page.attempt_key("convolution")]
    assert attempt["results"] is None and attempt["seed"] != seed
    fresh = [
        check_page.widget_key("convolution", attempt["seed"], i) for i in range(len(questions))
    ]
    values = [w.value for w in (*at.radio, *at.multiselect, *at.text_input) if w.key in fresh]
    assert len(values) == len(questions) and all(v in (None, [], "") for v in values)


def test_a_check_submitted_to_a_read_only_store_says_it_was_not_saved(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path / "a-file" / "home"))
    at = start()
    at.button(key="continue").click().run()
    answer(at, "convolution", right=True)
    assert any("could not be saved" in e for e in texts(at, "error"))
    assert [b for b in at.button if b.label == "Submit answers"]


def test_server_config_binds_this_machine_and_watches_no_files():
    """`streamlit run` reads .streamlit/config.toml: only 127.0.0.1 (no Network URL that lets
    the LAN switch learners) and no file watcher (no "Inotify queue overflowed" flood)."""
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["fileWatcherType"] == "none"
    assert config["browser"]["gatherUsageStats"] is False


def test_model_lab_code_has_only_what_the_model_uses():
    """Issue 19, item 7: pooling="avg" was in the code while the classifier flattened, and
    Classes stayed editable without a classifier."""
    at = start()
    at.switch_page("app/pages/model_lab.py").run()
    at.selectbox(key="lab_family").select("VGG").run()
    assert (
        at.selectbox(key="lab_pooling").disabled
        and not at.number_input(key="lab_classes_build_vgg").disabled
    )
    at.number_input(key="lab_classes_build_vgg").set_value(10).run()
    assert "keras_cnn.build_vgg(16, classes=10)" in at.code[0].value
    at.checkbox(key="lab_top").uncheck().run()
    assert at.number_input(key="lab_classes_build_vgg").disabled
    at.selectbox(key="lab_pooling").select("avg").run()
    assert 'keras_cnn.build_vgg(16, include_top=False, pooling="avg")' in at.code[0].value
    at.checkbox(key="lab_top").check().run()  # back to the classifier: no pooling, classes 10
    assert "keras_cnn.build_vgg(16, classes=10)" in at.code[0].value
    assert "pooling" not in at.code[0].value


def test_model_lab_options_are_one_table_row_per_family():
    """Issue 18, item 7: the lab's options as a table, each builder argument a real one."""
    import inspect

    import keras_cnn
    from app import lab

    for family, (builder, options) in lab.FAMILIES.items():
        params = inspect.signature(getattr(keras_cnn, builder)).parameters
        assert all(o.arg in params for o in options), family
        assert len({o.key for o in options}) == len(options), family


def test_model_lab_refuses_oversized_requests_before_building():
    at = start()
    at.switch_page("app/pages/model_lab.py").run()
    at.text_input(key="lab_shape").input("5000, 5000, 3").run()
    assert not at.exception
    assert any(
        "up to 1024 x 1024 pixels" in e and "(5000, 5000, 3)" in e for e in texts(at, "error")
    )
    assert not at.metric  # nothing was built
    # VGG-19 at 400 x 400 builds for the summary (no weights) but is too large to download.
    at.selectbox(key="lab_family").select("VGG").run()
    at.selectbox(key="lab_vgg").select(19).run()
    at.text_input(key="lab_shape").input("400, 400, 3").run()
    assert not at.exception and not texts(at, "error")
    assert any("the lab saves models up to 150M parameters" in i for i in texts(at, "info"))
    assert not [b for b in at.button if b.key == "lab_prepare"]
    at.text_input(key="lab_shape").input("").run()  # VGG-19 at 224: 144M, downloadable
    assert at.button(key="lab_prepare")


def test_model_lab_download_is_prepared_in_the_page_and_failures_are_shown(monkeypatch):
    import functools

    import keras_cnn

    at = start()
    at.switch_page("app/pages/model_lab.py").run()
    at.selectbox(key="lab_family").select("LeNet-5").run()
    at.button(key="lab_prepare").click().run()
    assert not at.exception and not texts(at, "error")
    keras_files = [d for d in at.get("download_button") if ".keras" in d.proto.label]
    [download] = keras_files  # beside it, always, "Download as a notebook"
    assert download.proto.label.startswith("Download lenet5.keras (")

    @functools.wraps(keras_cnn.build_lenet5)  # the page reads the builder's signature
    def out_of_memory(**kwargs):
        raise MemoryError("Unable to allocate 204. GiB")

    monkeypatch.setattr(keras_cnn, "build_lenet5", out_of_memory)
    at.button(key="lab_prepare").click().run()
    assert not at.exception
    assert any(
        "could not be saved: MemoryError: Unable to allocate" in e for e in texts(at, "error")
    )
    assert not [d for d in at.get("download_button") if ".keras" in d.proto.label]


def test_glossary_lesson_references_are_links():
    at = start()
    at.switch_page("app/pages/glossary.py").run()
    at.text_input(key="glossary_query").input("receptive field").run()
    entry = next(e for e in COURSE.glossary if e.term == "Receptive field")
    lesson = COURSE.lesson(entry.lesson)
    links = [link.proto.label for link in at.get("page_link")]
    assert f"Lesson {lesson.order}: {lesson.title}" in links
    assert not any(c.startswith("Lesson:") for c in texts(at, "caption"))


def test_explorer_counts_in_si_units_and_model_lab_labels_fit():
    import json

    at = start()
    at.switch_page("app/pages/explorer.py").run()
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    axes = {s["encoding"]["x"]["title"]: s["encoding"]["x"].get("axis", {}) for s in specs}
    assert axes["Multiply-adds"]["format"] == "~s" and axes["Parameters"]["format"] == "~s"
    at.switch_page("app/pages/model_lab.py").run()
    assert at.selectbox(key="lab_shortcut").options == [
        "A: zero_pad",
        "B: projection",
        "C: all projection",
    ]
    assert at.checkbox(key="lab_top").label == "Classifier"
    assert all(len(w.label) <= 26 for w in (*at.selectbox, *at.checkbox, *at.number_input))


def test_course_map_labels_are_readable():
    dot = logic.course_map_dot(quiz.architecture_matrix(COURSE, set()))
    assert "rankdir=TB" in dot and "fontsize=14" in dot


def test_lesson_text_and_system_check_come_before_the_live_models(monkeypatch):
    """A lesson draws its text and System Check first and its models into their places after,
    so a cold TensorFlow import never holds back what a learner reads and answers."""
    import streamlit as st

    from app import views

    seen = []

    def show_model(name, **kwargs):
        seen.append(check_page.attempt_key("convolution") in st.session_state)
        st.markdown(f"model view of {name}")

    monkeypatch.setattr(views, "show_model", show_model)
    at = start()
    at.button(key="continue").click().run()
    assert not at.exception, at.exception
    assert seen == [True]  # the check had been drawn when the model view started
    assert "model view of lenet5" in texts(at, "markdown")
    # ... drawn into its place: after its section's title, before the System Check.
    order = [str(getattr(node, "value", "")) for node in _walk(at.main)]
    view, check = order.index("model view of lenet5"), order.index("System Check")
    assert order.index("LeNet-5 in keras_cnn") < view < check


def _walk(node):
    """The elements of an AppTest block, in page order."""
    children = getattr(node, "children", None)
    if children is None:
        yield node
        return
    for key in sorted(children):
        yield from _walk(children[key])


def test_a_deep_net_diagram_starts_with_an_overview_that_fits_a_screen():
    at = start()
    at.switch_page("app/pages/model_lab.py").run()
    at.selectbox(key="lab_depth").select(152).run()
    assert not at.exception, at.exception
    overview = at.get("graphviz_chart")[0].proto.spec
    assert overview.count(" [label=") == 7 and "conv4\\n36 blocks" in overview
    at.segmented_control(key="lab-diagram").set_value("blocks").run()
    every = at.get("graphviz_chart")[0].proto.spec
    assert '"conv4_block35" -> "conv4_block36"' in every


@pytest.mark.slow
def test_explorer_charts_do_not_wait_for_tensorflow():
    """In a fresh interpreter the explorer draws its four charts before anything imports
    TensorFlow (the model summary under them is stubbed here)."""
    import subprocess

    code = (
        f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
        "from streamlit.testing.v1 import AppTest\n"
        "from app import shell, views\n"
        "shell.prewarm = lambda: None\n"
        "seen = []\n"
        "views.show_model = lambda *a, **k: seen.append('tensorflow' in sys.modules)\n"
        f"at = AppTest.from_file({ENTRY!r}, default_timeout=60)\n"
        "at.query_params['learner'] = 'learner'\n"
        "at.run()\n"
        "at.switch_page('app/pages/explorer.py').run()\n"
        "assert not at.exception, at.exception\n"
        "print(len(at.get('vega_lite_chart')), seen)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "4 [False]"


def test_run_log_times_each_run_and_when_the_system_check_was_sent(tmp_path, monkeypatch):
    """KERAS_CNN_RUN_LOG (read by benchmarks/app_latency.py) gets a line per run event."""
    import json

    from app import shell, widgets

    log = tmp_path / "runs.jsonl"
    monkeypatch.setenv(shell.RUN_LOG_ENV, str(log))
    monkeypatch.setattr(widgets, "render", lambda name, key: None)  # no LeNet-5 training

    def events() -> list[dict]:
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        return [e for e in lines if e["session"] != "-"]  # not the background import's

    at = start()
    first = events()
    assert [e["event"] for e in first] == ["run start", "run end"]
    assert first[0]["t"] <= first[1]["t"]
    at.button(key="continue").click().run()
    assert not at.exception, at.exception
    later = events()[2:]
    names = [e["event"] for e in later]
    assert names.count("check drawn") == 1 and names[0] == "run start", names
    drawn = names.index("check drawn")
    assert names[drawn - 1] == "run start" and names[drawn + 1] == "run end", names
    assert len({e["session"] for e in events()}) == 1
    times = [e["t"] for e in later]
    assert times == sorted(times)


def test_layer_table_shows_non_square_fields_and_activation_memory():
    """A (1, 7) field reads as a patch (a number column cannot hold it), activation memory in
    the unit of the largest layer; the page draws the table without an error."""
    import pandas as pd

    from app import views

    table = pd.DataFrame(
        {
            "layer": ["input_layer", "conv2d", "flatten", "dense"],
            "type": ["InputLayer", "Conv2D", "Flatten", "Dense"],
            "output_shape": [(224, 224, 3), (224, 218, 64), (3125248,), (3,)],
            "params": [0, 1408, 0, 9375747],
            "macs": [0, 65619968, 0, 9375744],
            "receptive_field": [1, (1, 7), None, None],
            "activation_bytes": pd.array([602112, 12500992, 12500992, 12], dtype="Int64"),
        }
    )
    shown, config = views.display_table(table)
    assert shown.receptive_field.tolist() == ["1 x 1", "1 x 7", "whole input", "whole input"]
    assert shown.activation_bytes.round(2).tolist() == [0.57, 11.92, 11.92, 0.0]
    assert config["activation_bytes"]["label"] == "activations (MB)"
    assert config["receptive_field"]["label"] == "receptive field (px)"
    small, config = views.display_table(table.assign(activation_bytes=[1024, 3072, 3072, 12]))
    assert small.activation_bytes.tolist() == [1.0, 3.0, 3.0, 12 / 1024]
    assert config["activation_bytes"]["label"] == "activations (KB)"
    one_d = table.assign(
        output_shape=[(100, 3), (94, 8), (752,), (3,)], receptive_field=[1, 7, None, None]
    )
    assert views.display_table(one_d)[0].receptive_field.tolist()[:2] == ["1", "7"]

    def page(table):
        from app import views

        views.show_table(views.ModelView("non_square", table, {}, "", "", len(table)), "t")

    at = AppTest.from_function(page, args=(table,), default_timeout=60).run()
    assert not at.exception
    drawn = at.dataframe[0].value
    assert drawn.receptive_field.tolist()[:2] == ["1 x 1", "1 x 7"]
    assert drawn.activation_bytes.round(2).tolist()[:2] == [0.57, 11.92]
