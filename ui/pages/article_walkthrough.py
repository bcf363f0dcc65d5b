"""Page: one token, step by step (article 001, 注意力机制, "Self-Attention单字计算").

First the article's own numbers by hand (112 and 96, ÷ 8, softmax 0.88 / 0.12, z), editable
(:mod:`ui.components.worked_example`). Then the article's five steps for one query token, on all-MiniLM-L6-v2: q, k_j, v_j; q·k_j; ÷√d_k
and softmax; w_j·v_j; their sum z. Then the matrix form with this model's shapes beside the
article's (the original Transformer). Every number comes from
:func:`retrieval_attention.inspector.walkthrough`, which the tests check against the model's own
attention weights and head output.
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import _

st.title(_("One token, step by step"))
st.page_link("ui/pages/frame.py", label=_("See first: the frame the articles assume"), icon=":material/account_tree:")
st.markdown(
    _(
        "Article 001 computes self-attention for one word in five steps. First its own numbers, by hand; then "
        "the same five steps inside a real model, for the token you click."
    )
)

import pandas as pd  # noqa: E402  (the imports follow the title, on purpose)

from retrieval_attention.charts import articles as ca  # noqa: E402
from retrieval_attention.errors import RetrievalAttentionError  # noqa: E402
from retrieval_attention.inspector import (  # noqa: E402
    ORIGINAL_TRANSFORMER,
    MatrixShapes,
    TransformerInspector,
    Walkthrough,
    walkthrough,
    word_attention,
)
from retrieval_attention.lessons import RILEY_EN, RILEY_ES  # noqa: E402
from ui.components import articles as ui  # noqa: E402
from ui.components.i18n import N_, fmt_number  # noqa: E402
from ui.components.text import md  # noqa: E402
from ui.components.walkthrough_itself import itself_section  # noqa: E402
from ui.components.worked_example import by_hand_section  # noqa: E402

#: The article's own two words.
THINKING = "Thinking Machines"
#: How many of the head's 32 numbers the vector views show (the length is always stated).
DIMS = 8
#: The matrix form's stage names (:attr:`MatrixShapes.stages`) that have words in them, to translate.
STAGE_NAMES = {
    "Q, K, V (per head)": N_("Q, K, V (per head)"),
    "heads = weights V": N_("heads = weights V"),
}


def examples() -> dict[str, str]:
    """The example pills: the article's words first."""
    return {
        _("Thinking Machines (article 001)"): THINKING,
        _("Riley (English)"): RILEY_EN,
        _("Riley (Spanish)"): RILEY_ES,
        _("“it” = the animal?"): "The animal didn't cross the street because it was too tired",
        "中文: 中国人": "中国人",
    }


def controls_ui(ins: TransformerInspector) -> tuple[str, int, int]:
    """The sentence, the layer and the head: widget values only."""
    sentence = ui.sentence_ui("aw_sentence", THINKING, examples())
    layer, head = ui.layer_head_ui("aw", ins.n_layers, ins.n_heads)
    return sentence, layer, head


def default_token(tokens: tuple[str, ...]) -> int:
    """The token picked first: "riley" when the sentence has it, else the first word after [CLS]."""
    return tokens.index("riley") if "riley" in tokens else min(1, len(tokens) - 1)


def dims(w: Walkthrough) -> list[str]:
    """Column labels of the vector views: the first dimensions of the head, numbered from 0."""
    return [str(i) for i in range(min(DIMS, w.head_dim))]


def vectors_section(w: Walkthrough) -> None:
    """Step 1: the token's query, and every token's key and value, for this head."""
    st.header(_("1 · A query, a key and a value for every token"))
    a, b = w.columns
    st.markdown(
        _(
            "Each token enters layer {layer} as a vector x of {d} numbers. Multiplying it by the trained matrices "
            "W_Q, W_K and W_V gives its query, key and value; head {head} keeps {hd} numbers of each "
            "(columns {a}–{b} of the {d})."
        ).format(layer=w.layer, d=w.x.shape[1], head=w.head, hd=w.head_dim, a=a, b=b - 1)
    )
    st.latex(r"q_i = x_i W_Q,\quad k_j = x_j W_K,\quad v_j = x_j W_V")
    cols = dims(w)
    n = len(cols)
    dim_title = _("dimension")
    q_title = _("q of “{token}”").format(token=w.query_token)
    show = [
        (q_title, w.q[None, :n], [f"q · {w.query_token}"]),
        (_("k_j: every token's key"), w.K[:, :n], list(w.tokens)),
        (_("v_j: every token's value"), w.V[:, :n], list(w.tokens)),
    ]
    top = max(float(abs(w.K[:, :n]).max()), float(abs(w.q[:n]).max()), 1e-6)
    cell = ca.row_height(len(w.tokens), most=40, total=560)
    places = [st.container(), *st.columns(2, gap="medium")]
    for k, ((title, M, rows), place) in enumerate(zip(show, places)):
        with place:
            ui.show_chart(
                ca.matrix_heatmap, M, rows, cols, key=f"aw_vec_{k}", title=title, col_title=dim_title,
                value_title=_("value"), signed=True, numbers=True, cell=max(cell, 36) if k == 0 else cell,
                cell_width=56, legend=False, limit=None if k == 2 else top,
            )  # fmt: skip
    st.caption(
        _("The first {n} of {hd} numbers of each vector (d_k = {hd} in this model; 64 in the article).").format(
            n=n, hd=w.head_dim
        )
    )


def scores_section(w: Walkthrough, sentence: str, words: bool, ins: TransformerInspector) -> None:
    """Steps 2 and 3: q·k_j for every j, divided by √d_k, then the softmax."""
    title = _("Query “{token}”, layer {layer}, head {head}").format(token=w.query_token, layer=w.layer, head=w.head)
    score = (_("q·k_j"), w.scores, True)
    st.header(_("2 · Score every token: q·k_j"))
    st.markdown(
        _(
            "The score of token j is the dot product of “{token}”'s query with token j's key: one number per token."
        ).format(token=md(w.query_token))
    )
    ui.show_chart(ca.steps_chart, w.tokens, [score], key="aw_scores", title=title, row_title=_("key token j"))
    st.header(_("3 · Divide by √d_k, then softmax"))
    root = fmt_number(w.sqrt_dk, 2)
    st.markdown(
        _(
            "Here d_k = {hd}, so the scores are divided by √{hd} ≈ {root}. The article divides by 8 because "
            "the original Transformer has d_k = 64 (√64 = 8). The softmax then turns the scaled scores into "
            "positive weights w_j that sum to 1."
        ).format(hd=w.head_dim, root=root)
    )
    st.latex(r"w_j = \mathrm{softmax}_j\!\left(\frac{q \cdot k_j}{\sqrt{d_k}}\right),\quad \sum_j w_j = 1")
    columns = [score, (_("÷ √{hd}").format(hd=w.head_dim), w.scaled, True), (_("softmax → w_j"), w.weights, False)]
    ui.show_chart(ca.steps_chart, w.tokens, columns, key="aw_steps", title=title, row_title=_("key token j"))
    best = int(w.weights.argmax())
    st.markdown(
        _("“{token}” gives the most weight to “{best}”: {weight}. Σ w_j = {total}.").format(
            token=md(w.query_token),
            best=md(w.tokens[best]),
            weight=fmt_number(float(w.weights[best]), 2),
            total=fmt_number(float(w.weights.sum()), 3),
        )
    )
    if words:
        word_weights(w, sentence, ins)
    itself_section(w, ins)


def word_weights(w: Walkthrough, sentence: str, ins: TransformerInspector) -> None:
    """The same row merged to words: the word that holds the query token, its weight on every word."""
    if not ui.words_line(w.tokens):
        return
    wa = word_attention(ins, sentence, w.layer)
    a = next(i for i, g in enumerate(wa.groups) if w.token in g)
    ui.show_chart(
        ca.steps_chart,
        wa.words,
        [(_("w per word"), wa.weights[w.head, a], False)],
        key="aw_words",
        title=_("Merged to words: the row of “{word}”").format(word=wa.words[a]),
        row_title=_("key word"),
    )


def sum_section(w: Walkthrough) -> None:
    """Steps 4 and 5: every value times its weight, then the sum z."""
    st.header(_("4 · Weigh each value, 5 · add them up"))
    st.markdown(
        _(
            "Each value vector v_j is multiplied by its weight w_j: tokens with a small weight almost vanish. "
            "Their sum z is what this head outputs for “{token}”."
        ).format(token=md(w.query_token))
    )
    st.latex(r"z = \sum_j w_j\, v_j")
    cols = dims(w)
    n = len(cols)
    ui.show_chart(
        ca.vectors_and_sum_chart, w.weighted_values[:, :n], w.z[:n], w.tokens, cols, key="aw_sum",
        title=_("w_j · v_j (first {n} of {hd} numbers)").format(n=n, hd=w.head_dim),
        sum_label=_("z = Σ w_j·v_j"), sum_row="z", row_title=_("token j"), col_title=_("dimension"), value_title=_("value"),
    )  # fmt: skip
    a, b = w.columns
    st.caption(
        _(
            "z has {hd} numbers; it becomes columns {a}–{b} of the layer's output before W_O. These are the model's "
            "own numbers: the tests check the weights against its attention and z against the head's output."
        ).format(hd=w.head_dim, a=a, b=b - 1)
    )


def shape_text(shape: tuple[int, ...]) -> str:
    """(12, 24, 32) -> "12 × 24 × 32"."""
    return " × ".join(fmt_number(s) for s in shape)


def matrix_section(shapes: MatrixShapes, model: str) -> None:
    """The matrix form: every token at once, this model's shapes beside the article's."""
    st.header(_("The matrix form: every token at once"))
    st.markdown(
        _(
            "In practice all tokens are computed together: the rows of X are the tokens. Each of the {h} heads "
            "runs the five steps on its own {hd} columns; their outputs are put side by side and W_O mixes them."
        ).format(h=shapes.n_heads, hd=shapes.head_dim)
    )
    st.latex(r"Z = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V")
    ours = _("this model, this sentence (T = {T})").format(T=shapes.n_tokens)
    theirs = _("the article: original Transformer, “Thinking Machines” (T = 2)")
    table = pd.DataFrame(
        {
            _("matrix"): [_(STAGE_NAMES[name]) if name in STAGE_NAMES else name for name, _shape in shapes.stages],
            ours: [shape_text(s) for _name, s in shapes.stages],
            theirs: [shape_text(s) for _name, s in ORIGINAL_TRANSFORMER.stages],
        }
    )
    st.table(table.set_index(_("matrix")))
    st.caption(
        _(
            "The article's embeddings have {d0} numbers and its q, k, v {hd0} ({h0} heads); {model} has "
            "{d} and {hd} ({h} heads). Same steps, different sizes."
        ).format(
            model=model,
            d0=ORIGINAL_TRANSFORMER.d_model,
            hd0=ORIGINAL_TRANSFORMER.head_dim,
            h0=ORIGINAL_TRANSFORMER.n_heads,
            d=shapes.d_model,
            hd=shapes.head_dim,
            h=shapes.n_heads,
        )
    )


def main() -> None:
    ui.follows(
        ("001",),
        _(
            "Notice: one token's output is a weighted average of every token's value, and the weights come from "
            "its query against their keys."
        ),
    )
    by_hand_section()
    st.header(_("The same steps in a trained model"))
    ins = ui.get_inspector()
    sentence, layer, head = controls_ui(ins)
    if not sentence:
        st.info(_("Type a sentence to follow its steps."))
        return
    try:
        first = walkthrough(ins, sentence, layer, head, default_token(tuple(ins.tokens(sentence))))
    except RetrievalAttentionError as exc:
        ui.problem(exc, sentence)
        return
    st.caption(_("[CLS] and [SEP] are tokens the model adds at the start and the end of every sentence."))
    token = ui.token_chips(first.tokens, "aw_token", default_token(first.tokens))
    words = ui.words_toggle("aw_words")
    try:
        w = first if token == first.token else walkthrough(ins, sentence, layer, head, token)
    except RetrievalAttentionError as exc:
        ui.problem(exc, sentence)
        return
    vectors_section(w)
    scores_section(w, sentence, words, ins)
    sum_section(w)
    matrix_section(w.shapes, ins.name)


main()
