"""Section 4: does attention help? Leave-last-out on the bundled personas."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

from retrieval_attention.corpus import Corpus, Persona, load_histories
from retrieval_attention.errors import CorpusError
from retrieval_attention.export.blocks import Controls, LessonSection, LessonTable, Text
from retrieval_attention.views.recommender.results import leave_last_out
from retrieval_attention.views.recommender.settings import METHOD_NAMES, RecommenderSettings, _gettext

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore

__all__ = ["evaluation_section", "personas_for"]


def evaluation_section(
    store: KeyValueStore, settings: RecommenderSettings, personas: Sequence[Persona]
) -> LessonSection:
    """Section 4: leave-last-out on ``personas``, at the page's settings (``live``) or the package defaults."""
    if not settings.live:  # the package defaults: nothing else of the settings is read
        settings = RecommenderSettings((), (), lang=settings.lang)
    return _evaluation_section(store, settings, tuple(personas))


@functools.lru_cache(maxsize=32)  # a revisit costs nothing: a pure function of the store and settings
def _evaluation_section(
    store: KeyValueStore, settings: RecommenderSettings, personas: tuple[Persona, ...]
) -> LessonSection:
    """:func:`evaluation_section` (its leave-last-out is cached too, ~2 s each)."""
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
