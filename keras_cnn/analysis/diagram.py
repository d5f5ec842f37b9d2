"""Draw a model as a Graphviz DOT graph built from its own layer graph.

Every node is an operation of the functional model (name, type, output shape) and every
edge is a real input, so a residual block shows its skip path as an edge from the block's
input straight into the ``_add`` node, and an Inception module shows its four branches
meeting in the concatenation. Big networks can be collapsed to one node per block
(``conv4_block6``, ``block3``, ``inception_4a``) so that ResNet-152 stays readable.

The output is plain DOT text: render it with ``graphviz``, ``st.graphviz_chart`` or any
DOT viewer. Nothing here imports Streamlit.

Example:
    >>> dot = to_dot(build_cifar_resnet(20), block="conv2_block1")
    >>> '"conv1_relu" -> "conv2_block1_add"' in dot
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import keras

from keras_cnn.analysis import dot
from keras_cnn.analysis.graph import graph, graph_nodes
from keras_cnn.analysis.naming import block_of, stage_of

#: Fill colour per layer type (light enough for black text in light and dark themes).
_COLOURS = {
    "InputLayer": "#e0e0e0",
    "Conv2D": "#aecbfa",
    "DepthwiseConv2D": "#aecbfa",
    "SeparableConv2D": "#aecbfa",
    "Dense": "#c5b3f6",
    "BatchNormalization": "#e6f4ea",
    "Activation": "#fef7c3",
    "ReLU": "#fef7c3",
    "MaxPooling2D": "#fdd9b5",
    "AveragePooling2D": "#fdd9b5",
    "GlobalAveragePooling2D": "#fdd9b5",
    "GlobalMaxPooling2D": "#fdd9b5",
    "Add": "#f8b4b4",
    "Concatenate": "#f8b4b4",
    "Dropout": "#eeeeee",
    "Flatten": "#eeeeee",
}
_BLOCK_COLOUR = "#d2e3fc"
_SKIP = {"color": "#d93025", "penwidth": 2, "label": " skip", "fontcolor": "#d93025"}
#: The header of every model drawing.
_GRAPH = {
    "rankdir": "TB",
    "nodesep": 0.25,
    "ranksep": 0.3,
    "fontname": dot.FONT,
    "bgcolor": "transparent",
}
_NODES = {
    "shape": "box",
    "style": "rounded,filled",
    "fontname": dot.FONT,
    "fontsize": 10,
    "fontcolor": "#202124",
    "color": "#5f6368",
}
_EDGES = {"color": "#80868b", "arrowsize": 0.6, "fontname": dot.FONT, "fontsize": 9}


@dataclass(frozen=True)
class _Node:
    id: str
    label: str
    fill: str
    shape: str = "box"
    style: str = "rounded,filled"
    out: str = ""  # the output shape, "(56, 56, 256)"


@dataclass
class _Op:
    """An operation of the drawn graph: its name, type, output shape and parents."""

    name: str
    op: object
    shape: str
    parents: list


def _shape(node) -> str:
    """Output shape of a call without the batch axis, e.g. ``(56, 56, 256)``."""
    outputs = keras.tree.flatten(node.output_tensors)
    if not outputs:
        return "?"
    dims = tuple(outputs[0].shape[1:])
    return "(" + ", ".join("?" if d is None else str(d) for d in dims) + ")"


def _ops(model: keras.Model) -> list[_Op]:
    """The model's operations in graph order, each with the producers of all its inputs.

    A ``Sequential`` is read through its functional view; a nested model is one operation.

    Raises:
        ValueError: For a model without a layer graph (see ``keras_cnn.summarize``).
    """
    found: dict[str, _Op] = {}
    for op, node in graph_nodes(graph(model)):
        entry = found.setdefault(op.name, _Op(op.name, op, _shape(node), []))
        for tensor in keras.tree.flatten(node.input_tensors):
            parent = tensor._keras_history.operation.name
            if parent not in entry.parents:
                entry.parents.append(parent)
    return list(found.values())


def block_names(model: keras.Model) -> list[str]:
    """The model's blocks in graph order (``["conv2_block1", "conv2_block2", ...]``).

    Args:
        model: keras.Model. A functional model.

    Returns:
        Block prefixes in the order their first layer appears.
    """
    seen: dict[str, None] = {}
    for op in _ops(model):
        block = block_of(op.name)
        if block is not None:
            seen.setdefault(block)
    return list(seen)


def _in_block(name: str, block: str) -> bool:
    return name == block or name.startswith(block + "_")


def _edges(ops: Iterable[_Op]) -> list[tuple[str, str, bool]]:
    """``(source, target, is_skip)`` for every input of every op; a skip edge enters a merge
    (Add) from a parent other than the latest one, i.e. around the block's main path."""
    ops = list(ops)
    order = {op.name: i for i, op in enumerate(ops)}
    edges = []
    for op in ops:
        latest = max((order.get(p, -1) for p in op.parents), default=-1)
        merge = type(op.op).__name__ == "Add" and len(op.parents) > 1
        for parent in op.parents:
            skip = merge and order.get(parent, -1) != latest
            edges.append((parent, op.name, skip))
    return edges


def to_dot(
    model: keras.Model,
    *,
    max_nodes: int | None = None,
    collapse_blocks: bool = False,
    title: str | None = None,
    block: str | None = None,
    collapse_stages: bool = False,
) -> str:
    """A Graphviz DOT description of a functional model's graph.

    Args:
        model: keras.Model. A functional or ``Sequential`` model (the graph is read from
            the layer calls that lead to its outputs); a nested model is one node.
        max_nodes: int or None. When the graph has more nodes, the middle ones are replaced
            by a single "... N more ..." node (edges are kept through it). Defaults to None
            (no limit).
        collapse_blocks: bool. Draw one node per block (layers sharing a ``..._block{i}``,
            ``block{b}`` or ``inception_{n}{x}`` prefix) instead of one node per layer.
            Defaults to False.
        title: str or None. A title drawn above the graph. Defaults to None.
        block: str or None. Draw only the layers of this block (e.g. ``"conv2_block1"``) and,
            as dashed nodes, the layers that feed it, so that a residual block shows the edge
            from its input to its ``_add``. Defaults to None (the whole model).
        collapse_stages: bool. Draw one node per stage (``conv4_block1 ... conv4_block36``
            become one ``conv4`` node, "36 blocks"; GoogLeNet's ``inception_4a ... 4e`` one
            ``inception_4``), the layers before the first stage one ``stem`` node, the layers
            after the last one as they are: ResNet-152 in 7 nodes. Defaults to False.

    Returns:
        The DOT source (``digraph { ... }``).

    Raises:
        ValueError: If ``block`` names no layer of the model, or the model has no layer graph
            (subclassed, or a ``Sequential`` without an input shape).

    Example:
        >>> dot = to_dot(build_resnet(152), collapse_blocks=True)  # one node per block
        >>> '"conv4_block35" -> "conv4_block36"' in dot
        True
    """
    nodes, edges = _view(model, max_nodes, collapse_blocks, block, collapse_stages)
    return _dot_text(nodes, edges, title)


def _view(
    model: keras.Model,
    max_nodes: int | None,
    collapse_blocks: bool,
    block: str | None,
    collapse_stages: bool = False,
) -> tuple[dict[str, _Node], list[tuple[str, str, bool]]]:
    """The nodes and ``(source, target, is_skip)`` edges to draw (see :func:`to_dot`)."""
    ops = _ops(model)
    edges = _edges(ops)
    nodes: dict[str, _Node] = {}

    if block is not None:
        inside = [op for op in ops if _in_block(op.name, block)]
        if not inside:
            known = block_names(model)
            if not known:
                raise ValueError(
                    f"Model {model.name!r} has no blocks: none of its layer names starts with a "
                    "block prefix (conv2_block1_, block3_, inception_4a_), so there is nothing "
                    f"to draw by itself. Draw the whole model (block=None). Received: block={block!r}"
                )
            more = ", ..." if len(known) > 8 else ""
            raise ValueError(
                f"Model {model.name!r} has no block {block!r} (blocks: "
                f"{', '.join(known[:8])}{more}). Received: block={block!r}"
            )
        names = {op.name for op in inside}
        by_name = {op.name: op for op in ops}
        for op in inside:
            for parent in op.parents:
                if parent not in names and parent not in nodes:
                    nodes[parent] = _Node(
                        parent,
                        f"{parent}\n(block input)\n{by_name[parent].shape}",
                        "#ffffff",
                        style="rounded,dashed",
                        out=by_name[parent].shape,
                    )
        for op in inside:
            nodes[op.name] = _layer_node(op)
        edges = [e for e in edges if e[1] in names]
    elif collapse_blocks or collapse_stages:
        group = {op.name: block_of(op.name) or op.name for op in ops}
        members: dict[str, list] = {}
        for op in ops:
            members.setdefault(group[op.name], []).append(op)
        for key, group_ops in members.items():
            if len(group_ops) == 1 and block_of(group_ops[0].name) is None:
                nodes[key] = _layer_node(group_ops[0])
                continue
            kinds = {type(op.op).__name__ for op in group_ops}
            merge = "Add" if "Add" in kinds else "Concatenate" if "Concatenate" in kinds else ""
            params = sum(op.op.count_params() for op in group_ops if getattr(op.op, "built", False))
            detail = f"{len(group_ops)} layers" + (f", {merge}" if merge else "")
            nodes[key] = _Node(
                key,
                f"{key}\n{detail}, {params:,} params\n{group_ops[-1].shape}",
                _BLOCK_COLOUR,
                out=group_ops[-1].shape,
            )
        seen = set()
        collapsed = []
        for src, dst, _ in edges:
            pair = (group[src], group[dst])
            if pair[0] != pair[1] and pair not in seen:
                seen.add(pair)
                collapsed.append((pair[0], pair[1], False))
        edges = collapsed
        if collapse_stages:
            nodes, edges = _stages(nodes, edges)
    else:
        for op in ops:
            nodes[op.name] = _layer_node(op)

    if max_nodes is not None and len(nodes) > max(max_nodes, 3):
        nodes, edges = _elide(nodes, edges, max(max_nodes, 3))

    return nodes, [e for e in edges if e[0] in nodes and e[1] in nodes]


def _stages(
    nodes: dict[str, _Node], edges: list[tuple[str, str, bool]]
) -> tuple[dict[str, _Node], list[tuple[str, str, bool]]]:
    """One node per stage from one node per block: ``conv4_block1 ...`` -> ``conv4``; the
    nodes before the first stage -> ``stem``; those after the last stage stay."""
    group: dict[str, str] = {}
    members: dict[str, list[_Node]] = {}
    seen_stage = False
    for key, node in nodes.items():
        stage = stage_of(key)
        seen_stage = seen_stage or stage is not None
        group[key] = stage or (key if seen_stage else "stem")
        members.setdefault(group[key], []).append(node)
    staged: dict[str, _Node] = {}
    for key, inside in members.items():
        out = inside[-1].out
        if len(inside) == 1 and key == inside[0].id:
            staged[key] = inside[0]
        elif key == "stem":
            staged[key] = _Node(key, f"stem\n{len(inside)} layers\n{out}", _BLOCK_COLOUR, out=out)
        else:
            staged[key] = _Node(key, f"{key}\n{len(inside)} blocks\n{out}", _BLOCK_COLOUR, out=out)
    seen, merged = set(), []
    for src, dst, _ in edges:
        pair = (group[src], group[dst])
        if pair[0] != pair[1] and pair not in seen:
            seen.add(pair)
            merged.append((*pair, False))
    return staged, merged


def _dot_text(
    nodes: dict[str, _Node], edges: list[tuple[str, str, bool]], title: str | None
) -> str:
    """The DOT source of a view."""
    statements = [
        dot.node(n.id, label=n.label, fillcolor=n.fill, shape=n.shape, style=n.style)
        for n in nodes.values()
    ]
    statements += [
        dot.edge(src, dst, **(_SKIP if skip else {}))
        for src, dst, skip in edges
        if src in nodes and dst in nodes
    ]
    return dot.digraph(statements, graph=_GRAPH, nodes=_NODES, edges=_EDGES, title=title)


def _layer_node(op: _Op) -> _Node:
    kind = type(op.op).__name__
    if isinstance(op.op, keras.Model):  # a nested model: one node, drawn as a block
        kind = f"{kind}, {len(op.op.layers)} layers, {op.op.count_params():,} params"
        return _Node(op.name, f"{op.name}\n{kind}\n{op.shape}", _BLOCK_COLOUR, out=op.shape)
    label = f"{op.name}\n{kind}\n{op.shape}"
    return _Node(op.name, label, _COLOURS.get(kind, "#f1f3f4"), out=op.shape)


def _elide(
    nodes: dict[str, _Node], edges: list[tuple[str, str, bool]], max_nodes: int
) -> tuple[dict[str, _Node], list[tuple[str, str, bool]]]:
    """Keep the first and last nodes, replacing the middle ones by one ellipsis node."""
    keys = list(nodes)
    head = (max_nodes - 1) // 2
    tail = max_nodes - 1 - head
    dropped = set(keys[head : len(keys) - tail])
    ellipsis = f"... {len(dropped)} more ..."
    kept = {k: nodes[k] for k in keys[:head]}
    kept[ellipsis] = _Node(ellipsis, ellipsis, "#ffffff", shape="plaintext", style="solid")
    kept.update({k: nodes[k] for k in keys[len(keys) - tail :]})
    seen = set()
    redirected = []
    for src, dst, skip in edges:
        src = ellipsis if src in dropped else src
        dst = ellipsis if dst in dropped else dst
        if src != dst and (src, dst) not in seen:
            seen.add((src, dst))
            redirected.append((src, dst, skip and ellipsis not in (src, dst)))
    return kept, redirected


#: How :func:`show` can draw: Graphviz's ``dot`` program, or the built-in Python layout.
ENGINES = ("auto", "dot", "python")


class Diagram:
    """A drawing of a model that a notebook displays by itself (``_repr_svg_``).

    Attributes:
        dot: str. The Graphviz DOT source (as :func:`to_dot` returns it).
        svg: str. The SVG drawing.
        engine: str. ``"dot"`` or ``"python"``: what drew it.
    """

    def __init__(self, dot: str, svg: str, engine: str) -> None:
        self.dot, self.svg, self.engine = dot, svg, engine

    def _repr_svg_(self) -> str:
        return self.svg

    def __repr__(self) -> str:
        return f"<keras_cnn.Diagram: {self.dot.count(' -> ')} edges, drawn by {self.engine}>"

    def save(self, path) -> None:
        """Write the drawing: SVG for a ``.svg`` path, the DOT source for ``.dot`` / ``.gv``.

        Raises:
            ValueError: For another file extension.
        """
        import pathlib

        path = pathlib.Path(path)
        texts = {".svg": self.svg, ".dot": self.dot, ".gv": self.dot}
        if path.suffix not in texts:
            raise ValueError(
                f"Diagram.save writes {', '.join(texts)} files. Received: path={str(path)!r}"
            )
        path.write_text(texts[path.suffix], encoding="utf-8")


def show(
    model: keras.Model,
    *,
    collapse_blocks: bool | None = None,
    block: str | None = None,
    max_nodes: int | None = None,
    title: str | None = None,
    engine: str = "auto",
    collapse_stages: bool = False,
) -> Diagram:
    """A picture of a model in one call: in a notebook, ``keras_cnn.show(model)`` draws it.

    It draws the graph of :func:`to_dot` (skip edges in red, one node per block when
    collapsed). Graphviz's ``dot`` program is used when it is installed; without it (the
    usual case after ``pip install``) a built-in layout in pure Python draws the same nodes
    and edges, so nothing else needs installing.

    Args:
        model: keras.Model. A functional or ``Sequential`` model.
        collapse_blocks: bool or None. One node per block. Defaults to None: collapsed when
            the model has more than 60 layers (ResNet-50 shows its 16 blocks).
        block: str or None. Draw only this block and its inputs (e.g. ``"conv2_block1"``).
        max_nodes: int or None. Elide the middle of bigger graphs (see :func:`to_dot`).
        title: str or None. A title above the drawing. Defaults to the model's name.
        engine: str. ``"auto"`` (``dot`` when installed, else ``"python"``), ``"dot"``
            (Graphviz; an error names how to install it when it is missing) or
            ``"python"``. Defaults to ``"auto"``.
        collapse_stages: bool. One node per stage (ResNet-152 in 7 nodes, see
            :func:`to_dot`). Defaults to False.

    Returns:
        A :class:`Diagram`: it displays itself in Jupyter; ``.svg`` and ``.dot`` hold the
        drawing and its source, ``.save("model.svg")`` writes it.

    Raises:
        ValueError: For an unknown engine, ``engine="dot"`` without Graphviz, an unknown
            block, or a model without a layer graph.

    Example:
        >>> keras_cnn.show(keras_cnn.build_cifar_resnet(20), block="conv2_block1")
        <keras_cnn.Diagram: 8 edges, drawn by ...>
    """
    import shutil
    import subprocess

    from keras_cnn.analysis import svg

    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}. Received: engine={engine!r}")
    program = shutil.which("dot")
    if engine == "dot" and program is None:
        raise ValueError(
            "engine='dot' needs Graphviz's `dot` program, which is not on the PATH. Install "
            "Graphviz (Debian/Ubuntu: `apt install graphviz`, macOS: `brew install graphviz`, "
            "conda: `conda install graphviz`), or use engine='python' (the default 'auto' "
            "does so by itself)."
        )
    if collapse_blocks is None:
        collapse_blocks = block is None and not collapse_stages and len(_ops(model)) > 60
    title = model.name if title is None else title
    nodes, edges = _view(model, max_nodes, collapse_blocks, block, collapse_stages)
    source = _dot_text(nodes, edges, title)
    if engine == "python" or program is None:
        return Diagram(source, svg.render(nodes, edges, title), "python")
    done = subprocess.run(
        [program, "-Tsvg"], input=source, capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        raise ValueError(f"Graphviz's dot failed on the diagram: {done.stderr.strip()}")
    return Diagram(source, done.stdout, "dot")
