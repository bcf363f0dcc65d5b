"""Charts of the top-k lesson: kept weight and output error against k, and the kept and dropped weights."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd

from retrieval_attention.charts.theme import BLACK, BLUE, GREY, VERMILLION
from retrieval_attention.core.topk import TopKCurve, TopKError

__all__ = [
    "topk_curve_chart",
    "topk_curve_frame",
    "topk_weights_chart",
    "topk_weights_frame",
]


def topk_curve_frame(curve: TopKCurve) -> pd.DataFrame:
    """:meth:`TopKCurve.as_records` plus ``error_rose``: the output error is larger than at the previous k."""
    f = pd.DataFrame(curve.as_records())
    return f.assign(error_rose=f["output_error"].diff().fillna(0.0) > 0)


def topk_curve_chart(frame: pd.DataFrame, k_now: int) -> alt.LayerChart:
    """τ(k) (= TV distance) and the output error against k, log scale; k = n (both exactly 0) is left off.

    Args:
        frame: from :func:`topk_curve_frame`.
        k_now: the k in use, marked by a vertical rule.
    """
    names = {
        "tail_mass": "tail mass τ (= TV distance)",
        "output_error": "output error ‖o_full − o_topk‖",
        "error_bound": "bound 2τ·max‖v‖",
    }
    long = frame.melt(id_vars=["k", "error_rose"], value_vars=list(names), var_name="quantity", value_name="value")
    long = long.assign(quantity=long["quantity"].map(names))
    long = long[long["value"] > 0]
    order = list(names.values())
    n = int(frame["k"].max())
    enc_x = alt.X("k:Q", title="k, keys kept (log scale)", scale=alt.Scale(type="log", domain=[1, n], nice=False))
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=3, interpolate="step-after")
        .encode(
            x=enc_x,
            y=alt.Y(
                "value:Q",
                title="size (log scale)",
                scale=alt.Scale(type="log"),
                axis=alt.Axis(labelExpr="format(datum.value, datum.value >= 0.01 ? '~g' : '.0e')"),
            ),
            color=alt.Color(
                "quantity:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[BLUE, VERMILLION, GREY]),
                legend=alt.Legend(orient="top"),
            ),
            strokeDash=alt.StrokeDashValue(
                **alt.condition(alt.datum.quantity == order[2], alt.value([4, 4]), alt.value([1, 0]))
            ),
            tooltip=[alt.Tooltip("quantity:N"), alt.Tooltip("k:Q"), alt.Tooltip("value:Q", format=".3g")],
        )
    )
    rose = (
        alt.Chart(long[(long["quantity"] == order[1]) & long["error_rose"]])
        .mark_point(shape="triangle-up", size=90, filled=True, color=VERMILLION)
        .encode(
            x=enc_x,
            y=alt.Y("value:Q"),
            tooltip=[alt.Tooltip("k:Q", title="error rose at k"), alt.Tooltip("value:Q", format=".3g")],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"k": [k_now]}))
        .mark_rule(color=BLACK, strokeDash=[2, 2], strokeWidth=2)
        .encode(x=alt.X("k:Q"))
    )
    title = alt.Title(
        "What top-k drops, as k goes from 1 to n",
        subtitle="▲ = the output error went up from k − 1 to k · dotted line: the k in use",
        subtitleFontSize=15,
    )
    return alt.layer(lines, rose, rule, title=title).properties(height=340)


def topk_weights_frame(err: TopKError, titles: Sequence[str], show: int = 20) -> pd.DataFrame:
    """Full and top-k weights of the ``show`` best keys (best first), tidy: one row per (key, weighting)."""
    order = np.argsort(-err.weights, kind="stable")[:show]
    rows = []
    for label, w in (("full softmax", err.weights), (f"softmax over the top {err.k}", err.topk_weights)):
        rows.append(
            pd.DataFrame(
                {
                    "rank": np.arange(1, order.size + 1),
                    "title": [titles[i] for i in order],
                    "weighting": label,
                    "weight": w[order],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def topk_weights_chart(frame: pd.DataFrame) -> alt.Chart:
    """Grouped bars: each of the best keys' weight under full attention and under top-k attention."""
    order = list(dict.fromkeys(frame["weighting"]))
    return (
        alt.Chart(frame, title="Weights of the best keys: full softmax vs top-k (renormalised)")
        .mark_bar()
        .encode(
            x=alt.X("rank:O", title="key rank under the full softmax"),
            xOffset=alt.XOffset("weighting:N", sort=order),
            y=alt.Y("weight:Q", title="weight", axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "weighting:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[GREY, BLUE]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("rank:O"),
                alt.Tooltip("title:N"),
                alt.Tooltip("weighting:N"),
                alt.Tooltip("weight:Q", format=".3%"),
            ],
        )
        .properties(height=300)
    )
