"""The sandbox for code from the browser: hostile submissions get a clear message, the server
keeps answering and nothing outside the sandbox is touched, with the server as root and as a
normal user; submissions are graded from the .keras files the sandbox sends back."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.sandbox_hostile import run_all

REPO = Path(__file__).resolve().parents[1]
NOBODY = 65534
SECRET = "secret-progress-7f3a"

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox uses Linux namespaces")


def _namespaces_work() -> bool:
    args = ["unshare", "--net", "--mount", "--pid", "--fork", "true"]
    if os.geteuid() != 0:
        args[1:1] = ["--user", "--map-root-user"]
    try:
        return subprocess.run(args, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


if not _namespaces_work():  # pragma: no cover - depends on the kernel
    pytestmark = pytest.mark.skip(reason="this kernel refuses network/mount/PID namespaces")


def _store(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    store = home / "progress.sqlite"
    store.write_text(f"learner alice: {SECRET}\n")
    return store


def _sandbox_processes(wait_s: float = 10.0) -> list[str]:
    """Processes left running as a sandbox uid (zombies being reaped get ``wait_s``)."""
    from quiz.sandbox import UID_BASE, UID_COUNT

    deadline = time.monotonic() + wait_s
    while True:
        left = []
        for entry in Path("/proc").iterdir():
            try:
                status = (entry / "status").read_text() if entry.name.isdigit() else ""
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            uid = int(fields.get("Uid", "0").split()[0] or 0)
            if UID_BASE <= uid < UID_BASE + UID_COUNT:
                left.append(
                    f"{entry.name} {fields.get('State', '').strip()} {fields.get('Name', '').strip()}"
                )
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.5)


def _check(results: list[dict]) -> None:
    failed = [r for r in results if not r["ok"]]
    assert not failed, json.dumps(failed, indent=1)
    assert not any(r.get("leaked") for r in results)
    assert all(r.get("output_bytes", 0) <= 65536 for r in results)
    assert [r["name"] for r in results][-1] == "afterwards"


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs as a normal user here")
def test_hostile_code_with_the_server_as_root(monkeypatch):
    base = _outside_tmp()
    try:
        home = base / "keras_cnn_home"
        monkeypatch.setenv("KERAS_CNN_HOME", str(home))
        store = _store(home)
        writable = base / "server_files"
        writable.mkdir()
        before = hashlib.sha256(store.read_bytes()).hexdigest()
        _check(run_all(str(store), SECRET, str(writable)))
        assert hashlib.sha256(store.read_bytes()).hexdigest() == before
        assert list(writable.iterdir()) == []
        assert _sandbox_processes() == []  # the fork bomb's children are gone too
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _outside_tmp() -> Path:
    """A scratch folder outside /tmp (a worker has its own /tmp, so files there would be out
    of its sight anyway): the store and the server's files must be hidden or read-only by
    the sandbox itself."""
    base = Path(tempfile.mkdtemp(prefix=".sandbox-test-", dir=REPO / "tests"))
    os.chmod(base, 0o755)
    return base


def test_hostile_code_with_the_server_as_a_normal_user():
    """As root here, the 'server' is a child running as nobody (with /root hidden and Python
    brought back, as the sandbox does, since nobody cannot enter /root)."""
    closed = [p for p in (REPO, *REPO.parents) if not os.stat(p).st_mode & stat.S_IXOTH]
    if os.geteuid() == 0 and closed:  # e.g. a clone in `mktemp -d` (mode 700)
        pytest.skip(f"a normal user cannot enter {closed[0]}, so cannot run this checkout")
    base = _outside_tmp()
    try:
        home = base / "home"
        store = _store(base / "keras_cnn_home")
        writable = base / "server_files"
        for d in (home, writable):
            d.mkdir()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "KERAS_CNN_HOME": str(store.parent),
            "PYTHONPATH": str(REPO),
        }
        before = hashlib.sha256(store.read_bytes()).hexdigest()
        preexec = None
        if os.geteuid() == 0:
            for path in (base, home, store.parent, store, writable):
                os.chown(path, NOBODY, NOBODY)
            preexec = _become_nobody
        proc = subprocess.run(
            [sys.executable, str(REPO / "tests" / "sandbox_hostile.py"), str(store), SECRET, str(writable)],
            env=env, cwd=str(base), capture_output=True, text=True, timeout=900, preexec_fn=preexec,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        assert report["uid"] != 0
        _check(report["results"])
        assert hashlib.sha256(store.read_bytes()).hexdigest() == before
        assert list(writable.iterdir()) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _become_nobody() -> None:
    from quiz import sandbox

    sandbox._unshare(sandbox.CLONE_NEWNS)
    sandbox._mount(None, "/", None, sandbox.MS_REC | sandbox.MS_PRIVATE)
    expose = sorted({sys.base_prefix, sys.prefix, str(REPO)})
    sandbox._hide({"hide_homes": ["/root"], "expose": expose, "hide": []})
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    os.setresuid(NOBODY, NOBODY, NOBODY)


def test_submissions_are_graded_from_the_models_the_sandbox_sends_back(tmp_path):
    """Through the app's Run checks (``exercise_runs.run_checks``: each case graded as it
    arrives): a right solution passes; code that monkeypatches keras_cnn's grader inside the
    sandbox changes nothing; a Lambda layer is refused when the model is loaded in safe mode;
    code that ends its process at the third case keeps the two cases built before."""
    from app import exercise_runs
    from keras_cnn import exercises
    from quiz.sandbox import Limits, Sandbox

    exercise = exercises.get("conv_bn_relu")
    wrong = exercise.mistakes[0].code
    patched = (
        wrong
        + "\nimport keras_cnn.exercises.grader as g, keras_cnn.analysis.compare as c\n"
        + "g.grade_outputs = lambda *a, **k: None\ng._check_model = lambda *a: ((), '')\n"
        + "g.grade_entry = lambda *a, **k: None\nc.compare = lambda *a, **k: None\n"
    )
    lam = (
        "from keras import layers\n\ndef conv_bn_relu(x, filters, kernel_size, strides):\n"
        "    return layers.Lambda(lambda t: t * 0 + 1)(x)\n"
    )
    name, args = exercise.function, ", ".join(("x", *exercise.parameters))
    ends = (
        exercise.solution
        + f"\nimport os\n_right = {name}\n\ndef {name}({args}):\n"
        + "    if x.shape[1] == 9:\n        os._exit(3)\n"
        + f"    return _right({args})\n"
    )
    assert [c.input_shape[0] for c in exercise.cases] == [16, 16, 9]
    with Sandbox(2, Limits(start_s=300, wall_s=120)) as sandbox:
        reports = {}
        for what, code in (("right", exercise.solution), ("patched", patched), ("lambda", lam),
                           ("ends", ends)):  # fmt: skip
            sandbox.warm()
            reports[what] = exercise_runs.run_checks(exercise, code, sandbox, 1)
    assert reports["right"]["passed"], reports["right"]["feedback"]
    assert {"build", "save", "load", "compare", "graded"} <= set(reports["right"]["timings"])
    assert not reports["patched"]["passed"]
    assert "no bias before batch normalization" in reports["patched"]["feedback"]
    assert not reports["lambda"]["passed"] and "Lambda layer" in reports["lambda"]["feedback"]
    ends = reports["ends"]
    assert [r["function"] for r in ends["rows"]] == ["✓", "✓", ""]
    assert ends["feedback"].startswith("hidden case 3") and "exit status 3" in ends["feedback"]


def test_the_pool_refills_after_grading_when_asked_and_reports_its_timings():
    """``run(refill=False)`` leaves the taken worker's place empty (so a new worker's start
    does not share the CPU with the grading) until ``refill()``; the outcome tells where the
    seconds went, the worker's own parts as numbers only."""
    from quiz.sandbox import Limits, Sandbox

    with Sandbox(1, Limits(start_s=120), preload=False) as sandbox:
        assert sandbox.warm()
        outcome = sandbox.run(
            "def f():\n    return 42\n", kind="python", function="f", cases=[{"args": []}],
            refill=False,
        )  # fmt: skip
        assert outcome.outputs == [{"value": 42}] and not outcome.cold
        assert {"exec", "report", "kill", "files", "start"} <= set(outcome.timings)
        assert all(isinstance(v, float) and v >= 0 for v in outcome.timings.values())
        assert sandbox._pool == [] and sandbox._starting == 0
        sandbox.refill()
        assert sandbox.warm() and len(sandbox._pool) == 1 and sandbox._pool[0].ready.is_set()
        outcome = sandbox.run("def f():\n    return 1\n", kind="python", function="f",
                              cases=[{"args": []}])  # fmt: skip
        assert outcome.outputs == [{"value": 1}] and not outcome.cold
        assert sandbox.warm() and len(sandbox._pool) == 1  # refilled by run() itself


_CHANNEL = (
    "import os\n"
    "def channel():  # the worker's report pipe: stdout and stderr go to a file here\n"
    "    for fd in os.listdir('/proc/self/fd'):\n"
    "        try:\n"
    "            if os.readlink(f'/proc/self/fd/{fd}').startswith('pipe:'):\n"
    "                return int(fd)\n"
    "        except OSError:\n"
    "            pass\n"
)


def test_each_case_is_handed_over_as_it_arrives_and_grading_time_is_not_the_codes():
    """The server grades case i (``on_entry``) while the worker builds case i + 1; what the
    grading takes does not count against the code's wall-clock limit; an error in the
    grading kills the worker and reaches the caller, and the pool keeps answering."""
    from quiz.sandbox import Limits, Sandbox

    code = "import time\ndef f(n):\n    time.sleep(0.3 * n)\n    return n * n\n"
    cases = [{"args": [["n", n]]} for n in (1, 2, 3)]  # built after 0.3, 0.9 and 1.8 s
    seen = []

    def grade(index, entry):
        seen.append((index, entry, time.monotonic()))
        time.sleep(2.0)

    with Sandbox(1, Limits(start_s=120, wall_s=5), preload=False) as sandbox:
        assert sandbox.warm()
        start = time.monotonic()
        outcome = sandbox.run(code, kind="python", function="f", cases=cases, on_entry=grade)
        assert outcome.ok, outcome.message  # 6 s of grading, yet within the 5 s limit
        assert [(i, e) for i, e, _ in seen] == [
            (0, {"value": 1}),
            (1, {"value": 4}),
            (2, {"value": 9}),
        ]
        assert outcome.outputs == [{"value": 1}, {"value": 4}, {"value": 9}]
        assert seen[0][2] - start < 1.5  # the first case came before the last was built
        assert outcome.timings["graded"] >= 6.0 and outcome.seconds < 5.0

        def broken(index, entry):
            raise RuntimeError("the grader broke")

        assert sandbox.warm()
        with pytest.raises(RuntimeError, match="the grader broke"):
            sandbox.run(code, kind="python", function="f", cases=cases, on_entry=broken)
        assert sandbox.warm()
        outcome = sandbox.run(
            "def f(n):\n    return -n\n", kind="python", function="f", cases=cases
        )
        assert outcome.outputs == [{"value": -1}, {"value": -2}, {"value": -3}]


def test_code_that_writes_to_the_report_channel_gains_nothing():
    """A forged last line ends the report with no case built (every case then fails), a
    forged case out of order makes the report unreadable; neither passes a check."""
    from keras_cnn import exercises
    from keras_cnn.exercises.grader import grade_outputs
    from quiz.sandbox import Limits, Sandbox

    exercise = exercises.get("conv_output_size")
    cases = [{"args": [list(a) for a in c.args]} for c in exercise.cases]
    right = exercise.solution
    forged_done = _CHANNEL + 'os.write(channel(), b\'{"done": true, "output": ""}\\n\')\n' + right
    forged_case = _CHANNEL + 'os.write(channel(), b\'{"case": 3, "value": 28}\\n\')\n' + right
    with Sandbox(1, Limits(start_s=120), preload=False) as sandbox:
        assert sandbox.warm()
        outcome = sandbox.run(forged_done, kind="python", function=exercise.function, cases=cases)
        assert outcome.ok and outcome.outputs == []
        report = grade_outputs(exercise, outcome.outputs)
        assert not report.passed and "the run stopped before this case" in report.feedback
        outcome.cleanup()
        assert sandbox.warm()
        outcome = sandbox.run(forged_case, kind="python", function=exercise.function, cases=cases)
        assert not outcome.ok and "could not be read" in outcome.message
        outcome.cleanup()


def test_the_server_reads_at_most_the_largest_report_whatever_the_code_sends(monkeypatch):
    """The reader thread queues at most MAX_REPORT_BYTES of a worker's lines, then a marker,
    and stops reading (the worker's writes block): a flood while a case is being graded
    cannot fill the server's memory."""
    import io
    import queue
    import threading

    from quiz import sandbox

    monkeypatch.setattr(sandbox, "MAX_REPORT_BYTES", 1000)
    worker = object.__new__(sandbox._Worker)
    flood = b"pid 7\nready\n" + b'{"case": 0, "value": 1}\n' + b"x" * 99 + b"\n" * 1000
    worker.proc = type("P", (), {"stdout": io.BytesIO(flood)})()
    worker.lines, worker.child_pid, worker.ready = queue.Queue(), None, threading.Event()
    worker._read()
    got = [worker.lines.get_nowait() for _ in range(worker.lines.qsize())]
    assert worker.child_pid == 7 and worker.ready.is_set()
    assert got[-1] is sandbox._OVERFLOW
    assert sum(len(g) for g in got[:-1]) <= 1000 and got[0] == b'{"case": 0, "value": 1}\n'
