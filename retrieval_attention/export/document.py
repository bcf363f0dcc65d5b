"""A lesson as one self-contained HTML file: the document model and its renderer.

A :class:`Lesson` is plain data (title, facts, sections of paragraphs, tables and Vega-Lite charts);
:func:`export_html` writes it as one HTML document that opens in any browser with no network and no
server: the Vega, Vega-Lite and Vega-Embed JavaScript comes inlined from ``vl_convert``'s bundled
copy, every chart's spec (its data inline) sits in a ``<script type="application/json">`` block, and
a Content-Security-Policy forbids every request. Every text is HTML-escaped, so a title such as
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
from retrieval_attention.export.page_assets import DRAW_CHARTS_JS, stylesheet

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "Lesson",
    "LessonChart",
    "LessonSection",
    "LessonTable",
    "export_html",
    "format_cell",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LessonTable:
    """A table of numbers and labels, drawn as an HTML ``<table>``."""

    columns: tuple[str, ...]  # header cells, already translated
    rows: tuple[tuple[object, ...], ...]  # cells: str / int / float (floats written with the lesson's number signs)
    caption: str = ""  # shown above the table
    decimals: int | tuple[int, ...] = 3  # digits after the decimal sign for float cells: one for all, or per column


@dataclass(frozen=True)
class LessonChart:
    """One Vega-Lite chart; its data must be inline (``alt.Chart.to_dict()``), never a URL."""

    spec: Mapping[str, Any]  # a Vega-Lite dict with its data inline
    title: str = ""  # shown above the chart (unless the chart draws this same title), and its aria-label


@dataclass(frozen=True)
class LessonSection:
    """A heading with its paragraphs, tables and charts, in that order."""

    heading: str
    paragraphs: tuple[str, ...] = ()  # plain text (never HTML); may contain user text
    tables: tuple[LessonTable, ...] = ()
    charts: tuple[LessonChart, ...] = ()


@dataclass(frozen=True)
class Lesson:
    """Everything one exported file shows, already translated."""

    title: str
    facts: tuple[tuple[str, str], ...]  # (label, value): Model, Corpus, Date, Query, k, temperature, ...
    sections: tuple[LessonSection, ...]
    lang: str = "en"  # <html lang=...>
    decimal: str = "."  # number signs for tables and for the charts' Vega formatLocale
    thousands: str = ","
    footer: str = ""  # e.g. "Made with retrieval_attention 0.1.0"


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


def _chart(chart: LessonChart, n: int) -> list[str]:
    label = chart.title or _spec_title(chart.spec) or f"chart {n}"
    out = [f'<figure class="chart" role="img" aria-label="{_e(label)}">']
    if chart.title and chart.title != _spec_title(chart.spec):  # a title the chart draws is not written twice
        out.append(f"<figcaption>{_e(chart.title)}</figcaption>")
    out.append(f'<script type="application/json" data-lesson-chart="{n}">{_script_json(dict(chart.spec))}</script>')
    out.append(f'<div class="chart-area" id="chart-{n}"></div>')
    out.append("</figure>")
    return out


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
    for section in lesson.sections:
        body.append(f"<section><h2>{_e(section.heading)}</h2>")
        body += [f"<p>{_e(p)}</p>" for p in section.paragraphs]
        for table in section.tables:
            body += _table(table, lesson)
        for chart in section.charts:
            n += 1
            body += _chart(chart, n)
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
