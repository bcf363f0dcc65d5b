"""The recommender page's builder (retrieval_attention.views.recommender), without Streamlit.

With the real default model over the bundled corpus: every number of the document is the
library's (target attention checked against a brute-force softmax over q·k, the lists against
``recommend``, leave-last-out against ``evaluate_leave_last_out``), every text and chart label is
translated in zh and es, user text stays text, and ``ra.recommender_lesson`` is this same document.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.export.blocks import Columns, LessonChart, LessonTable, Metrics, Text, walk
from retrieval_attention.export.document import export_html
from retrieval_attention.export.markup import markup_plain, md
from retrieval_attention.views import RecommenderSettings, target_attention_lesson
from retrieval_attention.views import recommender as view

PERSONA = ra.load_histories()[0]
XSS = "<img src=x onerror=alert(1)> **not bold**"


def settings(store: ra.KeyValueStore, lang: str = "en", **changes) -> RecommenderSettings:
    """The page as it opens: the first persona, its default targets A and B, T = 0.1, softmax, no recency."""
    base = RecommenderSettings(history=PERSONA.history, targets=(), temperature=0.1, who=PERSONA.name, lang=lang)
    s = RecommenderSettings(**{**base.__dict__, "targets": view.default_targets(store, base)})
    return RecommenderSettings(**{**s.__dict__, **changes})


@pytest.fixture(scope="module")
def lessons(store):
    """The opening document in each language (leave-last-out is computed once and cached)."""
    return {lang: target_attention_lesson(store, settings(store, lang)) for lang in ("en", "zh", "es")}


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def test_sections_and_block_keys_are_stable(lessons):
    lesson = lessons["en"]
    assert [s.key for s in lesson.sections] == ["compare", "cross", "lists", "evaluation"]
    assert [b.key for b in lesson.charts()] == ["compare_bars", "cross_heatmap"]
    keys = [b.key for b in lesson.blocks()]
    assert len(keys) == len(set(keys)), "every block has its own key"
    assert [b.key for b in lesson.blocks() if isinstance(b, LessonTable)] == [
        "compare_weights",
        "lists_attention",
        "lists_mean",
        "lists_popular",
        "evaluation_scores",
        "evaluation_ranks",
    ]


def test_each_section_builder_returns_the_documents_section(store, lessons):
    """A fragment rebuilds one section: the same section the whole document holds."""
    s, lesson = settings(store), lessons["en"]
    assert view.compare_section(store, s) == lesson.section("compare")
    assert view.cross_section(store, s) == lesson.section("cross")
    assert view.lists_section(store, s) == lesson.section("lists")
    personas = ra.load_histories(corpus=store.corpus, lang="en")
    assert view.evaluation_section(store, s, personas) == lesson.section("evaluation")


def test_the_weights_are_a_softmax_over_q_dot_k_brute_force(store, lessons):
    s = settings(store)
    (table,) = [b for b in lessons["en"].section("compare").blocks if isinstance(b, LessonTable)]
    pos = {v.id: i for i, v in enumerate(store.corpus.videos)}
    K = store.K.astype(np.float64)
    H = len(s.history)
    assert len(table.rows) == 2 * H
    for slot, target, rows in zip("AB", s.targets, (table.rows[:H], table.rows[H:])):
        scores = K[[pos[h] for h in s.history]] @ K[pos[target]]  # (H,) q·k_h, q = the target's key
        weights = _softmax(scores / 0.1)
        assert [r[0] for r in rows] == [slot] * H and [r[1] for r in rows] == list(range(1, H + 1))
        np.testing.assert_allclose([r[3] for r in rows], scores, atol=1e-5)
        np.testing.assert_allclose([r[6] for r in rows], weights, atol=1e-5)
        assert [r[5] for r in rows] == [1.0] * H, "no recency: every factor is 1"


def test_the_metrics_and_reading_lines_are_the_librarys_numbers(store, lessons):
    s = settings(store)
    (row,) = [b for b in lessons["en"].section("compare").blocks if isinstance(b, Columns)]
    for slot, target, column in zip("AB", s.targets, row.items):
        ta = ra.target_attention(store, s.history, target, temperature=0.1)
        reads, metrics = column
        assert isinstance(reads, Text) and reads.text.startswith(f"**{slot}** reads mostly")
        _id, top_title, top_w = ta.top(1)[0]
        assert f"**{top_title}** ({top_w:.2f})" in reads.text
        assert isinstance(metrics, Metrics)
        assert [m.value for m in metrics.items] == [f"{top_w:.2f}", f"{ta.weights.sum():.2f}", f"{ta.score:.3f}"]


def test_the_three_lists_are_recommend_and_leave_last_out_is_the_librarys(store, lessons):
    s = settings(store)
    tables = {b.key: b for b in lessons["en"].blocks() if isinstance(b, LessonTable)}
    for m in ("attention", "mean", "popular"):
        rec = ra.recommend(store, list(s.history), k=10, method=m, temperature=0.1)
        assert [r[1] for r in tables[f"lists_{m}"].rows] == list(rec.titles), m
    attention = ra.recommend(store, list(s.history), k=10, temperature=0.1)
    why = [r[2] for r in tables["lists_attention"].rows]
    assert why == [f"because you watched “{e.because_title}”, weight {e.weight:.2f}" for e in attention.explanations]
    ev = ra.evaluate_leave_last_out(store, ra.load_histories(corpus=store.corpus), k=10, temperature=0.1)
    scores = tables["evaluation_scores"].rows
    assert [r[3] for r in scores] == [f"{sc.mrr:.3f}" for sc in ev.scores.values()]
    assert [r[2] for r in scores] == [f"{sum(r <= 10 for r in sc.ranks.values())} / 10" for sc in ev.scores.values()]
    assert [r[2:] for r in tables["evaluation_ranks"].rows] == [
        tuple(sc.ranks[pid] for sc in ev.scores.values()) for pid in ev.held_out
    ]


def test_raw_weights_recency_and_one_target(store):
    """DIN's raw weights (no softmax) times recency, for target A only: the table's factors multiply."""
    s = settings(store, normalize=False, half_life=2.0)
    s = RecommenderSettings(**{**s.__dict__, "targets": s.targets[:1]})
    section = view.compare_section(store, s)
    (table,) = [b for b in section.blocks if isinstance(b, LessonTable)]
    ta = ra.target_attention(store, s.history, s.targets[0], normalize=False, half_life=2.0)
    assert {r[0] for r in table.rows} == {"A"}
    np.testing.assert_allclose([r[6] for r in table.rows], ta.weights, atol=1e-9)
    np.testing.assert_allclose([r[4] * r[5] for r in table.rows], ta.weights, atol=1e-9)
    assert table.rows[-1][5] == 1.0 and table.rows[-3][5] == pytest.approx(0.5)
    assert [b.key for b in walk(section.blocks) if isinstance(b, Text)] == [
        "compare_reads_A",
        "compare_recency",
        "compare_raw",
        "compare_history",
    ]
    (metrics,) = [b for b in section.blocks[2].items[0] if isinstance(b, Metrics)]
    assert metrics.items[1].value == f"{ta.weights.sum():.2f}" != "1.00"


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_every_text_heading_fact_and_chart_label_is_translated(lessons, lang):
    en, other = lessons["en"], lessons[lang]
    assert other.lang == lang and other.title != en.title
    assert [s.heading for s in other.sections] != [s.heading for s in en.sections]
    for a, b in zip(en.sections, other.sections):
        assert a.heading != b.heading, b.key
    english = {b.key: b for b in en.blocks()}
    for b in other.blocks():
        a = english[b.key]
        if isinstance(b, Text) and re.search("[A-Za-z]{4,}", markup_plain(a.text).replace(PERSONA.name, "")):
            assert b.text != a.text, (lang, b.key, b.text)
        if isinstance(b, LessonTable):
            assert [c for c in b.columns if len(c) > 3] != [c for c in a.columns if len(c) > 3], b.key
        if isinstance(b, Metrics):
            assert all(m.label != n.label for m, n in zip(b.items, a.items)), b.key
    assert [f[0] for f in other.facts] != [f[0] for f in en.facts]
    words = {"zh": ("权重", "观看历史"), "es": ("peso", "historial")}[lang]
    for chart in other.charts():
        spec = json.dumps(chart.spec, ensure_ascii=False)
        assert any(w in spec for w in words), chart.key
        assert "weight (softmax)" not in spec and "oldest first" not in spec, chart.key
    if lang == "es":
        assert other.decimal == "," and other.section("compare").blocks[2].items[0][1].items[1].value == "1,00"


def test_user_text_stays_text(store):
    lesson = target_attention_lesson(store, settings(store, who=XSS, about="<b>" + XSS))
    (said,) = [b for b in lesson.blocks() if b.key == "compare_history"]
    assert md(XSS) in said.text and "**not bold**" not in said.text, "the persona's markdown is escaped"
    html = export_html(lesson)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert dict(lesson.facts)["History"] == XSS, "the facts hold the text literally"


def test_the_public_recommender_lesson_is_the_pages_document(store, lessons):
    s = settings(store, "zh")
    public = ra.recommender_lesson(
        store,
        list(s.history),
        s.targets[0],
        compare_to=s.targets[1],
        temperature=0.1,
        history_name=PERSONA.name,
        lang="zh",
    )
    assert public == lessons["zh"]
    assert export_html(public) == export_html(lessons["zh"])


def test_bad_input_is_a_library_error(store):
    with pytest.raises(ra.RecommenderError):
        target_attention_lesson(store, RecommenderSettings(history=(), targets=("v010",)))
    with pytest.raises(ra.RecommenderError):
        target_attention_lesson(store, RecommenderSettings(history=("nope",), targets=("v010",)))
    with pytest.raises(ra.InvalidParameterError):
        view.compare_section(store, RecommenderSettings(history=("v270",), targets=("v010", "v028", "v252")))
    with pytest.raises(ra.InvalidParameterError):
        view.compare_section(store, RecommenderSettings(history=("v270",), targets=("v010",), temperature=-1.0))


def test_the_charts_are_the_chart_modules_with_their_data_inline(lessons, store):
    s = settings(store)
    bars, heatmap = lessons["en"].charts()
    assert isinstance(bars, LessonChart) and "hconcat" in bars.spec
    assert bars.height == len(s.history) * 30 + 150
    rows = [r for d in bars.spec["datasets"].values() for r in d if "weight" in r]
    assert len(rows) == 2 * len(s.history)
    cells = [r for d in heatmap.spec["datasets"].values() for r in d]
    assert len(cells) >= 10 * len(s.history)
