"""Charts of the top-k lesson: kept weight and output error against k, and the kept and dropped weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from retrieval_attention.charts.theme import BLACK, BLUE, GREY, VERMILLION
from retrieval_attention.core.topk import TopKCurve, TopKError, topk_order
from retrieval_attention.i18n import N_

__all__ = [
    "TOPK_TEXT",
    "topk_curve_chart",
    "topk_curve_frame",
    "topk_weights_chart",
    "topk_weights_frame",
]


#: The English text of this module's charts; a page passes its translation as ``text`` (any subset).
TOPK_TEXT = {
    "tail_mass": N_("tail mass τ (= TV distance)"),
    "output_error": N_("output error ‖o_full − o_topk‖"),
    "error_bound": N_("bound 2τ·max‖v‖"),
    "x_curve": N_("k, keys kept (log scale)"),
    "y_curve": N_("size (log scale)"),
    "rose": N_("error rose at k"),
    "title_curve": N_("What top-k drops, as k goes from 1 to n"),
    "subtitle_curve": N_("▲ = the output error went up from k − 1 to k · dotted line: the k in use"),
    "full": N_("full softmax"),
    "topk": N_("softmax over the top {k}"),
    "title_weights": N_("Weights of the best keys: full softmax vs top-k (renormalised)"),
    "x_weights": N_("key rank under the full softmax"),
    "weight": N_("weight"),
    "rank": N_("rank"),
    "title": N_("title"),
    "value": N_("value"),
}


def _text(given: Mapping[str, str] | None) -> dict[str, str]:
    return {**TOPK_TEXT, **(given or {})}  # the given translations over the English


def topk_curve_frame(curve: TopKCurve) -> pd.DataFrame:
    """:meth:`TopKCurve.as_records` plus ``error_rose``: the output error is larger than at the previous k."""
    f = pd.DataFrame(curve.as_records())
    return f.assign(error_rose=f["output_error"].diff().fillna(0.0) > 0)


def topk_curve_chart(frame: pd.DataFrame, k_now: int, text: Mapping[str, str] | None = None) -> alt.LayerChart:
    """τ(k) (= TV distance) and the output error against k, log scale; k = n (both exactly 0) is left off.

    Args:
        frame: from :func:`topk_curve_frame`.
        k_now: the k in use, marked by a vertical rule.
        text: translations of :data:`TOPK_TEXT`.
    """
    t = _text(text)
    names = {name: t[name] for name in ("tail_mass", "output_error", "error_bound")}
    long = frame.melt(id_vars=["k", "error_rose"], value_vars=list(names), var_name="quantity", value_name="value")
    long = long.assign(quantity=long["quantity"].map(names))
    long = long[long["value"] > 0]
    order = list(names.values())
    n = int(frame["k"].max())
    enc_x = alt.X("k:Q", title=t["x_curve"], scale=alt.Scale(type="log", domain=[1, n], nice=False))
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=3, interpolate="step-after")
        .encode(
            x=enc_x,
            y=alt.Y(
                "value:Q",
                title=t["y_curve"],
                scale=alt.Scale(type="log"),
                axis=alt.Axis(labelExpr="format(datum.value, datum.value >= 0.01 ? '~g' : '.0e')"),
            ),
            color=alt.Color(
                "quantity:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[BLUE, VERMILLION, GREY]),
                legend=alt.Legend(orient="top", columns=2),  # three long names: two rows, none clipped (es, 1280 px)
            ),
            strokeDash=alt.StrokeDashValue(
                **alt.condition(alt.datum.quantity == order[2], alt.value([4, 4]), alt.value([1, 0]))
            ),
            tooltip=[
                alt.Tooltip("quantity:N", title=" "),  # the line's name is its own label
                alt.Tooltip("k:Q"),
                alt.Tooltip("value:Q", format=".3g", title=t["value"]),
            ],
        )
    )
    rose = (
        alt.Chart(long[(long["quantity"] == order[1]) & long["error_rose"]])
        .mark_point(shape="triangle-up", size=90, filled=True, color=VERMILLION)
        .encode(
            x=enc_x,
            y=alt.Y("value:Q"),
            tooltip=[alt.Tooltip("k:Q", title=t["rose"]), alt.Tooltip("value:Q", format=".3g", title=t["value"])],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"k": [k_now]}))
        .mark_rule(color=BLACK, strokeDash=[2, 2], strokeWidth=2)
        .encode(x=alt.X("k:Q"))
    )
    title = alt.Title(
        t["title_curve"],
        subtitle=t["subtitle_curve"],
        subtitleFontSize=15,
    )
    return alt.layer(lines, rose, rule, title=title).properties(height=340)


def topk_weights_frame(
    err: TopKError, titles: Sequence[str], show: int = 20, text: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Full and top-k weights of the ``show`` best keys (best first), tidy: one row per (key, weighting).

    ``text``: translations of :data:`TOPK_TEXT` (the two weightings' names).
    """
    t = _text(text)
    order = topk_order(err.weights)[:show]  # the best keys, best first
    rows = []
    for label, w in ((t["full"], err.weights), (t["topk"].format(k=err.k), err.topk_weights)):
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


def topk_weights_chart(frame: pd.DataFrame, text: Mapping[str, str] | None = None) -> alt.Chart:
    """Grouped bars: each of the best keys' weight under full attention and under top-k attention.

    ``text``: translations of :data:`TOPK_TEXT` (title, axis and tooltip titles).
    """
    t = _text(text)
    order = list(dict.fromkeys(frame["weighting"]))
    return (
        alt.Chart(frame, title=t["title_weights"])
        .mark_bar()
        .encode(
            x=alt.X("rank:O", title=t["x_weights"]),
            xOffset=alt.XOffset("weighting:N", sort=order),
            y=alt.Y("weight:Q", title=t["weight"], axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "weighting:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[GREY, BLUE]),
                legend=alt.Legend(orient="top"),
            ),
            tooltip=[
                alt.Tooltip("rank:O", title=t["rank"]),
                alt.Tooltip("title:N", title=t["title"]),
                alt.Tooltip("weighting:N", title=" "),
                alt.Tooltip("weight:Q", format=".3%", title=t["weight"]),
            ],
        )
        .properties(height=300)
    )
