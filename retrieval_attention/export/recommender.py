"""The recommender page's lesson from the library's own results: target attention over one watch history.

:func:`recommender_lesson` runs :func:`~retrieval_attention.recommender.target_attention` for one
target (and, to compare, a second one) over the same history, and lays out every factor of every
weight as a table, the weights as the page's bar chart and what the target reads in the history.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from retrieval_attention.export.blocks import LessonChart, LessonSection, LessonTable
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.lessons import SCORE_DECIMALS, WEIGHT_DECIMALS, output_mix
from retrieval_attention.export.specs import corpus_label, inline_spec, lesson_date, made_with, signs
from retrieval_attention.recommender import TargetAttention, target_attention

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore

__all__ = ["recommender_lesson"]


def _chart(
    store: KeyValueStore,
    tas: dict[str, TargetAttention],
    normalize: bool,
    half_life: float | None,
    lang: str,
) -> dict[str, Any]:
    from retrieval_attention.charts import recommender as rc
    from retrieval_attention.i18n import category_name, load_translations, translated

    _ = load_translations(lang).gettext
    cats = [category_name(store.corpus.by_id(h).category, lang) for h in next(iter(tas.values())).history_ids]
    frames = [rc.history_weights_frame(ta, cats, slot) for slot, ta in tas.items()]
    text = translated(rc.REC_TEXT, lang)
    recency = half_life is not None
    width = (285 if recency else 360) if len(tas) > 1 else (560 if recency else 680)
    chart = rc.history_weights_chart(
        frames,
        list(dict.fromkeys(cats)),
        domain=rc.weight_domain(frames, normalize),
        recency=recency,
        normalize=normalize,
        panel_width=width,
        half_life=half_life,
        text=text,
    )
    return inline_spec(chart, **signs(lang))


def _target_section(store: KeyValueStore, slot: str, ta: TargetAttention, lang: str) -> LessonSection:
    from retrieval_attention.i18n import category_name, fmt_number, load_translations

    _ = load_translations(lang).gettext
    c = store.corpus
    rows = tuple(
        (
            pos,
            title + (" " + _("(the target itself: masked)") if masked else ""),
            category_name(c.by_id(vid).category, lang),
            float(score),
            float(rel),
            float(decay),
            float(w),
        )
        for pos, (vid, title, score, rel, decay, w, masked) in enumerate(
            zip(ta.history_ids, ta.history_titles, ta.scores, ta.relevance, ta.decay, ta.weights, ta.masked),
            start=1,
        )
    )
    columns = (
        "#",
        _("watched (key)"),
        _("category"),
        _("q·k (cosine)"),
        _("relevance (before recency)"),
        _("recency factor"),
        _("weight"),
    )
    decimals = (0, 0, 0, SCORE_DECIMALS, WEIGHT_DECIMALS, SCORE_DECIMALS, WEIGHT_DECIMALS)
    mix, nearest = output_mix(store, ta.output, lang)
    top = ta.top(1)
    paragraphs = [
        _(
            "The target is the query q; the watched videos are the keys and values. Score of the target: "
            "interest · q = {score}. Entropy {h} nats, about {eff} videos effectively read."
        ).format(
            score=fmt_number(ta.score, lang, SCORE_DECIMALS),
            h=fmt_number(ta.entropy, lang, 2),
            eff=fmt_number(ta.effective_num_keys, lang, 1),
        ),
    ]
    if top and top[0][2] > 0:
        paragraphs.append(_("It reads most: {title}.").format(title=top[0][1]))
    paragraphs.append(
        _("What it reads in the history: {mix}; nearest video: {nearest}.").format(mix=mix, nearest=nearest)
    )
    heading = _("Target {slot}: {title}").format(slot=slot, title=ta.target_title)
    table = LessonTable(columns, rows, _("Every factor of every weight, oldest first"), decimals)
    return LessonSection(heading, tuple(paragraphs), (table,))


def recommender_lesson(
    store: KeyValueStore,
    history_ids: Sequence[str],
    target_id: str,
    *,
    compare_to: str | None = None,
    temperature: float | None = None,
    normalize: bool = True,
    half_life: float | None = None,
    history_name: str = "",
    lang: str = "en",
    when: datetime.date | datetime.datetime | None = None,
) -> Lesson:
    """Target attention over one watch history as a lesson: the weights' factors as tables, the bars as a chart.

    Args:
        store: the key-value store (model and corpus).
        history_ids: watched video ids, oldest first.
        target_id: the candidate video, the query (target A).
        compare_to: a second target (B) over the same history, drawn side by side; None for one.
        temperature: T > 0 of the softmax over the history; None: the encoder's own for target attention.
        normalize: softmax weights (True) or DIN's raw q·k weights (False).
        half_life: recency half-life in videos; None switches recency off.
        history_name: whose history it is (a persona's name), shown in the facts; "" to leave it out.
        lang: ``"en"``, ``"zh"`` or ``"es"``.
        when: the date the lesson names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson`.

    Raises:
        RecommenderError: an empty history, an unknown history or target id.
        InvalidParameterError: a bad temperature or half_life.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> lesson = recommender_lesson(store, ["v270", "v010", "v028"], "v252")
        >>> lesson.sections[0].tables[0].rows[0][1]
        'Funny Cats Compilation 2024'
    """
    from retrieval_attention.i18n import fmt_number, fmt_setting, load_translations

    targets = {"A": target_id} if compare_to is None else {"A": target_id, "B": compare_to}
    tas = {
        slot: target_attention(
            store, history_ids, tid, temperature=temperature, normalize=normalize, half_life=half_life
        )
        for slot, tid in targets.items()
    }
    _ = load_translations(lang).gettext
    sections = [_target_section(store, slot, ta, lang) for slot, ta in tas.items()]
    title = _("Same history, different targets, different weights") if len(tas) > 1 else _("Target attention")
    sections.append(
        LessonSection(
            _("The weights over the history"),
            (
                _(
                    "Each bar is one watched video's weight for the target; the colour is its category. "
                    "The same history gives each target different weights: attention depends on the query."
                ),
            ),
            charts=(LessonChart(_chart(store, tas, normalize, half_life, lang), title),),
        )
    )
    facts = [
        (_("Model"), store.encoder.name),
        (_("Corpus"), corpus_label(store.corpus, lang)),
        (_("Date"), lesson_date(when).isoformat()),
    ]
    if history_name:
        facts.append((_("History"), history_name))
    facts.append((_("Videos watched"), fmt_number(len(tas["A"].history_ids), lang)))
    facts += [(_("Target {slot}").format(slot=slot), ta.target_title) for slot, ta in tas.items()]
    facts += [
        (_("Temperature T"), fmt_setting(tas["A"].temperature, lang) if normalize else "—"),
        (_("Weights"), _("softmax") if normalize else _("raw q·k (DIN)")),
        (_("Recency half-life"), _("off") if half_life is None else fmt_number(half_life, lang)),
    ]
    return Lesson(
        title=_("Target attention: {target}").format(target=tas["A"].target_title),
        facts=tuple(facts),
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        **signs(lang),
    )
