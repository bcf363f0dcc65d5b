"""Altair chart builders for the "Inside a transformer" page: arrays in, chart objects out. No streamlit.

Heatmaps put tokens on both axes in reading order: rows are queries ("who is asking"), columns are
keys ("who is answering"). Positions, not token strings, are the axis fields, so a token that
occurs twice (",", "de") keeps two rows; the axis labels map positions back to the token text,
which is plain text, so Chinese and Japanese labels render with the browser's CJK fonts.

Weights use the sequential, colour-blind-safe "blues" scheme; signed scores (q·k, K·Kᵀ, head
outputs) use the diverging "blueorange" scheme centred on 0.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from retrieval_attention.i18n import N_

__all__ = [
    "HEAD_PICK",
    "MASKED",
    "MIN_GRID_FONT",
    "attention_frame",
    "attention_heatmap",
    "cell_size",
    "concat_projection_chart",
    "heads_grid",
    "label_font",
]

#: Colour of cells the causal mask removed (score −∞, weight 0).
MASKED = "#BDBDBD"
WEIGHTS_SCHEME = "blues"
SIGNED_SCHEME = "blueorange"
SELECTED = "#D55E00"  # Okabe-Ito vermillion: the selected head / the most asymmetric pair
#: Width and height are the plot area; labels and legends add to them (cells stay square).
PAD = alt.AutoSizeParams(type="pad", contains="padding")
#: The English text of the heatmaps (a page passes its translation as ``text``, any subset of keys).
HEATMAP_TEXT = {
    "x": N_("key: who is answering (column)"),
    "y": N_("query: who is asking (row)"),
    "weight": N_("weight"),
    "query": N_("query (row)"),
    "key": N_("key (column)"),
    "masked": N_("masked (−∞)"),
    "query_position": N_("query position"),
    "key_position": N_("key position"),
    "head": N_("head {h}"),
    "selected": N_("◀ selected"),
    "pattern": N_("pattern"),
    "score": N_("score"),
    "subtitle": N_("asymmetry ‖A − Aᵀ‖/‖A‖ = {a}"),
    "layer": N_("layer"),
    "dimension": N_("dimension"),
    "asymmetry_title": N_("Asymmetry of Q·Kᵀ in every head (0 = symmetric)"),
    "concat_title": N_("Concat(head₀ … head₁₁) for “{token}”: {h} heads × {hd} numbers side by side"),
    "concat_subtitle": N_("each block between two black lines is one head's output for this token"),
    "projected_title": N_("… × W_O + b_O: “{token}” after the output projection ({d} numbers)"),
    "projected_subtitle": N_(
        "every output number mixes all heads: this is what the next layer receives (after residual + LayerNorm)"
    ),
}


def _text(given: Mapping[str, str] | None) -> dict[str, str]:
    return {**HEATMAP_TEXT, **(given or {})}  # the given translations over the English


def cell_size(n: int, target: int = 640, lo: int = 12, hi: int = 46) -> int:
    """Pixels per heatmap cell so that ``n`` tokens span about ``target`` pixels, within [lo, hi].

    Example:
        >>> cell_size(16), cell_size(48), cell_size(3)
        (40, 13, 46)
    """
    return int(max(lo, min(hi, target // max(n, 1))))


#: The smallest type in the head grid (px): token labels are left out rather than drawn smaller.
MIN_GRID_FONT = 12
#: The head grid's click selection: ``[{"order": head}]`` once a panel is clicked.
HEAD_PICK = "head_pick"


def label_font(cell: int) -> int:
    """Token label size for a cell size: 15 px on a projector, smaller when cells are small."""
    return int(max(8, min(15, cell - 1)))


def _labels(tokens: Sequence[str]) -> str:
    """A Vega expression mapping a position (the axis value) to its token text."""
    return f"{json.dumps(list(tokens), ensure_ascii=False)}[datum.value]"


def _text_width(text: str, font: int) -> float:
    """Rough rendered width in pixels: CJK and other wide characters are square, Latin about 0.55 em."""
    return sum(font if ord(ch) >= 0x2E80 else 0.55 * font for ch in text)


def _token_axis(
    tokens: Sequence[str], title: str | None, *, x: bool, font: int = 15, labels: bool = True, cell: int = 0
) -> alt.Axis:
    """Token labels by position; x labels stay horizontal when every token fits its cell (e.g. CJK)."""
    common = {
        "title": title,
        "labelExpr": _labels(tokens),
        "labelFontSize": font,
        "labelOverlap": False,  # every token gets its label
        "ticks": False,
        "labels": labels,
    }
    if x and max((_text_width(t, font) for t in tokens), default=0.0) <= cell - 4:
        return alt.Axis(orient="top", labelAngle=0, labelAlign="center", labelBaseline="bottom", **common)
    if x:
        return alt.Axis(orient="top", labelAngle=-45, labelAlign="left", labelBaseline="middle", **common)
    return alt.Axis(labelPadding=6, **common)


def attention_frame(
    weights: NDArray[np.floating],
    query_tokens: Sequence[str],
    key_tokens: Sequence[str],
    mask: NDArray[np.floating] | None = None,
) -> pd.DataFrame:
    """One tidy row per (query, key) cell.

    Args:
        weights: (L, S) attention weights (or scores), row i = query token i.
        query_tokens: L tokens (rows).
        key_tokens: S tokens (columns).
        mask: optional (L, S) additive mask; cells with -inf are flagged ``masked``.

    Returns:
        Columns ``q``, ``k`` (positions), ``query``, ``key`` (token text), ``weight``, ``masked``.
    """
    w = np.asarray(weights, dtype=np.float64)
    L, S = w.shape
    q, k = np.meshgrid(np.arange(L), np.arange(S), indexing="ij")  # (L, S) each
    masked = np.isneginf(mask) if mask is not None else np.zeros((L, S), dtype=bool)
    return pd.DataFrame(
        {
            "q": q.ravel(),
            "k": k.ravel(),
            "query": np.asarray(query_tokens, dtype=object)[q.ravel()],
            "key": np.asarray(key_tokens, dtype=object)[k.ravel()],
            "weight": w.ravel(),
            "masked": masked.ravel(),
        }
    )


def attention_heatmap(
    weights: NDArray[np.floating],
    query_tokens: Sequence[str],
    key_tokens: Sequence[str],
    *,
    mask: NDArray[np.floating] | None = None,
    title: str = "Attention weights",
    text: Mapping[str, str] | None = None,
    cell: int | None = None,
    show_values: bool | None = None,
) -> alt.LayerChart:
    """Heatmap of one head's weights: rows = queries (who is asking), columns = keys.

    Args:
        weights: (L, S) weights, each row sums to 1 (over all S keys, even if only some are shown).
        query_tokens: L tokens in reading order (top to bottom).
        key_tokens: S tokens in reading order (left to right).
        mask: optional (L, S) additive mask; -inf cells are drawn grey ("masked").
        title: chart title.
        text: translations of :data:`HEATMAP_TEXT` (axis, legend and tooltip titles).
        cell: pixels per cell; default :func:`cell_size` of the larger side.
        show_values: print the weight in each cell (>= 0.1); default when cells are 30 px or more.
    """
    f = attention_frame(weights, query_tokens, key_tokens, mask)
    L, S = len(query_tokens), len(key_tokens)
    c = cell or cell_size(max(L, S))
    show = c >= 30 if show_values is None else show_values
    vmax = max(float(f.loc[~f["masked"], "weight"].max()) if (~f["masked"]).any() else 1.0, 1e-6)
    t = _text(text)
    base = alt.Chart(f, title=title).encode(
        x=alt.X("k:O", axis=_token_axis(key_tokens, t["x"], x=True, font=label_font(c), cell=c)),
        y=alt.Y("q:O", axis=_token_axis(query_tokens, t["y"], x=False, font=label_font(c))),
    )
    colour = (
        alt.when(alt.datum.masked)
        .then(alt.value(MASKED))
        .otherwise(
            alt.Color(
                "weight:Q",
                title=t["weight"],
                scale=alt.Scale(scheme=WEIGHTS_SCHEME, domain=[0, vmax]),
                # no longer than the plot: under a five-token heatmap (180 px) a 240 px scale ran 7 px
                # past its half of the page (the causal page, in Spanish); a label that would touch the
                # previous one is left out ("0.000.20" under a 216 px scale up to 0.96)
                legend=alt.Legend(
                    orient="bottom",
                    direction="horizontal",
                    format=".2f",
                    gradientLength=min(240, max(c * S, 120)),
                    labelOverlap="greedy",
                    labelSeparation=8,
                ),
            )
        )
    )
    rect = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        color=colour,
        tooltip=[
            alt.Tooltip("query:N", title=t["query"]),
            alt.Tooltip("key:N", title=t["key"]),
            alt.Tooltip("weight:Q", format=".4f", title=t["weight"]),
            alt.Tooltip("masked:N", title=t["masked"]),
            alt.Tooltip("q:O", title=t["query_position"]),
            alt.Tooltip("k:O", title=t["key_position"]),
        ],
    )
    layers: list[alt.Chart] = [rect]
    if show:
        text = (
            base.transform_filter((alt.datum.weight >= 0.1) & ~alt.datum.masked)
            .mark_text(fontSize=max(10, min(14, c // 3)))
            .encode(
                text=alt.Text("weight:Q", format=".2f"),
                color=alt.ColorValue(
                    **alt.when(alt.datum.weight > 0.55 * vmax).then(alt.value("white")).otherwise(alt.value("black"))
                ),
            )
        )
        layers.append(text)
    return alt.layer(*layers).properties(width=c * S, height=c * L, autosize=PAD)


def heads_grid(
    weights: NDArray[np.floating],
    query_tokens: Sequence[str],
    key_tokens: Sequence[str],
    *,
    selected: int | None = None,
    names: Sequence[str] | None = None,
    columns: int = 3,
    panel: int = 192,
    text: Mapping[str, str] | None = None,
) -> alt.FacetChart:
    """All heads of one layer as small multiples, one shared colour scale; a click on a panel selects its head.

    Token labels are drawn only when they can be :data:`MIN_GRID_FONT` px or more (a cell at least that
    tall), so nothing in the grid is smaller than that on a projector: with more tokens the panels show
    the pattern alone, the tooltip names the tokens, and a click (the ``head_pick`` selection, on the
    field ``order`` = the head) lets the app show that head large. Three columns of 192 px panels with
    their labels fit the 760 px a 1280 px wide screen leaves beside the sidebar, so the browser does
    not scale the grid (and its type) down.

    Args:
        weights: (h, L, S) weights of every head.
        query_tokens: L tokens (rows of every panel).
        key_tokens: S tokens (columns of every panel).
        selected: the head shown large elsewhere; its panel title says so.
        names: h short labels (e.g. each head's measured pattern), a second line under each panel's
            title; None for none.
        columns: panels per row.
        panel: approximate panel size in pixels.
        text: translations of :data:`HEATMAP_TEXT` (panel names, legend and tooltip titles).
    """
    t = _text(text)
    h, L, S = weights.shape
    if names is not None and len(names) != h:
        raise ValueError(f"names must hold one label per head ({h}), got {len(names)}")
    frames = []
    for head in range(h):
        f = attention_frame(weights[head], query_tokens, key_tokens)
        title = t["head"].format(h=head) + ("  " + t["selected"] if head == selected else "")
        name = "" if names is None else str(names[head])
        frames.append(f.assign(head=title, name=name, panel=title + ("\n" + name if name else ""), order=head))
    f = pd.concat(frames, ignore_index=True)
    c = max(3, panel // max(L, S))
    labelled = c >= MIN_GRID_FONT
    font = max(MIN_GRID_FONT, label_font(min(c, 14)))
    pick = alt.selection_point(name=HEAD_PICK, fields=["order"], on="click", toggle=False)
    return (
        alt.Chart(f)
        .mark_rect(cursor="pointer")
        .encode(
            x=alt.X("k:O", axis=_token_axis(key_tokens, None, x=True, font=font, labels=labelled, cell=c)),
            y=alt.Y("q:O", axis=_token_axis(query_tokens, None, x=False, font=font, labels=labelled)),
            color=alt.Color(
                "weight:Q",
                title=t["weight"],
                scale=alt.Scale(scheme=WEIGHTS_SCHEME, domain=[0, float(max(weights.max(), 1e-6))]),
                legend=alt.Legend(orient="top", format=".1f", gradientLength=300),
            ),
            tooltip=[
                alt.Tooltip("head:N", title=t["head"].format(h="").strip()),
                *([alt.Tooltip("name:N", title=t["pattern"])] if names is not None else []),
                alt.Tooltip("query:N", title=t["query"]),
                alt.Tooltip("key:N", title=t["key"]),
                alt.Tooltip("weight:Q", format=".4f", title=t["weight"]),
            ],
        )
        .properties(width=c * S, height=c * L)
        .add_params(pick)
        .facet(
            facet=alt.Facet(
                "panel:N",
                title=None,
                sort=alt.SortField("order"),
                header=alt.Header(
                    labelFontSize=16,
                    labelFontWeight="bold",
                    labelAnchor="start",
                    labelColor="black",
                    labelExpr="split(datum.value, '\\n')",  # the pattern's name on a second line
                ),
            ),
            columns=columns,
            spacing=12,
        )
    )


def concat_projection_chart(
    head_outputs: NDArray[np.floating],
    projected: NDArray[np.floating],
    token: str,
    text: Mapping[str, str] | None = None,
) -> alt.VConcatChart:
    """One token's multi-head step: h head outputs side by side (the concat), then concat W_O + b_O.

    Args:
        head_outputs: (h, hd) the token's output of every head (weights @ V).
        projected: (d,) the same token after the output projection, d = h * hd.
        token: the token's text, for the titles.
        text: translations of :data:`HEATMAP_TEXT` (titles, subtitles, the axis title).
    """
    t = _text(text)
    h, hd = head_outputs.shape
    d = h * hd
    concat = np.asarray(head_outputs, dtype=float).reshape(d)  # (d,) = [head 0 | head 1 | ...]
    dims = np.arange(d)
    strip_width = 768  # 2 px per dimension

    def strip(values: NDArray[np.floating], title: str, subtitle: str) -> alt.Chart:
        lim = float(max(np.abs(values).max(), 1e-6))
        f = pd.DataFrame({"dim": dims, "end": dims + 1, "head": dims // hd, "value": values})
        return (
            alt.Chart(f, title=alt.Title(title, subtitle=subtitle, subtitleFontSize=15))
            .mark_rect()
            .encode(
                x=alt.X(
                    "dim:Q",
                    title=t["dimension"],
                    scale=alt.Scale(domain=[0, d], nice=False),
                    axis=alt.Axis(values=list(range(0, d + 1, hd)), grid=False),
                ),
                x2=alt.X2("end:Q"),
                color=alt.Color(
                    "value:Q",
                    title=None,
                    scale=alt.Scale(scheme=SIGNED_SCHEME, domain=[-lim, lim], domainMid=0),
                    legend=alt.Legend(orient="right", format=".1f", gradientLength=60),
                ),
                tooltip=[alt.Tooltip("dim:Q"), alt.Tooltip("head:O"), alt.Tooltip("value:Q", format=".3f")],
            )
            .properties(width=strip_width, height=56)
        )

    top = strip(
        concat,
        t["concat_title"].format(token=token, h=h, hd=hd),
        t["concat_subtitle"],
    )
    bounds = pd.DataFrame({"dim": np.arange(0, d + 1, hd)})
    rules = (
        alt.Chart(bounds)
        .mark_rule(color="black", strokeWidth=3)
        .encode(x=alt.X("dim:Q"), y=alt.YValue(-12), y2=alt.Y2Value(68))  # taller than the strip: the head borders
    )
    names = pd.DataFrame({"dim": np.arange(h) * hd + hd / 2, "label": [f"h{k}" for k in range(h)]})
    heads = (
        alt.Chart(names)
        .mark_text(fontSize=15, fontWeight="bold", dy=-24)
        .encode(x=alt.X("dim:Q"), text=alt.Text("label:N"), y=alt.YValue(0))
    )
    bottom = strip(
        np.asarray(projected, dtype=float),
        t["projected_title"].format(token=token, d=d),
        t["projected_subtitle"],
    )
    return alt.vconcat(alt.layer(top, rules, heads), bottom, spacing=50).resolve_scale(color="independent")
