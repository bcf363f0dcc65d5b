""" "Save this view (HTML)" on the model page (recorded), under AppTest with the real model.

The main and recommender pages draw their builders' documents instead of recording:
tests/test_app_retrieval.py and tests/test_app_views_recommender.py.

The lesson a page records is compared with what AppTest sees the page draw: the same charts (same
count and keys, the same specification apart from how the data travels), the same table and metric
values, the new values after a slider change and after a fragment-only rerun, user text escaped,
and the session's language. The file itself is built by the button's own callable (what a click
runs), captured from Streamlit's media file manager.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
import streamlit.testing.v1.local_script_runner as local_script_runner
from streamlit.testing.v1 import AppTest

from retrieval_attention.export.blocks import LessonTable
from retrieval_attention.export.document import Lesson
from ui.components import export, lesson_view

APP = str(Path(__file__).resolve().parent.parent / "app.py")
LABEL = "Save this view (HTML)"
XSS = "<img src=x onerror=alert(1)>"
#: page file -> (the recording's name, the file name's start).
PAGES = {
    "ui/pages/transformer.py": "model",
}


def click(clicks: dict[str, Any], name: str) -> str:
    """Run the button's callable on another thread, as Streamlit does on a click; returns the file's text."""
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


def lesson_of(at: AppTest, page: str) -> tuple[lesson_view.ViewSnapshot, Lesson]:
    snap = at.session_state[export.VIEWS_KEY][PAGES[page]].snapshot()
    return snap, lesson_view.build_lesson(snap)


def without_data(spec: Any) -> Any:
    """A specification with its data removed (Arrow datasets on the page, inline JSON in the lesson)."""
    if isinstance(spec, dict):
        return {k: without_data(v) for k, v in spec.items() if k not in ("data", "datasets", "$schema")}
    if isinstance(spec, list):
        return [without_data(v) for v in spec]
    return spec


def assert_same_charts(at: AppTest, snap: lesson_view.ViewSnapshot, lesson: Lesson) -> None:
    """The lesson's charts are the page's: same count, same order, same specification but for the data."""
    page = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    ours = [c.spec for s in lesson.sections for c in s.charts]
    recipes = snap.charts()
    keys = [r.key for r in recipes]
    assert len(ours) == len(page) == len(keys) == len(set(keys)), (len(ours), len(page), keys)
    for recipe, key, mine, theirs in zip(recipes, keys, ours, page):
        mine, theirs = dict(mine), dict(theirs)
        if isinstance(recipe.height, int) and lesson_view.is_single_view(theirs):
            # the page's element is that tall (Streamlit fits the chart to it): so is the lesson's
            assert mine["height"] == recipe.height, key
            theirs.pop("height", None)
        for size in ("width", "height"):  # the lesson sets the size the page left to Streamlit
            if size not in theirs:
                mine.pop(size, None)
        assert without_data(mine) == without_data(theirs), key
        assert mine["datasets"], f"{key}: the lesson's data is inline"


def html_charts(html: str) -> list[dict[str, Any]]:
    """The chart specifications an exported file carries, in order."""
    blocks = re.findall(r'<script type="application/json" data-lesson-chart="\d+">(.*?)</script>', html, re.S)
    return [json.loads(b) for b in blocks]


def tables(lesson: Lesson) -> list[LessonTable]:
    return [t for s in lesson.sections for t in s.tables]


def metrics(lesson: Lesson) -> list[tuple[str, str]]:
    """The lesson's metrics (label, value), in the page's order."""
    return [(str(r[0]), str(r[1])) for t in tables(lesson) if t.columns == ("quantity", "value") for r in t.rows]


def page_metrics(at: AppTest) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def facts(lesson: Lesson) -> dict[str, str]:
    return dict(lesson.facts)


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_offers_the_button_and_records_exactly_its_charts(page, clicks):
    at = open_page(page)
    (button,) = [b for b in at.get("download_button") if b.proto.label == LABEL]
    name = button.proto.file_name if hasattr(button.proto, "file_name") else None
    snap, lesson = lesson_of(at, page)
    assert snap.meta.file_name.startswith(PAGES[page] + "-all-MiniLM-L6-v2-")
    assert name in (None, "", snap.meta.file_name)
    assert_same_charts(at, snap, lesson)
    assert facts(lesson)["Model"] == "all-MiniLM-L6-v2"
    html = click(clicks, snap.meta.file_name)
    assert html.startswith("<!DOCTYPE html>") and html.count("data-lesson-chart=") == len(at.get("vega_lite_chart"))


def fragment_rerun(at: AppTest, name: str) -> None:
    """Rerun only the fragment function ``name``, as the browser does when a widget inside it changes.

    AppTest always reruns the whole script, so this asks its script runner for a fragment-scoped
    rerun (Streamlit's RerunData with the fragment's id), which is what a browser's request carries.
    """

    def wraps(fragment: Any) -> bool:  # Streamlit keeps the page's function in the wrapper's closure
        return any(getattr(c.cell_contents, "__name__", "") == name for c in fragment.__closure__ or ())

    (fragment_id,) = [i for i, f in at._fragment_storage._fragments.items() if wraps(f)]
    real = local_script_runner.RerunData
    local_script_runner.RerunData = functools.partial(
        real, fragment_id=fragment_id, fragment_id_queue=[fragment_id], is_fragment_scoped_rerun=True
    )
    try:
        at.run()
    finally:
        local_script_runner.RerunData = real
    assert not at.exception, at.exception


def test_a_full_rerun_drops_what_the_page_no_longer_draws():
    at = open_page("ui/pages/transformer.py")
    at.toggle(key="tr_grid").set_value(True).run()
    snap, _ = lesson_of(at, "ui/pages/transformer.py")
    assert "tr_heads_grid" in [r.key for r in snap.charts()]
    at.toggle(key="tr_grid").set_value(False).run()
    snap, lesson = lesson_of(at, "ui/pages/transformer.py")
    assert "tr_heads_grid" not in [r.key for r in snap.charts()]
    assert_same_charts(at, snap, lesson)


def test_the_model_pages_asymmetric_pair_sentence_is_in_the_lesson():
    at = open_page("ui/pages/transformer.py")
    shown = [m.value for m in at.markdown if "Most asymmetric pair" in m.value]
    assert len(shown) == 1, "the page states its most asymmetric pair once"
    _, lesson = lesson_of(at, "ui/pages/transformer.py")
    said = [p for s in lesson.sections for p in s.paragraphs if p.startswith("Most asymmetric pair (outlined):")]
    assert len(said) == 1
    # the same numbers as the page, without the page's markdown
    numbers = re.findall(r"-?\d+\.\d+", shown[0])
    assert numbers and re.findall(r"-?\d+\.\d+", said[0]) == numbers
    assert "**" not in said[0]


def _page_specs(at: AppTest) -> list[dict[str, Any]]:
    return [without_data(json.loads(c.proto.spec)) for c in at.get("vega_lite_chart")]


def _file_specs(html: str) -> list[dict[str, Any]]:
    return [without_data(s) for s in html_charts(html)]


def _file_metrics(html: str) -> list[str]:
    rows = "".join(re.findall(r'<dl class="metrics">(.*?)</dl>', html, re.S))
    return re.findall(r"<dt>[^<]*</dt><dd>([^<]*)</dd>", rows)


def _comparable(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if k not in ("width", "height", "autosize")}  # the page sizes these


def test_a_built_page_saves_the_document_it_drew_after_a_slider_and_a_fragment_rerun(clicks):
    """One author: the smoothing page draws views.smoothing's document; the file is that document."""
    at = open_page("ui/pages/lesson_smoothing.py")
    name = next(n for n in clicks if n.startswith("smoothing-"))
    first = click(clicks, name)
    assert [_comparable(s) for s in _file_specs(first)] == [_comparable(s) for s in _page_specs(at)]
    assert [m.value for m in at.metric] == _file_metrics(first)

    at.select_slider(key="kernel_width").set_value(16.0).run()  # a full run
    full, full_metrics = _page_specs(at), [m.value for m in at.metric]
    assert [_comparable(s) for s in _file_specs(click(clicks, name))] == [_comparable(s) for s in full]
    at.select_slider(key="content_width").set_value(1.0)
    fragment_rerun(at, "content_part")  # only section 2 reruns: AppTest's tree then holds only its elements
    saved = click(clicks, name)
    assert "σ = 16" in saved and "σ = 1)" in saved
    fragment = _page_specs(at)
    assert len(fragment) == 2, "section 2 draws two charts"
    assert [_comparable(s) for s in _file_specs(saved)] == [_comparable(s) for s in full[:2] + fragment]
    assert _file_metrics(saved) == full_metrics[:4] + [m.value for m in at.metric]
