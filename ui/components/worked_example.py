"""Article 001's numbers by hand, at the top of the walk-through page: a small editable calculator.

The article's figure scores "Thinking" against itself and "Machines": q·k = 112 and 96, ÷ √64 = 8
gives 14 and 12, the softmax 0.88 and 0.12, and z = 0.88·v₁ + 0.12·v₂. The boxes start at those
numbers; every step is computed by :func:`retrieval_attention.lessons.score_steps`. Widgets and
rendering only.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.lessons import (
    ARTICLE_DK,
    ARTICLE_SCORES,
    ARTICLE_WORDS,
    EXAMPLE_VALUES,
    ScoreSteps,
    score_steps,
)
from ui.components import articles as ui
from ui.components.i18n import _, fmt_number

__all__ = ["by_hand_section"]

#: A third word the student can add: its score and value (ours, like the other values).
THIRD = (100.0, (2.0, 2.0, 0.0))
#: What the boxes accept: wide enough for any example, small enough that nothing overflows.
SCORE_LIMIT, VALUE_LIMIT, DK_LIMIT = 10_000.0, 1_000.0, 4096
#: Decimals of the numbers in the tables.
DECIMALS = 4


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


def word_names(n: int) -> list[str]:
    """The rows' names: the article's two words, then the optional third."""
    return [*ARTICLE_WORDS, _("a third word")][:n]


def inputs_ui() -> tuple[list[float], int, list[list[float]]]:
    """The scores, d_k and the value vectors: widget values only."""
    _defaults()
    top = st.container(horizontal=True, gap="medium", vertical_alignment="bottom")
    with top:
        d_k = st.number_input(_("d_k (width of q and k)"), 1, DK_LIMIT, step=1, key="aw_calc_dk", width=200)
        three = st.toggle(_("Add a third word"), key="aw_calc_three")
        st.button(_("The article's numbers"), key="aw_calc_reset", on_click=reset, icon=":material/restart_alt:")
    n = 3 if three else 2
    names = word_names(n)
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
    return [float(s) for s in scores], int(d_k), [[float(x) for x in v] for v in V]


def v_name(j: int) -> str:
    """v₁, v₂, v₃: the article's names of the values (j from 0)."""
    return "v" + chr(0x2081 + j)


def vector_text(v: Sequence[float]) -> str:
    """(0.88; 0.36; 1.88) in the session's number format (a semicolon: Spanish writes 0,88 with a comma)."""
    return "(" + "; ".join(fmt_number(float(x), 2) for x in v) + ")"


def steps_table(s: ScoreSteps, names: list[str]) -> pd.DataFrame:
    """One row per word, one column per step, the numbers in the session's format."""
    return pd.DataFrame(
        {
            _("word j"): names,
            _("score q·k_j"): [fmt_number(x) for x in s.scores],
            _("scale: ÷ √{dk}").format(dk=fmt_number(s.d_k)): [fmt_number(x) for x in s.scaled],
            _("exp: e^(scaled − {top})").format(top=fmt_number(s.top)): [
                fmt_number(x, DECIMALS) for x in s.shifted_exp
            ],
            _("normalise: ÷ {total}").format(total=fmt_number(s.total, DECIMALS)): [
                fmt_number(x, DECIMALS) for x in s.weights
            ],
        }
    ).set_index(_("word j"))


def sum_table(s: ScoreSteps, names: list[str]) -> pd.DataFrame:
    """w_j · v_j for each word, then their sum z, in the session's number format."""
    rows = [f"{fmt_number(w, 2)} · {v_name(j)}" for j, w in enumerate(s.weights)] + ["z"]
    vectors = [*s.weighted, s.z]
    return pd.DataFrame(
        {_("row"): rows, **{f"[{i}]": [fmt_number(float(v[i]), DECIMALS) for v in vectors] for i in range(s.z.size)}}
    ).set_index(_("row"))


def by_hand_section() -> None:
    """The calculator: the article's numbers, editable, each step shown."""
    st.header(_("The article's numbers, by hand"))
    st.markdown(
        _(
            "Article 001's figure scores “Thinking” against itself and against “Machines”: q·k = 112 and 96, "
            "with d_k = 64. Change any number and follow each step: scale, exp, normalise, weighted sum."
        )
    )
    scores, d_k, V = inputs_ui()
    try:
        s = score_steps(scores, d_k, V)
    except RetrievalAttentionError as exc:
        ui.problem(exc)
        return
    names = word_names(len(scores))
    root = fmt_number(s.sqrt_dk)
    st.markdown(
        _(
            "**Scale.** Each score is divided by √{dk} = {root}. **Exp.** e to the power of each scaled score; "
            "the largest ({top}) is subtracted first, which changes no weight and keeps the numbers small. "
            "**Normalise.** Each exp is divided by their sum, {total}, so the weights add up to 1."
        ).format(dk=fmt_number(d_k), root=root, top=fmt_number(s.top), total=fmt_number(s.total, DECIMALS))
    )
    st.table(steps_table(s, names))
    weights = " + ".join(f"{fmt_number(w, 2)} · {v_name(j)}" for j, w in enumerate(s.weights))
    st.markdown(_("**Weighted sum.** z = {weights} = {z}").format(weights=weights, z=vector_text(s.z)))
    st.table(sum_table(s, names))
    st.caption(
        _(
            "The article draws v₁ and v₂ as boxes without numbers: the values here are ours, so that the sum can be "
            "followed. Its scores are illustrative too; below, the same steps run on a trained model."
        )
    )
