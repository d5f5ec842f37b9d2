"""The framework-free parts of keras_cnn import without TensorFlow, Keras, JAX or PyTorch.

``import keras_cnn`` is lazy (PEP 562): the paths, the registry's table and ``list_models()``
serve the course's store, its fact checks and the explorer's charts without a framework, while
the first builder name (``keras_cnn.build_resnet``) imports Keras. Each case runs in a fresh
interpreter, since this test process has imported TensorFlow long ago.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("tensorflow", "keras", "jax", "torch", "streamlit")

REPORT = (
    "\nimport sys\n"
    f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
    "print(','.join(heavy) or '-')\n"
)


def _heavy_after(code: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", code + REPORT],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "code",
    [
        "import keras_cnn",
        "import keras_cnn.paths; keras_cnn.paths.home_dir()",
        "from keras_cnn.models import registry, weights; registry.MODELS['resnet50']",
        "import keras_cnn; assert len(keras_cnn.list_models()) == len(keras_cnn.MODELS)",
        "from keras_cnn.models import weights; weights.on_disk('vgg16')",
        "import quiz, quiz.store, quiz.facts; quiz.get_course()",
    ],
)
def test_light_parts_import_no_framework(code):
    assert _heavy_after(code) == "-"


def test_a_builder_name_imports_keras_on_first_use():
    code = "import keras_cnn; m = keras_cnn.build_lenet5(); assert m.count_params() == 61706\n"
    assert "keras" in _heavy_after(code).split(",")


def test_every_public_name_resolves():
    """``__all__`` and ``dir()`` name only what the lazy table can import."""
    import keras_cnn

    for name in keras_cnn.__all__:
        assert getattr(keras_cnn, name) is not None, name
    assert {"build_resnet", "inside", "train", "runs", "data"} <= set(dir(keras_cnn))
    with pytest.raises(AttributeError, match="no attribute 'build_resnt'"):
        keras_cnn.build_resnt  # noqa: B018
