"""Page: why three vectors per word (articles 002 and 004).

Two pictures: the tokens' x, q and k in 2-D (our own PCA, :func:`retrieval_attention.inspector.projection_picture`),
showing that W_Q and W_K send the same word to different places; and self-attention as a set operation
(:func:`retrieval_attention.inspector.permutation_check`): without the position embeddings,
shuffling the words only shuffles the weights; with them, the weights change.
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import _

st.title(_("Why three vectors per word"))
st.markdown(
    _(
        "Articles 002 and 004 explain why each word gets a query, a key and a value, and why word order "
        "has to be added. Here are the model's own projections, and the same sentence shuffled."
    )
)

import numpy as np  # noqa: E402  (the imports follow the title, on purpose)

from retrieval_attention.charts import articles as ca  # noqa: E402
from retrieval_attention.errors import RetrievalAttentionError  # noqa: E402
from retrieval_attention.inspector import (  # noqa: E402
    PermutationCheck,
    TransformerInspector,
    merge_weights,
    permutation_check,
    projection_picture,
    word_groups,
    word_labels,
)
from retrieval_attention.lessons import RILEY_EN, RILEY_ES  # noqa: E402
from ui.components import articles as ui  # noqa: E402
from ui.components.i18n import current_lang, fmt_number, fmt_percent  # noqa: E402
from ui.components.text import md  # noqa: E402

SHORT = {"en": "the dog chased the cat", "es": "el perro persigue al gato"}


def examples() -> dict[str, str]:
    """Example sentences for both sections."""
    return {
        _("Riley (English)"): RILEY_EN,
        _("Riley (Spanish)"): RILEY_ES,
        SHORT["en"]: SHORT["en"],
        SHORT["es"]: SHORT["es"],
    }


def projections_section(ins: TransformerInspector) -> None:
    """x on its own PCA; one head's q and k on one shared PCA."""
    st.header(_("The same word, sent to two places"))
    ui.follows(
        ("002", "004"),
        _("Notice: W_Q and W_K send the same word to different places: what a word looks for is not what it offers."),
    )
    sentence = ui.sentence_ui("ap_sentence", RILEY_ES if current_lang() == "es" else RILEY_EN, examples())
    layer, head = ui.layer_head_ui("ap", ins.n_layers, ins.n_heads)
    if not sentence:
        st.info(_("Type a sentence to see its vectors."))
        return
    try:
        p = projection_picture(ins, sentence, layer, head)
    except RetrievalAttentionError as exc:
        ui.problem(exc, sentence)
        return
    ui.show_chart(
        ca.projection_chart, p.tokens, p.x_2d, p.q_2d, p.k_2d, key="ap_pca",
        x_title=_("x entering layer {layer} ({d} numbers): {share} of the spread").format(
            layer=layer, d=ins.d_model, share=fmt_percent(float(p.x_explained.sum()))
        ),
        qk_title=_("q and k of head {head} ({hd} numbers), one shared picture: {share}").format(
            head=head, hd=ins.head_dim, share=fmt_percent(float(p.qk_explained.sum()))
        ),
        x_name="x", q_name=_("q (query)"), k_name=_("k (key)"), series_title=_("vector"),
        axis_titles=(_("component 1"), _("component 2")),
    )  # fmt: skip
    st.caption(
        _(
            "A 2-D PCA of our own (numpy SVD): x lives in {d} dimensions and q, k in {hd}, so x has its own axes; "
            "q and k share theirs, and a dashed line joins each token's q to its k."
        ).format(d=ins.d_model, hd=ins.head_dim)
    )
    st.markdown(
        _("Cosine of a token's own q and k, on average: {cos} (1 would mean W_Q and W_K agree on it).").format(
            cos=fmt_number(float(np.mean(p.self_cosine)), 2)
        )
    )
    st.markdown(
        _(
            "And v? A third projection, W_V: what a token hands back once it is matched. What you match on "
            "(the key, like a video's title) need not be what you return (the value, the video)."
        )
    )


def shuffle_ui() -> tuple[str, bool, int]:
    """The sentence to shuffle, the word toggle and the shuffle's seed: widget values only."""
    sentence = ui.sentence_ui("ap_shuffle_sentence", SHORT.get(current_lang(), SHORT["en"]), examples(),
                              label=_("Sentence to shuffle"))  # fmt: skip
    st.session_state.setdefault("ap_seed", 0)
    row = st.container(horizontal=True, gap="medium", vertical_alignment="center")
    with row:
        words = ui.words_toggle("ap_words")
        if st.button(_("Shuffle again"), key="ap_shuffle", icon=":material/shuffle:"):
            st.session_state["ap_seed"] += 1
    return sentence, words, int(st.session_state["ap_seed"])


def merged(c: PermutationCheck, weights: np.ndarray, words: bool) -> tuple[np.ndarray, tuple[str, ...]]:
    """(T, T) weights in the shuffled order and their labels, merged to words when asked."""
    if not words:
        return weights, c.shuffled_tokens
    groups = word_groups(c.shuffled_tokens)
    return merge_weights(weights, groups), word_labels(c.shuffled_tokens, groups)


def shuffle_section(ins: TransformerInspector) -> None:
    """The same sentence with its words shuffled, without and with the position embeddings."""
    st.header(_("Shuffle the words"))
    ui.follows(
        ("004",),
        _(
            "Notice: without position embeddings, shuffling the words only shuffles the weights (self-attention "
            "is a set operation); with them, the weights change."
        ),
    )
    sentence, words, seed = shuffle_ui()
    layer, head = int(st.session_state.get("ap_layer", 0)), int(st.session_state.get("ap_head", 0))
    if not sentence:
        st.info(_("Type a sentence to shuffle."))
        return
    try:
        c = permutation_check(ins, sentence, layer, seed=seed)
    except RetrievalAttentionError as exc:
        ui.problem(exc, sentence)
        return
    if len(c.words) < 4:
        st.info(_("Type at least two words to shuffle."))
        return
    shuffled = " ".join(md(c.words[i]) for i in c.word_order)
    st.markdown(_("**Shuffled:** {words}").format(words=shuffled))
    st.caption(_("Layer {layer}, head {head} (the sliders above).").format(layer=layer, head=head))
    a, b = st.columns(2, gap="large")
    a.metric(
        _("without positions: largest difference"),
        ui.fmt_small(c.max_diff_without, 2),
        help=_("max |shuffled sentence's weights − the original's, rearranged| over every head"),
    )
    b.metric(
        _("with positions: largest difference"),
        fmt_number(c.max_diff_with, 2),
        help=_("the same, with the position embeddings; over every head of the layer"),
    )
    rows = []
    for title, original, shuffled_w, key in (
        (_("Without position embeddings"), c.without_positions, c.without_positions_shuffled, "nopos"),
        (_("With position embeddings (as the model runs)"), c.with_positions, c.with_positions_shuffled, "pos"),
    ):
        M1, labels = merged(c, c.permuted(original)[head], words)
        M2, _labels = merged(c, shuffled_w[head], words)
        rows.append((title, key, labels, M1, M2, M2 - M1))
    limit = max(float(np.abs(rows[1][5]).max()), 1e-6)  # this head's largest change with positions
    for title, key, labels, M1, M2, diff in rows:
        st.subheader(title)
        cell = ca.row_height(len(labels), most=36, least=10, total=300)
        charts = [
            (_("the original's weights, rearranged"), M1, False),
            (_("the shuffled sentence's weights"), M2, False),
            (_("difference: shuffled − rearranged"), diff, True),
        ]
        for k, (place, (name, M, signed)) in enumerate(zip(st.columns(3, gap="small"), charts)):
            with place:
                ui.show_chart(
                    ca.matrix_heatmap, M, labels, labels, key=f"ap_{key}_{k}", title=name, row_title=_("query"),
                    col_title=_("key"), value_title=_("weight"), cell=cell, signed=signed,
                    limit=limit if signed else None,
                )  # fmt: skip
    st.markdown(
        _(
            "Without positions the two pictures are the same and the difference is blank: each word sees the same "
            "words, wherever they stand. The model adds a position vector to each token at the start; that is its "
            "only sense of order. Both differences share one colour scale; try other heads, some change much more."
        )
    )


def main() -> None:
    ins = ui.get_inspector()
    projections_section(ins)
    shuffle_section(ins)


main()
