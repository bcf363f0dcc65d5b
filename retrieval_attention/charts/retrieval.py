"""Charts of the main page: every key's weight, the output's category mix, ÷√d (the continuum: :mod:`.continuum`).

Each chart comes in three functions each: ``*_parts`` (the rows and
options), ``*_view`` (the Altair chart from them) and the builder that chains the two. A page that
draws them through :func:`~retrieval_attention.charts.template.filled_spec` builds each chart's
specification once per options and language; a new query then costs its rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from retrieval_attention.charts.template import ChartParts, columns_of
from retrieval_attention.charts.theme import DROPPED, KEPT, PROJECTOR_CONFIG, fitted_text, wrap_lines
from retrieval_attention.i18n import N_

__all__ = [
    "SCALING_LABELS",
    "WEIGHTS_LABELS",
    "category_mix_chart",
    "category_mix_parts",
    "category_mix_view",
    "scaling_chart",
    "scaling_parts",
    "scaling_view",
    "weights_bar",
    "weights_parts",
    "weights_view",
]


#: The English text of :func:`weights_bar`; a page passes its translation (same keys, same ``{k}``).
WEIGHTS_LABELS = {
    "kept": N_("top-{k}: kept by top-k"),
    "tail": N_("tail: dropped by top-k"),
    "y_log": N_("weight (log scale)"),
    "y": N_("weight"),
    "x": N_("key rank (1 = highest weight)"),
    "rank": N_("rank"),
    "title": N_("title"),
    "category": N_("category"),
    "weight": N_("weight"),
}
#: The weights chart's legend labels and x axis title are written in lines this wide (px): they fit the
#: main page's third column at 1280 wide (one line ran up to 88 px past it in Spanish).
WEIGHTS_LEGEND_PX, WEIGHTS_AXIS_PX = 100, 120
#: The category mix's x axis title is written in lines this wide (px).
MIX_AXIS_PX = 100
#: The weights chart's and the category mix's titles are written in lines this wide (px).
COLUMN_TITLE_PX = 190
#: One bar of the category mix, in pixels.
MIX_STEP = 28
#: The English text of :func:`scaling_chart`.
SCALING_LABELS = {
    "title": N_("Same scores, two scalings"),
    "x": N_("key rank"),
    "y": N_("weight (log scale)"),
    "rank": N_("rank"),
    "weight": N_("weight"),
}


def _title_lines(title: str) -> str | list[str]:
    """A title of the main page's column charts in lines that fit its narrowest column (Vega cut it with "…")."""
    return fitted_text(title, COLUMN_TITLE_PX, PROJECTOR_CONFIG["title"]["fontSize"])


def _text(defaults: Mapping[str, str], given: Mapping[str, str] | None) -> dict[str, str]:
    """``defaults`` with the given translations over them."""
    return {**defaults, **(given or {})}


def weights_parts(
    frame: pd.DataFrame | Mapping[str, Any],
    k: int,
    log: bool = True,
    title: str = "Weight of every key, sorted",
    text: Mapping[str, str] | None = None,
) -> ChartParts:
    """:func:`weights_bar`'s rows (dataset ``weights``) and options: see :mod:`~retrieval_attention.charts.template`.

    Args:
        frame: as for :func:`weights_bar`, or the same columns by name (arrays and lists, no frame).
        k, log, title, text: as for :func:`weights_bar`.

    Returns:
        The rows with their ``kept`` label and plotted weight (on a log axis: at least the floor, a
        power of ten under the smallest positive weight, which is also each bar's ``base``); the
        options hold the labels, k, the number of keys and the axis kind.
    """
    t = _text(WEIGHTS_LABELS, text)
    kept, tail = t["kept"].format(k=k), t["tail"]
    columns = {name: frame[name] for name in frame}  # a frame's columns, or the mapping's
    weight = np.asarray(columns["weight"], dtype=np.float64)
    n = len(weight)
    columns["kept"] = [kept if r <= k else tail for r in np.asarray(columns["rank"]).tolist()]
    if log:
        positive = weight[weight > 0]
        floor = 10.0 ** np.floor(np.log10(max(float(positive.min()) if len(positive) else 1e-12, 1e-12)))
        columns.update(weight_plot=np.maximum(weight, floor), base=np.full(n, floor))
    else:
        columns["weight_plot"] = weight
    options = {"k": int(k), "n": n, "log": bool(log), "title": title, "text": t}
    return ChartParts({"weights": columns_of(columns)}, options)


def weights_view(
    data: Mapping[str, pd.DataFrame], *, k: int, n: int, log: bool, title: str, text: Mapping[str, str]
) -> alt.Chart:
    """:func:`weights_bar` from :func:`weights_parts`'s rows and options.

    The log axis runs from the rows' floor (their ``base``, on the same scale) to 1: its range comes
    from the data, so one specification serves every query.
    """
    t = text
    kept, tail = t["kept"].format(k=k), t["tail"]
    y2 = None
    if log:
        y = alt.Y(
            "weight_plot:Q",
            title=t["y_log"],
            # [floor, 1]: the floor from the data (y2's base), the top fixed; a domain unionWith here would
            # meet y2's domain and make Vega-Lite warn in the browser's console
            scale=alt.Scale(type="log", domainMax=1.0),
            axis=alt.Axis(format=".0e", tickCount=6),
        )
        y2 = alt.Y2("base:Q")
    else:
        y = alt.Y("weight_plot:Q", title=t["y"], axis=alt.Axis(format=".0%"))
    enc = {"y2": y2} if y2 is not None else {}
    # the main page draws this chart in its narrowest column (~220 px at 1280 wide, the y axis ~65 of them):
    # the x axis title and the legend labels (which start right of the y axis) are written in lines that fit
    legend_size, axis_size = PROJECTOR_CONFIG["legend"]["labelFontSize"], PROJECTOR_CONFIG["axis"]["titleFontSize"]
    labels = {label: wrap_lines(label, WEIGHTS_LEGEND_PX, legend_size) for label in (kept, tail)}
    label_expr = f"datum.label == {json.dumps(kept)} ? {json.dumps(labels[kept])} : {json.dumps(labels[tail])}"
    x_title = fitted_text(t["x"], WEIGHTS_AXIS_PX, axis_size)
    return (
        alt.Chart(data["weights"], title=_title_lines(title))
        .mark_bar(clip=True)
        .encode(
            x=alt.X(
                "rank:Q",
                title=x_title,
                scale=alt.Scale(domain=[0.5, n + 0.5], nice=False),
                axis=alt.Axis(
                    titleAnchor="end"
                ),  # ends at the plot's right edge: a wider line runs left, under the y axis
            ),
            y=y,
            **enc,
            color=alt.Color(
                "kept:N",
                title=None,
                scale=alt.Scale(domain=[kept, tail], range=[KEPT, DROPPED]),
                legend=alt.Legend(orient="bottom", direction="vertical", labelExpr=label_expr),
            ),
            tooltip=[
                alt.Tooltip("rank:Q", title=t["rank"]),
                alt.Tooltip("title:N", title=t["title"]),
                alt.Tooltip("category:N", title=t["category"]),
                alt.Tooltip("score:Q", format=".3f", title="q·k"),
                alt.Tooltip("weight:Q", format=".3%", title=t["weight"]),
            ],
        )
        .properties(height=300)
    )


def weights_bar(
    frame: pd.DataFrame,
    k: int,
    log: bool = True,
    title: str = "Weight of every key, sorted",
    text: Mapping[str, str] | None = None,
) -> alt.Chart:
    """Sorted attention weights of all keys, the top-k highlighted: the long tail stays visible.

    Args:
        frame: columns ``rank`` (1..n), ``weight``, ``title``, ``category``, ``score``.
        k: keys a top-k retrieval keeps (coloured); the rest is the tail it throws away.
        log: log-scale weight axis, so that weights of 1e-6 are as visible as weights of 0.5.
        title: the chart's title.
        text: translations of :data:`WEIGHTS_LABELS` (any subset; the rest stays English).
    """
    parts = weights_parts(frame, k, log, title, text)
    return weights_view(parts.frames(), **parts.options)


def category_mix_parts(
    mix: dict[str, float], title: str = "Output: category mix", x_title: str = "share of the output"
) -> ChartParts:
    """:func:`category_mix_chart`'s rows (dataset ``mix``, shares of 0.5% or more) and options (titles, height)."""
    kept = {category: share for category, share in mix.items() if share >= 0.005}
    rows = columns_of({"category": list(kept), "share": np.array(list(kept.values()), dtype=np.float64)})
    return ChartParts({"mix": rows}, {"title": title, "x_title": x_title, "height": MIX_STEP * max(len(rows), 1)})


def category_mix_view(data: Mapping[str, pd.DataFrame], *, title: str, x_title: str, height: int) -> alt.Chart:
    """:func:`category_mix_chart` from :func:`category_mix_parts`'s rows and options.

    The height is in pixels, :data:`MIX_STEP` a bar: a step height (``alt.Step``) beside the page's
    container width makes Vega-Lite warn in the browser's console ("Dropping fit-y"). The x axis title
    is written in lines that fit the main page's narrow columns (it is centred under a plot narrowed by
    the category names).
    """
    x_lines = fitted_text(x_title, MIX_AXIS_PX, PROJECTOR_CONFIG["axis"]["titleFontSize"])
    return (
        alt.Chart(data["mix"], title=_title_lines(title))
        .mark_bar(color=KEPT)
        .encode(
            x=alt.X(
                "share:Q",
                title=x_lines,
                axis=alt.Axis(format=".0%", tickCount=4),
                scale=alt.Scale(domain=[0, 1]),
            ),
            y=alt.Y("category:N", sort="-x", title=None),
            tooltip=[alt.Tooltip("category:N"), alt.Tooltip("share:Q", format=".1%")],
        )
        .properties(height=height)
    )


def category_mix_chart(
    mix: dict[str, float], title: str = "Output: category mix", x_title: str = "share of the output"
) -> alt.Chart:
    """The category block of an output vector as bars (shares sum to 1); categories under 0.5% omitted.

    Args:
        mix: category display name -> share.
        title: the chart's title.
        x_title: the share axis's title.
    """
    parts = category_mix_parts(mix, title, x_title)
    return category_mix_view(parts.frames(), **parts.options)


def scaling_parts(frame: pd.DataFrame | Mapping[str, Any], text: Mapping[str, str] | None = None) -> ChartParts:
    """:func:`scaling_chart`'s rows (dataset ``curves``: the columns as given) and options (its labels)."""
    return ChartParts({"curves": columns_of(frame)}, {"text": _text(SCALING_LABELS, text)})


def scaling_view(data: Mapping[str, pd.DataFrame], *, text: Mapping[str, str]) -> alt.Chart:
    """:func:`scaling_chart` from :func:`scaling_parts`'s rows and options."""
    t = text
    return (
        alt.Chart(data["curves"], title=t["title"])
        .mark_line(strokeWidth=3, interpolate="step-after")
        .encode(
            x=alt.X("rank:Q", title=t["x"], scale=alt.Scale(type="log")),
            y=alt.Y("weight:Q", title=t["y"], scale=alt.Scale(type="log")),
            color=alt.Color("setting:N", title=None, legend=alt.Legend(orient="top")),
            tooltip=[
                alt.Tooltip("setting:N", title=t["title"]),
                alt.Tooltip("rank:Q", title=t["rank"]),
                alt.Tooltip("weight:Q", format=".3%", title=t["weight"]),
            ],
        )
        .properties(height=300)
    )


def scaling_chart(frame: pd.DataFrame, text: Mapping[str, str] | None = None) -> alt.Chart:
    """Sorted weights under two settings, e.g. transformer ÷√d at T = 1 vs cosine at T = 0.05.

    Args:
        frame: columns ``rank``, ``weight``, ``setting``.
        text: translations of :data:`SCALING_LABELS` (any subset; the rest stays English).
    """
    parts = scaling_parts(frame, text)
    return scaling_view(parts.frames(), **parts.options)
