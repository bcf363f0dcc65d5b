"""The page builders of retrieval_attention.views, without Streamlit: keys, the library's numbers, every text.

Each builder returns the document its page draws and saves; here it is built directly, in every
language, and checked against the library functions it reports on.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from retrieval_attention.core.smoothing import gaussian_smoothing_attention, rmse
from retrieval_attention.export.blocks import Columns, Text
from retrieval_attention.export.document import Lesson, export_html
from retrieval_attention.export.markup import markup_html, markup_plain
from retrieval_attention.views import analogy_lesson
from retrieval_attention.views import smoothing as sm

LANGS = ("en", "zh", "es")


def texts(lesson: Lesson) -> list[Text]:
    """Every prose block of the document, the ones inside columns too."""
    return [b for b in lesson.blocks() if isinstance(b, Text)]


def keys(lesson: Lesson) -> list[str]:
    return [b.key for b in lesson.blocks()]


def assert_every_text_translated(build) -> None:
    """Every text block is non-empty in each language, and the zh and es ones are not the English."""
    english = {t.key: t.text for t in texts(build("en"))}
    assert all(english.values()), [k for k, v in english.items() if not v]
    for lang in ("zh", "es"):
        lesson = build(lang)
        assert lesson.lang == lang and lesson.title != build("en").title
        for t in texts(lesson):
            assert markup_plain(t.text).strip(), (lang, t.key)
            if re.search("[A-Za-z]{4,}", markup_plain(english[t.key])):  # a sentence, not a number or a symbol
                assert t.text != english[t.key], (lang, t.key, t.text)


def html_charts(html: str) -> list[dict]:
    """The chart specifications a saved file carries, in order (shared by the app tests)."""
    blocks = re.findall(r'<script type="application/json" data-lesson-chart="\d+">(.*?)</script>', html, re.S)
    return [json.loads(b) for b in blocks]


def test_a_documents_notebook_display_draws_its_charts():
    """``_repr_html_`` is the offline file in an iframe's srcdoc, with every chart's JSON (data inline)."""
    import html as html_lib

    from retrieval_attention.views import SmoothingSettings, smoothing_lesson

    lesson = smoothing_lesson(SmoothingSettings(step=12, sigma=4.0))
    shown = lesson._repr_html_()
    assert shown.startswith("<iframe ") and shown.rstrip().endswith("</iframe>")
    (srcdoc,) = re.findall(r'srcdoc="(.*?)"', shown, re.S)
    inner = html_lib.unescape(srcdoc)
    charts = html_charts(inner)
    assert len(charts) == len(lesson.charts()) == 4
    for chart, spec in zip(lesson.charts(), charts):
        assert spec == json.loads(json.dumps(dict(chart.spec))), chart.key
        assert spec["datasets"], f"{chart.key}: the data travels with the chart"
    assert "drawLessonCharts" in inner and 'http-equiv="Content-Security-Policy"' in inner
    # its plain-text view is one line, not every block and dataset
    assert repr(lesson) == "Lesson('Attention as smoothing', lang='en', sections=['position', 'content'], charts=4)"


# ---- the analogy ----------------------------------------------------------------------------------


def test_analogy_has_its_sections_and_blocks():
    lesson = analogy_lesson("en")
    assert [s.key for s in lesson.sections] == ["roles", "three_ways", "three_vectors"]
    (row,) = lesson.section("roles").blocks
    assert isinstance(row, Columns) and row.border and len(row.items) == 3
    assert [b.key for column in row.items for b in column] == [
        "query_name", "query_text", "keys_name", "keys_text", "values_name", "values_text",
    ]  # fmt: skip
    assert {"three_ways_list", "three_ways_temperature", "three_vectors_text"} <= set(keys(lesson))
    assert not lesson.charts() and not lesson.facts
    assert lesson.section("three_ways").blocks[0].text.count("\n") == 2, "three numbered ways, one per line"


def test_analogy_in_every_language():
    assert_every_text_translated(analogy_lesson)
    assert analogy_lesson("zh").title == "60 秒看懂这个类比"
    assert analogy_lesson("es").title == "La analogía en 60 segundos"


def test_analogy_file_holds_every_text():
    lesson = analogy_lesson("es")
    html = export_html(lesson)
    assert '<div class="columns bordered">' in html and html.count('<div class="column">') == 3
    for t in texts(lesson):
        first = markup_plain(t.text).split("\n")[0][:40]
        assert first in re.sub("<[^>]+>", "", html), t.key
    assert "<script>" not in html, "no chart: no JavaScript"


# ---- why three vectors per word (projections) ------------------------------------------------------


@pytest.fixture(scope="module")
def ins():
    from retrieval_attention.inspector import load_inspector

    return load_inspector()


def test_projections_numbers_are_the_librarys(ins):
    from retrieval_attention.i18n import fmt_number
    from retrieval_attention.inspector import permutation_check, projection_picture
    from retrieval_attention.views import ProjectionSettings, projections_lesson
    from retrieval_attention.views.articles import fmt_small

    settings = ProjectionSettings(layer=2, head=5)
    lesson = projections_lesson(ins, settings)
    assert [s.key for s in lesson.sections] == ["projections", "shuffle"]
    assert [c.key for c in lesson.charts()] == ["ap_pca"] + [f"ap_{k}_{i}" for k in ("nopos", "pos") for i in range(3)]
    assert {
        "projections_follows",
        "projections_notice",
        "projections_cosine",
        "shuffle_words",
        "shuffle_metrics",
    } <= set(keys(lesson))
    p = projection_picture(ins, settings.sentence, 2, 5)
    cosine = next(t for t in texts(lesson) if t.key == "projections_cosine").text
    assert f"average: {fmt_number(float(p.self_cosine.mean()), 'en', 2)} " in cosine
    c = permutation_check(ins, settings.shuffle_sentence, 2, seed=0)
    (metrics,) = [b for b in lesson.blocks() if b.kind == "metrics"]
    assert [m.value for m in metrics.items] == [
        fmt_small(c.max_diff_without, "en", 2),
        fmt_number(c.max_diff_with, "en", 2),
    ]
    assert c.max_diff_without < 1e-5 < 0.1 < c.max_diff_with, "a set operation without positions, not with them"
    shuffled = next(t for t in texts(lesson) if t.key == "shuffle_words").text
    assert shuffled.startswith("**Shuffled:** ") and len(shuffled.split()) - 1 == len(c.words)
    heat = lesson.charts()[2].spec
    cells = [r for d in heat["datasets"].values() for r in d]
    assert cells, "the heatmap carries its cells"
    assert dict(lesson.facts)["Layer"] == "2" and dict(lesson.facts)["Model"] == "all-MiniLM-L6-v2"


def test_projections_in_every_language(ins):
    from retrieval_attention.views import ProjectionSettings, projections_lesson

    assert_every_text_translated(lambda lang: projections_lesson(ins, ProjectionSettings.first(lang)))
    es = projections_lesson(ins, ProjectionSettings.first("es"))
    assert "," in [b for b in es.blocks() if b.kind == "metrics"][0].items[1].value, "a decimal comma"
    assert es.charts()[0].spec["config"]["locale"]["number"]["decimal"] == ","


def test_projections_refused_and_empty_input(ins):
    from retrieval_attention.views import ProjectionSettings, projections_lesson

    lesson = projections_lesson(ins, ProjectionSettings(sentence="我爱吃苹果", shuffle_sentence=""))
    first, second = lesson.sections
    assert first.blocks[-1].style == "warning" and "[UNK]" in markup_plain(first.blocks[-1].text)
    assert second.blocks[-1].key == "shuffle_empty" and not lesson.charts()
    few = projections_lesson(ins, ProjectionSettings(shuffle_sentence="dog"))
    assert few.section("shuffle").blocks[-1].key == "shuffle_few"
    assert "<script>" in export_html(few), "the projection chart is still drawn"


# ---- the glossary ----------------------------------------------------------------------------------


def test_glossary_table_is_every_term_in_three_languages():
    from retrieval_attention.views import glossary_lesson
    from retrieval_attention.views.glossary import GLOSSARY

    lesson = glossary_lesson("zh")
    (table,) = [b for b in lesson.blocks() if b.kind == "table"]
    assert table.static and table.key == "glossary" and len(table.rows) == len(GLOSSARY)
    assert table.columns == ("English", "中文", "繁体中文（文章 000）", "Español", "含义", "出处")
    assert all(all(isinstance(c, str) and c for c in row) for row in table.rows)
    en = glossary_lesson("en")
    assert [r[:4] for r in table.rows] == [r[:4] for r in en.section("glossary").blocks[0].rows], "terms are data"
    assert_every_text_translated(glossary_lesson)
    for lang in ("zh", "es"):  # every meaning and header translated
        rows = glossary_lesson(lang).section("glossary").blocks[0]
        english = en.section("glossary").blocks[0]
        assert all(a[4] != b[4] for a, b in zip(rows.rows, english.rows)), lang
        assert rows.columns[2] != english.columns[2] and rows.columns[4] != english.columns[4]
    html = export_html(en)
    assert len(re.findall("^<tr>", html, re.M)) == len(GLOSSARY) and "因果掩码" in html


# ---- Bahdanau, and 我爱吃苹果 aligned ---------------------------------------------------------------


def test_alignment_numbers_are_the_librarys():
    from retrieval_attention.articles import ALIGN_EN, ALIGN_ZH, align
    from retrieval_attention.i18n import fmt_number
    from retrieval_attention.views import AlignmentSettings, alignment_lesson

    lesson = alignment_lesson(AlignmentSettings(word=3, raw=True))
    assert [s.key for s in lesson.sections] == ["bahdanau", "alignment"]
    assert [c.key for c in lesson.charts()] == ["al_heatmap", "al_raw_heatmap"]
    assert {"bahdanau_formula", "bahdanau_roles", "alignment_what", "alignment_context", "alignment_best"} <= set(
        keys(lesson)
    )
    al = align(ALIGN_EN, ALIGN_ZH)  # computed afresh, not the builder's cached one
    context = next(t for t in texts(lesson) if t.key == "alignment_context").text
    terms = " + ".join(f"{fmt_number(a, 'en', 2)} · h({w})" for a, w in al.context_terms(3))
    assert context == f"**c₄** = {terms}  →  **{al.query_words[3]}**"
    best = next(t for t in texts(lesson) if t.key == "alignment_best").text
    assert "apples → 苹果" in best
    cosines = next(t for t in texts(lesson) if t.key == "alignment_cosines").text
    assert (
        f"from {fmt_number(float(al.scores.min()), 'en', 2)} to {fmt_number(float(al.scores.max()), 'en', 2)}"
        in cosines
    )
    weights = [r["value"] for d in lesson.charts()[0].spec["datasets"].values() for r in d if "value" in r]
    assert weights and abs(sum(weights) - len(al.query_words)) < 1e-3, "rows sum to 1"
    (roles,) = [b for b in lesson.blocks() if b.kind == "table"]
    assert roles.static and [r[2] for r in roles.rows] == ["q", "k_j", "v_j", "q·k_j"]


def test_alignment_in_every_language():
    from retrieval_attention.views import AlignmentSettings, alignment_lesson

    assert_every_text_translated(lambda lang: alignment_lesson(AlignmentSettings(lang=lang)))
    zh = alignment_lesson(AlignmentSettings(lang="zh"))
    assert [s.key for s in zh.sections] == ["alignment", "bahdanau"], "in Chinese the example comes first"
    es = alignment_lesson(AlignmentSettings(lang="es"))
    assert "0,56 · h(我)" in next(t for t in texts(es) if t.key == "alignment_context").text


def test_alignment_refused_and_empty_pairs():
    from retrieval_attention.errors import InvalidParameterError
    from retrieval_attention.views import AlignmentSettings, alignment_lesson
    from retrieval_attention.views.alignment import alignment_section

    empty = alignment_lesson(AlignmentSettings(keys=""))
    assert empty.section("alignment").blocks[-1].key == "alignment_empty" and not empty.charts()
    refused = alignment_lesson(AlignmentSettings(keys="!!! ???"))
    problem = refused.section("alignment").blocks[-1]
    assert problem.style == "warning" and "no words" in markup_plain(problem.text)
    with pytest.raises(InvalidParameterError):
        alignment_section(AlignmentSettings(word=99))


def test_user_text_stays_text_in_the_documents(ins):
    """A sentence with markdown and HTML in it shows as those characters, on the page and in the file."""
    from retrieval_attention.views import AlignmentSettings, ProjectionSettings, alignment_lesson, projections_lesson

    hostile = "the **dog** <b>chased</b> [the](x) cat"
    lesson = projections_lesson(ins, ProjectionSettings(sentence=hostile, shuffle_sentence=hostile))
    shuffled = next(t for t in texts(lesson) if t.key == "shuffle_words").text
    shown = markup_html(shuffled)
    assert "<" in markup_plain(shuffled) and "&lt;" in shown and "<b>" not in shown
    assert shown.count("<strong>") == 1 and shown.startswith("<strong>Shuffled:</strong>"), "only our own bold"
    html = export_html(lesson)
    assert "<b>chased" not in html and "&lt;b&gt;chased" in html, "the sentence is a fact, escaped"
    aligned = export_html(alignment_lesson(AlignmentSettings(queries=hostile)))
    assert "<b>chased" not in aligned and "&lt;b&gt;chased" in aligned


# --- attention as smoothing (the first page built this way) ---
CJK = re.compile(r"[\u4e00-\u9fff]")


def _smoothing_texts(lesson) -> list[str]:
    out = [lesson.title, *(b.text for b in lesson.intro)]
    for s in lesson.sections:
        out.append(s.heading)
        for b in s.content():
            if b.kind == "text":
                out.append(b.text)
            elif b.kind == "metrics":
                out += [m.label for m in b.items]
    return out


def test_smoothing_sections_have_stable_keys_and_the_librarys_numbers():
    settings = sm.SmoothingSettings(step=70, sigma=3.0, window=9, width=0.3)
    lesson = sm.smoothing_lesson(settings, revealed=True)
    assert [s.key for s in lesson.sections] == ["position", "wide", "content"]
    keys = [b.key for s in lesson.sections for b in s.content()]
    assert len(keys) == len(set(keys)) and all(keys), keys
    s = sm.series()
    ys, _W = gaussian_smoothing_attention(s.t, s.y, 3.0)
    metrics = next(b for b in lesson.section("position").blocks if b.kind == "metrics")
    assert metrics.items[1].value == f"{rmse(ys, s.signal):.3f}"  # the smoothed series' error, recomputed here
    assert float(metrics.items[3].value) < 1e-10  # the live check: attention equals the NW formula
    # a new σ is a new document, not a stale cache
    other = sm.position_section(sm.SmoothingSettings(step=70, sigma=16.0))
    assert next(b for b in other.blocks if b.kind == "metrics").items[1].value != metrics.items[1].value


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_smoothing_speaks_the_page_language_in_texts_and_charts(lang):
    lesson = sm.smoothing_lesson(sm.SmoothingSettings(lang=lang), revealed=True)
    english = sm.smoothing_lesson(sm.SmoothingSettings(lang="en"), revealed=True)
    for ours, theirs in zip(_smoothing_texts(lesson), _smoothing_texts(english)):
        assert (ours and ours != theirs) or not re.search("[A-Za-z]{4}", theirs), (ours, theirs)
        if lang == "zh":
            assert CJK.search(ours), ours
    for chart in lesson.charts():
        spec = json.dumps(chart.spec, ensure_ascii=False)
        for word in ("time step t", "grey dots", "The weight row", '"clean signal"'):
            assert word not in spec, f"{word!r} left in English in {chart.key}"
    legend = {"zh": "干净信号", "es": "limpia"}[lang]  # the clean signal's name in the legend
    assert any(legend in json.dumps(c.spec, ensure_ascii=False) for c in lesson.charts())
    if lang == "es":
        assert "0,3" in json.dumps(lesson.facts, ensure_ascii=False)  # σ = 0.3 with a decimal comma


def test_smoothing_refuses_settings_outside_the_series():
    from retrieval_attention.errors import InvalidParameterError

    for bad in (dict(step=200), dict(step=-1), dict(sigma=0.0), dict(window=0), dict(width=float("nan"))):
        with pytest.raises(InvalidParameterError):
            sm.smoothing_lesson(sm.SmoothingSettings(**bad))


def test_the_saved_file_holds_exactly_the_documents_charts_and_a_notebook_shows_them():
    lesson = sm.smoothing_lesson(sm.SmoothingSettings(sigma=6.0), revealed=False)
    page = export_html(lesson)
    assert page.count('data-lesson-chart="') == len(lesson.charts()) == 4
    assert "Reveal" not in page, "the unrevealed answer is not in the file"
    frame = lesson._repr_html_()
    assert frame.startswith("<iframe") and "srcdoc=" in frame
    assert frame.count("data-lesson-chart=&quot;") == 4  # the file, escaped into the frame
    assert "Gaussian smoothing, σ = 6" in page and np.isfinite(len(page))
