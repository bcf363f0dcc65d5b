"""Altair charts for the decoder pages: the next-token distribution and one step's causal attention row.

Arrays in, chart objects out; no streamlit. Every title is a parameter, already translated by the
caller. Tokens are placed by position (rank or place in the text), never by their text, so two
tokens spelled alike keep two bars; the axes map positions back to the text.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from retrieval_attention.charts.theme import BLUE, GREY, ORANGE, PAGE_PX, VERMILLION, wrapped_title
from retrieval_attention.charts.transformer import _labels as _token_labels  # one home for labels by position
from retrieval_attention.charts.transformer import _token_axis as _axis  # one home for token labels by position

__all__ = ["attention_row_chart", "next_token_chart"]


def next_token_chart(
    tokens: Sequence[str],
    model: NDArray[np.floating],
    drawn: NDArray[np.floating],
    *,
    title: str,
    subtitle: str | list[str],
    model_name: str,
    drawn_name: str,
    value_title: str,
    chosen: int | None = None,
    width: float = PAGE_PX,
) -> alt.LayerChart:
    """The most probable next tokens as pairs of horizontal bars: the model's probability and the one drawn from.

    Args:
        tokens: k tokens, most probable first.
        model: (k,) their probabilities at temperature 1 (softmax of the logits).
        drawn: (k,) their probabilities in the distribution the token is drawn from (temperature applied).
        title, subtitle: the chart's title and the line(s) under it.
        model_name, drawn_name: the two bars' names in the legend.
        value_title: the probability axis's name.
        chosen: the rank of the token written (outlined), or None.
        width: the narrowest the chart is drawn (px): its title and subtitle are wrapped to it.

    Returns:
        The chart: one row per token (rank order), two bars per row, each labelled with its percentage;
        as wide as its container (the plot shrinks to leave room for the labels).
    """
    k = len(tokens)
    rank = np.arange(k)
    frame = pd.DataFrame(
        {
            "rank": np.concatenate([rank, rank]),
            "token": [str(t) for t in tokens] * 2,
            "series": [model_name] * k + [drawn_name] * k,
            "order": [0] * k + [1] * k,
            "p": np.concatenate([np.asarray(model, np.float64), np.asarray(drawn, np.float64)]),
            "chosen": [i == chosen for i in range(k)] * 2,
        }
    )
    y = alt.Y("rank:O", axis=_axis(tokens, None, x=False), title=None)
    base = alt.Chart(frame, title=wrapped_title(title, subtitle, width)).encode(y=y, yOffset=alt.YOffset("order:O"))
    bars = base.mark_bar(height={"band": 0.9}).encode(
        x=alt.X("p:Q", title=value_title, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color(
            "series:N",
            scale=alt.Scale(domain=[model_name, drawn_name], range=[GREY, BLUE]),
            legend=alt.Legend(orient="bottom", direction="vertical", title=None, labelLimit=600),
        ),
        stroke=alt.when(alt.datum.chosen).then(alt.value(VERMILLION)).otherwise(alt.value(None)),
        strokeWidth=alt.value(2),
        tooltip=[
            alt.Tooltip("token:N", title=" "),
            alt.Tooltip("series:N", title=" "),
            alt.Tooltip("p:Q", title=value_title, format=".4f"),
        ],
    )
    # a label right of a bar past 86 % could leave the chart: those are drawn inside the bar, ending at its end
    text = alt.Text("p:Q", format=".1%")
    outside = (
        base.transform_filter((alt.datum.p >= 0.0005) & (alt.datum.p <= 0.86))
        .mark_text(align="left", dx=4, fontSize=13, color="#333333")
        .encode(x="p:Q", text=text)
    )
    inside = base.transform_filter(alt.datum.p > 0.86).mark_text(align="right", dx=-4, fontSize=13, color="white")
    inside = inside.encode(x="p:Q", text=text)
    # no autosize here: the page's chart is as wide as its column ("fit-x" from inline_spec), plot and labels inside
    return alt.layer(bars, outside, inside).properties(height=max(160, 30 * k))


def attention_row_chart(
    tokens: Sequence[str],
    weights: NDArray[np.floating],
    *,
    title: str,
    subtitle: str | list[str],
    value_title: str,
    new: int = 0,
    width: float = PAGE_PX,
) -> alt.LayerChart:
    """One query's causal attention row: a bar per earlier position (and itself), token labels below.

    Args:
        tokens: S tokens of the text so far; the last is the query's own position.
        weights: (S,) its weights over them (sum to 1).
        title, subtitle: the chart's title and the line under it.
        value_title: the weight axis's name.
        new: how many of the last tokens were written by the model (drawn in orange; the prompt in blue).
        width: the narrowest the chart is drawn (px): its title and subtitle are wrapped to it.

    Returns:
        The chart, as wide as its container (the page, or a column).
    """
    S = len(tokens)
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (S,):
        raise ValueError(f"weights must be ({S},), got {w.shape}")
    frame = pd.DataFrame(
        {"pos": np.arange(S), "token": [str(t) for t in tokens], "weight": w, "written": np.arange(S) >= S - new}
    )
    axis = alt.Axis(
        title=None, labelExpr=_token_labels(tokens), labelAngle=-45, labelAlign="right",
        labelOverlap=False, labelFontSize=14 if S <= 40 else 10, ticks=False,
    )  # fmt: skip
    base = alt.Chart(frame, title=wrapped_title(title, subtitle, width)).encode(x=alt.X("pos:O", axis=axis))
    bars = base.mark_bar().encode(
        y=alt.Y("weight:Q", title=value_title, scale=alt.Scale(domain=[0, max(float(w.max()), 1e-6)])),
        color=alt.when(alt.datum.written).then(alt.value(ORANGE)).otherwise(alt.value(BLUE)),
        tooltip=[
            alt.Tooltip("pos:O", title="#"),
            alt.Tooltip("token:N", title=" "),
            alt.Tooltip("weight:Q", title=value_title, format=".4f"),
        ],
    )
    labels = base.mark_text(dy=-8, fontSize=12).encode(
        y="weight:Q", text=alt.Text("weight:Q", format=".2f")
    )
    chart = alt.layer(bars, labels) if S <= 40 else bars
    return chart.properties(height=220)  # its width: the container's ("fit-x" from inline_spec)
