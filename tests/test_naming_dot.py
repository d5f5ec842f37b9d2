"""The one layer-name -> block module and the one DOT writer (issue 18): each caller's
contract, quoting, and that neither imports a deep-learning framework."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from keras_cnn.analysis import dot, naming

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("name", "block", "group"),
    [
        ("conv3_block2_1_conv", "conv3_block2", "conv3_block2"),
        ("conv3_block2_out", "conv3_block2", "conv3_block2"),
        ("conv4_block23_0_conv", "conv4_block23", "conv4_block23"),
        ("block4_conv1", "block4", "block4"),
        ("block5_pool", "block5", "block5"),
        ("inception_4a_pool_proj", "inception_4a", "inception_4a"),
        ("conv1_bn", None, "stem"),
        ("conv1_conv", None, "stem"),
        ("predictions", None, "head"),
        ("avg_pool", None, "head"),
        ("fc1_dropout", None, "head"),
        ("c3", None, "c3"),
    ],
)
def test_blocks_and_groups(name, block, group):
    assert naming.block_of(name) == block
    assert naming.group_of(name) == group


def test_experiments_and_diagrams_read_the_same_module():
    from keras_cnn.analysis import diagram
    from keras_cnn.training import experiments

    assert experiments.block_of is naming.group_of
    assert diagram.block_of is naming.block_of


@pytest.mark.parametrize(
    ("block", "stage"),
    [
        ("conv4_block36", "conv4"),
        ("conv2_block1", "conv2"),
        ("inception_4e", "inception_4"),
        ("block3", None),
        ("predictions", None),
        ("conv1_conv", None),
    ],
)
def test_stages(block, stage):
    assert naming.stage_of(block) == stage


def test_dot_quotes_and_writes_one_header():
    assert dot.quote('say "hi"\nback\\slash') == r'"say \"hi\"\nback\\slash"'
    text = dot.digraph(
        [
            dot.same_rank(["a", "b"]),
            dot.node("a", label="A\nx", fillcolor="#fff"),
            dot.edge("a", "b"),
        ],
        name="course",
        graph={"rankdir": "TB", "nodesep": 0.35},
        nodes={"shape": "box", "style": "rounded,filled", "fontsize": 14},
        title="t",
    )
    assert text.splitlines() == [
        "digraph course {",
        "  graph [rankdir=TB, nodesep=0.35];",
        '  node [shape=box, style="rounded,filled", fontsize=14];',
        '  labelloc="t"; fontcolor="#80868b"; label="t";',
        '  { rank=same; "a" "b" }',
        '  "a" [label="A\\nx", fillcolor="#fff"];',
        '  "a" -> "b";',
        "}",
    ]


def test_the_course_map_quotes_through_the_same_writer():
    import quiz
    from app import logic

    text = logic.course_map_dot(quiz.architecture_matrix(quiz.get_course(), set()))
    assert text.startswith("digraph course {") and "rankdir=TB" in text and "fontsize=14" in text
    assert not hasattr(logic, "stage_dot") and not hasattr(logic, "_quote")


def test_naming_and_dot_import_no_framework():
    code = (
        "import sys\n"
        "from keras_cnn.analysis import dot, naming\n"
        "import app.logic\n"
        "heavy = {m.split('.')[0] for m in sys.modules} & {'tensorflow', 'keras', 'jax', 'torch'}\n"
        "print(sorted(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
