"""Draw a layer graph as SVG in pure Python, for notebooks without Graphviz's ``dot``.

A small layered ("Sugiyama") layout, enough for the top-to-bottom graphs of CNNs: every node
goes on the row of its longest path from an input; an edge that skips rows (a residual
shortcut) runs through thin waypoints, which take a lane beside the main path instead of
crossing its boxes; each row is ordered by the mean position of the nodes feeding it (two
sweeps) and its nodes are placed under their inputs, pushed apart where they would overlap.
Nothing here imports Keras: it draws the nodes and edges that :mod:`keras_cnn.diagram` chose.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

FONT_SIZE = 10
CHAR_W = 6.2  # average width of a 10 px Helvetica character
LINE_H = 13
PAD_X, PAD_Y = 8, 5
GAP_X, GAP_Y = 14, 26
LANE = 4  # width of a waypoint of a long edge
MARGIN = 10


@dataclass
class _Box:
    id: str
    lines: list[str]
    fill: str
    dashed: bool
    plain: bool
    rank: int = 0
    x: float = 0.0  # centre
    y: float = 0.0  # top
    w: float = LANE
    h: float = 0.0
    dummy: bool = False


def _ranks(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Longest path from a source, for every node (edges must form a DAG)."""
    parents: dict[str, list[str]] = {i: [] for i in ids}
    children: dict[str, list[str]] = {i: [] for i in ids}
    for src, dst in edges:
        parents[dst].append(src)
        children[src].append(dst)
    waiting = {i: len(parents[i]) for i in ids}
    ready = [i for i in ids if not waiting[i]]
    rank = dict.fromkeys(ids, 0)
    while ready:
        node = ready.pop(0)
        for child in children[node]:
            rank[child] = max(rank[child], rank[node] + 1)
            waiting[child] -= 1
            if not waiting[child]:
                ready.append(child)
    return rank


def render(nodes: dict, edges: list[tuple[str, str, bool]], title: str | None = None) -> str:
    """An SVG drawing of ``nodes`` (``diagram._Node``) joined by ``(src, dst, is_skip)``.

    Args:
        nodes: Node id -> node with ``label`` (lines split on newlines), ``fill`` and
            ``style`` / ``shape`` as in the DOT output.
        edges: ``(source, target, is_skip)``; skip edges are drawn red and labelled.
        title: A title above the graph, or None.

    Returns:
        The SVG document as text.
    """
    boxes: dict[str, _Box] = {}
    for node in nodes.values():
        lines = node.label.split("\n")
        box = _Box(node.id, lines, node.fill, "dashed" in node.style, node.shape == "plaintext")
        box.w = max(len(line) for line in lines) * CHAR_W + 2 * PAD_X
        box.h = len(lines) * LINE_H + 2 * PAD_Y
        boxes[node.id] = box
    rank = _ranks(list(boxes), [(s, d) for s, d, _ in edges])
    for key, box in boxes.items():
        box.rank = rank[key]

    # Long edges become chains through waypoints, one per row they cross.
    chains: list[tuple[list[str], bool]] = []
    for src, dst, skip in edges:
        chain = [src]
        for r in range(rank[src] + 1, rank[dst]):
            waypoint = f"\0{src}\0{dst}\0{r}"
            boxes[waypoint] = _Box(waypoint, [], "", False, False, rank=r, dummy=True)
            chain.append(waypoint)
        chains.append(([*chain, dst], skip))
    parents: dict[str, list[str]] = {k: [] for k in boxes}
    for chain, _ in chains:
        for a, b in zip(chain, chain[1:], strict=False):
            parents[b].append(a)

    rows: dict[int, list[str]] = {}
    for key, box in boxes.items():  # real nodes in graph order, waypoints after them
        rows.setdefault(box.rank, []).append(key)
    order = {k: i for row in rows.values() for i, k in enumerate(row)}
    for _ in range(2):  # order each row by the mean position of its inputs
        for r in sorted(rows)[1:]:
            rows[r].sort(
                key=lambda k: (
                    sum(order[p] for p in parents[k]) / len(parents[k]) if parents[k] else order[k],
                    boxes[k].dummy,
                )
            )
            order.update({k: i for i, k in enumerate(rows[r])})

    y = MARGIN + (LINE_H + GAP_Y / 2 if title else 0)
    for r in sorted(rows):
        row = [boxes[k] for k in rows[r]]
        wanted = [
            sum(boxes[p].x for p in parents[b.id]) / len(parents[b.id]) if parents[b.id] else 0.0
            for b in row
        ]
        right = None
        for box, want in zip(row, wanted, strict=True):
            x = want if right is None else max(want, right + GAP_X + box.w / 2)
            box.x, right = x, x + box.w / 2
        real = [(b, w) for b, w in zip(row, wanted, strict=True) if not b.dummy]
        if real and any(parents[b.id] for b, _ in real):  # centre the row's nodes on their inputs
            shift = sum(w - b.x for b, w in real) / len(real)
            for box in row:
                box.x += shift
        height = max((b.h for b in row if not b.dummy), default=0.0)
        for box in row:
            box.y = y + (height - box.h) / 2 if not box.dummy else y
            box.h = box.h if not box.dummy else height
        y += height + GAP_Y

    left = min(b.x - b.w / 2 for b in boxes.values())
    for box in boxes.values():
        box.x += MARGIN - left
    width = max(b.x + b.w / 2 for b in boxes.values()) + MARGIN
    height = y - GAP_Y + MARGIN

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" '
        f'font-size="{FONT_SIZE}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/>'
        "</marker></defs>",
    ]
    if title:
        out.append(
            f'<text x="{width / 2:.1f}" y="{MARGIN + LINE_H - 3}" text-anchor="middle" '
            f'fill="#80868b">{escape(title)}</text>'
        )
    for chain, skip in chains:
        points = []
        for i, key in enumerate(chain):
            box = boxes[key]
            if i:
                points.append((box.x, box.y))
            if i < len(chain) - 1:
                points.append((box.x, box.y + box.h))
        path = f"M{points[0][0]:.1f},{points[0][1]:.1f}"
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            mid = (y0 + y1) / 2
            path += f" C{x0:.1f},{mid:.1f} {x1:.1f},{mid:.1f} {x1:.1f},{y1:.1f}"
        colour, width_ = ("#d93025", 2) if skip else ("#80868b", 1)
        out.append(
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{width_}" '
            'marker-end="url(#arrow)"/>'
        )
        if skip:
            x, y_ = points[len(points) // 2]
            out.append(f'<text x="{x + 4:.1f}" y="{y_:.1f}" fill="#d93025">skip</text>')
    for box in boxes.values():
        if box.dummy:
            continue
        if not box.plain:
            dash = ' stroke-dasharray="4,3"' if box.dashed else ""
            out.append(
                f'<rect x="{box.x - box.w / 2:.1f}" y="{box.y:.1f}" width="{box.w:.1f}" '
                f'height="{box.h:.1f}" rx="5" fill="{box.fill}" stroke="#5f6368"{dash}/>'
            )
        for i, line in enumerate(box.lines):
            out.append(
                f'<text x="{box.x:.1f}" y="{box.y + PAD_Y + (i + 1) * LINE_H - 3:.1f}" '
                f'text-anchor="middle" fill="#202124">{escape(line)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"
