"""The article pages (issue 16) in a real browser: screenshots of the walk-through and of Riley's three
parts, in English, Chinese and Spanish, saved under tests/artifacts/ to be looked at.

The checks are what a screenshot cannot show by itself: the page finished without an exception,
its charts drew, and the Chinese text is in a font that has the characters.
"""

from __future__ import annotations

import pytest

from tests.browser.test_browser import start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

VIEWPORT = {"width": 1600, "height": 1100}


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts):
    tmp = tmp_path_factory.mktemp("articles_browser")
    server = start_server(tmp, artifacts, {"RETRIEVAL_ATTENTION_CACHE": str(tmp / "cache")})
    yield server
    stop_server(server)


def open_page(browser, server, path: str, lang: str, title: str, charts: int):
    """Open ``path`` in ``lang`` and wait for its title and at least ``charts`` drawn charts."""
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server['url']}/{path}?lang={lang}")
    page.get_by_role("heading", name=title).first.wait_for(timeout=60_000)
    page.wait_for_function(
        "(n) => document.querySelectorAll('.vega-embed canvas, .vega-embed svg').length >= n",
        arg=charts,
        timeout=120_000,
    )
    page.wait_for_timeout(1500)  # let the last charts finish drawing
    assert page.locator('[data-testid="stException"]').count() == 0, "the page raised"
    return page


def screenshot(page, path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the window to its height first."""
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": VIEWPORT["width"], "height": int(min(max(height, VIEWPORT["height"]), 16_000))})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(VIEWPORT)


def cjk_fonts(page, text: str) -> list[str]:
    """The fonts Chromium used for the element holding ``text`` (via the DevTools protocol)."""
    handle = page.get_by_text(text).first
    handle.wait_for(timeout=30_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    doc = cdp.send("DOM.getDocument", {"depth": -1})
    node = cdp.send(
        "DOM.querySelector",
        {"nodeId": doc["root"]["nodeId"], "selector": '[data-testid="stMainBlockContainer"] h1'},
    )
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    return [f["familyName"] for f in fonts]


@pytest.mark.parametrize(
    ("lang", "title"),
    [("en", "One token, step by step"), ("zh", "一个 token，一步一步"), ("es", "Un token, paso a paso")],
)
def test_walkthrough_screenshot(server, browser, artifacts, lang, title):
    page = open_page(browser, server, "article_walkthrough", lang, title, charts=5)
    if lang == "zh":
        fonts = cjk_fonts(page, title)
        assert any("CJK" in f or "Noto" in f for f in fonts), f"Chinese drawn without a CJK font: {fonts}"
    screenshot(page, artifacts / f"articles_walkthrough_{lang}.png")


@pytest.mark.parametrize(
    ("lang", "title", "tabs"),
    [
        ("en", "Riley in three parts", ["Part 1 · values only", "Part 2 · keys only", "Part 3 · queries and keys"]),
        (
            "es",
            "Riley en tres partes",
            ["Parte 1 · solo valores", "Parte 2 · solo claves", "Parte 3 · consultas y claves"],
        ),
    ],
)
def test_riley_parts_screenshots(server, browser, artifacts, lang, title, tabs):
    page = open_page(browser, server, "article_riley", lang, title, charts=1)
    for k, tab in enumerate(tabs, start=1):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(2000)
        screenshot(page, artifacts / f"articles_riley_part{k}_{lang}.png")
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize(
    ("lang", "title"), [("en", "Bahdanau, and 我爱吃苹果 aligned"), ("zh", "Bahdanau 注意力，以及“我爱吃苹果”的对齐")]
)
def test_alignment_screenshot(server, browser, artifacts, lang, title):
    page = open_page(browser, server, "article_alignment", lang, title, charts=1)
    screenshot(page, artifacts / f"articles_alignment_{lang}.png")


def test_projections_screenshot(server, browser, artifacts):
    page = open_page(browser, server, "article_projections", "en", "Why three vectors per word", charts=5)
    screenshot(page, artifacts / "articles_projections_en.png")
