"""Charts of the K·Kᵀ vs Q·Kᵀ lesson: why a token needs a query separate from its key. No streamlit.

A relevance matrix on a diverging scale with its most asymmetric pair outlined, and the asymmetry of
q·Kᵀ for every layer and head. Token axes and colours are the transformer charts' own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from retrieval_attention.charts.transformer import (
    PAD,
    SELECTED,
    SIGNED_SCHEME,
    WEIGHTS_SCHEME,
    _text,
    _token_axis,
    attention_frame,
    cell_size,
    label_font,
)

__all__ = ["asymmetry_heads_chart", "relevance_heatmap"]


def relevance_heatmap(
    scores: NDArray[np.floating],
    tokens: Sequence[str],
    pair: tuple[int, int],
    *,
    title: str,
    asymmetry: float,
    cell: int | None = None,
    text: Mapping[str, str] | None = None,
    decimal: str = ".",
) -> alt.LayerChart:
    """One relevance matrix (K·Kᵀ or Q·Kᵀ) on a diverging scale around 0, the most asymmetric pair outlined.

    Show K·Kᵀ and Q·Kᵀ side by side: the first is a mirror image across its diagonal, the second not.

    Args:
        scores: (T, T) K Kᵀ / sqrt(hd) or q Kᵀ / sqrt(hd); row i = token i asking, column j = token j.
        tokens: T tokens.
        pair: (i, j), the most asymmetric pair of Q·Kᵀ; cells (i, j) and (j, i) are outlined.
        title: chart title.
        asymmetry: ‖A − Aᵀ‖_F / ‖A‖_F of ``scores``, shown under the title.
        cell: pixels per cell; default :func:`cell_size` for half a page.
        text: translations of :data:`HEATMAP_TEXT` (subtitle, axis, legend and tooltip titles).
        decimal: the decimal sign of the subtitle's number (``","`` in Spanish; the subtitle is text, so the
            chart's number locale does not reach it).
    """
    t = _text(text)
    T = len(tokens)
    c = cell or cell_size(T, target=280, lo=8, hi=26)
    i, j = pair
    f = attention_frame(scores, tokens, tokens).rename(columns={"weight": "score"})
    f["pair"] = ((f["q"] == i) & (f["k"] == j)) | ((f["q"] == j) & (f["k"] == i))
    lim = float(max(np.abs(np.asarray(scores)).max(), 1e-6))
    base = alt.Chart(
        f,
        title=alt.Title(
            title, subtitle=t["subtitle"].format(a=f"{asymmetry:.2f}".replace(".", decimal)), subtitleFontSize=15
        ),
    )
    enc = {
        "x": alt.X("k:O", axis=_token_axis(tokens, t["key"], x=True, font=label_font(c), cell=c)),
        "y": alt.Y("q:O", axis=_token_axis(tokens, t["query"], x=False, font=label_font(c))),
    }
    rect = base.mark_rect().encode(
        **enc,
        color=alt.Color(
            "score:Q",
            title=t["score"],
            scale=alt.Scale(scheme=SIGNED_SCHEME, domain=[-lim, lim], domainMid=0),
            legend=alt.Legend(orient="bottom", direction="horizontal", format=".1f", gradientLength=220),
        ),
        tooltip=[
            alt.Tooltip("query:N", title=t["query"]),
            alt.Tooltip("key:N", title=t["key"]),
            alt.Tooltip("score:Q", format=".3f"),
        ],
    )
    outline = (
        base.transform_filter(alt.datum.pair)
        .mark_rect(fill=None, stroke=SELECTED, strokeWidth=3)
        .encode(**enc, tooltip=[alt.Tooltip("query:N", title=t["query"]), alt.Tooltip("key:N", title=t["key"])])
    )
    return alt.layer(rect, outline).properties(width=c * T, height=c * T, autosize=PAD)


def asymmetry_heads_chart(
    values: NDArray[np.floating], layer: int, head: int, text: Mapping[str, str] | None = None
) -> alt.LayerChart:
    """Asymmetry of q·Kᵀ for every layer (rows) and head (columns); the selected one outlined.

    Args:
        values: (n_layers, h) asymmetry ‖A − Aᵀ‖_F / ‖A‖_F of each head's scores.
        layer: the selected layer.
        head: the selected head.
        text: translations of :data:`HEATMAP_TEXT` (title and axis titles).
    """
    t = _text(text)
    n_layers, h = values.shape
    ly, hd = np.meshgrid(np.arange(n_layers), np.arange(h), indexing="ij")
    f = pd.DataFrame({"layer": ly.ravel(), "head": hd.ravel(), "asymmetry": np.asarray(values, dtype=float).ravel()})
    f["selected"] = (f["layer"] == layer) & (f["head"] == head)
    base = alt.Chart(f, title=t["asymmetry_title"]).encode(
        x=alt.X("head:O", title=t["head"].format(h="").strip(), axis=alt.Axis(labelAngle=0, orient="top")),
        y=alt.Y("layer:O", title=t["layer"]),
    )
    rect = base.mark_rect(stroke="white").encode(
        color=alt.Color(
            "asymmetry:Q",
            scale=alt.Scale(scheme=WEIGHTS_SCHEME, domain=[0, float(max(values.max(), 1e-6))]),
            legend=None,
        ),
        tooltip=[alt.Tooltip("layer:O"), alt.Tooltip("head:O"), alt.Tooltip("asymmetry:Q", format=".3f")],
    )
    text = base.mark_text(fontSize=13).encode(
        text=alt.Text("asymmetry:Q", format=".2f"),
        color=alt.ColorValue(
            **alt.when(alt.datum.asymmetry > 0.6 * float(values.max()))
            .then(alt.value("white"))
            .otherwise(alt.value("black"))
        ),
    )
    outline = base.transform_filter(alt.datum.selected).mark_rect(fill=None, stroke=SELECTED, strokeWidth=3)
    return alt.layer(rect, text, outline).properties(width=alt.Step(46), height=alt.Step(32), autosize=PAD)
