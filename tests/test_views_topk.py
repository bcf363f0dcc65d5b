"""The top-k lesson's builder (retrieval_attention.views.topk) without Streamlit, on the real all-MiniLM-L6-v2.

Every number of the document is checked against a brute-force softmax of q·K computed here (no
library maths): the weights chart's bars, the tail mass and TV distance, the weight the top 10 keep,
the curve of τ for every k. Every text and chart is in the session's language; user text stays text.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.charts.topk import TOPK_TEXT
from retrieval_attention.errors import InvalidParameterError, QueryError
from retrieval_attention.export.blocks import LessonChart, Metrics, Text
from retrieval_attention.export.document import Lesson, export_html
from retrieval_attention.export.markup import markup_html, markup_plain
from retrieval_attention.i18n import translated
from retrieval_attention.views import topk as vt
from tests.test_views import assert_every_text_translated

QUERY = "funny cat videos"


@pytest.fixture(scope="module")
def store():
    return ra.KeyValueStore.from_corpus(ra.load_corpus())


def brute(store, query: str, temperature: float, scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(w, order): the full softmax of q·K · scale / T in float64, and the keys from best to worst."""
    q = store.encoder.encode_queries([query])[0].astype(np.float64)  # (d,)
    z = store.K.astype(np.float64) @ q * scale / temperature  # (n,)
    e = np.exp(z - z.max())
    w = e / e.sum()
    return w, np.argsort(-w, kind="stable")


def rows(chart: LessonChart) -> list[dict]:
    """Every data row of a chart (its named datasets, in order)."""
    return [r for values in chart.spec["datasets"].values() for r in values]


def metric(lesson: Lesson, label: str) -> float:
    (value,) = [m.value for b in lesson.blocks() if isinstance(b, Metrics) for m in b.items if m.label == label]
    return float(value.replace(",", ".").replace("%", "").strip())


def chart(lesson: Lesson, key: str) -> LessonChart:
    (found,) = [c for c in lesson.charts() if c.key == key]
    return found


def lesson_of(store, lang: str = "en", **kw) -> Lesson:
    return vt.topk_lesson(store, vt.TopKSettings(kw.pop("query", QUERY), lang=lang, **kw))


def test_sections_and_keys_and_the_reveal_only_after_a_guess(store):
    assert [s.key for s in lesson_of(store).sections] == ["weights", "identities", "curve", "related"]
    lesson = lesson_of(store, guess="About half")
    assert [s.key for s in lesson.sections] == ["weights", "reveal", "identities", "curve", "related"]
    keys = [b.key for b in lesson.blocks()]
    assert len(keys) == len(set(keys)) and all(keys), keys
    assert [c.key for c in lesson.charts()] == ["topk_weights", "topk_curve"]
    assert "Reveal" not in export_html(lesson_of(store)), "no answer in the file before a guess"


@pytest.mark.parametrize(("k", "temperature", "scale"), [(5, 0.05, "none"), (12, 0.2, "none"), (3, 1.0, "sqrt_d")])
def test_the_numbers_are_a_brute_force_softmax_of_q_dot_keys(store, k, temperature, scale):
    factor = 1.0 / np.sqrt(store.dim) if scale == "sqrt_d" else 1.0
    w, order = brute(store, QUERY, temperature, factor)
    lesson = lesson_of(store, k=k, temperature=temperature, scale=scale, guess="About 90%")
    tau = 1.0 - w[order[:k]].sum()
    assert metric(lesson, "tail mass τ") == pytest.approx(tau, rel=1e-3)
    assert metric(lesson, "TV distance ½‖w − w′‖₁") == pytest.approx(tau, rel=1e-3)
    kept10 = w[order[:10]].sum()
    label = next(m.label for b in lesson.blocks() if isinstance(b, Metrics) for m in b.items if "top 10" in m.label)
    assert metric(lesson, label) == pytest.approx(100 * kept10, abs=0.006)  # a percentage with two decimals
    # the weights chart: the 20 best keys, best first, full and renormalised top-k weights
    bars = rows(chart(lesson, "topk_weights"))
    full = [r for r in bars if r["weighting"] == "full softmax"]
    top = [r for r in bars if r["weighting"] == f"softmax over the top {k}"]
    assert [r["title"] for r in full] == [store.corpus.titles[i] for i in order[:20]]
    assert [r["weight"] for r in full] == pytest.approx(w[order[:20]], abs=1e-6)
    w_top = np.where(np.arange(20) < k, w[order[:20]] / w[order[:k]].sum(), 0.0)
    assert [r["weight"] for r in top] == pytest.approx(w_top, abs=1e-6)
    # the curve: τ for every k (k = n, exactly 0, is left off the log scale)
    curve = {
        r["k"]: r["value"] for r in rows(chart(lesson, "topk_curve")) if r.get("quantity") == TOPK_TEXT["tail_mass"]
    }
    tails = 1.0 - np.cumsum(w[order])  # tails[k - 1] = τ(k)
    for kk in (1, 2, 5, 10, 50):
        assert curve[kk] == pytest.approx(tails[kk - 1], rel=1e-4, abs=1e-12), kk
    assert len(store) not in curve


def test_the_output_error_identity_and_k_equal_n(store):
    lesson = lesson_of(store, k=7)
    assert metric(lesson, "error ‖o_full − o_topk‖") == metric(lesson, "τ · ‖m_drop − m_keep‖") > 0
    every = lesson_of(store, k=len(store))
    assert metric(every, "tail mass τ") == metric(every, "error ‖o_full − o_topk‖") == 0.0


def test_kept_weight_is_core_topks(store):
    """The reveal's share is core.topk's kept_weight over topk_order, the one home of both."""
    from retrieval_attention.core.topk import kept_weight, topk_order

    settings = vt.TopKSettings(QUERY, k=4, temperature=0.1)
    w, order = brute(store, QUERY, 0.1)
    assert vt.kept_share(store, settings) == pytest.approx(w[order[:10]].sum(), rel=1e-6)
    assert vt.kept_share(store, settings) == pytest.approx(kept_weight(w, topk_order(w)[: vt.QUESTION_K]), rel=1e-6)
    assert [vt.verdict(x) for x in (0.1, 0.5, 0.9, 0.995)] == [0, 1, 2, 3]


def test_every_text_and_chart_in_the_session_language(store):
    assert_every_text_translated(lambda lang: lesson_of(store, lang, guess="About half", temperature=0.2))
    for lang in ("zh", "es"):
        lesson = lesson_of(store, lang, guess="About half")
        ours = translated(TOPK_TEXT, lang)
        for c in lesson.charts():
            spec = json.dumps(c.spec, ensure_ascii=False)
            for key, english in TOPK_TEXT.items():
                if " " in english and ours[key] != english:  # a phrase (one-word texts are also field names)
                    assert english.split("{")[0] not in spec, (lang, c.key, english)
        titles = [c.spec.get("title") for c in lesson.charts()]
        assert ours["title_weights"] in titles and any(
            isinstance(t, dict) and t["text"] == ours["title_curve"] for t in titles
        )
        labels = [m.label for b in lesson.blocks() if isinstance(b, Metrics) for m in b.items]
        english = [
            m.label for b in lesson_of(store, guess="About half").blocks() if isinstance(b, Metrics) for m in b.items
        ]
        for ours_label, theirs in zip(labels, english):
            words = set(re.findall(r"(?<!\w)[A-Za-z]{4,}(?!\w)", theirs)) - {"error"}  # "error" is Spanish too
            assert ours_label != theirs or not words, (lang, theirs)
        if lang == "es":
            assert metric(lesson, "masa de la cola τ") > 0 and "," in dict(lesson.facts)["T"]
            values = [m.value for b in lesson.blocks() if isinstance(b, Metrics) for m in b.items]
            assert all("," in v and "." not in v for v in values), values  # decimal commas
        else:
            assert re.search(r"[\u4e00-\u9fff]", lesson.title)


def test_user_text_stays_text(store):
    hostile = "the **dog** <b>chased</b> [the](x) cat"
    settings = vt.TopKSettings(hostile, k=3)
    question = vt.topk_question(settings)
    shown = markup_html(question)
    assert "<b>" not in shown and "&lt;b&gt;chased" in shown and "<strong>dog" not in shown
    assert hostile in markup_plain(question)
    html = export_html(vt.topk_lesson(store, settings))
    assert "<b>chased" not in html and "&lt;b&gt;chased" in html, "the query is a fact, escaped"


def test_refused_inputs_say_why(store):
    with pytest.raises(QueryError):
        lesson_of(store, query="   ")
    for bad in (dict(k=0), dict(temperature=0.0), dict(scale="cube")):
        with pytest.raises(InvalidParameterError):
            lesson_of(store, **bad)


def test_a_new_k_is_a_new_document_and_the_notebook_shows_both_charts(store):
    a, b = lesson_of(store, k=3), lesson_of(store, k=9)
    assert metric(a, "tail mass τ") > metric(b, "tail mass τ")
    assert a.section("identities").heading != b.section("identities").heading
    frame = b._repr_html_()
    assert frame.startswith("<iframe") and frame.count("data-lesson-chart=&quot;") == 2
    assert all(isinstance(t, Text) for t in b.intro)
