"""Three retrievals (the main page): one query, hard lookup, top-k and soft attention side by side.

The page asks the store once per query (:func:`ask`: ``store.retrieve``) and everything here is
laid out from the three results that come back: the three columns (section ``retrievals``), the
temperature continuum (``continuum``), the softmax written out with the real numbers
(``arithmetic``) and the ÷√d comparison (``scaling``). The kept weight of top-k is
:func:`~retrieval_attention.core.topk.kept_weight` of the soft weights at the top-k positions.
The app draws this document, "Save this view" writes it, and ``retrieval-attention --html`` saves it.

Example:
    >>> import retrieval_attention as ra
    >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    >>> lesson = retrieval_document(store, RetrievalSettings("funny cat videos", k=3))
    >>> [s.key for s in lesson.sections]
    ['retrievals', 'continuum', 'arithmetic', 'scaling']
"""

from __future__ import annotations

import datetime
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from retrieval_attention.core.attention import softmax_breakdown, temperature_sweep
from retrieval_attention.core.topk import kept_weight
from retrieval_attention.export.blocks import (
    Block,
    Columns,
    Controls,
    Formula,
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
    from retrieval_attention.charts.spec import RenderCache
    from retrieval_attention.store import KeyValueStore, RetrievalResult

__all__ = [
    "RetrievalSettings",
    "arithmetic_section",
    "ask",
    "continuum_section",
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

#: The element heights of the page's charts, in pixels (the saved file draws them as tall).
WEIGHTS_HEIGHT, CONTINUUM_HEIGHT, SCALING_HEIGHT = 420, 440, 400
#: Keys whose softmax is written out step by step.
ARITHMETIC_KEYS = 4
#: The scale radio's codes (msgids, shown translated) by the library's scale.
SCALE_NAMES = {"none": N_("none: q·k (cosine)"), "sqrt_d": N_("÷√d, as transformers do")}
#: Bounds of :func:`chart_cache` (a weights chart is ~60 kB inline, a continuum chart ~40 kB).
CACHED_CHARTS, CACHED_BYTES = 256, 64 * 1024 * 1024


@dataclass(frozen=True)
class RetrievalSettings:
    """The page's widget values."""

    query: str = "funny cat videos"  # the query as typed (the library says what is wrong with an empty one)
    k: int = 5  # keys kept by top-k search, 1..n
    temperature: float | None = None  # T > 0 of top-k and soft attention; None: the encoder's own
    scale: str | float = "none"  # "none" (cosine), "sqrt_d" (÷√d) or a number multiplying q·k
    log_weights: bool = True  # the weights chart on a log axis (the long tail visible)
    lang: str = "en"  # the language of every text and number sign
    when: datetime.date | None = None  # the date the document names; None: today


Results = Mapping[str, "RetrievalResult"]


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def ask(store: KeyValueStore, settings: RetrievalSettings) -> Results:
    """The page's one question to the library: ``store.retrieve`` (the query embedded once, q·K once).

    Returns:
        ``{"hard", "topk", "soft"}`` -> :class:`~retrieval_attention.store.RetrievalResult`.

    Raises:
        QueryError: an empty or unusable query.
        InvalidParameterError: a bad k, temperature or scale.
    """
    return store.retrieve(settings.query, k=settings.k, temperature=settings.temperature, scale=settings.scale)


@functools.cache
def chart_cache() -> RenderCache:
    """This process's inline chart specifications of the page, by kind and a fingerprint of their data."""
    from retrieval_attention.charts.spec import RenderCache

    return RenderCache(max_entries=CACHED_CHARTS, max_bytes=CACHED_BYTES)


def _chart(kind: str, make: Any, *parts: Any) -> dict[str, Any]:
    """``make(*parts)``: an inline chart specification, built once per kind and distinct data (shared, read-only)."""
    from retrieval_attention.charts.spec import fingerprint

    return chart_cache().get((kind, fingerprint(parts)), lambda: make(*parts))


def _inline(chart: Any, lang: str) -> dict[str, Any]:
    from retrieval_attention.export.specs import inline_spec, signs

    return inline_spec(chart, **signs(lang), validate=False)


# -- title and introduction ------------------------------------------------------------------------------


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


def _unread(store: KeyValueStore, query: str, lang: str) -> tuple[Text, ...]:
    """A note when the encoder's tokenizer reads most of the query as [UNK] (measured, not guessed)."""
    from retrieval_attention.encoders.registry import UNREADABLE_SHARE, unknown_token_share
    from retrieval_attention.i18n import fmt_percent

    share = unknown_token_share(store.encoder, query) if isinstance(query, str) and query.strip() else None
    if share is None or share < UNREADABLE_SHARE:
        return ()
    _ = _gettext(lang)
    text = _(
        "{model} reads {share} of this query's tokens as [UNK] (not in its vocabulary), so its weights say "
        "little about the query: pick the multilingual encoder in the sidebar."
    ).format(model=md(store.encoder.name), share=fmt_percent(share, lang))
    return (Text(text, style="info", key="unread"),)


# -- the three columns -----------------------------------------------------------------------------------


def _payload(store: KeyValueStore, video: Any, lang: str) -> str:
    """A record's payload on one line: category · channel · minutes · views."""
    from retrieval_attention.i18n import category_name, fmt_number

    _ = _gettext(lang)
    parts = [md(category_name(video.category, lang)), md(video.channel)]
    if video.duration_s is not None:
        parts.append(_("{n} min").format(n=fmt_number(video.duration_s / 60, lang, 1)))
    if video.views is not None:
        parts.append(_("{n} views").format(n=fmt_number(video.views, lang)))
    return " · ".join(p for p in parts if p)


def _mix_chart(mix: tuple[tuple[str, float], ...], title: str, x_title: str, lang: str) -> dict[str, Any]:
    from retrieval_attention.charts.retrieval import category_mix_chart

    return _inline(category_mix_chart(dict(mix), title=title, x_title=x_title), lang)


def _output(store: KeyValueStore, res: RetrievalResult, key: str, lang: str) -> tuple[Block, ...]:
    """The blended value read at a glance: category mix bar, duration, views, the nearest videos."""
    from retrieval_attention.i18n import category_name, fmt_compact, fmt_number

    _ = _gettext(lang)
    s = store.describe_output(res.output)
    mix = tuple((category_name(c, lang), float(share)) for c, share in s.category_mix.items())
    title, x_title = _("Output: category mix"), _("share of the output")
    chart = _chart("mix", _mix_chart, mix, title, x_title, lang)
    blocks: list[Block] = [LessonChart(chart, title, key=f"mix_{key}")]
    minutes = _("{n} min")
    if s.duration_s is not None:
        exact = minutes.format(n=fmt_number(s.duration_s / 60, lang, 2))
        value = minutes.format(n=fmt_number(s.duration_s / 60, lang, 0))
        help_ = _("Σ wᵢ · durationᵢ = {value}").format(value=exact)
        blocks.append(Metrics((Metric(_("weighted duration"), value, help_),), key=f"{key}_duration"))
    if s.views is not None:
        help_ = _("10^(Σ wᵢ · log10(viewsᵢ + 1)) − 1: a geometric mean")
        blocks.append(Metrics((Metric(_("weighted views"), fmt_compact(s.views, lang), help_),), key=f"{key}_views"))
    if s.nearest:
        near = "  \n".join(f"{md(store.corpus.by_id(i).title)} ({fmt_number(c, lang, 2)})" for i, c in s.nearest)
        blocks.append(Text(_("**Nearest videos to the output:**") + "  \n" + near, key=f"{key}_nearest"))
    return tuple(blocks)


def _hard(store: KeyValueStore, res: RetrievalResult, lang: str) -> tuple[Block, ...]:
    """The dict: a hit shows its record, a miss the key it tried."""
    _ = _gettext(lang)
    head = (
        Text(_("1 · Hard lookup"), style="subheader", key="hard_heading"),
        Text(_("A Python dict: `corpus[key]`"), style="caption", key="hard_caption"),
    )
    if res.hit:
        v = store.corpus.by_id(res.ids[0])
        body: tuple[Block, ...] = (
            Text(_("Hit: the key exists, one weight is 1, all others 0."), style="success", key="hard_result"),
            Text(f"**{md(v.title)}**", key="hard_title"),
            Text(_payload(store, v, lang), key="hard_payload"),
            Text(md(v.description), key="hard_description"),
        )
    else:
        tried = _("The dict tried exactly this key (after NFKC, lower-casing and whitespace clean-up):")
        body = (
            Text(_("Miss: no key equals the query."), style="warning", key="hard_result"),
            Text(f"{tried} **{md(res.lookup_key)}**", key="hard_tried"),
            Text(_("A dict has **no notion of close**: every weight is 0 and the output is empty."), key="hard_close"),
        )
    used = Metrics((Metric(_("keys used"), "1" if res.hit else "0"),), key="hard_used")
    return (*head, *body, used)


def _topk(store: KeyValueStore, res: RetrievalResult, soft: RetrievalResult, lang: str) -> tuple[Block, ...]:
    """The k nearest keys, and how much of the full softmax weight they hold."""
    from retrieval_attention.i18n import fmt_number, fmt_percent

    _, k, c = _gettext(lang), len(res.ids), store.corpus
    rows = tuple(
        (r, fmt_number(s, lang, 3), fmt_percent(res.weights[p], lang, 1), c[p].title)
        for r, (s, p) in enumerate(zip(res.scores, res.positions), start=1)
    )
    kept = kept_weight(soft.weights, res.positions)  # Σ of the full softmax weights of the kept keys
    return (
        Text(_("2 · Top-{k} search").format(k=k), style="subheader", key="topk_heading"),
        LessonTable((_("rank"), "q·k", _("weight"), _("title")), rows, key="topk_table", static=True),
        Text(_("FAISS inner-product index: the k nearest keys"), style="caption", key="topk_caption"),
        Metrics(
            (
                Metric(
                    _("weight these {k} hold").format(k=k),
                    fmt_percent(kept, lang),
                    _("Their share of full (soft) attention's weight. The rest is the tail that top-k throws away."),
                ),
            ),
            key="topk_kept",
        ),
        Text(
            _("Top-{k} throws away the tail: {share} of the full softmax weight.").format(
                k=k, share=fmt_percent(1 - kept, lang, 1)
            ),
            style="caption",
            key="topk_tail",
        ),
        *_output(store, res, "topk", lang),
    )


def weights_columns(store: KeyValueStore, soft: RetrievalResult, lang: str = "en") -> dict[str, Any]:
    """Every key's rank, weight, q·k, title and (translated) category, best first: the weights chart's data."""
    from retrieval_attention.i18n import category_name

    c, order = store.corpus, soft.positions  # (n,) corpus positions, largest weight first
    cats = [c[p].category for p in order]
    shown = {cat: category_name(cat, lang) for cat in set(cats)}  # a few categories, translated once each
    return {
        "rank": np.arange(1, len(order) + 1),
        "weight": soft.weights[order],
        "score": soft.scores,
        "title": [c[p].title for p in order],
        "category": [shown[cat] for cat in cats],
    }


def weights_table(store: KeyValueStore, soft: RetrievalResult) -> dict[str, Any]:
    """Every key's id, title, category code, q·k and weight, best first: the page's weights CSV (English columns)."""
    c, order = store.corpus, soft.positions  # (n,) corpus positions, largest weight first
    return {
        "rank": np.arange(1, len(order) + 1),
        "id": [c[i].id for i in order],
        "title": [c[i].title for i in order],
        "category": [c[i].category for i in order],
        "score_q_dot_k": soft.all_scores[order],
        "weight": soft.weights[order],
    }


def _weights_spec(columns: dict[str, Any], k: int, log: bool, lang: str) -> dict[str, Any]:
    import pandas as pd

    from retrieval_attention.charts.retrieval import WEIGHTS_LABELS, weights_bar
    from retrieval_attention.i18n import translated

    _ = _gettext(lang)
    title = _("Weight of every key, sorted")
    chart = weights_bar(pd.DataFrame(columns), k, log=log, title=title, text=translated(WEIGHTS_LABELS, lang))
    return _inline(chart, lang)


def weights_chart(store: KeyValueStore, soft: RetrievalResult, k: int, log: bool, lang: str = "en") -> LessonChart:
    """Every key's weight, sorted, the top ``k`` coloured; on a log axis when ``log`` (the page's toggle)."""
    _ = _gettext(lang)
    spec = _chart("weights", _weights_spec, weights_columns(store, soft, lang), int(k), bool(log), lang)
    return LessonChart(spec, _("Weight of every key, sorted"), key="weights_bar", height=WEIGHTS_HEIGHT)


def _soft(store: KeyValueStore, res: RetrievalResult, settings: RetrievalSettings) -> tuple[Block, ...]:
    """Every key's weight, its spread (entropy, effective keys) and the blended output."""
    from retrieval_attention.i18n import fmt_number, fmt_percent

    lang = settings.lang
    _, c = _gettext(lang), store.corpus
    top = ", ".join(f"{md(c[p].title)} {fmt_percent(res.weights[p], lang)}" for p in res.positions[:3])
    return (
        Text(_("3 · Soft attention"), style="subheader", key="soft_heading"),
        Text(_("softmax over every key, output = Σ wᵢ vᵢ"), style="caption", key="soft_caption"),
        Metrics(
            (
                Metric(
                    _("entropy (nats)"),
                    fmt_number(res.entropy, lang, 2),
                    _("0 = one key; log n = {value} = uniform").format(value=fmt_number(math.log(len(store)), lang, 2)),
                ),
            ),
            key="soft_entropy",
        ),
        Metrics(
            (
                Metric(
                    _("effective keys"),
                    fmt_number(res.effective_num_keys, lang, 1),
                    _("1 / Σ w²: how many keys share the weight"),
                ),
            ),
            key="soft_effective",
        ),
        Controls(key="soft_controls"),
        weights_chart(store, res, settings.k, settings.log_weights, lang),
        Text(_("**Top weights:** {top}").format(top=top), key="soft_top"),
        *_output(store, res, "soft", lang),
    )


def retrievals_section(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> LessonSection:
    """The three columns: hard lookup, top-k search and soft attention for the same query and keys."""
    hard, topk, soft = results["hard"], results["topk"], results["soft"]
    columns = Columns(
        (_hard(store, hard, settings.lang), _topk(store, topk, soft, settings.lang), _soft(store, soft, settings)),
        border=True,
        key="columns",
    )
    return LessonSection("", blocks=(*_unread(store, settings.query, settings.lang), columns), key="retrievals")


# -- below the columns ------------------------------------------------------------------------------------


def _continuum_spec(scores: np.ndarray, labels: tuple[str, ...], current: float, lang: str) -> dict[str, Any]:
    from retrieval_attention.charts.retrieval import CONTINUUM_LABELS, CONTINUUM_TEMPERATURES, continuum_chart
    from retrieval_attention.i18n import translated

    W = temperature_sweep(scores, CONTINUUM_TEMPERATURES)  # (m, n), columns best first
    text = translated(CONTINUUM_LABELS, lang)
    return _inline(continuum_chart(CONTINUUM_TEMPERATURES, W, list(labels), current, text=text), lang)


def continuum_section(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> LessonSection:
    """The weights of every key as T sweeps from lookup to average, from the scores the soft result holds."""
    from retrieval_attention.i18n import fmt_percent, fmt_setting

    lang, soft, topk = settings.lang, results["soft"], results["topk"]
    _ = _gettext(lang)
    labels = tuple(store.corpus[p].title for p in soft.positions)
    logits = soft.scores * soft.scale  # best key first
    spec = _chart("continuum", _continuum_spec, logits, labels, float(soft.temperature), lang)
    kept = kept_weight(soft.weights, topk.positions)
    text = _(
        "At **T = {t}** the top-{k} keys hold **{kept}** of the weight; "
        "a top-{k} retrieval throws away the other **{tail}** (the tail). "
        "Turn T down and soft attention becomes the hard top-1; turn it up and every key gets 1/n."
    ).format(
        t=fmt_setting(soft.temperature, lang),
        k=len(topk.ids),
        kept=fmt_percent(kept, lang, 1),
        tail=fmt_percent(1 - kept, lang, 1),
    )
    chart = LessonChart(
        spec, _("The continuum: from dictionary lookup to average pooling"), key="continuum", height=CONTINUUM_HEIGHT
    )
    return LessonSection(
        _("The continuum: one knob from lookup to average"),
        blocks=(chart, Text(text, key="continuum_text")),
        key="continuum",
    )


def _tex(text: str) -> str:
    """A translated word for ``\\text{...}``: no backslash or brace of its own."""
    return text.replace("\\", "").replace("{", "").replace("}", "")


def arithmetic_section(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> LessonSection:
    """The softmax of the best keys step by step, and the output's duration as Σ wᵢ vᵢ."""
    from retrieval_attention.i18n import fmt_number, fmt_setting, fmt_significant, tex_number

    lang, soft = settings.lang, results["soft"]
    _ = _gettext(lang)

    def num(value: float, decimals: int) -> str:
        return tex_number(fmt_number(value, lang, decimals))

    show = min(ARITHMETIC_KEYS, len(store))
    steps = softmax_breakdown(soft.all_scores, soft.positions[:show], scale=soft.scale, temperature=soft.temperature)
    scale_tex = r"\frac{1}{\sqrt{%d}}" % store.dim if soft.scale != 1.0 else "1"
    formula = (
        r"w_i = \frac{\exp\!\big(q\cdot k_i \times %s \,/\, T\big)}{\sum_{j=1}^{%d} \exp\!\big(q\cdot k_j \times %s \,/\, T\big)}"
        r"\qquad o = \sum_i w_i\, v_i" % (scale_tex, len(store), scale_tex)
    )
    rows = " ".join(
        r"k_{%d} & %s & %s & %s & %s \\"
        % (
            j + 1,
            num(steps.scores[j], 4),
            num(steps.logits[j], 3),
            tex_number(fmt_significant(steps.shifted_exp[j], lang, 4)),
            num(steps.weights[j], 4),
        )
        for j in range(show)
    )
    table = (
        r"\begin{array}{c|c|c|c|c} \text{%s} & q\cdot k_i & z_i = q\cdot k_i \times %s / %s & e^{z_i - \max z} & w_i = e^{z_i - \max z} / %s \\ \hline "
        % (
            _tex(_("key")),
            scale_tex,
            tex_number(fmt_setting(soft.temperature, lang)),
            num(steps.denominator, 4),
        )
        + rows
        + r"\end{array}"
    )
    keys = "; ".join(f"k{j + 1} = {md(store.corpus[p].title)}" for j, p in enumerate(soft.positions[:show]))
    blocks: list[Block] = [
        Formula(formula, key="arithmetic_formula"),
        Formula(table, key="arithmetic_table"),
        Text(
            _("Keys: {keys}. The denominator sums e^(z − max z) over all {n} keys, not only these.").format(
                keys=keys, n=fmt_number(len(store), lang)
            ),
            style="caption",
            key="arithmetic_keys",
        ),
    ]
    if store.corpus.has_numeric("duration_s"):
        lay = store.layout
        durs = store.V[soft.positions[:show], lay.duration_index]
        terms = " + ".join(r"%s \times %s" % (num(w, 3), num(d, 1)) for w, d in zip(steps.weights, durs))
        total = float(soft.output[lay.duration_index])
        blocks.append(
            Formula(
                r"o_{\text{%s}} = %s + \dots = %s" % (_tex(_("duration (min)")), terms, num(total, 2)),
                key="arithmetic_duration",
            )
        )
    return LessonSection(_("The arithmetic, with the real numbers"), blocks=tuple(blocks), key="arithmetic")


def _scaling_spec(settings: tuple[tuple[str, np.ndarray], ...], lang: str) -> dict[str, Any]:
    import pandas as pd

    from retrieval_attention.charts.retrieval import SCALING_LABELS, scaling_chart
    from retrieval_attention.i18n import translated

    frame = pd.concat(  # each setting's sorted weights, floored at 1e-12 for the log axis
        [
            pd.DataFrame({"rank": np.arange(1, len(w) + 1), "weight": np.maximum(w, 1e-12), "setting": name})
            for name, w in settings
        ]
    )
    return _inline(scaling_chart(frame, text=translated(SCALING_LABELS, lang)), lang)


def scaling_section(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> LessonSection:
    """÷√d at T = 1 against cosine at the reader's T, both from the scores the soft result already holds."""
    from retrieval_attention.i18n import fmt_number, fmt_setting

    lang, soft = settings.lang, results["soft"]
    _ = _gettext(lang)
    t = soft.temperature if settings.temperature is None else float(settings.temperature)
    trans = store.soft_attention_from_scores(soft.query, soft.all_scores, 1.0, "sqrt_d")
    ours = store.soft_attention_from_scores(soft.query, soft.all_scores, t, "none")
    n = len(store)
    curves = (
        (_("÷√{d}, T = 1 (transformer default)").format(d=store.dim), trans.weights[trans.positions]),
        (_("cosine, T = {t}").format(t=fmt_setting(t, lang)), ours.weights[ours.positions]),
    )
    spec = _chart("scaling", _scaling_spec, curves, lang)
    of_n = _("{value} of {n}")
    own = store.default_temperature
    text = _(
        "Our keys and queries are **unit vectors**, so q·k lies in [−1, 1]. Divided by √{d} ≈ "
        "{root}, scores differ by at most ≈ {gap}, so every exp() is "
        "nearly the same number and the weights are almost uniform. Transformers divide by √d because their "
        "q and k are *not* unit vectors: with unit-variance components q·k grows like √d, and the division "
        "keeps the softmax from saturating. For cosine scores the knob that matters is the temperature: "
        "at this encoder's own T = {own}, a gap of {own_gap} in cosine is a factor e² ≈ 7.4 in weight."
    ).format(
        d=store.dim,
        root=fmt_number(math.sqrt(store.dim), lang, 1),
        gap=fmt_number(2 / math.sqrt(store.dim), lang, 2),
        own=fmt_setting(own, lang),
        own_gap=fmt_setting(2 * own, lang),
    )
    blocks = (
        LessonChart(spec, _("Same scores, two scalings"), key="scaling", height=SCALING_HEIGHT),
        Metrics(
            (
                Metric(
                    _("effective keys with ÷√d, T = 1"),
                    of_n.format(value=fmt_number(trans.effective_num_keys, lang, 0), n=fmt_number(n, lang)),
                ),
                Metric(
                    _("effective keys with T = {t}").format(t=fmt_setting(t, lang)),
                    of_n.format(value=fmt_number(ours.effective_num_keys, lang, 1), n=fmt_number(n, lang)),
                ),
            ),
            key="scaling_metrics",
        ),
        Text(text, key="scaling_text"),
    )
    return LessonSection(_("Why not ÷√d here? (what transformers do, on unit vectors)"), blocks=blocks, key="scaling")


# -- the whole page ---------------------------------------------------------------------------------------


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


def retrieval_document(
    store: KeyValueStore, settings: RetrievalSettings = RetrievalSettings(), results: Results | None = None
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
