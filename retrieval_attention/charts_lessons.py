"""Altair builders for the three lesson pages: scoring functions, smoothing, top-k. No streamlit here.

Two layers, as in ``charts.py``: results -> tidy ``pandas`` frame (also what the page offers as CSV)
-> chart object. Colours come from the Okabe-Ito palette; every chart has a title and axis titles.
Wrap a chart in :func:`retrieval_attention.charts.projector` for big type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .charts import OKABE_ITO
from .scoring import CostResult, PeakinessResult
from .topk import TopKCurve, TopKError

__all__ = [
    "cost_chart",
    "cost_frame",
    "format_seconds",
    "peakiness_chart",
    "peakiness_frame",
    "scores_frame",
    "scores_strip_chart",
    "series_chart",
    "smoothing_frame",
    "topk_curve_chart",
    "topk_curve_frame",
    "topk_weights_chart",
    "topk_weights_frame",
    "weight_row_chart",
]

BLUE, ORANGE, GREEN, PINK, SKY, VERMILLION, _, BLACK = OKABE_ITO
GREY = "#999999"

# -- 1. scoring functions -------------------------------------------------------------------------


def scores_frame(scores: Mapping[str, NDArray[np.floating]], titles: Sequence[str], top: int = 5) -> pd.DataFrame:
    """Every key's score under each scoring function, with its rank; the first scorer's top keys flagged.

    Args:
        scores: scorer name -> scores (n,) of one query against the same n keys.
        titles: the n key titles.
        top: how many of the *first* scorer's best keys to flag (``top_of_first``).

    Returns:
        Columns ``scorer``, ``key``, ``title``, ``score``, ``rank`` (1 = best under that scorer),
        ``top_of_first`` (bool).
    """
    names = list(scores)
    first = np.asarray(scores[names[0]])
    flagged = set(np.argsort(-first, kind="stable")[:top].tolist())
    rows = []
    for name in names:
        s = np.asarray(scores[name], dtype=np.float64)  # (n,)
        rank = np.empty(s.size, dtype=np.int64)
        rank[np.argsort(-s, kind="stable")] = np.arange(1, s.size + 1)
        rows.append(
            pd.DataFrame(
                {
                    "scorer": name,
                    "key": np.arange(s.size),
                    "title": list(titles),
                    "score": s,
                    "rank": rank,
                    "top_of_first": [i in flagged for i in range(s.size)],
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def scores_strip_chart(frame: pd.DataFrame, top: int = 5) -> alt.VConcatChart:
    """One strip per scorer: a tick per key at its score; the first scorer's top keys in orange.

    Where the orange ticks sit tells whether a scorer ranks keys like the first one: at the right
    end for the dot-product family, scattered for an untrained additive network.
    """
    names = list(dict.fromkeys(frame["scorer"]))
    first = names[0]
    hi, lo = f"top {top} by {first}", "every other key"
    f = frame.assign(group=np.where(frame["top_of_first"], hi, lo))
    strips = []
    for j, name in enumerate(names):
        x_title = "score a(q, k), each strip on its own scale" if j == len(names) - 1 else None
        strips.append(
            alt.Chart(f[f["scorer"] == name], title=alt.Title(name, fontSize=16))
            .mark_tick(thickness=2, size=34)
            .encode(
                x=alt.X("score:Q", title=x_title, scale=alt.Scale(zero=False)),
                color=alt.Color(
                    "group:N",
                    title=None,
                    scale=alt.Scale(domain=[hi, lo], range=[ORANGE, BLUE]),
                    legend=alt.Legend(orient="top"),
                ),
                opacity=alt.condition(alt.datum.top_of_first, alt.value(1.0), alt.value(0.35)),
                order=alt.Order("top_of_first:N"),
                tooltip=["title:N", alt.Tooltip("score:Q", format=".4f"), "rank:Q"],
            )
            .properties(height=44)
        )
    return alt.vconcat(*strips, title="The same query scored against every key, four ways", spacing=14)


def cost_frame(results: Mapping[str, CostResult]) -> pd.DataFrame:
    """Measured seconds of each way to score, one row per (key set, method).

    Args:
        results: a label for the key set (e.g. "corpus") -> its :class:`CostResult`.

    Returns:
        Columns ``keys``, ``method``, ``seconds``, ``m``, ``n``, ``d``, ``hidden``, ``pairs``,
        ``times_slower_than_dot`` (seconds / dot-product seconds).
    """
    rows = []
    for label, r in results.items():
        for method, sec in (
            ("additive: one network pass per pair (m·n)", r.additive_loop_seconds),
            ("additive, vectorised in numpy (still m·n·h tanh)", r.additive_vectorised_seconds),
            ("dot product: project both sides, one matmul", r.dot_seconds),
            ("dot product, keys projected ahead (an index)", r.dot_cached_seconds),
        ):
            rows.append(
                {
                    "keys": label,
                    "method": method,
                    "seconds": sec,
                    "m": r.m,
                    "n": r.n,
                    "d": r.d,
                    "hidden": r.hidden,
                    "pairs": r.pairs,
                    "times_slower_than_dot": sec / r.dot_seconds,
                }
            )
    return pd.DataFrame(rows)


def format_seconds(s: float) -> str:
    """Seconds as a short label: "1.23 s", "45.6 ms" or "789 µs".

    Example:
        >>> format_seconds(0.0123)
        '12.3 ms'
    """
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def cost_chart(frame: pd.DataFrame, title: str = "Time to score m queries against n keys") -> alt.LayerChart:
    """Horizontal bars of measured seconds per method on a log axis, labelled with the time.

    Bars start at the decade below the fastest time (a log axis has no zero) and the axis ends
    a decade above the slowest, leaving room for the labels.
    """
    lo = 10.0 ** np.floor(np.log10(float(frame["seconds"].min())))
    hi = 10.0 ** np.ceil(np.log10(float(frame["seconds"].max())) + 0.5)
    f = frame.assign(label=[format_seconds(s) for s in frame["seconds"]], base=lo)
    order = list(dict.fromkeys(f["method"]))
    base = alt.Chart(f).encode(
        y=alt.Y("method:N", sort=order, title=None, axis=alt.Axis(labelLimit=420)),
        x=alt.X(
            "seconds:Q",
            title="seconds per call (log scale, median)",
            scale=alt.Scale(type="log", domain=[lo, hi], nice=False),
        ),
        tooltip=[
            "method:N",
            alt.Tooltip("seconds:Q", format=".3g"),
            alt.Tooltip("times_slower_than_dot:Q", format=".3g", title="× the dot product"),
        ],
    )
    bars = base.mark_bar().encode(
        x2="base:Q",
        color=alt.Color(
            "method:N", sort=order, legend=None, scale=alt.Scale(domain=order, range=[VERMILLION, ORANGE, BLUE, SKY])
        ),
    )
    text = base.mark_text(align="left", dx=6, fontSize=16, fontWeight="bold").encode(text="label:N")
    return alt.layer(bars, text, title=title).properties(height=alt.Step(44))


def peakiness_frame(result: PeakinessResult) -> pd.DataFrame:
    """:meth:`PeakinessResult.as_records` with readable labels and the uniform reference values."""
    f = pd.DataFrame(result.as_records())
    return f.assign(
        vectors_label=np.where(
            f["vectors"] == "gaussian", "Gaussian q, k (entries ~ N(0, 1))", "unit q, k (like our embeddings)"
        ),
        scaling=np.where(f["scaled"], "softmax(q·k / √d)", "softmax(q·k)"),
        uniform_max_weight=1.0 / result.n_keys,
        uniform_entropy=result.uniform_entropy,
    )


def peakiness_chart(frame: pd.DataFrame, metric: str = "max_weight") -> alt.HConcatChart:
    """Softmax peakiness against d, one panel per kind of vector, with and without ÷√d.

    Args:
        frame: from :func:`peakiness_frame`.
        metric: ``"max_weight"`` (largest weight, 1 = one-hot) or ``"entropy"`` (nats, log n = uniform).
    """
    y_title = "largest weight (mean over draws)" if metric == "max_weight" else "entropy of the weights (nats)"
    ref_col = "uniform_max_weight" if metric == "max_weight" else "uniform_entropy"
    panels = []
    for label in dict.fromkeys(frame["vectors_label"]):
        f = frame[frame["vectors_label"] == label]
        lines = (
            alt.Chart(f)
            .mark_line(point=alt.OverlayMarkDef(size=70), strokeWidth=3)
            .encode(
                x=alt.X("d:Q", title="dimension d (log scale)", scale=alt.Scale(type="log", base=2)),
                y=alt.Y(f"{metric}:Q", title=y_title),
                color=alt.Color(
                    "scaling:N",
                    title=None,
                    scale=alt.Scale(domain=["softmax(q·k)", "softmax(q·k / √d)"], range=[VERMILLION, BLUE]),
                    legend=alt.Legend(orient="top"),
                ),
                strokeDash=alt.StrokeDash(
                    "scaling:N",
                    scale=alt.Scale(domain=["softmax(q·k)", "softmax(q·k / √d)"], range=[[1, 0], [7, 4]]),
                    legend=None,
                ),
                tooltip=[
                    "scaling:N",
                    "d:Q",
                    alt.Tooltip(f"{metric}:Q", format=".3f"),
                    alt.Tooltip("score_std:Q", format=".3f"),
                ],
            )
        )
        ref = (
            alt.Chart(f.head(1))
            .mark_rule(color=GREY, strokeDash=[3, 3], strokeWidth=2)
            .encode(y=f"{ref_col}:Q", tooltip=[alt.Tooltip(f"{ref_col}:Q", title="uniform weights", format=".3f")])
        )
        panels.append(alt.layer(lines, ref, title=alt.Title(label, fontSize=16)).properties(width=380, height=300))
    return alt.hconcat(*panels, title="How peaked is the softmax as d grows? (grey dashes: uniform weights)")


# -- 2. smoothing ---------------------------------------------------------------------------------


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
    return alt.Chart(pd.DataFrame({"t": [step]})).mark_rule(color=ORANGE, strokeWidth=2).encode(x="t:Q")


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
            tooltip=["t:Q", alt.Tooltip("noisy:Q", format=".3f")],
        )
    )
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=2.5)
        .encode(
            x=x,
            y="value:Q",
            color=alt.Color(
                "series:N",
                title=None,
                sort=order,
                scale=alt.Scale(domain=order, range=[BLACK, BLUE, VERMILLION, GREEN][: len(order)]),
                legend=alt.Legend(orient="top"),
            ),
            strokeDash=alt.condition(alt.datum.series == "clean", alt.value([5, 4]), alt.value([1, 0])),
            tooltip=["series:N", "t:Q", alt.Tooltip("value:Q", format=".3f")],
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
            tooltip=["method:N", "t:Q", alt.Tooltip("weight:Q", format=".4f")],
        )
    )
    title = f"The weight row of step t = {step}: how much of each step it averages"
    return alt.layer(area, _step_rule(step), title=title).properties(height=220)


# -- 3. top-k -------------------------------------------------------------------------------------


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
            strokeDash=alt.condition(alt.datum.quantity == order[2], alt.value([4, 4]), alt.value([1, 0])),
            tooltip=["quantity:N", "k:Q", alt.Tooltip("value:Q", format=".3g")],
        )
    )
    rose = (
        alt.Chart(long[(long["quantity"] == order[1]) & long["error_rose"]])
        .mark_point(shape="triangle-up", size=90, filled=True, color=VERMILLION)
        .encode(
            x=enc_x,
            y="value:Q",
            tooltip=[alt.Tooltip("k:Q", title="error rose at k"), alt.Tooltip("value:Q", format=".3g")],
        )
    )
    rule = (
        alt.Chart(pd.DataFrame({"k": [k_now]})).mark_rule(color=BLACK, strokeDash=[2, 2], strokeWidth=2).encode(x="k:Q")
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
            tooltip=["rank:O", "title:N", "weighting:N", alt.Tooltip("weight:Q", format=".3%")],
        )
        .properties(height=300)
    )
