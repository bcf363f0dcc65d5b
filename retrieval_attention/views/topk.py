"""Top-k retrieval as efficient attention: the page's document, built once for the app, a saved file and a notebook.

One library call per query, k and T (:meth:`~retrieval_attention.store.KeyValueStore.topk_search`:
FAISS's top k, carrying the q·k of every key); the full softmax, the top-k softmax and both error
identities come from :mod:`retrieval_attention.core.topk` (the one home of top-k's order, kept
weight, tail mass and errors). Sections, by key: ``weights`` (the best keys' weights, full vs
top-k), ``reveal`` (the weight the top 10 keep, once the reader guessed), ``identities`` (TV = τ and
the output error, both sides computed separately), ``curve`` (τ and the error for every k) and
``related`` (top-k among the other efficient-attention ideas).

Example:
    >>> import retrieval_attention as ra
    >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    >>> lesson = topk_lesson(store, TopKSettings("funny cat videos", k=5, temperature=0.05))
    >>> [s.key for s in lesson.sections]
    ['weights', 'identities', 'curve', 'related']
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from retrieval_attention.config import DEFAULT_TEMPERATURE
from retrieval_attention.core.topk import TopKCurve, TopKError, kept_weight, topk_attention_error, topk_order
from retrieval_attention.export.blocks import Controls, LessonChart, LessonSection, Metric, Metrics, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md

if TYPE_CHECKING:
    import pandas as pd

    from retrieval_attention.store import KeyValueStore, RetrievalResult

__all__ = [
    "ANSWER_EDGES",
    "QUESTION_K",
    "TopKSettings",
    "curve_frame",
    "curve_section",
    "identities_section",
    "kept_share",
    "related_section",
    "reveal_section",
    "searched",
    "topk_intro",
    "topk_lesson",
    "topk_question",
    "topk_title",
    "verdict",
    "weights_frame",
    "weights_section",
]

#: The question asks what the top QUESTION_K keep.
QUESTION_K = 10
#: The question's options' upper edges, from the least to the most weight kept: about 10 %, about half,
#: about 90 %, more than 99 % (the page's radio names them).
ANSWER_EDGES = (0.3, 0.7, 0.99)
#: The element heights of the page's two charts, in pixels (the saved file draws them as tall).
WEIGHTS_HEIGHT, CURVE_HEIGHT = 380, 420


@dataclass(frozen=True)
class TopKSettings:
    """The page's widget values."""

    query: str  # the query as typed
    k: int = 5  # keys kept, 1 <= k <= n
    temperature: float = DEFAULT_TEMPERATURE  # the softmax temperature T > 0 (the sidebar's)
    scale: str = "none"  # "none" (cosine) or "sqrt_d" (÷√d)
    own: float = DEFAULT_TEMPERATURE  # the encoder's own T, the one the question asks about
    guess: str | None = None  # the answer the reader picked (the page's option); None: not yet, no reveal
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _fmt(x: float, lang: str) -> str:
    """One format for every number that is compared on this page (τ with TV, the error with its identity)."""
    from retrieval_attention.i18n import fmt_significant

    return fmt_significant(x, lang, 4)  # significant digits, compared digit by digit


@functools.lru_cache(maxsize=64)
def searched(
    store: KeyValueStore, query: str, k: int, temperature: float, scale: str
) -> tuple[RetrievalResult, TopKError]:
    """The page's one retrieval (FAISS's top k, with every key's q·k) and the top-k error of its logits.

    Raises:
        ~retrieval_attention.errors.QueryError: a query the store cannot use.
        ~retrieval_attention.errors.InvalidParameterError: k, T or scale out of range.
    """
    faiss = store.topk_search(query, k, temperature, scale)
    logits = faiss.all_scores * faiss.scale  # (n,) q·k · scale, corpus order: what the softmax divides by T
    return faiss, topk_attention_error(logits, store.V, k, temperature=temperature)


#: τ and the error for every k, by (store, query, T, scale): k does not enter, so a k change reuses it.
_CURVES: OrderedDict[tuple[object, ...], tuple[KeyValueStore, TopKCurve]] = OrderedDict()
_CURVES_BOUND = 64
_CURVES_LOCK = threading.Lock()


def _curve(store: KeyValueStore, settings: TopKSettings) -> TopKCurve:
    """τ and the output error for every k, from the page's one search (:func:`searched`): once per query, T and scale."""
    from retrieval_attention.core.topk import topk_error_curve

    key = (id(store), settings.query, settings.temperature, settings.scale)
    with _CURVES_LOCK:
        if key in _CURVES and _CURVES[key][0] is store:
            _CURVES.move_to_end(key)
            return _CURVES[key][1]
    faiss, _err = searched(store, settings.query, settings.k, settings.temperature, settings.scale)
    curve = topk_error_curve(faiss.all_scores * faiss.scale, store.V, temperature=settings.temperature)
    with _CURVES_LOCK:
        _CURVES[key] = (store, curve)
        while len(_CURVES) > _CURVES_BOUND:
            _CURVES.popitem(last=False)
    return curve


def _chart_text(lang: str) -> dict[str, str]:
    from retrieval_attention.charts.topk import TOPK_TEXT
    from retrieval_attention.i18n import translated

    return translated(TOPK_TEXT, lang)


def _chart(chart, lang: str, key: str, height: int) -> LessonChart:
    from retrieval_attention.export.specs import inline_spec, signs

    return LessonChart(inline_spec(chart, **signs(lang), validate=False), key=key, height=height)


def topk_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Top-k retrieval as efficient attention")


def topk_intro(lang: str = "en") -> tuple[Text, ...]:
    """The page's question, in two sentences (the index it uses is said in the last section)."""
    _ = _gettext(lang)
    text = _(
        "Full attention reads **every** key. A search engine reads only the **k best** and takes the softmax over "
        "those. What does that throw away?"
    )
    return (Text(text, key="intro"),)


def topk_question(settings: TopKSettings) -> str:
    """The question asked before the reveal (our markdown; the query escaped)."""
    from retrieval_attention.i18n import fmt_setting

    _ = _gettext(settings.lang)
    question = _("At T = {t} (this encoder's own), top-{k} keeps how much of the full softmax weight for “{query}”?")
    return question.format(t=fmt_setting(settings.own, settings.lang), k=QUESTION_K, query=md(settings.query))


def verdict(kept: float) -> int:
    """The index of the answer option closest to a measured share of weight kept (0: about 10 %, 3: more than 99 %).

    Example:
        >>> verdict(0.995), verdict(0.5), verdict(0.1)
        (3, 1, 0)
    """
    return int(sum(kept > edge for edge in ANSWER_EDGES))


def weights_frame(store: KeyValueStore, settings: TopKSettings) -> pd.DataFrame:
    """The weights chart's data (and its CSV): the best keys' full and top-k weights.

    Shared by every call with the same inputs: read it, never change it.
    """
    return _weights_frame(store, settings.query, settings.k, settings.temperature, settings.scale, settings.lang)


@functools.lru_cache(maxsize=64)  # the chart and the CSV of every rerun read one frame
def _weights_frame(store: KeyValueStore, query: str, k: int, temperature: float, scale: str, lang: str) -> pd.DataFrame:
    from retrieval_attention.charts import topk as ck

    _faiss, err = searched(store, query, k, temperature, scale)
    return ck.topk_weights_frame(err, store.corpus.titles, text=_chart_text(lang))


def curve_frame(store: KeyValueStore, settings: TopKSettings) -> pd.DataFrame:
    """The curve chart's data (and its CSV): τ and the output error for every k.

    Shared by every call with the same inputs: read it, never change it.
    """
    return _curve_frame(store, settings)


@functools.lru_cache(maxsize=64)  # the CSV of every rerun reads one frame
def _curve_frame(store: KeyValueStore, settings: TopKSettings) -> pd.DataFrame:
    from retrieval_attention.charts import topk as ck

    return ck.topk_curve_frame(_curve(store, settings))


@functools.lru_cache(maxsize=64)  # a revisit costs nothing: the section is a pure function of its inputs
def weights_section(store: KeyValueStore, settings: TopKSettings) -> LessonSection:
    """The query and k (``Controls``), the corpus line, and the best keys' weights: full softmax vs top-k."""
    from retrieval_attention.charts import topk as ck
    from retrieval_attention.i18n import fmt_number, fmt_setting

    _, lang = _gettext(settings.lang), settings.lang
    line = _("{n} keys · encoder {model} · T = {t}").format(
        n=fmt_number(len(store), lang), model=md(store.encoder.name), t=fmt_setting(settings.temperature, lang)
    )
    chart = ck.topk_weights_chart(weights_frame(store, settings), text=_chart_text(lang))
    blocks = (
        Controls(key="topk_inputs"),
        Text(line, style="caption", key="topk_corpus"),
        _chart(chart, lang, "topk_weights", WEIGHTS_HEIGHT),
    )
    return LessonSection("", blocks=blocks, key="weights")


def kept_share(store: KeyValueStore, settings: TopKSettings) -> float:
    """The share of the full softmax weight the top :data:`QUESTION_K` keys keep (1 − τ at k = 10), at the current T."""
    _faiss, err = searched(store, settings.query, settings.k, settings.temperature, settings.scale)
    return kept_weight(err.weights, topk_order(err.weights)[:QUESTION_K])


@functools.lru_cache(maxsize=64)  # a revisit costs nothing: the section is a pure function of its inputs
def reveal_section(store: KeyValueStore, settings: TopKSettings) -> LessonSection:
    """The weight the top :data:`QUESTION_K` keep at the current T (the question's answer), and why."""
    from retrieval_attention.i18n import fmt_percent, fmt_setting

    _, lang = _gettext(settings.lang), settings.lang
    kept = kept_share(store, settings)
    label = _("weight kept by the top {k} at T = {t}").format(k=QUESTION_K, t=fmt_setting(settings.temperature, lang))
    blocks: list = [Metrics((Metric(label, fmt_percent(kept, lang, 2)),), key="reveal_metric")]
    if settings.temperature != settings.own:
        text = _("Computed at your current T = {t}; set T = {own} in the sidebar for the question.").format(
            t=fmt_setting(settings.temperature, lang), own=fmt_setting(settings.own, lang)
        )
        blocks.append(Text(text, style="caption", key="reveal_other_t"))
    why = _(
        "At T = {t} a cosine gap of {gap} is a factor e² ≈ 7.4 in weight, so the weight falls off fast down "
        "the ranking: a handful of keys hold almost everything. Raise T and the tail grows (try T = 1)."
    ).format(t=fmt_setting(settings.own, lang), gap=fmt_setting(2 * settings.own, lang))
    blocks.append(Text(why, key="reveal_why"))
    return LessonSection(_("Reveal: computed live"), blocks=tuple(blocks), key="reveal")


# not cached: it states a float32 difference that depends on the order BLAS sums in
def identities_section(store: KeyValueStore, settings: TopKSettings) -> LessonSection:
    """Both sides of TV = τ and of the output-error identity, computed separately, one identity per row."""
    _, lang = _gettext(settings.lang), settings.lang
    faiss, err = searched(store, settings.query, settings.k, settings.temperature, settings.scale)
    rhs = float(np.linalg.norm(err.identity_rhs))
    k = settings.k
    same = set(faiss.positions.tolist()) == set(err.kept.tolist())
    if same:
        note = _(
            "FAISS's top {k} are the {k} highest scores used above; its output differs from o_topk by {gap} "
            "(float32 vs float64)."
        )
    else:
        note = _(
            "FAISS's top {k} differ from the {k} highest scores used above (a tie at the k-th place); its output "
            "differs from o_topk by {gap} (float32 vs float64)."
        )
    gap = _fmt(float(np.max(np.abs(faiss.output - err.output_topk))), lang)
    blocks = (
        Metrics(
            (
                Metric(_("tail mass τ"), _fmt(err.tail_mass, lang), _("Σ of the full weights of the keys top-k drops")),
                Metric(
                    _("TV distance ½‖w − w′‖₁"), _fmt(err.tv_distance, lang), _("computed from the two weight vectors")
                ),
            ),
            key="identities_tv",
        ),
        Metrics(
            (
                Metric(
                    _("error ‖o_full − o_topk‖"),
                    _fmt(err.output_error, lang),
                    _("output error: Euclidean norm in value space"),
                ),
                Metric(
                    "τ · ‖m_drop − m_keep‖",
                    _fmt(rhs, lang),
                    _("the right-hand side of the identity, computed separately"),
                ),
            ),
            key="identities_error",
        ),
        Text(
            _(
                "Two exact identities, both sides computed separately above. **TV = τ**: renormalising moves exactly "
                "the dropped mass τ onto the kept keys. **o_full − o_topk = τ · (m_drop − m_keep)**, where m_keep and "
                "m_drop are the weight-averaged values of the kept and the dropped keys, because "
                "o_full = (1 − τ) m_keep + τ m_drop. It holds as vectors, so in any norm; here the Euclidean norm over "
                "the whole value vector (category one-hot, duration in minutes, log views, embedding), where the "
                "duration dominates."
            ),
            key="identities_text",
        ),
        Text(note.format(k=k, gap=gap), style="caption", key="identities_faiss"),
    )
    return LessonSection(_("Full softmax vs softmax over the top {k}").format(k=k), blocks=blocks, key="identities")


@functools.lru_cache(maxsize=64)  # a revisit costs nothing: the section is a pure function of its inputs
def curve_section(store: KeyValueStore, settings: TopKSettings) -> LessonSection:
    """τ and the output error for every k from 1 to n, and where the error went up."""
    from retrieval_attention.charts import topk as ck

    _, lang, k, n = _gettext(settings.lang), settings.lang, settings.k, len(store)
    frame = curve_frame(store, settings)
    chart = ck.topk_curve_chart(frame, k, text=_chart_text(lang))
    rose = frame.loc[frame["error_rose"], "k"].tolist()
    text = (
        _(
            "τ can only shrink as k grows: each extra key moves its weight from the dropped side to the kept side. "
            "**The output error need not shrink**: adding a key whose value lies on the far side from what is "
            "still dropped moves o_topk away from o_full."
        )
        + " "
        + (
            _("For this query it went **up** at {rose} of the {steps} steps (first at k = {first}).").format(
                rose=len(rose), steps=n - 1, first=rose[0]
            )
            if rose
            else _("For this query it happens not to go up anywhere.")
        )
        + " "
        + _(
            "What does hold is error = τ‖m_drop − m_keep‖ ≤ 2τ·max‖v‖, so it vanishes with τ, with bumps on the "
            "way. At k = n = {n} nothing is dropped: both are exactly 0 (the log scale leaves that point off)."
        ).format(n=n)
    )
    blocks = (_chart(chart, lang, "topk_curve", CURVE_HEIGHT), Text(text, key="curve_text"))
    return LessonSection(_("As k goes from 1 to n"), blocks=blocks, key="curve")


@functools.lru_cache(maxsize=8)  # a revisit costs nothing: the section is a pure function of its inputs
def related_section(lang: str = "en") -> LessonSection:
    """Top-k next to the other efficient-attention ideas the source names, and the index this page uses."""
    _ = _gettext(lang)
    text = _(
        "Full attention costs one score per (query, key) pair. Top-k attention spends that only on the keys a "
        "nearest-neighbour index returns; the price is the tail mass τ, small when the softmax is peaked (low T, "
        "a few clearly relevant keys) and large when it is flat. The question-and-answer this app starts from "
        "names two later ways to cut the cost. **Reformer** hashes queries and keys (locality-sensitive hashing) "
        "so that each query is scored only against the keys in its bucket: like top-k, it bets that the large "
        "scores come from nearby keys, found approximately. **Linformer** takes a different route: it projects the "
        "n keys and values down to a fixed number of rows (a low-rank approximation), so every key still "
        "contributes a little. **kNN attention over an external memory** (e.g. Memorizing Transformers) is this "
        "page's setting: retrieve the k nearest stored keys from an index and attend to those. How much each loses "
        "depends on the data and the model; this page measures only what top-k drops for one query over our small "
        "corpus."
    )
    index = _(
        "Here a flat FAISS index, which still scores every key; approximate indexes such as HNSW or IVF skip most "
        "keys on large corpora."
    )
    blocks = (Text(text, key="related_text"), Text(index, style="caption", key="related_index"))
    return LessonSection(_("Where this sits among efficient-attention ideas"), blocks=blocks, key="related")


def topk_lesson(store: KeyValueStore, settings: TopKSettings) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and its sections.

    Args:
        store: the key-value store (its encoder and corpus).
        settings: the page's widget values; with ``guess`` set the reveal is included, as on the page.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        ~retrieval_attention.errors.QueryError: a query the store cannot use.
        ~retrieval_attention.errors.InvalidParameterError: k, T or scale out of range.
    """
    from retrieval_attention.export.specs import corpus_label, made_with, signs
    from retrieval_attention.i18n import fmt_setting

    _, lang = _gettext(settings.lang), settings.lang
    sections = [weights_section(store, settings)]
    if settings.guess is not None:
        sections.append(reveal_section(store, settings))
    sections += [identities_section(store, settings), curve_section(store, settings), related_section(lang)]
    facts = (
        (_("Model"), store.encoder.name),
        (_("Corpus"), corpus_label(store.corpus, lang)),
        (_("Query"), settings.query),
        (_("k: keys kept"), str(settings.k)),
        ("T", fmt_setting(settings.temperature, lang)),
    )
    return Lesson(
        title=topk_title(lang),
        facts=facts,
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        intro=topk_intro(lang),
        **signs(lang),
    )
