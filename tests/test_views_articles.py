"""The article and lesson pages' builders (retrieval_attention.views), without Streamlit.

Each document's numbers are the library's (or the model's), its texts and charts speak the
document's language, and a sentence a student types stays text.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from retrieval_attention.export.blocks import LessonTable
from retrieval_attention.export.document import export_html
from retrieval_attention.export.markup import markup_html, markup_plain
from tests.test_views import assert_every_text_translated, html_charts, keys, texts


@pytest.fixture(scope="module")
def ins():
    from retrieval_attention.inspector import load_inspector

    return load_inspector()


def text_of(lesson, key: str) -> str:
    return next(t.text for t in texts(lesson) if t.key == key)


def table_of(lesson, key: str) -> LessonTable:
    return next(b for b in lesson.blocks() if isinstance(b, LessonTable) and b.key == key)


# ---- one token, step by step (article 001) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "weights", "z"),
    [
        ("en", ["0.8808", "0.1192", "1.0000"], "z = 0.88 · v₁ + 0.12 · v₂ = (0.88; 0.36; 1.88)"),
        ("zh", ["0.8808", "0.1192", "1.0000"], "z = 0.88 · v₁ + 0.12 · v₂ = (0.88; 0.36; 1.88)"),
        ("es", ["0,8808", "0,1192", "1,0000"], "z = 0,88 · v₁ + 0,12 · v₂ = (0,88; 0,36; 1,88)"),
    ],
)
def test_walkthrough_by_hand_is_the_articles_numbers(lang, weights, z):
    """Article 001: 112 and 96, ÷ √64 = 8 -> 14 and 12, softmax -> 0.8808 / 0.1192, z = 0.88·v₁ + 0.12·v₂."""
    from retrieval_attention.articles import ARTICLE_DK, ARTICLE_SCORES, EXAMPLE_VALUES, score_steps
    from retrieval_attention.views.walkthrough import WalkthroughSettings, hand_section

    section = hand_section(WalkthroughSettings(lang=lang))
    steps = table_of_section(section, "hand_steps")
    assert [r[1] for r in steps.rows] == ["112", "96", ""] and [r[2] for r in steps.rows] == ["14", "12", ""]
    assert [r[-1] for r in steps.rows] == weights, "the weights, and their sum 1 in the Σ row"
    assert steps.rows[-1][0] == "Σ" and steps.rows[-1][3] == ("1,1353" if lang == "es" else "1.1353")
    s = score_steps(ARTICLE_SCORES, ARTICLE_DK, EXAMPLE_VALUES)
    assert np.allclose(s.weights, [0.8808, 0.1192], atol=5e-5) and s.scaled.tolist() == [14.0, 12.0]
    assert z in next(b.text for b in section.blocks if b.key == "hand_sum_text")
    sums = table_of_section(section, "hand_sum")
    decimal = "," if lang == "es" else "."
    assert sums.rows[-1][1:] == tuple(f"{x:.4f}".replace(".", decimal) for x in s.z), "z, the library's"
    assert [b.key for b in section.blocks][:3] == ["hand_steps", "hand_text", "hand_inputs"], "the table first"


def table_of_section(section, key: str) -> LessonTable:
    return next(b for b in section.blocks if isinstance(b, LessonTable) and b.key == key)


def test_walkthrough_by_hand_follows_the_boxes_and_refuses_what_it_cannot_compute():
    from retrieval_attention.articles import score_steps
    from retrieval_attention.views.walkthrough import WalkthroughSettings, hand_section, walkthrough_lesson

    three = WalkthroughSettings((112.0, 112.0, 100.0), 1, ((1, 0, 2), (0, 3, 1), (2, 2, 0)))
    steps = table_of_section(hand_section(three), "hand_steps")
    s = score_steps(three.scores, 1, three.values)
    assert [r[0] for r in steps.rows] == ["Thinking", "Machines", "a third word", "Σ"]
    assert [r[-1] for r in steps.rows[:3]] == [f"{w:.4f}" for w in s.weights] == ["0.5000", "0.5000", "0.0000"]
    bad = walkthrough_lesson(None, WalkthroughSettings(d_k=0, sentence=""))
    assert [s.key for s in bad.sections] == ["hand", "model"]
    assert "d_k must be" in markup_plain(text_of(bad, "hand_problem")), "the library's reason"
    assert not [b for b in bad.blocks() if isinstance(b, LessonTable)] and not bad.charts()
    assert text_of(bad, "model_empty") == "Type a sentence to follow its steps."


def test_walkthrough_model_numbers_are_the_models(ins):
    from retrieval_attention.i18n import fmt_number
    from retrieval_attention.inspector import ORIGINAL_TRANSFORMER, strongest_self_head, walkthrough
    from retrieval_attention.views import WalkthroughSettings, walkthrough_lesson

    lesson = walkthrough_lesson(ins, WalkthroughSettings(layer=2, head=4, aside=True), ins.name)
    assert [s.key for s in lesson.sections] == ["hand", "model", "vectors", "scores", "sum", "matrix"]
    assert [c.key for c in lesson.charts()] == [
        "aw_vec_0", "aw_vec_1", "aw_vec_2", "aw_scores", "aw_steps", "aw_hidden", "aw_sum",
    ]  # fmt: skip
    w = walkthrough(ins, "Thinking Machines", 2, 4, 1)
    best = int(w.weights.argmax())
    best_line = markup_plain(text_of(lesson, "scale_best"))
    assert f"“{w.tokens[best]}”: {fmt_number(float(w.weights[best]), 'en', 2)}." in best_line
    assert f"√32 ≈ {fmt_number(w.sqrt_dk, 'en', 2)}" in text_of(lesson, "scale_text")
    found = strongest_self_head(ins, "Thinking Machines", 1)
    assert f"layer {found.layer}, head {found.head}, with {found.weight:.2f}" in text_of(lesson, "itself_found")
    steps = next(c for c in lesson.charts() if c.key == "aw_steps")
    data = [r for rows in steps.spec["datasets"].values() for r in rows]
    shown = sorted(float(r[k]) for r in data for k in r if isinstance(r[k], float))
    for x in (*w.scores, *w.scaled, *w.weights):
        assert any(abs(float(x) - y) < 1e-5 for y in shown), x
    matrix = table_of(lesson, "matrix_shapes")
    assert matrix.rows[0] == ("X", "4 × 384", "2 × 512")
    assert [r[2] for r in matrix.rows] == [" × ".join(str(n) for n in s) for _name, s in ORIGINAL_TRANSFORMER.stages]
    assert dict(lesson.facts)["Query token"] == "thinking"


def test_walkthrough_in_every_language(ins):
    from retrieval_attention.views import WalkthroughSettings, walkthrough_lesson

    def build(lang):
        return walkthrough_lesson(
            ins, WalkthroughSettings(sentence="Riley is hyperactive", aside=True, words=True, lang=lang)
        )

    assert_every_text_translated(build)
    zh, es = build("zh"), build("es")
    assert zh.title == "一个 token，一步一步" and es.title == "Un token, paso a paso"
    assert "第 0 层" in json.dumps(next(c.spec for c in zh.charts() if c.key == "aw_steps"), ensure_ascii=False)
    assert "capa 0" in json.dumps(next(c.spec for c in es.charts() if c.key == "aw_steps"), ensure_ascii=False)
    assert "aw_words" in [c.key for c in es.charts()], "a split word: the row merged to words"
    assert table_of(es, "matrix_shapes").columns[0] == "matriz"
    assert es.decimal == "," and "0,8808" in [r[-1] for r in table_of(es, "hand_steps").rows]


def test_walkthrough_refused_sentence_and_user_text(ins):
    from retrieval_attention.views import WalkthroughSettings, walkthrough_lesson

    refused = walkthrough_lesson(ins, WalkthroughSettings(sentence="我爱吃苹果"))
    assert [s.key for s in refused.sections] == ["hand", "model"] and "[UNK]" in markup_plain(
        text_of(refused, "model_problem")
    )
    hostile = "the **dog** <b>chased</b> [the](x) cat"
    lesson = walkthrough_lesson(ins, WalkthroughSettings(sentence=hostile, token=7))  # the token "<"
    shown = markup_html(text_of(lesson, "scores_text"))
    assert "“<”" in markup_plain(text_of(lesson, "scores_text")) and "“&lt;”" in shown, "a token stays text"
    html = export_html(lesson)
    assert "<b>chased" not in html and "&lt;b&gt;chased" in html, "the sentence is a fact, escaped"
    assert len(html_charts(html)) == len(lesson.charts()) == 6
    assert "model_controls" in keys(lesson)


# ---- scoring functions ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fit(store):
    from retrieval_attention.core.scoring_fit import fit_additive
    from retrieval_attention.views import scoring as sc

    return fit_additive(store.K, store.value_embeddings, hidden=sc.HIDDEN, steps=sc.FIT_STEPS, seed=sc.SEED)


@pytest.fixture(scope="module")
def timed(store):
    """One real timing of 10 queries and one of 1,000 against the corpus (machine-dependent, so measured once)."""
    from retrieval_attention.views import scoring as sc

    return sc.measure("corpus", 10, store.K), sc.measure("corpus", 1_000, store.K)


def test_scoring_numbers_are_the_librarys(store, fit, timed):
    from retrieval_attention.charts.scoring import format_seconds
    from retrieval_attention.core.scoring import cosine_scores, peakiness_vs_dim
    from retrieval_attention.core.scoring_fit import spearman
    from retrieval_attention.views import ScoringSettings, scoring_lesson

    cost, reveal = timed
    query = "funny cat videos"
    lesson = scoring_lesson(store, fit, ScoringSettings(query=query), cost=cost, reveal=reveal)
    assert [s.key for s in lesson.sections] == ["scores", "cost", "reveal", "measure", "scaling"]
    assert [c.key for c in lesson.charts()] == ["scores_strip", "cost_chart", "peak_chart"]
    metrics = {m.label: m.value for b in lesson.blocks() if b.kind == "metrics" for m in b.items}
    q = store.embed_query(query)
    cosine = cosine_scores(q, store.K)
    assert metrics["Spearman: this query"] == f"{spearman(fit.scorer.scores(q, store.K), cosine):.2f}"
    assert metrics["Spearman: held-out titles"] == f"{fit.spearman_trained:.2f}"
    assert metrics["pairs m·n"] == f"{10 * len(store):,}" and cost.pairs == 10 * len(store)
    assert metrics["additive"] == format_seconds(cost.additive_loop_seconds)
    assert metrics["dot product"] == format_seconds(cost.dot_seconds)
    assert metrics["ratio additive / dot"] == f"{cost.ratio:,.0f}×"
    assert metrics["dot product is faster by"] == f"{reveal.ratio:,.0f}×" and reveal.m == 1_000
    top = table_of(lesson, "scores_top")
    best = [store.corpus.titles[i] for i in np.argsort(-cosine, kind="stable")[:5]]
    assert [r[1] for r in top.rows] == best, "the cosine's five best keys, in order"
    assert [r[1] for r in top.rows] == [r[2] for r in top.rows], "unit vectors: the dot product ranks the same"
    g = peakiness_vs_dim().curve("gaussian", scaled=False)
    assert f"largest weight {g.max_weight[0]:.2f} at d = " in text_of(lesson, "scaling_text")
    assert f"{len(store)} keys (video titles)" in text_of(lesson, "scores_corpus")


def test_scoring_in_every_language(store, fit, timed):
    from retrieval_attention.charts.scoring import SCORING_TEXT
    from retrieval_attention.i18n import translated
    from retrieval_attention.views import ScoringSettings, scoring_lesson

    def build(lang):
        return scoring_lesson(
            store, fit, ScoringSettings(query="funny cat videos", lang=lang), cost=timed[0], reveal=timed[1]
        )

    english = {t.key: t.text for t in texts(build("en"))}
    for lang in ("zh", "es"):
        lesson = build(lang)
        assert lesson.title != build("en").title
        for t in texts(lesson):
            if t.key in english and re.search("[A-Za-z]{4,}", markup_plain(english[t.key])):
                assert t.text != english[t.key], (lang, t.key)
        for chart in lesson.charts():
            spec = json.dumps(dict(chart.spec), ensure_ascii=False)
            assert "The same query" not in spec and "How peaked" not in spec and "seconds per call" not in spec, (
                chart.key
            )
        strips = json.dumps(dict(lesson.charts()[0].spec), ensure_ascii=False)
        assert translated(SCORING_TEXT, lang)["strips_title"] in strips
        (row,) = [b for b in lesson.blocks() if b.key == "measure_metrics"]
        assert all(len(m.label) <= 24 for m in row.items), row  # none cut in a row of four on a projector
    zh = build("zh")
    assert "scores_zh" in keys(zh), "Chinese readers are told to type the query in English"
    es = build("es")
    assert es.decimal == "," and "," in next(m.value for b in es.blocks() if b.kind == "metrics" for m in b.items)


def test_scoring_refused_query_and_user_text(store, fit):
    from retrieval_attention.views import ScoringSettings, scoring_lesson

    empty = scoring_lesson(store, fit, ScoringSettings(query="   "))
    assert "scores_problem" in keys(empty) and "scores_strip" not in [c.key for c in empty.charts()]
    assert [c.key for c in empty.charts()] == ["peak_chart"], "no measurement made: only the peakiness chart"
    hostile = "<b>cats</b> **now**"
    html = export_html(scoring_lesson(store, fit, ScoringSettings(query=hostile)))
    assert "<b>cats" not in html and "&lt;b&gt;cats" in html


# ---- Riley in three parts (article 004) -----------------------------------------------------------


def test_riley_numbers_are_the_librarys(ins):
    from retrieval_attention.articles import RILEY_ES, riley_parts
    from retrieval_attention.i18n import fmt_number, fmt_percent
    from retrieval_attention.views import RileySettings, riley_lesson
    from retrieval_attention.views.articles import fmt_small

    lesson = riley_lesson(ins, RileySettings(RILEY_ES, 2, 4, ratio=0.5), ins.name)
    assert [s.key for s in lesson.sections] == ["sentence", "part1", "part2", "part3"]
    assert [c.key for c in lesson.charts()] == [
        "ar_mix", "ar_kk", "ar_kk_sum", "ar_kk_softmax", "ar_pair_update", "ar_key_update", "ar_key_value",
        "ar_qk", "ar_qk_softmax", "ar_query_update", "ar_query_value",
    ]  # fmt: skip
    r = riley_parts(ins, RILEY_ES, 2, 4)
    a, b = r.index("riley"), r.index("perro")
    p, u = r.pair(a, b), r.update(a, b)
    assert (
        dict(lesson.facts)["Word a (it attends)"] == "riley"
        and dict(lesson.facts)["Word b (it is attended to)"] == "perro"
    )
    metrics = {m.label: m.value for blk in lesson.blocks() if blk.kind == "metrics" for m in blk.items}
    assert metrics["“riley” → “perro”: q_a·k_b"] == fmt_number(p.qk_ab, "en", 2)
    assert (
        metrics["“perro” → “riley”: q_b·k_a"] == fmt_number(p.qk_ba, "en", 2) != metrics["“riley” → “perro”: q_a·k_b"]
    )
    assert f": {p.kk:.3f}; " in text_of(lesson, "part2_same") and f": {float(r.kk[b, a]):.3f}. " in text_of(
        lesson, "part2_same"
    ), "k·k the same both ways"
    assert f"{fmt_small(p.kk_weight_ab)} and {fmt_small(p.kk_weight_ba)}" in text_of(lesson, "weights_pair")
    assert f"take {fmt_percent(0.5)} of another one" in text_of(lesson, "part1_wrong"), "r = 0.5"
    mix = next(c for c in lesson.charts() if c.key == "ar_mix")
    data = [row for rows in mix.spec["datasets"].values() for row in rows]
    drawn = sorted(float(row[k]) for row in data for k in row if isinstance(row[k], float))
    for x in r.mix(a, b, 0.5):
        assert any(abs(float(x) - y) < 1e-5 for y in drawn), x
    pair, whole, query = (
        table_of(lesson, k) for k in ("ar_pair_update_table", "ar_key_value_table", "ar_query_value_table")
    )
    for table, row, want in ((pair, 2, u.pair_value), (whole, 1, u.key_value), (query, 1, u.query_value),
                             (query, 2, u.softmax_value)):  # fmt: skip
        assert list(table.rows[row][1:]) == [fmt_number(float(x), "en", 2) for x in want[:8]], table.key
    cos = r.cos_kk[np.triu_indices(len(r.labels), k=1)]
    assert f"from {cos.min():.2f} to {cos.max():.2f} in this head; 1 of 105 pairs" in text_of(lesson, "part2_range")
    assert f"sum to {float(r.qk_row_sums[a]):.2f}" in text_of(lesson, "new_sums")


def test_riley_pair_words_and_refusals(ins):
    from retrieval_attention.articles import RILEY_EN, riley_parts
    from retrieval_attention.views import RileySettings, riley_lesson
    from retrieval_attention.views.riley import default_pair

    r = riley_parts(ins, RILEY_EN, 4, 7, words=False)
    assert default_pair(r.labels) == (r.index("riley"), r.index("dog"))
    tokens = riley_lesson(ins, RileySettings(RILEY_EN, 4, 7, words=False, a=1, b=0))
    assert dict(tokens.facts)["Word a (it attends)"] == r.labels[1] and not {"sentence_words_split", "sentence_words_none"} & set(keys(tokens))
    words = riley_lesson(ins, RileySettings(RILEY_EN, 4, 7))
    assert "hyper + ##active" in markup_plain(text_of(words, "sentence_words_split"))
    for bad, key in ((RileySettings("我爱吃苹果"), "sentence_problem"), (RileySettings(RILEY_EN, 9), "sentence_problem"),
                     (RileySettings("riley"), "sentence_few"), (RileySettings(RILEY_EN, a=99), "sentence_problem")):  # fmt: skip
        lesson = riley_lesson(ins, bad)
        assert [s.key for s in lesson.sections] == ["sentence"] and key in keys(lesson) and not lesson.charts(), bad
    assert (
        text_of(riley_lesson(None, RileySettings(sentence="")), "sentence_empty")
        == "Type a sentence, or click the article's."
    )


def test_riley_in_every_language(ins):
    from retrieval_attention.articles import RILEY_ES
    from retrieval_attention.views import RileySettings, riley_lesson

    def build(lang):
        return riley_lesson(ins, RileySettings(RILEY_ES, 2, 4, lang=lang), ins.name)

    assert_every_text_translated(build)
    zh, es = build("zh"), build("es")
    assert zh.title == "Riley：分三部分" and es.title == "Riley en tres partes"
    assert "第 2 层" in json.dumps(next(c.spec for c in zh.charts() if c.key == "ar_mix"), ensure_ascii=False)
    assert "capa 2" in json.dumps(next(c.spec for c in es.charts() if c.key == "ar_mix"), ensure_ascii=False)
    assert es.decimal == "," and dict(es.facts)["r: cuánto de su propio valor conserva a"] == "0,75"
    assert (
        table_of(es, "ar_pair_update_table").columns[0] == "vector"
        and "," in table_of(es, "ar_pair_update_table").rows[0][1]
    )
    assert [s.heading for s in es.sections[1:]] == [
        "Parte 1 · solo valores",
        "Parte 2 · solo claves",
        "Parte 3 · consultas y claves",
    ]


def test_riley_user_text_stays_text(ins):
    from retrieval_attention.views import RileySettings, riley_lesson
    from retrieval_attention.views.riley import parts

    hostile = "the **dog** <b>chased</b> [the](x) cat"
    a = parts(ins, hostile, 0, 0, True).labels.index("<")
    lesson = riley_lesson(ins, RileySettings(hostile, 0, 0, a=a, b=0))
    shown = text_of(lesson, "part1_text")
    assert "“<”" in markup_plain(shown) and "“&lt;”" in markup_html(shown), "a word stays text"
    html = export_html(lesson)
    assert "<b>chased" not in html and "&lt;b&gt;chased" in html
    assert len(html_charts(html)) == len(lesson.charts()) == 11


# ---- a refused query, said once -------------------------------------------------------------------


def test_a_refused_query_is_said_one_way_in_every_language():
    from retrieval_attention.errors import InvalidParameterError, QueryError
    from retrieval_attention.i18n import load_translations
    from retrieval_attention.views.problems import query_problem

    reason = "<b>no</b> **words**"
    en = query_problem(QueryError(reason))
    assert en.startswith("This query cannot be used: ") and markup_plain(en).endswith(reason)
    assert "<b>" not in markup_html(en) and "&lt;b&gt;" in markup_html(en), "the reason stays text"
    for lang in ("zh", "es"):
        said = query_problem(QueryError(reason), lang)
        assert said == load_translations(lang).gettext("This query cannot be used: {detail}").format(
            detail=en.split(": ", 1)[1]
        ) and not said.startswith("This query"), lang
    assert markup_plain(query_problem(InvalidParameterError("k must be >= 1"), "es")) == "k must be >= 1"
