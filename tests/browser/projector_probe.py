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
#: A chart (drawn by Vega, Plotly, Matplotlib or Graphviz): the pictures whose drawing can run past its column.
CHARTS = (
    '[data-testid="stVegaLiteChart"], [data-testid="stArrowVegaLiteChart"], [data-testid="stPlotlyChart"], '
    '[data-testid="stPyplot"], [data-testid="stGraphVizChart"]'
)

#: The measurement itself, in the page: the first picture's top edge (document coordinates, the page
#: scrolled to the top) and every heading, metric label, navigation title and toggle/checkbox label
#: whose text is cut (its box, or a descendant's, narrower than its text; or text drawn with "…"); and every
#: chart, or text drawn in one, that runs past its column's right edge or the screen's.
MEASURE_JS = """([pictures, charts]) => {
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
    // every chart drawn (its SVG or canvas, and each text Vega drew: title, subtitle, axis, legend and mark
    // labels) whose right edge is past its column's (or the page's) content box, the screen's right edge
    // (the main area's, without its scroll bar), or, for a text, its own SVG's (which clips it)
    const screenRight = Math.min(innerWidth, main.getBoundingClientRect().left + main.clientWidth);
    const contentRight = (e) => {
        const r = e.getBoundingClientRect(), s = getComputedStyle(e);
        return r.right - parseFloat(s.paddingRight) - parseFloat(s.borderRightWidth);
    };
    const role = (t) => {
        const g = t.closest('g[class*="role-"]');
        const name = g ? [...g.classList].find((c) => c.startsWith('role-')).slice(5) : 'text';
        return {'title-text': 'title', 'title-subtitle': 'subtitle', 'axis-label': 'axis label',
                'axis-title': 'axis title', 'legend-label': 'legend label', 'legend-title': 'legend title',
                mark: 'mark label'}[name] || name;
    };
    // Vega places a text by its own estimate of its width, the browser draws the glyphs: a pixel or two
    // apart (an axis's last label, centred on its end); more than that is a chart laid out too wide
    const SLACK = 2;
    const chartOverflow = [];
    for (const c of document.querySelectorAll(charts)) {
        if (!visible(c)) continue;
        const holder = c.closest('[data-testid="stColumn"]') || c.closest('[data-testid="stMainBlockContainer"]') || main;
        const edges = [[holder.matches('[data-testid="stColumn"]') ? 'column' : 'page', contentRight(holder)],
                       ['screen', screenRight]];
        const name = (c.querySelector('g.role-title-text text') || {}).textContent || c.getAttribute('data-testid');
        const drawn = c.querySelector('svg.marks, canvas.marks') || c.querySelector('svg, canvas') || c;
        const box = drawn.getBoundingClientRect();
        const parts = [{part: 'chart', text: '', right: box.right, edges}];
        if (drawn instanceof SVGElement) {
            for (const t of drawn.querySelectorAll('text')) {
                const r = t.getBoundingClientRect();
                if (r.width > 0 && t.textContent.trim()) {
                    parts.push({part: role(t), text: t.textContent, right: r.right, edges: [...edges, ['chart', box.right]]});
                }
            }
        }
        // below: a drawing taller than the element Streamlit made for it runs over what follows (an axis
        // drawn over the next metric); the drawing's lowest text or its own box, against the element's bottom
        const element = (c.closest('[data-testid="stElementContainer"]') || c).getBoundingClientRect();
        const lowest = Math.max(box.bottom, ...[...(drawn instanceof SVGElement ? drawn.querySelectorAll('text') : [])]
            .map((t) => t.getBoundingClientRect()).filter((r) => r.height > 0).map((r) => r.bottom));
        if (lowest > element.bottom + SLACK) {
            chartOverflow.push({chart: name.slice(0, 80), part: 'chart', text: '', edge: 'element bottom',
                                px: Math.round(lowest - element.bottom), past_screen: 0});
        }
        for (const p of parts) {
            const [edge, at] = p.edges.reduce((a, b) => (b[1] < a[1] ? b : a));
            if (p.right > at + SLACK) {
                chartOverflow.push({chart: name.slice(0, 80), part: p.part, text: p.text.slice(0, 80),
                                    edge, px: Math.round(p.right - at),
                                    past_screen: Math.max(0, Math.round(p.right - screenRight))});
            }
        }
    }
    return {picture, cut, tables, chartTextsCut: [...new Set(svgTitles)].slice(0, 20), chartOverflow,
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
         "chart_texts_cut": [...], "chart_overflow": [...], "tables": [...], "exception": bool}. Each of
        ``chart_overflow`` is a part of a chart past an edge: {"chart" (its title, else its kind), "part"
        ("chart": its SVG or canvas box; "title", "subtitle", "axis label", "mark label", ...), "text",
        "edge" ("column" or "page": the content box it sits in; "screen": the viewport's right edge, scroll
        bar excluded; "chart": a text past its own SVG, which clips it; the nearest of them), "px" (how far past
        it, rounded; over 2 px only), "past_screen" (px past the screen's edge, 0 if inside)}. Each of ``tables`` (every table drawn
        with ``st.table``, top to bottom) is {"top", "width", "column", "cells"}: its text column (the one
        holding the most characters) and, per row, that cell's text, width (px) and the share of its width
        inside the table's visible box ("shown", 0 to 1: below 1, part of it is behind a horizontal scroll).
    """
    page.goto(f"{base_url}/{path}?lang={lang}{query}")
    wait_ready(page)
    found = page.evaluate(MEASURE_JS, [PICTURES, CHARTS])
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
        "chart_overflow": found["chartOverflow"],
        "tables": found["tables"],
        "exception": page.locator('[data-testid="stException"]').count() > 0,
    }


def markdown(results: list[dict]) -> str:
    """The measurements as a markdown table (one row per page and language)."""
    lines = [
        "| page | lang | first picture top (px) | on screen (px) | fits | cut labels | charts past an edge |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        top = r["picture"]["top"] if r["picture"] else "no chart or table"
        fits = "n/a" if r["picture"] is None else "yes" if r["fits"] else "NO"
        cut = "; ".join(f"{c['kind']}: {c['text']}" for c in r["cut"]) or "-"
        over = "; ".join(f"{o['chart']} {o['part']} +{o['px']} px ({o['edge']})" for o in r["chart_overflow"]) or "-"
        lines.append(f"| {r['page']} | {r['lang']} | {top} | {r['visible_px']} | {fits} | {cut} | {over} |")
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
