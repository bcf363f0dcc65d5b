"""Riley in three parts (article 004, "Motivando la Autoatención"): the page's document.

The article builds self-attention in three tries on "El perro de Evan, Riley, es tan hiperactivo,
nunca deja de moverse", and here each try runs on the model's own vectors of the sentence (one head
of one layer, :func:`retrieval_attention.articles.riley_parts`): values only, a fixed mix (section
``part1``); keys only, k·k, symmetric, normalised by the row sum and then by a softmax, carried to the
end with the article's own update (section ``part2``); queries against keys, q·k, asymmetric, and the
new value of word a (section ``part3``). Section ``sentence`` holds the page's sentence widgets and
what the tokenizer split, or why the sentence cannot be used.

Example:
    >>> [s.key for s in riley_lesson(None, RileySettings(sentence="")).sections]
    ['sentence']
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from retrieval_attention.articles import ARTICLE_RATIO, RILEY_EN, RILEY_ES
from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.export.blocks import (
    Block,
    Controls,
    Formula,
    LessonSection,
    Text,
)
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views import riley_blocks as rb
from retrieval_attention.views.articles import fmt_small, follows, split_words

if TYPE_CHECKING:
    from retrieval_attention.articles import RileyParts
    from retrieval_attention.inspector import TransformerInspector

__all__ = [
    "RATIOS",
    "SUGGESTED",
    "RileySettings",
    "default_pair",
    "default_sentence",
    "examples",
    "part1_section",
    "part2_section",
    "part3_section",
    "part_headings",
    "parts",
    "riley_intro",
    "riley_lesson",
    "riley_title",
    "sentence_heading",
    "sentence_section",
]

#: r from 0 to 1 in steps of 0.05, the article's 0.75 among them.
RATIOS = tuple(round(0.05 * i, 2) for i in range(21))
#: A head where the article's pair makes its points, per sentence: (layer, head). Spanish: riley → perro
#: weighs 0.29 after the softmax, perro → riley 0.045; English: riley → dog 0.31, dog → riley 0.016, and
#: part 2's row-normalised weights differ too (0.009 and 0.34), though k·k is the same both ways.
SUGGESTED = {RILEY_ES: (2, 4), RILEY_EN: (4, 7)}


@dataclass(frozen=True)
class RileySettings:
    """The page's widget values."""

    sentence: str = RILEY_ES  # the sentence ("" for none)
    layer: int = 2  # 0-based
    head: int = 4  # 0-based
    words: bool = True  # one vector per word (the mean of its pieces'); False: per token
    a: int | None = None  # the word that attends; None: :func:`default_pair`
    b: int | None = None  # the word it attends to; None: :func:`default_pair`
    ratio: float = ARTICLE_RATIO  # part 1's r: how much of its own value a keeps
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _fmt(value: float, lang: str, decimals: int | None = None) -> str:
    from retrieval_attention.i18n import fmt_number

    return fmt_number(value, lang, decimals)


def default_sentence(lang: str = "en") -> str:
    """The article's sentence in Spanish for a Spanish reader, in its original English for the others."""
    return RILEY_ES if lang == "es" else RILEY_EN


def examples(lang: str = "en") -> dict[str, str]:
    """The article's sentence in Spanish and in its original English: pill label -> sentence."""
    _ = _gettext(lang)
    return {_("The article's sentence (Spanish)"): RILEY_ES, _("The original English"): RILEY_EN}


def default_pair(labels: Sequence[str]) -> tuple[int, int]:
    """The pair picked first: a = "riley", b = "perro" or "dog" (else the first words).

    Example:
        >>> default_pair(("evan", "'", "s", "dog", "riley")), default_pair(("a", "b"))
        ((4, 3), (0, 1))
    """
    labels = list(labels)
    a = labels.index("riley") if "riley" in labels else 0
    b = next((labels.index(w) for w in ("perro", "dog") if w in labels), 1 if a != 1 else 0)
    return a, min(b, len(labels) - 1)


@functools.lru_cache(maxsize=32)
def parts(ins: TransformerInspector, sentence: str, layer: int, head: int, words: bool) -> RileyParts:
    """:func:`~retrieval_attention.articles.riley_parts` once per input.

    Raises:
        ~retrieval_attention.errors.RetrievalAttentionError: a sentence, layer or head the model cannot use.
    """
    from retrieval_attention.articles import riley_parts

    return riley_parts(ins, sentence, layer, head, words=words)


def _pair(r: RileyParts, settings: RileySettings) -> tuple[int, int]:
    from retrieval_attention.core.validate import check_index

    a0, b0 = default_pair(r.labels)
    a = a0 if settings.a is None else check_index(settings.a, len(r.labels), "word")
    b = b0 if settings.b is None else check_index(settings.b, len(r.labels), "word")
    return a, b


def riley_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Riley in three parts")


def riley_intro(lang: str = "en") -> tuple[Text, ...]:
    """The article the page follows, and one line of plan."""
    _ = _gettext(lang)
    line, _notice = follows(("004",), "", lang, "riley")
    plan = _("Three tries at self-attention on one sentence about Evan's dog, Riley, with the real model's vectors.")
    return (line, Text(plan, key="intro"))


def part_headings(lang: str = "en") -> tuple[str, str, str]:
    """The three parts' headings (the page's tabs)."""
    _ = _gettext(lang)
    return _("Part 1 · values only"), _("Part 2 · keys only"), _("Part 3 · queries and keys")


def sentence_heading(lang: str = "en") -> str:
    """The heading of the sentence's section (the page's box of sentence widgets)."""
    _ = _gettext(lang)  # bound to _ so that the string is extracted for translation
    return _("Sentence, layer, head and words")


def sentence_section(
    lang: str = "en",
    tokens: Sequence[str] = (),
    words: bool = False,
    problem: str = "",
    empty: bool = False,
    few: bool = False,
) -> LessonSection:
    """Where the sentence widgets go, then the words the tokenizer split; or why there is nothing to show.

    Args:
        lang: the document's language.
        tokens: the sentence's tokens (for the line naming the split words).
        words: the page merges pieces into words (the line is shown only then).
        problem: the library's message for a sentence, layer or head it refused; "" for none.
        empty: no sentence was typed.
        few: the sentence has fewer than two words (or tokens).
    """
    _ = _gettext(lang)
    blocks: list[Block] = [Controls(key="sentence_controls")]
    if empty:
        blocks.append(Text(_("Type a sentence, or click the article's."), style="info", key="sentence_empty"))
    elif problem:
        reason = _("The library says: {reason}").format(reason=md(problem))
        blocks.append(Text(reason, style="warning", key="sentence_problem"))
    elif few:
        blocks.append(Text(_("This needs at least two words."), style="info", key="sentence_few"))
    elif words and tokens:
        blocks.append(split_words(tuple(tokens), lang, "sentence_words")[0])
    blocks.append(Controls(key="pair_controls"))
    return LessonSection(sentence_heading(lang), blocks=tuple(blocks), key="sentence")


# ---- the three parts ------------------------------------------------------------------------------


def part1_section(r: RileyParts, settings: RileySettings) -> LessonSection:
    """Part 1, values only: a fixed mix of two value vectors (the ``Controls`` mark the r slider)."""
    from retrieval_attention.i18n import fmt_percent

    _, lang = _gettext(settings.lang), settings.lang
    a, b = _pair(r, settings)
    ratio = float(settings.ratio)
    mixed = r.mix(a, b, ratio)
    other = next((i for i in range(len(r.labels)) if i not in (a, b)), b)
    notice = _("Notice: the mix is one fixed rule for every pair of words; nothing in it says which words matter.")
    rows = [
        (f"v · {r.labels[a]}", r.V[a]),
        (f"v · {r.labels[b]}", r.V[b]),
        (_("new v · {a}").format(a=r.labels[a]), mixed),
    ]
    title = _("Values of layer {layer}, head {head}: all {hd} numbers").format(
        layer=r.layer, head=r.head, hd=r.V.shape[1]
    )
    blocks = (
        Text(notice, style="info", icon=":material/visibility:", key="part1_notice"),
        rb.mix(rows, title, "ar_mix", lang),  # the picture first: on a projector's first screen
        Controls(key="part1_ratio"),
        Text(
            _(
                "The article starts with one vector per word, its value v, and updates “{a}” by mixing in a little "
                "of “{b}”: new v_a = r · v_a + (1 − r) · v_b, with r = 0.75."
            ).format(a=md(r.labels[a]), b=md(r.labels[b])),
            key="part1_text",
        ),
        Formula(r"v_a^{\mathrm{new}} = r\,v_a + (1-r)\,v_b", key="part1_formula"),
        Text(
            _(
                "What goes wrong? The rule never looks at the words: applied to the whole sentence, every word would "
                "take {share} of another one, “{other}” as much as “{a}”. We need to know how much two words relate."
            ).format(share=fmt_percent(1 - ratio, lang), other=md(r.labels[other]), a=md(r.labels[a])),
            key="part1_wrong",
        ),
    )
    return LessonSection(part_headings(lang)[0], blocks=blocks, key="part1")


def part2_section(r: RileyParts, settings: RileySettings) -> LessonSection:
    """Part 2, keys only: k·k relevance (symmetric), normalised by the row sum, then by softmax; the update."""
    _, lang = _gettext(settings.lang), settings.lang
    a, b = _pair(r, settings)
    p, n = r.pair(a, b), len(r.labels)
    notice = _(
        "Notice: k_a·k_b = k_b·k_a, so the relevance is symmetric. Dividing each row by its sum can give negative "
        "weights and divide by almost 0: that is why attention uses a softmax."
    )
    own = int(np.sum(np.argmax(r.kk, axis=1) == np.arange(n)))
    negative = int(np.sum(np.nan_to_num(r.kk_by_sum, nan=0.0) < 0))
    low, high = float(np.min(r.kk_row_sums)), float(np.max(r.kk_row_sums))
    cell = rb.two_cell(r)
    kk = rb.heatmap(
        r, r.kk, _("K·Kᵀ: keys only"),
        _("symmetric: asymmetry ‖A − Aᵀ‖/‖A‖ = {x}").format(x=_fmt(r.asymmetry_kk, lang, 2)),
        True, (a, b), "ar_kk", _("relevance"), lang,
    )  # fmt: skip
    by_sum = rb.heatmap(
        r, r.kk_by_sum, _("÷ row sum (the article's step)"),
        _("{neg} of {total} weights are negative; row sums {low} to {high}").format(
            neg=_fmt(negative, lang), total=_fmt(n * n, lang), low=_fmt(low, lang, 2), high=_fmt(high, lang, 2)
        ),
        True, (a, b), "ar_kk_sum", _("weight"), lang, cell,
    )  # fmt: skip
    soft = rb.heatmap(
        r, r.kk_softmax, _("softmax of each row"), _("every weight positive, every row sums to 1"),
        False, (a, b), "ar_kk_softmax", _("weight"), lang, cell,
    )  # fmt: skip
    blocks: list[Block] = [
        Text(notice, style="info", icon=":material/visibility:", key="part2_notice"),
        Text(
            _(
                "Each word also gets a key k; the relevance of two words is k_a · k_b (here divided by √{hd}, as the "
                "model does, and not made unit vectors: the model's keys are not)."
            ).format(hd=r.K.shape[1]),
            key="part2_text",
        ),
        rb.key_range(r, lang),
        Formula(r"\frac{k_a \cdot k_b}{\sqrt{d_k}} = \frac{k_b \cdot k_a}{\sqrt{d_k}}", key="part2_formula"),
        kk,
        Text(
            _("“{a}” → “{b}”: {ab}; “{b}” → “{a}”: {ba}. Exactly the same number.").format(
                a=md(p.labels[0]), b=md(p.labels[1]), ab=_fmt(p.kk, lang, 3), ba=_fmt(float(r.kk[b, a]), lang, 3)
            ),
            key="part2_same",
        ),
        Text(
            _(
                "For {own} of {n} words the largest relevance is with itself: a key is closest to itself "
                "(k_a·k_a = |k_a|²), so with keys only a word mostly attends to itself."
            ).format(own=_fmt(own, lang), n=_fmt(n, lang)),
            style="caption",
            key="part2_own",
        ),
        Text(_("Turning relevances into weights"), style="subheader", key="weights_heading"),
        Text(
            _(
                "The article divides each row by its sum so that it adds up to 1. With real keys a relevance can be "
                "negative and a row's sum can be close to 0 (the title below counts them for this head); a softmax "
                "makes every weight positive and never divides by 0."
            ),
            key="weights_text",
        ),
        rb.two(r, by_sum, soft, "part2_weights"),
    ]
    if np.isnan(r.kk_by_sum).any():
        blocks.append(
            Text(_("Grey rows: their sum is about 0, so they cannot be divided by it."), style="caption", key="grey")
        )
    blocks.append(
        Text(
            _(
                "Look at the outlined pair. Divided by the row sums, “{a}” → “{b}” is {sum_ab} but “{b}” → “{a}” is "
                "{sum_ba}; after the softmax {ab} and {ba}. Normalising rows already makes the weights asymmetric "
                "(each row has its own total), though the relevance is still symmetric: the article says so too. "
                "But words should be able to attend asymmetrically on purpose."
            ).format(
                a=md(p.labels[0]),
                b=md(p.labels[1]),
                sum_ab=fmt_small(float(r.kk_by_sum[a, b]), lang),
                sum_ba=fmt_small(float(r.kk_by_sum[b, a]), lang),
                ab=fmt_small(p.kk_weight_ab, lang),
                ba=fmt_small(p.kk_weight_ba, lang),
            ),
            key="weights_pair",
        )
    )
    u = r.update(a, b)
    blocks += rb.pair_update(r, u, lang) + rb.sentence_update(r, u, lang)
    return LessonSection(part_headings(lang)[1], blocks=tuple(blocks), key="part2")


def part3_section(r: RileyParts, settings: RileySettings) -> LessonSection:
    """Part 3, queries against keys: q·k relevance, asymmetric, both directions of the pair; the new value."""
    _, lang = _gettext(settings.lang), settings.lang
    a, b = _pair(r, settings)
    p = r.pair(a, b)
    notice = _(
        "Notice: q_a·k_b is not q_b·k_a: how much “{a}” looks for “{b}” differs from how much “{b}” looks for “{a}”."
    ).format(a=md(r.labels[a]), b=md(r.labels[b]))
    cell = rb.two_cell(r)
    qk = rb.heatmap(
        r, r.qk, _("Q·Kᵀ: queries against keys"),
        _("asymmetric: ‖A − Aᵀ‖/‖A‖ = {x} (K·Kᵀ: {y})").format(
            x=_fmt(r.asymmetry_qk, lang, 2), y=_fmt(r.asymmetry_kk, lang, 2)
        ),
        True, (a, b), "ar_qk", _("relevance"), lang, cell,
    )  # fmt: skip
    soft = rb.heatmap(
        r, r.qk_softmax, _("softmax of each row: the attention weights"), _("every row sums to 1"),
        False, (a, b), "ar_qk_softmax", _("weight"), lang, cell,
    )  # fmt: skip
    if settings.words:
        pieces = _(
            "The model computes this per token, with [CLS] and [SEP]. Here a word's q, k and v are the mean of "
            "its pieces', and [CLS] and [SEP] are left out, as in the article's sentence."
        )
    else:
        pieces = _("Per token, as the model computes it; [CLS] and [SEP] are left out, as in the article's sentence.")
    blocks = [
        Text(notice, style="info", icon=":material/visibility:", key="part3_notice"),
        Text(
            _(
                "A third vector per word, the query q, asks; the keys answer. The relevance of b for a is q_a · k_b, "
                "and in the other direction q_b · k_a: two different numbers."
            ),
            key="part3_text",
        ),
        Formula(r"\mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V", key="part3_formula"),
        rb.pair_metrics(p, lang),
        rb.two(r, qk, soft, "part3_matrices"),
        Text(pieces, style="caption", key="part3_pieces"),
        *rb.query_update(r, r.update(a, b), lang),
    ]
    return LessonSection(part_headings(lang)[2], blocks=tuple(blocks), key="part3")


def riley_lesson(
    ins: TransformerInspector | None, settings: RileySettings = RileySettings(), model: str = DEFAULT_MODEL
) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, the sentence and the three parts.

    A sentence, layer, head or word the model cannot use leaves the library's reason in the
    sentence's section, and no parts.

    Args:
        ins: the model's inspector (all-MiniLM-L6-v2 on the page); None only when the sentence is empty.
        settings: the page's widget values.
        model: the model's name, for the facts.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs
    from retrieval_attention.i18n import fmt_setting

    _, lang = _gettext(settings.lang), settings.lang
    sections: list[LessonSection] = []
    pair = ("", "")
    if not settings.sentence or ins is None:
        sections.append(sentence_section(lang, empty=True))
    else:
        try:
            r = parts(ins, settings.sentence, settings.layer, settings.head, settings.words)
            if len(r.labels) < 2:
                sections.append(sentence_section(lang, few=True))
            else:
                a, b = _pair(r, settings)
                pair = (r.labels[a], r.labels[b])
                sections += [
                    sentence_section(lang, tuple(ins.tokens(settings.sentence)), settings.words),
                    part1_section(r, settings),
                    part2_section(r, settings),
                    part3_section(r, settings),
                ]
        except RetrievalAttentionError as exc:
            sections = [sentence_section(lang, problem=str(exc))]
    facts = (
        (_("Model"), model),
        (_("Sentence"), settings.sentence),
        (_("Layer"), str(settings.layer)),
        (_("Head"), str(settings.head)),
        (_("Word a (it attends)"), pair[0]),
        (_("Word b (it is attended to)"), pair[1]),
        (_("r: how much of its own value a keeps"), fmt_setting(settings.ratio, lang)),
    )
    return Lesson(
        title=riley_title(lang),
        facts=facts,
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        intro=riley_intro(lang),
        **signs(lang),
    )
