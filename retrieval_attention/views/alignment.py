"""Bahdanau in Q/K/V terms, and 我爱吃苹果 aligned (articles 000 and 001): the page's document.

Article 000 asks where queries, keys and values are in Bahdanau's e_ij = a(s_{i−1}, h_j),
c_i = Σ_j α_ij h_j (section ``bahdanau``); article 001 aligns 我爱吃苹果 with "I love eating apples"
(section ``alignment``). The alignment is :func:`retrieval_attention.articles.align`: each word
embedded alone by multilingual-e5-small, compared by cosine, softmax at T = 0.05. Not a trained
translation model's attention, and the document says so. In Chinese the example comes first.

Example:
    >>> [s.key for s in alignment_lesson(AlignmentSettings(lang="zh")).sections]  # doctest: +SKIP
    ['alignment', 'bahdanau']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from retrieval_attention.articles import ALIGN_EN, ALIGN_ES, ALIGN_ZH, Alignment, align
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.export.blocks import Block, Controls, Formula, LessonSection, LessonTable, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart, follows

__all__ = [
    "AlignmentSettings",
    "aligned",
    "alignment_intro",
    "alignment_lesson",
    "alignment_section",
    "alignment_title",
    "bahdanau_section",
    "context_line",
    "examples",
    "section_head",
]

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class AlignmentSettings:
    """The page's widget values."""

    queries: str = ALIGN_EN  # the sentence being written: one row per word ("" for none)
    keys: str = ALIGN_ZH  # the sentence being read: one column per word, keys and values ("" for none)
    word: int = 0  # the query word whose context vector is written out, 0-based
    raw: bool = False  # also draw the raw cosines
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


@functools.lru_cache(maxsize=64)
def aligned(queries: str, keys: str) -> Alignment:
    """The alignment of one sentence pair, once per process (the encoder is loaded once per process).

    Raises:
        ~retrieval_attention.errors.RetrievalAttentionError: a pair the encoder cannot read.
    """
    return align(queries, keys)


def examples(lang: str = "en") -> dict[str, tuple[str, str]]:
    """Sentence pairs (queries, keys): the article's first."""
    _ = _gettext(lang)
    return {
        _("English → 中文 (article 001)"): (ALIGN_EN, ALIGN_ZH),
        _("English → 我爱吃苹果, one character per word"): (ALIGN_EN, "我爱吃苹果"),
        _("Spanish → 中文"): (ALIGN_ES, ALIGN_ZH),
        _("English → Spanish"): (ALIGN_EN, ALIGN_ES),
    }


def alignment_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Bahdanau, and 我爱吃苹果 aligned")


def alignment_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the page is about."""
    _ = _gettext(lang)
    text = _(
        "Articles 000 and 001 start from translation: each English word looks back at the Chinese words. "
        "Here that attention is written with queries, keys and values, and computed on real word vectors."
    )
    return (Text(text, key="intro"),)


def bahdanau_section(lang: str = "en") -> LessonSection:
    """Article 000's question answered in its own symbols: the formula, a table of roles, the cost."""
    _ = _gettext(lang)
    notice = _(
        "Notice: the query is the decoder's state s_{i−1}; the encoder's states h_j are the keys and, again, the values."
    )
    rows = (
        (_("query"), _("s_{i−1}: the decoder's state before it writes word i"), "q", _("word i of the first sentence")),
        (_("keys"), _("h_j: the encoder's state for source word j"), "k_j", _("word j of the second sentence")),
        (_("values"), _("h_j again"), "v_j", _("the same vectors h_j")),
        (_("score"), _("a(s, h): a small trained network"), "q·k_j", _("cosine(q, h_j) / T")),
    )
    columns = (_("role"), _("in Bahdanau's paper"), _("in Q/K/V terms"), _("on this page"))
    blocks = (
        *follows(("000",), notice, lang, "bahdanau"),
        LessonTable(columns, rows, key="bahdanau_roles", static=True),  # the picture first (issue 25)
        Formula(
            r"e_{ij} = a(s_{i-1}, h_j),\qquad \alpha_{ij} = \frac{\exp(e_{ij})}{\sum_k \exp(e_{ik})},"
            r"\qquad c_i = \sum_j \alpha_{ij}\, h_j",
            key="bahdanau_formula",
        ),
        Text(
            _(
                "Article 000's point about cost: the network a(s, h) runs once per pair, m · n times; projecting "
                "first, e_ij = f(s_i)·g(h_j), needs one matrix product."
            ),
            key="bahdanau_cost",
        ),
    )
    return LessonSection(_("Bahdanau's attention in Q/K/V terms"), blocks=blocks, key="bahdanau")


def _lead(lang: str) -> tuple[str, tuple[Block, ...]]:
    """The alignment section's heading and what comes before its widgets."""
    _ = _gettext(lang)
    notice = _(
        "Notice: each row is one word's weights over the other sentence's words, summing to 1; "
        "the largest usually sits on the word with the same meaning."
    )
    return _("我爱吃苹果 aligned with “I love eating apples”"), follows(("001",), notice, lang, "alignment")


def _what_it_is(lang: str) -> Text:
    _ = _gettext(lang)
    text = _(
        "These are a multilingual encoder's word vectors (multilingual-e5-small, each word embedded on its own) "
        "compared by cosine, not a trained translation model's attention."
    )
    return Text(text, style="warning", icon=":material/info:", key="alignment_what")


def section_head(lang: str = "en", problem: str = "") -> LessonSection:
    """The alignment section for a pair the library refused: its lead, what it is, and the library's reason."""
    heading, lead = _lead(lang)
    reason: tuple[Block, ...] = ()
    if problem:
        text = _gettext(lang)("The library says: {reason}").format(reason=md(problem))
        reason = (Text(text, style="warning", key="alignment_problem"),)
    return LessonSection(
        heading, blocks=(*lead, Controls(key="alignment_pair"), _what_it_is(lang), *reason), key="alignment"
    )


def context_line(al: Alignment, i: int, lang: str = "en") -> str:
    """c_i = Σ_j α_ij h_j written out with the numbers, as article 001 writes c_1 (our markdown).

    Example:
        >>> from types import SimpleNamespace
        >>> al = SimpleNamespace(query_words=("I",), context_terms=lambda i: ((0.75, "我"), (0.25, "爱")))
        >>> context_line(al, 0, "es")
        '**c₁** = 0,75 · h(我) + 0,25 · h(爱)  →  **I**'
    """
    from retrieval_attention.i18n import fmt_number

    n = str(i + 1).translate(SUBSCRIPTS)
    terms = " + ".join(f"{fmt_number(a, lang, 2)} · h({md(w)})" for a, w in al.context_terms(i))
    return f"**c{n}** = {terms}  →  **{md(al.query_words[i])}**"


@functools.lru_cache(maxsize=64)
def alignment_section(settings: AlignmentSettings) -> LessonSection:
    """The translation example: the alignment matrix with numbers, and one context vector written out.

    Raises:
        ~retrieval_attention.errors.RetrievalAttentionError: a pair the encoder cannot read.
        ~retrieval_attention.errors.InvalidParameterError: a query word that is not there.
    """
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.core.validate import check_whole
    from retrieval_attention.i18n import fmt_number

    _, lang = _gettext(settings.lang), settings.lang
    heading, lead = _lead(lang)
    top = (*lead, Controls(key="alignment_pair"))
    if not settings.queries or not settings.keys:
        empty = Text(_("Type a sentence in both boxes."), style="info", key="alignment_empty")
        return LessonSection(heading, blocks=(*top, empty), key="alignment")
    al = aligned(settings.queries, settings.keys)
    n, m = len(al.query_words), len(al.key_words)
    i = check_whole(settings.word, "word", 0, n - 1)
    best = [(q, al.best(q)) for q in range(n)]
    cell = ca.row_height(max(n, m), most=64, least=20, total=520)
    heat = ca.matrix_heatmap(
        al.weights, al.query_words, al.key_words, title=_("Alignment weights α_ij"),
        subtitle=_("rows sum to 1; the largest weight of each row is outlined"),
        row_title=_("query word i"), col_title=_("key word j"), value_title="α", cell=cell, highlight=best,
    )  # fmt: skip
    low, high = float(al.scores.min()), float(al.scores.max())
    blocks: list[Block] = [
        *lead,
        article_chart(heat, lang, "al_heatmap"),  # the picture first (issue 25): the pair's widgets under it
        _what_it_is(lang),
        Text(
            _(
                "The cosines only range from {low} to {high}, so they are divided by T = {T} before the softmax; "
                "with T = 1 every row would be almost uniform."
            ).format(
                low=fmt_number(low, lang, 2), high=fmt_number(high, lang, 2), T=fmt_number(al.temperature, lang, 2)
            ),
            style="caption",
            key="alignment_cosines",
        ),
        Controls(key="alignment_pair"),
        Text(_("One context vector, written out"), style="subheader", key="alignment_context_heading"),
        Controls(key="alignment_word"),
        Text(context_line(al, i, lang), key="alignment_context"),
        Text(
            _(
                "Each h(·) is that word's vector of {d} numbers; c is their weighted sum, also {d} numbers, "
                "what the decoder reads before it writes the word."
            ).format(d=al.keys.shape[1]),
            style="caption",
            key="alignment_vectors",
        ),
        Text(
            _("Best match of each word: {pairs}.").format(
                pairs=", ".join(f"{md(al.query_words[q])} → {md(al.key_words[j])}" for q, j in best)
            ),
            key="alignment_best",
        ),
        Text(
            _(
                "Not every pair finds its translation: these vectors were trained to match whole texts, not to "
                "align single words (for example, Spanish “manzanas” weighs 吃 a little above 苹果)."
            ),
            style="caption",
            key="alignment_misses",
        ),
        Controls(key="alignment_raw_toggle"),
    ]
    if settings.raw:
        raw = ca.matrix_heatmap(
            al.scores, al.query_words, al.key_words, title=_("cosine(q_i, h_j), before ÷ T and the softmax"),
            row_title=_("query word i"), col_title=_("key word j"), value_title=_("cosine"), cell=cell,
        )  # fmt: skip
        blocks.append(article_chart(raw, lang, "al_raw_heatmap"))
    return LessonSection(heading, blocks=tuple(blocks), key="alignment")


def alignment_lesson(settings: AlignmentSettings = AlignmentSettings()) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and both sections.

    In Chinese the alignment comes first (the Chinese article's own example), as on the page. A pair
    the library refuses leaves the library's reason in the alignment section.

    Args:
        settings: the page's widget values.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    try:
        example = alignment_section(settings)
    except RetrievalAttentionError as exc:
        example = section_head(lang, str(exc))
    sections = (example, bahdanau_section(lang)) if lang == "zh" else (bahdanau_section(lang), example)
    facts = (
        (_("Queries: the sentence being written (one row per word)"), settings.queries),
        (_("Keys and values: the sentence being read (one column per word)"), settings.keys),
        (_("Model"), "multilingual-e5-small"),
    )
    return Lesson(
        title=alignment_title(lang),
        facts=facts,
        sections=sections,
        lang=lang,
        footer=made_with(lang),
        intro=alignment_intro(lang),
        **signs(lang),
    )
