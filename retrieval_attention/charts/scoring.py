"""Charts of the scoring lesson: every key's score under four scorers, the measured cost, peakiness against d."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from retrieval_attention.charts.theme import BLUE, GREY, ORANGE, SKY, VERMILLION, wrap_lines
from retrieval_attention.core.scoring import PeakinessResult
from retrieval_attention.core.scoring_cost import CostResult
from retrieval_attention.core.topk import topk_order
from retrieval_attention.i18n import N_

__all__ = [
    "SCORING_TEXT",
    "LABEL_ROOM",
    "cost_chart",
    "cost_domain",
    "cost_frame",
    "format_seconds",
    "peakiness_chart",
    "peakiness_frame",
    "scores_frame",
    "scores_strip_chart",
]


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
    flagged = set(topk_order(first)[:top].tolist())
    rows = []
    for name in names:
        s = np.asarray(scores[name], dtype=np.float64)  # (n,)
        rank = np.empty(s.size, dtype=np.int64)
        rank[topk_order(s)] = np.arange(1, s.size + 1)
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


#: The English text of this module's charts and frames; a page passes its translation as ``text`` (any subset).
SCORING_TEXT = {
    "top": N_("top {top} by {first}"),
    "other": N_("every other key"),
    "score_x": N_("score a(q, k), each strip on its own scale"),
    "strips_title": N_("The same query scored against every key, four ways"),
    "title": N_("title"),
    "rank": N_("rank"),
    "additive_loop": N_("additive: one network pass per pair (m·n)"),
    "additive_vec": N_("additive, vectorised in numpy (still m·n·h tanh)"),
    "dot": N_("dot product: project both sides, one matmul"),
    "dot_cached": N_("dot product, keys projected ahead (an index)"),
    "seconds": N_("seconds per call (log scale, median)"),
    "times": N_("× the dot product"),
    "gaussian": N_("Gaussian q, k (entries ~ N(0, 1))"),
    "unit": N_("unit q, k (like our embeddings)"),
    "max_weight": N_("largest weight (mean over draws)"),
    "entropy": N_("entropy of the weights (nats)"),
    "dimension": N_("dimension d (log scale)"),
    "uniform": N_("uniform weights"),
    "peak_title": N_("How peaked is the softmax as d grows? (grey dashes: uniform weights)"),
}


def _text(given: Mapping[str, str] | None) -> dict[str, str]:
    return {**SCORING_TEXT, **(given or {})}  # the given translations over the English


def scores_strip_chart(frame: pd.DataFrame, top: int = 5, text: Mapping[str, str] | None = None) -> alt.VConcatChart:
    """One strip per scorer: a tick per key at its score; the first scorer's top keys in orange.

    Where the orange ticks sit tells whether a scorer ranks keys like the first one: at the right
    end for the dot-product family, scattered for an untrained additive network, mostly near the right end for a
    trained one. ``text``: translations
    of :data:`SCORING_TEXT`.
    """
    t = _text(text)
    names = list(dict.fromkeys(frame["scorer"]))
    first = names[0]
    hi, lo = t["top"].format(top=top, first=first), t["other"]
    f = frame.assign(group=np.where(frame["top_of_first"], hi, lo))
    strips = []
    for j, name in enumerate(names):
        x_title = t["score_x"] if j == len(names) - 1 else None
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
                opacity=alt.OpacityValue(**alt.condition(alt.datum.top_of_first, alt.value(1.0), alt.value(0.35))),
                order=alt.Order("top_of_first:N"),
                tooltip=[
                    alt.Tooltip("title:N", title=t["title"]),
                    alt.Tooltip("score:Q", format=".4f"),
                    alt.Tooltip("rank:Q", title=t["rank"]),
                ],
            )
            .properties(height=44)
        )
    return alt.vconcat(*strips, title=t["strips_title"], spacing=14)


def cost_frame(results: Mapping[str, CostResult], text: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Measured seconds of each way to score, one row per (key set, method).

    Args:
        results: a label for the key set (e.g. "corpus") -> its :class:`CostResult`.
        text: translations of :data:`SCORING_TEXT` (the methods' names).

    Returns:
        Columns ``keys``, ``method``, ``seconds``, ``m``, ``n``, ``d``, ``hidden``, ``pairs``,
        ``times_slower_than_dot`` (seconds / dot-product seconds).
    """
    t = _text(text)
    rows = []
    for label, r in results.items():
        for method, sec in (
            (t["additive_loop"], r.additive_loop_seconds),
            (t["additive_vec"], r.additive_vectorised_seconds),
            (t["dot"], r.dot_seconds),
            (t["dot_cached"], r.dot_cached_seconds),
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


def format_seconds(s: float, decimal: str = ".") -> str:
    """Seconds as a short label: "1.23 s", "45.6 ms" or "789 µs", with ``decimal`` as the decimal sign.

    Example:
        >>> format_seconds(0.0123), format_seconds(0.0123, ",")
        ('12.3 ms', '12,3 ms')
    """
    if s >= 1:
        text = f"{s:.2f} s"
    elif s >= 1e-3:
        text = f"{s * 1e3:.1f} ms"
    else:
        text = f"{s * 1e6:.0f} µs"
    return text.replace(".", decimal)


#: The share of the cost chart's log axis kept free right of the slowest bar, for its label: "133,6 ms"
#: in bold 16 px is about 76 px with its gap, and the Spanish plot is about 325 px wide at 1280 (its
#: method names take the rest); ending the axis at the next decade only had left it 71 px there.
LABEL_ROOM = 0.3


def cost_domain(seconds: Iterable[float]) -> tuple[float, float]:
    """The cost chart's log axis: from the decade below the fastest time to the first decade above the
    slowest that leaves :data:`LABEL_ROOM` of the axis free for the slowest bar's label.

    Example:
        >>> cost_domain([178e-6, 0.1089]), cost_domain([178e-6, 0.02])
        ((0.0001, 10.0), (0.0001, 1.0))
    """
    logs = np.log10(np.asarray(list(seconds), dtype=float))
    lo, top = float(np.floor(logs.min())), float(logs.max())
    hi = float(np.ceil(top + 0.5))
    while hi - top < LABEL_ROOM * (hi - lo):  # each decade added frees a larger share
        hi += 1
    return 10.0**lo, 10.0**hi


def cost_chart(
    frame: pd.DataFrame,
    title: str = "Time to score m queries against n keys",
    text: Mapping[str, str] | None = None,
    decimal: str = ".",
) -> alt.LayerChart:
    """Horizontal bars of measured seconds per method on a log axis, labelled with the time.

    Bars start at the decade below the fastest time (a log axis has no zero) and the axis ends
    at a decade that leaves room for the slowest bar's label (:func:`cost_domain`). ``text``: translations of :data:`SCORING_TEXT`;
    ``decimal``: the labels' decimal sign (``","`` in Spanish).
    """
    t = _text(text)
    lo, hi = cost_domain(frame["seconds"])
    f = frame.assign(label=[format_seconds(s, decimal) for s in frame["seconds"]], base=lo)
    order = list(dict.fromkeys(f["method"]))
    base = alt.Chart(f).encode(
        y=alt.Y("method:N", sort=order, title=None, axis=alt.Axis(labelLimit=420)),
        x=alt.X(
            "seconds:Q",
            title=t["seconds"],
            # ending at the plot's right end, reaching left under the labels: centred under the plot, the
            # Spanish title ran 16 px past the page at 1280 wide
            axis=alt.Axis(titleAnchor="end", titleAlign="right"),
            scale=alt.Scale(type="log", domain=[lo, hi], nice=False),
        ),
        tooltip=[
            alt.Tooltip("method:N"),
            alt.Tooltip("seconds:Q", format=".3g"),
            alt.Tooltip("times_slower_than_dot:Q", format=".3g", title=t["times"]),
        ],
    )
    bars = base.mark_bar().encode(
        x2=alt.X2("base:Q"),
        color=alt.Color(
            "method:N", sort=order, legend=None, scale=alt.Scale(domain=order, range=[VERMILLION, ORANGE, BLUE, SKY])
        ),
    )
    text = base.mark_text(align="left", dx=6, fontSize=16, fontWeight="bold").encode(text=alt.Text("label:N"))
    # a number, 44 px a bar, not a step: a step height beside a container width logs "Dropping fit-y"
    return alt.layer(bars, text, title=title).properties(height=44 * len(order))


def peakiness_frame(result: PeakinessResult, text: Mapping[str, str] | None = None) -> pd.DataFrame:
    """:meth:`PeakinessResult.as_records` with readable labels (``text``: translations of
    :data:`SCORING_TEXT`) and the uniform reference values."""
    t = _text(text)
    f = pd.DataFrame(result.as_records())
    return f.assign(
        vectors_label=np.where(f["vectors"] == "gaussian", t["gaussian"], t["unit"]),
        scaling=np.where(f["scaled"], "softmax(q·k / √d)", "softmax(q·k)"),
        uniform_max_weight=1.0 / result.n_keys,
        uniform_entropy=result.uniform_entropy,
    )


#: The width of each of the peakiness chart's two plots (px): both, with their axes, fit the page at 1280 wide
#: (380 ran 193 px past it); their titles wrap to it.
PANEL = 270


def peakiness_chart(
    frame: pd.DataFrame, metric: str = "max_weight", text: Mapping[str, str] | None = None
) -> alt.HConcatChart:
    """Softmax peakiness against d, one panel per kind of vector, with and without ÷√d.

    Args:
        frame: from :func:`peakiness_frame`.
        metric: ``"max_weight"`` (largest weight, 1 = one-hot) or ``"entropy"`` (nats, log n = uniform).
        text: translations of :data:`SCORING_TEXT` (axis titles, the title).
    """
    t = _text(text)
    y_title = t["max_weight"] if metric == "max_weight" else t["entropy"]
    ref_col = "uniform_max_weight" if metric == "max_weight" else "uniform_entropy"
    panels = []
    for label in dict.fromkeys(frame["vectors_label"]):
        f = frame[frame["vectors_label"] == label]
        lines = (
            alt.Chart(f)
            .mark_line(point=alt.OverlayMarkDef(size=70), strokeWidth=3)
            .encode(
                x=alt.X("d:Q", title=t["dimension"], scale=alt.Scale(type="log", base=2)),
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
                    alt.Tooltip("scaling:N"),
                    alt.Tooltip("d:Q"),
                    alt.Tooltip(f"{metric}:Q", format=".3f"),
                    alt.Tooltip("score_std:Q", format=".3f"),
                ],
            )
        )
        ref = (
            alt.Chart(f.head(1))
            .mark_rule(color=GREY, strokeDash=[3, 3], strokeWidth=2)
            .encode(y=alt.Y(f"{ref_col}:Q"), tooltip=[alt.Tooltip(f"{ref_col}:Q", title=t["uniform"], format=".3f")])
        )
        title = alt.Title(wrap_lines(label, PANEL, 16), fontSize=16)
        panels.append(alt.layer(lines, ref, title=title).properties(width=PANEL, height=300))
    return alt.hconcat(*panels, title=t["peak_title"])
