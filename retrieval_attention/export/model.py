"""The model page's lesson from the library's own results: one head of the real model reading a sentence.

:func:`model_lesson` runs the inspector (our numpy forward pass of all-MiniLM-L6-v2) on a sentence
and lays out one head of one layer: its weights as the page's heat map, and where each token looks
as a table of its three largest weights.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np

from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.export.blocks import LessonChart, LessonSection, LessonTable
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.specs import inline_spec, lesson_date, made_with, signs

__all__ = ["model_lesson"]

#: Keys listed per query token in the table (the heat map shows them all).
TOP_KEYS = 3


def model_lesson(
    sentence: str,
    *,
    layer: int = 0,
    head: int = 0,
    causal: bool = False,
    model: str | None = None,
    lang: str = "en",
    when: datetime.date | datetime.datetime | None = None,
) -> Lesson:
    """One attention head of the real model on ``sentence`` as a lesson: the heat map and where each token looks.

    Args:
        sentence: one sentence (at most 400 characters), tokenised alone.
        layer: the layer, 0-based.
        head: the head, 0-based.
        causal: apply a decoder's causal mask (token i sees tokens 0..i only).
        model: a BERT-style model folder or name; None for the default all-MiniLM-L6-v2.
        lang: ``"en"``, ``"zh"`` or ``"es"``.
        when: the date the lesson names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson`.

    Raises:
        QueryError: an empty or too long sentence.
        InvalidParameterError: a layer or head the model does not have.
        ModelNotFoundError: the model cannot be found or is not a BERT model our forward pass runs.

    Example:
        >>> lesson = model_lesson("the cat sat", layer=0, head=3)
        >>> lesson.sections[0].tables[0].rows[1][0]
        'the'
    """
    from retrieval_attention.charts import transformer as ct
    from retrieval_attention.core.validate import check_index, check_sentence
    from retrieval_attention.i18n import fmt_number, load_translations, translated
    from retrieval_attention.inspector import load_inspector

    text = check_sentence(sentence)
    ins = load_inspector(model)
    head = check_index(head, ins.n_heads, "head")
    att = ins.layer_attention(text, layer, causal=bool(causal))
    W = att.weights[head]  # (T, T), row i = where token i looks; each row sums to 1
    tokens = att.query_tokens
    _ = load_translations(lang).gettext

    rows = []
    for i, token in enumerate(tokens):
        order = np.argsort(-W[i], kind="stable")[:TOP_KEYS]  # the largest weights of row i
        row: list[object] = [token]
        for j in order:
            row += [tokens[j], float(W[i, j])]
        rows.append(tuple(row))
    columns: tuple[str, ...] = (_("query token (row)"),)
    for r in range(1, min(TOP_KEYS, len(tokens)) + 1):
        columns += (_("key {r}").format(r=r), _("weight"))

    chart_text = translated(ct.HEATMAP_TEXT, lang)
    title = _("Layer {layer}, head {head}: attention weights").format(layer=att.layer, head=head)
    chart = ct.attention_heatmap(
        W, tokens, att.key_tokens, mask=att.mask, title=title, text=chart_text, cell=ct.cell_size(len(tokens))
    )
    kind = _("causal self-attention") if causal else _("self-attention")
    paragraphs = (
        _(
            "Every token's query is compared with every token's key of the same sentence: "
            "w = softmax(q·Kᵀ / √d_k), d_k = {dk}. Read a row: where that token looks. Each row sums to 1."
        ).format(dk=ins.head_dim),
    )
    if causal:
        paragraphs += (_("The causal mask hides every later token (grey): token i sees tokens 0..i only."),)
    section = LessonSection(
        _("{kind} · layer {layer}, head {head}").format(kind=kind, layer=att.layer, head=head),
        paragraphs,
        (LessonTable(columns, tuple(rows), _("Where each token looks: its largest weights"), 3),),
        (LessonChart(inline_spec(chart, **signs(lang)), title),),
    )
    name = Path(model).name if model else DEFAULT_MODEL
    facts = (
        (_("Model"), name),
        (_("Date"), lesson_date(when).isoformat()),
        (_("Sentence"), text),
        (_("Tokens"), fmt_number(len(tokens), lang)),
        (_("Layer"), str(att.layer)),
        (_("Head"), str(head)),
        (_("Attention"), kind),
    )
    return Lesson(
        title=_("Inside a real transformer: {sentence}").format(sentence=text),
        facts=facts,
        sections=(section,),
        lang=lang,
        footer=made_with(lang),
        **signs(lang),
    )
