"""Target attention over a watch history (Deep Interest Network, Alibaba 2018): the page's document.

The query is a candidate video, the keys and values are the user's watch history: the same
history reads differently for different targets (section ``compare``). Every recommendation reads
it its own way (section ``cross``); attention, the history's mean and popularity rank the same
unseen videos (section ``lists``); leave-last-out on the bundled personas says whether attention
helps (section ``evaluation``). Every number comes from :mod:`retrieval_attention.recommender`.

The app, "Save this view", :func:`retrieval_attention.recommender_lesson` and a notebook all show
this one document. Its parts live in small modules by idea: :mod:`.settings` (the widget values
and constants), :mod:`.results` (the library's answers and the chart specifications, cached: its
docstring names the caches), :mod:`.compare` (sections ``compare`` and ``cross``), :mod:`.lists`
and :mod:`.evaluation`.

Example:
    >>> import retrieval_attention as ra
    >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    >>> s = RecommenderSettings(history=("v270", "v010", "v028"), targets=("v252",))
    >>> [x.key for x in target_attention_lesson(store, s).sections]  # doctest: +SKIP
    ['compare', 'cross', 'lists', 'evaluation']
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from retrieval_attention.export.blocks import Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.views.recommender.compare import compare_section, cross_section
from retrieval_attention.views.recommender.evaluation import evaluation_section, personas_for
from retrieval_attention.views.recommender.lists import lists_section
from retrieval_attention.views.recommender.results import (
    cross_matrix,
    default_targets,
    leave_last_out,
    ranked,
    weights_frame,
)
from retrieval_attention.views.recommender.settings import (
    METHOD_NAMES,
    ODD_SHOWN,
    SLOTS,
    TOP,
    RecommenderSettings,
    _check,
    _gettext,
)

if TYPE_CHECKING:
    from retrieval_attention.corpus import Persona
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
