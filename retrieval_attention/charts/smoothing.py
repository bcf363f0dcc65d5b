"""Charts of the smoothing lesson: a noisy series, its smoothed versions, and one query's weight row."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from retrieval_attention.charts.theme import BLACK, BLUE, GREEN, GREY, ORANGE, VERMILLION

__all__ = [
    "series_chart",
    "smoothing_frame",
    "weight_row_chart",
]


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


def _time_axis(frame: pd.DataFrame) -> alt.X:
    domain = [float(frame["t"].min()), float(frame["t"].max())]
    return alt.X("t:Q", title="time step t", scale=alt.Scale(domain=domain, nice=False))


#: A fixed y-axis width, so that the series chart and the weight-row chart under it line up in t.
_Y_EXTENT = {"minExtent": 56, "maxExtent": 56}


def _step_rule(step: int) -> alt.Chart:
    return alt.Chart(pd.DataFrame({"t": [step]})).mark_rule(color=ORANGE, strokeWidth=2).encode(x=alt.X("t:Q"))


def series_chart(frame: pd.DataFrame, step: int, title: str) -> alt.LayerChart:
    """The noisy series (grey dots), the clean signal (dashed) and each smoothing; step ``step`` marked.

    Args:
        frame: from :func:`smoothing_frame`.
        step: the chosen time step (orange rule), the one :func:`weight_row_chart` shows.
        title: chart title.
    """
    smooth_cols = [c for c in frame.columns if c.startswith("smoothed: ")]
    order = ["clean", *smooth_cols]
    long = frame.melt(id_vars="t", value_vars=order, var_name="series", value_name="value")
    x = _time_axis(frame)
    points = (
        alt.Chart(frame)
        .mark_circle(size=26, color=GREY, opacity=0.8)
        .encode(
            x=x,
            y=alt.Y("noisy:Q", title="value", axis=alt.Axis(**_Y_EXTENT)),
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
                **alt.condition(alt.datum.series == "clean", alt.value([5, 4]), alt.value([1, 0]))
            ),
            tooltip=[alt.Tooltip("series:N"), alt.Tooltip("t:Q"), alt.Tooltip("value:Q", format=".3f")],
        )
    )
    subtitle = f"grey dots: the noisy series · orange line: step t = {step}"
    title_ = alt.Title(title, subtitle=subtitle, subtitleFontSize=15)
    return alt.layer(points, lines, _step_rule(step), title=title_).properties(height=300)


def weight_row_chart(frame: pd.DataFrame, step: int) -> alt.LayerChart:
    """What step ``step`` averages: each method's weight row over the same time axis as :func:`series_chart`."""
    weight_cols = [c for c in frame.columns if c.startswith("weight: ")]
    long = frame.melt(id_vars="t", value_vars=weight_cols, var_name="method", value_name="weight")
    area = (
        alt.Chart(long)
        .mark_area(opacity=0.45, interpolate="step-after", line=True)
        .encode(
            x=_time_axis(frame),
            y=alt.Y("weight:Q", title="weight", stack=None, axis=alt.Axis(**_Y_EXTENT)),
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
    title = f"The weight row of step t = {step}: how much of each step it averages"
    return alt.layer(area, _step_rule(step), title=title).properties(height=220)
