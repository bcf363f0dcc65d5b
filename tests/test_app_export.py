""" "Save this view (HTML)" on the main and recommender pages, under AppTest with the real model.

(The model page draws its builder's document: tests/test_app_model.py.)

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
    "ui/pages/retrieval.py": "retrieval",
    "ui/pages/recommender.py": "recommender",
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
    if page != "ui/pages/retrieval.py":
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


@pytest.fixture(scope="module")
def main_page() -> AppTest:
    return open_page("ui/pages/retrieval.py")


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


def test_the_main_pages_numbers_are_the_pages_numbers(main_page):
    at = main_page
    snap, lesson = lesson_of(at, "ui/pages/retrieval.py")
    (topk,) = [t for t in tables(lesson) if "q·k" in t.columns and "weight" in t.columns]
    page = at.table[0].value
    assert topk.columns == tuple(page.columns)
    assert [tuple(map(str, r)) for r in topk.rows] == [tuple(map(str, r)) for r in page.itertuples(index=False)]
    assert metrics(lesson) == page_metrics(at), "every metric on the page, with its value, and nothing else"
    f = facts(lesson)
    assert (f["Query"], f["k"], f["Temperature T"]) == ("funny cat videos", "5", "0.05")
    assert f["Corpus"] == "bundled videos" and snap.meta.file_name.endswith(".html")


def test_a_slider_change_and_a_fragment_only_rerun_reach_the_export(main_page, clicks):
    at = main_page
    at.slider(key="k").set_value(8)
    at.select_slider(key="temperature").set_value(0.2).run()
    assert not at.exception, at.exception
    snap, lesson = lesson_of(at, "ui/pages/retrieval.py")
    f = facts(lesson)
    assert (f["k"], f["Temperature T"]) == ("8", "0.2")
    assert len(at.table[0].value) == 8 and any(len(t.rows) == 8 and "q·k" in t.columns for t in tables(lesson))
    assert metrics(lesson) == page_metrics(at)
    assert_same_charts(at, snap, lesson)

    # the log-scale toggle lives in a fragment: only the fragment reruns, the rest of the page does not
    charts_before = [r.key for r in snap.charts()]
    at.toggle(key="log_weights").set_value(False)
    fragment_rerun(at, "weights_chart")
    assert not at.header, "a fragment-only rerun (the page's headers were not redrawn)"
    (drawn,) = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    snap, lesson = lesson_of(at, "ui/pages/retrieval.py")
    assert [r.key for r in snap.charts()] == charts_before, "every other chart is kept"
    weights = next(r for r in snap.charts() if r.key == "weights_bar")
    assert weights.kwargs["log"] is False
    spec = [c.spec for s in lesson.sections for c in s.charts][charts_before.index("weights_bar")]
    assert spec["height"] == weights.height, "as tall as the page's element"
    sized = ("width", "height")
    assert without_data({k: v for k, v in spec.items() if k not in sized}) == without_data(
        {k: v for k, v in drawn.items() if k not in sized}
    )
    html = click(clicks, snap.meta.file_name)  # the button drawn by the last full run
    in_file = html_charts(html)[charts_before.index("weights_bar")]
    assert in_file == json.loads(json.dumps(spec)), "the file carries the chart as the fragment redrew it"
    assert "log" not in json.dumps(without_data(in_file)), "the weights chart is on a linear scale now"

    at.toggle(key="log_weights").set_value(True).run()  # a full run: the tree has every widget again
    at.slider(key="k").set_value(5)
    at.select_slider(key="temperature").set_value(0.05).run()


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


def test_a_fragment_that_stops_drawing_a_target_drops_it_from_the_export(clicks):
    at = open_page("ui/pages/recommender.py")
    snap, lesson = lesson_of(at, "ui/pages/recommender.py")
    (compare,) = [s for s in lesson.sections if s.heading == "Same history, different targets, different weights"]
    assert [p[0] for p in compare.paragraphs] == ["A", "B"] and {r[0] for r in compare.tables[0].rows} == {"A", "B"}
    at.toggle(key="rec_compare").set_value(False)
    fragment_rerun(at, "compare_section")  # the compare toggle reruns only its section
    assert len(at.get("vega_lite_chart")) == 1, "only the fragment's chart was redrawn"
    snap, lesson = lesson_of(at, "ui/pages/recommender.py")
    (compare,) = [s for s in lesson.sections if s.heading == "Same history, different targets, different weights"]
    assert [p[0] for p in compare.paragraphs] == ["A"] and {r[0] for r in compare.tables[0].rows} == {"A"}
    assert [r.key for r in snap.charts()] == ["rec_bars", "rec_heatmap"], "the heatmap outside the fragment stays"
    bars = next(r for r in snap.charts() if r.key == "rec_bars")
    assert len(bars.args[0]) == 1, "one target's weights"
    assert [s.heading for s in lesson.sections][0] == compare.heading, "the section keeps its place"


def test_a_hostile_query_and_pasted_title_appear_only_escaped(main_page, clicks):
    at = main_page
    at.text_area(key="own_paste").set_value(f"{XSS}\nFunny cats compilation\nHow to bake bread").run()
    at.button(key="own_use_paste").click().run()
    at.text_input(key="query").set_value(XSS).run()
    assert not at.exception, at.exception
    assert at.success and at.success[0].value.startswith("Hit"), "the title is a key of the pasted corpus"
    snap, lesson = lesson_of(at, "ui/pages/retrieval.py")
    assert facts(lesson)["Query"] == XSS, "the lesson holds the text literally"
    assert any(XSS in p for s in lesson.sections for p in s.paragraphs)
    html = click(clicks, snap.meta.file_name)
    i = html.find(XSS)
    assert i < 0, html[i - 400 : i + 100]
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    at.button(key="own_reset").click().run()
    at.text_input(key="query").set_value("funny cat videos").run()


def test_a_chinese_session_exports_chinese(clicks):
    at = open_page("ui/pages/retrieval.py", "zh")
    assert [b.proto.label for b in at.get("download_button")].count("保存此视图（HTML）") == 1
    snap, lesson = lesson_of(at, "ui/pages/retrieval.py")
    assert lesson.lang == "zh" and lesson.title == "注意力就是软检索"
    headings = [s.heading for s in lesson.sections]
    assert {h.value for h in at.main.header} <= set(headings), "the page's own (Chinese) headings"
    assert "模型" in facts(lesson) and "日期" in facts(lesson)
    html = click(clicks, snap.meta.file_name)
    assert '<html lang="zh">' in html and "<h1>注意力就是软检索</h1>" in html
    assert_same_charts(at, snap, lesson)


def test_the_recommenders_leave_last_out_table_is_in_the_lesson():
    at = open_page("ui/pages/recommender.py")
    shown = at.table[-1].value  # the page's last table: hit rate and MRR per method
    _, lesson = lesson_of(at, "ui/pages/recommender.py")
    (section,) = [s for s in lesson.sections if s.heading.startswith("Does attention help?")]
    scores, ranks = section.tables
    assert scores.columns == tuple(str(c) for c in shown.columns)
    assert [tuple(str(v) for v in r) for r in scores.rows] == [
        tuple(str(v) for v in r) for r in shown.itertuples(index=False)
    ]
    per_persona = at.dataframe[-1].value  # the per-persona ranks, in the section's expander
    assert len(ranks.rows) == len(per_persona) and ranks.columns == tuple(per_persona.columns)
    assert any(p.startswith("Settings: softmax, T = 0.1") for p in section.paragraphs)
    assert any(p.startswith("What this measures, honestly.") for p in section.paragraphs)


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
