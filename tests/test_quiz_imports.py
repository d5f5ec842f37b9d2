"""quiz must import neither TensorFlow, Keras nor Streamlit (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

SCRIPT = """
import importlib, pkgutil, sys
import quiz
names = ["quiz"] + [m.name for m in pkgutil.walk_packages(quiz.__path__, "quiz.")]
for name in names:
    importlib.import_module(name)
quiz.get_course()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"tensorflow", "keras", "streamlit"})
print(len(names))
print(",".join(heavy))
"""


def test_quiz_imports_no_heavy_frameworks():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    count, heavy = proc.stdout.split("\n")[:2]
    assert int(count) >= 9  # quiz and its submodules were really imported
    assert heavy == ""
