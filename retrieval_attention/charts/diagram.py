"""Box-and-arrow diagrams as Vega-Lite charts, laid out in Python (no Graphviz, so they travel in a saved page).

A :class:`Diagram` is boxes (:class:`Node`), arrows (:class:`Edge`) and frames around groups of them
(:class:`Group`), placed in pixels by a builder (:mod:`retrieval_attention.charts.frame` has three).
:func:`diagram_chart` draws it: boxes are rect marks, labels text marks, arrows rule marks with a
triangle point mark at their head turned along the arrow. Every position is a pixel (no scales, no
axes), so the type sizes a layout was made for are the ones drawn. :func:`~retrieval_attention.charts.text.wrap` breaks a
label to its box by its drawn width. No streamlit here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import altair as alt
import pandas as pd

from retrieval_attention.charts.text import text_width, wrap
from retrieval_attention.charts.theme import BLUE, FONT, GREY, VERMILLION

__all__ = [
    "EDGE_SIZE",
    "GROUP_SIZE",
    "LABEL_SIZE",
    "LINE",
    "TOKEN_SIZE",
    "Diagram",
    "Edge",
    "Group",
    "Node",
    "diagram_chart",
    "fit",
    "node",
    "text_width",
    "wrap",
]

#: Type sizes (px): a box's label, a token, an arrow's label, a group's label.
LABEL_SIZE, TOKEN_SIZE, EDGE_SIZE, GROUP_SIZE = 15, 18, 15, 14
LINE = 1.3  # line height, in type sizes
_PAD = 8  # between a box's edge and its text
WHITE = "#FFFFFF"

# -- the diagram: boxes, arrows, groups, in pixels ----------------------------------------------


@dataclass(frozen=True)
class Node:
    """A box (or a bare label) centred at (x, y), its text already wrapped to lines."""

    name: str  # a fixed ASCII identifier ("h1", "c", "enc_self")
    lines: tuple[str, ...]  # what it says, one entry per drawn line
    x: float
    y: float
    w: float
    h: float
    colour: str = GREY  # its border (and its fill when ``filled``)
    filled: bool = False
    plain: bool = False  # text only, no box (the tokens)
    size: float = LABEL_SIZE

    @property
    def label(self) -> str:
        """The text, lines joined with spaces."""
        return " ".join(self.lines)

    def border(self, dx: float, dy: float) -> tuple[float, float]:
        """Where the ray from the centre along (dx, dy) leaves the box (a bare label: its text's box)."""
        sx = self.w / 2 / abs(dx) if dx else math.inf
        sy = self.h / 2 / abs(dy) if dy else math.inf
        s = min(sx, sy)
        return self.x + s * dx, self.y + s * dy


@dataclass(frozen=True)
class Edge:
    """An arrow from ``tail``'s box to ``head``'s."""

    tail: str
    head: str
    label: str = ""
    colour: str = GREY
    width: float = 1.5
    dashed: bool = False
    at: float = 0.5  # where along the arrow its label sits (0 = tail, 1 = head)
    side: int = 1  # the label's side of the arrow: 1 right of it (going from tail to head), -1 left


@dataclass(frozen=True)
class Group:
    """A frame around part of the diagram (the encoder, the decoder), with its label inside, top or bottom."""

    name: str
    label: str
    x0: float
    y0: float
    x1: float
    y1: float
    colour: str
    bottom: bool = False


@dataclass(frozen=True)
class Diagram:
    """A laid-out diagram: what :func:`diagram_chart` draws and a test reads."""

    name: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    groups: tuple[Group, ...]
    width: float
    height: float

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def edge(self, tail: str, head: str) -> Edge:
        """The arrow from ``tail`` to ``head``."""
        for e in self.edges:
            if (e.tail, e.head) == (tail, head):
                return e
        raise KeyError((tail, head))


def node(
    name: str,
    text: str,
    x: float,
    y: float,
    *,
    max_w: float = 260,
    min_w: float = 0,
    colour: str = GREY,
    filled: bool = False,
    plain: bool = False,
    size: float = LABEL_SIZE,
) -> Node:
    """A node sized to its text: wrapped to ``max_w`` px (padding included), at least ``min_w`` wide."""
    lines = tuple(wrap(text, max_w - 2 * _PAD, size))
    w = max(min_w, max(text_width(line, size) for line in lines) + 2 * _PAD)
    h = len(lines) * size * LINE + (2 * _PAD if not plain else 4)
    return Node(name, lines, x, y, w, h, colour, filled, plain, size)


def fit(nodes: list[Node], groups: list[Group], edges: list[Edge], width: float, name: str) -> Diagram:
    """The diagram ``width`` px wide, shifted so that its top edge sits at 4 px, as tall as it needs."""
    tops = [n.y - n.h / 2 for n in nodes] + [g.y0 for g in groups]
    bottoms = [n.y + n.h / 2 for n in nodes] + [g.y1 for g in groups]
    dy = 4 - min(tops)
    nodes = [Node(n.name, n.lines, n.x, n.y + dy, n.w, n.h, n.colour, n.filled, n.plain, n.size) for n in nodes]
    groups = [Group(g.name, g.label, g.x0, g.y0 + dy, g.x1, g.y1 + dy, g.colour, g.bottom) for g in groups]
    return Diagram(name, tuple(nodes), tuple(edges), tuple(groups), width, max(bottoms) + dy + 4)


# -- the drawing ---------------------------------------------------------------------------------

_ARROW = 9  # an arrowhead's length in pixels


def _arrow(d: Diagram, e: Edge) -> dict:
    a, b = d.node(e.tail), d.node(e.head)
    dx, dy = b.x - a.x, b.y - a.y
    x0, y0 = a.border(dx, dy)
    x1, y1 = b.border(-dx, -dy)
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    x0, y0 = x0 + 3 * ux, y0 + 3 * uy  # a small gap at both ends
    x1, y1 = x1 - 3 * ux, y1 - 3 * uy
    tip_x, tip_y = x1 - _ARROW / 2 * ux, y1 - _ARROW / 2 * uy  # the triangle's centre, its point at the box
    lx, ly = x0 + e.at * (x1 - x0), y0 + e.at * (y1 - y0)
    nx, ny = -uy * e.side, ux * e.side  # the label's side: perpendicular to the arrow
    if abs(nx) < 0.3:  # a horizontal arrow: its label above it
        nx, ny = 0.0, -1.0
    offset = 6 + text_width(e.label, EDGE_SIZE) / 2 * abs(nx) + EDGE_SIZE / 2 * abs(ny)
    return {
        "x": x0, "y": y0, "x2": x1 - _ARROW * ux, "y2": y1 - _ARROW * uy,
        "tip_x": tip_x, "tip_y": tip_y, "angle": math.degrees(math.atan2(ux, -uy)) % 360,
        "colour": e.colour, "width": e.width, "dashed": e.dashed, "ink": "#333333" if e.colour == GREY else e.colour,
        "label": e.label, "label_x": lx + nx * offset, "label_y": ly + ny * offset,
        "edge": f"{e.tail} → {e.head}",
    }  # fmt: skip


def diagram_chart(d: Diagram, title: str = "") -> alt.LayerChart:
    """``d`` drawn as a Vega-Lite chart: groups, arrows (rule + triangle), boxes and their text, at ``d``'s pixel size.

    Args:
        d: from :func:`rnn_diagram`, :func:`attention_diagram` or :func:`transformer_diagram`.
        title: the chart's accessible description (the page's heading says what it is).

    Returns:
        A layered Altair chart of ``d.width`` × ``d.height`` pixels; every position is in pixels
        (no scales, no axes), so the text sizes the layout was made for are the ones drawn.
    """
    px = {"scale": None, "axis": None}
    boxes = pd.DataFrame(
        [
            {
                "name": n.name,
                "x": n.x - n.w / 2,
                "x2": n.x + n.w / 2,
                "y": n.y - n.h / 2,
                "y2": n.y + n.h / 2,
                "fill": n.colour if n.filled else WHITE,
                "stroke": n.colour,
            }
            for n in d.nodes
            if not n.plain
        ]
    )
    labels = pd.DataFrame(
        [
            {
                "name": n.name,
                "x": n.x,
                "y": n.y - (len(n.lines) - 1) * n.size * LINE / 2,
                "text": "\n".join(n.lines),
                "colour": WHITE if n.filled and n.colour in (BLUE, VERMILLION) else "#000000",
                "size": n.size,
            }
            for n in d.nodes
        ]
    )
    arrows = pd.DataFrame([_arrow(d, e) for e in d.edges])
    frames = pd.DataFrame(
        [{"name": g.name, "x": g.x0, "x2": g.x1, "y": g.y0, "y2": g.y1, "colour": g.colour} for g in d.groups]
    )
    group_text = pd.DataFrame(
        [
            {
                "x": g.x0 + 10,
                "y": g.y1 - 8 - g.label.count("\n") * GROUP_SIZE * LINE if g.bottom else g.y0 + 8,
                "text": g.label,
                "colour": g.colour,
                "baseline": "bottom" if g.bottom else "top",
            }
            for g in d.groups
        ]
    )
    x, y = alt.X("x:Q", **px), alt.Y("y:Q", **px)
    colour = alt.Color("colour:N", scale=None)
    layers = [
        alt.Chart(frames)
        .mark_rect(fill=None, strokeWidth=1.5, cornerRadius=10, strokeDash=[5, 3])
        .encode(x, alt.X2("x2:Q"), y, alt.Y2("y2:Q"), stroke=alt.Stroke("colour:N", scale=None)),
        alt.Chart(group_text[group_text.baseline == "top"])
        .mark_text(
            align="left",
            baseline="top",
            fontSize=GROUP_SIZE,
            fontWeight="bold",
            lineBreak="\n",
            lineHeight=GROUP_SIZE * LINE,
            font=FONT,
        )
        .encode(x, y, colour, text="text:N"),
        alt.Chart(group_text[group_text.baseline == "bottom"])
        .mark_text(
            align="left",
            baseline="bottom",
            fontSize=GROUP_SIZE,
            fontWeight="bold",
            lineBreak="\n",
            lineHeight=GROUP_SIZE * LINE,
            font=FONT,
        )
        .encode(x, y, colour, text="text:N"),
    ]
    for dashed, drawn in arrows.groupby("dashed"):
        layers.append(
            alt.Chart(drawn)
            .mark_rule(strokeDash=[6, 4] if dashed else [1, 0], strokeCap="butt")
            .encode(x, y, alt.X2("x2:Q"), alt.Y2("y2:Q"), colour, strokeWidth=alt.StrokeWidth("width:Q", scale=None))
        )
    layers += [
        alt.Chart(arrows)
        .mark_point(shape="triangle-up", filled=True, opacity=1, size=_ARROW * _ARROW * 1.6)
        .encode(alt.X("tip_x:Q", **px), alt.Y("tip_y:Q", **px), colour, angle=alt.Angle("angle:Q", scale=None)),
        alt.Chart(arrows[arrows.label != ""])
        .mark_text(fontSize=EDGE_SIZE, font=FONT)
        .encode(alt.X("label_x:Q", **px), alt.Y("label_y:Q", **px), alt.Color("ink:N", scale=None), text="label:N"),
        alt.Chart(boxes)
        .mark_rect(cornerRadius=6, strokeWidth=1.5)
        .encode(
            x,
            alt.X2("x2:Q"),
            y,
            alt.Y2("y2:Q"),
            fill=alt.Fill("fill:N", scale=None),
            stroke=alt.Stroke("stroke:N", scale=None),
        ),
        alt.Chart(labels)
        .mark_text(baseline="middle", lineBreak="\n", lineHeight=LABEL_SIZE * LINE, font=FONT)
        .encode(x, y, colour, text="text:N", size=alt.Size("size:Q", scale=None)),
    ]
    return (
        alt.layer(*layers)
        .properties(width=d.width, height=d.height, **({"description": title} if title else {}))
        .configure_view(stroke=None)
    )
