"""The frame diagrams (issue 27, section 4) as Vega-Lite charts: nodes and edges of each, laid out in
pixels, every label translated, and the page's document built without Streamlit."""

from __future__ import annotations

import json
import math

import pytest

from retrieval_attention.charts.diagram import Diagram, diagram_chart, text_width, wrap
from retrieval_attention.charts.frame import (
    FRAME_TEXT,
    SOURCE_TOKENS,
    TARGET_TOKENS,
    WIDTH,
    attention_diagram,
    rnn_diagram,
    subscript,
    transformer_diagram,
)
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.i18n import translated
from retrieval_attention.views import frame as view


def pairs(d: Diagram) -> set[tuple[str, str]]:
    return {(e.tail, e.head) for e in d.edges}


def overlap(a, b) -> bool:
    return abs(a.x - b.x) * 2 < a.w + b.w and abs(a.y - b.y) * 2 < a.h + b.h


def assert_laid_out(d: Diagram) -> None:
    """Every box inside the drawing, no two boxes overlapping, every text line inside its box."""
    for n in d.nodes:
        assert 0 <= n.x - n.w / 2 and n.x + n.w / 2 <= d.width, n.name
        assert 0 <= n.y - n.h / 2 and n.y + n.h / 2 <= d.height, n.name
        assert all(text_width(line, n.size) <= n.w for line in n.lines), (n.name, n.lines)
    for i, a in enumerate(d.nodes):
        for b in d.nodes[i + 1 :]:
            assert not overlap(a, b), (a.name, b.name)
    for g in d.groups:
        assert all(text_width(line, 14) <= g.x1 - g.x0 - 20 for line in g.label.split("\n")), g.label
    assert {e.tail for e in d.edges} | {e.head for e in d.edges} <= {n.name for n in d.nodes}


def test_the_rnn_squeezes_the_sentence_into_one_vector():
    d = rnn_diagram()
    e = pairs(d)
    assert [d.node(f"x{j}").label for j in range(1, 6)] == list(SOURCE_TOKENS) == ["我", "爱", "吃", "苹", "果"]
    assert [d.node(f"y{i}").label for i in range(1, 5)] == list(TARGET_TOKENS) == ["I", "love", "eating", "apples"]
    assert all((f"h{j}", f"h{j + 1}") in e for j in range(1, 5)), "the encoder is a chain"
    assert ("h5", "c") in e and all(("c", f"s{i}") in e for i in range(1, 5)), "every step reads the same c"
    into_decoder = {a for a, b in e if b.startswith("s")} - {f"s{i}" for i in range(1, 5)}
    assert into_decoder == {"c"}, "the decoder sees nothing of the encoder but c: the bottleneck"
    assert "bottleneck" in d.node("c").label
    assert d.node("h1").y < d.node("c").y < d.node("s1").y, "encoder above c, decoder below"
    assert_laid_out(d)


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_attention_lets_a_decoder_step_read_every_encoder_state(step):
    d = attention_diagram(step)
    e = pairs(d)
    c = f"c{step}"
    assert [n.name for n in d.nodes if n.name.startswith("c")] == [c], "one context vector: the chosen step's"
    for j in range(1, 6):
        assert d.edge(f"h{j}", c).label == subscript("α", step, j), "every h_j is read, weighted α_ij"
    query = d.edge(f"s{step - 1}", c)
    assert query.label == "query" and query.dashed, "s_(i-1) asks"
    assert (c, f"s{step}") in e, "the mix feeds the step that writes y_i"
    assert d.node(c).label.startswith(f"c{subscript('', step)} = Σⱼ α{subscript('', step)}ⱼ hⱼ")
    assert_laid_out(d)


@pytest.mark.parametrize("step", [0, 5, -1])
def test_a_step_outside_the_sentence_is_refused(step):
    with pytest.raises(InvalidParameterError, match="between 1 and 4"):
        attention_diagram(step)
    with pytest.raises(InvalidParameterError, match="step"):
        view.frame_lesson(view.FrameSettings(step=step))


def test_the_transformer_places_self_causal_and_cross_attention():
    d = transformer_diagram()
    assert {"enc_self", "enc_ffn", "enc_out", "dec_causal", "dec_cross", "dec_ffn", "dec_out"} <= {
        n.name for n in d.nodes
    }
    assert d.edge("enc_in", "enc_self").label == "Q, K, V", "self-attention: Q, K, V from the same sentence"
    assert d.edge("dec_in", "dec_causal").label == "Q, K, V", "causal self-attention: all three from the decoder"
    assert d.edge("enc_out", "dec_cross").label == "K, V", "cross-attention: K, V from the encoder's output"
    assert d.edge("dec_causal", "dec_cross").label == "Q", "... and Q from the decoder"
    assert {a for a, b in pairs(d) if b == "dec_cross"} == {"enc_out", "dec_causal"}
    assert ("enc_self", "enc_ffn") in pairs(d) and ("dec_cross", "dec_ffn") in pairs(d), "feed-forward after attention"
    assert all("× N" in g.label for g in d.groups), "the blocks are stacked"
    assert "我 爱 吃 苹 果" in d.node("enc_in").label and d.node("dec_in").label.endswith("<s> I love eating")
    assert "apples" in d.node("dec_out").label and "no position sees the ones after it" in d.node("dec_causal").label
    assert d.node("enc_out").y < d.node("enc_self").y, "drawn bottom to top, as the Transformer's figure"
    assert d.node("enc_self").y == pytest.approx(d.node("dec_causal").y, abs=d.node("dec_causal").h)
    assert_laid_out(d)


def test_the_chart_draws_every_box_label_and_arrow_pointing_at_its_head():
    d = attention_diagram(2)
    spec = diagram_chart(d).to_dict()
    assert spec["width"] == WIDTH and spec["height"] == d.height
    values = {layer["mark"]["type"]: [] for layer in spec["layer"]}
    for layer in spec["layer"]:
        values[layer["mark"]["type"]] += spec["datasets"][layer["data"]["name"]]
    assert len(values["rule"]) == len(values["point"]) == len(d.edges)
    assert {r["name"] for r in values["rect"] if "name" in r} >= {n.name for n in d.nodes if not n.plain}
    texts = {t["text"] if "text" in t else t["label"] for t in values["text"]}
    assert {"\n".join(n.lines) for n in d.nodes} <= texts and {subscript("α", 2, j) for j in range(1, 6)} <= texts
    for arrow, edge in zip(values["point"], d.edges):
        head, tail = d.node(edge.head), d.node(edge.tail)
        a = math.radians(arrow["angle"])  # the triangle's point: up (0°) turned clockwise, y down
        to_head = (head.x - arrow["tip_x"], head.y - arrow["tip_y"])
        to_tail = (tail.x - arrow["tip_x"], tail.y - arrow["tip_y"])
        along = math.sin(a) * to_head[0] - math.cos(a) * to_head[1]
        assert along > 0 and math.sin(a) * to_tail[0] - math.cos(a) * to_tail[1] < 0, arrow["edge"]


def test_cjk_wraps_between_characters_and_latin_at_spaces():
    assert wrap("one vector for the whole sentence", 120, 15) == ["one vector for", "the whole", "sentence"]
    lines = wrap("整个句子只有一个向量（瓶颈）", 100, 15)
    assert "".join(lines) == "整个句子只有一个向量（瓶颈）" and all(text_width(s, 15) <= 100 for s in lines)
    assert wrap("c:\nsecond", 500, 15) == ["c:", "second"]


@pytest.mark.parametrize("lang, word", [("zh", "编码器"), ("es", "codificador")])
def test_every_label_translates(lang, word):
    text = translated(FRAME_TEXT, lang)
    assert all(text[k] != FRAME_TEXT[k] for k in FRAME_TEXT if k != "kv"), "a label left in English"
    for d in (rnn_diagram(text), attention_diagram(2, text), transformer_diagram(text)):
        labels = [n.label for n in d.nodes] + [g.label for g in d.groups] + [e.label for e in d.edges]
        assert any(word in s for s in labels)
        assert not any(FRAME_TEXT[k] in s for k in FRAME_TEXT if k != "kv" for s in labels)
        assert_laid_out(d)
    assert attention_diagram(2, text).node("c2").label.startswith("c₂ = Σⱼ α₂ⱼ hⱼ"), "the placeholder is filled"


def test_tokens_with_quotes_are_drawn_as_they_are():
    d = rnn_diagram(source=['say "hi"', "back\\slash"], target=["ok"])
    assert d.node("x1").label == 'say "hi"' and d.node("x2").label == "back\\slash"
    with pytest.raises(InvalidParameterError, match="empty"):
        transformer_diagram(target=[])


# --- the page's document, without Streamlit ---


def test_the_frame_document_has_three_diagrams_with_stable_keys():
    lesson = view.frame_lesson(view.FrameSettings(step=3))
    assert [s.key for s in lesson.sections] == ["rnn", "attention", "transformer"]
    charts = lesson.charts()
    assert [c.key for c in charts] == ["rnn_diagram", "attention_diagram", "transformer_diagram"]
    d = view.diagrams(view.FrameSettings(step=3))
    for chart, key in zip(charts, ["rnn", "attention", "transformer"]):
        spec = json.loads(json.dumps(dict(chart.spec)))
        assert spec["height"] == d[key].height and chart.width == "content"
        assert chart.height >= d[key].height, "the element is as tall as the drawing"
        assert spec["config"]["font"].startswith('"Source Sans Pro"'), "the theme's fonts"
        data = json.dumps(spec.get("datasets", {}), ensure_ascii=False)
        assert all(n.name in data for n in d[key].nodes), key
    assert "c₃ = Σⱼ α₃ⱼ hⱼ" in json.dumps(dict(charts[1].spec), ensure_ascii=False)
    text = next(b.text for b in lesson.blocks() if b.key == "attention_text")
    assert text.startswith("At step 3 the decoder's state s₂ is the **query**")
    assert lesson.facts == (("Decoder step: the word being written", "eating"),)


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_the_frame_document_speaks_the_page_language(lang):
    ours = view.frame_lesson(view.FrameSettings(2, lang))
    english = view.frame_lesson(view.FrameSettings(2, "en"))
    assert ours.title != english.title and ours.facts[0][0] != english.facts[0][0]
    assert [s.heading for s in ours.sections] != [s.heading for s in english.sections]
    for a, b in zip(ours.blocks(), english.blocks()):
        if a.kind == "text":
            assert a.text != b.text, a.key
    for chart in ours.charts():
        drawn = json.dumps(dict(chart.spec), ensure_ascii=False)
        english_words = [t.split(":")[0] for t in FRAME_TEXT.values() if "{" not in t.split(":")[0]]
        left = [w for w in english_words if len(w) > 4 and w in drawn]
        assert not left, left
        assert ("编码器" if lang == "zh" else "codificador") in drawn
