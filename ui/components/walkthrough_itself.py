"""Does the word weigh itself most? The walk-through page's answer, measured (article 001).

Article 001 says the word being encoded gets the highest softmax score; its numbers are
illustrative. In a trained head the token often gives more to [CLS] or [SEP], a resting place whose
value vectors are short. This section says so with the head's own numbers, sets [CLS] and [SEP]
aside on request (:func:`~retrieval_attention.inspector.without_special`) and points to the head
where the article's statement holds for the sentence, found by scanning every head
(:func:`~retrieval_attention.inspector.strongest_self_head`). Widgets and rendering only.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from retrieval_attention.charts import articles as ca
from retrieval_attention.inspector import TransformerInspector, Walkthrough, strongest_self_head, without_special
from ui.components import articles as ui
from ui.components.i18n import _, fmt_number
from ui.components.text import md

__all__ = ["itself_section"]


def go_to(layer: int, head: int) -> None:
    """Set the layer and head sliders (a button's callback)."""
    st.session_state["aw_layer"], st.session_state["aw_head"] = layer, head


def itself_section(w: Walkthrough, ins: TransformerInspector) -> None:
    """Does the word weigh itself most, as the article says? This head, [CLS]/[SEP] set aside, the head where it does."""
    st.subheader(_("Does the word weigh itself most?"))
    token, own = md(w.query_token), float(w.weights[w.token])
    best = int(w.weights.argmax())
    if best == w.token:
        st.markdown(
            _("Article 001 says the word being encoded gets the highest softmax score. Here it does: "
              "“{token}” gives itself {own}, more than any other token.").format(token=token, own=fmt_number(own, 2))
        )  # fmt: skip
    else:
        st.markdown(
            _(
                "Article 001 says the word being encoded gets the highest softmax score. Here “{token}” gives itself "
                "{own} and its most, {top}, to “{best}”. Both are true to their source: the article's numbers are "
                "illustrative, made up to show the arithmetic; this head was trained."
            ).format(
                token=token, own=fmt_number(own, 2), top=fmt_number(float(w.weights[best]), 2), best=md(w.tokens[best])
            )
        )
    special, lengths = w.special, w.value_lengths
    resting = float(w.weights[special].sum())
    rest, words = float(lengths[special].mean()), float(lengths[~special].mean())
    shorter = _(
        "A trained head often parks weight on [CLS] and [SEP]: a resting place. Here they take {share} of "
        "“{token}”'s weight, but their value vectors are shorter than the words' (‖v‖ {rest} against {words} "
        "on average), so they add less to z than their weight suggests."
    )
    not_shorter = _(
        "A trained head often parks weight on [CLS] and [SEP]: a resting place. Here they take {share} of "
        "“{token}”'s weight; their value vectors are not shorter than the words' here (‖v‖ {rest} against "
        "{words} on average)."
    )
    st.markdown(
        (shorter if rest < words else not_shorter).format(
            share=fmt_number(resting, 2), token=token, rest=fmt_number(rest, 2), words=fmt_number(words, 2)
        )
    )
    if st.toggle(_("Set [CLS] and [SEP] aside (the rest renormalised to sum 1)"), key="aw_hide_special"):
        hidden = without_special(w.weights, special)
        shown = np.where(special, np.nan, hidden)  # grey cells: set aside, not a weight of 0
        ui.show_chart(
            ca.steps_chart, w.tokens,
            [(_("softmax → w_j"), w.weights, False), (_("without [CLS], [SEP]"), shown, False)],
            key="aw_hidden", title=_("Query “{token}”, layer {layer}, head {head}").format(
                token=w.query_token, layer=w.layer, head=w.head
            ), row_title=_("key token j"),
        )  # fmt: skip
        if np.isnan(hidden).all():
            st.caption(
                _("This head gives all of “{token}”'s weight to [CLS] and [SEP]: nothing is left.").format(token=token)
            )
        else:
            words = int(np.nanargmax(np.where(special, np.nan, hidden)))
            st.markdown(
                _("Among the words, “{token}” gives itself {own}; its most, {top}, goes to “{best}”.").format(
                    token=token, own=fmt_number(float(hidden[w.token]), 2) if not special[w.token] else "—",
                    top=fmt_number(float(hidden[words]), 2), best=md(w.tokens[words]),
                )
            )  # fmt: skip
    found = strongest_self_head(ins, w.sentence, w.token)
    total = ins.n_layers * ins.n_heads
    if found is None:
        st.markdown(
            _("Measured in all {total} heads: in none of them does “{token}” give itself its largest weight.").format(
                total=fmt_number(total), token=token
            )
        )
        return
    st.markdown(
        _(
            "Measured in all {total} heads for this sentence: in {n} of them “{token}” gives itself its largest "
            "weight, as the article says. The strongest is layer {layer}, head {head}, with {weight}."
        ).format(
            total=fmt_number(total), n=fmt_number(found.heads), token=token, layer=found.layer, head=found.head,
            weight=fmt_number(found.weight, 2),
        )
    )  # fmt: skip
    if (found.layer, found.head) != (w.layer, w.head):
        st.button(
            _("Show layer {layer}, head {head}").format(layer=found.layer, head=found.head),
            key="aw_go_self", on_click=go_to, args=(found.layer, found.head), icon=":material/arrow_forward:",
        )  # fmt: skip
