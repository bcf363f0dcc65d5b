"""One token, step by step: does the word weigh itself most, as article 001 says?

This head's answer for the query token, the weight [CLS] and [SEP] take (and how long their values
are), the row with them set aside, and the head of the model where the token weighs itself most
(:func:`~retrieval_attention.inspector.strongest_self_head`). Part of section ``scores`` of
:mod:`retrieval_attention.views.walkthrough`.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from retrieval_attention.export.blocks import Block, Controls, Text
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart

if TYPE_CHECKING:
    from retrieval_attention.inspector import SelfHead, TransformerInspector, Walkthrough

__all__ = ["itself", "self_head"]


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _fmt(value: float, lang: str, decimals: int | None = None) -> str:
    from retrieval_attention.i18n import fmt_number

    return fmt_number(float(value), lang, decimals)


@functools.lru_cache(maxsize=32)
def self_head(ins: TransformerInspector, sentence: str, token: int) -> SelfHead | None:
    """:func:`~retrieval_attention.inspector.strongest_self_head` once per sentence and token."""
    from retrieval_attention.inspector import strongest_self_head

    return strongest_self_head(ins, sentence, token)


def itself(ins: TransformerInspector, w: Walkthrough, aside: bool, lang: str, title: str) -> list[Block]:
    """Does the word weigh itself most, as the article says? This head, [CLS]/[SEP] set aside, the head where it does."""
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.inspector import without_special

    _ = _gettext(lang)
    token, own = md(w.query_token), float(w.weights[w.token])
    best = int(w.weights.argmax())
    if best == w.token:
        verdict = _(
            "Article 001 says the word being encoded gets the highest softmax score. Here it does: "
            "“{token}” gives itself {own}, more than any other token."
        ).format(token=token, own=_fmt(own, lang, 2))
    else:
        verdict = _(
            "Article 001 says the word being encoded gets the highest softmax score. Here “{token}” gives itself "
            "{own} and its most, {top}, to “{best}”. Both are true to their source: the article's numbers are "
            "illustrative, made up to show the arithmetic; this head was trained."
        ).format(token=token, own=_fmt(own, lang, 2), top=_fmt(w.weights[best], lang, 2), best=md(w.tokens[best]))
    special, lengths = w.special, w.value_lengths
    resting = float(w.weights[special].sum())
    rest, words = float(lengths[special].mean()), float(lengths[~special].mean())
    if rest < words:
        parked = _(
            "A trained head often parks weight on [CLS] and [SEP]: a resting place. Here they take {share} of "
            "“{token}”'s weight, but their value vectors are shorter than the words' (‖v‖ {rest} against {words} "
            "on average), so they add less to z than their weight suggests."
        )
    else:
        parked = _(
            "A trained head often parks weight on [CLS] and [SEP]: a resting place. Here they take {share} of "
            "“{token}”'s weight; their value vectors are not shorter than the words' here (‖v‖ {rest} against "
            "{words} on average)."
        )
    parked = parked.format(
        share=_fmt(resting, lang, 2), token=token, rest=_fmt(rest, lang, 2), words=_fmt(words, lang, 2)
    )
    blocks: list[Block] = [
        Text(_("Does the word weigh itself most?"), style="subheader", key="itself_heading"),
        Text(verdict, key="itself_verdict"),
        Text(parked, key="itself_parked"),
        Controls(key="itself_aside"),
    ]
    if aside:
        hidden = without_special(w.weights, special)
        shown = np.where(special, np.nan, hidden)  # grey cells: set aside, not a weight of 0
        chart = ca.steps_chart(
            w.tokens, [(_("softmax → w_j"), w.weights, False), (_("without [CLS], [SEP]"), shown, False)],
            title=title, row_title=_("key token j"),
        )  # fmt: skip
        blocks.append(article_chart(chart, lang, "aw_hidden"))
        if np.isnan(hidden).all():
            text = _("This head gives all of “{token}”'s weight to [CLS] and [SEP]: nothing is left.").format(
                token=token
            )
            blocks.append(Text(text, style="caption", key="itself_nothing"))
        else:
            top = int(np.nanargmax(np.where(special, np.nan, hidden)))
            blocks.append(
                Text(
                    _("Among the words, “{token}” gives itself {own}; its most, {top}, goes to “{best}”.").format(
                        token=token,
                        own=_fmt(hidden[w.token], lang, 2) if not special[w.token] else "—",
                        top=_fmt(hidden[top], lang, 2),
                        best=md(w.tokens[top]),
                    ),
                    key="itself_words",
                )
            )
    found = self_head(ins, w.sentence, w.token)
    total = _fmt(ins.n_layers * ins.n_heads, lang)
    if found is None:
        text = _("Measured in all {total} heads: in none of them does “{token}” give itself its largest weight.")
        blocks.append(Text(text.format(total=total, token=token), key="itself_found"))
        return blocks
    text = _(
        "Measured in all {total} heads for this sentence: in {n} of them “{token}” gives itself its largest "
        "weight, as the article says. The strongest is layer {layer}, head {head}, with {weight}."
    ).format(
        total=total, n=_fmt(found.heads, lang), token=token, layer=found.layer, head=found.head,
        weight=_fmt(found.weight, lang, 2),
    )  # fmt: skip
    blocks += [Text(text, key="itself_found"), Controls(key="itself_go")]
    return blocks
