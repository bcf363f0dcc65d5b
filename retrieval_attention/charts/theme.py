"""The look of every chart: the Okabe-Ito palette, projector-sized type, shared colours. No streamlit here.

Chart builders take tidy frames and return Altair chart objects; the app applies :func:`projector`
(to the chart) or :func:`projector_spec` (to its Vega-Lite dictionary: the same config, without
Altair copying the whole chart once per ``configure_*`` call).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import altair as alt

__all__ = [
    "BLACK",
    "BLUE",
    "DROPPED",
    "FONT",
    "GREEN",
    "GREY",
    "KEPT",
    "OKABE_ITO",
    "ORANGE",
    "PINK",
    "PRESENT_CONFIG",
    "PRESENT_MIN_FONT",
    "PROJECTOR_CONFIG",
    "PAGE_PX",
    "fitted_text",
    "level_lines",
    "SIZES",
    "SKY",
    "SUBTITLE_SIZE",
    "VERMILLION",
    "WIDE_COLUMN_PX",
    "projector",
    "projector_spec",
    "with_number_locale",
    "with_number_locale_spec",
    "wrap_lines",
    "wrapped_title",
]

#: Okabe & Ito's palette, distinguishable with every common colour-vision deficiency.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
KEPT, DROPPED = "#0072B2", "#B0B0B0"


#: The fonts every chart's text asks for, in order: Streamlit's own face, then CJK faces so Chinese labels
#: render as characters (Debian's fonts-noto-cjk, macOS, Windows), then any sans-serif.
FONT = '"Source Sans Pro", "Source Sans 3", "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'

#: Big type for a projector: 20 px titles, 15 px labels, the palette, the font stack. One home for both appliers below.
PROJECTOR_CONFIG: dict[str, Any] = {
    "font": FONT,
    "title": {"fontSize": 20, "anchor": "start", "fontWeight": "bold"},
    "axis": {"labelFontSize": 15, "titleFontSize": 16, "labelLimit": 320},
    "legend": {"labelFontSize": 15, "titleFontSize": 15, "labelLimit": 320},
    "range": {"category": OKABE_ITO},
}


#: Presentation mode's type, for the back row: every chart text at least 18 px (26 px titles), wider
#: label limits to match. Applied where a chart is drawn (the app), never saved into a lesson.
PRESENT_CONFIG: dict[str, Any] = {
    **PROJECTOR_CONFIG,
    "title": {"fontSize": 26, "anchor": "start", "fontWeight": "bold"},
    "axis": {"labelFontSize": 18, "titleFontSize": 20, "labelLimit": 380},
    "legend": {"labelFontSize": 18, "titleFontSize": 18, "labelLimit": 380},
}

#: The type sizes by name: ``"projector"`` (every chart, every saved lesson) and ``"present"``.
SIZES: dict[str, dict[str, Any]] = {"projector": PROJECTOR_CONFIG, "present": PRESENT_CONFIG}
#: In presentation mode no title, subtitle, axis, legend or header text is smaller than this (px), even
#: where a builder set its own size (a subtitle at 15 px); the numbers inside cells keep theirs.
PRESENT_MIN_FONT = 16
#: A subtitle's type size (px) on a projector (a title's is ``PROJECTOR_CONFIG["title"]["fontSize"]``).
SUBTITLE_SIZE = 15
#: How wide (px) a chart as wide as the page is, and one in the wider of a page's [2, 3] columns, on a
#: 1280 px screen with the sidebar open (a projector, issue 25): what a title must fit, since Vega
#: fits the plot to its column but never wraps or shrinks a title.
PAGE_PX, WIDE_COLUMN_PX = 760, 420
_SIZED_KEYS = ("labelFontSize", "titleFontSize", "subtitleFontSize")
_SKIPPED = ("data", "datasets", "values")


def _at_least(node: Any, least: int, in_title: bool = False) -> Any:
    """``node`` with every title/axis/legend/header font size raised to ``least`` (a copy of what changes)."""
    if isinstance(node, list):
        return [_at_least(v, least, in_title) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k in _SKIPPED:
            out[k] = v  # the data: never walked
        elif (
            isinstance(v, (int, float))
            and not isinstance(v, bool)
            and (k in _SIZED_KEYS or (in_title and k == "fontSize"))
        ):
            out[k] = max(v, least)
        else:
            out[k] = _at_least(v, least, k == "title")
    return out


def _sized(size: str) -> dict[str, Any]:
    try:
        return SIZES[size]
    except KeyError:
        raise ValueError(f"unknown chart size {size!r}; expected one of {sorted(SIZES)}") from None


def projector(chart: alt.TopLevelMixin, size: str = "projector") -> alt.TopLevelMixin:
    """Big type for a projector (:data:`PROJECTOR_CONFIG`, or ``size="present"``) on an Altair chart."""
    c = _sized(size)
    out = (
        chart.configure_title(**c["title"])
        .configure_axis(**c["axis"])
        .configure_legend(**c["legend"])
        .configure_range(**c["range"])
    )
    out.config.font = c["font"]  # out's config is its own copy; configure() would replace the whole config
    return out


def projector_spec(spec: Mapping[str, Any], size: str = "projector") -> dict[str, Any]:
    """:func:`projector` applied to a chart's Vega-Lite dictionary instead of the chart.

    Altair's ``configure_title`` (and the others) replace the whole ``config.title`` entry, so
    the dictionary form replaces the same four entries and keeps the rest of ``config``; applying
    it again with another size replaces them again (a themed chart can be re-sized). ``"present"``
    also raises the sizes a builder set itself to :data:`PRESENT_MIN_FONT` (the data is not walked).

    Args:
        spec: ``chart.to_dict()`` (not changed).
        size: a key of :data:`SIZES`: ``"projector"`` or ``"present"`` (presentation mode).

    Returns:
        A new top-level dictionary with that config; the rest is shared with ``spec``.

    Raises:
        ValueError: an unknown size.

    Example:
        >>> projector_spec({"mark": "bar"})["config"]["axis"]["labelFontSize"]
        15
        >>> projector_spec({"mark": "bar"}, "present")["config"]["axis"]["labelFontSize"]
        18
        >>> projector_spec({"title": {"text": "t", "subtitleFontSize": 12}}, "present")["title"]["subtitleFontSize"]
        16
    """
    config = {**(spec.get("config") or {}), **copy.deepcopy(_sized(size))}
    if size == "present":
        return _at_least({**spec, "config": config}, PRESENT_MIN_FONT)
    return {**spec, "config": config}


def wrap_lines(text: str | list[str], width: float, size: float) -> list[str]:
    """``text`` (or each of its lines) in lines no wider than ``width`` px at ``size`` px, as even as possible.

    By the estimate of :func:`~retrieval_attention.charts.text.wrap` (an upper bound for the charts'
    sans-serif and CJK); never broken inside parentheses (a formula, "(sum 1)", "（1 = 权重最大）" stay whole); the fewest
    lines, at the narrowest width that needs no more of them (no last word alone).

    Example:
        >>> wrap_lines("seconds per call (log scale, median)", 250, 16)
        ['seconds per call', '(log scale, median)']
    """
    from retrieval_attention.charts.text import wrap

    def balanced(text: str) -> list[str]:
        n, low, high = len(wrap(text, width, size, whole_parentheses=True)), 0.0, float(width)
        while n > 1 and high - low > 4:
            mid = (low + high) / 2
            low, high = (low, mid) if len(wrap(text, mid, size, whole_parentheses=True)) <= n else (mid, high)
        return wrap(text, high, size, whole_parentheses=True)

    return [line for part in ([text] if isinstance(text, str) else text) for line in balanced(part)]


def level_lines(titles: list[list[str]]) -> list[list[str]]:
    """Titles (each a list of lines) padded with blank lines to as many lines each, so that charts side by
    side start their plots level (an empty line would collapse: the blank is a no-break space).

    Example:
        >>> level_lines([["A: a long", "title"], ["B: short"]])
        [['A: a long', 'title'], ['B: short', '\xa0']]
    """
    depth = max((len(t) for t in titles), default=0)
    return [list(t) + ["\u00a0"] * (depth - len(t)) for t in titles]


def fitted_text(text: str | list[str], width: float, size: float) -> str | list[str]:
    """:func:`wrap_lines` as Vega takes a text: one line as a string, more as a list of lines.

    Example:
        >>> fitted_text("Output: category mix", 400, 20), fitted_text("Output: category mix", 190, 20)
        ('Output: category mix', ['Output:', 'category mix'])
    """
    lines = wrap_lines(text, width, size)
    return lines[0] if len(lines) == 1 else lines


def wrapped_title(title: str | list[str], subtitle: str | list[str] = "", width: float = PAGE_PX) -> alt.Title:
    """A chart's title and subtitle in lines no wider than ``width`` px (:func:`wrap_lines`) at the projector's sizes.

    Vega draws a title on one line (a list of strings: one line each) and, with any autosize, lets it
    run past the chart's column; so the lines are made here.

    Args:
        title: the title, or its lines (each wrapped in turn).
        subtitle: the line(s) under it; empty for none.
        width: the narrowest the chart is drawn (px), e.g. :data:`WIDE_COLUMN_PX` for a chart in a column.

    Returns:
        The title (one line: a string; more: a list of lines), the subtitle at :data:`SUBTITLE_SIZE`.

    Example:
        >>> t = wrapped_title("The query of “is” looks up 5 cached keys", "layer 15, head 0: weights", 300)
        >>> t.text, t.subtitle
        (['The query of “is”', 'looks up 5 cached keys'], 'layer 15, head 0: weights')
    """

    head = fitted_text(title, width, PROJECTOR_CONFIG["title"]["fontSize"])
    if not subtitle:
        return alt.Title(head)
    return alt.Title(head, subtitle=fitted_text(subtitle, width, SUBTITLE_SIZE), subtitleFontSize=SUBTITLE_SIZE)


def _number_locale(decimal: str, thousands: str) -> dict[str, Any]:
    return {"decimal": decimal, "thousands": thousands, "grouping": [3], "currency": ["", ""]}


def with_number_locale(chart: alt.TopLevelMixin, decimal: str = ".", thousands: str = ",") -> alt.TopLevelMixin:
    """``chart`` with its numbers (cells, axes, legends, tooltips) written with ``decimal`` and ``thousands``.

    Call it before :func:`projector`: Altair's ``configure`` replaces the whole config.

    Args:
        chart: a top-level chart.
        decimal: the decimal sign, ``","`` in Spanish.
        thousands: the digit-grouping sign.

    Returns:
        The chart with a Vega number locale.

    Example:
        >>> import pandas as pd
        >>> c = with_number_locale(alt.Chart(pd.DataFrame({"a": [1.5]})).mark_point(), ",", ".")
        >>> c.to_dict()["config"]["locale"]["number"]["decimal"]
        ','
    """
    return chart.configure(locale=alt.Locale(number=alt.NumberLocale(**_number_locale(decimal, thousands))))


def with_number_locale_spec(spec: Mapping[str, Any], decimal: str = ".", thousands: str = ",") -> dict[str, Any]:
    """:func:`with_number_locale` on a Vega-Lite dictionary (a top-level copy; ``spec`` is not changed).

    Vega's own default is ``.`` and ``,``, so for those the dictionary comes back as it was.

    Example:
        >>> with_number_locale_spec({"mark": "bar"}, ",", ".")["config"]["locale"]["number"]["thousands"]
        '.'
    """
    if (decimal, thousands) == (".", ","):
        return dict(spec)
    config = {**(spec.get("config") or {}), "locale": {"number": _number_locale(decimal, thousands)}}
    return {**spec, "config": config}


BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, _YELLOW, BLACK = OKABE_ITO
GREY = "#999999"
