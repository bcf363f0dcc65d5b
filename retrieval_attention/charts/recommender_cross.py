"""The recommender page's cross-attention heatmap: every candidate (rows, best first) over the watch history.

Same two layers as :mod:`~retrieval_attention.charts.recommender`: :func:`cross_attention_frame`
reshapes a :class:`~retrieval_attention.recommender.CrossAttention` into a tidy frame (no maths),
:func:`cross_attention_heatmap` draws it. No streamlit here.
"""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import numpy as np
import pandas as pd

from retrieval_attention.charts.recommender import INK, history_label, rec_text, truncate
from retrieval_attention.recommender import CrossAttention

__all__ = ["cross_attention_frame", "cross_attention_heatmap"]


def cross_attention_frame(X: CrossAttention, label_chars: int = 26, row_chars: int = 44) -> pd.DataFrame:
    """The (C, H) matrix as a tidy frame: one row per (candidate, history item) cell.

    Args:
        X: cross-attention of the candidates (rows, best first) over the history (columns).
        label_chars: truncation of the history titles on the x axis.
        row_chars: truncation of the candidate titles on the y axis.

    Returns:
        Columns ``rank``, ``candidate``, ``candidate_title``, ``pos``, ``history``,
        ``history_title``, ``score``, ``weight``, ``is_top`` (the cell that explains the row).
    """
    C, H = X.weights.shape
    w = np.where(X.mask, X.weights, -np.inf)  # (C, H) masked cells never explain
    top = np.argmax(w, axis=1) if H else np.zeros(C, dtype=int)  # (C,)
    r, h = np.meshgrid(np.arange(C), np.arange(H), indexing="ij")  # (C, H) each
    r, h = r.ravel(), h.ravel()
    return pd.DataFrame(
        {
            "rank": r + 1,
            "candidate": [f"{i + 1}. {truncate(X.candidate_titles[i], row_chars)}" for i in r],
            "candidate_title": [X.candidate_titles[i] for i in r],
            "pos": h + 1,
            "history": [history_label(j + 1, X.history_titles[j], label_chars) for j in h],
            "history_title": [X.history_titles[j] for j in h],
            "score": X.scores[r, h],
            "weight": X.weights[r, h],
            "is_top": h == top[r],
        }
    )


def cross_attention_heatmap(
    frame: pd.DataFrame,
    normalize: bool = True,
    title: str | None = None,
    plot_width: int = 720,
    text: Mapping[str, str] | None = None,
) -> alt.LayerChart:
    """Candidates (rows) × history items (columns): who reads what. The explaining cell is outlined.

    Args:
        frame: from :func:`cross_attention_frame`.
        normalize: softmax weights in [0, 1] (sequential colours) or DIN raw weights, which can be
            negative (diverging colours centred on 0).
        title: chart title.
        plot_width: width of the cell area in pixels (the row labels come on top of it); each
            history column gets ``plot_width / H`` pixels, between 26 and 70.
        text: translations of :data:`REC_TEXT` (axis, legend and tooltip titles).
    """
    t = rec_text(text)
    rows = list(dict.fromkeys(frame["candidate"]))
    cols = list(dict.fromkeys(frame["history"]))
    if normalize:
        hi = max(float(frame["weight"].max()) if len(frame) else 1.0, 1e-9)
        scale = alt.Scale(scheme="blues", domain=[0, hi])
    else:
        hi = max(float(frame["weight"].abs().max()) if len(frame) else 1.0, 1e-9)
        scale = alt.Scale(scheme="blueorange", domain=[-hi, hi], domainMid=0)
    tooltip = [
        alt.Tooltip("candidate_title:N", title=t["recommended"]),
        alt.Tooltip("history_title:N", title=t["watched"]),
        alt.Tooltip("score:Q", format=".3f", title=t["score"]),
        alt.Tooltip("weight:Q", format=".3f", title=t["weight"]),
    ]
    x = alt.X(
        "history:N",
        sort=cols,
        title=t["history"],
        axis=alt.Axis(
            labelAngle=-55, labelLimit=230, orient="top", labelFontSize=13, labelOverlap=False, labelColor=INK
        ),
    )
    y = alt.Y("candidate:N", sort=rows, title=None, axis=alt.Axis(labelLimit=400, labelColor=INK))
    base = alt.Chart().encode(x=x, y=y, tooltip=tooltip)  # data once, on the layer
    cells = base.mark_rect().encode(color=alt.Color("weight:Q", title=t["weight"], scale=scale))
    outline = (
        base.transform_filter(alt.datum.is_top)
        .mark_rect(fill=None, stroke="#000000", strokeWidth=3)
        .encode(tooltip=tooltip)
    )
    dark = (alt.datum.weight > 0.55 * hi) | (alt.datum.weight < -0.55 * hi)
    text = (
        base.transform_filter("abs(datum.weight) >= 0.005")
        .mark_text(fontSize=13)
        .encode(
            text=alt.Text("weight:Q", format=".2f"),
            color=alt.ColorValue(**alt.condition(dark, alt.value("#FFFFFF"), alt.value("#000000"))),
        )
    )
    step = max(26, min(70, plot_width // max(len(cols), 1)))  # px per history column
    chart = alt.layer(cells, outline, text, data=frame).properties(width=step * len(cols), height=34 * len(rows))
    return chart.properties(title=title) if title else chart
