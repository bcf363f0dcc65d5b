"""The main page's builder (retrieval_attention.views.retrieval) without Streamlit, with the real default model.

Every number of the document is checked against numpy's own softmax of q·K (brute force), every
text and chart is translated in zh and es, user text stays text, and ``ra.retrieval_lesson`` (the
CLI's ``--html``) is the very document the page draws.
"""

from __future__ import annotations

import datetime
import json
import math
import re

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.export.blocks import Formula, LessonChart, LessonTable, Metrics, Text
from retrieval_attention.export.document import Lesson, export_html
from retrieval_attention.export.markup import markup_plain
from retrieval_attention.i18n import fmt_number, fmt_percent
from retrieval_attention.views import RetrievalSettings, retrieval_document
from retrieval_attention.views import retrieval as view

QUERY = "funny cat videos"
DAY = datetime.date(2026, 12, 1)
LANGS = ("en", "zh", "es")


def settings(**kw) -> RetrievalSettings:
    return RetrievalSettings(**{"query": QUERY, "k": 5, "temperature": 0.05, "when": DAY, **kw})


@pytest.fixture(scope="module")
def docs(store) -> dict[str, Lesson]:
    return {lang: retrieval_document(store, settings(lang=lang)) for lang in LANGS}


def block(lesson: Lesson, key: str):
    (found,) = [b for b in lesson.blocks() if b.key == key]
    return found


def metric(lesson: Lesson, key: str):
    (m,) = block(lesson, key).items
    return m


def softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max())
    return z / z.sum()


def brute(store: ra.KeyValueStore, query: str, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(q·k of every key, soft weights, key order best first), from numpy alone."""
    q = store.encoder.encode_queries([query])[0].astype(np.float64)  # (d,)
    s = store.K.astype(np.float64) @ q  # (n,)
    return s, softmax(s / t), np.argsort(-s, kind="stable")


def test_sections_and_keys_are_stable_and_unique(docs):
    for lesson in docs.values():
        assert [s.key for s in lesson.sections] == ["retrievals", "continuum", "arithmetic", "scaling"]
        keys = [b.key for b in lesson.blocks()]
        assert all(keys) and len(keys) == len(set(keys)), keys
        assert [c.key for c in lesson.charts()] == ["mix_topk", "weights_bar", "mix_soft", "continuum", "scaling"]
    assert [b.key for b in docs["en"].blocks()] == [b.key for b in docs["zh"].blocks()]


def test_the_numbers_are_numpys_softmax_of_q_dot_k(store, docs):
    lesson = docs["en"]
    s, w, order = brute(store, QUERY, 0.05)
    top5 = order[:5]
    w_top = softmax(s[top5] / 0.05)  # top-k attention: a softmax over the kept keys only
    titles = [v.title for v in store.corpus.videos]
    table = block(lesson, "topk_table")
    assert isinstance(table, LessonTable) and table.columns == ("title", "q·k", "weight")
    assert len(table.rows) == 5  # nearest first: the rows' order is the rank
    for row, i, wi in zip(table.rows, top5, w_top):
        assert row[0] == titles[i]
        assert abs(float(row[1]) - s[i]) <= 0.5e-3 + 1e-6, (row, s[i])
        assert abs(float(row[2].rstrip("%")) / 100 - wi) <= 0.5e-3 + 1e-6, (row, wi)
    kept = float(w[top5].sum())  # brute force; the page reports core.topk.kept_weight
    assert metric(lesson, "topk_kept").value == fmt_percent(kept)
    assert f"{fmt_percent(1 - kept, 'en', 1)} of the full softmax weight" in block(lesson, "topk_tail").text
    entropy = -float(np.sum(w[w > 0] * np.log(w[w > 0])))
    assert metric(lesson, "soft_entropy").value == fmt_number(entropy, "en", 2)
    assert metric(lesson, "soft_effective").value == fmt_number(1 / float(np.sum(w**2)), "en", 1)
    assert f"log n = {fmt_number(math.log(len(titles)), 'en', 2)}" in metric(lesson, "soft_entropy").help
    assert f"hold **{fmt_percent(kept, 'en', 1)}** of the weight" in block(lesson, "continuum_text").text
    assert metric(lesson, "hard_used").value == "0" and block(lesson, "hard_result").style == "warning"


def test_the_charts_carry_every_keys_weight(store, docs):
    s, w, order = brute(store, QUERY, 0.05)
    weights = block(docs["en"], "weights_bar").spec
    (rows,) = weights["datasets"].values()
    assert len(rows) == len(store) == 312
    assert np.allclose([r["weight"] for r in rows], w[order], atol=1e-6)
    assert [r["title"] for r in rows[:3]] == [store.corpus.videos[i].title for i in order[:3]]
    continuum = block(docs["en"], "continuum").spec
    (lines,) = [v for v in continuum["datasets"].values() if len(v) > 100]
    first = [r for r in lines if r["key"].startswith("1. ")]
    T = np.array([r["T"] for r in first])
    expected = [softmax(s / t)[order[0]] for t in T]  # the best key's weight at every temperature
    assert np.allclose([r["weight"] for r in first], expected, atol=1e-5)


def test_the_arithmetic_is_the_softmax_written_out(store, docs):
    s, w, order = brute(store, QUERY, 0.05)
    table = block(docs["en"], "arithmetic_table")
    assert isinstance(table, Formula)
    for j in range(4):
        assert f"k_{{{j + 1}}} & {s[order[j]]:.4f} & {s[order[j]] / 0.05:.3f}" in table.latex
        assert f"{w[order[j]]:.4f} \\\\" in table.latex
    es = block(retrieval_document(store, settings(lang="es")), "arithmetic_table").latex
    assert f"{s[order[0]]:.4f}".replace(".", "{,}") in es, "Spanish numbers in TeX: 0{,}6573"


def test_the_scaling_metrics_are_the_librarys(store, docs):
    s, w, _order = brute(store, QUERY, 0.05)
    flat = softmax(s / math.sqrt(store.dim))  # ÷√d at T = 1
    (a, b) = block(docs["en"], "scaling_metrics").items
    assert a.value == f"{fmt_number(1 / float(np.sum(flat**2)), 'en', 0)} of 312"
    assert b.value == f"{fmt_number(1 / float(np.sum(w**2)), 'en', 1)} of 312"


def test_a_change_of_k_temperature_and_log_axis_reaches_the_document(store):
    lesson = retrieval_document(store, settings(k=8, temperature=0.2, log_weights=False))
    assert len(block(lesson, "topk_table").rows) == 8
    assert block(lesson, "topk_heading").text == "2 · Top-8 search"
    assert dict(lesson.facts)["Temperature T"] == "0.2" and dict(lesson.facts)["k"] == "8"
    spec = json.dumps(block(lesson, "weights_bar").spec)
    assert '"type": "log"' not in spec, "a linear weight axis"
    assert '"type": "log"' in json.dumps(block(retrieval_document(store, settings()), "weights_bar").spec)


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_every_text_metric_and_chart_is_translated(docs, lang):
    en, other = docs["en"], docs[lang]
    assert other.lang == lang and other.title != en.title
    english = {b.key: b for b in en.blocks()}
    for b in other.blocks():
        e = english[b.key]
        if isinstance(b, Text) and re.search("[A-Za-z]{4,}", markup_plain(e.text)) and QUERY not in e.text:
            assert b.text != e.text, (lang, b.key, b.text)
        if isinstance(b, Metrics):
            assert [m.label for m in b.items] != [m.label for m in e.items], (lang, b.key)
        if isinstance(b, LessonChart):
            assert b.title != e.title, (lang, b.key)
            mine, theirs = json.dumps(b.spec, ensure_ascii=False), json.dumps(e.spec, ensure_ascii=False)
            assert "weight" not in re.findall(r'"title": "([^"]*)"', mine), (lang, b.key)
            assert mine != theirs
    assert [label for label, _ in other.facts] != [label for label, _ in en.facts]
    decimal = {"zh": ".", "es": ","}[lang]
    assert other.decimal == decimal
    if lang == "es":
        assert all(c.spec["config"]["locale"]["number"]["decimal"] == "," for c in other.charts())
        assert "0,05" in dict(other.facts)["Temperatura T"]


def test_user_text_stays_text(store):
    hostile = "<img src=x onerror=alert(1)> **bold** $x$"
    lesson = retrieval_document(store, settings(query=hostile))
    assert dict(lesson.facts)["Query"] == hostile
    tried = block(lesson, "hard_tried").text
    assert "\\<img" in tried and "\\*\\*bold\\*\\*" in tried and "\\$x\\$" in tried
    html = export_html(lesson)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    title = store.corpus.videos[0].title
    hit = retrieval_document(store, settings(query=title))
    assert block(hit, "hard_result").style == "success" and metric(hit, "hard_used").value == "1"
    assert markup_plain(block(hit, "hard_title").text) == title


def test_the_public_lesson_is_the_pages_document(store):
    for lang in ("en", "zh"):
        page = retrieval_document(store, settings(lang=lang, temperature=0.1, k=3))
        cli = ra.retrieval_lesson(store, QUERY, k=3, temperature=0.1, lang=lang, when=DAY)
        assert cli == page
        assert export_html(cli) == export_html(page)


def test_bad_input_is_a_library_error(store):
    with pytest.raises(ra.QueryError):
        retrieval_document(store, settings(query="   "))
    with pytest.raises(ra.InvalidParameterError):
        retrieval_document(store, settings(k=0))
    with pytest.raises(ra.InvalidParameterError):
        view.ask(store, settings(temperature=-1.0))


def test_a_query_the_encoder_cannot_read_gets_a_note(store):
    lesson = retrieval_document(store, settings(query="股市新闻"))
    note = block(lesson, "unread")
    assert note.style == "info" and "[UNK]" in note.text
    assert not [b for b in retrieval_document(store, settings()).blocks() if b.key == "unread"]
