"""The main page's temperature continuum: every key's weight as T sweeps from a lookup to an average.

In three functions, as the main page's other charts (:mod:`.retrieval`): :func:`continuum_parts` (the
rows and options), :func:`continuum_view` (the Altair chart from them) and :func:`continuum_chart`,
which chains the two. The page fills its template (:func:`~retrieval_attention.export.specs.filled_spec`),
so a new query costs its rows.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from retrieval_attention.charts.template import ChartParts, columns_of
from retrieval_attention.i18n import N_

__all__ = ["CONTINUUM_LABELS", "CONTINUUM_TEMPERATURES", "continuum_chart", "continuum_parts", "continuum_view"]

#: The temperatures the continuum chart is drawn at, shape (90,): from a near one-hot lookup to near uniform.
CONTINUUM_TEMPERATURES = np.geomspace(0.002, 20.0, 90)
#: The English text of :func:`continuum_chart` (``{n}``: the keys summed; ``{t}``: the temperature).
CONTINUUM_LABELS = {
    "title": N_("The continuum: from dictionary lookup to average pooling"),
    "x": N_("temperature T (log scale)"),
    "y": N_("weight"),
    "key": N_("key"),
    "others": N_("all other {n} keys"),
    "uniform": N_("uniform 1/n (average pooling)"),
    "now": N_("now: T = {t}"),
}


def continuum_parts(
    temperatures: NDArray[np.floating],
    weights: NDArray[np.floating],
    labels: Sequence[str],
    current: float,
    top: int = 5,
    text: Mapping[str, str] | None = None,
) -> ChartParts:
    """:func:`continuum_chart`'s rows (datasets ``lines`` and ``now``) and options (labels, colours).

    Args:
        temperatures, weights, labels, current, top, text: as for :func:`continuum_chart`.

    Returns:
        ``lines``: one row per (line, T), the line's number in ``line`` (its colour and legend place);
        ``now``: the temperature in use. The options hold the labels and one colour per line.
    """
    t = {**CONTINUUM_LABELS, **(text or {})}  # the given translations over the English
    temperatures = np.asarray(temperatures, dtype=np.float64)
    n = weights.shape[1]
    lines = [weights[:, j] for j in range(min(top, n))]
    keys = [f"{j + 1}. {labels[j]}" for j in range(min(top, n))]
    if n > top:
        lines.append(weights[:, top:].sum(axis=1))
        keys.append(t["others"].format(n=n - top))
    lines.append(np.full(len(temperatures), 1.0 / n))
    keys.append(t["uniform"])
    m = len(temperatures)  # column by column, no frame: a frame per line and a concat cost a new query ~15%
    f = columns_of(
        {
            "T": np.tile(temperatures, len(lines)),
            "weight": np.concatenate(lines).astype(np.float64, copy=False),
            "key": [key for key in keys for _ in range(m)],
            "line": np.repeat(np.arange(len(lines)), m),
        }
    )
    colours = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"][: min(top, n)]
    colours += ["#D55E00"] if n > top else []
    colours += ["#666666"]
    now = columns_of({"T": np.array([float(current)])})
    return ChartParts({"lines": f, "now": now}, {"colours": colours, "text": t})


def continuum_view(
    data: Mapping[str, pd.DataFrame], *, colours: Sequence[str], text: Mapping[str, str]
) -> alt.LayerChart:
    """:func:`continuum_chart` from :func:`continuum_parts`'s rows and options.

    The lines keep their order (colour and legend) by their number, not by their titles, so the
    specification is the same for every query.
    """
    t = text
    lines = (
        alt.Chart(data["lines"], title=t["title"])
        .mark_line(strokeWidth=3)
        .encode(
            x=alt.X("T:Q", scale=alt.Scale(type="log"), title=t["x"]),
            y=alt.Y("weight:Q", title=t["y"], axis=alt.Axis(format=".0%")),
            color=alt.Color(
                "key:N",
                title=t["key"],
                sort=alt.EncodingSortField("line", op="min"),
                scale=alt.Scale(range=list(colours)),
                legend=alt.Legend(orient="right", labelLimit=300),
            ),
            strokeDash=alt.StrokeDashValue(
                **alt.condition(alt.datum.key == t["uniform"], alt.value([6, 4]), alt.value([1, 0]))
            ),
            tooltip=[
                alt.Tooltip("key:N", title=t["key"]),
                alt.Tooltip("T:Q", format=".3g"),
                alt.Tooltip("weight:Q", format=".2%", title=t["y"]),
            ],
        )
    )
    # "now: T = 0.05" is written by Vega's format(), so T gets the chart's number locale (0,05 in Spanish)
    before, _, after = t["now"].partition("{t}")
    label = f"{json.dumps(before)} + format(datum.T, '~g') + {json.dumps(after)}"
    rule = (
        alt.Chart(data["now"])
        .transform_calculate(label=label)
        .mark_rule(color="#000000", strokeWidth=2, strokeDash=[2, 2])
        .encode(x=alt.X("T:Q"))
    )
    note = rule.mark_text(align="left", dx=6, fontSize=15, color="#000000", fontWeight="bold").encode(
        text=alt.Text("label:N"), y=alt.YValue(12)
    )
    return alt.layer(lines, rule, note).properties(height=340)


def continuum_chart(
    temperatures: NDArray[np.floating],
    weights: NDArray[np.floating],
    labels: Sequence[str],
    current: float,
    top: int = 5,
    text: Mapping[str, str] | None = None,
) -> alt.LayerChart:
    """How the weights move from hard top-1 (T -> 0) to average pooling (T large).

    Args:
        temperatures: T grid, shape (m,).
        weights: (m, n) from :func:`retrieval_attention.core.attention.temperature_sweep`, columns in
            the order of ``labels`` (best key first).
        labels: key titles, best first.
        current: the temperature in use, marked with a vertical rule.
        top: lines for the ``top`` best keys; all other keys are summed into one line.
        text: translations of :data:`CONTINUUM_LABELS` (any subset; the rest stays English).
    """
    parts = continuum_parts(temperatures, weights, labels, current, top, text)
    return continuum_view(parts.frames(), **parts.options)
