"""keras_cnn.diagram.to_dot: the DOT follows the model's own graph (no Streamlit here)."""

import re

import pytest

import keras_cnn
from keras_cnn.diagram import block_names, block_of, to_dot


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


@pytest.mark.slow
def test_resnet152_collapsed_is_small_and_fast():
    import time

    model = keras_cnn.build_resnet(152)
    start = time.perf_counter()
    dot = to_dot(model, collapse_blocks=True)
    assert time.perf_counter() - start < 1.0
    # 3 + 8 + 36 + 3 blocks, a 7-layer stem (input, conv1 pad/conv/bn/relu, pool1 pad/pool)
    # and a 2-layer head (avg_pool, predictions).
    assert len(nodes(dot)) == 50 + 7 + 2
    assert ("conv4_block35", "conv4_block36") in edges(dot)
