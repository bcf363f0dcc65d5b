"""The frame diagrams (issue 27, section 4): the DOT text of each, its nodes and edges, in every language."""

from __future__ import annotations

import re

import pytest

from retrieval_attention.charts.frame import (
    FRAME_TEXT,
    SOURCE_TOKENS,
    TARGET_TOKENS,
    attention_dot,
    rnn_dot,
    subscript,
    transformer_dot,
)
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.i18n import translated

QUOTED = r'"(?:[^"\\]|\\.)*"'
NODE = re.compile(rf"^(\w+) \[label=({QUOTED})", re.M)
EDGE = re.compile(r"^(\w+) -> (\w+)(?: \[(.*)\])?;$", re.M)


def nodes(dot: str) -> dict[str, str]:
    """node name -> its label, unquoted."""
    return {name: label[1:-1].replace('\\"', '"').replace("\\\\", "\\") for name, label in NODE.findall(dot)}


def edges(dot: str) -> dict[tuple[str, str], str]:
    """(tail, head) -> the edge's attributes (empty when it has none)."""
    return {(a, b): attrs or "" for a, b, attrs in EDGE.findall(dot)}


def balanced(dot: str) -> bool:
    """Braces balance outside quoted strings, and every quote is closed: DOT a parser will accept."""
    outside = re.sub(QUOTED, "", dot)
    return '"' not in outside and outside.count("{") == outside.count("}") > 0


def test_the_rnn_squeezes_the_sentence_into_one_vector():
    dot = rnn_dot()
    n, e = nodes(dot), edges(dot)
    assert [n[f"x{j}"] for j in range(1, 6)] == list(SOURCE_TOKENS) == ["我", "爱", "吃", "苹", "果"]
    assert [n[f"y{i}"] for i in range(1, 5)] == list(TARGET_TOKENS) == ["I", "love", "eating", "apples"]
    assert all((f"h{j}", f"h{j + 1}") in e for j in range(1, 5)), "the encoder is a chain"
    assert ("h5", "c") in e and all(("c", f"s{i}") in e for i in range(1, 5)), "every step reads the same c"
    into_decoder = {a for a, b in e if b.startswith("s")} - {f"s{i}" for i in range(1, 5)}
    assert into_decoder == {"c"}, "the decoder sees nothing of the encoder but c: the bottleneck"
    assert "bottleneck" in n["c"]
    assert balanced(dot)


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_attention_lets_a_decoder_step_read_every_encoder_state(step):
    dot = attention_dot(step)
    n, e = nodes(dot), edges(dot)
    c = f"c{step}"
    assert [k for k in n if k.startswith("c")] == [c], "one context vector: the chosen step's"
    for j in range(1, 6):
        assert f'label="{subscript("α", step, j)}"' in e[(f"h{j}", c)], "every h_j is read, weighted α_ij"
    assert "dir=back" in e[(c, f"s{step - 1}")] and "query" in e[(c, f"s{step - 1}")], "s_(i-1) asks"
    assert (c, f"s{step}") in e, "the mix feeds the step that writes y_i"
    assert n[c].startswith(f"c{subscript('', step)} = Σⱼ α{subscript('', step)}ⱼ hⱼ")
    assert balanced(dot)


@pytest.mark.parametrize("step", [0, 5, -1])
def test_a_step_outside_the_sentence_is_refused(step):
    with pytest.raises(InvalidParameterError, match="between 1 and 4"):
        attention_dot(step)


def test_the_transformer_places_self_causal_and_cross_attention():
    dot = transformer_dot()
    n, e = nodes(dot), edges(dot)
    assert {"enc_self", "enc_ffn", "enc_out", "dec_causal", "dec_cross", "dec_ffn", "dec_out"} <= set(n)
    assert 'label="Q, K, V"' in e[("enc_in", "enc_self")], "self-attention: Q, K, V from the same sentence"
    assert 'label="Q, K, V"' in e[("dec_in", "dec_causal")], "causal self-attention: all three from the decoder"
    assert 'label="K, V"' in e[("enc_out", "dec_cross")], "cross-attention: K, V from the encoder's output"
    assert 'label="Q"' in e[("dec_causal", "dec_cross")], "... and Q from the decoder"
    assert {a for a, b in e if b == "dec_cross"} == {"enc_out", "dec_causal"}
    assert ("enc_self", "enc_ffn") in e and ("dec_cross", "dec_ffn") in e, "a feed-forward layer after attention"
    assert "× N" in dot, "the blocks are stacked"
    assert "我 爱 吃 苹 果" in n["enc_in"] and n["dec_in"].endswith("<s> I love eating") and "apples" in n["dec_out"]
    assert "no position sees the ones after it" in n["dec_causal"]
    assert balanced(dot)


@pytest.mark.parametrize("lang, word", [("zh", "编码器"), ("es", "codificador")])
def test_every_label_translates(lang, word):
    text = translated(FRAME_TEXT, lang)
    assert all(text[k] != FRAME_TEXT[k] for k in FRAME_TEXT if k != "kv"), "a label left in English"
    for dot in (rnn_dot(text), attention_dot(2, text), transformer_dot(text)):
        assert word in dot and balanced(dot)
        assert not any(FRAME_TEXT[k] in dot for k in FRAME_TEXT if k != "kv")
    assert "c₂ = Σⱼ α₂ⱼ hⱼ" in attention_dot(2, text), "the placeholder is filled in every language"


def test_quotes_and_backslashes_in_tokens_stay_inside_their_labels():
    dot = rnn_dot(source=['say "hi"', "back\\slash"], target=["ok"])
    n = nodes(dot)
    assert n["x1"] == 'say "hi"' and n["x2"] == "back\\slash"
    assert balanced(dot)
    with pytest.raises(InvalidParameterError, match="empty"):
        transformer_dot(target=[])
