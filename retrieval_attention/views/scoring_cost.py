"""Scoring functions: what the additive score costs against the dot product, measured live.

The cost question (section ``cost``), its answer once asked (``reveal``), and "measure it yourself"
(``measure``): additive against projected dot-product scoring of m queries, timed on this machine by
:func:`measure` (:mod:`retrieval_attention.core.scoring_cost`). Also the page's settings and the
helpers its other sections share; the page's document is put together in
:mod:`retrieval_attention.views.scoring`.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.export.blocks import (
    Block,
    Controls,
    LessonChart,
    LessonSection,
    Metric,
    Metrics,
    Text,
)
from retrieval_attention.i18n import N_

if TYPE_CHECKING:
    from retrieval_attention.core.scoring_cost import CostResult

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
    "chart_text",
    "cost_question",
    "cost_section",
    "keyset_name",
    "lesson_chart",
    "measure",
    "measure_frame",
    "measure_section",
    "one_thread",
    "reveal_section",
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
COST_HEIGHT = 260  # the cost chart's element height, in pixels (the saved file draws it as tall)


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


def chart_text(lang: str) -> dict[str, str]:
    from retrieval_attention.charts.scoring import SCORING_TEXT
    from retrieval_attention.i18n import translated

    return translated(SCORING_TEXT, lang)


def lesson_chart(chart, lang: str, key: str, height: int) -> LessonChart:
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
    return _measure_section(r, settings.keyset, settings.m, settings.lang, n)


@functools.lru_cache(maxsize=32)  # a revisit costs nothing: the section is a pure function of its inputs
def _measure_section(r: CostResult | None, keyset: str, m: int, lang: str, n: int) -> LessonSection:
    """:func:`measure_section` of the settings it reads (the key set, m and the language)."""
    from retrieval_attention.charts import scoring as cl
    from retrieval_attention.i18n import number_signs

    _ = _gettext(lang)
    settings = ScoringSettings(keyset=keyset, m=m, lang=lang)
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
    text = chart_text(lang)
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
        lesson_chart(chart, lang, "cost_chart", COST_HEIGHT),
        Text(caption, style="caption", key="measure_how"),
    )
    return LessonSection("", blocks=blocks, key="measure")


def measure_frame(r: CostResult, settings: ScoringSettings):
    """The measurement's data (what the cost chart draws and its CSV holds); shared: read it, never change it."""
    return _measure_frame(r, settings.keyset, settings.lang)


@functools.lru_cache(maxsize=32)  # the CSV of every rerun reads one frame
def _measure_frame(r: CostResult, keyset: str, lang: str):
    from retrieval_attention.charts import scoring as cl

    return cl.cost_frame({keyset_name(keyset, lang): r}, text=chart_text(lang))
