"""Pages drawn from their builders (retrieval_attention.views), under AppTest with the real app.

Each page draws the document its builder returns for the page's widget values: every text, metric
value, table and chart key of the document is on the page, and "Save this view (HTML)" writes that
same document (the button's own callable, run as a click runs it), after a widget change too.
"""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from retrieval_attention.export.blocks import LessonChart, LessonTable, Metrics, Text
from retrieval_attention.export.document import Lesson, export_html
from tests.test_views import html_charts

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def click(clicks: dict[str, Any], name: str) -> str:
    """Run the button ``name``'s callable on another thread, as Streamlit does on a click; the file's text."""
    data_callable, mime = clicks[name]
    assert mime == "text/html"
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(data_callable()))
    thread.start()
    thread.join(timeout=120)
    (text,) = out
    return text


def saved(clicks: dict[str, Any], page: str) -> str:
    """The page's saved file: its button's callable run on another thread, as a click runs it."""
    (name,) = [n for n in clicks if n and n.startswith(page + "-")]
    return click(clicks, name)


def open_page(page: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def app_store(model: str = "all-MiniLM-L6-v2"):
    """The very store the app's pages read (its ``st.cache_resource`` entry, shared with AppTest in this process).

    A test that rebuilds a page's document must use the page's own query vectors: a query embedded
    again, possibly under other thread settings, can differ in the last float32 bits, and the
    documents state some float32 differences (top-k vs FAISS) to four significant digits.
    """
    from ui.components.store import load_store, shared_corpus_path

    return load_store(model, shared_corpus_path())


def page_texts(at: AppTest) -> list[str]:
    """Every text element's value on the page (markdown, captions, boxes, headings)."""
    kinds = ("markdown", "caption", "info", "warning", "success", "error", "title", "header", "subheader")
    return [str(e.value) for kind in kinds for e in at.get(kind)]


def assert_page_draws(at: AppTest, lesson: Lesson) -> None:
    """Every text, metric value, table and chart (by key) of the document is on the page, and no other chart."""
    shown = page_texts(at)
    blocks = lesson.blocks()
    for t in (b for b in blocks if isinstance(b, Text)):
        assert any(t.text in s for s in shown), (t.key, t.text)
    values = [m.value for m in at.metric]
    for m in (m for b in blocks if isinstance(b, Metrics) for m in b.items):
        assert m.value in values, (m.label, m.value, values)
    page = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    ours = [json.loads(json.dumps(dict(b.spec))) for b in blocks if isinstance(b, LessonChart)]
    assert len(page) == len(ours), (len(page), [b.key for b in blocks if isinstance(b, LessonChart)])
    for key, mine, theirs in zip([b.key for b in blocks if isinstance(b, LessonChart)], ours, page):
        assert without_data(mine) == without_data(theirs), key  # in the page's order; data: Arrow there, JSON here
    tables = [b for b in blocks if isinstance(b, LessonTable)]
    drawn = [t.value for t in at.table] + [d.value for d in at.dataframe]
    assert len(drawn) == len(tables)
    for table in tables:
        assert any(list(d.columns) == list(table.columns) and len(d) == len(table.rows) for d in drawn), table.key


def assert_file_is(html: str, lesson: Lesson) -> None:
    """The saved file is the document: its title, exactly its charts (data included) and its tables."""
    assert html == export_html(lesson)
    assert len(html_charts(html)) == len(lesson.charts())
    for chart, spec in zip(lesson.charts(), html_charts(html)):
        assert without_size(spec) == without_size(json.loads(json.dumps(dict(chart.spec)))), chart.key
    assert len(re.findall("^<table>$", html, re.M)) == sum(isinstance(b, LessonTable) for b in lesson.blocks())


def without_data(spec: Any) -> Any:
    """A specification without its data (Arrow datasets on the page, inline JSON in the document) and size."""
    if isinstance(spec, dict):
        drop = ("data", "datasets", "$schema", "width", "height", "autosize")
        # st.vega_lite_chart sends an empty legend title (None) as " ": the same chart either way
        return {
            k: without_data(v) for k, v in spec.items() if k not in drop and not (k == "title" and v in (None, " "))
        }
    if isinstance(spec, list):
        return [without_data(v) for v in spec]
    return spec


def without_size(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k != "height"}


# ---- the analogy ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_the_analogy_page_draws_its_document_and_saves_it(lang, clicks):
    from retrieval_attention.views import analogy_lesson

    at = open_page("ui/pages/analogy.py", lang)
    lesson = analogy_lesson(lang)
    assert at.title[0].value == lesson.title
    assert_page_draws(at, lesson)
    assert [h.value for h in at.header] == [s.heading for s in lesson.sections if s.heading]
    assert len(at.get("download_button")) == 1
    assert_file_is(saved(clicks, "analogy"), lesson)


# ---- why three vectors per word (projections) ------------------------------------------------------

PROJ = "ui/pages/article_projections.py"


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_projections_page_draws_its_document_and_saves_it_after_a_change(lang, clicks):
    from retrieval_attention.inspector import load_inspector
    from retrieval_attention.views import ProjectionSettings, projections_lesson

    at = open_page(PROJ, lang)
    first = ProjectionSettings.first(lang)
    assert_page_draws(at, projections_lesson(load_inspector(), first))
    at.slider(key="ap_layer").set_value(3)
    at.slider(key="ap_head").set_value(7)
    at.toggle(key="ap_words").set_value(True)
    at.button(key="ap_shuffle").click().run()
    assert not at.exception, at.exception
    changed = ProjectionSettings(first.sentence, 3, 7, first.shuffle_sentence, True, 1, lang)
    lesson = projections_lesson(load_inspector(), changed)
    assert_page_draws(at, lesson)
    assert [m.value for m in at.metric] == [m.value for b in lesson.blocks() if b.kind == "metrics" for m in b.items]
    html = saved(clicks, "projections")
    assert_file_is(html, lesson)
    assert len(html_charts(html)) == len(at.get("vega_lite_chart")) == 7


def test_the_projections_page_with_a_refused_sentence_saves_the_reason(clicks):
    from retrieval_attention.inspector import load_inspector
    from retrieval_attention.views import ProjectionSettings, projections_lesson

    at = open_page(PROJ)
    at.text_input(key="ap_sentence").set_value("我爱吃苹果").run()
    assert any("[UNK]" in w.value for w in at.warning), "the page says why, in words"
    lesson = projections_lesson(load_inspector(), ProjectionSettings(sentence="我爱吃苹果"))
    assert len(at.get("vega_lite_chart")) == len(lesson.charts()) == 6, "the shuffle's charts stay"
    html = saved(clicks, "projections")
    assert_file_is(html, lesson)
    assert "[UNK]" in html


# ---- the glossary ----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_the_glossary_page_draws_its_table_and_saves_it(lang, clicks):
    from retrieval_attention.views import glossary_lesson
    from ui.components.document import table_frame

    at = open_page("ui/pages/glossary.py", lang)
    lesson = glossary_lesson(lang)
    assert at.title[0].value == lesson.title
    assert_page_draws(at, lesson)
    (table,) = [b for b in lesson.blocks() if isinstance(b, LessonTable)]
    assert at.table[0].value.equals(table_frame(table)), "the page's static table is the document's"
    assert_file_is(saved(clicks, "glossary"), lesson)


# ---- Bahdanau, and 我爱吃苹果 aligned ---------------------------------------------------------------

ALIGN = "ui/pages/article_alignment.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_alignment_page_draws_its_document_and_saves_it_after_a_change(lang, clicks):
    from retrieval_attention.articles import ALIGN_EN, ALIGN_ES
    from retrieval_attention.views import AlignmentSettings, alignment_lesson

    at = open_page(ALIGN, lang)
    assert_page_draws(at, alignment_lesson(AlignmentSettings(lang=lang)))
    at.text_input(key="al_keys").set_value(ALIGN_ES).run()
    word = next(s for s in at.selectbox if s.key.startswith("al_word_"))
    word.set_value(2)
    at.toggle(key="al_raw").set_value(True).run()
    assert not at.exception, at.exception
    lesson = alignment_lesson(AlignmentSettings(ALIGN_EN, ALIGN_ES, 2, True, lang))
    assert_page_draws(at, lesson)
    assert [h.value for h in at.header] == [s.heading for s in lesson.sections]
    html = saved(clicks, "alignment")
    assert_file_is(html, lesson)
    assert len(html_charts(html)) == len(at.get("vega_lite_chart")) == 2
    assert "**c₃**" in next(t.text for t in lesson.blocks() if t.key == "alignment_context")


def test_the_alignment_page_with_a_refused_pair_saves_the_reason(clicks):
    from retrieval_attention.articles import ALIGN_EN
    from retrieval_attention.views import AlignmentSettings, alignment_lesson

    at = open_page(ALIGN)
    at.text_input(key="al_keys").set_value("!!! ???").run()
    assert at.warning and any("no words" in c.value for c in at.caption), "the page says why"
    lesson = alignment_lesson(AlignmentSettings(ALIGN_EN, "!!! ???"))
    assert not at.get("vega_lite_chart") and not lesson.charts()
    html = saved(clicks, "alignment")
    assert_file_is(html, lesson)
    assert "no words" in html
