"""What a projector shows of a page at 1280×720: where its first picture starts, and which labels are cut.

Shared by ``tests/browser/test_projector.py`` (which asserts on it) and anyone measuring by hand::

    PYTHONPATH=$PWD python -m tests.browser.projector_probe http://localhost:8501 /tmp/out [&present=1]

Only measurement here (Playwright in, plain dictionaries out); no assertions.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

#: A common projector's resolution, the size the issue asks every page to fit.
VIEWPORT = {"width": 1280, "height": 720}
#: At least this many pixels of the first picture on the first screen.
MIN_VISIBLE_PX = 120
LANGS = ("en", "zh", "es")
#: Every page's URL path (Streamlit names it after the page's file), in the navigation's order.
PAGES = (
    "",
    "analogy",
    "recommender",
    "frame",
    "transformer",
    "lesson_scoring",
    "lesson_smoothing",
    "lesson_topk",
    "decoder_next_word",
    "decoder_kv_cache",
    "decoder_causal",
    "decoder_translation",
    "article_walkthrough",
    "article_riley",
    "article_alignment",
    "article_projections",
    "glossary",
)

#: A picture: a chart (Vega-Lite, or any other chart element) or a table.
PICTURES = (
    '[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"], [data-testid="stPlotlyChart"], '
    '[data-testid="stPyplot"], [data-testid="stGraphVizChart"], [data-testid="stDataFrame"], '
    '[data-testid="stTable"], [data-testid="stImage"]'
)

#: The measurement itself, in the page: the first picture's top edge (document coordinates, the page
#: scrolled to the top) and every heading, metric label, navigation title and toggle/checkbox label
#: whose text is cut (its box, or a descendant's, narrower than its text; or text drawn with "…").
MEASURE_JS = """([pictures]) => {
    const main = document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
    const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const first = [...document.querySelectorAll(pictures)].filter(visible)
        .sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top)[0];
    let picture = null;
    if (first) {
        const r = first.getBoundingClientRect();
        picture = {top: Math.round(r.top), height: Math.round(r.height), kind: first.getAttribute('data-testid')};
    }
    const kinds = {
        heading: '[data-testid="stHeading"] h1, [data-testid="stHeading"] h2, [data-testid="stHeading"] h3, [data-testid="stHeading"] h4',
        metric: '[data-testid="stMetricLabel"]',
        navigation: '[data-testid="stSidebarNavLink"]',
        toggle: '[data-testid="stCheckbox"] label, [data-testid="stToggle"] label',
    };
    const cut = [];
    for (const [kind, selector] of Object.entries(kinds)) {
        for (const e of document.querySelectorAll(selector)) {
            if (!visible(e)) continue;
            const text = e.innerText.trim().split('\\n').pop().trim();
            if (!text) continue;
            // the text's own boxes: not the 1 px visually-hidden input of a toggle, not an icon's svg
            const boxes = [e, ...e.querySelectorAll('*')].filter((b) => {
                const r = b.getBoundingClientRect();
                return r.width > 2 && r.height > 2 && !(b instanceof SVGElement);
            });
            const over = boxes.find((b) => b.scrollWidth > b.clientWidth + 1
                && getComputedStyle(b).overflowX !== 'visible');
            const ellipsis = boxes.find((b) => getComputedStyle(b).textOverflow === 'ellipsis'
                && b.scrollWidth > b.clientWidth + 1);
            if (over || ellipsis || text.endsWith('…') && !text.endsWith('...…')) {
                const b = over || ellipsis || e;
                cut.push({kind, text: text.slice(0, 80), scrollWidth: b.scrollWidth, clientWidth: b.clientWidth});
            }
        }
    }
    // every table's text column (the one with the most characters: the top-k table's titles): how much
    // of each of its cells is inside the table's visible box (not behind a horizontal scroll), and how wide
    const tables = [...document.querySelectorAll('[data-testid="stTable"]')].filter(visible).map((t) => {
        const box = t.getBoundingClientRect();
        const rows = [...t.querySelectorAll('tbody tr')].map((tr) => [...tr.children]);
        const n = Math.max(0, ...rows.map((r) => r.length));
        const chars = [...Array(n).keys()].map((j) => rows.reduce((a, r) => a + (r[j] ? r[j].innerText.length : 0), 0));
        const j = chars.indexOf(Math.max(...chars));
        const cells = rows.filter((r) => r[j]).map((r) => {
            const c = r[j].getBoundingClientRect();
            const shown = Math.max(0, Math.min(c.right, box.right) - Math.max(c.left, box.left));
            return {text: r[j].innerText.slice(0, 80), width: Math.round(c.width),
                    shown: c.width > 0 ? Math.round(100 * shown / c.width) / 100 : 0};
        });
        return {top: Math.round(box.top), width: Math.round(box.width), column: j, cells};
    });
    const svgTitles = [...document.querySelectorAll('.vega-embed svg text')]
        .map((t) => t.textContent).filter((t) => t.endsWith('…'));
    return {picture, cut, tables, chartTextsCut: [...new Set(svgTitles)].slice(0, 20),
            scrollTop: main.scrollTop};
}"""


def wait_ready(page, timeout_s: float = 240) -> None:
    """Until the script has finished its run (Streamlit's status widget gone) and the charts drew."""
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)  # every page has a title
    deadline = time.time() + timeout_s
    quiet = 0
    while time.time() < deadline:
        running = page.evaluate(
            """() => {
                const app = document.querySelector('[data-testid="stApp"]');
                const state = app && app.getAttribute('data-test-script-state');
                return state !== 'notRunning' || !!document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]');
            }"""
        )
        quiet = 0 if running else quiet + 1
        if quiet >= 2:  # two polls in a row not running: the run is over
            break
        page.wait_for_timeout(200)
    page.wait_for_timeout(400)  # the charts draw after the run (the boxes above them are already laid out)


def measure(page, base_url: str, path: str, lang: str, screenshot: Path | None = None, query: str = "") -> dict:
    """Open ``path`` in ``lang`` in ``page`` (1280×720, sidebar as the app opens it) and measure it.

    ``query`` adds URL parameters (``"&present=1"``: presentation mode).

    Returns:
        {"page", "lang", "picture": {"top", "height", "kind"} or None, "visible_px", "fits", "cut": [...],
         "chart_texts_cut": [...], "tables": [...], "exception": bool}. Each of ``tables`` (every table drawn
        with ``st.table``, top to bottom) is {"top", "width", "column", "cells"}: its text column (the one
        holding the most characters) and, per row, that cell's text, width (px) and the share of its width
        inside the table's visible box ("shown", 0 to 1: below 1, part of it is behind a horizontal scroll).
    """
    page.goto(f"{base_url}/{path}?lang={lang}{query}")
    wait_ready(page)
    found = page.evaluate(MEASURE_JS, [PICTURES])
    picture = found["picture"]
    visible = max(0, min(VIEWPORT["height"] - picture["top"], picture["height"])) if picture else 0
    if screenshot is not None:
        page.screenshot(path=str(screenshot), full_page=False)
    return {
        "page": path or "retrieval",
        "lang": lang,
        "picture": picture,
        "visible_px": visible,
        "fits": picture is not None and visible >= MIN_VISIBLE_PX,
        "cut": found["cut"],
        "chart_texts_cut": found["chartTextsCut"],
        "tables": found["tables"],
        "exception": page.locator('[data-testid="stException"]').count() > 0,
    }


def markdown(results: list[dict]) -> str:
    """The measurements as a markdown table (one row per page and language)."""
    lines = [
        "| page | lang | first picture top (px) | on screen (px) | fits | cut labels |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        top = r["picture"]["top"] if r["picture"] else "no chart or table"
        fits = "n/a" if r["picture"] is None else "yes" if r["fits"] else "NO"
        cut = "; ".join(f"{c['kind']}: {c['text']}" for c in r["cut"]) or "-"
        lines.append(f"| {r['page']} | {r['lang']} | {top} | {r['visible_px']} | {fits} | {cut} |")
    return "\n".join(lines) + "\n"


def main(base_url: str, out: Path, query: str = "") -> None:  # pragma: no cover - a tool for measuring by hand
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
        for lang in LANGS:
            page = browser.new_page(viewport=VIEWPORT)
            for path in PAGES:
                r = measure(page, base_url, path, lang, out / f"projector_{path or 'retrieval'}_{lang}.png", query)
                print(json.dumps(r, ensure_ascii=False), flush=True)
                results.append(r)
            page.close()
        browser.close()
    (out / "projector.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    (out / "projector.md").write_text(markdown(results), encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1], Path(sys.argv[2] if len(sys.argv) > 2 else "tests/artifacts/projector"), "".join(sys.argv[3:]))
