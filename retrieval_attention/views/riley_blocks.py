"""Riley in three parts: its vectors and matrices as document blocks, and the article's updates carried to the end.

Built from one :class:`~retrieval_attention.articles.RileyParts` (the model's q, k, v of one head) for
:mod:`retrieval_attention.views.riley`: a matrix of the sentence with the word pair outlined
(:func:`heatmap`), vectors as lines and their first numbers written out (:func:`vectors`), and the
article's own formulas with the model's numbers: part 2, one pair (:func:`pair_update`) and the whole
sentence (:func:`sentence_update`); part 3, the new value of word a (:func:`query_update`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.topk import topk_order
from retrieval_attention.export.blocks import Block, Columns, Formula, LessonChart, LessonTable, Metric, Metrics, Text
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart, fmt_small

if TYPE_CHECKING:
    from retrieval_attention.articles import RileyPair, RileyParts, RileyUpdate

__all__ = [
    "heatmap",
    "key_range",
    "mix",
    "pair_metrics",
    "pair_update",
    "query_update",
    "sentence_update",
    "two",
    "two_cell",
    "vectors",
    "weights_line",
]

#: Matrices with at most this many words are drawn side by side.
SIDE_BY_SIDE = 12
#: How many of a value's numbers the tables write out (the charts draw all of them).
SHOWN = 8


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _fmt(value: float, lang: str, decimals: int | None = None) -> str:
    from retrieval_attention.i18n import fmt_number

    return fmt_number(value, lang, decimals)


def heatmap(
    r: RileyParts, M: NDArray[np.floating], title: str, subtitle: str, signed: bool, pair: tuple[int, int],
    key: str, value_title: str, lang: str, cell: int | None = None,
) -> LessonChart:  # fmt: skip
    """One n × n matrix of the sentence, with the pair's two cells outlined."""
    from retrieval_attention.charts import articles as ca

    _ = _gettext(lang)
    c = cell or ca.row_height(len(r.labels), most=46, least=14, total=640)
    a, b = pair
    chart = ca.matrix_heatmap(
        M, r.labels, r.labels, title=title, subtitle=subtitle, row_title=_("a: attends (row)"),
        col_title=_("b: is attended to (column)"), value_title=value_title, signed=signed, cell=c,
        highlight=[(a, b), (b, a)],
    )  # fmt: skip
    return article_chart(chart, lang, key)


def two(r: RileyParts, first: LessonChart, second: LessonChart, key: str) -> Block:
    """Two matrices side by side when they are small, else one under the other (one Columns of one column)."""
    if len(r.labels) <= SIDE_BY_SIDE:
        return Columns(((first,), (second,)), key=key)
    return Columns(((first, second),), key=key)


def two_cell(r: RileyParts) -> int:
    from retrieval_attention.charts import articles as ca

    n = len(r.labels)
    if n <= SIDE_BY_SIDE:
        return ca.row_height(n, most=40, least=14, total=420)
    return ca.row_height(n, most=46, least=14, total=640)


def mix(rows: Sequence[tuple[str, NDArray[np.floating]]], title: str, key: str, lang: str) -> LessonChart:
    from retrieval_attention.charts import articles as ca

    _ = _gettext(lang)
    chart = ca.mix_chart(list(rows), title=title, x_title=_("dimension"), y_title=_("value"), series_title=_("vector"))
    return article_chart(chart, lang, key)


def vectors(r: RileyParts, rows: Sequence[tuple[str, NDArray[np.floating]]], key: str, title: str, lang: str):
    """The vectors as lines over all their numbers, then the first few written out, and how many."""
    _ = _gettext(lang)
    hd = r.V.shape[1]
    n = min(SHOWN, hd)
    table = LessonTable(
        (_("vector"), *(f"[{i}]" for i in range(n))),
        tuple(
            (name, *(_fmt(float(v[i]), lang, 2) for i in range(n))) for name, v in rows
        ),  # written as the page shows them
        key=f"{key}_table",
        static=True,
    )
    caption = Text(
        _("The first {n} of {hd} numbers of each vector.").format(n=n, hd=hd), style="caption", key=f"{key}_first"
    )
    return (mix(rows, title, key, lang), table, caption)


def weights_line(r: RileyParts, weights: NDArray[np.floating], lang: str) -> str:
    """“word” 0.12, “word” 0.08 ...: the three largest weights."""
    _ = _gettext(lang)
    top = topk_order(weights)[:3]  # best first, ties in sentence order (core.topk, one home)
    return ", ".join(
        _("“{word}” {weight}").format(word=md(r.labels[j]), weight=_fmt(float(weights[j]), lang, 2)) for j in top
    )


def key_range(r: RileyParts, lang: str) -> Text:
    """The article says unit keys give relevances between 0 and 1: what is true, measured on this head."""
    _ = _gettext(lang)
    upper = r.cos_kk[np.triu_indices(len(r.labels), k=1)]  # every pair once
    return Text(
        _(
            "The article's keys are unit vectors, and it says their dot products lie between 0 and 1. A dot "
            "product of unit vectors is the cosine of their angle: it lies between −1 and 1, and stays at 0 or "
            "above only for keys at most 90° apart, which vectors with no negative numbers always are. The "
            "article's claim needs such non-negative vectors. Made unit vectors, the model's keys have cosines "
            "from {low} to {high} in this head; {neg} of {pairs} pairs are below 0."
        ).format(
            low=_fmt(float(upper.min()), lang, 2),
            high=_fmt(float(upper.max()), lang, 2),
            neg=_fmt(int((upper < 0).sum()), lang),
            pairs=_fmt(upper.size, lang),
        ),
        key="part2_range",
    )


def pair_update(r: RileyParts, u: RileyUpdate, lang: str) -> list[Block]:
    """Part 2, one pair, with the article's formula: rel = k_a · k_b, v_a' = rel · v_a + (1 − rel) · v_b."""
    _ = _gettext(lang)
    a, b = md(r.labels[u.a]), md(r.labels[u.b])
    rows = [
        (f"v · {r.labels[u.a]}", r.V[u.a]),
        (f"v · {r.labels[u.b]}", r.V[u.b]),
        (_("new v · {a}").format(a=r.labels[u.a]), u.pair_value),
    ]
    title = _("Part 2, one pair: layer {layer}, head {head}").format(layer=r.layer, head=r.head)
    return [
        Text(_("The article's update, carried to the end"), style="subheader", key="pair_heading"),
        Formula(
            r"\mathrm{rel} = \hat k_a \cdot \hat k_b,\qquad v_a' = \mathrm{rel}\; v_a + (1 - \mathrm{rel})\; v_b",
            key="pair_formula",
        ),
        Text(
            _(
                "With the keys made unit vectors, rel(“{a}”, “{b}”) = {rel}, so new v_{a} = {rel} · v_{a} + "
                "{rest} · v_{b}."
            ).format(a=a, b=b, rel=_fmt(u.relevance, lang, 2), rest=_fmt(1 - u.relevance, lang, 2)),
            key="pair_text",
        ),
        *vectors(r, rows, "ar_pair_update", title, lang),
        Text(
            _(
                "By the formula, rel = 1 keeps v_a as it is and rel = 0 replaces it with v_b; the article says the "
                "opposite (“if the relevance is 1, v_Riley is completely replaced by v_dog”). A negative rel would "
                "push v_a away from v_b."
            ),
            style="caption",
            key="pair_opposite",
        ),
    ]


def sentence_update(r: RileyParts, u: RileyUpdate, lang: str) -> list[Block]:
    """Part 2, the whole sentence: k_a · k_j for every word, divided by their sum, weighing every value."""
    from retrieval_attention.charts import articles as ca

    _ = _gettext(lang)
    chart = ca.steps_chart(
        r.labels, [(_("k̂_a·k̂_j ÷ sum"), u.key_weights, False)],
        title=_("Part 2, the whole sentence: the weights of “{a}”").format(a=r.labels[u.a]), row_title=_("word j"),
    )  # fmt: skip
    rows = [(f"v · {r.labels[u.a]}", r.V[u.a]), (_("new v · {a}").format(a=r.labels[u.a]), u.key_value)]
    title = _("Part 2, the whole sentence: the new value of “{a}”").format(a=r.labels[u.a])
    return [
        Text(
            _(
                "Then the article relates “{a}” to every word at once, itself included: the relevances k_a · k_j, "
                "divided by their sum, weigh every value. The largest weights: {top}."
            ).format(a=md(r.labels[u.a]), top=weights_line(r, u.key_weights, lang)),
            key="sentence_update_text",
        ),
        article_chart(chart, lang, "ar_key_update"),
        *vectors(r, rows, "ar_key_value", title, lang),
    ]


def query_update(r: RileyParts, u: RileyUpdate, lang: str) -> list[Block]:
    """Part 3: q_a · k_j divided by their sum (the article), beside the softmax (attention), and the new value."""
    from retrieval_attention.charts import articles as ca

    _ = _gettext(lang)
    a = md(r.labels[u.a])
    total = float(r.qk_row_sums[u.a])
    if np.isnan(u.query_weights).any():
        sums = _("The relevances of “{a}” sum to about 0: the article's division cannot be done for it.").format(a=a)
    elif total < 0:
        sums = _(
            "The relevances q_a·k_j of “{a}” sum to {total}, a negative number: dividing by it flips every sign, "
            "so the words “{a}” relates to least get the largest weights ({top}). A softmax cannot do that."
        ).format(a=a, total=_fmt(total, lang, 2), top=weights_line(r, u.query_weights, lang))
    else:
        sums = _("The relevances q_a·k_j of “{a}” sum to {total}; the largest weights: {top}.").format(
            a=a, total=_fmt(total, lang, 2), top=weights_line(r, u.query_weights, lang)
        )
    chart = ca.steps_chart(
        r.labels, [(_("q_a·k_j ÷ sum"), u.query_weights, True), (_("softmax"), r.qk_softmax[u.a], False)],
        title=_("Part 3: the weights of “{a}”").format(a=r.labels[u.a]), row_title=_("word j"),
    )  # fmt: skip
    rows = [
        (f"v · {r.labels[u.a]}", r.V[u.a]),
        (_("÷ sum (the article)"), u.query_value),
        (_("softmax (attention)"), u.softmax_value),
    ]
    return [
        Text(_("The new value of “{a}”").format(a=a), style="subheader", key="new_heading"),
        Text(
            _(
                "The article ends with Q @ K.T, each row divided by its sum, times V: the row of “{a}” in new_V. "
                "Attention divides by √d_k and takes a softmax instead; both are shown."
            ).format(a=a),
            key="new_text",
        ),
        Text(sums, key="new_sums"),
        article_chart(chart, lang, "ar_query_update"),
        *vectors(r, rows, "ar_query_value", _("Part 3: the new value of “{a}”").format(a=r.labels[u.a]), lang),
        Text(
            _(
                "The article's numpy line relevancias / relevancias.sum(axis=1) would divide column j by the sum of "
                "row j; its text means each row by its own sum (keepdims=True), which is what is computed here."
            ),
            style="caption",
            key="new_numpy",
        ),
    ]


def pair_metrics(p: RileyPair, lang: str) -> Columns:
    """Part 3's pair in both directions: q·k and its weight after the softmax, a → b left, b → a right."""
    _ = _gettext(lang)
    weight = _("its weight after the softmax")
    ab = _("“{a}” → “{b}”: q_a·k_b").format(a=p.labels[0], b=p.labels[1])
    ba = _("“{b}” → “{a}”: q_b·k_a").format(a=p.labels[0], b=p.labels[1])
    left = (
        Metrics((Metric(ab, _fmt(p.qk_ab, lang, 2), _("row a, column b")),), key="part3_ab"),
        Metrics((Metric(weight, fmt_small(p.qk_weight_ab, lang)),), key="part3_ab_weight"),
    )
    right = (
        Metrics((Metric(ba, _fmt(p.qk_ba, lang, 2), _("row b, column a")),), key="part3_ba"),
        Metrics((Metric(weight, fmt_small(p.qk_weight_ba, lang)),), key="part3_ba_weight"),
    )
    return Columns((left, right), key="part3_pair")
