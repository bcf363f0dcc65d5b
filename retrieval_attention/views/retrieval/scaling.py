"""Section ``scaling``: why not ÷√d here (what transformers do, on unit vectors)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval_attention.export.blocks import LessonChart, LessonSection, Metric, Metrics, Text
from retrieval_attention.views.retrieval.settings import (
    SCALING_HEIGHT,
    Results,
    RetrievalSettings,
    _chart,
    _filled,
    _gettext,
)

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore

__all__ = ["scaling_section"]


def _scaling_spec(settings: tuple[tuple[str, np.ndarray], ...], lang: str) -> dict[str, Any]:
    from retrieval_attention.charts.retrieval import SCALING_LABELS, scaling_parts, scaling_view
    from retrieval_attention.i18n import translated

    curves = {  # each setting's sorted weights, floored at 1e-12 for the log axis; by column, no frame
        "rank": np.concatenate([np.arange(1, len(w) + 1) for _, w in settings]),
        "weight": np.concatenate([np.maximum(w, 1e-12) for _, w in settings]),
        "setting": [name for name, w in settings for _ in range(len(w))],
    }
    return _filled(scaling_view, scaling_parts(curves, text=translated(SCALING_LABELS, lang)), lang)


def scaling_section(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> LessonSection:
    """÷√d at T = 1 against cosine at the reader's T, both from the scores the soft result already holds."""
    from retrieval_attention.i18n import fmt_number, fmt_setting

    lang, soft = settings.lang, results["soft"]
    _ = _gettext(lang)
    t = soft.temperature if settings.temperature is None else float(settings.temperature)
    trans = store.soft_attention_from_scores(soft.query, soft.all_scores, 1.0, "sqrt_d")
    ours = store.soft_attention_from_scores(soft.query, soft.all_scores, t, "none")
    n = len(store)
    curves = (
        (_("÷√{d}, T = 1 (transformer default)").format(d=store.dim), trans.weights[trans.positions]),
        (_("cosine, T = {t}").format(t=fmt_setting(t, lang)), ours.weights[ours.positions]),
    )
    spec = _chart("scaling", _scaling_spec, curves, lang)
    of_n = _("{value} of {n}")
    own = store.default_temperature
    text = _(
        "Our keys and queries are **unit vectors**, so q·k lies in [−1, 1]. Divided by √{d} ≈ "
        "{root}, scores differ by at most ≈ {gap}, so every exp() is "
        "nearly the same number and the weights are almost uniform. Transformers divide by √d because their "
        "q and k are *not* unit vectors: with unit-variance components q·k grows like √d, and the division "
        "keeps the softmax from saturating. For cosine scores the knob that matters is the temperature: "
        "at this encoder's own T = {own}, a gap of {own_gap} in cosine is a factor e² ≈ 7.4 in weight."
    ).format(
        d=store.dim,
        root=fmt_number(math.sqrt(store.dim), lang, 1),
        gap=fmt_number(2 / math.sqrt(store.dim), lang, 2),
        own=fmt_setting(own, lang),
        own_gap=fmt_setting(2 * own, lang),
    )
    blocks = (
        LessonChart(spec, _("Same scores, two scalings"), key="scaling", height=SCALING_HEIGHT),
        Metrics(
            (
                Metric(
                    _("effective keys with ÷√d, T = 1"),
                    of_n.format(value=fmt_number(trans.effective_num_keys, lang, 0), n=fmt_number(n, lang)),
                ),
                Metric(
                    _("effective keys with T = {t}").format(t=fmt_setting(t, lang)),
                    of_n.format(value=fmt_number(ours.effective_num_keys, lang, 1), n=fmt_number(n, lang)),
                ),
            ),
            key="scaling_metrics",
        ),
        Text(text, key="scaling_text"),
    )
    return LessonSection(_("Why not ÷√d here? (what transformers do, on unit vectors)"), blocks=blocks, key="scaling")
