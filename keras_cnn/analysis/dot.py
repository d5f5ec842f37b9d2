"""Graphviz DOT text: the one place that quotes names and writes a graph's header.

The model diagrams (:mod:`keras_cnn.analysis.diagram`) and the app's course map write their
DOT through these helpers, so a name with a quote, a backslash or a newline in it is drawn
as written everywhere. Nothing here imports a deep-learning framework.

Example:
    >>> print(digraph([node("a", label='say "hi"'), edge("a", "b")], graph={"rankdir": "TB"}))
    digraph {
      graph [rankdir=TB];
      "a" [label="say \\"hi\\""];
      "a" -> "b";
    }
    <BLANKLINE>
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

#: A DOT ID that needs no quotes: a word or a number.
_BARE = re.compile(r"^(?:[A-Za-z_][A-Za-z_0-9]*|-?(?:\.\d+|\d+(?:\.\d*)?))$")
#: The fonts and colours every drawing shares.
FONT = "Helvetica"
TITLE_COLOUR = "#80868b"


def quote(text) -> str:
    """``text`` as a quoted DOT string: ``say "hi"`` -> ``"say \\"hi\\""``, newlines as ``\\n``."""
    text = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + text + '"'


def _value(value) -> str:
    text = str(value)
    return text if isinstance(value, int | float) or _BARE.match(text) else quote(text)


def attributes(values: Mapping[str, object]) -> str:
    """``{"shape": "box", "style": "rounded,filled"}`` -> ``shape=box, style="rounded,filled"``."""
    return ", ".join(f"{key}={_value(value)}" for key, value in values.items())


def node(name: str, **attrs) -> str:
    """One node statement: ``"conv1" [label="conv1", ...];``."""
    return f"{quote(name)} [{attributes(attrs)}];" if attrs else f"{quote(name)};"


def edge(source: str, target: str, **attrs) -> str:
    """One edge statement: ``"a" -> "b";`` (with attributes when given)."""
    extra = f" [{attributes(attrs)}]" if attrs else ""
    return f"{quote(source)} -> {quote(target)}{extra};"


def same_rank(names: Iterable[str]) -> str:
    """A statement that draws these nodes side by side: ``{ rank=same; "a" "b" }``."""
    return "{ rank=same; " + " ".join(quote(n) for n in names) + " }"


def digraph(
    statements: Iterable[str],
    *,
    name: str = "",
    graph: Mapping[str, object] | None = None,
    nodes: Mapping[str, object] | None = None,
    edges: Mapping[str, object] | None = None,
    title: str | None = None,
) -> str:
    """A whole ``digraph``: the header (graph, node and edge defaults, a title), then the
    statements, one per line.

    Args:
        statements: Iterable[str]. Lines from :func:`node`, :func:`edge`, :func:`same_rank`.
        name: str. The graph's name (``digraph course {``). Defaults to none.
        graph: The graph's attributes (``rankdir``, ``nodesep`` …).
        nodes: Defaults of every node (``shape``, ``style``, ``fontsize`` …).
        edges: Defaults of every edge.
        title: str or None. Drawn above the graph.

    Returns:
        The DOT source, ending in a newline.
    """
    lines = [f"digraph {_value(name)} {{" if name else "digraph {"]
    for kind, values in (("graph", graph), ("node", nodes), ("edge", edges)):
        if values:
            lines.append(f"  {kind} [{attributes(values)}];")
    if title:
        lines.append(f'  labelloc="t"; fontcolor="{TITLE_COLOUR}"; label={quote(title)};')
    lines.extend(f"  {statement}" for statement in statements)
    lines.append("}")
    return "\n".join(lines) + "\n"
