"""An exported lesson opens offline in the real Chromium: every chart drawn, nothing fetched, user text literal.

The file is opened through ``file://`` with every other request aborted (and recorded), as on a
classroom machine without a network; a title, a query and corpus titles holding
``<img src=x onerror=alert(1)>`` and ``</script>`` must show as text and create no element.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import retrieval_attention as ra
from retrieval_attention.export.blocks import Formula, LessonSection

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api", reason="BROWSER TEST SKIPPED: playwright is not installed")

XSS = "<img src=x onerror=alert(1)>"
SCRIPT_END = "</script><script>alert(2)</script>"

#: Records what must not happen: an alert, a CSP violation (the policy must block nothing the file needs).
WATCH_JS = """
window.__alerts = [];
window.alert = (m) => window.__alerts.push(String(m));
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));
"""
#: Every chart container with its state, its SVG count and how many marks its SVG holds.
CHARTS_JS = """() => [...document.querySelectorAll(".chart-area")].map(el => ({
    rendered: el.dataset.rendered || "",
    svgs: el.querySelectorAll("svg").length,
    canvases: el.querySelectorAll("canvas").length,
    marks: el.querySelectorAll("svg .mark-rect path, svg .mark-line path, svg .mark-rule line, svg .mark-text text, "
                                + "svg .mark-symbol path, svg .mark-area path").length,
    text: el.querySelector("svg") ? el.querySelector("svg").textContent : "",
}))"""

#: Every MathML formula: the drawn part's size, the fraction bars and table cells it lays out, and
#: whether its LaTeX annotation stays hidden.
MATHS_JS = """() => [...document.querySelectorAll("math")].map(m => {
    const drawn = m.querySelector("semantics > :first-child").getBoundingClientRect();
    const note = m.querySelector("annotation");
    return {width: drawn.width, height: drawn.height, alt: m.getAttribute("alttext") || "",
            fracs: m.querySelectorAll("mfrac").length, cells: m.querySelectorAll("mtd").length,
            annotation_shown: !!note && note.getClientRects().length > 0, text: m.textContent};
})"""

#: The main page's charts, as the page draws them: the output's category mix under top-k and under soft
#: attention, the weight of every key, the continuum and the ÷√d comparison.
RETRIEVAL_CHARTS = 5


def open_offline(browser, path: Path) -> dict:
    """Open ``path`` by file:// with every other request aborted; wait for the charts; return what happened."""
    url = path.resolve().as_uri()
    requests: list[str] = []
    console: list[str] = []
    errors: list[str] = []

    def route(r):
        requests.append(r.request.url)
        return r.continue_() if r.request.url == url else r.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        context.route("**/*", route)
        context.add_init_script(WATCH_JS)
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url) if r.url != url else None)
        page.goto(url)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.chart-area')].every(e => e.dataset.rendered)", timeout=60_000
        )
        return {
            "url": url,
            "charts": page.evaluate(CHARTS_JS),
            "maths": page.evaluate(MATHS_JS),
            "n_charts": page.locator(".chart-area").count(),
            "body": page.inner_text("body"),
            "h1": page.inner_text("h1"),
            "imgs": page.locator("img").count(),
            "alerts": page.evaluate("window.__alerts"),
            "csp": page.evaluate("window.__csp"),
            "requests": requests,
            "console": console,
            "errors": errors,
        }
    finally:
        context.close()


def assert_offline_and_drawn(seen: dict, n_charts: int) -> None:
    assert seen["n_charts"] == n_charts
    for chart in seen["charts"]:
        assert chart["rendered"] == "true", seen["console"]
        assert chart["svgs"] + chart["canvases"] >= 1 and chart["marks"] > 0, chart
    assert seen["console"] == [] and seen["errors"] == []
    assert seen["csp"] == [], "the Content-Security-Policy blocked something the file needs"
    assert seen["alerts"] == []
    assert set(seen["requests"]) <= {seen["url"]}, f"requests left the file: {seen['requests']}"


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory, cache_dir) -> ra.KeyValueStore:
    """The bundled videos plus two whose titles try to break out of the HTML and out of a <script> block."""
    base = ra.load_corpus()
    rows = ["title,category"] + [f'"{v.title.replace(chr(34), chr(34) * 2)}",{v.category}' for v in base.videos[:40]]
    rows += [f"{XSS} cats,pets", f"{SCRIPT_END} funny cat,pets"]
    path = tmp_path_factory.mktemp("hostile") / f"{XSS}.csv".replace("/", "_")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return ra.KeyValueStore.from_corpus(ra.load_corpus(path), None, cache_dir=cache_dir)


def assert_formulas_drawn(seen: dict, n: int) -> None:
    """``n`` MathML formulas, each drawn with a size (Chromium lays MathML out itself, offline), source hidden."""
    assert len(seen["maths"]) == n
    for m in seen["maths"]:
        assert m["width"] > 20 and m["height"] > 10, m
        assert not m["annotation_shown"] and m["alt"], m
        assert "\\frac" not in m["text"].split(m["alt"])[0], "the drawn part is not the LaTeX source"


def test_a_hostile_lesson_renders_offline_with_its_text_literal(browser, hostile_store, tmp_path):
    lesson = ra.retrieval_lesson(hostile_store, f"funny cat {XSS}", k=3)
    hostile = LessonSection(  # user text inside a formula: a query typed into \text{}
        "f", blocks=(Formula(rf"\text{{{XSS}}} = \text{{{SCRIPT_END}}}", key="f1"), Formula(rf"\frac{{{XSS}", key="f2"))
    )
    lesson = dataclasses.replace(lesson, sections=(*lesson.sections, hostile))
    path = ra.save_html(lesson, tmp_path / "lesson.html")
    seen = open_offline(browser, path)
    assert len(lesson.charts()) == RETRIEVAL_CHARTS  # the document's charts, each drawn in the file
    n = sum(isinstance(b, Formula) for b in lesson.blocks())
    assert n == 2 + 2, "the arithmetic's formula and table (no durations in this corpus), and the two hostile ones"
    assert_formulas_drawn(seen, n=n - 1)  # every formula but the one that does not convert
    assert XSS in seen["maths"][-1]["text"].replace("\u00a0", " ")
    assert f"\\frac{{{XSS}" in seen["body"], "the one that does not convert shows its source as text"
    assert_offline_and_drawn(seen, n_charts=len(lesson.charts()))  # the main page's five since it has one author
    assert seen["imgs"] == 0, "user text created an element"
    assert seen["h1"] == lesson.title and f"funny cat {XSS}" in seen["body"]  # the query, among the facts
    assert f"{XSS}.csv" in seen["body"]  # the corpus file's name, in the facts
    assert SCRIPT_END in seen["body"]  # a title in the tables: the "</script>" in the chart data ended nothing
    assert any(SCRIPT_END in chart["text"] for chart in seen["charts"]), "the continuum's legend names the title"


def test_a_chinese_lesson_renders(browser, store, tmp_path):
    lesson = ra.retrieval_lesson(store, "funny cat videos", lang="zh")
    path = ra.save_html(lesson, tmp_path / "课.html")
    seen = open_offline(browser, path)
    assert len(lesson.charts()) == RETRIEVAL_CHARTS  # the document's charts, each drawn in the file
    assert_formulas_drawn(seen, n=3)
    formula, table, duration = seen["maths"]
    assert formula["fracs"] >= 1 and formula["height"] > 40, "a fraction is taller than a line"
    assert table["cells"] == 5 * 5 and table["height"] > 5 * 20, "the arithmetic is a 5 × 5 table"
    assert "时长（分钟）" in duration["text"]
    assert_offline_and_drawn(seen, n_charts=len(lesson.charts()))
    assert seen["h1"] == "注意力就是软检索" and "funny cat videos" in seen["body"]  # the page's title; the query a fact
    assert "1 · 精确查找" in seen["body"]  # the page's heading of the hard lookup
    texts = " ".join(chart["text"] for chart in seen["charts"])
    assert "权重" in texts and "温度 T" in texts  # axis titles drawn in Chinese


@pytest.mark.parametrize("kind", ["recommender", "model"])
def test_the_other_lessons_render_offline(kind, browser, store, tmp_path):
    if kind == "recommender":
        lesson = ra.recommender_lesson(store, ["v270", "v010", "v028"], "v252", compare_to="v010", half_life=2.0)
    else:
        lesson = ra.model_lesson("Evan's dog Riley is so hyperactive, she never stops moving", layer=2, head=5, relevance=False)
    seen = open_offline(browser, ra.save_html(lesson, tmp_path / f"{kind}.html"))
    assert_offline_and_drawn(seen, n_charts=2 if kind == "recommender" else 1)  # the bars, and the cross-attention
