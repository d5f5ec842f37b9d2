"""Hostile submissions for tests/test_sandbox.py, run by the server as root or as a normal
user (``python tests/sandbox_hostile.py STORE SECRET WRITABLE_DIR`` prints one JSON line per case)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from quiz.sandbox import Limits, Sandbox  # noqa: E402

LIMITS = Limits(wall_s=20, cpu_s=5, memory_mb=1024, file_mb=16, disk_mb=64, output_kb=256,
                processes=16, start_s=240)  # fmt: skip


def cases(store: str, writable: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    """name -> (code, words one of which the learner's message must contain)."""
    return {
        "endless loop": ("while True:\n    pass\n", ("CPU time", "wall-clock")),
        "fork bomb": (
            "import os\nwhile True:\n    os.fork()\n",
            ("too many processes", "killed", "ended the sandbox"),
        ),
        "50 GB allocation": ("x = bytearray(50 * 2**30)\n", ("out of memory",)),
        "10 GB file": (
            "chunk = b'0' * 2**20\nwith open('big.bin', 'wb') as f:\n"
            "    for _ in range(10 * 1024):\n        f.write(chunk)\n",
            ("larger than 16 MB",),
        ),
        "1 GB print": (
            "import sys\nfor _ in range(2**20):\n    print('x' * 1023)\n",
            ("printed more than",),
        ),
        "socket to 127.0.0.1": (
            "import socket\ns = socket.socket()\ns.settimeout(3)\ns.connect(('127.0.0.1', 22))\n",
            ("network",),
        ),
        "read the progress store": (
            f"print(open({store!r}).read())\n",
            ("FileNotFoundError", "PermissionError"),
        ),
        "read /etc/shadow": ("print(open('/etc/shadow').read())\n", ("PermissionError",)),
        "kill the parent": (
            f"import os, signal\ntry:\n    os.kill({os.getpid()}, signal.SIGKILL)\nexcept OSError:\n    pass\n"
            "os.kill(os.getppid(), signal.SIGKILL)\n",
            ("killed", "ended the sandbox", "no function 'f'"),  # or the kill found no one
        ),
        "sys.exit(0)": ("import sys\nsys.exit(0)\n", ("sys.exit(0)",)),
        "write outside": (
            f"open({writable!r} + '/planted', 'w').write('x')\n",
            ("read-only", "PermissionError"),
        ),
    }


def run_all(store: str, secret: str, writable: str) -> list[dict]:
    results = []
    with Sandbox(2, LIMITS, preload=False) as sandbox:
        for name, (code, words) in cases(store, writable).items():
            outcome = sandbox.run(code, kind="python", function="f", cases=[{"args": []}])
            text = outcome.message + " ".join(str(e.get("error", "")) for e in outcome.outputs)
            results.append(
                {
                    "name": name,
                    "ok": any(w in text for w in words),
                    "text": text[:300],
                    "leaked": secret in text or secret in outcome.output,
                    "output_bytes": len(outcome.output),
                    "seconds": round(outcome.seconds, 1),
                }
            )
            outcome.cleanup()
        # the server keeps answering: a well-behaved submission still works
        outcome = sandbox.run(
            "def f():\n    return 42\n", kind="python", function="f", cases=[{"args": []}]
        )
        results.append(
            {
                "name": "afterwards",
                "ok": outcome.outputs == [{"value": 42}],
                "text": outcome.message,
            }
        )
    return results


if __name__ == "__main__":
    print(json.dumps({"uid": os.getuid(), "results": run_all(*sys.argv[1:4])}))
