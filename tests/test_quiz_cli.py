"""The terminal interface, driven through standard input with a temporary KERAS_CNN_HOME."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from quiz_answers import answers

import quiz.cli
from quiz import get_course
from quiz.cli import main
from quiz.mastery import prepare_check
from quiz.store import ProgressStore

REPO = Path(__file__).resolve().parents[1]


def run_cli(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quiz", *args],
        cwd=REPO,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KERAS_CNN_HOME": str(home)},
    )


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("KERAS_CNN_HOME", str(tmp_path))
    return tmp_path


def call(*args: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), stdin=io.StringIO(stdin), stdout=out)
    return code, out.getvalue()


@pytest.mark.slow
def test_take_through_stdin_records_progress_and_unlocks(home):
    proc = run_cli(
        home,
        "take",
        "convolution",
        "--learner",
        "ada",
        "--seed",
        "5",
        stdin=answers("convolution", 5),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    n = len(get_course().lesson("convolution").questions)
    assert proc.stdout.count("correct. Expected:") == n
    assert proc.stdout.count("Why: ") == n
    assert "Score: 100%" in proc.stdout and "PASSED" in proc.stdout
    assert "Unlocked: alexnet" in proc.stdout
    # a new process sees the progress: it survived the restart
    listing = run_cli(home, "list", "--learner", "ada")
    assert listing.returncode == 0
    line = next(x for x in listing.stdout.splitlines() if " convolution " in x)
    assert "passed" in line and "best 100%" in line
    assert "alexnet              unlocked" in listing.stdout
    progress = run_cli(home, "progress", "--learner", "ada")
    assert "1/10 lessons passed" in progress.stdout and f"{n} answers" in progress.stdout


@pytest.mark.slow
def test_take_rejects_invalid_input_then_accepts(home):
    lesson = get_course().lesson("alexnet")
    questions = prepare_check(lesson, 11)
    first = questions[0]
    junk = "banana\n\n99,98\n" if first.kind in ("single", "multiple", "ordering") else "banana\n\n"
    stdin = junk + answers("alexnet", 11)
    proc = run_cli(home, "take", "2", "--learner", "bob", "--seed", "11", "--force", stdin=stdin)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "invalid answer" in proc.stdout
    assert "PASSED" in proc.stdout
    store = ProgressStore(home / "progress.sqlite3")
    assert len(store.attempts("bob", "alexnet")) == len(questions)
    assert store.passed_lessons("bob") == {"alexnet"}


def test_take_partial_failure_is_recorded_but_not_passed(home):
    n = len(get_course().lesson("convolution").questions)
    code, out = call(
        "take",
        "convolution",
        "--learner",
        "cy",
        "--seed",
        "2",
        stdin=answers("convolution", 2, wrong=4),
    )
    assert code == 0
    assert "not passed" in out
    assert out.count("wrong. Expected:") + out.count("partly correct") == 4
    store = ProgressStore()
    assert store.passed_lessons("cy") == set()
    assert store.lesson_scores("cy")["convolution"] == pytest.approx((n - 4) / n)
    assert len(store.attempts("cy")) == n


def test_take_aborted_by_end_of_input_records_nothing(home):
    stdin = "".join(answers("convolution", 1).splitlines(keepends=True)[:3])
    code, out = call("take", "convolution", "--learner", "dee", "--seed", "1", stdin=stdin)
    assert code == 1 and "nothing was recorded" in out
    assert ProgressStore().attempts("dee") == []


def test_locked_lesson_is_refused_without_force(home):
    code, out = call("take", "vgg", "--learner", "eve", stdin="")
    assert code == 2 and "locked" in out and "alexnet" in out
    code, out = call("take", "nope", stdin="")
    assert code == 2 and "no lesson" in out


def test_every_lesson_can_be_taken_in_order(home):
    """A learner works through the whole course in the terminal, unlocking lesson after lesson."""
    for lesson in get_course().lessons:
        code, out = call(
            "take",
            lesson.id,
            "--learner",
            "fay",
            "--seed",
            str(lesson.order),
            stdin=answers(lesson.id, lesson.order),
        )
        assert code == 0, out
        assert "PASSED" in out, lesson.id
    store = ProgressStore()
    assert store.passed_lessons("fay") == {le.id for le in get_course().lessons}
    code, out = call("progress", "--learner", "fay")
    assert "10/10 lessons passed" in out


def test_export_and_import_commands(home, tmp_path):
    call("take", "convolution", "--learner", "gus", "--seed", "4", stdin=answers("convolution", 4))
    target = tmp_path / "gus.json"
    code, out = call("export", "--learner", "gus", "-o", str(target))
    assert code == 0 and target.exists()
    code, out = call("import", str(target), "--learner", "gus2")
    assert code == 0 and "for gus2" in out
    assert ProgressStore().passed_lessons("gus2") == {"convolution"}
    code, out = call("export", "--learner", "nobody")
    assert code == 1


def test_progress_without_data(home):
    code, out = call("progress")
    assert code == 0 and "no progress yet" in out


def test_check_command_in_process():
    code, out = call("check")
    assert code == 0 and out.startswith("ok: ")


def test_import_of_a_missing_file_is_a_clear_error(home, tmp_path):
    code, out = call("import", str(tmp_path / "nope.json"))
    assert (code, out) == (1, f"error: no such file: {tmp_path / 'nope.json'}\n")


def test_import_reports_the_rows_it_skipped(home, tmp_path):
    row = {"uid": "u", "lesson_id": "vgg", "passed": True, "n_questions": 10, "created": "x"}
    doc = {
        "format": "keras-cnn-quiz-progress",
        "version": 1,
        "learner": "hal",
        "checks": [{**row, "score": 1e308}, {**row, "uid": "v", "lesson_id": "nope", "score": 1}],
        "attempts": [],
    }
    target = tmp_path / "hal.json"
    target.write_text(json.dumps(doc), encoding="utf-8")
    code, out = call("import", str(target))
    assert code == 0
    assert out.splitlines()[:3] == [
        "imported 0 checks and 0 answers for hal",
        "skipped 2 row(s) that could not be trusted:",
        "  checks[0]: score 1e+308 is not a number in [0, 1]",
    ]
    assert ProgressStore().passed_lessons("hal") == set()


@pytest.fixture
def read_only_home(monkeypatch):
    """A KERAS_CNN_HOME with progress in a read-only file, used as an unprivileged user."""
    folder = Path(tempfile.mkdtemp(prefix="keras-cnn-ro-"))
    folder.chmod(0o777)
    monkeypatch.setenv("KERAS_CNN_HOME", str(folder))
    call("take", "convolution", "--learner", "ida", "--seed", "1", stdin=answers("convolution", 1))
    (folder / "progress.sqlite3").chmod(0o444)
    course = quiz.cli.load_course()  # read now: the repository may be closed to that user
    monkeypatch.setattr(quiz.cli, "load_course", lambda content=None: course)
    # as in a clone in a private folder (issue 19, item 15): the packaged content is unreadable
    monkeypatch.setattr(quiz.loader, "CONTENT_DIR", folder / "unreadable" / "content")
    root = os.geteuid() == 0
    if root:
        os.seteuid(65534)  # root ignores file permissions
    try:
        yield folder
    finally:
        if root:
            os.seteuid(0)
        shutil.rmtree(folder)


def test_read_only_store_shows_progress_and_refuses_a_check(read_only_home):
    code, out = call("progress", "--learner", "ida")
    assert code == 0 and f"ida: 1/{len(get_course().lessons)} lessons passed" in out
    assert "; read-only: attempt to write a readonly database)" in out
    code, out = call("take", "alexnet", "--learner", "ida", stdin=answers("alexnet", 1))
    assert code == 1 and out.startswith("error: the progress store") and "read-only" in out
    exported = read_only_home / "ida.json"
    assert call("export", "--learner", "ida", "-o", str(exported))[0] == 0  # reading works
    code, out = call("import", str(exported), "--learner", "ida2")
    assert code == 1 and out.startswith("error: progress store") and "is read-only" in out
    assert not list(read_only_home.glob("*.corrupt-*"))


def export_document(**fields) -> dict:
    return {
        "format": "keras-cnn-quiz-progress",
        "version": 1,
        "learner": "hal",
        "checks": [],
        "attempts": [],
        **fields,
    }


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        json.dumps(export_document(attempts=[{"response": "X"}])).replace(
            '"X"', "[" * 50_000 + "]" * 50_000
        ),
    ],
    ids=["unclosed-brackets", "deep-response"],
)
def test_import_of_deeply_nested_json_is_a_clear_error(home, tmp_path, text):
    target = tmp_path / "deep.json"
    target.write_text(text, encoding="utf-8")
    code, out = call("import", str(target))
    assert (code, out) == (
        1,
        "error: not a progress export: arrays or objects nested too deeply\n",
    )
    assert ProgressStore().learners() == []


def test_take_asks_again_after_a_5000_digit_answer_and_keeps_the_check(home):
    questions = prepare_check(get_course().lesson("convolution"), 6)
    first = next(i for i, q in enumerate(questions) if q.kind in ("numeric", "generated"))
    lines = answers("convolution", 6).splitlines(keepends=True)
    lines.insert(first, "9" * 5000 + "\n")
    code, out = call("take", "convolution", "--learner", "ida", "--seed", "6", stdin="".join(lines))
    assert code == 0, out[-500:]
    assert f"invalid answer: not a number: '{'9' * 40}'... has 5000 digits" in out
    assert "PASSED" in out
    assert len(ProgressStore().attempts("ida")) == len(questions)


@pytest.mark.parametrize(
    "target, reason",
    [
        ("/proc/version", "Input/output error"),
        ("/nonexistent/dir/x.json", "there is no folder /nonexistent/dir"),
        ("{tmp}", "it is a folder; name a file in it, e.g. {tmp}/progress.json"),
    ],
    ids=["proc-file", "no-folder", "a-folder"],
)
def test_export_to_a_place_that_cannot_be_written_is_one_line(home, tmp_path, target, reason):
    call("take", "convolution", "--learner", "jo", "--seed", "1", stdin=answers("convolution", 1))
    target = target.format(tmp=tmp_path)
    if target == "/proc/version" and not Path(target).exists():
        pytest.skip("no /proc here")
    code, out = call("export", "--learner", "jo", "-o", target)
    assert (code, out) == (2, f"error: cannot write {target}: {reason.format(tmp=tmp_path)}\n")


def test_import_refuses_devices_and_folders_before_reading(home, tmp_path):
    assert call("import", "/dev/zero") == (
        1,
        "error: /dev/zero is not a regular file (a device or a socket)\n",
    )
    assert call("import", str(tmp_path)) == (
        1,
        f"error: {tmp_path} is a folder, not an exported file\n",
    )


def test_import_refuses_a_233_mb_file_after_reading_at_most_its_cap(home, tmp_path, monkeypatch):
    big = tmp_path / "big.json"
    with big.open("wb") as fh:
        fh.truncate(233 * 1024 * 1024)  # sparse: no disk used
    read = []
    real_open = open

    def counting_open(*args, **kwargs):
        fh = real_open(*args, **kwargs)
        real_read = fh.read

        def read_chunk(n=-1):
            assert 0 < n <= 1 << 20, "read in bounded chunks"
            data = real_read(n)
            read.append(len(data))
            return data

        fh.read = read_chunk
        return fh

    monkeypatch.setattr("builtins.open", counting_open)
    code, out = call("import", str(big))
    monkeypatch.undo()
    assert (code, out) == (
        1,
        f"error: {big} is larger than 16 MiB, the most an export may be; is it a progress "
        "export?\n",
    )
    assert sum(read) <= quiz.cli.MAX_IMPORT_BYTES + (1 << 20)


def test_import_of_a_file_that_is_not_utf8_names_it(home, tmp_path):
    target = tmp_path / "latin1.json"
    target.write_bytes(b'{"learner": "Zo\xeb"}')
    assert call("import", str(target)) == (
        1,
        f"error: {target} is not UTF-8 text (byte 15); is it an export?\n",
    )


def test_check_names_a_lesson_file_that_is_not_utf8_and_lists_the_other_problems(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(quiz.loader.CONTENT_DIR, content)
    lesson_file = sorted((content / "lessons").glob("*.toml"))[0]
    lesson_file.write_bytes(lesson_file.read_bytes().replace(b"\n", b"\n# caf\xe9\n", 3))
    glossary = content / "glossary.toml"
    glossary.write_text(glossary.read_text(encoding="utf-8") + '\n[[terms]]\nterm = "x"\n')
    code, out = call("--content", str(content), "check")
    lines = out.splitlines()
    assert code == 1
    assert f"lessons/{lesson_file.name}: -: file: not UTF-8 text: byte " in out
    assert any(line.startswith("glossary.toml: x: definition: missing") for line in lines), out
    assert lines[-1].endswith("problem(s) found")
