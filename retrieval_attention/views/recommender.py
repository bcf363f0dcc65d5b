"""Target attention over a watch history (Deep Interest Network, Alibaba 2018): the page's document.

The query is a candidate video, the keys and values are the user's watch history: the same
history reads differently for different targets (section ``compare``). Every recommendation reads
it its own way (section ``cross``); attention, the history's mean and popularity rank the same
unseen videos (section ``lists``); leave-last-out on the bundled personas says whether attention
helps (section ``evaluation``). Every number comes from :mod:`retrieval_attention.recommender`.

The app, "Save this view", :func:`retrieval_attention.recommender_lesson` and a notebook all show
this one document.

Caches, per process and bounded (a slider move rebuilds only what it changed; going back costs nothing):

================  ===========================================  ============
what              key                                          bound
================  ===========================================  ============
:func:`ranked`    store, history, method, T, softmax, recency  64 rankings
leave_last_out    store, personas, T, softmax, recency         16 (~2 s each)
_bars_spec        store, history, targets, T, softmax,         64 specs
                  recency, language                            (~0.4 s each)
_heatmap_spec     store, history, T, softmax, recency,         64 specs
                  language                                     (~0.1 s each)
================  ===========================================  ============

A cached chart specification is shared: read it, never change it (the app's renderer copies it).

Example:
    >>> import retrieval_attention as ra
    >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    >>> s = RecommenderSettings(history=("v270", "v010", "v028"), targets=("v252",))
    >>> [x.key for x in target_attention_lesson(store, s).sections]  # doctest: +SKIP
    ['compare', 'cross', 'lists', 'evaluation']
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval_attention.corpus import Corpus, Persona, load_histories
from retrieval_attention.errors import CorpusError, InvalidParameterError
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
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.i18n import N_
from retrieval_attention.recommender import (
    METHODS,
    LeaveLastOut,
    Recommendations,
    TargetAttention,
    cross_topic_picks,
    evaluate_leave_last_out,
    recommend,
    target_attention,
)

if TYPE_CHECKING:
    import pandas as pd

    from retrieval_attention.store import KeyValueStore

__all__ = [
    "METHOD_NAMES",
    "ODD_SHOWN",
    "SLOTS",
    "TOP",
    "RecommenderSettings",
    "compare_section",
    "cross_matrix",
    "cross_section",
    "default_targets",
    "evaluation_section",
    "leave_last_out",
    "lists_section",
    "personas_for",
    "ranked",
    "recommender_intro",
    "recommender_title",
    "target_attention_lesson",
    "weights_frame",
]

#: Recommendations per method: the lists, the heatmap's rows and the evaluation's cut-off.
TOP = 10
#: The targets' names, in order.
SLOTS = ("A", "B")
#: Odd picks explained under the lists, at most this many.
ODD_SHOWN = 3
#: Each method's name (an English msgid of the package catalogue).
METHOD_NAMES = {
    "attention": N_("Target attention (DIN)"),
    "mean": N_("Mean of the history"),
    "popular": N_("Most popular"),
}
#: The bars' panel width in pixels, by (recency on, two targets): the titles, the panels (and the recency
#: factor's) fit the page's width at 1280 px with the sidebar open, so nothing is cut on a projector.
PANEL_WIDTHS = {(False, False): 400, (False, True): 190, (True, False): 290, (True, True): 130}
BAR_HEIGHT_EXTRA, HEATMAP_ROW, HEATMAP_EXTRA = 150, 34, 260  # the charts' element heights: rows × step + room


@dataclass(frozen=True)
class RecommenderSettings:
    """The page's widget values."""

    history: tuple[str, ...]  # watched video ids, oldest first (the keys and values)
    targets: tuple[str, ...]  # one or two candidate ids (targets A, B), each a query; not in the history
    temperature: float | None = None  # softmax T > 0; None: the encoder's own for target attention
    normalize: bool = True  # softmax weights (True) or DIN's raw q·k weights (False; T unused)
    half_life: float | None = None  # recency half-life in videos; None: recency off
    who: str = ""  # whose history (a persona's name, user text); "" for one built by hand
    about: str = ""  # that persona's description (user text); "" for none
    live: bool = False  # evaluate at these settings (False: the package defaults, as the page opens)
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _check(settings: RecommenderSettings) -> RecommenderSettings:
    if not 1 <= len(settings.targets) <= len(SLOTS):
        raise InvalidParameterError(f"one or two targets, got {len(settings.targets)}")
    return settings


# -- the library's results, asked once --------------------------------------------------------------


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


def weights_frame(store: KeyValueStore, settings: RecommenderSettings) -> pd.DataFrame:
    """Every factor of every weight, one row per (target, watched video): the bars' data and their CSV."""
    import pandas as pd

    tas = _attention(store, _check(settings))
    frames = _frames(store, tas, settings.lang)
    return pd.concat([f.assign(target_id=tas[slot].target_id) for slot, f in frames.items()], ignore_index=True)


def cross_matrix(store: KeyValueStore, settings: RecommenderSettings) -> pd.DataFrame:
    """The cross-attention heatmap's weights: one row per recommendation, one column per watched video."""
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
    from retrieval_attention.charts.recommender import history_weights_chart, weight_domain

    s = RecommenderSettings(history, targets, temperature, normalize, half_life, lang=lang)
    frames = list(_frames(store, _attention(store, s), lang).values())
    recency = half_life is not None
    chart = history_weights_chart(
        frames,
        list(dict.fromkeys(frames[0]["category"])),
        domain=weight_domain(frames, normalize),
        recency=recency,
        normalize=normalize,
        panel_width=PANEL_WIDTHS[recency, len(frames) > 1],
        half_life=half_life,
        text=_chart_text(lang),
    )
    return _spec(chart, lang)


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
    from retrieval_attention.charts.recommender import cross_attention_frame, cross_attention_heatmap

    X = ranked(store, history, "attention", temperature, normalize, half_life).attention
    chart = cross_attention_heatmap(cross_attention_frame(X), normalize=normalize, text=_chart_text(lang))
    return _spec(chart, lang)


def _chart_text(lang: str) -> dict[str, str]:
    from retrieval_attention.charts.recommender import REC_TEXT
    from retrieval_attention.i18n import translated

    return translated(REC_TEXT, lang)


# -- the document -----------------------------------------------------------------------------------


def recommender_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Target attention (DIN)")


def recommender_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the page is about, in one line."""
    _ = _gettext(lang)
    return (
        Text(
            _(
                "The query is the video: **Q** = a candidate to recommend, **K**, **V** = the watch history "
                "(Alibaba's DIN, 2018)."
            ),
            key="intro",
        ),
    )


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


def _ranked_column(rec: Recommendations, store: KeyValueStore, other: Recommendations | None, lang: str):
    """One method's top list: its name, how it scores, the table; attention rows carry their explanation."""
    from retrieval_attention.i18n import fmt_number

    _ = _gettext(lang)
    m = rec.method
    rank, recommended = _("rank"), _("recommended")
    if m == "attention":
        how = _("score = (Σ wᵢ vᵢ) · q: each candidate builds its own interest from the history")
        because = _("because you watched “{title}”, weight {weight}")
        last = _("why")
        cells = [
            _("no watched video to attend to")
            if e.because_title is None
            else because.format(title=e.because_title, weight=fmt_number(e.weight, lang, 2))
            for e in rec.explanations
        ]
    elif m == "mean":
        how = _("score = mean(vᵢ) · q: one interest vector for every candidate (equal weights, T = ∞)")
        last, cells = _("score"), [fmt_number(x, lang, 3) for x in rec.scores]
    else:
        how = _("by view count: ignores the history except to skip what was seen (views are made up)")
        last, cells = _("views"), [fmt_number(store.corpus.by_id(i).views or 0, lang) for i in rec.ids]
    rows = tuple((i, title, cell) for i, (title, cell) in enumerate(zip(rec.titles, cells), start=1))
    blocks: list[Block] = [
        Text(_(METHOD_NAMES[m]), "subheader", f"lists_{m}_name"),
        Text(how, "caption", f"lists_{m}_how"),
        LessonTable((rank, recommended, last), rows, key=f"lists_{m}", static=True),
    ]
    if other is not None:
        same = len(set(rec.ids) & set(other.ids))
        new = _("{new} of these {n} are not in the mean list.").format(new=len(rec.ids) - same, n=len(rec.ids))
        blocks.append(Text(new, "caption", f"lists_{m}_new"))
    return tuple(blocks)


def _odd_picks(rec: Recommendations, store: KeyValueStore, lang: str) -> tuple[Block, ...]:
    """Why a pick from another topic: the watched video it reads most, and the words their titles share."""
    from retrieval_attention.i18n import category_name, fmt_number

    odd = cross_topic_picks(rec, store.corpus)
    if not odd:
        return ()
    _ = _gettext(lang)
    shared_line = _(
        "“{pick}” (*{category}*) comes from “{because}” (*{because_category}*, weight {weight}): "
        "the two titles share “{words}”."
    )
    unshared_line = _(
        "“{pick}” (*{category}*) comes from “{because}” (*{because_category}*, weight {weight}): the titles share "
        "no word, yet the encoder puts them close (cosine {similarity})."
    )
    lines = [
        "- "
        + (shared_line if o.shared else unshared_line).format(
            pick=md(o.title),
            because=md(o.because_title),
            words=md("”, “".join(o.shared)),
            category=category_name(o.category, lang),
            because_category=category_name(o.because_category, lang),
            weight=fmt_number(o.weight, lang, 2),
            similarity=fmt_number(o.similarity, lang, 2),
        )
        for o in odd[:ODD_SHOWN]
    ]
    why = _(
        "A text encoder reads the words, not what they mean in this title: titles that share a word sit close "
        "together even when the word names two things (Python the snake and Python the language, bass the fish "
        "and the bass guitar). The keys here are title embeddings and the values title + description "
        "embeddings; the category is in neither, so nothing tells attention that the topics differ. "
        "{n} of these {k} picks come from a watched video of another category."
    ).format(n=len(odd), k=len(rec.ids))
    return (
        Text(_("Why an odd pick?"), "subheader", "odd_picks"),
        Text("\n".join(lines), key="odd_picks_list"),
        Text(why, "caption", "odd_picks_why"),
    )


def lists_section(store: KeyValueStore, settings: RecommenderSettings) -> LessonSection:
    """Section 3: the top :data:`TOP` three ways, and odd picks.

    Attention's list comes first, full width with why each pick came; the two baselines (the
    history's mean, popularity) side by side under it; then why a pick from another topic came.
    """
    s = settings
    _, lang = _gettext(s.lang), s.lang
    recs = {m: ranked(store, s.history, m, s.temperature, s.normalize, s.half_life) for m in METHODS}
    baselines = tuple(_ranked_column(recs[m], store, None, lang) for m in METHODS if m != "attention")
    blocks = (
        *_ranked_column(recs["attention"], store, recs["mean"], lang),  # full width: its "why" column is long
        Columns(baselines, border=True, key="lists_baselines"),
        *_odd_picks(recs["attention"], store, lang),
    )
    return LessonSection(_("Top {n}, three ways, same unseen candidates").format(n=TOP), blocks=blocks, key="lists")


def evaluation_section(
    store: KeyValueStore, settings: RecommenderSettings, personas: Sequence[Persona]
) -> LessonSection:
    """Section 4: leave-last-out on ``personas``, at the page's settings (``live``) or the package defaults."""
    from retrieval_attention.i18n import fmt_number, fmt_percent, fmt_setting

    s = settings
    _, lang = _gettext(s.lang), s.lang
    heading = _("Does attention help? Leave-last-out on the bundled personas")
    if not personas:
        text = _("The bundled personas do not match this corpus, so there is nothing to evaluate.")
        return LessonSection(heading, blocks=(Text(text, "info", "evaluation_none"),), key="evaluation")
    if s.live:
        t = store.temperature_info.recommender if s.temperature is None else s.temperature
        normalize, half_life = s.normalize, s.half_life
    else:
        t, normalize, half_life = store.temperature_info.recommender, True, None
    ev = leave_last_out(store, tuple(personas), float(t), normalize, half_life)
    n = len(ev.held_out)
    hit = _("hit rate@{k}").format(k=ev.k)
    scores = tuple(
        (
            _(METHOD_NAMES[m]),
            fmt_percent(sc.hit_rate, lang),
            f"{sum(r <= ev.k for r in sc.ranks.values())} / {n}",
            fmt_number(sc.mrr, lang, 3),
        )
        for m, sc in ev.scores.items()
    )
    where = "softmax" if normalize else _("DIN raw weights")
    recency = _("no recency") if half_life is None else _("half-life {h}").format(h=fmt_setting(half_life, lang))
    said = _("Settings: {where}, T = {t}, {recency}; {n} personas; k = {k}.").format(
        where=where, t=fmt_setting(t, lang), recency=recency, n=n, k=ev.k
    )
    honest = _(
        "**What this measures, honestly.** Each persona's last watched video is hidden; every other unseen video "
        "is ranked; a *hit* means the hidden one lands in the top 10, *MRR* is the mean of 1/rank. "
        "The {n} personas and the ~310 titles are **hand-written**, and the hidden videos were picked by the "
        "same author to fit each persona's topics, so a hit says *the title embeddings put the hidden title near "
        "the persona's other titles*: a check of the embedding and of the topic design, not of real users. "
        "There are no clicks; the view counts are made up, so *popular* is a sanity floor. With {n} personas "
        "one persona moves the hit rate by {share}: a difference of one or two hits is noise. "
        "The default temperature was chosen for readable bars, not tuned on these numbers."
    ).format(n=n, share=fmt_percent(1 / n, lang))
    names = {p.id: p.name for p in personas}
    methods = list(ev.scores)
    ranks = tuple(
        (names.get(pid, pid), store.corpus.by_id(v).title, *(ev.scores[m].ranks[pid] for m in methods))
        for pid, v in ev.held_out.items()
    )
    blocks = (
        Controls(key="evaluation_controls"),
        Text(said, "caption", "evaluation_settings"),
        LessonTable((_("method"), hit, _("hits"), "MRR"), scores, key="evaluation_scores", static=True),
        Text(honest, key="evaluation_honest"),
        LessonTable(
            (_("persona"), _("hidden (last watched)"), *(_(METHOD_NAMES[m]) for m in methods)),
            ranks,
            _("Rank of the hidden video, per persona"),
            key="evaluation_ranks",
        ),
    )
    return LessonSection(heading, blocks=blocks, key="evaluation")


def personas_for(corpus: Corpus, lang: str) -> tuple[Persona, ...]:
    """The bundled personas, named and described in ``lang``; () when they do not fit ``corpus``."""
    try:
        return load_histories(corpus=corpus, lang=lang)
    except CorpusError:
        return ()


def target_attention_lesson(
    store: KeyValueStore,
    settings: RecommenderSettings,
    personas: Sequence[Persona] | None = None,
    *,
    when: datetime.date | datetime.datetime | None = None,
) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and its four sections.

    Args:
        store: the key-value store (model and corpus).
        settings: the page's widget values.
        personas: the histories the evaluation hides a video of; None: the bundled ones, in ``settings.lang``.
        when: the date the document names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        RecommenderError: an empty history, an unknown history or target id.
        InvalidParameterError: no target or more than two, a bad temperature or half-life.
    """
    from retrieval_attention.export.specs import corpus_label, lesson_date, made_with, signs
    from retrieval_attention.i18n import fmt_number, fmt_setting
    from retrieval_attention.recommender.attention import store_temperature

    s = _check(settings)
    _, lang = _gettext(s.lang), s.lang
    sections = (
        compare_section(store, s),
        cross_section(store, s),
        lists_section(store, s),
        evaluation_section(store, s, personas_for(store.corpus, lang) if personas is None else personas),
    )
    facts = [
        (_("Model"), store.encoder.name),
        (_("Corpus"), corpus_label(store.corpus, lang)),
        (_("Date"), lesson_date(when).isoformat()),
    ]
    if s.who:
        facts.append((_("History"), s.who))
    facts.append((_("Videos watched"), fmt_number(len(s.history), lang)))
    facts += [(_("Target {slot}").format(slot=slot), store.corpus.by_id(t).title) for slot, t in zip(SLOTS, s.targets)]
    t = store_temperature(store, s.temperature, s.normalize)
    facts += [
        (_("Temperature T"), fmt_setting(t, lang) if s.normalize else "—"),
        (_("Weights"), _("softmax") if s.normalize else _("raw q·k (DIN)")),
        (_("Recency half-life"), _("off") if s.half_life is None else fmt_setting(s.half_life, lang)),
    ]
    return Lesson(
        title=recommender_title(lang),
        facts=tuple(facts),
        sections=sections,
        lang=lang,
        footer=made_with(lang),
        intro=recommender_intro(lang),
        **signs(lang),
    )
