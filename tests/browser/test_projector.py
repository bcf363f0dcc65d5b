"""Every page on a projector (issue 25): 1280×720, the sidebar as the app opens it, en, zh and es.

One Chromium tab per language visits every page once; for each, the first chart or table's
top edge (at least 120 px of it must be on the first screen), every heading, metric label,
navigation title and toggle label whose text is cut (scrollWidth > clientWidth, or an ellipsis), and
every chart (or text drawn in one) that runs past its column's right edge or the screen's.
The numbers go to tests/artifacts/projector.json and .md, with a screenshot per page and language.

What does not hold today is an ``xfail(strict=True)`` whose reason is the measured value, per page
and language: a page that gets fixed makes its test XPASS, which fails the run until the entry below
is removed. Measured on the real server with the real default model (the user's cache, as
``make demo`` runs it: this measures layout, not a cold start).
"""

from __future__ import annotations

import json
import time

import pytest

from tests.browser.projector_probe import LANGS, MIN_VISIBLE_PX, PAGES, VIEWPORT, markdown, measure
from tests.browser.test_browser import start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Pages with no chart and no table (the analogy is three cards and prose).
NO_PICTURE = {"analogy"}

#: (page, lang) -> the first picture's measured top edge (px) where less than 120 px of it is on screen
#: (measured 2026-12-07 on this branch; the layout of these pages is being rewritten: remove an entry
#: when its test XPASSes).
LOW_PICTURE: dict[tuple[str, str], str] = {
}  # fmt: skip
#: (page, lang) -> what is cut there today (label, its text width > its box width, px).
CUT: dict[tuple[str, str], str] = {
}  # fmt: skip
#: (page, lang) -> its charts that run past their column's right edge or the screen's today (each chart's
#: part furthest past its column, px; measured 2026-12-07: remove an entry when its test XPASSes), and every
#: chart drawn past its element's bottom (over what follows). None left: the causal page's Spanish heatmaps
#: (a rotated key label, a colour scale longer than a five-token plot) were the last, 7 px into the gap.
OVERFLOW: dict[tuple[str, str], str] = {
}  # fmt: skip


def _name(path: str) -> str:
    return path or "retrieval"


@pytest.fixture(scope="module")
def server(tmp_path_factory, artifacts):
    server = start_server(tmp_path_factory.mktemp("projector"), artifacts)
    yield server
    stop_server(server)


@pytest.fixture(scope="module")
def measured(server, browser, artifacts) -> dict[tuple[str, str], dict]:
    """Every page in every language, measured once; the report written beside the screenshots."""
    t0 = time.perf_counter()
    results = []
    for lang in LANGS:
        page = browser.new_page(viewport=VIEWPORT)
        for path in PAGES:
            shot = artifacts / f"projector_{_name(path)}_{lang}.png"
            results.append(measure(page, server["url"], path, lang, shot))
        page.close()
    seconds = time.perf_counter() - t0
    report = {"viewport": VIEWPORT, "min_visible_px": MIN_VISIBLE_PX, "seconds": round(seconds, 1), "pages": results}
    (artifacts / "projector.json").write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    (artifacts / "projector.md").write_text(
        f"# Every page at {VIEWPORT['width']}×{VIEWPORT['height']} ({seconds:.0f} s)\n\n" + markdown(results),
        encoding="utf-8",
    )
    return {(r["page"], r["lang"]): r for r in results}


def _cases(expected: dict[tuple[str, str], str]) -> list:
    return [
        pytest.param(
            _name(path),
            lang,
            id=f"{_name(path)}-{lang}",
            marks=[pytest.mark.xfail(strict=True, reason=expected[_name(path), lang])]
            if (_name(path), lang) in expected
            else [],
        )
        for lang in LANGS
        for path in PAGES
    ]


@pytest.mark.parametrize(("page", "lang"), _cases(LOW_PICTURE))
def test_the_first_picture_is_on_the_first_screen(measured, page, lang):
    r = measured[page, lang]
    assert not r["exception"], f"{page} ({lang}) raised"
    if page in NO_PICTURE:
        assert r["picture"] is None, f"{page} now draws a {r['picture']}: measure it (remove it from NO_PICTURE)"
        return
    assert r["picture"] is not None, f"{page} ({lang}) drew no chart or table"
    assert r["visible_px"] >= MIN_VISIBLE_PX, (
        f"{page} ({lang}): the first {r['picture']['kind']} starts at {r['picture']['top']} px, "
        f"{r['visible_px']} px of it on a {VIEWPORT['height']} px screen"
    )


@pytest.mark.parametrize(("page", "lang"), _cases(CUT))
def test_no_heading_metric_navigation_title_or_toggle_is_cut(measured, page, lang):
    cut = measured[page, lang]["cut"]
    assert not cut, "; ".join(f"{c['kind']} {c['text']!r} ({c['scrollWidth']} > {c['clientWidth']} px)" for c in cut)


@pytest.mark.parametrize(("page", "lang"), _cases(OVERFLOW))
def test_no_chart_runs_past_its_column_or_the_screen(measured, page, lang):
    """Every chart's drawing and every text in it (title, subtitle, axis, legend and mark labels) end inside
    its column and the screen: at 1280 wide the KV-cache chart's Spanish subtitle ran 98 px past its column
    and 8 px off the screen, the next-word chart's "100.0%" 41 px past its column (zh)."""
    over = measured[page, lang]["chart_overflow"]
    assert not over, "; ".join(
        f"{o['chart']!r}: {o['part']} {o['text']!r} {o['px']} px past the {o['edge']}"
        + (f" ({o['past_screen']} px off the screen)" if o["past_screen"] else "")
        for o in over[:12]
    )


def test_navigation_titles_fit_in_every_language(measured):
    """The sidebar is the same on every page: its titles are checked on all of them at once."""
    for (page, lang), r in measured.items():
        assert not [c for c in r["cut"] if c["kind"] == "navigation"], (page, lang, r["cut"])


#: The smallest font size of any text Vega drew into the page's charts (SVG).
MIN_CHART_FONT_JS = """() => Math.min(...[...document.querySelectorAll('.vega-embed svg text')]
    .map((t) => parseFloat(t.getAttribute('font-size') || getComputedStyle(t).fontSize)))"""


#: How many pixels of the sidebar's width are on screen (0 when it is collapsed).
SIDEBAR_ON_SCREEN_JS = """() => { const s = document.querySelector('[data-testid="stSidebar"]');
    if (!s) return 0; const r = s.getBoundingClientRect();
    return Math.max(0, Math.round(Math.min(r.right, innerWidth) - Math.max(r.left, 0))); }"""


@pytest.mark.parametrize("lang", LANGS)
def test_presentation_mode_from_a_link(server, browser, artifacts, lang):
    """``?present=1``: the sidebar collapsed, every chart text at least 16 px, the prose one click away."""
    page = browser.new_page(viewport=VIEWPORT)
    found = {}
    for query in ("", "&present=1"):
        r = measure(page, server["url"], "lesson_smoothing", lang, artifacts / f"projector_smoothing{'_present' if query else ''}_{lang}.png", query)
        page.wait_for_function("() => document.querySelectorAll('.vega-embed svg text').length > 0", timeout=60_000)
        sidebar = page.evaluate(SIDEBAR_ON_SCREEN_JS)
        found[query] = (r, sidebar, page.evaluate(MIN_CHART_FONT_JS), page.locator('[data-testid="stExpander"]').count())
    page.close()
    (plain, plain_sidebar, plain_font, plain_folds), (shown, shown_sidebar, shown_font, shown_folds) = found.values()
    assert plain_sidebar > 200 and shown_sidebar == 0, (plain_sidebar, shown_sidebar)
    assert plain_font < 16 <= shown_font, (plain_font, shown_font)
    assert shown_folds > plain_folds, "the explanations are folded into expanders"
    assert shown["picture"]["top"] < plain["picture"]["top"], (shown["picture"], plain["picture"])


#: The narrowest a title cell may be: about 15 characters of a line at the table's type (14 px).
MIN_TITLE_PX = 120


@pytest.mark.parametrize("lang", LANGS)
def test_the_main_pages_top_k_titles_are_whole_and_readable(measured, lang):
    """The top-k column's table: every title inside the table's visible box (none behind a horizontal
    scroll, as happened at 1280 wide: 26-72 % of each title shown) and its cell wide enough to read."""
    tables = measured["retrieval", lang]["tables"]
    assert tables, f"the main page ({lang}) drew no table"
    titles = tables[0]["cells"]
    assert len(titles) == 5, titles  # the sidebar's k as the app opens it
    for cell in titles:
        assert cell["shown"] >= 0.99, f"{lang}: only {cell['shown']:.0%} of {cell['text']!r} is on screen"
        assert cell["width"] >= MIN_TITLE_PX, f"{lang}: {cell['text']!r} in a {cell['width']} px cell"
