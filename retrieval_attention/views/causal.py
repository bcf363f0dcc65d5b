"""Causal vs bidirectional (article 003): one sentence through an encoder and through a decoder, side by side.

The encoder (all-MiniLM-L6-v2 in English, multilingual-e5-small in Chinese and Spanish, both on
our numpy BERT, :mod:`retrieval_attention.inspector`) lets
every token attend to every token; the decoder (:mod:`retrieval_attention.decoder`: SmolLM2 in
English, Gemma 3 in Chinese and Spanish) lets each token attend to itself and the tokens before
it only: its weights above the diagonal are exactly 0 (drawn grey). Both are trained models'
own weights; nothing is masked by hand. Section ``side``: the two heatmaps, and how much weight
each puts on later tokens.

Example (not run here: loads two models)::

    >>> lesson = causal_lesson(load_inspector(), load_decoder("smollm2"), CausalSettings())  # doctest: +SKIP
    >>> [c.key for c in lesson.charts()]                                                      # doctest: +SKIP
    ['side_encoder', 'side_decoder']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.validate import check_whole
from retrieval_attention.export.blocks import Block, Columns, LessonSection, Metric, Metrics, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.views.next_word import label, model_title

__all__ = ["CausalSettings", "default_encoder", "causal_intro", "causal_lesson", "causal_title", "examples", "later_share", "side_section"]

#: At most this many tokens per model: two heatmaps side by side a projector can still read.
MAX_TOKENS = 24


@dataclass(frozen=True)
class CausalSettings:
    """The page's widget values."""

    sentence: str = "The cat sat on the mat because it was tired"  # one sentence (the student's, shown as text)
    encoder_layer: int = 0  # the encoder's layer and head drawn
    encoder_head: int = 0
    decoder_layer: int = 0  # the decoder's layer and head drawn
    decoder_head: int = 0
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def default_encoder(lang: str) -> str | None:
    """The encoder a page opens with (for :func:`~retrieval_attention.inspector.load_inspector`).

    all-MiniLM-L6-v2 (None) in English; in Chinese and Spanish the multilingual e5-small, whose vocabulary
    has the words (all-MiniLM-L6-v2 reads 爱吃苹果 as four [UNK]).
    """
    from retrieval_attention.config import MULTILINGUAL_MODEL

    return None if lang == "en" else MULTILINGUAL_MODEL


def examples(lang: str) -> tuple[str, ...]:
    """Sentences to start from, in the page's language (the first is the default)."""
    return {
        "zh": ("我爱吃苹果", "猫坐在垫子上"),
        "es": ("El gato se sentó en la alfombra", "Me encanta comer manzanas"),
    }.get(lang, ("The cat sat on the mat because it was tired", "I love eating apples"))


def later_share(W: NDArray[np.floating]) -> float:
    """The mean, over the query rows, of the weight a row puts on tokens after its own position.

    Example:
        >>> later_share(np.array([[0.5, 0.5], [0.25, 0.75]]))
        0.25
    """
    W = np.asarray(W, dtype=np.float64)
    return float(np.triu(W, k=1).sum(axis=1).mean())


def causal_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)  # bound first: babel does not extract _gettext(lang)("...")
    return _("Causal vs bidirectional")


def causal_intro(lang: str = "en") -> tuple[Text, ...]:
    """One line: what the page shows."""
    _ = _gettext(lang)
    text = _(
        "One sentence through two trained models: an encoder, where every token attends to every token, and a "
        "decoder, where each token attends only to itself and the tokens before it (article 003's masked attention)."
    )
    return (Text(text, key="intro"),)


def side_section(inspector, decoder, settings: CausalSettings) -> LessonSection:
    """The two heatmaps side by side, with the weight each puts on later tokens.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence either model refuses (empty, too long).
        ~retrieval_attention.errors.InvalidParameterError: a layer or head a model does not have.
    """
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.errors import QueryError
    from retrieval_attention.i18n import fmt_number
    from retrieval_attention.views.articles import article_chart

    _, lang = _gettext(settings.lang), settings.lang
    cfg = decoder.config
    check_whole(settings.encoder_layer, "encoder layer", 0, inspector.n_layers - 1)
    check_whole(settings.encoder_head, "encoder head", 0, inspector.n_heads - 1)
    check_whole(settings.decoder_layer, "decoder layer", 0, cfg.n_layers - 1)
    check_whole(settings.decoder_head, "decoder head", 0, cfg.n_heads - 1)
    sentence = settings.sentence.strip() if isinstance(settings.sentence, str) else settings.sentence
    enc_tokens = inspector.tokens(sentence)  # raises QueryError on an empty sentence
    ids = decoder.token_ids(sentence)
    if max(len(enc_tokens), len(ids)) > MAX_TOKENS:
        raise QueryError(f"the sentence has more than {MAX_TOKENS} tokens; a shorter one keeps the heatmaps readable")
    E = inspector.layer_attention(sentence, settings.encoder_layer).weights[settings.encoder_head]  # (T, T)
    D = decoder.attention(sentence, settings.decoder_layer)[settings.decoder_head]  # (S, S), zero above the diagonal
    dec_tokens = [label(decoder, i) for i in ids]
    shown = np.where(np.triu(np.ones_like(D, dtype=bool), k=1), np.nan, D)  # the future: grey, no number
    cell = ca.row_height(max(len(enc_tokens), len(ids)), most=36, least=10, total=260)  # two fit side by side
    heat = {
        "encoder": ca.matrix_heatmap(
            E, enc_tokens, enc_tokens,
            title=_("Encoder: {model}").format(model=inspector.name),
            subtitle=[
                _("layer {layer}, head {head}").format(layer=settings.encoder_layer, head=settings.encoder_head),
                _("every token sees every token"),
            ], row_title=_("query"), col_title=_("key"),
            value_title=_("weight"), cell=cell, legend=False,
        ),
        "decoder": ca.matrix_heatmap(
            shown, dec_tokens, dec_tokens,
            title=_("Decoder: {model}").format(model=model_title(decoder)),
            subtitle=[
                _("layer {layer}, head {head}").format(layer=settings.decoder_layer, head=settings.decoder_head),
                _("only itself and the past (grey: exactly 0)"),
            ],
            row_title=_("query"),
            col_title=_("key"), value_title=_("weight"), cell=cell, legend=False,
        ),
    }  # fmt: skip
    later = {"encoder": later_share(E), "decoder": later_share(D)}
    items = []
    for side in ("encoder", "decoder"):
        items.append(
            (
                article_chart(heat[side], lang, f"side_{side}"),
                Metrics(
                    (
                        Metric(
                            _("weight on later tokens"),
                            fmt_number(later[side], lang, 3),
                            _("the mean over the rows of the weight each query puts after its own position"),
                        ),
                    ),
                    key=f"side_{side}_metrics",
                ),
            )
        )
    blocks: list[Block] = [
        Columns(tuple(items), key="side_columns"),
        Text(
            _(
                "Left, a query attends both ways: on average {enc} of each row's weight lies on tokens after it. "
                "Right, every weight above the diagonal is exactly 0: the decoder was trained to write the next "
                "token, so a token may not see the ones after it. The two models also cut the sentence differently: "
                "each uses its own tokenizer."
            ).format(enc=fmt_number(later["encoder"], lang, 2)),
            key="side_text",
        ),
    ]
    return LessonSection(_("Both ways, or only the past"), blocks=tuple(blocks), key="side")


def causal_lesson(inspector, decoder, settings: CausalSettings) -> Lesson:
    """The whole page as one document.

    Args:
        inspector: the encoder's :class:`~retrieval_attention.inspector.TransformerInspector` (:func:`default_encoder`).
        decoder: the :class:`~retrieval_attention.decoder.Decoder`.
        settings: the page's widget values.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    facts = (
        (_("Sentence"), settings.sentence.strip()),
        (_("Encoder"), inspector.name),
        (_("Decoder"), model_title(decoder)),
    )
    return Lesson(
        title=causal_title(lang),
        facts=facts,
        sections=(side_section(inspector, decoder, settings),),
        lang=lang,
        footer=made_with(lang),
        intro=causal_intro(lang),
        **signs(lang),
    )
