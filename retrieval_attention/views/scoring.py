"""Scoring functions: the page's document, built once for the app, a saved file and a notebook.

One query scored against every key four ways: cosine, dot product, scaled dot product and Bahdanau's
additive network, trained on the corpus to copy the cosine (section ``scores``); what the additive
score costs against the projected dot product, timed live on this machine (sections ``cost``,
``reveal`` once asked, ``measure``); and why transformers divide by √d (section ``scaling``). Every
number comes from :mod:`retrieval_attention.core.scoring`, :mod:`~retrieval_attention.core.scoring_cost`
and :mod:`~retrieval_attention.core.scoring_fit`; the timings are measured (:func:`measure`), so
they are the page's inputs here, not recomputed.

Example:
    >>> [s.key for s in scoring_lesson(None, None, ScoringSettings(query="")).sections]  # doctest: +SKIP
    ['scores', 'cost', 'measure', 'scaling']
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.errors import QueryError, RetrievalAttentionError
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
from retrieval_attention.i18n import N_

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

HIDDEN = 64  # width of the additive network's hidden layer = width of the dot product's projections
SEED = 0
FIT_STEPS = 400  # gradient steps of the additive scorer's training: about 2 s on one core
SYNTHETIC_N = 3_000  # keys in the synthetic corpus (about 10x the bundled one), same d as the model
QUERY_COUNTS = (1, 10, 100, 1_000)
REVEAL_M = 1_000  # queries the cost question asks about
AUTO_PAIRS = 40_000  # measure without asking up to this many network passes (well under a second)
MAX_PAIRS = 1_000_000  # never time more passes than this on a page
KEYSETS = {"corpus": N_("the bundled corpus"), "synthetic": N_("synthetic: {n} random unit keys")}  # msgids
#: The element heights of the page's charts, in pixels (the saved file draws them as tall).
STRIPS_HEIGHT, COST_HEIGHT, PEAK_HEIGHT = 620, 260, 520


@dataclass(frozen=True)
class ScoringSettings:
    """The page's widget values."""

    query: str = ""  # the query scored against every key ("" for none)
    keyset: str = "corpus"  # the keys timed in "measure it yourself": a key of :data:`KEYSETS`
    m: int = 10  # queries timed there, one of :data:`QUERY_COUNTS`
    metric: str = "max_weight"  # the peakiness measure drawn: "max_weight" or "entropy"
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _fmt(value: float, lang: str, decimals: int | None = None) -> str:
    from retrieval_attention.i18n import fmt_number

    return fmt_number(value, lang, decimals)


def _chart_text(lang: str) -> dict[str, str]:
    from retrieval_attention.charts.scoring import SCORING_TEXT
    from retrieval_attention.i18n import translated

    return translated(SCORING_TEXT, lang)


def _chart(chart, lang: str, key: str, height: int) -> LessonChart:
    from retrieval_attention.export.specs import inline_spec, signs

    return LessonChart(inline_spec(chart, **signs(lang), validate=False), key=key, height=height)


def _seconds(s: float, lang: str) -> str:
    from retrieval_attention.charts.scoring import format_seconds
    from retrieval_attention.i18n import number_signs

    return format_seconds(s, number_signs(lang)[0])


def keyset_name(keyset: str, lang: str = "en") -> str:
    """A key set's name in ``lang``."""
    return _gettext(lang)(KEYSETS[keyset]).format(n=_fmt(SYNTHETIC_N, lang))


def verdict(ratio: float) -> int:
    """Which of the cost question's four answers (additive 2× faster, the same, dot 10×, dot 100× faster or
    more) is closest, on a log scale, to a measured additive / dot ratio: 0 to 3.

    Example:
        >>> verdict(250.0), verdict(1.0), verdict(0.4)
        (3, 1, 0)
    """
    if ratio >= 30:
        return 3
    if ratio >= 3:
        return 2
    return 1 if ratio >= 0.7 else 0


def one_thread() -> AbstractContextManager[object]:
    """Single-threaded BLAS while timing: on a busy 2-core machine threads stall tiny multiplies."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1)


def measure(keyset: str, m: int, K: NDArray[np.float32]) -> CostResult:
    """Time additive against projected dot-product scoring: 3 repeats when cheap, else 1 after a warm-up.

    Args:
        keyset: ``"corpus"`` (the keys ``K``, their own rows cycled as the m queries) or ``"synthetic"``
            (:data:`SYNTHETIC_N` random unit keys of K's width).
        m: the number of queries.
        K: (n, d) the corpus's keys.

    Returns:
        The measured :class:`~retrieval_attention.core.scoring_cost.CostResult` (machine-dependent).
    """
    from retrieval_attention.core.scoring import AdditiveScorer
    from retrieval_attention.core.scoring_cost import measure_scoring_cost, time_scoring

    n, d = (SYNTHETIC_N, K.shape[1]) if keyset == "synthetic" else K.shape
    repeats = 3 if m * n <= 5_000 else 1
    with one_thread():
        if keyset == "synthetic":
            return measure_scoring_cost(m=m, n=n, d=d, hidden=HIDDEN, repeats=repeats, seed=SEED)
        queries = K[np.arange(m) % n]  # (m, d): the titles themselves, cycled, as queries
        return time_scoring(queries, K, AdditiveScorer.random(d, HIDDEN, SEED), repeats=repeats)


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


def _scored(store: KeyValueStore, fit: AdditiveFit, settings: ScoringSettings):
    from retrieval_attention.charts import scoring as cl

    scores = four_scores(store, fit.scorer, settings.query)
    return scores, cl.scores_frame(dict(zip(_names(store.dim, settings.lang), scores)), store.corpus.titles)


def scores_frame(store: KeyValueStore, fit: AdditiveFit, settings: ScoringSettings):
    """The scores section's data: one row per key and scorer (what its chart draws and its CSV holds).

    Raises:
        ~retrieval_attention.errors.QueryError: a query the encoder cannot use.
    """
    return _scored(store, fit, settings)[1]


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

    A query the encoder refuses leaves its reason in the section.
    """
    from retrieval_attention.charts import scoring as cl
    from retrieval_attention.core.scoring_fit import spearman

    _, lang = _gettext(settings.lang), settings.lang
    heading = _("1 · One query, four scores")
    try:
        (cosine, _dot, _scaled, additive), frame = _scored(store, fit, settings)
    except QueryError as exc:
        text = _("This query cannot be used: {detail}").format(detail=md(str(exc)))
        return LessonSection(
            heading, blocks=(*_scores_head(lang), Text(text, style="info", key="scores_problem")), key="scores"
        )
    except RetrievalAttentionError as exc:
        return LessonSection(
            heading, blocks=(*_scores_head(lang), Text(md(str(exc)), style="info", key="scores_problem")), key="scores"
        )
    names = _names(store.dim, lang)
    best = frame[frame["rank"] <= 5].sort_values(["scorer", "rank"])
    top = best.pivot(index="rank", columns="scorer", values="title")[list(names)]
    helps = _("Spearman rank correlation of the additive scores with the cosines over every key (1 = same order)")
    blocks = (
        *_scores_head(lang),
        _chart(cl.scores_strip_chart(frame, text=_chart_text(lang)), lang, "scores_strip", STRIPS_HEIGHT),
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


def cost_question(n: int, d: int, lang: str = "en") -> str:
    """The cost question, asked before the measurement (our markdown)."""
    _ = _gettext(lang)
    return _(
        "You score **{m} queries** against the {n} titles (d = {d}, h = {h}). Which is faster, and by how much?"
    ).format(m=_fmt(REVEAL_M, lang), n=n, d=d, h=HIDDEN)


def cost_section(lang: str = "en") -> LessonSection:
    """Why the additive score costs m·n network passes and the projected dot product one multiply; the question."""
    _ = _gettext(lang)
    blocks = (
        Text(
            _(
                "Bahdanau's score a(q, k) = vᵀ tanh(W q + U k) has the tanh **between** q and k, so it cannot be split "
                "into *something of q* · *something of k*: with m queries and n keys the small network runs **m·n** "
                "times. The projected dot product (W q)·(U k) projects each side **once** (m + n projections) and then "
                "needs **one matrix multiply**. Same parameters W, U, same width h; only the combination differs."
            ),
            key="cost_text",
        ),
        Controls(key="cost_question"),
    )
    return LessonSection(_("2 · What each score costs, measured now"), blocks=blocks, key="cost")


def reveal_section(r: CostResult, lang: str = "en") -> LessonSection:
    """The answer to the cost question: :data:`REVEAL_M` queries against the corpus, timed."""
    _ = _gettext(lang)
    explained = _(
        "The additive network ran {pairs} times ({loop}); the dot product projected {m} + {n} vectors once "
        "and multiplied two matrices ({dot}). Counted work alone differs {flops}×. Vectorised in numpy (no "
        "Python loop), additive takes {vec}× the dot product's time: it still needs all m·n·h tanh inputs, "
        "and no matrix multiply produces them."
    ).format(
        pairs=_fmt(r.pairs, lang),
        loop=_seconds(r.additive_loop_seconds, lang),
        m=_fmt(r.m, lang),
        n=_fmt(r.n, lang),
        dot=_seconds(r.dot_seconds, lang),
        flops=_fmt(r.flop_ratio, lang, 0),
        vec=_fmt(r.vectorised_ratio, lang, 1),
    )
    faster = Metric(
        _("dot product is faster by"), f"{_fmt(r.ratio, lang, 0)}×", _("additive loop seconds / dot-product seconds")
    )
    blocks = (Metrics((faster,), key="reveal_metric"), Text(explained, key="reveal_text"))
    return LessonSection(_("Reveal: the live measurement"), blocks=blocks, key="reveal")


def measure_section(r: CostResult | None, settings: ScoringSettings, n: int) -> LessonSection:
    """ "Measure it yourself": the timing of the chosen key set and m (None: too many pairs, or not yet asked).

    Args:
        r: the measurement, or None when none was made.
        settings: the key set and m.
        n: the corpus's number of keys.
    """
    from retrieval_attention.charts import scoring as cl
    from retrieval_attention.i18n import number_signs

    _, lang = _gettext(settings.lang), settings.lang
    head: tuple[Block, ...] = (
        Text(_("Measure it yourself"), style="subheader", key="measure_heading"),
        Controls(key="measure_controls"),
    )
    if r is None:
        pairs = settings.m * (n if settings.keyset == "corpus" else SYNTHETIC_N)
        if pairs <= MAX_PAIRS:
            return LessonSection("", blocks=head, key="measure")
        text = _("m·n = {pairs} network passes would take half a minute here; pick fewer queries.")
        return LessonSection(
            "",
            blocks=(*head, Text(text.format(pairs=_fmt(pairs, lang)), style="info", key="measure_limit")),
            key="measure",
        )
    text = _chart_text(lang)
    name = keyset_name(settings.keyset, lang)
    frame = cl.cost_frame({name: r}, text=text)
    chart = cl.cost_chart(frame, _("Time to score m queries against n keys"), text=text, decimal=number_signs(lang)[0])
    metrics = Metrics(
        (
            Metric(
                _("pairs m·n"),
                _fmt(r.pairs, lang),
                _("m = {m} queries, n = {n} keys, d = {d}, h = {h}").format(
                    m=_fmt(r.m, lang), n=_fmt(r.n, lang), d=r.d, h=r.hidden
                ),
            ),
            Metric(_("additive"), _seconds(r.additive_loop_seconds, lang), _("one network pass per pair")),
            Metric(_("dot product"), _seconds(r.dot_seconds, lang), _("project both sides once, one matrix multiply")),
            Metric(
                _("ratio additive / dot"),
                f"{_fmt(r.ratio, lang, 0)}×",
                _("counted work ratio {ratio}×").format(ratio=_fmt(r.flop_ratio, lang, 1)),
            ),
        ),
        key="measure_metrics",
    )
    caption = _(
        "Median of {repeats} timed run(s) after a warm-up, single-threaded BLAS, measured on this server "
        "(machine-dependent). With one query both need about n·d·h work, so the gap is small; it grows with m, "
        "and with the keys projected ahead (as an index does) a query costs one small multiply."
    ).format(repeats=r.repeats)
    blocks = (
        *head,
        metrics,
        _chart(chart, lang, "cost_chart", COST_HEIGHT),
        Text(caption, style="caption", key="measure_how"),
    )
    return LessonSection("", blocks=blocks, key="measure")


def measure_frame(r: CostResult, settings: ScoringSettings):
    """The measurement's data (what the cost chart draws and its CSV holds)."""
    from retrieval_attention.charts import scoring as cl

    return cl.cost_frame({keyset_name(settings.keyset, settings.lang): r}, text=_chart_text(settings.lang))


def peak_frame(lang: str = "en"):
    """The scaling section's data (what its chart draws and its CSV holds)."""
    from retrieval_attention.charts import scoring as cl

    return cl.peakiness_frame(peakiness(), text=_chart_text(lang))


def scaling_section(settings: ScoringSettings) -> LessonSection:
    """Softmax peakiness against d, with and without ÷√d, for Gaussian and for unit vectors."""
    from retrieval_attention.charts import scoring as cl

    _, lang = _gettext(settings.lang), settings.lang
    res = peakiness()
    chart = cl.peakiness_chart(peak_frame(lang), settings.metric, text=_chart_text(lang))
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
        _chart(chart, lang, "peak_chart", PEAK_HEIGHT),
        Text(text, key="scaling_text"),
    )
    return LessonSection(_("3 · Why transformers divide by √d"), blocks=blocks, key="scaling")


def scoring_lesson(
    store: KeyValueStore,
    fit: AdditiveFit,
    settings: ScoringSettings = ScoringSettings(),
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
