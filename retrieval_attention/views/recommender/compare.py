"""Sections 1 and 2: one history read by one or two targets, then by every recommendation (cross-attention)."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from retrieval_attention.export.blocks import (
    Block,
    Columns,
    Controls,
    LessonChart,
    LessonSection,
    LessonTable,
    Metric,
    Metrics,
    Text,
)
from retrieval_attention.export.markup import md
from retrieval_attention.views.recommender.results import _attention, _bars_spec, _frames, _heatmap_spec, ranked
from retrieval_attention.views.recommender.settings import RecommenderSettings, _check, _gettext

if TYPE_CHECKING:
    import pandas as pd

    from retrieval_attention.recommender import TargetAttention
    from retrieval_attention.store import KeyValueStore

__all__ = ["compare_section", "cross_section"]

#: The charts' element heights in pixels: rows × step + room.
BAR_HEIGHT_EXTRA, HEATMAP_ROW, HEATMAP_EXTRA = 150, 34, 260


def _reading_line(ta: TargetAttention, frame: pd.DataFrame, slot: str, normalize: bool, lang: str) -> Text:
    """One sentence: what this target reads most in the history."""
    from retrieval_attention.charts.recommender import weight_by_category
    from retrieval_attention.i18n import fmt_number, fmt_percent

    _ = _gettext(lang)
    top = ", ".join(f"**{md(t)}** ({fmt_number(w, lang, 2)})" for _i, t, w in ta.top(2))
    if normalize:
        shares = weight_by_category(frame)
        text = _("**{slot}** reads mostly {top}: **{share}** of its weight is on *{category}* videos.").format(
            slot=slot, top=top, share=fmt_percent(shares.iloc[0], lang), category=md(shares.index[0])
        )
    else:
        text = _("**{slot}**: largest raw weights {top}.").format(slot=slot, top=top)
    return Text(text, key=f"compare_reads_{slot}")


def _target_metrics(ta: TargetAttention, slot: str, lang: str) -> Metrics:
    """Three numbers for one target: its largest weight, Σ weights, and the score interest·q.

    Under the target's reading line, which names it: the labels leave the slot out, so that they
    fit three to a column on a projector in every language.
    """
    from retrieval_attention.i18n import fmt_number

    _ = _gettext(lang)
    top = ta.top(1)[0]
    return Metrics(
        (
            Metric(
                _("top weight"),
                fmt_number(top[2], lang, 2),
                _("on: {title}").format(title=md(top[1])),
            ),
            Metric(
                _("Σ weights"),
                fmt_number(float(ta.weights.sum()), lang, 2),
                _("1 with the softmax; DIN's raw weights do not sum to 1"),
            ),
            Metric(
                _("score"),
                fmt_number(ta.score, lang, 3),
                _("interest = Σ wᵢ vᵢ; the target's score is interest · q, which ranks it"),
            ),
        ),
        key=f"compare_metrics_{slot}",
    )


@functools.lru_cache(maxsize=32)  # a revisit costs nothing: a pure function of the store and settings
def compare_section(store: KeyValueStore, settings: RecommenderSettings) -> LessonSection:
    """Section 1, the centrepiece: one history, one or two targets, their weights side by side.

    Raises:
        RecommenderError: an empty history, an unknown history or target id.
        InvalidParameterError: no target or more than two, a bad temperature or half-life.
    """
    from retrieval_attention.charts.recommender import BAR_STEP
    from retrieval_attention.i18n import fmt_number, fmt_setting

    s = _check(settings)
    _, lang = _gettext(s.lang), s.lang
    tas = _attention(store, s)
    frames = _frames(store, tas, lang)
    recency = s.half_life is not None
    spec = _bars_spec(store, s.history, s.targets, s.temperature, s.normalize, s.half_life, lang)
    blocks: list[Block] = [
        Controls(key="compare_controls"),
        LessonChart(spec, key="compare_bars", height=len(s.history) * BAR_STEP + BAR_HEIGHT_EXTRA),
        Columns(
            tuple(
                (_reading_line(ta, frames[slot], slot, s.normalize, lang), _target_metrics(ta, slot, lang))
                for slot, ta in tas.items()
            ),
            key="compare_targets",
        ),
    ]
    if recency:
        blocks.append(
            Text(
                _(
                    "Recency on: grey = 0.5^(age / {h}), age 0 = the last video watched; dashed outline = the "
                    "weight before recency; filled bar = relevance × recency"
                ).format(h=fmt_setting(s.half_life, lang))
                + (_(", renormalised to sum to 1.") if s.normalize else _(" (no renormalising without the softmax).")),
                style="caption",
                key="compare_recency",
            )
        )
    if not s.normalize:
        blocks.append(
            Text(
                _(
                    "Softmax off: these are DIN's raw weights q·k (× recency). They do not sum to 1 and can be "
                    "negative; their total grows with how much of the history supports the target. The temperature "
                    "is unused."
                ),
                style="info",
                key="compare_raw",
            )
        )
    watched = _("{n} videos watched, oldest first.").format(n=fmt_number(len(s.history), lang))
    who = f"**{md(s.who)}**: {md(s.about)} " if s.who and s.about else f"**{md(s.who)}**: " if s.who else ""
    blocks.append(Text(who + watched, style="caption", key="compare_history"))
    columns = (
        _("target"),
        "#",
        _("watched (key)"),
        _("q·k (cosine)"),
        _("relevance (before recency)"),
        _("recency factor"),
        _("weight"),
    )
    rows = tuple(
        (
            slot,
            int(pos),
            title + (" " + _("(the target itself: masked)") if masked else ""),
            float(score),
            float(rel),
            float(decay),
            float(w),
        )
        for slot, f in frames.items()
        for pos, title, score, rel, decay, w, masked in zip(
            f["pos"], f["title"], f["score"], f["relevance"], f["decay"], f["weight"], f["masked"]
        )
    )
    blocks.append(
        LessonTable(columns, rows, _("The numbers behind the bars"), (0, 0, 0, 4, 4, 4, 4), key="compare_weights")
    )
    return LessonSection(_("Same history, different targets, different weights"), blocks=tuple(blocks), key="compare")


@functools.lru_cache(maxsize=32)  # a revisit costs nothing: a pure function of the store and settings
def cross_section(store: KeyValueStore, settings: RecommenderSettings) -> LessonSection:
    """Section 2: the top recommendations as queries over the same history, one row of weights each."""
    s = settings
    _, lang = _gettext(s.lang), s.lang
    heading = _("Cross-attention: every recommendation reads the history its own way")
    X = ranked(store, s.history, "attention", s.temperature, s.normalize, s.half_life).attention
    if X is None or not X.candidate_ids:
        return LessonSection(
            heading, blocks=(Text(_("No recommendations to draw."), "info", "cross_none"),), key="cross"
        )
    text = _(
        "Rows: the top {n} attention recommendations (queries). Columns: the watch history "
        "(keys), numbered as in the bars above. Each row is one target's weights; the outlined cell is the "
        "*because you watched…* of that row. Hover a cell for the full titles."
    ).format(n=len(X.candidate_ids))
    spec = _heatmap_spec(store, s.history, s.temperature, s.normalize, s.half_life, lang)
    height = len(X.candidate_ids) * HEATMAP_ROW + HEATMAP_EXTRA
    blocks = (Text(text, key="cross_text"), LessonChart(spec, key="cross_heatmap", height=height))
    return LessonSection(heading, blocks=blocks, key="cross")
