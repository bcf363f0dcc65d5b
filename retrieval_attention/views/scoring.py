"""Scoring functions: the page's document, built once for the app, a saved file and a notebook.

One query scored against every key four ways: cosine, dot product, scaled dot product and Bahdanau's
additive network, trained on the corpus to copy the cosine (section ``scores``); what the additive
score costs against the projected dot product, timed live on this machine (sections ``cost``,
``reveal`` once asked, ``measure``); and why transformers divide by √d (section ``scaling``). Every
number comes from :mod:`retrieval_attention.core.scoring`, :mod:`~retrieval_attention.core.scoring_cost`
and :mod:`~retrieval_attention.core.scoring_fit`; the timings are measured (:func:`measure`), so
they are the page's inputs here, not recomputed. The cost sections, the timing and the page's
settings live in :mod:`~retrieval_attention.views.scoring_cost` (re-exported here).

Example:
    >>> [s.key for s in scoring_lesson(None, None, ScoringSettings(query="")).sections]  # doctest: +SKIP
    ['scores', 'cost', 'measure', 'scaling']
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.export.blocks import (
    Block,
    Controls,
    LessonSection,
    LessonTable,
    Metric,
    Metrics,
    Text,
)
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views.problems import query_problem
from retrieval_attention.views.scoring_cost import (
    AUTO_PAIRS,
    FIT_STEPS,
    HIDDEN,
    KEYSETS,
    MAX_PAIRS,
    QUERY_COUNTS,
    REVEAL_M,
    SEED,
    SYNTHETIC_N,
    ScoringSettings,
    _fmt,
    _gettext,
    chart_text,
    cost_question,
    cost_section,
    keyset_name,
    lesson_chart,
    measure,
    measure_frame,
    measure_section,
    one_thread,
    reveal_section,
    verdict,
)

if TYPE_CHECKING:
    from retrieval_attention.core.scoring import AdditiveScorer, PeakinessResult
    from retrieval_attention.core.scoring_cost import CostResult
    from retrieval_attention.core.scoring_fit import AdditiveFit
    from retrieval_attention.store import KeyValueStore

__all__ = [
    "AUTO_PAIRS",
    "FIT_STEPS",
    "HIDDEN",
    "KEYSETS",
    "MAX_PAIRS",
    "QUERY_COUNTS",
    "REVEAL_M",
    "SEED",
    "SYNTHETIC_N",
    "ScoringSettings",
    "cost_question",
    "cost_section",
    "four_scores",
    "keyset_name",
    "measure",
    "measure_frame",
    "measure_section",
    "one_thread",
    "peak_frame",
    "peakiness",
    "reveal_section",
    "scaling_section",
    "scores_frame",
    "scores_section",
    "scoring_intro",
    "scoring_lesson",
    "scoring_title",
    "verdict",
]

#: The element heights of the page's charts, in pixels (the saved file draws them as tall).
STRIPS_HEIGHT, PEAK_HEIGHT = 620, 544  # the peakiness panels' titles take two lines in Spanish


@functools.cache
def peakiness() -> PeakinessResult:
    """Softmax peakiness against d (:func:`~retrieval_attention.core.scoring.peakiness_vs_dim`), once per process."""
    from retrieval_attention.core.scoring import peakiness_vs_dim

    return peakiness_vs_dim()


def four_scores(store: KeyValueStore, additive: AdditiveScorer, query: str) -> tuple[NDArray[np.floating], ...]:
    """Cosine, dot, scaled dot and additive scores (n,) each of ``query`` against the store's keys.

    Raises:
        ~retrieval_attention.errors.QueryError: a query the encoder cannot use.
    """
    from retrieval_attention.core.scoring import cosine_scores, dot_scores, scaled_dot_scores

    q = store.embed_query(query)  # (d,) unit vector
    K = store.K  # (n, d)
    return cosine_scores(q, K), dot_scores(q, K), scaled_dot_scores(q, K), additive.scores(q, K)


def _names(d: int, lang: str) -> tuple[str, str, str, str]:
    _ = _gettext(lang)
    return (
        _("cosine q·k / (‖q‖‖k‖)"),
        _("dot product q·k"),
        _("scaled dot product q·k / √{d}").format(d=d),
        _("additive vᵀ tanh(Wq + Uk), trained to copy the cosine"),
    )


class _Scores:
    """The four scores of one query (:func:`four_scores`), compared and hashed by their values (dtype, shape, bytes).

    The section and frame caches are keyed by the scores themselves, not by the query: float32
    products are not bit-for-bit reproducible across threads and BLAS states, so a cached picture
    is served only for the very numbers a fresh build would draw.
    """

    __slots__ = ("_key", "arrays")

    def __init__(self, arrays: tuple[NDArray[np.floating], ...]) -> None:
        self.arrays = arrays
        self._key = tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays)

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Scores) and other._key == self._key


@functools.lru_cache(maxsize=64)  # the section and the CSV of every rerun score once (a refused query is not kept)
def _query_scores(store: KeyValueStore, fit: AdditiveFit, query: str) -> _Scores:
    """:func:`four_scores`, once per store, scorer and query: the store keeps the query's vector, so these
    are the numbers any later call on this store would compute."""
    return _Scores(four_scores(store, fit.scorer, query))


@functools.lru_cache(maxsize=32)  # the section and the CSV of every rerun read one frame
def _scores_frame(store: KeyValueStore, scores: _Scores, lang: str):
    """The frame of these scores (shared: read it, never change it)."""
    from retrieval_attention.charts import scoring as cl

    return cl.scores_frame(dict(zip(_names(store.dim, lang), scores.arrays)), store.corpus.titles)


def scores_frame(store: KeyValueStore, fit: AdditiveFit, settings: ScoringSettings):
    """The scores section's data: one row per key and scorer (what its chart draws and its CSV holds).

    The frame is shared by every call with the same scores: read it, never change it.

    Raises:
        ~retrieval_attention.errors.QueryError: a query the encoder cannot use.
    """
    return _scores_frame(store, _query_scores(store, fit, settings.query), settings.lang)


def scoring_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Scoring functions: how a query is compared with a key")


def scoring_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the page is about."""
    _ = _gettext(lang)
    intro = _(
        "Attention turns scores a(q, k) into weights with a softmax. The score is the only part that "
        "compares query and key."
    )
    return (Text(intro, key="intro"),)


def _corpus_line(n: int, d: int, lang: str) -> Text:
    """The keys the section scores (under its chart: the picture first, on a projector's first screen)."""
    _ = _gettext(lang)
    keys = _("{n} keys (video titles) · encoder {model} · d = {d}").format(n=n, model=md(DEFAULT_MODEL), d=d)
    return Text(keys, style="caption", key="scores_corpus")


def _scores_head(lang: str) -> tuple[Block, ...]:
    _ = _gettext(lang)
    head: tuple[Block, ...] = (Controls(key="scores_query"),)
    if lang == "zh":
        zh = _("This lesson uses the English encoder, which cannot read Chinese: type the query in English.")
        head = (Text(zh, style="info", key="scores_zh"), *head)
    return head


def scores_section(store: KeyValueStore, fit: AdditiveFit, settings: ScoringSettings) -> LessonSection:
    """One query against every key, four ways; the five best under each; how well the additive scorer fits.

    A query the encoder refuses leaves its reason in the section. The section is built once per
    distinct scores (another store's vector of the same query may differ in its last bits: a new build).
    """
    _, lang = _gettext(settings.lang), settings.lang
    try:
        scores = _query_scores(store, fit, settings.query)
    except RetrievalAttentionError as exc:
        text = Text(query_problem(exc, lang), style="info", key="scores_problem")
        return LessonSection(_("1 · One query, four scores"), blocks=(*_scores_head(lang), text), key="scores")
    return _scores_section(store, fit, scores, lang)


@functools.lru_cache(maxsize=32)  # a revisit costs nothing: the section is a pure function of its inputs
def _scores_section(store: KeyValueStore, fit: AdditiveFit, scores: _Scores, lang: str) -> LessonSection:
    """:func:`scores_section` of these scores, in ``lang``."""
    from retrieval_attention.charts import scoring as cl
    from retrieval_attention.core.scoring_fit import spearman

    _ = _gettext(lang)
    heading = _("1 · One query, four scores")
    cosine, _dot, _scaled, additive = scores.arrays
    frame = _scores_frame(store, scores, lang)
    names = _names(store.dim, lang)
    best = frame[frame["rank"] <= 5].sort_values(["scorer", "rank"])
    top = best.pivot(index="rank", columns="scorer", values="title")[list(names)]
    helps = _("Spearman rank correlation of the additive scores with the cosines over every key (1 = same order)")
    blocks = (
        *_scores_head(lang),
        lesson_chart(cl.scores_strip_chart(frame, text=chart_text(lang)), lang, "scores_strip", STRIPS_HEIGHT),
        Text(
            _(
                "Four ways to compute it, drawn above: the dot product, the scaled dot product of transformers, "
                "the cosine, and the additive network of Bahdanau et al. (2015)."
            ),
            key="scores_four",
        ),
        _corpus_line(len(store), store.dim, lang),
        LessonTable(
            (_("rank"), *names), tuple((int(r), *top.loc[r]) for r in top.index), key="scores_top", static=True
        ),
        Text(
            _(
                "Our embeddings are **unit vectors**, so the dot product *is* the cosine, and ÷√d only shrinks every "
                "score by the same factor: the three rank the keys identically (orange ticks at the right end)."
            ),
            key="scores_unit",
        ),
        Metrics(
            (
                Metric(_("Spearman: held-out titles"), _fmt(fit.spearman_trained, lang, 2), helps),
                Metric(_("Spearman: random weights"), _fmt(fit.spearman_initial, lang, 2), helps),
                Metric(_("Spearman: this query"), _fmt(spearman(additive, cosine), lang, 2), helps),
            ),
            key="scores_fit",
        ),
        Text(_fit_text(fit, len(store), lang), key="scores_fit_text"),
    )
    return LessonSection(heading, blocks=blocks, key="scores")


def _fit_text(fit: AdditiveFit, n: int, lang: str) -> str:
    _ = _gettext(lang)
    return _(
        "Bahdanau *learned* the additive score's W, U ({h} × {d}) and v, and so did this page: it trained them "
        "on this corpus to reproduce the encoder's similarities. {m} queries (the title, and the title with "
        "its description, of {items} videos) were scored against the titles, with their cosine as the target "
        "(centred per query: a softmax ignores a shift), for {steps} steps of gradient descent (Adam, seed "
        "{seed}; {seconds} s on this server). The {held} other videos' titles were held out: on them, the "
        "median Spearman rank correlation between the additive scores and the cosines over all {n} keys is "
        "**{rho}** (1 = the same ranking; random weights: {rho0}; the training queries: {rho_train}). It copies "
        "the encoder from a few hundred texts, so it ranks like the cosine but not exactly."
    ).format(
        h=fit.scorer.hidden,
        d=fit.scorer.d,
        m=_fmt(fit.n_train_queries, lang),
        items=_fmt(len(fit.train_items), lang),
        steps=_fmt(fit.steps, lang),
        seed=fit.seed,
        seconds=_fmt(fit.seconds, lang, 1),
        held=_fmt(len(fit.held_out_items), lang),
        n=_fmt(n, lang),
        rho=_fmt(fit.spearman_trained, lang, 2),
        rho0=_fmt(fit.spearman_initial, lang, 2),
        rho_train=_fmt(fit.spearman_train, lang, 2),
    )


@functools.lru_cache(maxsize=4)  # one per language: the CSV of every rerun reads the same frame
def peak_frame(lang: str = "en"):
    """The scaling section's data (what its chart draws and its CSV holds); shared: read it, never change it."""
    from retrieval_attention.charts import scoring as cl

    return cl.peakiness_frame(peakiness(), text=chart_text(lang))


@functools.lru_cache(maxsize=16)  # a revisit costs nothing: the section is a pure function of its inputs
def scaling_section(settings: ScoringSettings) -> LessonSection:
    """Softmax peakiness against d, with and without ÷√d, for Gaussian and for unit vectors."""
    from retrieval_attention.charts import scoring as cl

    _, lang = _gettext(settings.lang), settings.lang
    res = peakiness()
    chart = cl.peakiness_chart(peak_frame(lang), settings.metric, text=chart_text(lang))
    g = res.curve("gaussian", scaled=False)
    text = _(
        "Softmax over {n} random keys, {trials} draws per d. **Left, the classic reason:** with "
        "entries ~ N(0, 1), q·k has variance d, so raw scores spread out and the softmax saturates "
        "(largest weight {w0} at d = {d0}, {w1} at d = {d1}); ÷√d keeps the variance at 1 and the curve flat. "
        "**Right, our case:** unit vectors have q·k of variance 1/d, so the raw softmax is already nearly "
        "uniform and ÷√d flattens it further. For unit embeddings the knob that matters is the temperature "
        "(the main page starts at the encoder's own: T = 0.05 for all-MiniLM-L6-v2, 0.01 for multilingual-e5-small)."
    ).format(
        n=res.n_keys,
        trials=res.trials,
        w0=_fmt(g.max_weight[0], lang, 2),
        d0=res.dims[0],
        w1=_fmt(g.max_weight[-1], lang, 2),
        d1=res.dims[-1],
    )
    blocks = (
        Controls(key="scaling_metric"),
        lesson_chart(chart, lang, "peak_chart", PEAK_HEIGHT),
        Text(text, key="scaling_text"),
    )
    return LessonSection(_("3 · Why transformers divide by √d"), blocks=blocks, key="scaling")


#: The page as it opens (the frozen settings, shared).
_DEFAULTS = ScoringSettings()


def scoring_lesson(
    store: KeyValueStore,
    fit: AdditiveFit,
    settings: ScoringSettings = _DEFAULTS,
    *,
    cost: CostResult | None = None,
    reveal: CostResult | None = None,
) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and its sections.

    Args:
        store: the corpus's store (its keys, titles and encoder).
        fit: the additive scorer trained on that corpus (:func:`~retrieval_attention.core.scoring_fit.fit_additive`).
        settings: the page's widget values.
        cost: the "measure it yourself" timing of ``settings.keyset`` and ``settings.m``, if made.
        reveal: the timing of :data:`REVEAL_M` queries that answers the cost question, if made.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    sections = [scores_section(store, fit, settings), cost_section(lang)]
    if reveal is not None:
        sections.append(reveal_section(reveal, lang))
    sections += [measure_section(cost, settings, len(store)), scaling_section(settings)]
    facts = (
        (_("Query"), settings.query),
        (_("Model"), DEFAULT_MODEL),
        (_("Keys"), keyset_name(settings.keyset, lang)),
        (_("Queries m"), _fmt(settings.m, lang)),
    )
    return Lesson(
        title=scoring_title(lang),
        facts=facts,
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        intro=scoring_intro(lang),
        **signs(lang),
    )
