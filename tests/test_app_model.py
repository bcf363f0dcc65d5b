"""The model page ("Self, cross and causal attention") draws its builder's document and saves it, under AppTest.

The real app and the real all-MiniLM-L6-v2: after widget changes the page's texts, charts (by key,
in order) and headings are the document's that :func:`retrieval_attention.views.model.transformer_lesson`
builds for those widget values, and "Save this view (HTML)" writes exactly that document.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from streamlit.elements.vega_charts import _stabilize_vega_json_spec

from retrieval_attention.export.blocks import Columns, LessonChart
from retrieval_attention.export.document import Lesson
from retrieval_attention.inspector import load_inspector
from retrieval_attention.views import model as vm
from tests.test_app_views import assert_file_is, assert_page_draws, open_page, saved

PAGE = "ui/pages/transformer.py"


def document(at, lang: str = "en", **kw):
    """The builder's document for the page's current widget values."""
    sentence = at.text_input(key="tr_sentence").value.strip()
    layer, head = at.slider(key="tr_layer").value, at.slider(key="tr_head").value
    toggles = {k: at.toggle(key=f"tr_{k}").value for k in ("causal", "cross", "grid", "concat")}
    settings = vm.ModelSettings(
        sentence, layer, head, toggles["causal"],
        cross=at.text_input(key="tr_second").value.strip() if toggles["cross"] else None,
        grid=toggles["grid"], concat=toggles["concat"], relevance=at.toggle(key="tr_relevance_on").value,
        lang=lang, **kw,
    )  # fmt: skip
    return vm.transformer_lesson(load_inspector(), settings)


def _stable(block):
    if isinstance(block, LessonChart):
        return replace(block, spec=json.loads(_stabilize_vega_json_spec(json.dumps(dict(block.spec)))))
    if isinstance(block, Columns):
        return replace(block, items=tuple(tuple(map(_stable, column)) for column in block.items))
    return block


def as_drawn(lesson: Lesson) -> Lesson:
    """The document with its charts' view and selection names as Streamlit sends them (``view_1``...).

    Altair names a view with a selection by a hash of its data; Streamlit renames those names to a
    counter so that an element keeps its identity across reruns. Nothing else changes.
    """
    sections = tuple(replace(s, blocks=tuple(map(_stable, s.blocks))) for s in lesson.sections)
    return replace(lesson, sections=sections)


def headings(at) -> list[str]:
    return [h.value for h in at.header]


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_the_page_draws_its_document_and_saves_it(lang, clicks):
    at = open_page(PAGE, lang)
    lesson = document(at, lang)
    assert at.title[0].value == lesson.title
    assert_page_draws(at, as_drawn(lesson))
    assert headings(at) == [s.heading for s in lesson.sections if s.heading]
    assert [c.key for c in lesson.charts()] == [
        "tr_heatmap",
        "tr_relevance_kk",
        "tr_relevance_qk",
        "tr_asymmetry_heads",
    ]
    assert_file_is(saved(clicks, "model"), lesson)


def test_after_widget_changes_the_page_and_its_file_are_the_new_document(clicks):
    at = open_page(PAGE)
    at.slider(key="tr_layer").set_value(2)
    at.slider(key="tr_head").set_value(5)
    for key in ("tr_causal", "tr_cross", "tr_grid", "tr_concat"):
        at.toggle(key=key).set_value(True)
    at.run()
    assert not at.exception, at.exception
    lesson = document(at)
    assert [s.key for s in lesson.sections] == ["attention", "cross", "heads", "concat", "relevance"]
    assert "Causal attention · layer 2, head 5" in [s.value for s in at.subheader]
    assert_page_draws(at, as_drawn(lesson))
    assert headings(at) == [s.heading for s in lesson.sections if s.heading]
    assert_file_is(saved(clicks, "model"), lesson)
    # the concat section's token and sentence B are widgets too: the file follows them
    at.selectbox(key="tr_concat_token").set_value(3)
    at.text_input(key="tr_second").set_value("a cat sat on the mat")
    at.run()
    assert not at.exception, at.exception
    lesson = document(at, token=3)
    assert dict(lesson.facts)["Sentence B (gives the keys and values)"] == "a cat sat on the mat"
    assert_page_draws(at, as_drawn(lesson))
    assert_file_is(saved(clicks, "model"), lesson)


def test_a_view_switched_off_leaves_the_page_and_the_file(clicks):
    at = open_page(PAGE)
    at.toggle(key="tr_grid").set_value(True).run()
    assert "tr_heads_grid" in [c.key for c in document(at).charts()]
    at.toggle(key="tr_grid").set_value(False).run()
    lesson = document(at)
    assert "tr_heads_grid" not in [c.key for c in lesson.charts()]
    assert_page_draws(at, as_drawn(lesson))
    assert_file_is(saved(clicks, "model"), lesson)


def test_the_asymmetric_pair_sentence_is_said_once_with_the_pages_numbers(clicks):
    at = open_page(PAGE)
    shown = [m.value for m in at.markdown if "Most asymmetric pair" in m.value]
    assert len(shown) == 1, "the page states its most asymmetric pair once"
    html = saved(clicks, "model")
    said = re.findall(r"<strong>Most asymmetric pair \(outlined\):</strong>(.*?)</p>", html, re.S)
    assert len(said) == 1
    numbers = re.findall(r"-?\d+\.\d+", shown[0])
    assert numbers and re.findall(r"-?\d+\.\d+", said[0]) == numbers
