"""keras_cnn.to_dot: the DOT follows the model's own graph (no Streamlit here)."""

import re

import pytest

import keras_cnn
from keras_cnn.analysis.diagram import block_names, to_dot
from keras_cnn.analysis.naming import block_of
from keras_cnn.analysis.summary import inspect_structure


def edges(dot: str) -> set[tuple[str, str]]:
    return set(re.findall(r'^\s*"([^"]+)" -> "([^"]+)"', dot, flags=re.M))


def nodes(dot: str) -> set[str]:
    return set(re.findall(r'^\s*"([^"]+)" \[label=', dot, flags=re.M))


@pytest.fixture(scope="module")
def resnet20():
    return keras_cnn.build_cifar_resnet(20)


@pytest.fixture(scope="module")
def plain20():
    return keras_cnn.build_cifar_resnet(20, residual=False)


def test_residual_block_has_skip_edge_into_add(resnet20):
    dot = to_dot(resnet20, block="conv2_block1")
    assert ("conv1_relu", "conv2_block1_add") in edges(dot)
    assert ("conv2_block1_2_bn", "conv2_block1_add") in edges(dot)
    assert "skip" in dot
    # The block's own layers plus its input drawn as a dashed node.
    assert nodes(dot) == {
        "conv1_relu",
        "conv2_block1_1_conv",
        "conv2_block1_1_bn",
        "conv2_block1_1_relu",
        "conv2_block1_2_conv",
        "conv2_block1_2_bn",
        "conv2_block1_add",
        "conv2_block1_out",
    }


def test_plain_twin_has_no_skip_edge(plain20):
    dot = to_dot(plain20, block="conv2_block1")
    assert not any(dst.endswith("_add") for _, dst in edges(dot))
    assert "skip" not in dot
    # Input -> conv -> bn -> relu -> conv -> bn -> relu: a chain, one edge per node but the first.
    assert len(edges(dot)) == len(nodes(dot)) - 1


def test_full_graph_has_one_node_per_operation_and_every_input_edge(resnet20):
    dot = to_dot(resnet20, title="ResNet-20")
    assert nodes(dot) == {op.name for op in resnet20.operations}
    n_inputs = sum(len(op._inbound_nodes[0].input_tensors) for op in resnet20.operations[1:])
    assert len(edges(dot)) == n_inputs
    assert 'label="ResNet-20"' in dot
    assert dot.startswith("digraph {") and dot.rstrip().endswith("}")


def test_collapsed_view_is_one_node_per_block(resnet20):
    dot = to_dot(resnet20, collapse_blocks=True)
    blocks = block_names(resnet20)
    assert len(blocks) == 9
    assert set(blocks) <= nodes(dot)
    assert ("conv2_block1", "conv2_block2") in edges(dot)
    assert ("conv1_relu", "conv2_block1") in edges(dot)
    assert not any(src == dst for src, dst in edges(dot))
    assert len(nodes(dot)) == len(blocks) + 6  # input, conv1 conv/bn/relu, avg_pool, predictions


def test_max_nodes_elides_the_middle(resnet20):
    dot = to_dot(resnet20, max_nodes=11)
    assert len(nodes(dot)) == 11
    ellipsis = [n for n in nodes(dot) if n.startswith("...")]
    assert len(ellipsis) == 1
    assert "predictions" in nodes(dot) and "input" in nodes(dot)


def test_block_names_and_prefixes():
    assert block_of("conv4_block23_2_conv") == "conv4_block23"
    assert block_of("block3_conv2") == "block3"
    assert block_of("inception_4a_pool_proj") == "inception_4a"
    assert block_of("conv1_conv") is None and block_of("predictions") is None


def test_labels_are_escaped(resnet20):
    dot = to_dot(resnet20, title='say "hi"\nthere')
    assert r'label="say \"hi\"\nthere"' in dot


def test_unknown_block_is_a_clear_error(resnet20):
    with pytest.raises(ValueError, match="no block 'conv9_block1'"):
        to_dot(resnet20, block="conv9_block1")


def test_a_block_of_a_model_without_blocks_says_so():
    """Issue 19, item 11: not "(blocks: , ...)"."""
    lenet = keras_cnn.build_lenet5()
    with pytest.raises(ValueError) as error:
        keras_cnn.show(lenet, block="nope")
    message = str(error.value)
    assert "has no blocks" in message and "block=None" in message
    assert message.endswith("Received: block='nope'") and "(blocks: ," not in message


def _stages(model):
    return to_dot(model, collapse_stages=True, title="resnet152"), len(model.layers)


def test_one_node_per_stage_from_the_model():
    dot, _ = inspect_structure(lambda: keras_cnn.build_resnet(152), _stages)
    drawn = re.findall(r'^\s*"([^"]+)" \[label=', dot, flags=re.M)
    assert drawn == ["stem", "conv2", "conv3", "conv4", "conv5", "avg_pool", "predictions"]
    assert 'label="conv4\\n36 blocks\\n(14, 14, 1024)"' in dot
    # input, conv1_pad, conv1_conv, conv1_bn, conv1_relu, pool1_pad, pool1_pool
    assert 'label="stem\\n7 layers\\n(56, 56, 64)"' in dot
    assert ("stem", "conv2") in edges(dot) and ("conv5", "avg_pool") in edges(dot)
    assert len(edges(dot)) == 6 and 'label="resnet152"' in dot
    googlenet, _ = inspect_structure(lambda: keras_cnn.get_model("googlenet"), _stages)
    assert {"inception_3", "inception_4", "inception_5"} <= nodes(googlenet)


@pytest.mark.slow
def test_resnet152_collapsed_is_small_and_needs_no_weights():
    """What made the collapsed view fast, checked as values: it is drawn from the graph alone
    (a structure-only model, whose weights are never initialised) and stays a few dozen nodes
    and lines whatever the depth. Its time is printed by benchmarks/build_time.py."""
    dot = inspect_structure(
        lambda: keras_cnn.build_resnet(152), lambda model: to_dot(model, collapse_blocks=True)
    )
    # 3 + 8 + 36 + 3 blocks, a 7-layer stem (input, conv1 pad/conv/bn/relu, pool1 pad/pool)
    # and a 2-layer head (avg_pool, predictions).
    assert len(nodes(dot)) == 50 + 7 + 2
    assert len(edges(dot)) == 50 + 7 + 2 - 1  # a chain: each node but the input has one input
    assert ("conv4_block35", "conv4_block36") in edges(dot)
    assert len(dot.splitlines()) < 2 * (50 + 7 + 2) + 10  # a node and an edge line each


# ------------------------------------------------------------------------------------------------
# keras_cnn.show: a picture in one call, with or without Graphviz (issue 11, item 6)
# ------------------------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


def drawn(diagram) -> tuple[list[tuple[float, float, float, float]], list[str], list]:
    """Boxes (x, y, w, h), texts and paths of a diagram's SVG, parsed as XML."""
    import xml.etree.ElementTree as ET

    root = ET.fromstring(diagram._repr_svg_())
    boxes = [
        tuple(float(r.get(k)) for k in ("x", "y", "width", "height"))
        for r in root.iter(f"{SVG}rect")
    ]
    paths = [p for p in root.iter(f"{SVG}path") if p.get("marker-end")]  # edges, not arrowheads
    return boxes, [t.text for t in root.iter(f"{SVG}text")], paths


@pytest.fixture
def no_dot(monkeypatch):
    """A machine without Graphviz's dot program (the usual notebook)."""
    import shutil

    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)


def test_show_draws_a_block_without_graphviz(resnet20, no_dot):
    diagram = keras_cnn.show(resnet20, block="conv3_block1")
    assert diagram.engine == "python" and repr(diagram).endswith("drawn by python>")
    assert diagram.dot == to_dot(resnet20, block="conv3_block1", title="resnet20")
    boxes, texts, paths = drawn(diagram)
    assert len(boxes) == len(nodes(diagram.dot)) == 13
    assert set(nodes(diagram.dot)) <= set(texts)  # every layer is labelled
    assert len(paths) == len(edges(diagram.dot)) == 13
    skips = [p for p in paths if p.get("stroke") == "#d93025"]
    assert len(skips) == 1 and "skip" in texts  # the shortcut into conv3_block1_add
    for i, (x, y, w, h) in enumerate(boxes):  # no two boxes overlap
        for x2, y2, w2, h2 in boxes[i + 1 :]:
            assert x + w <= x2 or x2 + w2 <= x or y + h <= y2 or y2 + h2 <= y


def test_show_collapses_big_models_and_draws_sequential_ones(no_dot):
    big = keras_cnn.show(keras_cnn.build_cifar_resnet(20))
    assert "conv2_block1" in nodes(big.dot) and "conv2_block1_add" not in nodes(big.dot)
    import keras

    seq = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(2, 3, name="c")])
    boxes, texts, _ = drawn(keras_cnn.show(seq))
    assert len(boxes) == 2 and "c" in texts


def test_show_says_what_is_missing_and_refuses_bad_arguments(resnet20, no_dot, tmp_path):
    with pytest.raises(ValueError, match="apt install graphviz"):
        keras_cnn.show(resnet20, engine="dot")
    with pytest.raises(ValueError, match="engine must be one of"):
        keras_cnn.show(resnet20, engine="svg")
    diagram = keras_cnn.show(resnet20, block="conv2_block1")
    diagram.save(tmp_path / "block.svg")
    diagram.save(tmp_path / "block.dot")
    assert (tmp_path / "block.svg").read_text().startswith("<svg")
    assert (tmp_path / "block.dot").read_text() == diagram.dot
    with pytest.raises(ValueError, match="writes .svg, .dot, .gv files"):
        diagram.save(tmp_path / "block.png")


def test_show_hands_the_dot_source_to_graphviz(resnet20, tmp_path, monkeypatch):
    """With a ``dot`` program on the PATH (a stand-in here that echoes what it was given and
    how), show() draws with it, and a failing ``dot`` is an error, not a blank picture."""
    import shutil
    import stat

    fake = tmp_path / "dot"
    fake.write_text(
        '#!/bin/sh\nif [ "$1" != "-Tsvg" ]; then echo "bad format $1" >&2; exit 3; fi\n'
        'echo "<svg xmlns=\\"http://www.w3.org/2000/svg\\"><!--"; cat; echo "--></svg>"\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: str(fake))
    diagram = keras_cnn.show(resnet20, block="conv2_block1")
    assert diagram.engine == "dot" and diagram.dot in diagram.svg
    fake.write_text('#!/bin/sh\necho "syntax error in line 3" >&2\nexit 1\n')
    with pytest.raises(ValueError, match="dot failed on the diagram: syntax error in line 3"):
        keras_cnn.show(resnet20, block="conv2_block1")
    assert keras_cnn.show(resnet20, block="conv2_block1", engine="python").engine == "python"
