"""Charts of the smoothing lesson: a noisy series, its smoothed versions, and one query's weight row."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from retrieval_attention.charts.theme import BLACK, BLUE, GREEN, GREY, ORANGE, VERMILLION
from retrieval_attention.i18n import N_

__all__ = [
    "SMOOTHING_TEXT",
    "series_chart",
    "smoothing_frame",
    "weight_row_chart",
]


#: The English text of this module's charts; a page passes its translation as ``text`` (any subset).
SMOOTHING_TEXT = {
    "time": N_("time step t"),
    "value": N_("value"),
    "weight": N_("weight"),
    "clean": N_("clean"),
    "smoothed": N_("smoothed: {name}"),
    "weight_of": N_("weight: {name}"),
    "subtitle": N_("grey dots: the noisy series · orange line: step t = {step}"),
    "row_title": N_("The weight row of step t = {step}: how much of each step it averages"),
}


def _text(given: Mapping[str, str] | None) -> dict[str, str]:
    return {**SMOOTHING_TEXT, **(given or {})}  # the given translations over the English


def smoothing_frame(
    t: NDArray[np.floating],
    y: NDArray[np.floating],
    signal: NDArray[np.floating],
    smoothed: Mapping[str, NDArray[np.floating]],
    rows: Mapping[str, NDArray[np.floating]],
) -> pd.DataFrame:
    """One wide table per time step: the series, each smoothed version, each method's weight row.

    Args:
        t, y, signal: time steps, noisy values and clean signal, each (n,).
        smoothed: method name -> smoothed series (n,).
        rows: method name -> the weights one chosen step puts on every step (n,).

    Returns:
        Columns ``t``, ``noisy``, ``clean``, ``smoothed: <method>`` and ``weight: <method>``.
    """
    f = pd.DataFrame({"t": t, "noisy": y, "clean": signal})
    for name, s in smoothed.items():
        f[f"smoothed: {name}"] = s
    for name, w in rows.items():
        f[f"weight: {name}"] = w
    return f


def _time_axis(frame: pd.DataFrame, title: str) -> alt.X:
    domain = [float(frame["t"].min()), float(frame["t"].max())]
    return alt.X("t:Q", title=title, scale=alt.Scale(domain=domain, nice=False))


#: A fixed y-axis width, so that the series chart and the weight-row chart under it line up in t.
_Y_EXTENT = {"minExtent": 56, "maxExtent": 56}


def _step_rule(step: int) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"t": [step]})).mark_rule(color=ORANGE, strokeWidth=2).encode(x=alt.X("t:Q"))


def series_chart(frame: pd.DataFrame, step: int, title: str, text: Mapping[str, str] | None = None) -> alt.LayerChart:
    """The noisy series (grey dots), the clean signal (dashed) and each smoothing; step ``step`` marked.

    Args:
        frame: from :func:`smoothing_frame`.
        step: the chosen time step (orange rule), the one :func:`weight_row_chart` shows.
        title: chart title.
        text: translations of :data:`SMOOTHING_TEXT` (axis titles, legend names, the subtitle).
    """
    t = _text(text)
    smooth_cols = [c for c in frame.columns if c.startswith("smoothed: ")]
    shown = {"clean": t["clean"], **{c: t["smoothed"].format(name=c.removeprefix("smoothed: ")) for c in smooth_cols}}
    long = frame.melt(id_vars="t", value_vars=list(shown), var_name="series", value_name="value")
    long["series"] = long["series"].map(shown)
    order = list(shown.values())
    x = _time_axis(frame, t["time"])
    points = (
        alt.Chart(frame)
        .mark_circle(size=26, color=GREY, opacity=0.8)
        .encode(
            x=x,
            y=alt.Y("noisy:Q", title=t["value"], axis=alt.Axis(**_Y_EXTENT)),
            tooltip=[alt.Tooltip("t:Q"), alt.Tooltip("noisy:Q", format=".3f")],
        )
    )
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y=alt.Y("value:Q"),
            color=alt.Color(
                "series:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[BLACK, BLUE, VERMILLION, GREEN][: len(order)]),
                legend=alt.Legend(orient="top"),
            ),
            strokeDash=alt.StrokeDashValue(
                **alt.condition(alt.datum.series == t["clean"], alt.value([5, 4]), alt.value([1, 0]))
            ),
            tooltip=[alt.Tooltip("series:N"), alt.Tooltip("t:Q"), alt.Tooltip("value:Q", format=".3f")],
        )
    )
    subtitle = t["subtitle"].format(step=step)
    title_ = alt.Title(title, subtitle=subtitle, subtitleFontSize=15)
    return alt.layer(points, lines, _step_rule(step), title=title_).properties(height=300)


def weight_row_chart(frame: pd.DataFrame, step: int, text: Mapping[str, str] | None = None) -> alt.LayerChart:
    """What step ``step`` averages: each method's weight row over the same time axis as :func:`series_chart`.

    ``text``: translations of :data:`SMOOTHING_TEXT` (title, axis titles, legend names).
    """
    t = _text(text)
    cols = [c for c in frame.columns if c.startswith("weight: ")]
    shown = {c: t["weight_of"].format(name=c.removeprefix("weight: ")) for c in cols}
    long = frame.melt(id_vars="t", value_vars=cols, var_name="method", value_name="weight")
    long["method"] = long["method"].map(shown)
    weight_cols = list(shown.values())
    area = (
        alt.Chart(long)
        .mark_area(opacity=0.45, interpolate="step-after", line=True)
        .encode(
            x=_time_axis(frame, t["time"]),
            y=alt.Y("weight:Q", title=t["weight"], stack=None, axis=alt.Axis(**_Y_EXTENT)),
            color=alt.Color(
                "method:N",
                title=None,
                sort=weight_cols,
                scale=alt.Scale(domain=weight_cols, range=[BLUE, VERMILLION, GREEN][: len(weight_cols)]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[alt.Tooltip("method:N"), alt.Tooltip("t:Q"), alt.Tooltip("weight:Q", format=".4f")],
        )
    )
    title = t["row_title"].format(step=step)
    return alt.layer(area, _step_rule(step), title=title).properties(height=220)
