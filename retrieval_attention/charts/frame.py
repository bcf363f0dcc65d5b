"""The frame articles 001 and 003 assume, as three Graphviz diagrams of 我爱吃苹果 → "I love eating apples".

1. :func:`rnn_dot`: an RNN encoder–decoder. The encoder's last state c is the only thing the decoder
   reads: one vector for the whole sentence, the bottleneck.
2. :func:`attention_dot`: Bahdanau's attention. Decoder step i's state is the query; every encoder
   state h_j is a key (compared with it) and a value (mixed into c_i = Σ_j α_ij h_j).
3. :func:`transformer_dot`: where the Transformer's three attentions sit. Encoder self-attention,
   decoder causal (masked) self-attention, decoder cross-attention with Q from the decoder and K, V
   from the encoder; a feed-forward layer after each; the block stacked N times.

Each builder returns DOT text (the app draws it with ``st.graphviz_chart``, which renders in the
browser, offline). Node names are fixed ASCII identifiers, so a test can find the nodes and edges of
each kind; every label a person reads comes from :data:`FRAME_TEXT` (English, marked for the package's
catalogue) or from the tokens passed in. No streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from retrieval_attention.charts.theme import BLUE, GREY, ORANGE, SKY, VERMILLION
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.i18n import N_

__all__ = [
    "FRAME_TEXT",
    "SOURCE_TOKENS",
    "TARGET_TOKENS",
    "attention_dot",
    "rnn_dot",
    "subscript",
    "transformer_dot",
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

_NODE = 'node [shape=box, style="rounded,filled", fillcolor="white", color="{c}", fontname="sans-serif"];'
_EDGE = 'edge [color="{c}", fontname="sans-serif", fontsize=11];'


_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(name: str, *indices: int) -> str:
    """``name`` with subscript indices.

    Example:
        >>> subscript("α", 1, 2)
        'α₁₂'
    """
    return name + "".join(str(i) for i in indices).translate(_SUB)


def _q(text: str) -> str:
    """``text`` as a DOT quoted string: backslashes and quotes escaped, a newline as DOT's ``\\n``."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


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


def _head(name: str) -> list[str]:
    return [f"digraph {name} {{", "rankdir=LR; newrank=true; nodesep=0.25; ranksep=0.45;", _NODE.format(c=GREY),
            _EDGE.format(c=GREY)]  # fmt: skip


def rnn_dot(
    text: Mapping[str, str] | None = None,
    source: Sequence[str] = SOURCE_TOKENS,
    target: Sequence[str] = TARGET_TOKENS,
) -> str:
    """An RNN encoder–decoder: the encoder's states h_1..h_n chain into one vector c, which is all the decoder reads.

    Nodes: ``x1..xn`` (source tokens), ``h1..hn`` (encoder states), ``c`` (the bottleneck),
    ``s1..sm`` (decoder states), ``y1..ym`` (target words). Edges: ``xj -> hj``, ``hj -> hj+1``,
    ``hn -> c``, ``c -> si`` for every step, ``si -> si+1``, ``si -> yi``.

    Args:
        text: :data:`FRAME_TEXT` translated (missing keys stay English).
        source: the tokens the encoder reads.
        target: the words the decoder writes.

    Returns:
        DOT text.

    Example:
        >>> "h5 -> c" in rnn_dot()
        True
    """
    t, xs, ys = _text(text), _tokens(source, "source"), _tokens(target, "target")
    n, m = len(xs), len(ys)
    lines = _head("rnn")
    lines[1] = "rankdir=TB; newrank=true; nodesep=0.3; ranksep=0.45;"
    lines += ["subgraph cluster_encoder {", f"label={_q(t['encoder_rnn'])}; color={_q(BLUE)};"]
    lines += [f"x{j} [label={_q(x)}, shape=plaintext, style=solid];" for j, x in enumerate(xs, 1)]
    lines += [f"h{j} [label={_q(subscript('h', j))}, color={_q(BLUE)}];" for j in range(1, n + 1)]
    lines += [f"x{j} -> h{j};" for j in range(1, n + 1)]
    lines += [f"h{j} -> h{j + 1} [color={_q(BLUE)}, penwidth=2];" for j in range(1, n)]
    lines += ["{rank=same; " + " ".join(f"h{j};" for j in range(1, n + 1)) + "}"]
    lines += [
        "}",
        f"c [label={_q(_two_lines(t['bottleneck']))}, fillcolor={_q(VERMILLION)}, fontcolor=white, color={_q(VERMILLION)}];",
    ]
    lines += [f"h{n} -> c [color={_q(BLUE)}, penwidth=2];"]
    lines += ["subgraph cluster_decoder {", f"label={_q(t['decoder_rnn'])}; labelloc=b; color={_q(ORANGE)};"]
    lines += [f"s{i} [label={_q(subscript('s', i))}, color={_q(ORANGE)}];" for i in range(1, m + 1)]
    lines += [f"y{i} [label={_q(y)}, shape=plaintext, style=solid];" for i, y in enumerate(ys, 1)]
    lines += [f"s{i} -> s{i + 1} [color={_q(ORANGE)}, penwidth=2];" for i in range(1, m)]
    lines += [f"s{i} -> y{i};" for i in range(1, m + 1)]
    lines += ["{rank=same; " + " ".join(f"s{i};" for i in range(1, m + 1)) + "}", "}"]
    lines += [f"c -> s{i} [color={_q(VERMILLION)}];" for i in range(1, m + 1)]
    lines += ["}"]
    return "\n".join(lines)


def attention_dot(
    step: int = 1,
    text: Mapping[str, str] | None = None,
    source: Sequence[str] = SOURCE_TOKENS,
    target: Sequence[str] = TARGET_TOKENS,
) -> str:
    """Attention in an encoder–decoder: decoder step ``step`` reads every encoder state through its own c_i.

    Nodes: ``x1..xn``, ``h1..hn`` (keys and values), ``s0..sm`` (decoder states; s_{i−1} is step i's
    query), ``y1..ym``, and ``ci`` for the chosen step. Edges: ``hj -> ci`` labelled α_ij for every j
    (every encoder state is read), ``ci -> s{i-1}`` drawn with its arrowhead at ci (the query goes in),
    ``ci -> si`` (the mix feeds the step that writes y_i), ``si -> yi``, and the chains ``hj -> hj+1``,
    ``si -> si+1``.

    Args:
        step: i, the decoder step shown (1 = the first target word).
        text: :data:`FRAME_TEXT` translated.
        source: the tokens the encoder reads.
        target: the words the decoder writes.

    Returns:
        DOT text.

    Raises:
        InvalidParameterError: ``step`` is not between 1 and the number of target words.

    Example:
        >>> all(f"h{j} -> c1" in attention_dot(1) for j in range(1, 6))
        True
    """
    t, xs, ys = _text(text), _tokens(source, "source"), _tokens(target, "target")
    n, m = len(xs), len(ys)
    if not 1 <= int(step) <= m:
        raise InvalidParameterError(f"step must be between 1 and {m} (the target words), got {step}")
    i = int(step)
    lines = _head("attention")
    lines[1] = "rankdir=TB; newrank=true; nodesep=0.3; ranksep=0.6;"
    lines += ["subgraph cluster_encoder {", f"label={_q(t['encoder_states'])}; color={_q(BLUE)};"]
    lines += [f"x{j} [label={_q(x)}, shape=plaintext, style=solid];" for j, x in enumerate(xs, 1)]
    lines += [f"h{j} [label={_q(subscript('h', j))}, color={_q(BLUE)}];" for j in range(1, n + 1)]
    lines += [f"x{j} -> h{j};" for j in range(1, n + 1)]
    lines += [f"h{j} -> h{j + 1} [color={_q(BLUE)}];" for j in range(1, n)]
    lines += ["{rank=same; " + " ".join(f"h{j};" for j in range(1, n + 1)) + "}", "}"]
    context = t["context"].format(i=subscript("", i))
    lines += [f"c{i} [label={_q(context)}, fillcolor={_q(SKY)}, color={_q(SKY)}];"]
    lines += [f"h{j} -> c{i} [label={_q(subscript('α', i, j))}, color={_q(SKY)}, penwidth=2];" for j in range(1, n + 1)]
    lines += ["subgraph cluster_decoder {", f"label={_q(t['decoder_states'])}; labelloc=b; color={_q(ORANGE)};"]
    lines += [f"s{k} [label={_q(subscript('s', k))}, color={_q(ORANGE)}];" for k in range(0, m + 1)]
    lines += [f"y{k} [label={_q(y)}, shape=plaintext, style=solid];" for k, y in enumerate(ys, 1)]
    lines += [f"s{k} -> s{k + 1} [color={_q(ORANGE)}];" for k in range(0, m)]
    lines += [f"s{k} -> y{k};" for k in range(1, m + 1)]
    lines += ["{rank=same; " + " ".join(f"s{k};" for k in range(0, m + 1)) + "}", "}"]
    # drawn from c_i down to s_{i−1} with the arrowhead at c_i, so that the layout keeps c above the decoder
    lines += [f"c{i} -> s{i - 1} [dir=back, label={_q(t['query'])}, color={_q(ORANGE)}, style=dashed, penwidth=2];"]
    lines += [f"c{i} -> s{i} [color={_q(SKY)}, penwidth=2];", "}"]
    return "\n".join(lines)


def transformer_dot(
    text: Mapping[str, str] | None = None,
    source: Sequence[str] = SOURCE_TOKENS,
    target: Sequence[str] = TARGET_TOKENS,
) -> str:
    """Where self, causal and cross attention sit in the Transformer (encoder–decoder, as in article 003).

    Nodes: ``enc_in`` (the source tokens), ``enc_self`` (encoder self-attention), ``enc_ffn``,
    ``enc_out``; ``dec_in`` (the target words but the last), ``dec_causal`` (masked self-attention),
    ``dec_cross`` (cross-attention), ``dec_ffn``, ``dec_out`` (the next word). Edges: each block to the
    next in its stack, ``enc_out -> dec_cross`` labelled K, V and ``dec_causal -> dec_cross`` labelled Q.

    Args:
        text: :data:`FRAME_TEXT` translated.
        source: the tokens the encoder reads.
        target: the words the decoder writes; all but the last are "written so far", the last is next.

    Returns:
        DOT text.

    Example:
        >>> "enc_out -> dec_cross" in transformer_dot()
        True
    """
    t, xs, ys = _text(text), _tokens(source, "source"), _tokens(target, "target")
    so_far = " ".join(["<s>", *ys[:-1]])
    lines = _head("transformer")
    lines[1] = "rankdir=BT; newrank=true; nodesep=0.6; ranksep=0.35;"
    lines += ["subgraph cluster_encoder {", f"label={_q(t['encoder'])}; color={_q(BLUE)};"]
    lines += [f"enc_in [label={_q(t['inputs'] + chr(10) + ' '.join(xs))}, shape=plaintext, style=solid];"]
    lines += [
        f"enc_self [label={_q(_two_lines(t['self_attention']))}, fillcolor={_q(BLUE)}, fontcolor=white, color={_q(BLUE)}];"
    ]
    lines += [f"enc_ffn [label={_q(t['feed_forward'])}];", f"enc_out [label={_q(_two_lines(t['encoder_output']))}];"]
    lines += ['enc_in -> enc_self [label="Q, K, V"];', "enc_self -> enc_ffn;", "enc_ffn -> enc_out;", "}"]
    lines += ["subgraph cluster_decoder {", f"label={_q(t['decoder'])}; color={_q(ORANGE)};"]
    lines += [f"dec_in [label={_q(t['outputs_so_far'] + chr(10) + so_far)}, shape=plaintext, style=solid];"]
    lines += [
        f"dec_causal [label={_q(_two_lines(t['causal_attention']))}, fillcolor={_q(ORANGE)}, color={_q(ORANGE)}];"
    ]
    lines += [f"dec_cross [label={_q(_two_lines(t['cross_attention']))}, fillcolor={_q(SKY)}, color={_q(SKY)}];"]
    lines += [f"dec_ffn [label={_q(t['feed_forward'])}];"]
    lines += [f"dec_out [label={_q(t['next_word'].format(word=ys[-1]))}, shape=plaintext, style=solid];"]
    lines += ['dec_in -> dec_causal [label="Q, K, V"];', 'dec_causal -> dec_cross [label="Q"];']
    lines += ["dec_cross -> dec_ffn;", "dec_ffn -> dec_out;", "}"]
    lines += [f"enc_out -> dec_cross [label={_q(t['kv'])}, color={_q(SKY)}, penwidth=2];"]
    lines += ["{rank=same; enc_self; dec_causal;}", "}"]
    return "\n".join(lines)
