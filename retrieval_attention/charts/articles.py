"""Altair chart builders for "The articles, step by step" pages: arrays in, chart objects out. No streamlit.

The articles draw small matrices as grids of numbers (article 001's Thinking / Machines scores,
article 004's relevances), so :func:`matrix_heatmap` writes each value in its cell whenever the
cells are large enough to read (a projector at the back of a room). Rows and columns are
positions, not label strings, so a word that occurs twice ("de", ",") keeps two rows; the axes
map positions back to the text, which the browser draws with its own fonts (Chinese included).

Every title and axis name is a parameter: the app passes them already translated. Numbers follow
the chart's locale: :func:`~retrieval_attention.charts.theme.with_number_locale` sets the decimal sign (``0,56`` in Spanish); apply
it before :func:`~retrieval_attention.charts.theme.projector`. Weights use the sequential
"blues" scheme, signed numbers (q·k, vector entries) the diverging "blueorange" centred on 0,
as the "Inside a transformer" charts do.
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from retrieval_attention.charts.theme import BLUE, GREY, ORANGE, VERMILLION
from retrieval_attention.charts.transformer import PAD, SIGNED_SCHEME, WEIGHTS_SCHEME, cell_size, label_font
from retrieval_attention.charts.transformer import _token_axis as _axis  # one home for token labels by position

__all__ = [
    "MIN_NUMBER_CELL",
    "matrix_frame",
    "matrix_heatmap",
    "mix_chart",
    "projection_chart",
    "row_height",
    "steps_chart",
    "vectors_and_sum_chart",
]

#: Cells at least this many pixels wide get their number written in them.
MIN_NUMBER_CELL = 30
#: Side of one 2-D picture in pixels: two of them side by side (with their axis titles and the gap) fit the
#: page's 760 px column at 1280 wide beside the sidebar, a projector's width (issue 25; 420 overflowed it,
#: and 320 by 28 px, its points' labels included).
PANEL = 300
#: Colour of a cell with no number (a row the row-sum step cannot divide: its sum is about 0).
MISSING = "#D9D9D9"


def matrix_frame(M: NDArray[np.floating], row_labels: Sequence[str], col_labels: Sequence[str]) -> pd.DataFrame:
    """One tidy row per cell of ``M`` (n, m).

    Args:
        M: (n, m) numbers; NaN cells are flagged ``missing``.
        row_labels: n labels (top to bottom).
        col_labels: m labels (left to right).

    Returns:
        Columns ``r``, ``c`` (positions), ``row``, ``col`` (labels), ``value``, ``missing``.

    Example:
        >>> matrix_frame(np.array([[1.0, np.nan]]), ["a"], ["x", "y"])[["row", "col", "missing"]].values.tolist()
        [['a', 'x', False], ['a', 'y', True]]
    """
    A = np.asarray(M, dtype=np.float64)
    if A.ndim != 2 or A.shape != (len(row_labels), len(col_labels)):
        raise ValueError(f"M must be ({len(row_labels)}, {len(col_labels)}), got {A.shape}")
    n, m = A.shape
    r, c = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")  # (n, m) each
    missing = ~np.isfinite(A)
    return pd.DataFrame(
        {
            "r": r.ravel(),
            "c": c.ravel(),
            "row": np.asarray([str(t) for t in row_labels], dtype=object)[r.ravel()],
            "col": np.asarray([str(t) for t in col_labels], dtype=object)[c.ravel()],
            "value": np.where(missing, 0.0, A).ravel(),
            "missing": missing.ravel(),
        }
    )


def matrix_heatmap(
    M: NDArray[np.floating],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    *,
    title: str | list[str],
    subtitle: str | list[str] | None = None,
    row_title: str | None = None,
    col_title: str | None = None,
    value_title: str = "value",
    signed: bool = False,
    numbers: bool | None = None,
    fmt: str = ".2f",
    cell: int | None = None,
    cell_width: int | None = None,
    highlight: Sequence[tuple[int, int]] = (),
    row_axis: bool = True,
    col_axis: bool = True,
    legend: bool = True,
    limit: float | None = None,
    standalone: bool = True,
    legend_length: int = 240,
) -> alt.LayerChart:
    """A small matrix as a heatmap with its numbers written in the cells, as the articles draw them.

    Args:
        M: (n, m) numbers; rows are who asks (queries), columns who answers (keys).
        row_labels: n labels, top to bottom.
        col_labels: m labels, left to right.
        title: chart title (a list: one line each).
        subtitle: a line under the title (what to read in it).
        row_title: the row axis's name.
        col_title: the column axis's name.
        value_title: the colour legend's and the tooltip's name for a value.
        signed: True for numbers of both signs (a diverging scale centred on 0); False for weights
            (0 to the largest).
        numbers: write each value in its cell; default when cells are ``MIN_NUMBER_CELL`` px or more.
        fmt: the numbers' d3 format.
        cell: pixels per cell; default :func:`~retrieval_attention.charts.transformer.cell_size`.
        cell_width: a cell's width when it differs from its height (a column of numbers needs room).
        highlight: (row, column) cells to outline (a word pair's two directions).
        row_axis: False to leave out the row labels (a column placed right of another).
        col_axis: False to leave out the column labels (a single column under its title).
        legend: False for no colour legend (the numbers are written in the cells).
        limit: the colour scale's end (|largest| when None), to share one scale between charts.
        standalone: False for a part of a concatenated chart (only the whole may set its autosize).
        legend_length: the colour legend's length in pixels (a narrow column needs a shorter one).

    Returns:
        The chart; NaN cells are grey with no number.
    """
    f = matrix_frame(M, row_labels, col_labels)
    n, m = len(row_labels), len(col_labels)
    c = cell or cell_size(max(n, m))
    show = c >= MIN_NUMBER_CELL if numbers is None else numbers
    f["highlight"] = False
    for i, j in highlight:
        f.loc[(f["r"] == i) & (f["c"] == j), "highlight"] = True
    finite = f.loc[~f["missing"], "value"]
    top = float(limit) if limit is not None else float(finite.abs().max()) if len(finite) else 1.0
    top = max(top, 1e-6)
    scale = (
        alt.Scale(scheme=SIGNED_SCHEME, domain=[-top, top], domainMid=0)
        if signed
        else alt.Scale(scheme=WEIGHTS_SCHEME, domain=[0, top])
    )
    font = label_font(c)
    heading = alt.Title(title, subtitle=subtitle, subtitleFontSize=15) if subtitle else title
    base = alt.Chart(f, title=heading).encode(
        x=alt.X("c:O", axis=_axis(col_labels, col_title, x=True, font=font, labels=col_axis, cell=cell_width or c)),
        y=alt.Y("r:O", axis=_axis(row_labels, row_title, x=False, font=font, labels=row_axis)),
    )
    colour = (
        alt.when(alt.datum.missing)
        .then(alt.value(MISSING))
        .otherwise(
            alt.Color(
                "value:Q",
                title=value_title,
                scale=scale,
                legend=alt.Legend(
                    orient="bottom", direction="horizontal", format=fmt, gradientLength=legend_length, tickCount=4
                )
                if legend
                else None,
            )
        )
    )
    rect = base.mark_rect(stroke="white", strokeWidth=0.5).encode(
        color=colour,
        tooltip=[
            alt.Tooltip("row:N", title=row_title or "row"),
            alt.Tooltip("col:N", title=col_title or "column"),
            alt.Tooltip("value:Q", title=value_title, format=".4f"),
        ],
    )
    layers: list[alt.Chart] = [rect]
    if show:
        dark = (
            (alt.datum.value > 0.55 * top) | (alt.datum.value < -0.55 * top) if signed else alt.datum.value > 0.55 * top
        )
        layers.append(
            base.transform_filter(~alt.datum.missing)
            .mark_text(fontSize=max(10, min(15, c // 3)))
            .encode(
                text=alt.Text("value:Q", format=fmt),
                color=alt.when(dark).then(alt.value("white")).otherwise(alt.value("black")),
            )
        )
    if highlight:
        layers.append(base.transform_filter(alt.datum.highlight).mark_rect(fill=None, stroke=VERMILLION, strokeWidth=3))
    chart = alt.layer(*layers).properties(width=(cell_width or c) * m, height=c * n)
    return chart.properties(autosize=PAD) if standalone else chart


def row_height(n: int, most: int = 46, least: int = 18, total: int = 720) -> int:
    """Pixels per row so that ``n`` rows take about ``total`` pixels, within [least, most].

    Example:
        >>> row_height(4), row_height(24), row_height(100)
        (46, 30, 18)
    """
    return int(max(least, min(most, total // max(n, 1))))


def steps_chart(
    tokens: Sequence[str],
    columns: Sequence[tuple[str, NDArray[np.floating], bool]],
    *,
    title: str,
    row_title: str,
    cell: int = 46,
    width: int = 92,
) -> alt.HConcatChart:
    """Article 001's table for one query token: one column of numbers per step, one row per key token.

    Args:
        tokens: T key tokens (rows).
        columns: (heading, (T,) values, signed) per step, left to right: e.g. q·k_j, ÷√d_k, softmax.
        title: the whole table's title.
        row_title: the rows' name ("key token j").
        cell: row height in pixels.
        width: column width in pixels.

    Returns:
        The columns side by side, each on its own colour scale, the numbers written in.
    """
    T = len(tokens)
    height = min(cell, row_height(T))
    parts = []
    for k, (heading, values, signed) in enumerate(columns):
        v = np.asarray(values, dtype=np.float64).reshape(T, 1)
        parts.append(
            matrix_heatmap(
                v,
                tokens,
                [heading],
                title=heading,
                row_title=row_title if k == 0 else None,
                value_title=heading,
                signed=signed,
                numbers=True,
                cell=height,
                cell_width=width,
                row_axis=k == 0,
                col_axis=False,
                legend=False,
                standalone=False,
            )
        )
    return alt.hconcat(*parts, spacing=8, title=title).resolve_scale(color="independent").properties(autosize=PAD)


def vectors_and_sum_chart(
    weighted: NDArray[np.floating],
    total: NDArray[np.floating],
    tokens: Sequence[str],
    dims: Sequence[str],
    *,
    title: str,
    sum_label: str,
    sum_row: str,
    row_title: str,
    col_title: str,
    value_title: str,
) -> alt.VConcatChart:
    """Steps 4 and 5: each w_j·v_j (a row per token), then their sum z below, on one colour scale.

    Args:
        weighted: (T, e) rows w_j v_j (the first e dimensions).
        total: (e,) z = Σ_j w_j v_j, the same dimensions.
        tokens: T tokens.
        dims: e column labels (the dimension numbers).
        title: the top chart's title.
        sum_label: the title over z's row ("z = Σ w_j·v_j").
        sum_row: the label of z's row ("z").
        row_title: the rows' name.
        col_title: the columns' name.
        value_title: the legend's name.
    """
    W = np.asarray(weighted, dtype=np.float64)
    z = np.asarray(total, dtype=np.float64).reshape(1, -1)
    top = float(max(np.abs(W).max(), np.abs(z).max(), 1e-6))
    cell = row_height(W.shape[0])
    common = {"value_title": value_title, "signed": True, "limit": top, "numbers": True, "cell_width": 60,
              "standalone": False}  # fmt: skip
    upper = matrix_heatmap(
        W, tokens, dims, title=title, row_title=row_title, col_title=col_title, legend=False, cell=cell, **common
    )
    lower = matrix_heatmap(z, [sum_row], dims, title=sum_label, row_title=" ", cell=max(cell, 36), **common)
    return alt.vconcat(upper, lower, spacing=14).resolve_scale(color="shared").properties(autosize=PAD)


def mix_chart(
    vectors: Sequence[tuple[str, NDArray[np.floating]]],
    *,
    title: str,
    x_title: str,
    y_title: str,
    series_title: str,
) -> alt.LayerChart:
    """A few vectors of the same length as lines over their dimensions (article 004, part 1's mix).

    Args:
        vectors: (name, (e,) values) per line, drawn in the palette's order (the mix last, in black).
        title: chart title.
        x_title: the dimension axis's name.
        y_title: the value axis's name.
        series_title: the legend's name.
    """
    rows = []
    for order, (name, values) in enumerate(vectors):
        for dim, value in enumerate(np.asarray(values, dtype=np.float64)):
            rows.append({"name": name, "order": order, "dim": dim, "value": value})
    f = pd.DataFrame(rows)
    names = [name for name, _ in vectors]
    palette = [BLUE, ORANGE, "#000000", VERMILLION, GREY][: len(names)]
    enc = {
        "x": alt.X("dim:O", title=x_title, axis=alt.Axis(labelAngle=0, values=list(range(0, int(f["dim"].max()) + 1, 4)))),
        "y": alt.Y("value:Q", title=y_title),
        "color": alt.Color(
            "name:N", title=series_title, scale=alt.Scale(domain=names, range=palette), sort=names,
            legend=alt.Legend(orient="top"),
        ),
        "tooltip": [alt.Tooltip("name:N", title=series_title), alt.Tooltip("dim:O", title=x_title),
                    alt.Tooltip("value:Q", title=y_title, format=".3f")],
    }  # fmt: skip
    base = alt.Chart(f, title=title)
    lines = base.mark_line(strokeWidth=2.5).encode(
        **enc, strokeDash=alt.condition(alt.datum.order == len(names) - 1, alt.value([1, 0]), alt.value([5, 3]))
    )
    points = base.mark_point(filled=True, size=45).encode(**enc)
    zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color=GREY).encode(y="y:Q")
    return alt.layer(zero, lines, points).properties(
        width=660, height=300, autosize=PAD
    )  # with its axis: the page at 1280 wide


def projection_chart(
    tokens: Sequence[str],
    x_2d: NDArray[np.floating],
    q_2d: NDArray[np.floating],
    k_2d: NDArray[np.floating],
    *,
    x_title: str | Sequence[str],
    qk_title: str | Sequence[str],
    x_name: str,
    q_name: str,
    k_name: str,
    series_title: str,
    axis_titles: tuple[str, str],
) -> alt.HConcatChart:
    """Two pictures of the same tokens: x on its own 2-D PCA, and one head's q and k on one shared PCA.

    In the second, a grey line joins each token's q to its k: the distance is what W_Q and W_K do
    to the same word.

    Args:
        tokens: T tokens.
        x_2d: (T, 2) the hidden states, on their own components.
        q_2d: (T, 2) the queries, on the components fitted to q and k together.
        k_2d: (T, 2) the keys, same axes.
        x_title: the first panel's title (a sequence: one line each, so that it fits the panel's width).
        qk_title: the second panel's title (likewise).
        x_name: legend name of the x points.
        q_name: legend name of the q points.
        k_name: legend name of the k points.
        series_title: the legend's title.
        axis_titles: names of the two components ("PC 1", "PC 2").
    """
    labels = [str(t) for t in tokens]
    names = [x_name, q_name, k_name]
    colour = alt.Color(
        "kind:N", title=series_title, scale=alt.Scale(domain=names, range=["#000000", BLUE, ORANGE]),
        legend=alt.Legend(orient="top"),
    )  # fmt: skip
    shape = alt.Shape("kind:N", scale=alt.Scale(domain=names, range=["circle", "circle", "square"]), legend=None)
    ax, ay = axis_titles

    def points(frame: pd.DataFrame) -> alt.LayerChart:
        base = alt.Chart(frame).encode(
            x=alt.X("a:Q", title=ax, axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("b:Q", title=ay, axis=alt.Axis(labels=False, ticks=False)),
        )
        dots = base.mark_point(filled=True, size=110, opacity=0.9).encode(
            color=colour, shape=shape, tooltip=[alt.Tooltip("token:N"), alt.Tooltip("kind:N", title=series_title)]
        )
        text = base.mark_text(align="left", dx=8, dy=-6, fontSize=14).encode(text="token:N", color=colour)
        return alt.layer(dots, text)

    X = np.asarray(x_2d, dtype=np.float64)
    Q, K = np.asarray(q_2d, dtype=np.float64), np.asarray(k_2d, dtype=np.float64)
    fx = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "token": labels, "kind": x_name})
    fq = pd.DataFrame({"a": Q[:, 0], "b": Q[:, 1], "token": labels, "kind": q_name})
    fk = pd.DataFrame({"a": K[:, 0], "b": K[:, 1], "token": labels, "kind": k_name})
    links = pd.DataFrame({"a": Q[:, 0], "b": Q[:, 1], "a2": K[:, 0], "b2": K[:, 1], "token": labels})
    line = (
        alt.Chart(links)
        .mark_rule(color=GREY, strokeWidth=1.5, strokeDash=[4, 3])
        .encode(x="a:Q", y="b:Q", x2="a2:Q", y2="b2:Q")
    )

    def lines(title: str | Sequence[str]) -> str | list[str]:
        return title if isinstance(title, str) else [str(t) for t in title]

    left = points(fx).properties(title=lines(x_title), width=PANEL, height=PANEL)
    right = alt.layer(line, points(pd.concat([fq, fk], ignore_index=True))).properties(
        title=lines(qk_title), width=PANEL, height=PANEL
    )
    return alt.hconcat(left, right, spacing=30).properties(autosize=PAD)
