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
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from retrieval_attention.export.blocks import LessonChart, LessonTable, Metrics, Text
from retrieval_attention.export.document import Lesson, export_html

APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture
def clicks(monkeypatch) -> dict[str, Any]:
    """The callable each deferred download registers (what Streamlit runs on a click), by file name."""
    seen: dict[str, Any] = {}
    real = MediaFileManager.add_deferred

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        seen[file_name] = (data_callable, mimetype)
        return real(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


def saved(clicks: dict[str, Any], page: str) -> str:
    """The page's saved file: its button's callable run on another thread, as a click runs it."""
    (name,) = [n for n in clicks if n and n.startswith(page + "-")]
    data_callable, mime = clicks[name]
    assert mime == "text/html"
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(data_callable()))
    thread.start()
    thread.join(timeout=120)
    (text,) = out
    return text


def open_page(page: str, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def page_texts(at: AppTest) -> list[str]:
    """Every text element's value on the page (markdown, captions, boxes, headings)."""
    kinds = ("markdown", "caption", "info", "warning", "success", "error", "title", "header", "subheader")
    return [str(e.value) for kind in kinds for e in at.get(kind)]


def html_charts(html: str) -> list[dict[str, Any]]:
    blocks = re.findall(r'<script type="application/json" data-lesson-chart="\d+">(.*?)</script>', html, re.S)
    return [json.loads(b) for b in blocks]


def assert_page_draws(at: AppTest, lesson: Lesson) -> None:
    """Every text, metric value, table and chart (by key) of the document is on the page, and no other chart."""
    shown = page_texts(at)
    blocks = lesson.blocks()
    for t in (b for b in blocks if isinstance(b, Text)):
        assert any(t.text in s for s in shown), (t.key, t.text)
    values = [m.value for m in at.metric]
    for m in (m for b in blocks if isinstance(b, Metrics) for m in b.items):
        assert m.value in values, (m.label, m.value, values)
    charts = [c.proto.id for c in at.get("vega_lite_chart")]
    keys = [b.key for b in blocks if isinstance(b, LessonChart)]
    assert len(charts) == len(keys) and all(any(k in c for c in charts) for k in keys), (keys, charts)
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
    assert html.count("<table>") == sum(isinstance(b, LessonTable) for b in lesson.blocks())


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
