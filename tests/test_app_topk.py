"""The top-k lesson page draws its builder's document and saves it, under AppTest.

The real app and the real encoders (all-MiniLM-L6-v2 in English, multilingual-e5-small in Chinese
and Spanish, as the sidebar opens): after a k change and a guess, the page's texts, metrics and
charts (by key, in order) are the document :func:`retrieval_attention.views.topk.topk_lesson` builds
for those widget values, and "Save this view (HTML)" writes exactly that document.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from retrieval_attention.config import DEFAULT_TEMPERATURE
from retrieval_attention.export.blocks import LessonChart
from retrieval_attention.export.document import Lesson
from retrieval_attention.temperature import known_temperature
from retrieval_attention.views import topk as vt
from tests.test_app_views import app_store, assert_file_is, assert_page_draws, open_page, saved
from ui.components.controls import ENCODERS, SCALES

PAGE = "ui/pages/lesson_topk.py"


def as_drawn(lesson: Lesson) -> Lesson:
    """The document with a chart's null legend title as Streamlit sends it (" ", its fix of a Vega-Lite bug, #9339).

    The saved file keeps null (no legend title); nothing else changes.
    """

    def drawn(block):
        color = block.spec.get("encoding", {}).get("color") if isinstance(block, LessonChart) else None
        if not color or "title" not in color or color["title"] is not None:
            return block
        encoding = {**block.spec["encoding"], "color": {**color, "title": " "}}
        return replace(block, spec={**block.spec, "encoding": encoding})

    sections = tuple(replace(s, blocks=tuple(map(drawn, s.blocks))) for s in lesson.sections)
    return replace(lesson, sections=sections)


def document(at, lang: str = "en"):
    """The builder's document for the page's current widget values."""
    model = ENCODERS[at.radio(key="encoder").value]
    own = known_temperature(model)
    settings = vt.TopKSettings(
        at.text_input(key="topk_query").value,
        at.slider(key="topk_k").value,
        at.select_slider(key="temperature").value,
        SCALES[at.radio(key="scale").value],
        DEFAULT_TEMPERATURE if own is None else own.temperature,
        at.radio(key="topk_guess").value,
        lang,
    )
    return vt.topk_lesson(app_store(model), settings)


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_the_page_draws_its_document_and_saves_it_after_a_k_change_and_a_guess(lang, clicks):
    at = open_page(PAGE, lang)
    lesson = document(at, lang)
    assert at.title[0].value == lesson.title
    assert [s.key for s in lesson.sections] == ["weights", "identities", "curve", "related"], "no reveal yet"
    assert_page_draws(at, as_drawn(lesson))
    assert_file_is(saved(clicks, "topk"), lesson)
    at.slider(key="topk_k").set_value(12).run()
    at.radio(key="topk_guess").set_value("About half").run()
    assert not at.exception, at.exception
    lesson = document(at, lang)
    assert [s.key for s in lesson.sections] == ["weights", "reveal", "identities", "curve", "related"]
    assert dict(lesson.facts)[lesson.facts[3][0]] == "12"
    assert_page_draws(at, as_drawn(lesson))
    assert [m.value for m in at.metric] == [m.value for b in lesson.blocks() if b.kind == "metrics" for m in b.items]
    headings = [s.heading for s in lesson.sections if s.heading and s.key != "reveal"]
    assert [h.value for h in at.main.header] == headings
    assert [e.label for e in at.expander] == [lesson.section("reveal").heading], "the reveal opens under its question"
    html = saved(clicks, "topk")
    assert_file_is(html, lesson)
    assert len(at.get("vega_lite_chart")) == len(lesson.charts()) == 2


def test_a_hostile_query_stays_text_on_the_page_and_in_the_file(clicks):
    hostile = "the **dog** <b>chased</b> [the](x) cat"
    at = open_page(PAGE)
    at.text_input(key="topk_query").set_value(hostile).run()
    assert not at.exception, at.exception
    lesson = document(at)
    assert_page_draws(at, as_drawn(lesson))
    html = saved(clicks, "topk")
    assert_file_is(html, lesson)
    assert "<b>chased" not in html and "&lt;b&gt;chased" in html
