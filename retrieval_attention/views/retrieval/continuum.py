"""Section ``continuum``: every key's weight as T sweeps from dictionary lookup to average pooling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval_attention.core.attention import temperature_sweep
from retrieval_attention.core.topk import kept_weight
from retrieval_attention.export.blocks import LessonChart, LessonSection, Text
from retrieval_attention.views.retrieval.settings import (
    CONTINUUM_HEIGHT,
    Results,
    RetrievalSettings,
    _chart,
    _filled,
    _gettext,
)

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore

__all__ = ["continuum_section"]


def _continuum_spec(scores: np.ndarray, labels: tuple[str, ...], current: float, lang: str) -> dict[str, Any]:
    from retrieval_attention.charts.continuum import (
        CONTINUUM_LABELS,
        CONTINUUM_TEMPERATURES,
        continuum_parts,
        continuum_view,
    )
    from retrieval_attention.i18n import translated

    W = temperature_sweep(scores, CONTINUUM_TEMPERATURES)  # (m, n), columns best first
    text = translated(CONTINUUM_LABELS, lang)
    return _filled(continuum_view, continuum_parts(CONTINUUM_TEMPERATURES, W, list(labels), current, text=text), lang)


def continuum_section(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> LessonSection:
    """The weights of every key as T sweeps from lookup to average, from the scores the soft result holds."""
    from retrieval_attention.i18n import fmt_percent, fmt_setting

    lang, soft, topk = settings.lang, results["soft"], results["topk"]
    _ = _gettext(lang)
    labels = tuple(store.corpus[p].title for p in soft.positions)
    logits = soft.scores * soft.scale  # best key first
    spec = _chart("continuum", _continuum_spec, logits, labels, float(soft.temperature), lang)
    kept = kept_weight(soft.weights, topk.positions)
    text = _(
        "At **T = {t}** the top-{k} keys hold **{kept}** of the weight; "
        "a top-{k} retrieval throws away the other **{tail}** (the tail). "
        "Turn T down and soft attention becomes the hard top-1; turn it up and every key gets 1/n."
    ).format(
        t=fmt_setting(soft.temperature, lang),
        k=len(topk.ids),
        kept=fmt_percent(kept, lang, 1),
        tail=fmt_percent(1 - kept, lang, 1),
    )
    chart = LessonChart(
        spec, _("The continuum: from dictionary lookup to average pooling"), key="continuum", height=CONTINUUM_HEIGHT
    )
    return LessonSection(
        _("The continuum: one knob from lookup to average"),
        blocks=(chart, Text(text, key="continuum_text")),
        key="continuum",
    )
