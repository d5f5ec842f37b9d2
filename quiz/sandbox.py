"""Run code submitted in the browser in a confined process that can only build models.

The course server never runs a learner's code itself. :class:`Sandbox` keeps a small pool of
pre-started worker processes (``python -m quiz.sandbox worker``), each confined before it
imports Keras and used for exactly one submission, then replaced. A worker:

* lives in its own **network namespace** (no interface but a loopback that is down: no
  connection, not even to 127.0.0.1), **mount namespace** and **PID namespace** (it sees only
  its own processes; when it ends, the kernel kills everything it started);
* sees the whole file system **read-only**, with the learner's data (``KERAS_CNN_HOME`` or
  the user data directory, holding the progress store) and the server user's ``~/.ssh``,
  ``~/.aws``, ``~/.config`` and ``~/.netrc`` hidden under empty mounts, and writes only to
  small private ``tmpfs`` mounts (its working directory, ``/tmp``, ``/dev/shm``);
* runs as a fresh **unprivileged user** (uid 61000 + n) with no capabilities when the server
  runs as root; as a normal user it runs in a user namespace as that same user (the
  hiding mounts are locked by a second, nested user namespace so it cannot unmount them);
* has ``no_new_privs`` set, a **scrubbed environment** (no ``KERAS_CNN_HOME``, no secrets:
  only ``PATH``, ``PYTHONPATH`` and a few Keras and thread settings) and resource limits
  set after Keras is imported: **CPU time**, **address space** (memory), **file size**,
  **processes**, and a **wall-clock** limit enforced by the server, which kills the worker's
  whole PID namespace; printed output goes to a 1 MB ``tmpfs`` file of which the first
  64 kB are shown.

The learner's code only builds models: the worker saves each case's model as a ``.keras``
file and sends its bytes back as soon as it is saved (one line per case, so the server grades
a case while the next is built); the grader (in the server) loads them in safe mode, so no
code of the learner's runs there (a ``Lambda`` layer is refused) and monkeypatching
``keras_cnn`` inside the worker changes nothing the grader uses. This module imports no
framework; the worker does, after confining itself. See ``docs/exercises.md`` for what the
sandbox does and does not protect against.
"""

from __future__ import annotations

import base64
import ctypes
import itertools
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID = 1, 2
SYS_MOUNT_SETATTR, AT_FDCWD, AT_RECURSIVE = 442, -100, 0x8000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
MNT_DETACH = 2
#: The unprivileged uids workers run as when the server runs as root.
UID_BASE, UID_COUNT = 61000, 4000
#: The largest report a worker may send (its ``.keras`` files, base64).
MAX_REPORT_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    Attributes:
        wall_s: Seconds from the submission to the report (the server kills the worker then).
        cpu_s: CPU seconds of the learner's code (RLIMIT_CPU, SIGXCPU then SIGKILL).
        memory_mb: Address space the learner's code may add to the worker (RLIMIT_AS).
        file_mb: Largest file it may write (RLIMIT_FSIZE).
        disk_mb: Size of its working ``tmpfs`` (all the files it writes).
        output_kb: Printed output kept (a ``tmpfs`` of this size; the first 64 kB are shown).
        processes: Processes and threads it may add (RLIMIT_NPROC, in its own namespace).
        start_s: Seconds a worker may take to start and import Keras.
    """

    wall_s: float = 45.0
    cpu_s: int = 30
    memory_mb: int = 3072
    file_mb: int = 64
    disk_mb: int = 256
    output_kb: int = 1024
    processes: int = 32
    start_s: float = 180.0


@dataclass
class Outcome:
    """What a submission produced.

    Attributes:
        ok: The worker ran the code and reported (the code itself may still have failed:
            see each entry of ``outputs``).
        outputs: One entry per case: ``{"model": path}`` (a ``.keras`` file on this side),
            ``{"value": v}`` or ``{"error": message}``; when not ``ok``, those that arrived.
        message: When not ``ok``, what happened, in words for the learner.
        output: What the code printed (at most 64 kB).
        seconds: Wall-clock seconds from submission to report (less the grading done
            meanwhile, see ``Sandbox.run``'s ``on_entry``).
        cold: Whether no pre-started worker was ready (the submission waited for one).
        timings: Where the seconds went, by part: the worker's own account of running the
            code (``exec``), building the models (``build``) and saving them (``save``), told
            by the worker and shown only; the server's ``start`` (waiting for a worker),
            ``report`` (from handing over the code to the last line), ``files`` (writing the
            models out), ``graded`` (in ``on_entry``, meanwhile) and ``kill``.
    """

    ok: bool
    outputs: list = field(default_factory=list)
    message: str = ""
    output: str = ""
    seconds: float = 0.0
    cold: bool = False
    timings: dict = field(default_factory=dict)
    directory: Path | None = None

    def cleanup(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


# --- confinement (runs in the worker, before any framework is imported) -----------------

_libc = ctypes.CDLL(None, use_errno=True)


def _ok(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    _ok(_libc.unshare(ctypes.c_int(flags)), "unshare")


def _mount(source, target, fstype, flags=0, data=None) -> None:
    def enc(s):
        return None if s is None else os.fsencode(s)

    _ok(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]  # fmt: skip


def _read_only_everywhere() -> None:
    attr = _MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0, 0, 0)  # devices still work
    result = _libc.syscall(
        ctypes.c_long(SYS_MOUNT_SETATTR), ctypes.c_int(AT_FDCWD), b"/",
        ctypes.c_uint(AT_RECURSIVE), ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
    )  # fmt: skip
    _ok(result, "mount_setattr /")


def _map_user(inner_uid: int, outer_uid: int, inner_gid: int, outer_gid: int) -> None:
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{inner_uid} {outer_uid} 1")
    Path("/proc/self/gid_map").write_text(f"{inner_gid} {outer_gid} 1")


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _cover_keeping(covers: list[tuple[str, str]], expose: list[str], stash: str) -> None:
    """Mount an empty tmpfs (``(folder, options)``) over each folder, keeping the ``expose``
    paths inside them: stashed on a scratch tmpfs at ``stash`` meanwhile, then bound back
    (a bind keeps its source's read-only flag)."""
    keep = [k for k in expose if Path(k).exists() and any(_inside(k, f) for f, _ in covers)]
    if keep:
        _mount("tmpfs", stash, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m")
        for i, path in enumerate(keep):
            os.makedirs(f"{stash}/keep{i}")
            _mount(path, f"{stash}/keep{i}", None, MS_BIND | MS_REC)
    for folder, options in covers:
        _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for i, path in enumerate(keep):
        os.makedirs(path, exist_ok=True)
        _mount(f"{stash}/keep{i}", path, None, MS_BIND | MS_REC)
        _ok(_libc.umount2(f"{stash}/keep{i}".encode(), MNT_DETACH), "umount")
    if keep:
        _ok(_libc.umount2(stash.encode(), MNT_DETACH), f"umount {stash}")


def _hide(config: dict) -> None:
    """Cover the server user's home with an empty tmpfs, bring back the parts a worker needs
    (Python, the virtual environment, the code) and cover the learner's data and secrets."""
    covered = [h for h in config["hide_homes"] if Path(h).is_dir()]
    _cover_keeping([(home, "size=1m,mode=755") for home in covered], config["expose"], "/tmp")
    for path in config["hide"]:
        p = Path(path)
        if p.is_dir():
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "size=4k,mode=000")
        elif p.exists():
            _mount("/dev/null", path, None, MS_BIND)


def _confine(config: dict) -> None:
    """Enter the namespaces, hide and freeze the file system, drop privileges.

    Runs in a single-threaded process (unshare of a user namespace requires it). Forks once:
    the parent waits (and is what the server's process handle sees), the child is PID 1 of
    the new PID namespace and goes on to be the worker.
    """
    root = os.geteuid() == 0
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | (0 if root else CLONE_NEWUSER)
    _unshare(flags)
    if not root:
        _map_user(0, uid, 0, gid)
    child = os.fork()
    if child:
        os.write(1, f"pid {child}\n".encode())
        _, status = os.waitpid(child, 0)
        code = os.waitstatus_to_exitcode(status)  # -N when signal N ended the worker
        os._exit(128 - code if code < 0 else code & 0xFF)  # the shell's 128 + N
    os.setsid()
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _hide(config)
    _read_only_everywhere()
    try:  # a /proc of this PID namespace (writable for the uid map): no other process shows
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass  # a container may forbid it; the other processes stay visible (not reachable)
    work_uid = config["uid"] if root else 0
    # what the worker needs that lives under /tmp (a checkout in `mktemp -d`) stays
    tmp = f"size={config['disk_mb']}m,mode=1777"
    _cover_keeping([("/tmp", tmp)], config["expose"], "/dev/shm")
    for path, size in (("/dev/shm", 16), ("/var/tmp", 1)):
        if Path(path).is_dir():
            _mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size}m,mode=1777")
    os.makedirs("/tmp/out")
    _mount("tmpfs", "/tmp/out", "tmpfs", MS_NOSUID | MS_NODEV, f"size={config['output_kb']}k")
    os.makedirs("/tmp/work")
    for path in ("/tmp/out", "/tmp/work"):
        os.chown(path, work_uid, work_uid)
    if root:
        os.setgroups([])
        os.setresgid(work_uid, work_uid, work_uid)
        os.setresuid(work_uid, work_uid, work_uid)  # every capability is gone
    else:  # lock the hiding mounts: a nested user namespace cannot unmount them
        _unshare(CLONE_NEWUSER | CLONE_NEWNS)
        _map_user(0, 0, 0, 0)
    _ok(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl no_new_privs")
    _ok(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl pdeathsig")
    os.chdir("/tmp/work")


def _worker_main(config_text: str) -> None:
    config = json.loads(config_text)
    _confine(config)
    from keras_cnn.exercises import worker  # imports Keras, now that the process is confined

    worker.serve(config)


# --- the server's side ------------------------------------------------------------------


def hidden_paths() -> dict[str, list[str]]:
    """What a worker must not see, and what it needs to see inside that.

    ``hide_homes``: the server user's home (covered, then ``expose`` brought back: the
    Python installation, the virtual environment and this code, when they live there);
    ``hide``: the learner data directory (the progress store) and the user's secrets,
    covered wherever they are.
    """
    from keras_cnn import paths

    home = Path.home()
    found = [paths.home_dir(), home / ".ssh", home / ".aws", home / ".config", home / ".netrc"]
    expose = {sys.base_prefix, sys.prefix, os.fspath(REPO)}
    return {
        "hide_homes": [os.fspath(home)] if home.is_dir() and os.fspath(home) != "/" else [],
        "expose": sorted(os.path.realpath(p) for p in expose),
        "hide": sorted({os.fspath(p) for p in found if p.exists()}),
    }


def _environment() -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": os.fspath(REPO),
        "HOME": "/tmp/work",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"),
        "KERAS_HOME": "/tmp/work/.keras",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "",
        "OMP_NUM_THREADS": "1",
        "TF_NUM_INTRAOP_THREADS": "1",
        "TF_NUM_INTEROP_THREADS": "1",
        "MALLOC_ARENA_MAX": "2",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


_uids = itertools.count()


class _Worker:
    """One worker process: started, confined, Keras imported; used once."""

    def __init__(self, limits: Limits, python: str, preload: bool = True):
        self.limits = limits
        self.started = time.monotonic()
        config = {
            "uid": UID_BASE + next(_uids) % UID_COUNT,
            **hidden_paths(),
            "disk_mb": limits.disk_mb,
            "output_kb": limits.output_kb,
            "cpu_s": limits.cpu_s,
            "memory_mb": limits.memory_mb,
            "file_mb": limits.file_mb,
            "processes": limits.processes,
            "preload": preload,
        }
        self.proc = subprocess.Popen(
            [python, "-m", "quiz.sandbox", "worker", json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_environment(),
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
        self.child_pid: int | None = None
        self.lines: queue.Queue = queue.Queue()
        self.stderr_tail = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        self.ready = threading.Event()
        self.failed = ""

    def _read(self) -> None:
        out = self.proc.stdout
        received = 0
        while True:
            try:
                line = out.readline(MAX_REPORT_BYTES)
            except (OSError, ValueError):  # closed by kill()
                line = b""
            if not line:
                self.lines.put(None)
                return
            if line.startswith(b"pid ") and self.child_pid is None:
                self.child_pid = int(line.split()[1])
            elif line.strip() == b"ready" and not self.ready.is_set():
                self.ready.set()
            else:
                received += len(line)
                if received > MAX_REPORT_BYTES:  # bounded memory, whatever the code sends
                    self.lines.put(_OVERFLOW)
                    return
                self.lines.put(line)

    def _read_stderr(self) -> None:
        try:
            while chunk := self.proc.stderr.read(4096):
                self.stderr_tail = (self.stderr_tail + chunk)[-4096:]
        except (OSError, ValueError):  # closed by kill()
            pass

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.ready.is_set():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.stderr_tail.decode(errors="replace").strip().splitlines()[-3:]
                self.failed = "the sandbox did not start" + (
                    f": {' | '.join(tail)}" if tail else ""
                )
                self.kill()
                return False
            self.ready.wait(0.05)
        return True

    def kill(self, wait: bool = True) -> None:
        """Kill the worker's PID namespace (its PID 1) and its launcher process.

        The signals are sent at once; with ``wait`` false the process is reaped by a
        background thread (the kernel takes a few tenths of a second to free a worker's
        memory, which a report that has already arrived need not wait for).
        """
        for pid in (self.child_pid,):
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if wait:
            self._reap()
        else:
            threading.Thread(target=self._reap, daemon=True).start()

    def _reap(self) -> None:
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass

    def _next(self, deadline: float):
        """The worker's next line, None at its end, or _LATE past the deadline."""
        while time.monotonic() < deadline:
            try:
                return self.lines.get(timeout=min(0.5, max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                continue
        return _LATE

    def run(self, job: dict, on_entry: Callable[[int, dict], None] | None = None) -> Outcome:
        """Hand the worker its job; collect one entry per case as each arrives (written out
        and passed to ``on_entry(index, entry)`` at once, whose time does not count against
        the wall-clock limit), then its last line."""
        start = time.monotonic()
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
        except OSError:
            self.kill()
            return Outcome(False, message="the sandbox stopped before it could take the code")
        deadline = start + self.limits.wall_s
        most = max(1, len(job["cases"]))
        directory = Path(tempfile.mkdtemp(prefix="keras-cnn-submission-"))
        entries: list[dict] = []
        timings = {"files": 0.0, "graded": 0.0}
        final, unreadable = None, ""
        while True:
            line = self._next(deadline)
            if line is None or line is _LATE:
                break
            message = _message(line)
            if line is _OVERFLOW:
                unreadable = f"the sandbox's report was larger than {MAX_REPORT_BYTES // 2**20} MB"
            elif message is not None and message.get("done") is True:
                final = message
            elif message is None or message.get("case") != len(entries) or len(entries) >= most:
                unreadable = (
                    "the sandbox's report could not be read (did your code write to its channel?)"
                )
            if final is not None or unreadable:
                break
            began = time.monotonic()
            entries.append(_entry(message, directory / f"case{len(entries)}.keras"))
            graded = time.monotonic()
            timings["files"] += graded - began
            if on_entry is not None:
                try:
                    on_entry(len(entries) - 1, entries[-1])
                except BaseException:
                    self.kill()
                    shutil.rmtree(directory, ignore_errors=True)
                    raise
                spent = time.monotonic() - graded
                timings["graded"] += spent
                deadline += spent
        seconds = time.monotonic() - start - timings["graded"]
        if final is None and not unreadable:  # the worker ended, or ran out of time
            exited = self.proc.poll()
            self.kill()
            if exited is None and line is _LATE:
                message = (
                    f"your code was stopped after {self.limits.wall_s:.0f} s of wall-clock "
                    "time (an endless loop, or waiting for something that never comes?)"
                )
            else:
                message = _exit_message(self.proc.returncode, self.limits)
            return Outcome(False, entries, message, seconds=seconds, directory=directory)
        reported = time.monotonic()
        self.kill(wait=bool(unreadable))
        timings["kill"] = time.monotonic() - reported
        if unreadable:
            return Outcome(False, entries, unreadable, seconds=seconds, directory=directory)
        output = final.get("output", "")
        told = final.get("timings")
        timings.update(
            (k, float(v))
            for k, v in (told.items() if isinstance(told, dict) else ())
            if k in ("exec", "build", "save") and isinstance(v, (int, float))
        )
        timings["report"] = reported - start
        return Outcome(
            True, entries, output=output[:65536] if isinstance(output, str) else "",
            seconds=seconds, timings=timings, directory=directory,
        )  # fmt: skip


#: What _Worker._next returns past the deadline, and what the reader queues when a worker
#: sends more than MAX_REPORT_BYTES (it stops reading: the worker's writes then block).
_LATE, _OVERFLOW = object(), object()


def _message(line) -> dict | None:
    if not isinstance(line, bytes):
        return None
    try:
        message = json.loads(line)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def _entry(message: dict, path: Path) -> dict:
    """One case's entry from the worker's line: a model is written to ``path``."""
    if isinstance(message.get("model"), str):
        try:
            path.write_bytes(base64.b64decode(message["model"], validate=True))
        except ValueError:
            return {"error": "the sandbox's model file could not be read"}
        return {"model": os.fspath(path)}
    if "value" in message or "error" in message:
        return {k: message[k] for k in ("value", "error") if k in message}
    return {"error": "the sandbox's report could not be read"}


def _exit_message(code: int | None, limits: Limits) -> str:
    """Why a worker ended without a report, in the learner's terms."""
    if code is None:
        return "the sandbox stopped without reporting"
    by_signal = {
        signal.SIGXCPU: f"your code used more than {limits.cpu_s} s of CPU time",
        signal.SIGKILL: (
            f"your code was killed: it used more than {limits.cpu_s} s of CPU time or ended its "
            "own process"
        ),
        signal.SIGXFSZ: f"your code wrote a file larger than {limits.file_mb} MB",
        signal.SIGSEGV: "your code crashed the sandbox's Python (segmentation fault)",
    }
    for number, text in by_signal.items():
        # -N: the worker itself was signalled; 128 + N: the namespace's init passed it on;
        # 256 - N: an init that masked -N into a byte (what an exit status can hold)
        if code in (-number, 128 + number, 256 - number):
            return text
    return (
        f"your code ended the sandbox's process (exit status {code}) before the checks could run: "
        "define the function and let the checks call it (no sys.exit, os._exit or kill)"
    )


class Sandbox:
    """A pool of pre-started, confined workers; each runs one submission.

    Args:
        size: int. Workers kept ready (each holds an imported Keras, a few hundred MB).
            Defaults to ``$KERAS_CNN_SANDBOX_POOL`` or 2.
        limits: Limits. What a submission may use.
        python: str. The interpreter (the server's own by default).
        preload: bool. Import Keras in each worker before it is ready (the point of the
            pool). False starts faster, for code that builds no model (tests).

    Example:
        >>> sandbox = Sandbox(1)  # starts a worker process  # doctest: +SKIP
        >>> outcome = sandbox.run(code, kind="block", function="residual_block", cases=[...])  # doctest: +SKIP
    """

    def __init__(
        self,
        size: int | None = None,
        limits: Limits | None = None,
        python: str | None = None,
        preload: bool = True,
    ):
        self.preload = preload
        self.size = int(os.environ.get("KERAS_CNN_SANDBOX_POOL", 2)) if size is None else size
        self.limits = limits or Limits()
        self.python = python or sys.executable
        self._pool: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self._starting = self.size  # workers being created (by refill() threads later)
        for _ in range(self.size):
            self._start()

    def _start(self) -> _Worker:
        try:
            worker = _Worker(self.limits, self.python, self.preload)
        finally:
            with self._lock:
                self._starting -= 1
        with self._lock:
            if not self._closed:
                self._pool.append(worker)
                return worker
        worker.kill()  # closed while it started
        return worker

    def _take(self) -> tuple[_Worker, bool]:
        with self._lock:
            ready = [w for w in self._pool if w.ready.is_set() and w.proc.poll() is None]
            dead = [w for w in self._pool if w.proc.poll() is not None]
            for w in dead:
                self._pool.remove(w)
            if ready:
                worker = ready[0]
                self._pool.remove(worker)
                return worker, False
            waiting = sorted(self._pool, key=lambda w: w.started)
            if waiting:
                worker = waiting[0]
                self._pool.remove(worker)
                return worker, True
        return _Worker(self.limits, self.python, self.preload), True

    def run(
        self,
        code: str,
        *,
        kind: str,
        function: str,
        cases: list[dict],
        on_entry: Callable[[int, dict], None] | None = None,
        refill: bool = True,
    ) -> Outcome:
        """Run ``code`` in a worker: build each case (``{"args": [...], "input_shape": ...}``).

        Args:
            on_entry: Called with ``(index, entry)`` as each case's entry arrives (an entry
                of ``Outcome.outputs``), in this thread, while the worker builds the next
                case: the grader grades it meanwhile. Its time does not count against the
                wall-clock limit.
            refill: bool. Start a worker in place of the one taken once this one has
                reported. False leaves that to the caller's :meth:`refill` (after grading:
                a worker's start keeps a core busy for seconds, which the grading of this
                submission should not share). Defaults to True.

        Returns:
            An :class:`Outcome`; call ``outcome.cleanup()`` once the models are graded.
        """
        if self._closed:
            raise RuntimeError("the sandbox is closed")
        worker, cold = self._take()
        try:
            return self._run(worker, cold, code, kind, function, cases, on_entry)
        finally:
            if refill:
                self.refill()

    def refill(self) -> None:
        """Start workers (in the background) until the pool holds ``size`` again."""
        with self._lock:
            missing = 0 if self._closed else self.size - len(self._pool) - self._starting
            self._starting += max(0, missing)
        for _ in range(missing):
            threading.Thread(target=self._start, daemon=True).start()

    def _run(self, worker, cold, code, kind, function, cases, on_entry) -> Outcome:
        start = time.monotonic()
        if not worker.wait_ready(self.limits.start_s):
            return Outcome(False, message=worker.failed, cold=cold)
        waited = time.monotonic() - start
        job = {"code": code, "kind": kind, "function": function, "cases": cases}
        outcome = worker.run(job, on_entry)
        outcome.cold = cold
        outcome.timings["start"] = waited
        return outcome

    def warm(self, timeout: float | None = None) -> bool:
        """Wait until every pooled worker is ready (a benchmark's warm start)."""
        deadline = time.monotonic() + (timeout or self.limits.start_s)
        while True:
            with self._lock:
                workers, starting = list(self._pool), self._starting
            if not starting or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        return all(w.wait_ready(max(0.0, deadline - time.monotonic())) for w in workers)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._pool = self._pool, []
        for w in workers:
            w.kill()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: list[str]) -> int:
    if argv[:1] == ["worker"] and len(argv) == 2:
        _worker_main(argv[1])
        return 0
    print(
        "usage: python -m quiz.sandbox worker CONFIG_JSON (started by quiz.sandbox.Sandbox)",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

__all__ = ["Limits", "Outcome", "Sandbox"]
