"""The model page's ``heads`` section: every head of a layer named by its measured pattern, and article
001's "which head finds what *it* refers to", measured."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from retrieval_attention.export.blocks import Block, Controls, LessonSection, Text
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart
from retrieval_attention.views.model.settings import (
    MAX_TOKENS,
    ModelSettings,
    _chart_text,
    _gettext,
    _only,
)

if TYPE_CHECKING:
    from retrieval_attention.inspector import TransformerInspector

__all__ = ["heads_section", "link_choices", "link_heads"]


def link_choices(ins: TransformerInspector, sentence: str) -> tuple[list[int], int | None]:
    """The pronoun question's choices: the word positions, and the first pronoun's (None: there is none).

    Returns:
        ([], None) when the sentence has fewer than two words (the question is not asked).
    """
    from retrieval_attention.inspector import find_pronoun

    special = ins.special_mask(sentence)
    words = [i for i in range(len(special)) if not special[i]]
    if len(words) < 2:
        return [], None
    return words, find_pronoun(ins.tokens(sentence))


def link_heads(ins: TransformerInspector, sentence: str, chosen: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """The two (layer, head) whose query at ``chosen[0]`` puts the most weight on ``chosen[1]``, strongest first."""
    from retrieval_attention.inspector import link

    return tuple((int(la), int(hd)) for la, hd, _w in link(ins.all_weights(sentence), *chosen).top(2))


def _default_link(ins: TransformerInspector, sentence: str) -> tuple[int, int] | None:
    """The (query, key) the question starts from: the pronoun (else the last word) and the key a head weights most."""
    from retrieval_attention.inspector import strongest_antecedent

    words, pronoun = link_choices(ins, sentence)
    if not words:
        return None
    query = pronoun if pronoun is not None else words[-1]
    found = strongest_antecedent(ins.all_weights(sentence), ins.tokens(sentence), ins.special_mask(sentence), query)
    keys = [i for i in words if i != query]
    return query, found if found is not None else keys[0]


def heads_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    """Every head of the layer as small multiples, named by its measured pattern; then the pronoun question.

    Blocks: the grid (key ``tr_heads_grid``: a click on a panel picks its head), its legend, the
    question, ``Controls`` (the word and the key it may refer to), the measured answer, ``Controls``
    (buttons to the two strongest heads). ``settings.link`` None: the pronoun and its measured key.
    """
    return _heads_section(ins, _only(settings, "sentence", "layer", "head", "link", "lang"))


@functools.lru_cache(maxsize=16)
def _heads_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    from retrieval_attention.charts import transformer as ct
    from retrieval_attention.i18n import fmt_number, translated
    from retrieval_attention.inspector import PATTERN_LABELS, head_patterns, link, strongest_antecedent

    _, lang, sentence, head = _gettext(settings.lang), settings.lang, settings.sentence, settings.head
    att = ins.layer_attention(sentence, settings.layer)
    n = min(len(att.query_tokens), MAX_TOKENS)
    patterns = head_patterns(att.weights, ins.special_mask(sentence))  # measured on every token, not the shown ones
    labels = translated(PATTERN_LABELS, lang)
    names = [labels[p.name] + ("" if p.score is None else " " + fmt_number(p.score, lang, 2)) for p in patterns]
    grid = ct.heads_grid(
        att.weights[:, :n, :n], att.query_tokens[:n], att.key_tokens[:n], selected=head, names=names,
        text=_chart_text(lang),
    )  # fmt: skip
    blocks: list[Block] = [
        Text(
            _(
                "{n} heads each run their own softmax(QKᵀ/√d)V on its own 32-number slice of q, k and v, so each "
                "head can look for something different (the next word, the previous one, [SEP] as a resting place)."
            ).format(n=att.n_heads),
            key="heads_text",
        ),
        article_chart(grid, lang, "tr_heads_grid"),
        Text(_("Click a head to show it large above (the Head slider follows)."), style="caption", key="heads_click"),
        Text(
            _(
                "Each head's name is measured on this sentence, with its score (0 to 1): **previous**, **next** and "
                "**itself** are the average weight a token puts on the token before it, after it and on itself; "
                "**[CLS]/[SEP]** is the weight resting on the special tokens; a head is named by the one that takes "
                "more than half. **broad** means nearly even rows (entropy ÷ log T above 0.8); **mixed**, none of "
                "these."
            ),
            style="caption",
            key="heads_legend",
        ),
    ]
    chosen = settings.link or _default_link(ins, sentence)
    if chosen is not None:
        tokens, special = ins.tokens(sentence), ins.special_mask(sentence)
        query, key = chosen
        W = ins.all_weights(sentence)  # (n_layers, h, T, T) the model's own self-attention
        linked = link(W, query, key)
        (l1, h1, w1), (l2, h2, w2) = linked.top(2)
        values = {
            "l1": l1, "h1": h1, "w1": fmt_number(w1, lang, 2), "l2": l2, "h2": h2, "w2": fmt_number(w2, lang, 2),
            "layer": settings.layer, "head": head, "w": fmt_number(float(linked.weights[settings.layer, head]), lang, 2),
        }  # fmt: skip
        answer = _(
            "“{q}” → “{k}”: layer {l1}, head {h1} puts **{w1}** of the query's weight there, layer {l2}, head {h2} "
            "**{w2}**; the head shown above (layer {layer}, head {head}) **{w}**."
        ).format(q=md(tokens[query]), k=md(tokens[key]), **values)
        blocks += [
            Text(
                _(
                    "**Which head finds what “it” refers to?** Article 001 asks this of “The animal didn't cross "
                    "the street because it was too tired” (the example “it = animal?”). Pick a word and the word it "
                    "may refer to: the heads are ranked by the weight that word's query puts on it."
                ),
                key="heads_question",
            ),
            Controls(key="heads_link"),
            Text(answer, key="heads_answer"),
        ]
        if key == strongest_antecedent(W, tokens, special, query):
            found = _(
                "“{k}” was found by measurement: of the words before “{q}” (except the one right before it, "
                "which a previous-token head always takes), it is the one a head weights most."
            ).format(k=md(tokens[key]), q=md(tokens[query]))
            blocks.append(Text(found, style="caption", key="heads_found"))
        blocks.append(Controls(key="heads_jump"))
    heading = _("Multi-head: all {n} heads of layer {layer}").format(n=ins.n_heads, layer=att.layer)
    return LessonSection(heading, blocks=tuple(blocks), key="heads")
