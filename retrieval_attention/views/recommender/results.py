"""The library's results for the recommender page, asked once and cached: rankings, weights, chart specs.

Caches, per process and bounded (a slider move rebuilds only what it changed; going back costs nothing):

================  ===========================================  ============
what              key                                          bound
================  ===========================================  ============
:func:`ranked`    store, history, method, T, softmax, recency  64 rankings
leave_last_out    store, personas, T, softmax, recency         16 (~2 s each)
_bars_spec        store, history, targets, T, softmax,         64 specs
                  recency, language                            (a template's fill
                                                               for a new T)
_heatmap_spec     store, history, T, softmax, recency,         64 specs
                  language                                     (~0.1 s each)
================  ===========================================  ============

A cached chart specification is shared: read it, never change it (the app's renderer copies it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from retrieval_attention.recommender import (
    LeaveLastOut,
    Recommendations,
    TargetAttention,
    evaluate_leave_last_out,
    recommend,
    target_attention,
)
from retrieval_attention.views.recommender.settings import PANEL_WIDTHS, SLOTS, TOP, RecommenderSettings, _check

if TYPE_CHECKING:
    import pandas as pd

    from retrieval_attention.corpus import Persona
    from retrieval_attention.store import KeyValueStore

__all__ = ["cross_matrix", "default_targets", "leave_last_out", "ranked", "weights_frame"]


@functools.lru_cache(maxsize=64)
def ranked(
    store: KeyValueStore,
    history: tuple[str, ...],
    method: str,
    temperature: float | None,
    normalize: bool,
    half_life: float | None,
) -> Recommendations:
    """One method's top :data:`TOP` unseen videos for a history (cached per store, history and settings)."""
    return recommend(
        store, list(history), k=TOP, method=method, temperature=temperature, normalize=normalize, half_life=half_life
    )


@functools.lru_cache(maxsize=16)
def leave_last_out(
    store: KeyValueStore,
    personas: tuple[Persona, ...],
    temperature: float,
    normalize: bool,
    half_life: float | None,
) -> LeaveLastOut:
    """Leave-last-out over ``personas`` at k = :data:`TOP` (cached per store, personas and settings; ~2 s each)."""
    return evaluate_leave_last_out(
        store, personas, k=TOP, temperature=temperature, normalize=normalize, half_life=half_life
    )


def _attention(store: KeyValueStore, s: RecommenderSettings) -> dict[str, TargetAttention]:
    return {
        slot: target_attention(
            store, s.history, tid, temperature=s.temperature, normalize=s.normalize, half_life=s.half_life
        )
        for slot, tid in zip(SLOTS, s.targets)
    }


def default_targets(store: KeyValueStore, s: RecommenderSettings) -> tuple[str, str]:
    """Target A: the top attention pick. Target B: the best pick from another category (the lesson).

    Raises:
        RecommenderError: an empty history or an unknown id.
    """
    order = recommend(
        store, list(s.history), k=len(store), temperature=s.temperature, normalize=s.normalize, half_life=s.half_life
    ).ids
    corpus = store.corpus
    cat = corpus.by_id(order[0]).category
    b = next((i for i in order if corpus.by_id(i).category != cat), order[min(1, len(order) - 1)])
    return order[0], b


def _categories(store: KeyValueStore, ids: Sequence[str], lang: str) -> list[str]:
    from retrieval_attention.i18n import category_name

    return [category_name(store.corpus.by_id(i).category, lang) for i in ids]


def _frames(store: KeyValueStore, tas: dict[str, TargetAttention], lang: str) -> dict[str, pd.DataFrame]:
    from retrieval_attention.charts.recommender import history_weights_frame

    cats = _categories(store, next(iter(tas.values())).history_ids, lang)
    return {slot: history_weights_frame(ta, cats, slot) for slot, ta in tas.items()}


@functools.lru_cache(maxsize=32)  # the CSV of every rerun: one frame per store and settings (read only)
def weights_frame(store: KeyValueStore, settings: RecommenderSettings) -> pd.DataFrame:
    """Every factor of every weight, one row per (target, watched video): the bars' data and their CSV.

    Shared by every call with the same inputs: read it, never change it.
    """
    import pandas as pd

    tas = _attention(store, _check(settings))
    frames = _frames(store, tas, settings.lang)
    return pd.concat([f.assign(target_id=tas[slot].target_id) for slot, f in frames.items()], ignore_index=True)


@functools.lru_cache(maxsize=32)  # the CSV of every rerun: one frame per store and settings (read only)
def cross_matrix(store: KeyValueStore, settings: RecommenderSettings) -> pd.DataFrame:
    """The cross-attention heatmap's weights: one row per recommendation, one column per watched video.

    Shared by every call with the same inputs: read it, never change it.
    """
    import pandas as pd

    s = settings
    X = ranked(store, s.history, "attention", s.temperature, s.normalize, s.half_life).attention
    if X is None:
        return pd.DataFrame()
    return pd.DataFrame(X.weights, index=list(X.candidate_titles), columns=list(X.history_titles))


def _spec(chart, lang: str) -> dict:
    from retrieval_attention.export.specs import inline_spec, signs

    return inline_spec(chart, **signs(lang), validate=False)


@functools.lru_cache(maxsize=64)
def _bars_spec(
    store: KeyValueStore,
    history: tuple[str, ...],
    targets: tuple[str, ...],
    temperature: float | None,
    normalize: bool,
    half_life: float | None,
    lang: str,
) -> dict:
    """The weights of each target over the history, side by side (shared: read only)."""
    from retrieval_attention.charts.recommender import history_weights_parts, history_weights_view, weight_domain
    from retrieval_attention.export.specs import filled_spec, signs

    s = RecommenderSettings(history, targets, temperature, normalize, half_life, lang=lang)
    frames = list(_frames(store, _attention(store, s), lang).values())
    recency = half_life is not None
    parts = history_weights_parts(
        frames,
        list(dict.fromkeys(frames[0]["category"])),
        domain=weight_domain(frames, normalize),
        recency=recency,
        normalize=normalize,
        panel_width=PANEL_WIDTHS[recency, len(frames) > 1],
        half_life=half_life,
        text=_chart_text(lang),
    )
    return filled_spec(history_weights_view, parts, **signs(lang))  # a new T: the template, new weights


@functools.lru_cache(maxsize=64)
def _heatmap_spec(
    store: KeyValueStore,
    history: tuple[str, ...],
    temperature: float | None,
    normalize: bool,
    half_life: float | None,
    lang: str,
) -> dict:
    """The top recommendations' weights over the history, one row each (shared: read only)."""
    from retrieval_attention.charts.recommender_cross import cross_attention_frame, cross_attention_heatmap

    X = ranked(store, history, "attention", temperature, normalize, half_life).attention
    chart = cross_attention_heatmap(cross_attention_frame(X), normalize=normalize, text=_chart_text(lang))
    return _spec(chart, lang)


def _chart_text(lang: str) -> dict[str, str]:
    from retrieval_attention.charts.recommender import REC_TEXT
    from retrieval_attention.i18n import translated

    return translated(REC_TEXT, lang)
