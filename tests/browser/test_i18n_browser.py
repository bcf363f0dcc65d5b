"""The main page and the model page in a real browser with ``?lang=zh``: Chinese headings, Chinese chart
titles and axis titles (read from the charts' SVG ARIA labels), no exception, and screenshots to look at."""

from __future__ import annotations

import pytest

from tests.browser.test_browser import start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1600, "height": 1100}
#: Every chart's text Vega writes into its SVG's ARIA labels ("Title text '…'", "X-axis titled '…'").
CHART_TEXT_JS = """() => [...document.querySelectorAll('.vega-embed [aria-label]')]
    .map(e => e.getAttribute('aria-label')).join('\\n')"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts):
    tmp = tmp_path_factory.mktemp("i18n_browser")
    server = start_server(tmp, artifacts, {"RETRIEVAL_ATTENTION_CACHE": str(tmp / "cache")})
    yield server
    stop_server(server)


def open_zh(browser, server, path: str, title: str, charts: int, ready: str):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server['url']}/{path}?lang=zh")
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    page.get_by_text(ready).first.wait_for(timeout=240_000)
    page.wait_for_function(
        "(n) => document.querySelectorAll('.vega-embed svg, .vega-embed canvas').length >= n",
        arg=charts,
        timeout=120_000,
    )
    page.wait_for_timeout(2000)  # let the last charts finish drawing
    assert page.locator('[data-testid="stException"]').count() == 0, "the page raised"
    return page


def test_main_page_in_chinese(server, browser, artifacts):
    page = open_zh(browser, server, "", "注意力就是软检索", charts=4, ready="有效键数")
    for heading in ("1 · 精确查找", "2 · top-5 搜索", "3 · 软注意力", "连续谱：一个旋钮，从查找到平均"):
        assert page.get_by_text(heading).first.is_visible(), heading
    assert page.get_by_text("语言").first.is_visible() and page.get_by_text("控制").first.is_visible()
    text = page.evaluate(CHART_TEXT_JS)
    squashed = "".join(text.replace(",", "").split())  # a title drawn in lines: its lines joined
    for label in (
        "输出：类别构成",
        "每个键的权重（已排序）",
        "键的排名（1 = 权重最大）",
        "连续谱：从字典查找到平均池化",
    ):
        assert "".join(label.replace(",", "").split()) in squashed, f"{label!r} not in the charts' labels"
    assert "Weight of every key" not in text and "share of the output" not in text
    page.screenshot(path=str(artifacts / "browser_main_zh.png"), full_page=False)
    page.close()


def test_model_page_in_chinese(server, browser, artifacts):
    page = open_zh(
        browser, server, "transformer", "真实 Transformer 的内部", charts=3, ready="自注意力 · 第 0 层，头 0"
    )
    assert page.get_by_text("为什么 q·k 必须不对称：K·Kᵀ 对比 Q·Kᵀ").first.is_visible()
    text = page.evaluate(CHART_TEXT_JS)
    for label in (
        "键：谁在回答（列）",
        "查询：谁在提问（行）",
        "每个头中 Q·Kᵀ 的不对称度",
    ):
        assert label in text, f"{label!r} not in the charts' labels"
    page.screenshot(path=str(artifacts / "browser_transformer_zh.png"), full_page=False)
    page.get_by_text("为什么 q·k 必须不对称").first.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    page.screenshot(path=str(artifacts / "browser_transformer_zh_relevance.png"), full_page=False)
    page.close()
