"""A page's document as one self-contained HTML file, and in a Jupyter notebook.

A :class:`~retrieval_attention.export.blocks.Lesson` is plain data (title, facts, sections of
prose, formulas, metrics, tables and Vega-Lite charts); :func:`export_html` writes it as one HTML document that opens in any browser with no network and no
server: the Vega, Vega-Lite and Vega-Embed JavaScript comes inlined from ``vl_convert``'s bundled
copy, every chart's spec (its data inline) sits in a ``<script type="application/json">`` block, and
a Content-Security-Policy forbids every request. Formulas are MathML
(:mod:`~retrieval_attention.export.mathml`), which the browser draws itself. Every text is HTML-escaped, so a title such as
``<img src=x onerror=alert(1)>`` shows as those characters.

This is the only module of the project that imports ``vl_convert``.
"""

from __future__ import annotations

import datetime
import functools
import html
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.export.blocks import Block, LessonChart, LessonSection, LessonTable, walk
from retrieval_attention.export.markup import markup_html
from retrieval_attention.export.mathml import formula_html
from retrieval_attention.export.page_assets import DRAW_CHARTS_JS, stylesheet

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "Lesson",
    "chart_spec_sized",
    "export_html",
    "format_cell",
    "notebook_html",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lesson:
    """Everything one page (or one exported file) shows, already translated."""

    title: str
    facts: tuple[tuple[str, str], ...]  # (label, value): Model, Corpus, Date, Query, k, temperature, ...
    sections: tuple[LessonSection, ...]
    lang: str = "en"  # <html lang=...>
    decimal: str = "."  # number signs for tables and for the charts' Vega formatLocale
    thousands: str = ","
    footer: str = ""  # e.g. "Made with retrieval_attention 0.1.0"
    intro: tuple[Block, ...] = ()  # shown under the title, before the facts and the first section

    def section(self, key: str) -> LessonSection:
        """The section with this key (KeyError if there is none)."""
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def charts(self) -> tuple[LessonChart, ...]:
        """Every chart of the document, in order."""
        return tuple(b for s in self.sections for b in walk(s.content()) if isinstance(b, LessonChart))

    def blocks(self) -> tuple[Block, ...]:
        """Every block of the document (the intro's, then each section's; inside columns too), in order."""
        return walk(self.intro) + tuple(b for s in self.sections for b in walk(s.content()))

    def _repr_html_(self) -> str:
        """The document in a Jupyter notebook: the offline HTML file, charts drawn, in a frame of its own."""
        return notebook_html(self)

    def __repr__(self) -> str:
        """One line (what a console, or a notebook's plain-text view, shows): the title, sections and charts.

        The dataclass's own repr would print every block and every chart's data (about 180,000
        characters for the main page).
        """
        keys = [s.key or s.heading for s in self.sections]
        return f"Lesson({self.title!r}, lang={self.lang!r}, sections={keys!r}, charts={len(self.charts())})"


#: No request of any kind, and no eval: only the inline scripts and styles and data: images. Vega
#: compiles its expressions with ``new Function`` unless told otherwise; the snippet passes
#: ``ast: true``, so Vega-Embed evaluates them with its bundled interpreter instead.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; connect-src 'none'; form-action 'none'; base-uri 'none'"
)

#: How long one slugged part of a file name may be, in characters.


def _vl_version() -> str | None:
    """The Vega-Lite version Altair writes (``"6.4"``), if vl_convert bundles it; else None (its latest)."""
    import altair as alt
    import vl_convert as vlc

    major_minor = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return major_minor if major_minor in vlc.get_vegalite_versions() else None


@functools.cache
def _javascript() -> str:
    """Vega + Vega-Lite + Vega-Embed and the drawing snippet, as one script (built once per process)."""
    import vl_convert as vlc

    version = _vl_version()
    if version is None:
        logger.warning("vl_convert does not bundle Altair's Vega-Lite version; using its latest")
        bundle = vlc.javascript_bundle(DRAW_CHARTS_JS)
    else:
        bundle = vlc.javascript_bundle(DRAW_CHARTS_JS, vl_version=version)
    # "</script" would end the inline <script> early; in JS strings and regexes "<\/" means "</"
    return re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE)


def _json_default(value: object) -> object:
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return value.tolist()
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    raise InvalidParameterError(f"a chart spec holds a {type(value).__name__}, which JSON cannot carry")


_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _script_json(doc: object) -> str:
    """``doc`` as JSON safe inside a ``<script>`` block: ``<``, ``>``, ``&``, U+2028/9 as ``\\uXXXX``.

    Outside strings JSON holds none of these characters, so each escape is inside a string, where it
    means the same character.
    """
    try:
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False, default=_json_default)
    except InvalidParameterError:
        raise
    except ValueError:
        raise InvalidParameterError("a chart spec holds NaN or infinity, which JSON cannot carry") from None
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group()], text)


def format_cell(value: object, decimal: str = ".", thousands: str = ",", decimals: int = 3) -> str:
    """One table cell as text: a float with ``decimals`` digits and the given number signs, an int grouped.

    Args:
        value: a str (written as it is), an int or a float (numpy numbers too); anything else via ``str``.
        decimal: the decimal sign.
        thousands: the digit-grouping sign.
        decimals: digits after the decimal sign for a float.

    Returns:
        The cell's text (not yet HTML-escaped).

    Example:
        >>> format_cell(1234.5678, ",", "."), format_cell(-0.0001), format_cell(20000, ",", "."), format_cell("a")
        ('1.234,568', '0.000', '20.000', 'a')
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value)
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        value = value.item()  # a numpy scalar
    if isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        if not math.isfinite(value):
            return "NaN" if math.isnan(value) else ("∞" if value > 0 else "−∞")
        if round(value, decimals) == 0:
            value = 0.0  # never "-0.000"
        text = f"{value:,.{decimals}f}"
    else:
        return str(value)
    return text.translate({ord(","): thousands, ord("."): decimal})


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _is_number(value: object) -> bool:
    return not isinstance(value, (str, bool)) and isinstance(getattr(value, "real", None), (int, float))


def _table(table: LessonTable, lesson: Lesson) -> list[str]:
    out = ["<table>"]
    if table.caption:
        out.append(f"<caption>{_e(table.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th scope="col">{_e(c)}</th>' for c in table.columns) + "</tr></thead>")
    out.append("<tbody>")
    per_column = table.decimals if isinstance(table.decimals, tuple) else ()
    for row in table.rows:
        cells = []
        for i, value in enumerate(row):
            decimals = per_column[i] if i < len(per_column) else (3 if per_column else table.decimals)
            text = _e(format_cell(value, lesson.decimal, lesson.thousands, decimals))
            cells.append(f'<td class="num">{text}</td>' if _is_number(value) else f"<td>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return out


def _spec_title(spec: Mapping[str, Any]) -> str:
    """The title the chart draws itself (a string, ``{"text": ...}`` or lines; a layer's first view's), or ""."""
    title = spec.get("title", "")
    layers = spec.get("layer")
    if not title and isinstance(layers, (list, tuple)) and layers and isinstance(layers[0], Mapping):
        title = layers[0].get("title", "")
    if isinstance(title, Mapping):
        title = title.get("text", "")
    if isinstance(title, (list, tuple)):
        title = " ".join(str(t) for t in title)
    return title if isinstance(title, str) else ""


def chart_spec_sized(chart: LessonChart, spec: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The specification a chart is drawn from, on the page and in the saved file: the builder's height as the plot's.

    A single or layered view without a height of its own takes ``chart.height`` as its plot height;
    its axes, title and legend come on top, and the element grows to hold them: the file draws it in a
    box that fits its drawing, the page with Streamlit's ``height="content"`` when the chart fits only
    its width (a chart Streamlit fits whole keeps ``chart.height`` as its element's height instead).

    Args:
        chart: the document's chart block.
        spec: the specification to size (the app's copy, at its size); default ``chart.spec``.

    Returns:
        A shallow copy of the specification (its top level new, the rest shared).
    """
    out = dict(chart.spec if spec is None else spec)
    if chart.height is not None and any(k in out for k in ("mark", "layer")) and "height" not in out:
        out["height"] = chart.height
    return out


def _chart(chart: LessonChart, n: int) -> list[str]:
    spec = chart_spec_sized(chart)
    label = chart.title or _spec_title(spec) or f"chart {n}"
    out = [f'<figure class="chart" role="img" aria-label="{_e(label)}">']
    # a title the chart draws is not written twice (a title in lines is joined with spaces: compared without them)
    if chart.title and "".join(chart.title.split()) != "".join(_spec_title(chart.spec).split()):
        out.append(f"<figcaption>{_e(chart.title)}</figcaption>")
    out.append(f'<script type="application/json" data-lesson-chart="{n}">{_script_json(spec)}</script>')
    out.append(f'<div class="chart-area" id="chart-{n}"></div>')
    out.append("</figure>")
    return out


def _block(block: Block, lesson: Lesson, n: int) -> tuple[int, list[str]]:
    """One block as HTML lines; ``n`` counts the charts so far (each chart's element id)."""
    kind = getattr(block, "kind", None)
    if kind == "text":
        text = markup_html(block.text)
        if block.style == "body":
            return n, [f"<p>{text}</p>"]
        if block.style == "caption":
            return n, [f'<p class="caption">{text}</p>']
        if block.style == "subheader":
            return n, [f"<h3>{text}</h3>"]
        return n, [f'<div class="note note-{_e(block.style)}" role="note"><p>{text}</p></div>']
    if kind == "formula":
        return n, [formula_html(block.latex)]
    if kind == "metrics":
        out = ['<dl class="metrics">']
        for m in block.items:
            note = f'<dd class="help">{_e(m.help)}</dd>' if m.help else ""
            out.append(f"<div><dt>{_e(m.label)}</dt><dd>{_e(m.value)}</dd>{note}</div>")
        return n, [*out, "</dl>"]
    if kind == "controls":
        return n, []  # the page's widgets; a file states their values among its facts
    if kind == "table":
        return n, _table(block, lesson)
    if kind == "chart":
        return n + 1, _chart(block, n + 1)
    if kind == "columns":
        out = [f'<div class="columns{" bordered" if block.border else ""}">']
        for column in block.items:
            out.append('<div class="column">')
            for inner in column:
                n, html_lines = _block(inner, lesson, n)
                out += html_lines
            out.append("</div>")
        return n, [*out, "</div>"]
    raise InvalidParameterError(f"a document cannot hold a {type(block).__name__}")


def export_html(lesson: Lesson) -> str:
    """``lesson`` as ONE self-contained HTML document: opens offline, fetches nothing, draws every chart.

    Every text is HTML-escaped; chart specs sit in JSON blocks with ``<``, ``>``, ``&`` escaped; the
    Vega/Vega-Lite/Vega-Embed JavaScript is inlined (built once per process, about a second).

    Args:
        lesson: the document; its strings are plain text, never HTML.

    Returns:
        The HTML text (about 1 MB, most of it the inlined JavaScript).

    Raises:
        InvalidParameterError: a chart spec holds NaN, infinity or an object JSON cannot carry.

    Example:
        >>> doc = export_html(Lesson("<b>hi</b>", (("k", "5"),), (LessonSection("One", ("text",)),)))
        >>> "<title>&lt;b&gt;hi&lt;/b&gt;</title>" in doc, "<b>" in doc
        (True, False)
    """
    body = [f"<h1>{_e(lesson.title)}</h1>"]
    if lesson.facts:
        body.append('<dl class="facts">')
        body += [f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in lesson.facts]
        body.append("</dl>")
    n = 0
    for block in lesson.intro:
        n, html_lines = _block(block, lesson, n)
        body += html_lines
    for section in lesson.sections:
        body.append(f"<section><h2>{_e(section.heading)}</h2>" if section.heading else "<section>")
        for block in section.content():
            n, html_lines = _block(block, lesson, n)
            body += html_lines
        body.append("</section>")
    if lesson.footer:
        body.append(f"<footer>{_e(lesson.footer)}</footer>")
    signs = _script_json({"decimal": lesson.decimal, "thousands": lesson.thousands})
    scripts = []
    if n:  # a lesson without charts needs no JavaScript
        scripts = [
            f'<script type="application/json" id="lesson-number-locale">{signs}</script>',
            f"<script>{_javascript()}</script>",
        ]
    head = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(lesson.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CONTENT_SECURITY_POLICY)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(lesson.title)}</title>",
        f"<style>{stylesheet()}</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, *scripts, "</body>", "</html>", ""])


def notebook_html(lesson: Lesson, height: int | None = None) -> str:
    """``lesson`` for a Jupyter notebook: the offline HTML file in an ``<iframe srcdoc>``.

    The frame keeps the file's Content-Security-Policy and its inlined Vega away from the notebook's
    own page, and draws the charts with no network (as the saved file does).

    Args:
        lesson: the document.
        height: the frame's height in pixels; None estimates it from the blocks.

    Returns:
        One ``<iframe>`` element (the whole document escaped into its ``srcdoc``).
    """
    if height is None:
        blocks = [b for b in lesson.blocks() if b.kind != "columns"]
        charts: list[LessonChart] = [b for b in blocks if b.kind == "chart"]
        tables: list[LessonTable] = [b for b in blocks if b.kind == "table"]
        height = 160 + 60 * len(lesson.facts) + 70 * len(lesson.sections) + 60 * (len(blocks) - len(charts))
        height += sum((c.height or 360) + 60 for c in charts) + sum(34 * len(t.rows) for t in tables)
    return (
        f'<iframe title="{_e(lesson.title)}" srcdoc="{_e(export_html(lesson))}" '
        f'style="width: 100%; height: {int(height)}px; border: 1px solid #ddd;"></iframe>'
    )
