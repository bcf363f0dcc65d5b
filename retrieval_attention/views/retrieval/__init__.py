"""Three retrievals (the main page): one query, hard lookup, top-k and soft attention side by side.

The page asks the store once per query (:func:`ask`: ``store.retrieve``) and everything here is
laid out from the three results that come back: the three columns (section ``retrievals``), the
temperature continuum (``continuum``), the softmax written out with the real numbers
(``arithmetic``) and the ÷√d comparison (``scaling``). The kept weight of top-k is
:func:`~retrieval_attention.core.topk.kept_weight` of the soft weights at the top-k positions.
The app draws this document, "Save this view" writes it, and ``retrieval-attention --html`` saves it.
Its parts live in small modules by idea: :mod:`.settings` (the widget values, :func:`ask` and the
chart cache), :mod:`.columns` (the three columns), :mod:`.continuum`, :mod:`.arithmetic` and
:mod:`.scaling` (the sections below the columns).

Example:
    >>> import retrieval_attention as ra
    >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    >>> lesson = retrieval_document(store, RetrievalSettings("funny cat videos", k=3))
    >>> [s.key for s in lesson.sections]
    ['retrievals', 'continuum', 'arithmetic', 'scaling']
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from retrieval_attention.export.blocks import LessonSection, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views.retrieval.arithmetic import arithmetic_section
from retrieval_attention.views.retrieval.columns import (
    page_weights_chart,
    retrievals_section,
    weights_chart,
    weights_columns,
    weights_table,
)
from retrieval_attention.views.retrieval.continuum import continuum_section
from retrieval_attention.views.retrieval.scaling import scaling_section
from retrieval_attention.views.retrieval.settings import (
    SCALE_NAMES,
    Results,
    RetrievalSettings,
    _gettext,
    ask,
    chart_cache,
)

if TYPE_CHECKING:
    from retrieval_attention.charts.spec import Lazy
    from retrieval_attention.store import KeyValueStore

#: The page as it opens (frozen: safe as a default argument).
DEFAULT_SETTINGS = RetrievalSettings()

__all__ = [
    "Results",
    "RetrievalSettings",
    "arithmetic_section",
    "ask",
    "chart_cache",
    "continuum_section",
    "page_sections",
    "page_weights_chart",
    "page_weights_table",
    "retrieval_facts",
    "retrieval_intro",
    "retrieval_document",
    "retrieval_more",
    "retrieval_title",
    "retrievals_section",
    "scaling_section",
    "weights_chart",
    "weights_columns",
    "weights_table",
]


def retrieval_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)  # bound to _ so that the string is extracted for translation
    return _("Attention is soft retrieval")


def retrieval_intro(lang: str = "en") -> tuple[Text, ...]:
    """The short introduction under the title: what to notice (the rest is :func:`retrieval_more`)."""
    _ = _gettext(lang)
    return (
        Text(
            _("Notice: a dict needs the exact key, top-k keeps the k nearest keys, soft attention weighs every key."),
            style="caption",
            key="notice",
        ),
    )


@functools.lru_cache(maxsize=16)
def retrieval_more(store: KeyValueStore, lang: str = "en") -> tuple[Text, ...]:
    """The rest of the introduction (one click away on the page): queries, keys, values, and the store."""
    from retrieval_attention.export.specs import corpus_label
    from retrieval_attention.i18n import fmt_number

    _ = _gettext(lang)
    return (
        Text(
            _(
                "A **query** is compared with every **key** (a video title); the comparison becomes **weights**; "
                "the weights pick out **values** (the videos). Three ways to do it, same query, same keys:"
            ),
            key="intro",
        ),
        Text(
            _("{n} keys from {source} · encoder {model} · d = {d}").format(
                n=fmt_number(len(store), lang),
                source=md(corpus_label(store.corpus, lang)),
                model=md(store.encoder.name),
                d=store.dim,
            ),
            style="caption",
            key="store",
        ),
    )


def retrieval_facts(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> tuple[tuple[str, str], ...]:
    """The document's facts: model, corpus, date, query, k, T and the scale of q·k."""
    from retrieval_attention.export.specs import corpus_label, lesson_date
    from retrieval_attention.i18n import fmt_number, fmt_setting

    lang, soft = settings.lang, results["soft"]
    _ = _gettext(lang)
    scale = settings.scale
    shown = (
        _(SCALE_NAMES[scale]) if isinstance(scale, str) and scale in SCALE_NAMES else fmt_number(soft.scale, lang, 4)
    )
    return (
        (_("Model"), store.encoder.name),
        (_("Corpus"), corpus_label(store.corpus, lang)),
        (_("Date"), lesson_date(settings.when).isoformat()),
        (_("Query"), settings.query),
        ("k", str(len(results["topk"].ids))),
        (_("Temperature T"), fmt_setting(soft.temperature, lang)),
        (_("Scale q·k by"), shown),
    )


@functools.lru_cache(maxsize=32)  # a revisit costs nothing: the sections are a pure function of their inputs
def page_sections(
    store: KeyValueStore, settings: RetrievalSettings
) -> tuple[LessonSection, LessonSection, LessonSection, LessonSection]:
    """The page's four sections (retrievals, continuum, arithmetic, scaling), once per store and settings.

    Each is built from :func:`ask`'s answer, which is cached too: the page, its CSV and its saved file
    read the same results.

    Raises:
        QueryError: an empty or unusable query.
        InvalidParameterError: a bad k, temperature or scale.
    """
    results = ask(store, settings)
    return (
        retrievals_section(store, results, settings),
        continuum_section(store, results, settings),
        arithmetic_section(store, results, settings),
        scaling_section(store, results, settings),
    )


@functools.lru_cache(maxsize=32)  # the CSV of every rerun: one table per store and question
def page_weights_table(store: KeyValueStore, settings: RetrievalSettings) -> Lazy:
    """The weights CSV's frame, made only when its CSV is not cached: :func:`weights_table` of :func:`ask`'s soft."""
    import pandas as pd

    from retrieval_attention.charts.spec import Lazy

    return Lazy(pd.DataFrame, weights_table(store, ask(store, settings)["soft"]))


def retrieval_document(
    store: KeyValueStore, settings: RetrievalSettings = DEFAULT_SETTINGS, results: Results | None = None
) -> Lesson:
    """The whole page as one document: title, intro, facts and its four sections.

    Args:
        store: the key-value store (model and corpus).
        settings: the page's widget values.
        results: :func:`ask`'s answer for these settings, if the caller has it already (the page);
            None asks the store here.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        QueryError: an empty or unusable query.
        InvalidParameterError: a bad k, temperature or scale.
    """
    from retrieval_attention.export.specs import made_with, signs

    results = ask(store, settings) if results is None else results
    lang = settings.lang
    sections = (
        retrievals_section(store, results, settings),
        continuum_section(store, results, settings),
        arithmetic_section(store, results, settings),
        scaling_section(store, results, settings),
    )
    return Lesson(
        title=retrieval_title(lang),
        facts=retrieval_facts(store, results, settings),
        sections=sections,
        lang=lang,
        footer=made_with(lang),
        intro=retrieval_intro(lang) + retrieval_more(store, lang),
        **signs(lang),
    )
