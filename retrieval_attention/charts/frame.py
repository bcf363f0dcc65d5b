"""The frame articles 001 and 003 assume, as three diagrams of 我爱吃苹果 → "I love eating apples".

1. :func:`rnn_diagram`: an RNN encoder–decoder. The encoder's last state c is the only thing the
   decoder reads: one vector for the whole sentence, the bottleneck.
2. :func:`attention_diagram`: Bahdanau's attention. Decoder step i's state is the query; every encoder
   state h_j is a key (compared with it) and a value (mixed into c_i = Σ_j α_ij h_j).
3. :func:`transformer_diagram`: where the Transformer's three attentions sit. Encoder self-attention,
   decoder causal (masked) self-attention, decoder cross-attention with Q from the decoder and K, V
   from the encoder; a feed-forward layer after each; the block stacked N times.

Each builder lays its diagram out here, in pixels (a :class:`Diagram`: boxes, arrows, the groups
around them), and :func:`diagram_chart` draws it as a Vega-Lite chart: boxes are rect marks, labels
text marks, arrows rule marks with a triangle point mark at their head, turned along the arrow. So
the diagrams travel in a saved page like every other chart (no Graphviz, no network). Node names are
fixed ASCII identifiers, so a test can find the nodes and edges of each kind; every label a person
reads comes from :data:`FRAME_TEXT` (English, marked for the package's catalogue) or from the tokens
passed in. Labels are wrapped to their box by their drawn width (a CJK character counts as wide as
the type size). No streamlit here.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import altair as alt
import pandas as pd

from retrieval_attention.charts.theme import BLUE, FONT, GREY, ORANGE, SKY, VERMILLION
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.i18n import N_

__all__ = [
    "FRAME_TEXT",
    "SOURCE_TOKENS",
    "TARGET_TOKENS",
    "Diagram",
    "Edge",
    "Group",
    "Node",
    "attention_diagram",
    "diagram_chart",
    "rnn_diagram",
    "subscript",
    "text_width",
    "transformer_diagram",
    "wrap",
]

#: Article 001's example: the encoder's five inputs h_1..h_5 are 我, 爱, 吃, 苹, 果 ...
SOURCE_TOKENS: tuple[str, ...] = ("我", "爱", "吃", "苹", "果")
#: ... and the decoder writes "I love eating apples".
TARGET_TOKENS: tuple[str, ...] = ("I", "love", "eating", "apples")

#: Every label of the three diagrams, in English; the app translates them (``i18n.translated``).
FRAME_TEXT: dict[str, str] = {
    "encoder_rnn": N_("encoder (RNN), reads one token at a time"),
    "decoder_rnn": N_("decoder (RNN), writes one word at a time"),
    "bottleneck": N_("c: one vector for the whole sentence (the bottleneck)"),
    "encoder_states": N_("encoder states hⱼ: keys and values"),
    "decoder_states": N_("decoder states: each step's query"),
    "context": N_("c{i} = Σⱼ α{i}ⱼ hⱼ: this step's own mix of every hⱼ"),
    "query": N_("query"),
    "encoder": N_("encoder (× N layers)"),
    "decoder": N_("decoder (× N layers)"),
    "inputs": N_("the sentence to translate"),
    "outputs_so_far": N_("words written so far"),
    "self_attention": N_("self-attention: Q, K, V from the same sentence"),
    "causal_attention": N_("causal (masked) self-attention: no position sees the ones after it"),
    "cross_attention": N_("cross-attention: Q from the decoder"),
    "feed_forward": N_("feed-forward, each position on its own"),
    "encoder_output": N_("encoder output: one vector per input token"),
    "kv": N_("K, V"),
    "next_word": N_("next word: {word}"),
}

#: The drawing's width in pixels (the page's main column at 1280×720 with the sidebar open is wider).
WIDTH = 720
#: Type sizes (px): a box's label, a token, an arrow's label, a group's label.
LABEL_SIZE, TOKEN_SIZE, EDGE_SIZE, GROUP_SIZE = 15, 18, 15, 14
_LINE = 1.3  # line height, in type sizes
_PAD = 8  # between a box's edge and its text
WHITE = "#FFFFFF"

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(name: str, *indices: int) -> str:
    """``name`` with subscript indices.

    Example:
        >>> subscript("α", 1, 2)
        'α₁₂'
    """
    return name + "".join(str(i) for i in indices).translate(_SUB)


# -- text: its drawn width, wrapped to a box ------------------------------------------------------


def text_width(text: str, size: float) -> float:
    """An upper estimate of ``text``'s drawn width in pixels at ``size`` px (sans-serif, CJK full width).

    Example:
        >>> text_width("我爱", 10), text_width("ab", 10)
        (20.0, 11.2)
    """
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
    return size * (wide + 0.56 * (len(text) - wide))


def _pieces(text: str) -> list[str]:
    """Where a line may break: after a space, and around every CJK character (each piece keeps its space)."""
    pieces: list[str] = []
    word = ""
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF" and not ch.isspace():
            if word and not word.endswith(" ") and unicodedata.east_asian_width(ch) in "WF" and ch in "，：；。、）":
                word += ch  # CJK punctuation stays with what precedes it
                continue
            if word:
                pieces.append(word)
            word = ch
        else:
            if word and unicodedata.east_asian_width(word[-1]) in "WF" and word[-1] not in "（":
                pieces.append(word)
                word = ""
            word += ch
            if ch == " ":
                pieces.append(word)
                word = ""
    if word:
        pieces.append(word)
    return pieces


def wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` in lines no wider than ``width`` px at ``size`` px (a single word wider than that keeps its line).

    A newline in ``text`` always breaks; a line breaks after a space, or between two CJK characters.

    Example:
        >>> wrap("one vector for the whole sentence", 120, 15)
        ['one vector for', 'the whole', 'sentence']
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for piece in _pieces(paragraph):
            if line and text_width((line + piece).rstrip(), size) > width:
                lines.append(line.rstrip())
                line = piece
            else:
                line += piece
        lines.append(line.rstrip())
    return lines


def _two_lines(label: str) -> str:
    """``label`` broken after its first colon (``:`` or ``：``), so a wide block draws as two short lines."""
    for colon in (": ", "："):
        head, sep, tail = label.partition(colon)
        if sep:
            return head + sep.strip() + "\n" + tail
    return label


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


def _node(
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
    h = len(lines) * size * _LINE + (2 * _PAD if not plain else 4)
    return Node(name, lines, x, y, w, h, colour, filled, plain, size)


def _text(given: Mapping[str, str] | None) -> dict[str, str]:
    return {**FRAME_TEXT, **(given or {})}  # the given translations over the English


def _tokens(tokens: Sequence[str], what: str) -> list[str]:
    out = [str(t) for t in tokens]
    if not out:
        raise InvalidParameterError(f"the {what} tokens are empty: a diagram needs at least one")
    return out


def _row(count: int, centre: float, step: float) -> list[float]:
    """``count`` x positions ``step`` apart, centred on ``centre``."""
    return [centre + (k - (count - 1) / 2) * step for k in range(count)]


def _step(count: int, span: float, most: float = 110) -> float:
    return min(most, span / max(count, 1))


def _group_label(label: str, width: float) -> str:
    return "\n".join(wrap(label, width, GROUP_SIZE))


def _fit(nodes: list[Node], groups: list[Group], edges: list[Edge], name: str) -> Diagram:
    """The diagram, shifted so that its top edge sits at 4 px, and its height."""
    tops = [n.y - n.h / 2 for n in nodes] + [g.y0 for g in groups]
    bottoms = [n.y + n.h / 2 for n in nodes] + [g.y1 for g in groups]
    dy = 4 - min(tops)
    nodes = [Node(n.name, n.lines, n.x, n.y + dy, n.w, n.h, n.colour, n.filled, n.plain, n.size) for n in nodes]
    groups = [Group(g.name, g.label, g.x0, g.y0 + dy, g.x1, g.y1 + dy, g.colour, g.bottom) for g in groups]
    return Diagram(name, tuple(nodes), tuple(edges), tuple(groups), WIDTH, max(bottoms) + dy + 4)


def _clamp(x: float, w: float) -> float:
    return min(max(x, w / 2 + 8), WIDTH - w / 2 - 8)


def rnn_diagram(
    text: Mapping[str, str] | None = None,
    source: Sequence[str] = SOURCE_TOKENS,
    target: Sequence[str] = TARGET_TOKENS,
) -> Diagram:
    """An RNN encoder–decoder: the encoder's states h_1..h_n chain into one vector c, which is all the decoder reads.

    Nodes: ``x1..xn`` (source tokens), ``h1..hn`` (encoder states), ``c`` (the bottleneck),
    ``s1..sm`` (decoder states), ``y1..ym`` (target words). Edges: ``xj -> hj``, ``hj -> hj+1``,
    ``hn -> c``, ``c -> si`` for every step, ``si -> si+1``, ``si -> yi``. The encoder is drawn above
    c, the decoder below it.

    Args:
        text: :data:`FRAME_TEXT` translated (missing keys stay English).
        source: the tokens the encoder reads.
        target: the words the decoder writes.

    Returns:
        The laid-out :class:`Diagram`.

    Example:
        >>> d = rnn_diagram()
        >>> d.edge("h5", "c").tail, [e.head for e in d.edges if e.tail == "c"]
        ('h5', ['s1', 's2', 's3', 's4'])
    """
    t, xs, ys = _text(text), _tokens(source, "source"), _tokens(target, "target")
    n, m = len(xs), len(ys)
    mid = WIDTH / 2
    nodes: list[Node] = []
    edges: list[Edge] = []
    enc_label = _group_label(t["encoder_rnn"], WIDTH - 40)
    top = 8 + len(enc_label.split("\n")) * GROUP_SIZE * _LINE
    hx = _row(n, mid, _step(n, WIDTH - 80))
    for j, (x, token) in enumerate(zip(hx, xs), 1):
        nodes.append(_node(f"x{j}", token, x, top + 20, max_w=100, plain=True, size=TOKEN_SIZE))
        nodes.append(_node(f"h{j}", subscript("h", j), x, top + 82, min_w=46, colour=BLUE))
        edges.append(Edge(f"x{j}", f"h{j}"))
    edges += [Edge(f"h{j}", f"h{j + 1}", colour=BLUE, width=3) for j in range(1, n)]
    enc_bottom = top + 82 + 17 + 14
    c = _node("c", _two_lines(t["bottleneck"]), mid, 0, max_w=360, colour=VERMILLION, filled=True)
    c = Node(c.name, c.lines, mid, enc_bottom + 40 + c.h / 2, c.w, c.h, c.colour, True, False, c.size)
    nodes.append(c)
    edges.append(Edge(f"h{n}", "c", colour=BLUE, width=3))
    dec_top = c.y + c.h / 2 + 40
    sx = _row(m, mid, _step(m, WIDTH - 80, 130))
    for i, (x, word) in enumerate(zip(sx, ys), 1):
        nodes.append(_node(f"s{i}", subscript("s", i), x, dec_top + 14 + 17, min_w=46, colour=ORANGE))
        nodes.append(_node(f"y{i}", word, x, dec_top + 14 + 34 + 50, max_w=120, plain=True, size=TOKEN_SIZE))
        edges.append(Edge(f"s{i}", f"y{i}"))
        edges.append(Edge("c", f"s{i}", colour=VERMILLION, width=2))
    edges += [Edge(f"s{i}", f"s{i + 1}", colour=ORANGE, width=3) for i in range(1, m)]
    dec_label = _group_label(t["decoder_rnn"], WIDTH - 40)
    dec_bottom = dec_top + 14 + 34 + 50 + 14 + 6 + len(dec_label.split("\n")) * GROUP_SIZE * _LINE
    groups = [
        Group("encoder", enc_label, 12, 4, WIDTH - 12, enc_bottom, BLUE),
        Group("decoder", dec_label, 12, dec_top, WIDTH - 12, dec_bottom, ORANGE, bottom=True),
    ]
    return _fit(nodes, groups, edges, "rnn")


def attention_diagram(
    step: int = 1,
    text: Mapping[str, str] | None = None,
    source: Sequence[str] = SOURCE_TOKENS,
    target: Sequence[str] = TARGET_TOKENS,
) -> Diagram:
    """Attention in an encoder–decoder: decoder step ``step`` reads every encoder state through its own c_i.

    Nodes: ``x1..xn``, ``h1..hn`` (keys and values), ``s0..sm`` (decoder states; s_{i−1} is step i's
    query), ``y1..ym``, and ``ci`` for the chosen step. Edges: ``hj -> ci`` labelled α_ij for every j
    (every encoder state is read), ``s{i-1} -> ci`` labelled "query" (the query goes in), ``ci -> si``
    (the mix feeds the step that writes y_i), ``si -> yi``, and the chains ``hj -> hj+1``, ``si -> si+1``.

    Args:
        step: i, the decoder step shown (1 = the first target word).
        text: :data:`FRAME_TEXT` translated.
        source: the tokens the encoder reads.
        target: the words the decoder writes.

    Returns:
        The laid-out :class:`Diagram`.

    Raises:
        InvalidParameterError: ``step`` is not between 1 and the number of target words.

    Example:
        >>> d = attention_diagram(1)
        >>> [e.label for e in d.edges if e.head == "c1"]
        ['α₁₁', 'α₁₂', 'α₁₃', 'α₁₄', 'α₁₅', 'query']
    """
    t, xs, ys = _text(text), _tokens(source, "source"), _tokens(target, "target")
    n, m = len(xs), len(ys)
    if not 1 <= int(step) <= m:
        raise InvalidParameterError(f"step must be between 1 and {m} (the target words), got {step}")
    i = int(step)
    mid = WIDTH / 2
    nodes: list[Node] = []
    edges: list[Edge] = []
    enc_label = _group_label(t["encoder_states"], WIDTH - 40)
    top = 8 + len(enc_label.split("\n")) * GROUP_SIZE * _LINE
    hx = _row(n, mid, _step(n, WIDTH - 80, 130))
    for j, (x, token) in enumerate(zip(hx, xs), 1):
        nodes.append(_node(f"x{j}", token, x, top + 20, max_w=100, plain=True, size=TOKEN_SIZE))
        nodes.append(_node(f"h{j}", subscript("h", j), x, top + 82, min_w=46, colour=BLUE))
        edges.append(Edge(f"x{j}", f"h{j}"))
    edges += [Edge(f"h{j}", f"h{j + 1}", colour=BLUE) for j in range(1, n)]
    enc_bottom = top + 82 + 17 + 14
    sx = _row(m + 1, mid, _step(m + 1, WIDTH - 80, 130))
    c = _node(f"c{i}", t["context"].format(i=subscript("", i)), 0, 0, max_w=300, colour=SKY, filled=True)
    cx = _clamp((sx[i - 1] + sx[i]) / 2, c.w)
    c = Node(c.name, c.lines, cx, enc_bottom + 100 + c.h / 2, c.w, c.h, c.colour, True, False, c.size)
    nodes.append(c)
    for j in range(1, n + 1):
        edges.append(Edge(f"h{j}", c.name, subscript("α", i, j), SKY, 2.5, at=0.4, side=1 if hx[j - 1] < cx else -1))
    dec_top = c.y + c.h / 2 + 70
    for k, x in enumerate(sx):
        nodes.append(_node(f"s{k}", subscript("s", k), x, dec_top + 14 + 17, min_w=46, colour=ORANGE))
        if k:
            nodes.append(_node(f"y{k}", ys[k - 1], x, dec_top + 14 + 34 + 50, max_w=120, plain=True, size=TOKEN_SIZE))
            edges.append(Edge(f"s{k}", f"y{k}"))
    edges += [Edge(f"s{k}", f"s{k + 1}", colour=ORANGE) for k in range(0, m)]
    edges.append(Edge(f"s{i - 1}", c.name, t["query"], ORANGE, 2.5, dashed=True, at=0.6, side=-1))
    edges.append(Edge(c.name, f"s{i}", colour=SKY, width=2.5))
    dec_label = _group_label(t["decoder_states"], WIDTH - 40)
    dec_bottom = dec_top + 14 + 34 + 50 + 14 + 6 + len(dec_label.split("\n")) * GROUP_SIZE * _LINE
    groups = [
        Group("encoder", enc_label, 12, 4, WIDTH - 12, enc_bottom, BLUE),
        Group("decoder", dec_label, 12, dec_top, WIDTH - 12, dec_bottom, ORANGE, bottom=True),
    ]
    return _fit(nodes, groups, edges, "attention")


def transformer_diagram(
    text: Mapping[str, str] | None = None,
    source: Sequence[str] = SOURCE_TOKENS,
    target: Sequence[str] = TARGET_TOKENS,
) -> Diagram:
    """Where self, causal and cross attention sit in the Transformer (encoder–decoder, as in article 003).

    Nodes: ``enc_in`` (the source tokens), ``enc_self`` (encoder self-attention), ``enc_ffn``,
    ``enc_out``; ``dec_in`` (the target words but the last), ``dec_causal`` (masked self-attention),
    ``dec_cross`` (cross-attention), ``dec_ffn``, ``dec_out`` (the next word). Edges: each block to the
    next in its stack (drawn bottom to top), ``enc_out -> dec_cross`` labelled K, V and
    ``dec_causal -> dec_cross`` labelled Q.

    Args:
        text: :data:`FRAME_TEXT` translated.
        source: the tokens the encoder reads.
        target: the words the decoder writes; all but the last are "written so far", the last is next.

    Returns:
        The laid-out :class:`Diagram`.

    Example:
        >>> transformer_diagram().edge("enc_out", "dec_cross").label
        'K, V'
    """
    t, xs, ys = _text(text), _tokens(source, "source"), _tokens(target, "target")
    so_far = " ".join(["<s>", *ys[:-1]])
    left, right, col = WIDTH * 0.26, WIDTH * 0.72, WIDTH * 0.40  # column centres and widest box
    gap = 44  # between two boxes of a column, for the arrow and its label
    enc_label = _group_label(t["encoder"], col)
    dec_label = _group_label(t["decoder"], col)
    head = 10 + max(len(enc_label.split("\n")), len(dec_label.split("\n"))) * GROUP_SIZE * _LINE

    def stack(specs: list[tuple[str, str, dict]], x: float, bottom: float) -> list[Node]:
        """Boxes from ``bottom`` upwards, ``gap`` apart."""
        out, y = [], bottom
        for name, label, style in specs:
            node = _node(name, label, x, 0, max_w=col, **style)
            out.append(Node(node.name, node.lines, x, y - node.h / 2, node.w, node.h, node.colour, node.filled,
                            node.plain, node.size))  # fmt: skip
            y -= node.h + gap
        return out

    enc = stack(
        [
            ("enc_in", t["inputs"] + "\n" + " ".join(xs), {"plain": True}),
            ("enc_self", _two_lines(t["self_attention"]), {"colour": BLUE, "filled": True}),
            ("enc_ffn", t["feed_forward"], {}),
            ("enc_out", _two_lines(t["encoder_output"]), {}),
        ],
        left,
        1000,
    )
    dec = stack(
        [
            ("dec_in", t["outputs_so_far"] + "\n" + so_far, {"plain": True}),
            ("dec_causal", _two_lines(t["causal_attention"]), {"colour": ORANGE, "filled": True}),
            ("dec_cross", _two_lines(t["cross_attention"]), {"colour": SKY, "filled": True}),
            ("dec_ffn", t["feed_forward"], {}),
            ("dec_out", t["next_word"].format(word=ys[-1]), {"plain": True, "size": TOKEN_SIZE}),
        ],
        right,
        1000,
    )
    # the two inputs and the two first attentions side by side: align the encoder's boxes on the decoder's
    shift = (dec[1].y + dec[1].h / 2) - (enc[1].y + enc[1].h / 2)
    enc = [enc[0]] + [Node(b.name, b.lines, b.x, b.y + shift, b.w, b.h, b.colour, b.filled, b.plain, b.size)
                      for b in enc[1:]]  # fmt: skip
    nodes = enc + dec
    edges = [
        Edge("enc_in", "enc_self", "Q, K, V"),
        Edge("enc_self", "enc_ffn"),
        Edge("enc_ffn", "enc_out"),
        Edge("dec_in", "dec_causal", "Q, K, V"),
        Edge("dec_causal", "dec_cross", "Q"),
        Edge("dec_cross", "dec_ffn"),
        Edge("dec_ffn", "dec_out"),
        Edge("enc_out", "dec_cross", t["kv"], SKY, 3, at=0.72, side=1),
    ]
    top = min(b.y - b.h / 2 for b in nodes) - head
    bottom = max(b.y + b.h / 2 for b in nodes) + 10
    groups = [
        Group("encoder", enc_label, left - col / 2 - 16, top, left + col / 2 + 16, bottom, BLUE),
        Group("decoder", dec_label, right - col / 2 - 16, top, right + col / 2 + 16, bottom, ORANGE),
    ]
    return _fit(nodes, groups, edges, "transformer")


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
                "y": n.y - (len(n.lines) - 1) * n.size * _LINE / 2,
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
                "y": g.y1 - 8 - g.label.count("\n") * GROUP_SIZE * _LINE if g.bottom else g.y0 + 8,
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
            lineHeight=GROUP_SIZE * _LINE,
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
            lineHeight=GROUP_SIZE * _LINE,
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
        .mark_text(baseline="middle", lineBreak="\n", lineHeight=LABEL_SIZE * _LINE, font=FONT)
        .encode(x, y, colour, text="text:N", size=alt.Size("size:Q", scale=None)),
    ]
    return (
        alt.layer(*layers)
        .properties(width=d.width, height=d.height, **({"description": title} if title else {}))
        .configure_view(stroke=None)
    )
