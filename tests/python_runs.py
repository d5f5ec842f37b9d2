"""Run a Python script in a fresh interpreter, as the tests of other Keras backends, of
PyTorch and JAX without TensorFlow, and of the GPU check do (one Keras backend per process)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Prepended to a script: `import tensorflow` (and TFDS) fails with ModuleNotFoundError and
#: `importlib.util.find_spec("tensorflow")` is None, as on a machine without TensorFlow
#: (torch._dynamo probes for it that way at import, so a finder that raised instead would
#: break PyTorch).
NO_TENSORFLOW = """
import sys
class _NoTensorFlow:
    def __init__(self, finder):
        self.finder = finder
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("tensorflow", "tensorflow_datasets"):
            return None
        return self.finder.find_spec(name, path, target)
    def __getattr__(self, attr):
        return getattr(self.finder, attr)
sys.meta_path[:] = [_NoTensorFlow(finder) for finder in sys.meta_path]
"""


def run_python(script: str, *args: str, env: dict, timeout: float = 300) -> str:
    """Run ``script`` with ``args`` in the repository root, the environment updated by ``env``
    (``KERAS_BACKEND``, ...); assert it succeeded and return its standard output."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def last_json(stdout: str):
    """The JSON object a script printed on its last line."""
    return json.loads(stdout.strip().splitlines()[-1])
