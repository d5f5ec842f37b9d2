"""`python -m keras_cnn summary|list` from a terminal."""

import os
import subprocess
import sys

import pytest


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


# Bad values on the command line: exit status 2 and one line naming the value and the valid
# ones, before any work (issue 19, items 11 and 13). In-process: no interpreter per case.


def _main(capsys, *args):
    from keras_cnn.__main__ import main

    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse's refusal
        code = exit_.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("99999999,99999999,3", "'99999999,99999999,3'"),
        ("-5,-5,3", "'-5,-5,3'"),  # not taken for an option
        ("a,b,c", "'a,b,c'"),
        ("64,64", "'64,64'"),
    ],
)
def test_summary_refuses_a_bad_input_shape(capsys, text, shown):
    code, err = _main(capsys, "summary", "resnet50", "--input-shape", text)
    assert code == 2 and "Traceback" not in err and "invalid literal" not in err
    assert (
        "argument --input-shape: must be height,width,channels: three ints from 1 to 8,192" in err
    )
    assert f"Received: {shown}" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--epochs", "99999999999"],
            "`epochs` must be an int from 1 to 10,000. Received: epochs=99999999999",
        ),
        (["--seed", "-1"], "`seed` must be an int from 0 to 4,294,967,295. Received: seed=-1"),
        (["--checkpoint-dir", ""], "`checkpoint_dir` must name a directory: an empty path"),
    ],
)
def test_train_refuses_values_out_of_range(capsys, args, message):
    from keras_cnn import runs

    code, err = _main(capsys, "train", "lenet5", *args)
    assert code == 2 and message in err and "Traceback" not in err
    assert runs.list_runs().empty


def test_train_on_a_dataset_that_is_not_prepared_is_one_line(capsys, tmp_path, monkeypatch):
    from keras_cnn import data, runs

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    monkeypatch.setattr(data, "_can_reach", lambda host, timeout=3.0: False)  # offline
    code, err = _main(capsys, "train", "lenet5", "--data", "mnist", "--verbose", "0")
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("error: The TensorFlow Datasets dataset 'mnist' is not prepared")
    assert "storage.googleapis.com is unreachable" in lines[0]
    assert runs.list_runs().empty
