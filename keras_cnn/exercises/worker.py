"""The inside of a sandbox worker (``quiz/sandbox.py``): build each case, send the models back.

Started by ``python -m quiz.sandbox worker``, which has already confined the process (its own
network, mount and PID namespaces, a read-only file system, an unprivileged user). Here it
imports Keras, builds and saves a tiny model once (so the first submission pays no import or
first-save cost), sets the resource limits, says ``ready`` and waits for one job: the learner's
code, the function's name, the exercise kind and the cases. It runs the code, builds every
case as the grader would in a notebook (:func:`keras_cnn.exercises.grader.build_case`), saves
each model as a ``.keras`` file and writes one JSON line per case as soon as it is done (the
file's bytes in base64, the value or the error: the server grades a case while the next one
is built), then a last line with what the code printed. Nothing it sends is trusted: the
server loads the models in safe mode and grades them against references built on its side.
"""

from __future__ import annotations

import base64
import errno
import json
import os
import resource
import signal
import sys
import time
from collections.abc import Iterator

OUTPUT_FILE = "/tmp/out/output.txt"
SHOWN_OUTPUT = 65536


def _warm_up() -> None:
    import keras

    x = keras.Input((8, 8, 3))
    y = keras.layers.Conv2D(4, 3, padding="same")(x)
    y = keras.layers.BatchNormalization()(y)
    y = keras.layers.Add()([y, keras.layers.Conv2D(4, 1)(x)])
    model = keras.Model(x, keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(y)))
    model.save("/tmp/work/warm.keras")
    os.remove("/tmp/work/warm.keras")


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _threads() -> int:
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 64


def _limit(config: dict) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + int(config["cpu_s"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    memory = _vm_size() + int(config["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = int(config["file_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    procs = _threads() + int(config["processes"])
    resource.setrlimit(resource.RLIMIT_NPROC, (procs, procs))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG


def _why(exc: BaseException, config: dict) -> str | None:
    """A limit's own words for an error the sandbox caused."""
    if isinstance(exc, MemoryError):
        return (
            f"your code ran out of memory: the sandbox allows about {config['memory_mb']} MB more"
        )
    if isinstance(exc, OSError):
        if exc.errno == errno.EFBIG:
            return f"your code wrote a file larger than {config['file_mb']} MB"
        if exc.errno == errno.ENOSPC:
            try:
                printed = os.path.getsize(OUTPUT_FILE)
            except OSError:
                printed = 0
            if printed >= int(config["output_kb"]) * 1024 - 8192:
                return f"your code printed more than {config['output_kb']} kB"
            return f"your code wrote more than the sandbox's {config['disk_mb']} MB of disk"
        if exc.errno == errno.EROFS:
            return "your code tried to write outside its working directory (read-only here)"
        if exc.errno == errno.EAGAIN:
            return f"your code started too many processes (at most {config['processes']})"
        if exc.errno in (errno.ENETUNREACH, errno.ECONNREFUSED, errno.EADDRNOTAVAIL):
            return "your code tried to use the network, which the sandbox does not have"
    if isinstance(exc, BlockingIOError):
        return f"your code started too many processes (at most {config['processes']})"
    return None


def _run(job: dict, config: dict, timings: dict) -> Iterator[dict]:
    """Run the code, then build and save each case: one entry per case, as each is done
    (one entry only when the code itself fails)."""
    from keras_cnn.exercises.grader import SubmissionError, build_case
    from keras_cnn.exercises.spec import Case

    namespace: dict = {"__name__": "__submission__"}
    start = time.perf_counter()
    try:
        exec(compile(job["code"], "<submission>", "exec"), namespace)  # noqa: S102 - confined
    except SyntaxError as exc:
        yield {"error": f"your code does not parse (line {exc.lineno}: {exc.msg})"}
        return
    except SystemExit as exc:
        yield {
            "error": f"your code called sys.exit({exc.code!r}): define the function and let the checks call it"
        }
        return
    except BaseException as exc:  # noqa: BLE001 - the learner's code: report, do not crash
        why = _why(exc, config)
        yield {"error": why or f"your code raised {type(exc).__name__}: {exc}"}
        return
    timings["exec"] = time.perf_counter() - start
    fn = namespace.get(job["function"])
    if not callable(fn):
        yield {"error": f"your code defines no function {job['function']!r}"}
        return
    for i, raw in enumerate(job["cases"]):
        case = Case(
            tuple((k, v) for k, v in raw["args"]),
            tuple(raw["input_shape"]) if raw.get("input_shape") else None,
        )
        try:
            start = time.perf_counter()
            made = build_case(job["kind"], fn, case)
            timings["build"] = timings.get("build", 0.0) + time.perf_counter() - start
            if job["kind"] == "python":
                json.dumps(made)
                entry = {"value": made}
            else:
                start = time.perf_counter()
                path = f"/tmp/work/case{i}.keras"
                made.save(path)
                with open(path, "rb") as fh:
                    entry = {"model": base64.b64encode(fh.read()).decode()}
                os.remove(path)
                timings["save"] = timings.get("save", 0.0) + time.perf_counter() - start
        except SubmissionError as exc:
            cause = exc.__cause__
            why = _why(cause, config) if cause is not None else None
            entry = {"error": why or str(exc)}
        except SystemExit as exc:
            entry = {"error": f"your function called sys.exit({exc.code!r})"}
        except (TypeError, ValueError) as exc:
            if job["kind"] == "python":
                entry = {
                    "error": f"your function returned a value the checks cannot compare: {exc}"
                }
            else:
                entry = {"error": f"your model could not be saved: {exc}"}
        except BaseException as exc:  # noqa: BLE001
            why = _why(exc, config)
            entry = {"error": why or f"building case {i + 1} failed: {type(exc).__name__}: {exc}"}
        yield entry


def _send(channel: int, message: dict) -> None:
    view = memoryview((json.dumps(message) + "\n").encode())
    while view:
        view = view[os.write(channel, view) :]


def serve(config: dict) -> None:
    """Warm up, limit, say ready, run one job, report, exit.

    The report is one line per case, sent as soon as that case's model is saved (so the
    server grades it while the next one is built): ``{"case": i, "model" | "value" |
    "error": ...}``, then a last line ``{"done": true, "output": ..., "timings": ...}``.

    With ``config["preload"]`` false (the sandbox's own tests of code that never builds a
    model) the worker skips importing Keras: the same confinement and limits, a faster start.
    """
    if config.get("preload", True):
        import keras  # noqa: F401 - imported before the limits, so they bound the learner's code

        import keras_cnn.exercises.grader  # noqa: F401

        _warm_up()
    _limit(config)
    report = os.dup(1)
    os.write(report, b"ready\n")
    line = sys.stdin.readline()
    if not line:
        os._exit(0)
    job = json.loads(line)
    out = os.open(OUTPUT_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.close(out)
    os.close(0)
    timings: dict = {}
    sent = 0
    try:
        for entry in _run(job, config, timings):
            _send(report, {"case": sent, **entry})
            sent += 1
    except BaseException as exc:  # noqa: BLE001
        _send(report, {"case": sent, "error": f"the sandbox failed: {type(exc).__name__}: {exc}"})
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass
    try:
        with open(OUTPUT_FILE, encoding="utf-8", errors="replace") as fh:
            printed = fh.read(SHOWN_OUTPUT)
    except OSError:
        printed = ""
    _send(report, {"done": True, "output": printed, "timings": timings})
    os._exit(0)
