"""Section 3: the top recommendations three ways (attention, the history's mean, popularity), and odd picks."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from retrieval_attention.export.blocks import Block, Columns, LessonSection, LessonTable, Text
from retrieval_attention.export.markup import md
from retrieval_attention.recommender import METHODS, Recommendations, cross_topic_picks
from retrieval_attention.views.recommender.results import ranked
from retrieval_attention.views.recommender.settings import METHOD_NAMES, ODD_SHOWN, TOP, RecommenderSettings, _gettext

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore

__all__ = ["lists_section"]


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


@functools.lru_cache(maxsize=32)  # a revisit costs nothing: a pure function of the store and settings
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
