"""`python -m keras_cnn summary|list` from a terminal."""

import os
import subprocess
import sys


def _run(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "keras_cnn", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_summary_prints_the_table_and_totals():
    result = _run("summary", "resnet50")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "conv5_block3_out" in out and "receptive_field" in out
    assert "Parameters:           25,636,712" in out
    assert "Weight layers:        50" in out
    assert "3,857,973,248" in out


def test_summary_of_an_unknown_model_is_a_clear_error():
    result = _run("summary", "resnet51")
    assert result.returncode == 2
    assert "Unknown model 'resnet51'" in result.stderr
    assert "Traceback" not in result.stderr


def test_list_prints_every_model():
    result = _run("list")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "resnet1202" in result.stdout and "googlenet" in result.stdout
