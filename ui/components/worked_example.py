"""The boxes of article 001's hand calculation, at the top of the walk-through page.

The article's figure scores "Thinking" against itself and "Machines": q·k = 112 and 96, ÷ √64 = 8
gives 14 and 12, the softmax 0.88 and 0.12, and z = 0.88·v₁ + 0.12·v₂. The boxes start at those
numbers (and our values); what they show is built by
:func:`retrieval_attention.views.walkthrough.hand_section`. Widgets only.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.articles import ARTICLE_DK, ARTICLE_SCORES, EXAMPLE_VALUES
from retrieval_attention.views.walkthrough_article import THIRD, v_name, word_names
from ui.components.i18n import _, current_lang

__all__ = ["inputs_ui"]

#: What the boxes accept: wide enough for any example, small enough that nothing overflows.
SCORE_LIMIT, VALUE_LIMIT, DK_LIMIT = 10_000.0, 1_000.0, 4096


def _defaults() -> None:
    """The boxes start with the article's numbers (and ours for the values)."""
    st.session_state.setdefault("aw_calc_dk", ARTICLE_DK)
    rows = [*zip(ARTICLE_SCORES, EXAMPLE_VALUES), THIRD]
    for j, (score, v) in enumerate(rows):
        st.session_state.setdefault(f"aw_calc_s{j}", score)
        for i, x in enumerate(v):
            st.session_state.setdefault(f"aw_calc_v{j}_{i}", x)


def reset() -> None:
    """Back to the article's numbers (a button's callback)."""
    for key in [k for k in st.session_state if str(k).startswith("aw_calc_")]:
        del st.session_state[key]
    _defaults()


def inputs_ui() -> tuple[tuple[float, ...], int, tuple[tuple[float, ...], ...]]:
    """The scores, d_k and the value vectors: widget values only."""
    _defaults()
    top = st.container(horizontal=True, gap="medium", vertical_alignment="bottom")
    with top:
        d_k = st.number_input(_("d_k (width of q and k)"), 1, DK_LIMIT, step=1, key="aw_calc_dk", width=200)
        three = st.toggle(_("Add a third word"), key="aw_calc_three")
        st.button(_("The article's numbers"), key="aw_calc_reset", on_click=reset, icon=":material/restart_alt:")
    n = 3 if three else 2
    names = word_names(n, current_lang())
    scores, V = [], []
    for j in range(n):
        cols = st.columns([2, 2, 1.4, 1.4, 1.4], vertical_alignment="bottom")
        cols[0].markdown(f"**{names[j]}**" + (" " + _("(the query's own word)") if j == 0 else ""))
        scores.append(
            cols[1].number_input(
                _("q·k with {word}").format(word=names[j]), -SCORE_LIMIT, SCORE_LIMIT, step=1.0, format="%g",
                key=f"aw_calc_s{j}",
            )
        )  # fmt: skip
        V.append(
            [
                cols[2 + i].number_input(
                    f"{v_name(j)}[{i}]", -VALUE_LIMIT, VALUE_LIMIT, step=0.5, format="%g", key=f"aw_calc_v{j}_{i}"
                )
                for i in range(len(EXAMPLE_VALUES[0]))
            ]
        )
    return tuple(float(s) for s in scores), int(d_k), tuple(tuple(float(x) for x in v) for v in V)
