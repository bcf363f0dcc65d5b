"""The three columns (section ``retrievals``): hard lookup, top-k search and soft attention, same query and keys."""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval_attention.core.topk import kept_weight
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
from retrieval_attention.views.retrieval.settings import (
    MIX_ROOM,
    WEIGHTS_HEIGHT,
    Results,
    RetrievalSettings,
    _chart,
    _filled,
    _gettext,
    ask,
)

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore, RetrievalResult

__all__ = ["page_weights_chart", "retrievals_section", "weights_chart", "weights_columns", "weights_table"]


def _unread(store: KeyValueStore, query: str, lang: str) -> tuple[Text, ...]:
    """A note when the encoder's tokenizer reads most of the query as [UNK] (measured, not guessed)."""
    from retrieval_attention.encoders.registry import UNREADABLE_SHARE, unknown_token_share
    from retrieval_attention.i18n import fmt_percent

    share = unknown_token_share(store.encoder, query) if isinstance(query, str) and query.strip() else None
    if share is None or share < UNREADABLE_SHARE:
        return ()
    _ = _gettext(lang)
    text = _(
        "{model} reads {share} of this query's tokens as [UNK] (not in its vocabulary), so its weights say "
        "little about the query: pick the multilingual encoder in the sidebar."
    ).format(model=md(store.encoder.name), share=fmt_percent(share, lang))
    return (Text(text, style="info", key="unread"),)


def _payload(store: KeyValueStore, video: Any, lang: str) -> str:
    """A record's payload on one line: category · channel · minutes · views."""
    from retrieval_attention.i18n import category_name, fmt_number

    _ = _gettext(lang)
    parts = [md(category_name(video.category, lang)), md(video.channel)]
    if video.duration_s is not None:
        parts.append(_("{n} min").format(n=fmt_number(video.duration_s / 60, lang, 1)))
    if video.views is not None:
        parts.append(_("{n} views").format(n=fmt_number(video.views, lang)))
    return " · ".join(p for p in parts if p)


def _mix_chart(mix: tuple[tuple[str, float], ...], title: str, x_title: str, lang: str) -> dict[str, Any]:
    from retrieval_attention.charts.retrieval import category_mix_parts, category_mix_view

    return _filled(category_mix_view, category_mix_parts(dict(mix), title=title, x_title=x_title), lang)


def _output(store: KeyValueStore, res: RetrievalResult, key: str, lang: str) -> tuple[Block, ...]:
    """The blended value read at a glance: category mix bar, duration, views, the nearest videos."""
    from retrieval_attention.i18n import category_name, fmt_compact, fmt_number

    _ = _gettext(lang)
    s = store.describe_output(res.output)
    mix = tuple((category_name(c, lang), float(share)) for c, share in s.category_mix.items())
    title, x_title = _("Output: category mix"), _("share of the output")
    chart = _chart("mix", _mix_chart, mix, title, x_title, lang)
    height = chart["height"] + MIX_ROOM  # the bars' pixels (the spec's height) and their title and axis
    blocks: list[Block] = [LessonChart(chart, title, key=f"mix_{key}", height=height)]
    minutes = _("{n} min")
    if s.duration_s is not None:
        exact = minutes.format(n=fmt_number(s.duration_s / 60, lang, 2))
        value = minutes.format(n=fmt_number(s.duration_s / 60, lang, 0))
        help_ = _("Σ wᵢ · durationᵢ = {value}").format(value=exact)
        blocks.append(Metrics((Metric(_("weighted duration"), value, help_),), key=f"{key}_duration"))
    if s.views is not None:
        help_ = _("10^(Σ wᵢ · log10(viewsᵢ + 1)) − 1: a geometric mean")
        blocks.append(Metrics((Metric(_("weighted views"), fmt_compact(s.views, lang), help_),), key=f"{key}_views"))
    if s.nearest:
        near = "  \n".join(f"{md(store.corpus.by_id(i).title)} ({fmt_number(c, lang, 2)})" for i, c in s.nearest)
        blocks.append(Text(_("**Nearest videos to the output:**") + "  \n" + near, key=f"{key}_nearest"))
    return tuple(blocks)


def _hard(store: KeyValueStore, res: RetrievalResult, lang: str) -> tuple[Block, ...]:
    """The dict: a hit shows its record, a miss the key it tried."""
    _ = _gettext(lang)
    head = (
        Text(_("1 · Hard lookup"), style="subheader", key="hard_heading"),
        Text(_("A Python dict: `corpus[key]`"), style="caption", key="hard_caption"),
    )
    if res.hit:
        v = store.corpus.by_id(res.ids[0])
        body: tuple[Block, ...] = (
            Text(_("Hit: the key exists, one weight is 1, all others 0."), style="success", key="hard_result"),
            Text(f"**{md(v.title)}**", key="hard_title"),
            Text(_payload(store, v, lang), key="hard_payload"),
            Text(md(v.description), key="hard_description"),
        )
    else:
        tried = _("The dict tried exactly this key (after NFKC, lower-casing and whitespace clean-up):")
        body = (
            Text(_("Miss: no key equals the query."), style="warning", key="hard_result"),
            Text(f"{tried} **{md(res.lookup_key)}**", key="hard_tried"),
            Text(_("A dict has **no notion of close**: every weight is 0 and the output is empty."), key="hard_close"),
        )
    used = Metrics((Metric(_("keys used"), "1" if res.hit else "0"),), key="hard_used")
    return (*head, *body, used)


def _topk(store: KeyValueStore, res: RetrievalResult, soft: RetrievalResult, lang: str) -> tuple[Block, ...]:
    """The k nearest keys, and how much of the full softmax weight they hold."""
    from retrieval_attention.i18n import fmt_number, fmt_percent

    _, k, c = _gettext(lang), len(res.ids), store.corpus
    rows = tuple(  # nearest first: the order is the rank (no rank column: the title keeps the narrow column's width)
        (c[p].title, fmt_number(s, lang, 3), fmt_percent(res.weights[p], lang, 1))
        for s, p in zip(res.scores, res.positions)
    )
    kept = kept_weight(soft.weights, res.positions)  # Σ of the full softmax weights of the kept keys
    return (
        Text(_("2 · Top-{k} search").format(k=k), style="subheader", key="topk_heading"),
        LessonTable((_("title"), "q·k", _("weight")), rows, key="topk_table", static=True),
        Text(_("FAISS inner-product index: the k nearest keys"), style="caption", key="topk_caption"),
        Metrics(
            (
                Metric(
                    _("weight these {k} hold").format(k=k),
                    fmt_percent(kept, lang),
                    _("Their share of full (soft) attention's weight. The rest is the tail that top-k throws away."),
                ),
            ),
            key="topk_kept",
        ),
        Text(
            _("Top-{k} throws away the tail: {share} of the full softmax weight.").format(
                k=k, share=fmt_percent(1 - kept, lang, 1)
            ),
            style="caption",
            key="topk_tail",
        ),
        *_output(store, res, "topk", lang),
    )


def weights_columns(store: KeyValueStore, soft: RetrievalResult, lang: str = "en") -> dict[str, Any]:
    """Every key's rank, weight, q·k, title and (translated) category, best first: the weights chart's data."""
    from retrieval_attention.i18n import category_name

    c, order = store.corpus, soft.positions  # (n,) corpus positions, largest weight first
    cats = [c[p].category for p in order]
    shown = {cat: category_name(cat, lang) for cat in set(cats)}  # a few categories, translated once each
    return {
        "rank": np.arange(1, len(order) + 1),
        "weight": soft.weights[order],
        "score": soft.scores,
        "title": [c[p].title for p in order],
        "category": [shown[cat] for cat in cats],
    }


def weights_table(store: KeyValueStore, soft: RetrievalResult) -> dict[str, Any]:
    """Every key's id, title, category code, q·k and weight, best first: the page's weights CSV (English columns)."""
    c, order = store.corpus, soft.positions  # (n,) corpus positions, largest weight first
    return {
        "rank": np.arange(1, len(order) + 1),
        "id": [c[i].id for i in order],
        "title": [c[i].title for i in order],
        "category": [c[i].category for i in order],
        "score_q_dot_k": soft.all_scores[order],
        "weight": soft.weights[order],
    }


def _weights_spec(columns: dict[str, Any], k: int, log: bool, lang: str) -> dict[str, Any]:
    from retrieval_attention.charts.retrieval import WEIGHTS_LABELS, weights_parts, weights_view
    from retrieval_attention.i18n import translated

    _ = _gettext(lang)
    title = _("Weight of every key, sorted")
    parts = weights_parts(columns, k, log=log, title=title, text=translated(WEIGHTS_LABELS, lang))
    return _filled(weights_view, parts, lang)


def weights_chart(store: KeyValueStore, soft: RetrievalResult, k: int, log: bool, lang: str = "en") -> LessonChart:
    """Every key's weight, sorted, the top ``k`` coloured; on a log axis when ``log`` (the page's toggle)."""
    _ = _gettext(lang)
    spec = _chart("weights", _weights_spec, weights_columns(store, soft, lang), int(k), bool(log), lang)
    return LessonChart(spec, _("Weight of every key, sorted"), key="weights_bar", height=WEIGHTS_HEIGHT)


@functools.lru_cache(maxsize=32)  # the section and the log toggle's fragment draw one chart per store and settings
def page_weights_chart(store: KeyValueStore, settings: RetrievalSettings) -> LessonChart:
    """:func:`weights_chart` of :func:`ask`'s soft attention, at ``settings``' k, axis and language."""
    return weights_chart(store, ask(store, settings)["soft"], settings.k, settings.log_weights, settings.lang)


def _soft(store: KeyValueStore, res: RetrievalResult, settings: RetrievalSettings) -> tuple[Block, ...]:
    """Every key's weight, its spread (entropy, effective keys) and the blended output."""
    from retrieval_attention.i18n import fmt_number, fmt_percent

    lang = settings.lang
    _, c = _gettext(lang), store.corpus
    top = ", ".join(f"{md(c[p].title)} {fmt_percent(res.weights[p], lang)}" for p in res.positions[:3])
    return (
        Text(_("3 · Soft attention"), style="subheader", key="soft_heading"),
        Text(_("softmax over every key, output = Σ wᵢ vᵢ"), style="caption", key="soft_caption"),
        Metrics(
            (
                Metric(
                    _("entropy (nats)"),
                    fmt_number(res.entropy, lang, 2),
                    _("0 = one key; log n = {value} = uniform").format(value=fmt_number(math.log(len(store)), lang, 2)),
                ),
            ),
            key="soft_entropy",
        ),
        Metrics(
            (
                Metric(
                    _("effective keys"),
                    fmt_number(res.effective_num_keys, lang, 1),
                    _("1 / Σ w²: how many keys share the weight"),
                ),
            ),
            key="soft_effective",
        ),
        Controls(key="soft_controls"),
        # the page's fragment draws this very chart (ask's answer, cached): built once, not twice
        page_weights_chart(store, settings)
        if res is ask(store, settings)["soft"]
        else weights_chart(store, res, settings.k, settings.log_weights, lang),
        Text(_("**Top weights:** {top}").format(top=top), key="soft_top"),
        *_output(store, res, "soft", lang),
    )


def retrievals_section(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> LessonSection:
    """The three columns: hard lookup, top-k search and soft attention for the same query and keys."""
    hard, topk, soft = results["hard"], results["topk"], results["soft"]
    columns = Columns(
        (_hard(store, hard, settings.lang), _topk(store, topk, soft, settings.lang), _soft(store, soft, settings)),
        border=True,
        key="columns",
    )
    return LessonSection("", blocks=(*_unread(store, settings.query, settings.lang), columns), key="retrievals")
