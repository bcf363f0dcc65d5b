"""The frame articles 001 and 003 assume, as three diagrams of 我爱吃苹果 → "I love eating apples".

1. :func:`rnn_diagram`: an RNN encoder–decoder. The encoder's last state c is the only thing the
   decoder reads: one vector for the whole sentence, the bottleneck.
2. :func:`attention_diagram`: Bahdanau's attention. Decoder step i's state is the query; every encoder
   state h_j is a key (compared with it) and a value (mixed into c_i = Σ_j α_ij h_j).
3. :func:`transformer_diagram`: where the Transformer's three attentions sit. Encoder self-attention,
   decoder causal (masked) self-attention, decoder cross-attention with Q from the decoder and K, V
   from the encoder; a feed-forward layer after each; the block stacked N times.

Each builder lays its diagram out here, in pixels (a :class:`~retrieval_attention.charts.diagram.Diagram`:
boxes, arrows, the groups around them), and :func:`~retrieval_attention.charts.diagram.diagram_chart`
draws it as a Vega-Lite chart, so the diagrams travel in a saved page like every other chart (no
Graphviz, no network). Node names are fixed ASCII identifiers, so a test can find the nodes and edges
of each kind; every label a person reads comes from :data:`FRAME_TEXT` (English, marked for the
package's catalogue) or from the tokens passed in, wrapped to its box by its drawn width. No streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from retrieval_attention.charts.diagram import GROUP_SIZE, LINE, TOKEN_SIZE, Diagram, Edge, Group, Node, fit, node, wrap
from retrieval_attention.charts.theme import BLUE, ORANGE, SKY, VERMILLION
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.i18n import N_

__all__ = [
    "FRAME_TEXT",
    "SOURCE_TOKENS",
    "TARGET_TOKENS",
    "WIDTH",
    "attention_diagram",
    "rnn_diagram",
    "subscript",
    "transformer_diagram",
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
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(name: str, *indices: int) -> str:
    """``name`` with subscript indices.

    Example:
        >>> subscript("α", 1, 2)
        'α₁₂'
    """
    return name + "".join(str(i) for i in indices).translate(_SUB)


def _two_lines(label: str) -> str:
    """``label`` broken after its first colon (``:`` or ``：``), so a wide block draws as two short lines."""
    for colon in (": ", "："):
        head, sep, tail = label.partition(colon)
        if sep:
            return head + sep.strip() + "\n" + tail
    return label


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
    top = 8 + len(enc_label.split("\n")) * GROUP_SIZE * LINE
    hx = _row(n, mid, _step(n, WIDTH - 80))
    for j, (x, token) in enumerate(zip(hx, xs), 1):
        nodes.append(node(f"x{j}", token, x, top + 20, max_w=100, plain=True, size=TOKEN_SIZE))
        nodes.append(node(f"h{j}", subscript("h", j), x, top + 82, min_w=46, colour=BLUE))
        edges.append(Edge(f"x{j}", f"h{j}"))
    edges += [Edge(f"h{j}", f"h{j + 1}", colour=BLUE, width=3) for j in range(1, n)]
    enc_bottom = top + 82 + 17 + 14
    c = node("c", _two_lines(t["bottleneck"]), mid, 0, max_w=480, colour=VERMILLION, filled=True)
    c = Node(c.name, c.lines, mid, enc_bottom + 40 + c.h / 2, c.w, c.h, c.colour, True, False, c.size)
    nodes.append(c)
    edges.append(Edge(f"h{n}", "c", colour=BLUE, width=3))
    dec_top = c.y + c.h / 2 + 40
    sx = _row(m, mid, _step(m, WIDTH - 80, 130))
    for i, (x, word) in enumerate(zip(sx, ys), 1):
        nodes.append(node(f"s{i}", subscript("s", i), x, dec_top + 14 + 17, min_w=46, colour=ORANGE))
        nodes.append(node(f"y{i}", word, x, dec_top + 14 + 34 + 50, max_w=120, plain=True, size=TOKEN_SIZE))
        edges.append(Edge(f"s{i}", f"y{i}"))
        edges.append(Edge("c", f"s{i}", colour=VERMILLION, width=2))
    edges += [Edge(f"s{i}", f"s{i + 1}", colour=ORANGE, width=3) for i in range(1, m)]
    dec_label = _group_label(t["decoder_rnn"], WIDTH - 40)
    dec_bottom = dec_top + 14 + 34 + 50 + 14 + 6 + len(dec_label.split("\n")) * GROUP_SIZE * LINE
    groups = [
        Group("encoder", enc_label, 12, 4, WIDTH - 12, enc_bottom, BLUE),
        Group("decoder", dec_label, 12, dec_top, WIDTH - 12, dec_bottom, ORANGE, bottom=True),
    ]
    return fit(nodes, groups, edges, WIDTH, "rnn")


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
    top = 8 + len(enc_label.split("\n")) * GROUP_SIZE * LINE
    hx = _row(n, mid, _step(n, WIDTH - 80, 130))
    for j, (x, token) in enumerate(zip(hx, xs), 1):
        nodes.append(node(f"x{j}", token, x, top + 20, max_w=100, plain=True, size=TOKEN_SIZE))
        nodes.append(node(f"h{j}", subscript("h", j), x, top + 82, min_w=46, colour=BLUE))
        edges.append(Edge(f"x{j}", f"h{j}"))
    edges += [Edge(f"h{j}", f"h{j + 1}", colour=BLUE) for j in range(1, n)]
    enc_bottom = top + 82 + 17 + 14
    sx = _row(m + 1, mid, _step(m + 1, WIDTH - 80, 130))
    c = node(f"c{i}", t["context"].format(i=subscript("", i)), 0, 0, max_w=300, colour=SKY, filled=True)
    cx = _clamp((sx[i - 1] + sx[i]) / 2, c.w)
    c = Node(c.name, c.lines, cx, enc_bottom + 100 + c.h / 2, c.w, c.h, c.colour, True, False, c.size)
    nodes.append(c)
    for j in range(1, n + 1):
        edges.append(Edge(f"h{j}", c.name, subscript("α", i, j), SKY, 2.5, at=0.4, side=1 if hx[j - 1] < cx else -1))
    dec_top = c.y + c.h / 2 + 70
    for k, x in enumerate(sx):
        nodes.append(node(f"s{k}", subscript("s", k), x, dec_top + 14 + 17, min_w=46, colour=ORANGE))
        if k:
            nodes.append(node(f"y{k}", ys[k - 1], x, dec_top + 14 + 34 + 50, max_w=120, plain=True, size=TOKEN_SIZE))
            edges.append(Edge(f"s{k}", f"y{k}"))
    edges += [Edge(f"s{k}", f"s{k + 1}", colour=ORANGE) for k in range(0, m)]
    edges.append(Edge(f"s{i - 1}", c.name, t["query"], ORANGE, 2.5, dashed=True, at=0.6, side=-1))
    edges.append(Edge(c.name, f"s{i}", colour=SKY, width=2.5))
    dec_label = _group_label(t["decoder_states"], WIDTH - 40)
    dec_bottom = dec_top + 14 + 34 + 50 + 14 + 6 + len(dec_label.split("\n")) * GROUP_SIZE * LINE
    groups = [
        Group("encoder", enc_label, 12, 4, WIDTH - 12, enc_bottom, BLUE),
        Group("decoder", dec_label, 12, dec_top, WIDTH - 12, dec_bottom, ORANGE, bottom=True),
    ]
    return fit(nodes, groups, edges, WIDTH, "attention")


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
    head = 10 + max(len(enc_label.split("\n")), len(dec_label.split("\n"))) * GROUP_SIZE * LINE

    def stack(specs: list[tuple[str, str, dict]], x: float, bottom: float) -> list[Node]:
        """Boxes from ``bottom`` upwards, ``gap`` apart."""
        out, y = [], bottom
        for name, label, style in specs:
            box = node(name, label, x, 0, max_w=col, **style)
            out.append(Node(box.name, box.lines, x, y - box.h / 2, box.w, box.h, box.colour, box.filled, box.plain,
                            box.size))  # fmt: skip
            y -= box.h + gap
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
    return fit(nodes, groups, edges, WIDTH, "transformer")
