"""The main page's lesson from the library's own results: one query, three retrievals, the continuum.

:func:`retrieval_lesson` asks the store once (``store.retrieve``) and lays out what comes back as a
:class:`~retrieval_attention.export.document.Lesson`: the facts (model, corpus, date, query, k, T),
hard lookup, top-k and soft attention as tables with their numbers, every key's weight and the
temperature continuum as charts, and what each retrieval returns. Every string a person reads goes
through the package's gettext catalogue in ``lang``. The recommender's lesson is in
:mod:`~retrieval_attention.export.recommender`; the model page's is :func:`retrieval_attention.views.model.model_lesson`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.export.blocks import LessonChart, LessonSection, LessonTable
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.specs import corpus_label, inline_spec, lesson_date, made_with, signs

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore, RetrievalResult

__all__ = ["output_mix", "retrieval_lesson"]

#: Decimals of the tables: q·k (cosine) and the weights.
SCORE_DECIMALS, WEIGHT_DECIMALS = 3, 4


def output_mix(store: KeyValueStore, output: NDArray[np.floating], lang: str = "en") -> tuple[str, str]:
    """An output Σ wᵢ vᵢ read back: its category mix (top three) and the video nearest to it.

    Args:
        store: the store whose values were blended.
        output: (dv,) the blend, e.g. ``RetrievalResult.output``.
        lang: the language of the category names and percentages.

    Returns:
        ``(mix, nearest title)``; ``("—", "—")`` for an output of zeros (a miss: no weight anywhere).
    """
    from retrieval_attention.i18n import category_name, fmt_list, fmt_percent

    if not np.any(output):
        return "—", "—"
    s = store.describe_output(output)
    parts = [
        f"{category_name(c, lang)} {fmt_percent(x, lang)}" for c, x in list(s.category_mix.items())[:3] if x >= 0.005
    ]
    nearest = store.corpus.by_id(s.nearest[0][0]).title if s.nearest else "—"
    return fmt_list(parts, lang), nearest


def _rows(store: KeyValueStore, res: RetrievalResult, m: int, lang: str) -> tuple[tuple[object, ...], ...]:
    """(rank, title, category, q·k, weight) of the first ``m`` keys of ``res``."""
    from retrieval_attention.i18n import category_name

    c = store.corpus
    return tuple(
        (r, c.by_id(vid).title, category_name(c.by_id(vid).category, lang), score, weight)
        for r, (vid, score, weight) in enumerate(res.top(m), start=1)
    )


def _weights_chart(store: KeyValueStore, soft: RetrievalResult, k: int, lang: str) -> dict[str, Any]:
    import pandas as pd

    from retrieval_attention.charts.retrieval import WEIGHTS_LABELS, weights_bar
    from retrieval_attention.i18n import category_name, load_translations, translated

    _ = load_translations(lang).gettext
    order = soft.positions  # (n,) corpus positions, largest weight first
    c = store.corpus
    frame = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "weight": soft.weights[order],
            "title": [c[i].title for i in order],
            "category": [category_name(c[i].category, lang) for i in order],
            "score": soft.scores,
        }
    )
    text = translated(WEIGHTS_LABELS, lang)
    chart = weights_bar(frame, k, log=True, title=_("Weight of every key, sorted"), text=text)
    return inline_spec(chart.properties(height=360), **signs(lang))


def _continuum_chart(store: KeyValueStore, soft: RetrievalResult, lang: str) -> dict[str, Any]:
    from retrieval_attention.charts.retrieval import CONTINUUM_LABELS, CONTINUUM_TEMPERATURES, continuum_chart
    from retrieval_attention.core.attention import temperature_sweep
    from retrieval_attention.i18n import translated

    W = temperature_sweep(soft.scores * soft.scale, CONTINUUM_TEMPERATURES)  # (m, n), columns best first
    labels = [store.corpus[p].title for p in soft.positions]
    text = translated(CONTINUUM_LABELS, lang)
    chart = continuum_chart(CONTINUUM_TEMPERATURES, W, labels, soft.temperature, text=text)
    return inline_spec(chart, **signs(lang))


def retrieval_lesson(
    store: KeyValueStore,
    query: str,
    *,
    k: int = 5,
    temperature: float | None = None,
    scale: str | float = "none",
    top: int = 10,
    lang: str = "en",
    when: datetime.date | datetime.datetime | None = None,
) -> Lesson:
    """One query's three retrievals as a lesson: the numbers in tables, the weights and the continuum as charts.

    Args:
        store: the key-value store (model and corpus).
        query: the query text.
        k: keys kept by top-k search.
        temperature: the softmax temperature T > 0 of top-k and soft attention; None: the encoder's own.
        scale: ``"none"``, ``"sqrt_d"`` or a number multiplying q·k before dividing by T.
        top: rows of the soft-attention table (the chart shows every key).
        lang: ``"en"``, ``"zh"`` or ``"es"``: every text, category name and number sign.
        when: the date the lesson names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson`; write it with
        :func:`~retrieval_attention.export.files.save_html`.

    Raises:
        QueryError: an empty or unusable query.
        InvalidParameterError: a bad k, temperature, scale or top.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> lesson = retrieval_lesson(store, "funny cat videos", k=3)
        >>> [s.heading for s in lesson.sections][:3]
        ['Hard lookup (a dict)', 'Top-3 search (FAISS, cosine)', 'Soft attention (T = 0.05)']
    """
    from retrieval_attention.core.topk import kept_weight
    from retrieval_attention.core.validate import check_whole
    from retrieval_attention.i18n import category_name, fmt_number, fmt_percent, fmt_setting, load_translations

    check_whole(top, "top", 1)
    results = store.retrieve(query, k=k, temperature=temperature, scale=scale)
    hard, topk, soft = results["hard"], results["topk"], results["soft"]
    _ = load_translations(lang).gettext
    n = len(store)
    kept = kept_weight(soft.weights, topk.positions)  # the soft weight of the keys top-k keeps
    columns = (_("rank"), _("title"), _("category"), "q·k", _("weight"))
    decimals = (0, 0, 0, SCORE_DECIMALS, WEIGHT_DECIMALS)

    if hard.hit:
        v = store.corpus.by_id(hard.ids[0])
        hard_text = (_("Hit: a key equals the query exactly, so its weight is 1 and every other key's is 0."),)
        hard_rows = ((1, v.title, category_name(v.category, lang), 1.0, 1.0),)
    else:
        hard_text = (
            _("Miss: no key equals {key}. A dict has no notion of 'close': every weight is 0.").format(
                key=repr(hard.lookup_key)
            ),
        )
        hard_rows = ()
    sections = [
        LessonSection(
            _("Hard lookup (a dict)"),
            hard_text,
            (LessonTable(columns, hard_rows, _("The key found, if any"), decimals),) if hard_rows else (),
        ),
        LessonSection(
            _("Top-{k} search (FAISS, cosine)").format(k=len(topk.ids)),
            (
                _(
                    "The {k} keys nearest the query, their weights a softmax over those {k} only. "
                    "Soft attention gives these keys {kept} of its weight: top-{k} drops the other {tail}."
                ).format(k=len(topk.ids), kept=fmt_percent(kept, lang, 1), tail=fmt_percent(1 - kept, lang, 1)),
            ),
            (LessonTable(columns, _rows(store, topk, len(topk.ids), lang), _("Top-k keys, best first"), decimals),),
        ),
        LessonSection(
            _("Soft attention (T = {t})").format(t=fmt_setting(soft.temperature, lang)),
            (
                _(
                    "Every one of the {n} keys gets a weight softmax(q·k · scale / T); the weights sum to 1. "
                    "Entropy {h} nats, about {eff} keys effectively read."
                ).format(
                    n=fmt_number(n, lang),
                    h=fmt_number(soft.entropy, lang, 2),
                    eff=fmt_number(soft.effective_num_keys, lang, 1),
                ),
            ),
            (
                LessonTable(
                    columns,
                    _rows(store, soft, min(top, n), lang),
                    _("The {m} largest weights of {n}").format(m=min(top, n), n=fmt_number(n, lang)),
                    decimals,
                ),
            ),
            (LessonChart(_weights_chart(store, soft, len(topk.ids), lang), _("Weight of every key, sorted")),),
        ),
        LessonSection(
            _("The continuum: one knob from lookup to average"),
            (
                _(
                    "Turn T down and soft attention becomes the hard top-1; turn it up and every key gets 1/n. "
                    "The dotted line is the temperature of this lesson."
                ),
            ),
            charts=(
                LessonChart(
                    _continuum_chart(store, soft, lang), _("The continuum: from dictionary lookup to average pooling")
                ),
            ),
        ),
        _outputs_section(store, results, lang),
    ]
    return Lesson(
        title=_("Attention is soft retrieval: {query}").format(query=query),
        facts=_facts(store, query, k, soft, lang, when),
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        **signs(lang),
    )


def _outputs_section(store: KeyValueStore, results: Mapping[str, RetrievalResult], lang: str) -> LessonSection:
    from retrieval_attention.i18n import load_translations

    _ = load_translations(lang).gettext
    names = {"hard": _("hard lookup"), "topk": _("top-k"), "soft": _("soft attention")}
    rows = tuple((names[mode], *output_mix(store, res.output, lang)) for mode, res in results.items())
    table = LessonTable((_("retrieval"), _("output: category mix"), _("video nearest the output")), rows)
    return LessonSection(
        _("What each retrieval returns"),
        (_("The output is the weighted sum of the values, Σ wᵢ vᵢ, read back as categories and the nearest video."),),
        (table,),
    )


def _facts(
    store: KeyValueStore,
    query: str,
    k: int,
    soft: RetrievalResult,
    lang: str,
    when: datetime.date | datetime.datetime | None,
) -> tuple[tuple[str, str], ...]:
    from retrieval_attention.i18n import fmt_number, fmt_setting, load_translations

    _ = load_translations(lang).gettext
    return (
        (_("Model"), store.encoder.name),
        (_("Corpus"), corpus_label(store.corpus, lang)),
        (_("Keys"), fmt_number(len(store), lang)),
        (_("Date"), lesson_date(when).isoformat()),
        (_("Query"), query),
        ("k", str(k)),
        (_("Temperature T"), fmt_setting(soft.temperature, lang)),
        (_("Scale of q·k"), fmt_number(soft.scale, lang, 4) if soft.scale != 1.0 else "1"),
    )
