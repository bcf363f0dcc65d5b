"""The "Inside a transformer" page's head grid: every head of a layer named by its measured pattern,
and article 001's pronoun question answered by measurement, with buttons that jump to those heads.

Widgets and rendering only: the scores and names are :mod:`retrieval_attention.inspector.patterns`.
"""

from __future__ import annotations

import zlib

import streamlit as st

from retrieval_attention.charts import transformer as ct
from retrieval_attention.inspector import (
    PATTERN_LABELS,
    LayerAttention,
    TransformerInspector,
    find_pronoun,
    head_patterns,
    link,
    strongest_antecedent,
)
from ui.components import export
from ui.components.charts import show_chart
from ui.components.i18n import _, chart_labels, fmt_number
from ui.components.text import md
from ui.components.transformer import MAX_TOKENS, chart_text

#: The grid's element key (its click selection is ``st.session_state[GRID_KEY]``).
GRID_KEY = "tr_heads_grid"


def heads_section(ins: TransformerInspector, sentence: str, att: LayerAttention, head: int) -> None:
    """All heads of the layer as small multiples, each named by its measured pattern."""
    n = min(len(att.query_tokens), MAX_TOKENS)
    st.markdown(
        _(
            "{n} heads each run their own softmax(QKᵀ/√d)V on its own 32-number slice of q, k and v, so each head "
            "can look for something different (the next word, the previous one, [SEP] as a resting place)."
        ).format(n=att.n_heads)
    )
    patterns = head_patterns(att.weights, ins.special_mask(sentence))  # measured on every token, not the shown ones
    labels = chart_labels(PATTERN_LABELS)
    names = [labels[p.name] + ("" if p.score is None else " " + fmt_number(p.score, 2)) for p in patterns]
    show_chart(
        ct.heads_grid,
        att.weights[:, :n, :n],
        att.query_tokens[:n],
        att.key_tokens[:n],
        selected=head,
        names=names,
        text=chart_text(),
        key=GRID_KEY,
        width="content",
        height="content",
        on_select=_picked,
    )
    st.caption(_("Click a head to show it large above (the Head slider follows)."))
    legend = _(
        "Each head's name is measured on this sentence, with its score (0 to 1): **previous**, **next** and "
        "**itself** are the average weight a token puts on the token before it, after it and on itself; "
        "**[CLS]/[SEP]** is the weight resting on the special tokens; a head is named by the one that takes more "
        "than half. **broad** means nearly even rows (entropy ÷ log T above 0.8); **mixed**, none of these."
    )
    st.caption(legend)
    export.note(export.plain(legend))
    head_title = chart_text()["head"]
    export.note(" · ".join(f"{head_title.format(h=p.head)}: {name}" for p, name in zip(patterns, names)))
    pronoun_section(ins, sentence, att.layer, head)


def _picked() -> None:
    """A click on the grid: show that head large (a callback, so before the Head slider is drawn)."""
    state = st.session_state.get(GRID_KEY)
    points = ((state or {}).get("selection") or {}).get(ct.HEAD_PICK) or []
    if points and "order" in points[0]:
        st.session_state["tr_head"] = int(points[0]["order"])


def _jump(layer: int, head: int) -> None:
    """Show another head: set the layer and head sliders (a callback, so before they are drawn)."""
    st.session_state.update(tr_layer=layer, tr_head=head)


def pronoun_section(ins: TransformerInspector, sentence: str, layer: int, head: int) -> None:
    """Article 001's question, measured: which heads send a pronoun's query to its noun."""
    tokens = ins.tokens(sentence)
    special = ins.special_mask(sentence)
    words = [i for i, t in enumerate(tokens) if not special[i]]
    if len(words) < 2:
        return
    st.markdown(
        _(
            "**Which head finds what “it” refers to?** Article 001 asks this of “The animal didn't cross the "
            "street because it was too tired” (the example “it = animal?”). Pick a word and the word it may "
            "refer to: the heads are ranked by the weight that word's query puts on it."
        )
    )
    W = ins.all_weights(sentence)  # (n_layers, h, T, T) the model's own self-attention
    pronoun = find_pronoun(tokens)
    salt = zlib.crc32(sentence.encode("utf-8"))  # new choices for a new sentence
    a, b = st.columns(2)
    query = a.selectbox(
        _("Word (query)"),
        words,
        index=words.index(pronoun) if pronoun is not None else len(words) - 1,
        format_func=lambda i: f"{i}: {tokens[i]}",
        key=f"tr_link_query_{salt}",
    )
    found = strongest_antecedent(W, tokens, special, query)
    keys = [i for i in words if i != query]
    key = b.selectbox(
        _("Refers to (key)"),
        keys,
        index=keys.index(found) if found is not None else 0,
        format_func=lambda i: f"{i}: {tokens[i]}",
        key=f"tr_link_key_{salt}_{query}",
    )
    linked = link(W, query, key)
    (l1, h1, w1), (l2, h2, w2) = linked.top(2)
    text = _(
        "“{q}” → “{k}”: layer {l1}, head {h1} puts **{w1}** of the query's weight there, layer {l2}, head {h2} "
        "**{w2}**; the head shown above (layer {layer}, head {head}) **{w}**."
    )
    values = {
        "l1": l1, "h1": h1, "w1": fmt_number(w1, 2), "l2": l2, "h2": h2, "w2": fmt_number(w2, 2),
        "layer": layer, "head": head, "w": fmt_number(float(linked.weights[layer, head]), 2),
    }  # fmt: skip
    st.markdown(text.format(q=md(tokens[query]), k=md(tokens[key]), **values))
    export.note(export.plain(text).format(q=tokens[query], k=tokens[key], **values))
    if found is not None and key == found:
        st.caption(
            _(
                "“{k}” was found by measurement: of the words before “{q}” (except the one right before it, "
                "which a previous-token head always takes), it is the one a head weights most."
            ).format(k=md(tokens[key]), q=md(tokens[query]))
        )
    row = st.container(horizontal=True)
    for la, hd, _w in linked.top(2):
        row.button(
            _("Show layer {layer}, head {head}").format(layer=la, head=hd),
            key=f"tr_jump_{la}_{hd}",
            on_click=_jump,
            args=(la, hd),
            disabled=(la, hd) == (layer, head),
        )
