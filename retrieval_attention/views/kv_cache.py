"""The KV cache is a key-value store: the page's document, built once for the app, a saved file and a notebook.

A decoder writing token after token keeps, in every layer, the key and the value of every token
so far. The new token's query is compared with those keys, and the softmax of the scores weighs
their values: the retrieval of the first page, on a store that grows by one key and one value per
token (section ``store``, from :meth:`Decoder.kv_lookup`). Section ``check`` runs the same text
again without the cache: the same weights and probabilities, and the time of one step with the
cache against the whole text again, measured live on this machine.

Generation is greedy here (T = 0); the steps come from the run store of
:mod:`retrieval_attention.views.next_word`, so both pages share a prompt's run.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.attention import softmax
from retrieval_attention.core.validate import check_whole
from retrieval_attention.export.blocks import (
    Block,
    Controls,
    LessonChart,
    LessonSection,
    LessonTable,
    Metric,
    Metrics,
    Text,
)
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views.next_word import Runs, label, model_title, written

__all__ = [
    "CacheCheck",
    "KVSettings",
    "cache_check",
    "check_section",
    "kv_intro",
    "kv_lesson",
    "kv_title",
    "store_section",
]

#: Numbers of each key and value shown in the store's table (a head has 64 or 256).
SHOWN = 3


@dataclass(frozen=True)
class KVSettings:
    """The page's widget values."""

    prompt: str  # the text to continue (greedy)
    written: int = 0  # tokens already written; the page shows the step that writes the next one
    layer: int = 0  # the layer whose cache is drawn
    head: int = 0  # the query head that looks it up
    lang: str = "en"  # the language of every text and number sign


@dataclass(frozen=True, eq=False)
class CacheCheck:
    """The last token of a text run through the model twice: one step with the cache, and the whole text again."""

    attention: NDArray[np.float32]  # (L, h, S) the last query's rows, recomputed over the whole text without a cache
    probabilities: NDArray[np.float32]  # (V,) its next-token distribution, recomputed
    cached_seconds: float  # one token through the model with the other S - 1 in the cache (fastest of 3)
    full_seconds: float  # all S tokens through the model, no cache (fastest of 2)


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


@functools.lru_cache(maxsize=16)
def cache_check(decoder, ids: tuple[int, ...]) -> CacheCheck:
    """Recompute the last position of ``ids`` without a cache, and time a cached step against it.

    Args:
        decoder: a :class:`~retrieval_attention.decoder.Decoder`.
        ids: (S,) token ids, S ≥ 2: the text whose last token's query is checked.

    Returns:
        A :class:`CacheCheck` (times in seconds, measured now on this machine).
    """
    best_cached = best_full = float("inf")
    for _ in range(3):
        cache = decoder.new_cache()
        decoder.run(list(ids[:-1]), cache)  # the S - 1 tokens before: their keys and values fill the cache
        t0 = time.perf_counter()
        decoder.run([ids[-1]], cache)  # one new token: one query against the cache
        best_cached = min(best_cached, time.perf_counter() - t0)
    for _ in range(2):
        t0 = time.perf_counter()
        logits, traces = decoder.run(list(ids))  # every token again, no cache
        best_full = min(best_full, time.perf_counter() - t0)
    attention = np.stack([t.weights[:, -1] for t in traces])  # (L, h, S)
    return CacheCheck(attention, softmax(logits[-1]), best_cached, best_full)


def kv_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("The KV cache is a key-value store")


def kv_intro(lang: str = "en", model: str = "") -> tuple[Text, ...]:
    """One line: what the page shows."""
    _ = _gettext(lang)
    text = _(
        "While {model} writes, every layer keeps the key and the value of every token so far. The new token's "
        "query looks them up: the retrieval of the first page, on a store that grows by one entry per token."
    ).format(model=md(model))
    return (Text(text, key="intro"),)


def _steps(decoder, settings: KVSettings, runs: Runs | None):
    cfg = decoder.config
    check_whole(settings.layer, "layer", 0, cfg.n_layers - 1)
    check_whole(settings.head, "head", 0, cfg.n_heads - 1)
    steps = written(decoder, settings.prompt, 0.0, 0, settings.written, runs)
    ids = decoder.token_ids(settings.prompt) + [s.token_id for s in steps[:-1]]  # (S,) the text the step reads
    return steps, steps[-1], ids


def store_section(decoder, settings: KVSettings, runs: Runs | None = None) -> LessonSection:
    """Section 1: the cache of one layer as a table of keys and values, and the new query's weights over it.

    Raises:
        ~retrieval_attention.errors.QueryError: a prompt the decoder refuses.
        ~retrieval_attention.errors.InvalidParameterError: a layer, head or count outside its range.
    """
    from retrieval_attention.charts.decoder import attention_row_chart
    from retrieval_attention.charts.theme import WIDE_COLUMN_PX
    from retrieval_attention.export.specs import inline_spec, signs
    from retrieval_attention.i18n import fmt_number

    _, lang = _gettext(settings.lang), settings.lang
    steps, step, ids = _steps(decoder, settings, runs)
    lk = decoder.kv_lookup(step, settings.layer, settings.head)
    tokens = [label(decoder, i) for i in ids]
    S, hd = lk.keys.shape
    cfg = decoder.config
    chart = attention_row_chart(
        tokens, lk.weights,
        title=_("The query of “{token}” looks up {S} cached keys").format(token=tokens[-1], S=S),
        subtitle=_("layer {layer}, head {head}: weights = softmax(q·k_j / √d) over the store (sum 1)").format(
            layer=settings.layer, head=settings.head
        ),
        value_title=_("weight"), new=len(steps) - 1,
        width=WIDE_COLUMN_PX,  # beside the widgets, in the page's wider column
    )  # fmt: skip

    def first(v: NDArray[np.float32]) -> str:
        return "; ".join(fmt_number(float(x), lang, 2) for x in v[:SHOWN]) + " …"  # ";": Spanish writes 0,12

    rows = tuple(
        (j, tokens[j], first(lk.keys[j]), first(lk.values[j]), float(lk.scores[j]), float(lk.weights[j]))
        for j in range(S)
    )
    columns = (
        _("position"), _("token"), _("key k_j (first {n} of {d})").format(n=SHOWN, d=hd),
        _("value v_j (first {n} of {d})").format(n=SHOWN, d=hd), _("score q·k_j / √d"), _("weight"),
    )  # fmt: skip
    gap_w = float(np.max(np.abs(softmax(lk.scores) - lk.weights)))
    gap_v = float(np.max(np.abs(lk.weights @ lk.values - lk.read)))
    numbers = 2 * cfg.n_layers * cfg.n_kv_heads * hd * S  # keys and values, every layer and key-value head
    blocks: list[Block] = [
        Controls(key="store_controls"),
        LessonChart(inline_spec(chart, **signs(lang), validate=False), key="store_chart"),
        Controls(key="store_below"),  # the page draws the rest under its columns, as wide as the page
        Metrics(
            (
                Metric(_("entries"), str(S), _("one key and one value per token so far, in this layer and head")),
                Metric(
                    _("numbers cached"),
                    fmt_number(numbers, lang, 0),
                    _("keys and values of {L} layers × {kv} key-value heads × {d} numbers × {S} tokens").format(
                        L=cfg.n_layers, kv=cfg.n_kv_heads, d=hd, S=S
                    ),
                ),
                Metric(_("softmax vs model"), f"{gap_w:.1e}", _("largest gap: softmax(q·K / √d) against the model's own weights")),
                Metric(_("Σ w v vs model"), f"{gap_v:.1e}", _("largest gap: the weighted sum of the values against what the head read")),
            ),
            key="store_metrics",
        ),
        Text(
            _(
                "The table is the store: row j holds the key k_j and the value v_j that token j left in layer "
                "{layer} (key-value head {kv}; {g} query heads share it). The new query q is compared with every "
                "key, the softmax turns the scores into weights, and the value read is Σ_j w_j v_j."
            ).format(layer=settings.layer, kv=lk.kv_head, g=cfg.n_heads // cfg.n_kv_heads),
            key="store_text",
        ),
        LessonTable(columns, rows, decimals=(0, 0, 0, 0, 2, 3), key="store_table"),
    ]
    return LessonSection(_("1 · The store and one lookup"), blocks=tuple(blocks), key="store")


def check_section(decoder, settings: KVSettings, runs: Runs | None = None) -> LessonSection:
    """Section 2: the same step recomputed over the whole text without the cache: equal numbers, timed.

    Raises:
        ~retrieval_attention.errors.QueryError: a prompt the decoder refuses.
        ~retrieval_attention.errors.InvalidParameterError: a layer, head or count outside its range.
    """
    from retrieval_attention.i18n import fmt_number

    _, lang = _gettext(settings.lang), settings.lang
    _steps_so_far, step, ids = _steps(decoder, settings, runs)
    if len(ids) < 2:
        text = _("A text of one token has nothing in the cache before it: write a longer prompt.")
        return LessonSection(_("2 · With or without the cache"), blocks=(Text(text, style="info", key="check_short"),), key="check")
    check = cache_check(decoder, tuple(ids))
    gap_a = float(np.max(np.abs(step.attention - check.attention)))
    gap_p = float(np.max(np.abs(step.probabilities - check.probabilities)))
    cached_ms, full_ms = 1000 * check.cached_seconds, 1000 * check.full_seconds
    blocks: list[Block] = [
        Metrics(
            (
                Metric(_("attention gap"), f"{gap_a:.1e}", _("largest difference over every layer, head and weight")),
                Metric(_("probability gap"), f"{gap_p:.1e}", _("largest difference over the whole vocabulary")),
                Metric(_("one step, cached"), _("{ms} ms").format(ms=fmt_number(cached_ms, lang, 0))),
                Metric(
                    _("all {S} again").format(S=len(ids)),
                    _("{ms} ms").format(ms=fmt_number(full_ms, lang, 0)),
                ),
            ),
            key="check_metrics",
        ),
        Text(
            _(
                "The step was written with the cache; here the whole text of {S} tokens runs again without it. "
                "The weights and the next-token probabilities agree to float32 rounding: the cache changes the "
                "work, not the result. With the cache one token goes through the {L} layers; without it, all {S}, "
                "{ratio} times the time here."
            ).format(S=len(ids), L=decoder.config.n_layers, ratio=fmt_number(full_ms / max(cached_ms, 1e-9), lang, 1)),
            key="check_text",
        ),
        Text(
            _(
                "Times measured on this machine just now (the fastest of 3 cached steps and of 2 full runs); "
                "other students' work on the same server slows both."
            ),
            style="caption",
            key="check_measured",
        ),
    ]
    return LessonSection(_("2 · With or without the cache"), blocks=tuple(blocks), key="check")


def kv_lesson(decoder, settings: KVSettings, runs: Runs | None = None) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and both sections.

    Args:
        decoder: the :class:`~retrieval_attention.decoder.Decoder` the page runs.
        settings: the page's widget values.
        runs: where the generation is kept (the app: the session's own); None for the process's.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    facts = (
        (_("Model"), model_title(decoder)),
        (_("Prompt"), settings.prompt),
        (_("Tokens written"), str(settings.written)),
        (_("Layer, head"), f"{settings.layer}, {settings.head}"),
    )
    return Lesson(
        title=kv_title(lang),
        facts=facts,
        sections=(store_section(decoder, settings, runs), check_section(decoder, settings, runs)),
        lang=lang,
        footer=made_with(lang),
        intro=kv_intro(lang, model_title(decoder)),
        **signs(lang),
    )
