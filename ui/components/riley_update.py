"""Article 004's updates carried to the end, on the Riley page: the new value of word a, with numbers.

Part 2, one pair: ``rel = k_a · k_b`` (unit keys, as the article's), ``v_a' = rel · v_a + (1 − rel) · v_b``;
part 2, the whole sentence: relevances ``k_a · k_j`` divided by their sum, weighing every value;
part 3: ``q_a · k_j`` divided by their sum, the row of ``new_V`` for a, beside the softmax that
attention uses. Every number comes from :meth:`retrieval_attention.lessons.RileyParts.update`.
Widgets and rendering only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import streamlit as st

from retrieval_attention.charts import articles as ca
from retrieval_attention.core.topk import topk_order
from retrieval_attention.lessons import RileyParts, RileyUpdate
from ui.components import articles as ui
from ui.components.i18n import _, fmt_number
from ui.components.text import md

__all__ = ["key_range", "pair_update", "query_update", "sentence_update"]

#: How many of a value's numbers the tables write out (the charts draw all of them).
SHOWN = 8


def numbers_table(rows: Sequence[tuple[str, np.ndarray]]) -> pd.DataFrame:
    """The first :data:`SHOWN` numbers of a few vectors, one row each, in the session's number format."""
    n = min(SHOWN, len(rows[0][1]))
    return pd.DataFrame(
        {
            _("vector"): [name for name, _v in rows],
            **{f"[{i}]": [fmt_number(float(v[i]), 2) for _name, v in rows] for i in range(n)},
        }
    ).set_index(_("vector"))


def vectors(r: RileyParts, rows: Sequence[tuple[str, np.ndarray]], key: str, title: str) -> None:
    """The vectors as lines over all their numbers, then the first few written out."""
    ui.show_chart(
        ca.mix_chart, list(rows), key=key, title=title,
        x_title=_("dimension"), y_title=_("value"), series_title=_("vector"),
    )  # fmt: skip
    st.table(numbers_table(rows))
    st.caption(_("The first {n} of {hd} numbers of each vector.").format(n=min(SHOWN, r.V.shape[1]), hd=r.V.shape[1]))


def key_range(r: RileyParts) -> None:
    """The article says unit keys give relevances between 0 and 1: what is true, measured on this head."""
    cos = r.cos_kk
    upper = cos[np.triu_indices(len(r.labels), k=1)]  # every pair once
    st.markdown(
        _(
            "The article's keys are unit vectors, and it says their dot products lie between 0 and 1. A dot "
            "product of unit vectors is the cosine of their angle: it lies between −1 and 1, and stays at 0 or "
            "above only for keys at most 90° apart, which vectors with no negative numbers always are. The "
            "article's claim needs such non-negative vectors. Made unit vectors, the model's keys have cosines "
            "from {low} to {high} in this head; {neg} of {pairs} pairs are below 0."
        ).format(
            low=fmt_number(float(upper.min()), 2),
            high=fmt_number(float(upper.max()), 2),
            neg=fmt_number(int((upper < 0).sum())),
            pairs=fmt_number(upper.size),
        )
    )


def pair_update(r: RileyParts, u: RileyUpdate) -> None:
    """Part 2, one pair, with the article's formula: rel = k_a · k_b, v_a' = rel · v_a + (1 − rel) · v_b."""
    a, b = md(r.labels[u.a]), md(r.labels[u.b])
    st.subheader(_("The article's update, carried to the end"))
    st.latex(r"\mathrm{rel} = \hat k_a \cdot \hat k_b,\qquad v_a' = \mathrm{rel}\; v_a + (1 - \mathrm{rel})\; v_b")
    st.markdown(
        _(
            "With the keys made unit vectors, rel(“{a}”, “{b}”) = {rel}, so new v_{a} = {rel} · v_{a} + {rest} · v_{b}."
        ).format(a=a, b=b, rel=fmt_number(u.relevance, 2), rest=fmt_number(1 - u.relevance, 2))
    )
    rows = [
        (f"v · {r.labels[u.a]}", r.V[u.a]),
        (f"v · {r.labels[u.b]}", r.V[u.b]),
        (_("new v · {a}").format(a=r.labels[u.a]), u.pair_value),
    ]
    vectors(
        r, rows, "ar_pair_update", _("Part 2, one pair: layer {layer}, head {head}").format(layer=r.layer, head=r.head)
    )
    st.caption(
        _(
            "By the formula, rel = 1 keeps v_a as it is and rel = 0 replaces it with v_b; the article says the "
            "opposite (“if the relevance is 1, v_Riley is completely replaced by v_dog”). A negative rel would "
            "push v_a away from v_b."
        )
    )


def weights_line(r: RileyParts, weights: np.ndarray) -> str:
    """“word” 0.12 · “word” 0.08 ...: the three largest weights, in the session's format."""
    top = topk_order(weights)[:3]  # ties in sentence order
    return ", ".join(
        _("“{word}” {weight}").format(word=md(r.labels[j]), weight=fmt_number(float(weights[j]), 2)) for j in top
    )


def sentence_update(r: RileyParts, u: RileyUpdate) -> None:
    """Part 2, the whole sentence: k_a · k_j for every word, divided by their sum, weighing every value."""
    a = md(r.labels[u.a])
    st.markdown(
        _(
            "Then the article relates “{a}” to every word at once, itself included: the relevances k_a · k_j, "
            "divided by their sum, weigh every value. The largest weights: {top}."
        ).format(a=a, top=weights_line(r, u.key_weights))
    )
    ui.show_chart(
        ca.steps_chart, r.labels, [(_("k̂_a·k̂_j ÷ sum"), u.key_weights, False)], key="ar_key_update",
        title=_("Part 2, the whole sentence: the weights of “{a}”").format(a=r.labels[u.a]), row_title=_("word j"),
    )  # fmt: skip
    rows = [(f"v · {r.labels[u.a]}", r.V[u.a]), (_("new v · {a}").format(a=r.labels[u.a]), u.key_value)]
    vectors(r, rows, "ar_key_value", _("Part 2, the whole sentence: the new value of “{a}”").format(a=r.labels[u.a]))


def query_update(r: RileyParts, u: RileyUpdate) -> None:
    """Part 3: q_a · k_j divided by their sum (the article), beside the softmax (attention), and the new value."""
    a = md(r.labels[u.a])
    total = float(r.qk_row_sums[u.a])
    st.subheader(_("The new value of “{a}”").format(a=r.labels[u.a]))
    st.markdown(
        _(
            "The article ends with Q @ K.T, each row divided by its sum, times V: the row of “{a}” in new_V. "
            "Attention divides by √d_k and takes a softmax instead; both are shown."
        ).format(a=a)
    )
    if np.isnan(u.query_weights).any():
        st.markdown(
            _("The relevances of “{a}” sum to about 0: the article's division cannot be done for it.").format(a=a)
        )
    elif total < 0:
        st.markdown(
            _(
                "The relevances q_a·k_j of “{a}” sum to {total}, a negative number: dividing by it flips every sign, "
                "so the words “{a}” relates to least get the largest weights ({top}). A softmax cannot do that."
            ).format(a=a, total=fmt_number(total, 2), top=weights_line(r, u.query_weights))
        )
    else:
        st.markdown(
            _("The relevances q_a·k_j of “{a}” sum to {total}; the largest weights: {top}.").format(
                a=a, total=fmt_number(total, 2), top=weights_line(r, u.query_weights)
            )
        )
    ui.show_chart(
        ca.steps_chart, r.labels,
        [(_("q_a·k_j ÷ sum"), u.query_weights, True), (_("softmax"), r.qk_softmax[u.a], False)],
        key="ar_query_update", title=_("Part 3: the weights of “{a}”").format(a=r.labels[u.a]), row_title=_("word j"),
    )  # fmt: skip
    rows = [
        (f"v · {r.labels[u.a]}", r.V[u.a]),
        (_("÷ sum (the article)"), u.query_value),
        (_("softmax (attention)"), u.softmax_value),
    ]
    vectors(r, rows, "ar_query_value", _("Part 3: the new value of “{a}”").format(a=r.labels[u.a]))
    st.caption(
        _(
            "The article's numpy line relevancias / relevancias.sum(axis=1) would divide column j by the sum of "
            "row j; its text means each row by its own sum (keepdims=True), which is what is computed here."
        )
    )
