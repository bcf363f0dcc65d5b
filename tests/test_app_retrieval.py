"""The main page draws views.retrieval's document and "Save this view" writes it (AppTest, the real app and model).

Every text, metric, table and chart of the document is on the page, in the page's order; after a
slider change and after a fragment-only rerun (the log-scale toggle) the saved file is the document
for the page's widget values, charts and metrics included; user text appears only escaped.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from retrieval_attention.config import DEFAULT_MODEL, MULTILINGUAL_MODEL
from retrieval_attention.export.blocks import LessonChart, Metrics
from retrieval_attention.export.document import Lesson
from retrieval_attention.views import RetrievalSettings, retrieval_document
from tests.test_app_export import fragment_rerun
from tests.test_app_views import assert_file_is, assert_page_draws, html_charts, open_page, saved, without_data

PAGE = "ui/pages/retrieval.py"
XSS = "<img src=x onerror=alert(1)>"


def expected(at: AppTest, lang: str = "en", **changed) -> Lesson:
    """The document for the page's current widget values, from the store the page read (same process)."""
    from ui.components.store import load_store, shared_corpus_path

    model = DEFAULT_MODEL if lang == "en" else MULTILINGUAL_MODEL
    store = load_store(model, shared_corpus_path())
    values = {
        "query": at.session_state["query"],  # the widgets' values (after a fragment rerun the tree has only its own)
        "k": at.session_state["k"],
        "temperature": float(at.session_state["temperature"]),
        "lang": lang,
        **changed,
    }
    return retrieval_document(store, RetrievalSettings(**values))


def metric_values(lesson: Lesson) -> list[str]:
    return [m.value for b in lesson.blocks() if isinstance(b, Metrics) for m in b.items]


@pytest.fixture(scope="module")
def main_page() -> AppTest:
    return open_page(PAGE)


def test_the_page_draws_its_document_and_saves_it_after_a_slider_change(main_page, clicks):
    at = main_page
    lesson = expected(at)
    assert at.title[0].value == lesson.title
    assert_page_draws(at, lesson)
    assert [m.value for m in at.metric] == metric_values(lesson), "every metric, in the page's order"
    assert [s.value for s in at.subheader] == ["1 · Hard lookup", "2 · Top-5 search", "3 · Soft attention"]
    at.slider(key="k").set_value(8)
    at.select_slider(key="temperature").set_value(0.2).run()
    assert not at.exception, at.exception
    lesson = expected(at)
    assert dict(lesson.facts)["k"] == "8" and dict(lesson.facts)["Temperature T"] == "0.2"
    assert_page_draws(at, lesson)
    assert [m.value for m in at.metric] == metric_values(lesson)
    assert len(at.table[0].value) == 8
    html = saved(clicks, "retrieval")
    assert_file_is(html, lesson)
    assert len(html_charts(html)) == len(at.get("vega_lite_chart")) == 5


def test_a_fragment_only_rerun_of_the_log_toggle_reaches_the_file(main_page, clicks):
    at = main_page
    at.run()  # a full run draws the button (and registers its callable with this test's clicks)
    at.toggle(key="log_weights").set_value(False)
    fragment_rerun(at, "weights_chart")
    assert not at.header, "a fragment-only rerun (the page's headers were not redrawn)"
    (drawn,) = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    lesson = expected(at, log_weights=False)
    (weights,) = [c for c in lesson.charts() if c.key == "weights_bar"]
    assert without_data(drawn) == without_data(json.loads(json.dumps(dict(weights.spec))))
    html = saved(clicks, "retrieval")  # the button drawn by the full run, clicked after the fragment's
    assert_file_is(html, lesson)
    in_file = html_charts(html)[[c.key for c in lesson.charts()].index("weights_bar")]
    assert '"log"' not in json.dumps(without_data(in_file)), "the weights chart is on a linear axis now"
    at.toggle(key="log_weights").set_value(True).run()  # a full run: the tree has every widget again
    assert_file_is(saved(clicks, "retrieval"), expected(at))


def test_a_chinese_session_draws_and_saves_chinese(clicks):
    at = open_page(PAGE, "zh")
    lesson = expected(at, "zh")
    assert lesson.title == at.title[0].value == "注意力就是软检索"
    assert_page_draws(at, lesson)
    assert [h.value for h in at.main.header] == [s.heading for s in lesson.sections[1:3]]
    html = saved(clicks, "retrieval")
    assert_file_is(html, lesson)
    assert '<html lang="zh">' in html and "<h1>注意力就是软检索</h1>" in html
    assert sum(isinstance(b, LessonChart) for b in lesson.blocks()) == len(at.get("vega_lite_chart"))


def test_a_hostile_query_and_pasted_title_appear_only_escaped(main_page, clicks):
    at = main_page
    at.text_area(key="own_paste").set_value(f"{XSS}\nFunny cats compilation\nHow to bake bread").run()
    at.button(key="own_use_paste").click().run()
    clicks.clear()  # only the button of the run below
    at.text_input(key="query").set_value(XSS).run()
    assert not at.exception, at.exception
    assert at.success and at.success[0].value.startswith("Hit"), "the title is a key of the pasted corpus"
    html = saved(clicks, "retrieval")
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<dt>Query</dt><dd>&lt;img src=x onerror=alert(1)&gt;</dd>" in html, "the query, literally, as a fact"
    assert "<dt>Corpus</dt><dd>pasted titles</dd>" in html
    at.button(key="own_reset").click().run()
    at.text_input(key="query").set_value("funny cat videos").run()
