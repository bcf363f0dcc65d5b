"""Page: Bahdanau in Q/K/V terms, and 我爱吃苹果 aligned (articles 000 and 001).

Article 000 asks where queries, keys and values are in Bahdanau's e_ij = a(s_{i−1}, h_j),
c_i = Σ_j α_ij h_j; article 001 aligns 我爱吃苹果 with "I love eating apples". The alignment here
is :func:`retrieval_attention.lessons.align`: each word embedded alone by multilingual-e5-small,
compared by cosine, softmax at T = 0.05. Not a trained translation model's attention, and the
page says so.
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import _

st.title(_("Bahdanau, and 我爱吃苹果 aligned"))
st.page_link("ui/pages/frame.py", label=_("See first: the frame the articles assume"), icon=":material/account_tree:")
st.markdown(
    _(
        "Articles 000 and 001 start from translation: each English word looks back at the Chinese words. "
        "Here that attention is written with queries, keys and values, and computed on real word vectors."
    )
)

import pandas as pd  # noqa: E402  (the imports follow the title, on purpose)

from retrieval_attention.charts import articles as ca  # noqa: E402
from retrieval_attention.errors import RetrievalAttentionError  # noqa: E402
from retrieval_attention.lessons import ALIGN_EN, ALIGN_ES, ALIGN_ZH, Alignment, align  # noqa: E402
from ui.components import articles as ui  # noqa: E402
from ui.components.i18n import current_lang, fmt_number  # noqa: E402
from ui.components.text import md  # noqa: E402

SCORING_PAGE = "ui/pages/lesson_scoring.py"
QUERY_KEY, KEYS_KEY = "al_queries", "al_keys"
SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def examples() -> dict[str, tuple[str, str]]:
    """Sentence pairs (queries, keys): the article's first."""
    return {
        _("English → 中文 (article 001)"): (ALIGN_EN, ALIGN_ZH),
        _("English → 我爱吃苹果, one character per word"): (ALIGN_EN, "我爱吃苹果"),
        _("Spanish → 中文"): (ALIGN_ES, ALIGN_ZH),
        _("English → Spanish"): (ALIGN_EN, ALIGN_ES),
    }


@st.cache_resource(show_spinner=False, max_entries=64)
def aligned(queries: str, keys: str) -> Alignment:
    """The alignment of one sentence pair, once per server (the encoder is loaded once per process)."""
    return align(queries, keys)


def bahdanau_section() -> None:
    """Article 000's question answered in its own symbols."""
    st.header(_("Bahdanau's attention in Q/K/V terms"))
    ui.follows(
        ("000",),
        _(
            "Notice: the query is the decoder's state s_{i−1}; the encoder's states h_j are the keys and, "
            "again, the values."
        ),
    )
    st.latex(
        r"e_{ij} = a(s_{i-1}, h_j),\qquad \alpha_{ij} = \frac{\exp(e_{ij})}{\sum_k \exp(e_{ik})},"
        r"\qquad c_i = \sum_j \alpha_{ij}\, h_j"
    )
    role, paper, qkv, here = _("role"), _("in Bahdanau's paper"), _("in Q/K/V terms"), _("on this page")
    st.table(
        pd.DataFrame(
            {
                role: [_("query"), _("keys"), _("values"), _("score")],
                paper: [
                    _("s_{i−1}: the decoder's state before it writes word i"),
                    _("h_j: the encoder's state for source word j"),
                    _("h_j again"),
                    _("a(s, h): a small trained network"),
                ],
                qkv: ["q", "k_j", "v_j", "q·k_j"],
                here: [
                    _("word i of the first sentence"),
                    _("word j of the second sentence"),
                    _("the same vectors h_j"),
                    _("cosine(q, h_j) / T"),
                ],
            }
        ).set_index(role)
    )
    st.markdown(
        _(
            "Article 000's point about cost: the network a(s, h) runs once per pair, m · n times; projecting first, "
            "e_ij = f(s_i)·g(h_j), needs one matrix product."
        )
    )
    st.page_link(SCORING_PAGE, label=_("The scoring page measures the difference"), icon=":material/functions:")


def pair_ui() -> tuple[str, str]:
    """The two sentences (queries, keys) with example pairs: widget values only."""
    st.session_state.setdefault(QUERY_KEY, ALIGN_EN)
    st.session_state.setdefault(KEYS_KEY, ALIGN_ZH)
    left, right = st.columns(2, gap="large")
    left.text_input(_("Queries: the sentence being written (one row per word)"), key=QUERY_KEY, max_chars=400)
    right.text_input(_("Keys and values: the sentence being read (one column per word)"), key=KEYS_KEY, max_chars=400)
    ui.example_pills(examples(), (QUERY_KEY, KEYS_KEY), "al_examples")
    st.caption(
        _(
            "Words are split at spaces or “/”, punctuation dropped. Chinese with no spaces is read one character "
            "per word, as article 001 does (我 爱 吃 苹 果); put spaces in to keep 苹果 together."
        )
    )
    return str(st.session_state[QUERY_KEY]).strip(), str(st.session_state[KEYS_KEY]).strip()


def context_line(al: Alignment, i: int) -> None:
    """c_i = Σ_j α_ij h_j written out with the numbers, as article 001 writes c_1."""
    n = str(i + 1).translate(SUBSCRIPTS)
    terms = " + ".join(f"{fmt_number(a, 2)} · h({md(w)})" for a, w in al.context_terms(i))
    st.markdown(f"**c{n}** = {terms}  →  **{md(al.query_words[i])}**")


def alignment_section() -> None:
    """The translation example: the alignment matrix with numbers, and one context vector written out."""
    st.header(_("我爱吃苹果 aligned with “I love eating apples”"))
    ui.follows(
        ("001",),
        _(
            "Notice: each row is one word's weights over the other sentence's words, summing to 1; "
            "the largest usually sits on the word with the same meaning."
        ),
    )
    queries, keys = pair_ui()
    if not queries or not keys:
        st.info(_("Type a sentence in both boxes."))
        return
    st.warning(
        _(
            "These are a multilingual encoder's word vectors (multilingual-e5-small, each word embedded on its own) "
            "compared by cosine, not a trained translation model's attention."
        ),
        icon=":material/info:",
    )
    try:
        with st.spinner(_("Embedding the words with multilingual-e5-small…")):
            al = aligned(queries, keys)
    except RetrievalAttentionError as exc:
        ui.problem(exc, queries if len(queries) > len(keys) else keys)
        return
    best = [(i, al.best(i)) for i in range(len(al.query_words))]
    n, m = len(al.query_words), len(al.key_words)
    ui.show_chart(
        ca.matrix_heatmap, al.weights, al.query_words, al.key_words, key="al_heatmap",
        title=_("Alignment weights α_ij"),
        subtitle=_("rows sum to 1; the largest weight of each row is outlined"),
        row_title=_("query word i"), col_title=_("key word j"), value_title="α",
        cell=ca.row_height(max(n, m), most=64, least=20, total=520), highlight=best,
    )  # fmt: skip
    low, high = float(al.scores.min()), float(al.scores.max())
    st.caption(
        _(
            "The cosines only range from {low} to {high}, so they are divided by T = {T} before the softmax; "
            "with T = 1 every row would be almost uniform."
        ).format(low=fmt_number(low, 2), high=fmt_number(high, 2), T=fmt_number(al.temperature, 2))
    )
    st.subheader(_("One context vector, written out"))
    i = st.selectbox(
        _("Query word"),
        list(range(n)),
        key=f"al_word_{abs(hash(al.query_words)) % 10**12}",
        format_func=lambda k: f"{k + 1}: {al.query_words[k]}",
    )
    context_line(al, int(i))
    st.caption(
        _(
            "Each h(·) is that word's vector of {d} numbers; c is their weighted sum, also {d} numbers, "
            "what the decoder reads before it writes the word."
        ).format(d=al.keys.shape[1])
    )
    st.markdown(
        _("Best match of each word: {pairs}.").format(
            pairs=", ".join(f"{md(al.query_words[i])} → {md(al.key_words[j])}" for i, j in best)
        )
    )
    st.caption(
        _(
            "Not every pair finds its translation: these vectors were trained to match whole texts, not to align "
            "single words (for example, Spanish “manzanas” weighs 吃 a little above 苹果)."
        )
    )
    if st.toggle(_("Show the raw cosines"), key="al_raw"):
        ui.show_chart(
            ca.matrix_heatmap, al.scores, al.query_words, al.key_words, key="al_raw_heatmap",
            title=_("cosine(q_i, h_j), before ÷ T and the softmax"),
            row_title=_("query word i"), col_title=_("key word j"), value_title=_("cosine"),
            cell=ca.row_height(max(n, m), most=64, least=20, total=520),
        )  # fmt: skip


def main() -> None:
    if current_lang() == "zh":  # the Chinese article's own example first
        alignment_section()
        bahdanau_section()
    else:
        bahdanau_section()
        alignment_section()


main()
