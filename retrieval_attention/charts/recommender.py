"""Altair builders for the recommender page: result dataclasses -> tidy frames -> chart objects.

The cross-attention heatmap (candidates over the history) is in
:mod:`~retrieval_attention.charts.recommender_cross`. Two layers, as in the Annotated Transformer:
``*_frame`` functions reshape a :class:`~retrieval_attention.recommender.TargetAttention` or
:class:`~retrieval_attention.recommender.CrossAttention` into a tidy pandas frame (no maths,
only reshaping), and ``*_chart`` functions turn a frame into an Altair chart. No streamlit here;
wrap a chart in :func:`retrieval_attention.charts.projector` for big type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import altair as alt
import numpy as np
import pandas as pd

from retrieval_attention.charts.template import ChartParts
from retrieval_attention.charts.text import text_width, wrap
from retrieval_attention.charts.theme import OKABE_ITO, level_lines, wrap_lines
from retrieval_attention.i18n import N_
from retrieval_attention.recommender import TargetAttention

__all__ = [
    "BAR_STEP",
    "INK",
    "REC_TEXT",
    "history_label",
    "history_weights_chart",
    "history_weights_frame",
    "history_weights_parts",
    "history_weights_view",
    "panel_title",
    "rec_text",
    "truncate",
    "weight_by_category",
    "weight_domain",
]

#: Pixels per history item in the weight bars (one row per watched video).
BAR_STEP = 30
_GREY = "#B0B0B0"
INK = "#1F2430"  # axis labels: dark enough to read on a projector


def truncate(text: str, n: int) -> str:
    """``text`` cut to at most ``n`` characters, with an ellipsis when cut.

    Example:
        >>> truncate("Hilarious Kitten Moments That Will Make You Laugh", 20)
        'Hilarious Kitten Mo…'
    """
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: max(n - 1, 1)].rstrip() + "…"


#: A target panel's title size (px).
TITLE_PX = 17
#: At most this many lines of a target's title over its panel (the rest is cut with "…").
TITLE_LINES = 4


def panel_title(slot: str, target: str, width: int) -> list[str]:
    """A target panel's title, "A: <the target's title>", in lines that fit the panel (at most :data:`TITLE_LINES`).

    A projector shows the whole title a student picked, not its first twenty characters.

    Example:
        >>> panel_title("A", "Hilarious Kitten Moments That Will Make You Laugh", 220)
        ['A: Hilarious Kitten', 'Moments That Will', 'Make You Laugh']
    """
    text = f"{slot}: {' '.join(str(target).split())}"
    lines = wrap_lines(text, width, TITLE_PX)  # balanced, parentheses kept whole...
    if any(text_width(line, TITLE_PX) > width and " " in line for line in lines):
        lines = wrap(text, width, TITLE_PX)  # ...unless a group is wider than the panel: "(Official Music Video)"
    if len(lines) > TITLE_LINES:
        lines = [*lines[: TITLE_LINES - 1], truncate(" ".join(lines[TITLE_LINES - 1 :]), len(lines[TITLE_LINES - 1]))]
    return lines


def history_label(position: int, title: str, n: int = 42) -> str:
    """Axis label of the history item at 1-based ``position``: ``"3. Easy Homemade Pizza…"``.

    The number keeps labels unique and ties the bars to the heatmap columns.
    """
    return f"{position}. {truncate(title, n)}"


def history_weights_frame(ta: TargetAttention, categories: Sequence[str], slot: str = "A") -> pd.DataFrame:
    """One row per history item (watch order, oldest first) with every factor of its weight.

    Args:
        ta: one target's attention over the history.
        categories: the category of each history item, shape (H,).
        slot: the name of the target on the page ("A", "B").

    Returns:
        Columns ``slot``, ``target``, ``pos`` (1..H), ``label``, ``title``, ``category``,
        ``score`` (q·k), ``relevance`` (weight before recency), ``decay`` (recency factor),
        ``weight`` (final), ``masked`` (the item is the target itself).
    """
    H = len(ta.history_ids)
    return pd.DataFrame(
        {
            "slot": slot,
            "target": ta.target_title,
            "pos": np.arange(1, H + 1),
            "label": [history_label(i + 1, t) for i, t in enumerate(ta.history_titles)],
            "title": list(ta.history_titles),
            "category": list(categories),
            "score": ta.scores,
            "relevance": ta.relevance,
            "decay": ta.decay,
            "weight": ta.weights,
            "masked": ta.masked,
        }
    )


#: The English text of this module's charts; a page passes its translation as ``text`` (any subset).
REC_TEXT = {
    "watched": N_("watched (key)"),
    "category": N_("category"),
    "target": N_("target (query)"),
    "score": N_("q·k (cosine)"),
    "relevance": N_("relevance (before recency)"),
    "decay": N_("recency factor"),
    "weight": N_("weight"),
    "weight_softmax": N_("weight (softmax)"),
    "weight_raw": N_("weight: raw q·k (DIN, no softmax)"),
    "factor": N_("factor"),
    "recency": N_("× recency"),
    "recommended": N_("recommended (query)"),
    "history": N_("watch history (keys / values), oldest first"),
}


def rec_text(given: Mapping[str, str] | None) -> dict[str, str]:
    """The recommender charts' labels: the given translations of :data:`REC_TEXT` over the English."""
    return {**REC_TEXT, **(given or {})}  # the given translations over the English


def _tooltip(t: Mapping[str, str]) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("pos:Q", title="#"),
        alt.Tooltip("title:N", title=t["watched"]),
        alt.Tooltip("category:N", title=t["category"]),
        alt.Tooltip("target:N", title=t["target"]),
        alt.Tooltip("score:Q", format=".3f", title=t["score"]),
        alt.Tooltip("relevance:Q", format=".3f", title=t["relevance"]),
        alt.Tooltip("decay:Q", format=".3f", title=t["decay"]),
        alt.Tooltip("weight:Q", format=".3f", title=t["weight"]),
    ]


def _y(order: list[str], labels: bool) -> alt.Y:
    return alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=360, labelColor=INK) if labels else None)


def _target_panel(
    frame: pd.DataFrame,
    panel: tuple[tuple[str, ...], str, str],
    categories: Sequence[str],
    domain: tuple[float, float],
    recency: bool,
    normalize: bool,
    labels: bool,
    width: int,
    t: Mapping[str, str],
    title_lines: Sequence[str] = (),
) -> alt.LayerChart:
    """One target's bars: filled = final weight, coloured by category; outline = relevance before recency.

    ``title_lines``: the title as drawn (default: "slot: target" in one line, cut to the width).
    """
    order, slot, target = list(panel[0]), panel[1], panel[2]
    scale = alt.Scale(domain=list(domain), nice=False, clamp=True)
    name = t["weight_softmax"] if normalize else t["weight_raw"]
    base = alt.Chart().encode(y=_y(order, labels), tooltip=_tooltip(t))  # data once, on the layer
    bars = base.mark_bar(clip=True, height={"band": 0.75}).encode(
        x=alt.X("weight:Q", title=name, scale=scale, axis=alt.Axis(tickCount=5)),
        color=alt.Color(
            "category:N",
            title=None,
            scale=alt.Scale(domain=list(categories), range=OKABE_ITO[: len(categories)] or [_GREY]),
            legend=alt.Legend(orient="top", direction="horizontal", symbolSize=200, columns=5),
        ),
    )
    layers: list[alt.Chart] = [bars]
    if recency:  # the weight before the recency factor, as an outline around the final bar
        layers.append(
            base.mark_bar(clip=True, height={"band": 0.75}, fill=None, stroke="#000000", strokeDash=[4, 3]).encode(
                x=alt.X("relevance:Q", scale=scale)
            )
        )
    end = "max(datum.weight, datum.relevance)" if recency else "datum.weight"
    layers.append(
        base.transform_calculate(end=end)
        .mark_text(align="left", dx=4, fontSize=15, clip=True)
        .encode(x=alt.X("end:Q", scale=scale), text=alt.Text("weight:Q", format=".2f"))
    )
    text = list(title_lines) or f"{slot}: {truncate(target, max(width // 10, 20))}"
    title = alt.TitleParams(text, fontSize=TITLE_PX, anchor="start")
    return alt.layer(*layers, data=frame).properties(width=width, height=alt.Step(BAR_STEP), title=title)


def _recency_panel(
    frame: pd.DataFrame,
    order: Sequence[str],
    width: int,
    t: Mapping[str, str],
    title_lines: Sequence[str],
) -> alt.LayerChart:
    """The recency factor 0.5^(age / half-life) of each history item: the same for every target."""
    order = list(order)
    scale = alt.Scale(domain=[0.0, 1.0], nice=False)
    base = alt.Chart().encode(y=_y(order, True), tooltip=_tooltip(t))
    bars = base.mark_bar(color=_GREY, height={"band": 0.75}).encode(
        x=alt.X("decay:Q", title=t["factor"], scale=scale, axis=alt.Axis(tickCount=2))
    )
    text = base.mark_text(align="left", dx=3, fontSize=13).encode(
        x=alt.X("decay:Q", scale=scale), text=alt.Text("decay:Q", format=".2f")
    )
    title = alt.TitleParams(list(title_lines), fontSize=TITLE_PX, anchor="start")
    return alt.layer(bars, text, data=frame).properties(width=width, height=alt.Step(BAR_STEP), title=title)


def history_weights_parts(
    frames: Sequence[pd.DataFrame],
    categories: Sequence[str],
    domain: tuple[float, float] = (0.0, 1.0),
    recency: bool = False,
    normalize: bool = True,
    panel_width: int = 360,
    half_life: float | None = None,
    text: Mapping[str, str] | None = None,
) -> ChartParts:
    """:func:`history_weights_chart`'s rows (dataset ``target_i`` per target) and options.

    The options hold every value the specification writes outside the rows: each panel's history
    labels (the bars' order), slot and target title, the categories, the x range and the labels.
    A temperature change keeps them all: its chart is the template filled with the new weights.

    Args:
        frames, categories, domain, recency, normalize, panel_width, half_life, text: as for
            :func:`history_weights_chart`.
    """
    panels = tuple((tuple(map(str, f["label"])), str(f["slot"].iloc[0]), str(f["target"].iloc[0])) for f in frames)
    options = {
        "panels": panels,
        "categories": tuple(map(str, categories)),
        "domain": (float(domain[0]), float(domain[1])),
        "recency": bool(recency),
        "normalize": bool(normalize),
        "panel_width": int(panel_width),
        "half_life": None if half_life is None else float(half_life),
        "text": rec_text(text),
    }
    return ChartParts({f"target_{i}": f for i, f in enumerate(frames)}, options)


def history_weights_view(
    data: Mapping[str, pd.DataFrame],
    *,
    panels: Sequence[tuple[tuple[str, ...], str, str]],
    categories: Sequence[str],
    domain: tuple[float, float],
    recency: bool,
    normalize: bool,
    panel_width: int,
    half_life: float | None,
    text: Mapping[str, str],
) -> alt.HConcatChart:
    """:func:`history_weights_chart` from :func:`history_weights_parts`'s rows and options."""
    frames = [data[f"target_{i}"] for i in range(len(panels))]
    hl = "" if half_life is None else f" (h = {half_life:g})"
    heads = [[f"{text['recency']}{hl}"]] if recency else []  # the recency panel's title, levelled with the others
    titles = level_lines(heads + [panel_title(slot, target, panel_width) for _order, slot, target in panels])
    charts: list[alt.LayerChart] = []
    if recency:
        charts.append(_recency_panel(frames[0], panels[0][0], width=110, t=text, title_lines=titles.pop(0)))
    for i, (f, panel) in enumerate(zip(frames, panels)):
        charts.append(
            _target_panel(
                f,
                panel,
                categories,
                domain,
                recency,
                normalize,
                labels=not recency and i == 0,
                width=panel_width,
                t=text,
                title_lines=titles[i],
            )
        )
    return alt.hconcat(*charts, spacing=18).resolve_scale(color="shared")


def history_weights_chart(
    frames: Sequence[pd.DataFrame],
    categories: Sequence[str],
    domain: tuple[float, float] = (0.0, 1.0),
    recency: bool = False,
    normalize: bool = True,
    panel_width: int = 360,
    half_life: float | None = None,
    text: Mapping[str, str] | None = None,
) -> alt.HConcatChart:
    """The weights of one or more targets over the same history, side by side on one y axis.

    The history titles are written once, on the left; each target gets a panel of bars (filled =
    final weight, coloured by the category of the watched video). With recency on, a grey panel
    shows the recency factor of each item (the same for every target) and each target's panel
    outlines the weight it had *before* recency, so relevance × recency = weight can be read off.

    Args:
        frames: one frame per target, from :func:`history_weights_frame`, same history.
        categories: the colour domain (the history's categories, in a fixed order, so that a
            colour means the same category in every chart of the page).
        domain: x range of every target panel, shared so bars compare; (0, 1) with the softmax.
        recency: draw the recency panel and the before-recency outlines.
        normalize: softmax weights (True) or DIN's raw weights (False), for the axis titles.
        panel_width: width of each target panel in pixels.
        half_life: shown in the recency panel's title.
        text: translations of :data:`REC_TEXT` (axis and tooltip titles).
    """
    parts = history_weights_parts(frames, categories, domain, recency, normalize, panel_width, half_life, text)
    return history_weights_view(parts.frames(), **parts.options)


def weight_domain(frames: Sequence[pd.DataFrame], normalize: bool) -> tuple[float, float]:
    """One x range for several weight charts, so that compared targets share a scale.

    With the softmax on the weights live in [0, 1] and the range is (0, 1): a flat bar chart then
    *looks* flat. DIN's raw weights can be negative and exceed 1: the range spans them all.
    """
    if normalize or not frames:
        return (0.0, 1.0)
    values = np.concatenate([f[["relevance", "weight"]].to_numpy().ravel() for f in frames])
    lo, hi = float(min(values.min(), 0.0)), float(max(values.max(), 0.0))
    pad = 0.12 * max(hi - lo, 1e-9)  # room for the value printed after the bar
    return (lo - (pad if lo < 0 else 0.0), hi + pad)


def weight_by_category(frame: pd.DataFrame) -> pd.Series:
    """Sum of the final weights per category of watched video, largest first."""
    return frame.groupby("category", sort=False)["weight"].sum().sort_values(ascending=False)
