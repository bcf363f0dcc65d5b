"""The three lesson pages (scoring, smoothing, top-k) through Streamlit's AppTest, with the real default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = {
    "ui/pages/lesson_scoring.py": "Scoring functions",
    "ui/pages/lesson_smoothing.py": "Attention as smoothing",
    "ui/pages/lesson_topk.py": "Top-k retrieval",
}


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_titles(at: AppTest) -> list[str]:
    titles = []
    for chart in at.get("vega_lite_chart"):
        title = json.loads(chart.proto.spec).get("title", "")
        titles.append(title.get("text", "") if isinstance(title, dict) else str(title))
    return titles


@pytest.mark.parametrize("page", list(PAGES))
def test_every_lesson_page_renders_with_default_controls(page):
    at = open_page(page)
    assert at.title[0].value.startswith(PAGES[page])
    charts = at.get("vega_lite_chart")
    assert charts, "every lesson shows at least one chart"
    assert all(title for title in chart_titles(at)), "every chart has a title"
    assert len(at.get("download_button")) >= len(charts) // 2, "chart data can be downloaded as CSV"
    assert at.radio, "each lesson asks a predict-then-reveal question"


def test_scoring_page_measures_a_ratio_and_reveals_after_a_guess():
    at = open_page("ui/pages/lesson_scoring.py")
    m = metrics(at)
    assert int(m["pairs m·n"].replace(",", "")) % 10 == 0  # 10 queries x n keys by default
    assert float(m["ratio additive / dot"].rstrip("×").replace(",", "")) > 1
    at.radio(key="cost_guess").set_value("Dot product, 100× faster or more").run()
    assert not at.exception
    assert any(b.label.startswith("Measure 1,000 queries") for b in at.button), "the big timing waits for a click"


def test_kernel_width_slider_changes_the_smoothing_error_and_weights():
    at = open_page("ui/pages/lesson_smoothing.py")
    before = metrics(at)
    assert "Gaussian smoothing, σ = 3" in chart_titles(at)
    at.select_slider(key="kernel_width").set_value(16.0).run()
    assert not at.exception
    after = metrics(at)
    assert after["smoothed: error"] != before["smoothed: error"]
    assert float(after["keys step 70 reads"]) > float(before["keys step 70 reads"])
    assert "Gaussian smoothing, σ = 16" in chart_titles(at)
    assert float(after["gap to NW formula"]) < 1e-9
    at.radio(key="wide_guess").set_value(at.radio(key="wide_guess").options[1]).run()
    assert metrics(at)["keys it reads"].endswith("of 200")


def test_topk_page_tv_equals_tau_and_k_equal_n_has_zero_error():
    at = open_page("ui/pages/lesson_topk.py")
    m = metrics(at)
    tau, tv = m["tail mass τ"], m["TV distance ½‖w − w′‖₁"]
    assert tv == tau and 0 < float(tau) < 1
    assert m["error ‖o_full − o_topk‖"] == m["τ · ‖m_drop − m_keep‖"]
    slider = at.slider(key="topk_k")
    slider.set_value(slider.max).run()
    assert not at.exception
    m = metrics(at)
    assert m["tail mass τ"] == m["TV distance ½‖w − w′‖₁"] == "0"
    assert m["error ‖o_full − o_topk‖"] == "0"
    at.radio(key="topk_guess").set_value("More than 99%").run()
    assert "weight kept by the top 10 at T = 0.05" in metrics(at)


def test_topk_page_asks_the_library_once_per_rerun(monkeypatch):
    """The lesson's logits come from the one top-k search's all_scores, not from a second q·K."""
    from test_app import count_store_calls

    at = open_page("ui/pages/lesson_topk.py")
    calls = count_store_calls(monkeypatch)
    at.slider(key="topk_k").set_value(12).run()
    assert not at.exception, at.exception
    print(f"store calls in one rerun of the top-k lesson: {dict(calls)}")
    assert calls["topk_search"] == 1, calls
    assert calls["scores"] == calls["soft_attention"] == calls["retrieve"] == 0, calls
    assert calls["embed_query"] <= 1, calls
