"""我爱吃苹果, translated and aligned (article 001) by a trained decoder: the page's document.

Gemma 3 270M translates a Chinese or Spanish sentence into English
(:meth:`~retrieval_attention.decoder.Decoder.translate`), and one of its heads, measured for the
job (:data:`~retrieval_attention.decoder.ALIGNMENT_HEAD`), gives the alignment a_ij: the weights
of the step that writes English token i over the source tokens j, renormalised to sum to 1.
Section ``alignment``: the translation, the heatmap with its numbers, the raw share of the head's
weight that lands on the source, and c_i = Σ_j a_ij h_j written out. Section ``what``: what this
is and is not, said plainly (a decoder-only model: its "cross-attention" is causal
self-attention from the output back to the prompt).

Example (not run here: loads a model)::

    >>> from retrieval_attention.decoder import load_decoder                          # doctest: +SKIP
    >>> lesson = translation_lesson(load_decoder("gemma3"), TranslationSettings())  # doctest: +SKIP
    >>> [s.key for s in lesson.sections]                                              # doctest: +SKIP
    ['alignment', 'what']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from retrieval_attention.decoder import Translation
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.export.blocks import Block, Controls, LessonSection, LessonTable, Metric, Metrics, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md

__all__ = [
    "SOURCES",
    "TranslationSettings",
    "default_source",
    "examples",
    "translated",
    "translation_intro",
    "translation_lesson",
    "translation_title",
    "what_section",
    "alignment_section",
    "word",
]

#: The languages a sentence may be in (the library's few-shot prompts), with their names as written in them.
SOURCES = {"zh": "中文", "es": "Español"}

SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class TranslationSettings:
    """The page's widget values."""

    sentence: str = "我爱吃苹果"  # one line of Chinese or Spanish (the student's text, shown as text)
    source: str = "zh"  # its language: "zh" or "es"
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def default_source(lang: str) -> str:
    """The sentence language a page opens with: Spanish in Spanish, else article 001's Chinese."""
    return "es" if lang == "es" else "zh"


def examples(source: str) -> tuple[str, ...]:
    """Sentences to start from in ``source`` (the first is the default); those the head was checked on."""
    return {
        "zh": ("我爱吃苹果", "我喜欢看书", "狗吃肉"),
        "es": ("Me encanta comer manzanas.", "El perro come carne.", "Me gusta leer libros."),
    }[source]


def word(token: str) -> str:
    """A token as a student reads it: SentencePiece's ▁ (a space before it) dropped, a lone space as ␣.

    Example:
        >>> [word(t) for t in ("▁I", "苹果", "▁", ".")]
        ['I', '苹果', '␣', '.']
    """
    return token.replace("▁", " ").strip() or "␣"


@functools.lru_cache(maxsize=32)
def translated(decoder, sentence: str, source: str) -> Translation:
    """The decoder's translation of ``sentence`` (greedy: the same every time), kept per process.

    Raises:
        ~retrieval_attention.errors.QueryError: an empty, multi-line or too long sentence.
        ~retrieval_attention.errors.InvalidParameterError: another decoder than Gemma 3, or a language not in SOURCES.
    """
    return decoder.translate(sentence, source)


def translation_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("我爱吃苹果, translated and aligned")


def translation_intro(lang: str = "en") -> tuple[Text, ...]:
    """One line: what the page shows."""
    _ = _gettext(lang)
    text = _(
        "Article 001's example done by a trained model: Gemma 3 270M translates the sentence, and one of its "
        "attention heads shows, for every English word it writes, which source word it read."
    )
    return (Text(text, key="intro"),)


def _check(settings: TranslationSettings) -> None:
    if settings.source not in SOURCES:
        raise InvalidParameterError(f"the sentence's language must be one of {sorted(SOURCES)}, not {settings.source!r}")


def context_lines(t: Translation, lang: str = "en") -> str:
    """c_i = Σ_j a_ij h_j for every English token, with the numbers (our markdown, one line each).

    Example:
        >>> import numpy as np
        >>> from types import SimpleNamespace
        >>> t = SimpleNamespace(alignment=np.array([[0.75, 0.25]]), source_tokens=["▁我", "爱"], target_tokens=["▁I"])
        >>> context_lines(t, "es")
        '**c₁** = 0,75 · h(我) + 0,25 · h(爱)  →  **I**'
    """
    from retrieval_attention.i18n import fmt_number

    lines = []
    for i, row in enumerate(t.alignment):
        n = str(i + 1).translate(SUBSCRIPTS)
        terms = " + ".join(f"{fmt_number(float(a), lang, 2)} · h({md(word(s))})" for a, s in zip(row, t.source_tokens))
        lines.append(f"**c{n}** = {terms}  →  **{md(word(t.target_tokens[i]))}**")
    return "  \n".join(lines)


def alignment_section(decoder, settings: TranslationSettings) -> LessonSection:
    """Section 1: the translation, the alignment heatmap a_ij, the raw share on the source, c_i written out.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence the library refuses.
        ~retrieval_attention.errors.InvalidParameterError: another decoder, or a language not in SOURCES.
    """
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.i18n import fmt_percent
    from retrieval_attention.views.articles import article_chart

    _check(settings)
    _, lang = _gettext(settings.lang), settings.lang
    t = translated(decoder, settings.sentence.strip(), settings.source)
    rows, cols = [word(s) for s in t.target_tokens], [word(s) for s in t.source_tokens]
    best = [(i, int(row.argmax())) for i, row in enumerate(t.alignment)]
    heat = ca.matrix_heatmap(
        t.alignment, rows, cols,
        title=_("Alignment a_ij: layer {layer}, head {head}").format(layer=t.layer, head=t.head),
        subtitle=[_("each row renormalised over the source words"), _("(sum 1); the largest outlined")],
        row_title=_("English token i (written)"), col_title=_("source token j (read)"), value_title="a_ij",
        cell=ca.row_height(max(len(rows), len(cols)), most=52, least=22, total=300), highlight=best, legend=False,
    )  # fmt: skip
    mass = t.source_mass  # (target,) the raw share on the source
    table = LessonTable(
        (_("English token i"), _("read most: source token"), _("a_ij"), _("raw share on the source")),
        tuple(
            (rows[i], cols[j], float(t.alignment[i, j]), fmt_percent(float(mass[i]), lang, 0)) for i, j in best
        ),
        decimals=(0, 0, 2, 0),
        key="alignment_table",
    )
    blocks: list[Block] = [
        Text(
            _("{sentence} → **{translation}**").format(sentence=md(t.sentence), translation=md(t.text)),
            key="alignment_translation",
        ),
        article_chart(heat, lang, "alignment_heatmap"),
        Controls(key="alignment_below"),  # the page draws the rest under its columns, as wide as the page
        Metrics(
            (
                Metric(_("translation"), t.text),
                Metric(
                    _("on the source, raw"),
                    f"{fmt_percent(float(mass.min()), lang, 0)}–{fmt_percent(float(mass.max()), lang, 0)}",
                    _("the share of the head's weight on the source words, before renormalising, per row"),
                ),
                Metric(_("head"), _("layer {layer}, head {head}").format(layer=t.layer, head=t.head)),
            ),
            key="alignment_metrics",
        ),
        Text(
            _(
                "Row i is the attention of the step that writes English token i, over the source tokens only, "
                "rescaled to sum to 1. Before that rescaling this head puts between {low} and {high} of its weight on "
                "the source; the rest goes to `<bos>` and the other lines of the prompt, hardly any to the English words "
                "already written."
            ).format(low=fmt_percent(float(mass.min()), lang, 0), high=fmt_percent(float(mass.max()), lang, 0)),
            key="alignment_raw",
        ),
        table,
        Text(_("The context vectors, as article 001 writes them"), style="subheader", key="alignment_context_heading"),
        Text(context_lines(t, lang), key="alignment_context"),
        Text(
            _(
                "h_j stands for what source token j offers the head (its value vector); c_i is the part of what the "
                "head read that comes from the source, in the proportions a_ij."
            ),
            style="caption",
            key="alignment_h",
        ),
    ]
    return LessonSection(_("The alignment"), blocks=tuple(blocks), key="alignment")


def what_section(decoder, settings: TranslationSettings) -> LessonSection:
    """Section 2: what this is and is not (a decoder-only model; how the head was chosen), and the prompt."""
    from retrieval_attention.i18n import fmt_number, fmt_percent

    _, lang = _gettext(settings.lang), settings.lang
    _check(settings)
    t = translated(decoder, settings.sentence.strip(), settings.source)
    prompt = "  \n".join(md(line) for line in t.prompt.splitlines())
    blocks: list[Block] = [
        Text(
            _(
                "Article 001's translator is an encoder–decoder: the decoder's cross-attention reads the encoder's "
                "states of the source. Gemma 3 is a decoder only. The source sentence is part of its prompt, and each "
                "English token is written by a query that looks back over everything before it, the source "
                "included: in decoder-only LLMs, “cross-attention” is causal self-attention from the output back to "
                "the prompt."
            ),
            key="what_decoder_only",
        ),
        Text(
            _(
                "No head was trained to align. Layer {layer}, head {head} was found by measuring: on 我爱吃苹果 → "
                "“I love eating apples”, for every head, the weight the step writing each English word puts on its "
                "Chinese word after renormalising. Layer 5, head 1 scores a little higher ({other} against {this}) but "
                "puts only {other_low}–{other_high} of its weight on the four words; this one puts {low}–{high} there, "
                "and its strongest source token is the expected one on 我喜欢看书, “Me encanta comer manzanas.” and "
                "“El perro come carne.” too."
            ).format(
                layer=t.layer, head=t.head, other=fmt_number(0.97, lang, 2), this=fmt_number(0.95, lang, 2),
                other_low=fmt_percent(0.01, lang, 0), other_high=fmt_percent(0.32, lang, 0),
                low=fmt_percent(0.26, lang, 0), high=fmt_percent(0.75, lang, 0),
            ),  # fmt: skip  (measured once, when the head was chosen: retrieval_attention.decoder.translate)
            key="what_head",
        ),
        Text(_("What the model was given (greedy decoding; the line it writes is the translation):"), key="what_prompt_lead"),
        Text(prompt, key="what_prompt"),
        Text(
            _(
                "Gemma 3 270M is a small base model: it translates short, simple sentences well and longer ones less "
                "so; its weights are under the Gemma Terms of Use."
            ),
            style="caption",
            key="what_model",
        ),
    ]
    return LessonSection(_("What is and is not cross-attention here"), blocks=tuple(blocks), key="what")


def translation_lesson(decoder, settings: TranslationSettings) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and both sections.

    Args:
        decoder: the multilingual decoder, ``load_decoder("gemma3")``.
        settings: the page's widget values.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence the library refuses.
        ~retrieval_attention.errors.InvalidParameterError: another decoder, or a language not in SOURCES.
    """
    from retrieval_attention.export.specs import made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    _check(settings)
    facts = (
        (_("Model"), "Gemma 3 270M"),
        (_("Sentence"), settings.sentence.strip()),
        (_("Its language"), SOURCES[settings.source]),
    )
    return Lesson(
        title=translation_title(lang),
        facts=facts,
        sections=(alignment_section(decoder, settings), what_section(decoder, settings)),
        lang=lang,
        footer=made_with(lang),
        intro=translation_intro(lang),
        **signs(lang),
    )
