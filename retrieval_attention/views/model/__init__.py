"""Self, cross and causal attention inside a real transformer: the model page's document.

Every number comes from our numpy forward pass of the model's weights
(:class:`~retrieval_attention.inspector.TransformerInspector`, all-MiniLM-L6-v2 by default). The
page's sections, by key: ``attention`` (the tokens and one head's weights, self or causal, with the
optional check against transformers), ``cross`` (queries from one sentence, keys and values from
another), ``heads`` (every head of the layer named by its measured pattern, and article 001's
"which head finds what *it* refers to"), ``concat`` (the heads side by side, then W_O) and
``relevance`` (why q·k must be asymmetric: K·Kᵀ beside Q·Kᵀ). The app, a saved file, the CLI and a
notebook all show this one document (:func:`model_lesson`).

Example:
    >>> from retrieval_attention.inspector import load_inspector
    >>> lesson = transformer_lesson(load_inspector(), ModelSettings("the cat sat", grid=True))
    >>> [s.key for s in lesson.sections]
    ['attention', 'heads', 'relevance']
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.export.document import Lesson
from retrieval_attention.views.model.attention import attention_section, cross_section, model_intro, model_title
from retrieval_attention.views.model.heads import heads_section, link_choices, link_heads
from retrieval_attention.views.model.layers import concat_section, concat_token, relevance_section
from retrieval_attention.views.model.settings import (
    MAX_TOKENS,
    RILEY,
    SPANISH,
    CheckNumbers,
    ModelSettings,
    _gettext,
    check_numbers,
)

if TYPE_CHECKING:
    from retrieval_attention.inspector import TransformerInspector

__all__ = [
    "MAX_TOKENS",
    "RILEY",
    "SPANISH",
    "CheckNumbers",
    "ModelSettings",
    "attention_section",
    "check_numbers",
    "concat_section",
    "concat_token",
    "cross_section",
    "heads_section",
    "link_choices",
    "link_heads",
    "model_intro",
    "model_lesson",
    "model_title",
    "relevance_section",
    "transformer_lesson",
]


def transformer_lesson(
    ins: TransformerInspector, settings: ModelSettings, *, when: datetime.date | datetime.datetime | None = None
) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and the sections that are on.

    Args:
        ins: the model's inspector (:func:`~retrieval_attention.inspector.load_inspector`).
        settings: the page's widget values.
        when: the date the document names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence the tokenizer cannot read.
        ~retrieval_attention.errors.InvalidParameterError: a layer, head or token the model or sentence does not have.
    """
    from retrieval_attention.export.specs import lesson_date, made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    sections = [attention_section(ins, settings)]
    if settings.cross is not None:
        sections.append(cross_section(ins, settings))
    if settings.grid:
        sections.append(heads_section(ins, settings))
    if settings.concat:
        sections.append(concat_section(ins, settings))
    if settings.relevance:
        sections.append(relevance_section(ins, settings))
    on, off = _("on"), _("off")
    facts = [
        (_("Model"), settings.model),
        (_("Date"), lesson_date(when).isoformat()),
        (_("Sentence"), settings.sentence),
        (_("Layer"), str(settings.layer)),
        (_("Head"), str(settings.head)),
        (_("Causal mask"), on if settings.causal else off),
    ]
    if settings.cross:
        facts.append((_("Sentence B (gives the keys and values)"), settings.cross.strip()))
    return Lesson(
        title=model_title(lang),
        facts=tuple(facts),
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        intro=model_intro(lang),
        **signs(lang),
    )


def model_lesson(
    sentence: str,
    *,
    layer: int = 0,
    head: int = 0,
    causal: bool = False,
    cross: str | None = None,
    grid: bool = False,
    concat: bool = False,
    relevance: bool = True,
    model: str | None = None,
    lang: str = "en",
    when: datetime.date | datetime.datetime | None = None,
) -> Lesson:
    """The model page's document for a sentence: what the page shows for these settings.

    Args:
        sentence: one sentence (at most 400 characters), tokenised alone.
        layer: the layer, 0-based.
        head: the head, 0-based.
        causal: apply a decoder's causal mask to that layer (token i sees tokens 0..i only).
        cross: sentence B, for the cross-attention section; None leaves the section out.
        grid: include every head of the layer and the pronoun question.
        concat: include the heads concatenated and projected by W_O.
        relevance: include K·Kᵀ beside Q·Kᵀ (on, as on the page).
        model: a BERT-style model folder or name; None for the default all-MiniLM-L6-v2.
        lang: ``"en"``, ``"zh"`` or ``"es"``.
        when: the date the document names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson`, the page's own document.

    Raises:
        QueryError: an empty or too long sentence.
        InvalidParameterError: a layer or head the model does not have.
        ModelNotFoundError: the model cannot be found or is not a BERT model our forward pass runs.

    Example:
        >>> lesson = model_lesson("the cat sat", layer=0, head=3)
        >>> [b.key for b in lesson.section("attention").blocks if b.kind == "chart"]
        ['tr_heatmap']
    """
    from pathlib import Path

    from retrieval_attention.core.validate import check_sentence
    from retrieval_attention.inspector import load_inspector

    text = check_sentence(sentence)
    ins = load_inspector(model)
    name = Path(model).name if model else DEFAULT_MODEL
    settings = ModelSettings(
        text, int(layer), int(head), bool(causal), cross, bool(grid), bool(concat), bool(relevance),
        model=name, lang=lang,
    )  # fmt: skip
    return transformer_lesson(ins, settings, when=when)
