"""The page's two fixed parts: the script that draws every chart, and the stylesheet (screen and print).

Split from :mod:`~retrieval_attention.export.document`, which bundles the script with Vega
(``vl_convert``) and writes both into every lesson.
"""

from __future__ import annotations

import functools

__all__ = ["DRAW_CHARTS_JS", "stylesheet"]

#: The fixed script bundled with Vega: every ``<script type="application/json" data-lesson-chart>``
#: block is drawn into the element after it, with the lesson's number signs; a drawn chart's container
#: gets ``data-rendered="true"``, a failed one ``data-rendered="error"`` and a console error.
DRAW_CHARTS_JS = """
function drawLessonCharts() {
  const signs = JSON.parse(document.getElementById("lesson-number-locale").textContent);
  const formatLocale = {decimal: signs.decimal, thousands: signs.thousands, grouping: [3], currency: ["", ""]};
  for (const block of document.querySelectorAll('script[type="application/json"][data-lesson-chart]')) {
    const target = block.nextElementSibling;
    vegaEmbed(target, JSON.parse(block.textContent), {actions: false, renderer: "svg", ast: true, formatLocale})
      .then(() => { target.dataset.rendered = "true"; })
      .catch((err) => { target.dataset.rendered = "error"; console.error("chart not drawn:", err); });
  }
}
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", drawLessonCharts);
} else {
  drawLessonCharts();
}
"""


@functools.cache
def stylesheet() -> str:
    """The stylesheet: the charts' font stack and palette (charts/theme), a print layout for handouts."""
    from retrieval_attention.charts.theme import BLUE, FONT, GREY  # altair: loaded when a lesson is written

    return f"""
:root {{ color-scheme: light; }}
body {{ font-family: {FONT}; font-size: 18px; line-height: 1.5; color: #1a1a1a; background: #fff;
  max-width: 1100px; margin: 2rem auto; padding: 0 1.5rem; }}
h1 {{ font-size: 2rem; line-height: 1.2; margin: 0 0 1rem; }}
h2 {{ font-size: 1.45rem; margin: 2.2rem 0 0.6rem; border-bottom: 3px solid {BLUE}; padding-bottom: 0.2rem; }}
p {{ white-space: pre-line; overflow-wrap: anywhere; }}
dl.facts {{ display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1.2rem; margin: 0 0 1.5rem; }}
dl.facts dt {{ font-weight: bold; }}
dl.facts dd {{ margin: 0; overflow-wrap: anywhere; }}
table {{ border-collapse: collapse; margin: 0.8rem 0 1.4rem; font-size: 1rem; }}
caption {{ text-align: left; font-weight: bold; padding-bottom: 0.3rem; }}
th, td {{ border-bottom: 1px solid #d0d0d0; padding: 0.25rem 0.7rem; text-align: left; vertical-align: top; }}
th {{ border-bottom: 2px solid {BLUE}; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
figure.chart {{ margin: 1rem 0 1.8rem; }}
figure.chart figcaption {{ font-weight: bold; margin-bottom: 0.4rem; }}
.chart-area {{ width: 100%; overflow-x: auto; }}
.chart-area svg {{ max-width: 100%; height: auto; }}
footer {{ margin-top: 3rem; color: {GREY}; font-size: 0.9rem; }}
p.caption {{ color: {GREY}; font-size: 0.9rem; }}
div.note {{ border-left: 5px solid {BLUE}; background: #f2f6fb; padding: 0.1rem 1rem; margin: 0.8rem 0; }}
div.note-warning, div.note-error {{ border-left-color: #c0392b; background: #fdf3f2; }}
div.note-success {{ border-left-color: #2e8b57; background: #f1f8f4; }}
pre.formula {{ font-size: 1rem; overflow-x: auto; background: #f7f7f7; padding: 0.5rem 0.8rem; }}
div.formula {{ overflow-x: auto; margin: 1rem 0; }}
math {{ font-family: "Latin Modern Math", "STIX Two Math", "Cambria Math", "DejaVu Math TeX Gyre", math; font-size: 1.15em; }}
h3 {{ font-size: 1.15rem; margin: 1.4rem 0 0.4rem; }}
div.columns {{ display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-start; }}
div.columns > div.column {{ flex: 1 1 16rem; min-width: 0; }}
div.columns.bordered > div.column {{ border: 1px solid #d0d0d0; border-radius: 0.5rem; padding: 0 1rem; }}
dl.metrics {{ display: flex; flex-wrap: wrap; gap: 0.5rem 2.5rem; margin: 0.8rem 0 1.2rem; }}
dl.metrics dt {{ font-size: 0.9rem; color: {GREY}; }}
dl.metrics dd {{ margin: 0; font-size: 1.6rem; font-variant-numeric: tabular-nums; }}
dl.metrics dd.help {{ font-size: 0.8rem; color: {GREY}; max-width: 16rem; }}
@media print {{
  @page {{ margin: 14mm; }}
  body {{ font-size: 11pt; max-width: none; margin: 0; padding: 0; }}
  h2 {{ break-after: avoid; }}
  figure.chart, table {{ break-inside: avoid; }}
  .chart-area {{ overflow: visible; }}
}}
"""
