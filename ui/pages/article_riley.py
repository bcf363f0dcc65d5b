"""Page: Riley in three parts (article 004, "Motivando la Autoatención").

The article builds self-attention in three tries on "El perro de Evan, Riley, es tan hiperactivo,
nunca deja de moverse": values only (a fixed mix), keys only (k·k, symmetric; normalised by the
row sum, then by softmax), queries against keys (q·k, asymmetric). Every vector is the model's own
(all-MiniLM-L6-v2, one head of one layer), from :func:`retrieval_attention.lessons.riley_parts`.
Parts 2 and 3 are carried to the end with the article's own formulas: the new value of word a
(:mod:`ui.components.riley_update`).
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import _

st.title(_("Riley in three parts"))
st.markdown(
    _(
        "Article 004 builds self-attention in three tries on one sentence about Evan's dog, Riley. "
        "Each try runs here on the real model's vectors of that sentence."
    )
)

import numpy as np  # noqa: E402  (the imports follow the title, on purpose)

from retrieval_attention.charts import articles as ca  # noqa: E402
from retrieval_attention.errors import RetrievalAttentionError  # noqa: E402
from retrieval_attention.lessons import ARTICLE_RATIO, RILEY_EN, RILEY_ES, RileyParts, riley_parts  # noqa: E402
from ui.components import articles as ui  # noqa: E402
from ui.components.i18n import current_lang, fmt_number, fmt_percent, setting_labels  # noqa: E402
from ui.components.riley_update import key_range, pair_update, query_update, sentence_update  # noqa: E402
from ui.components.text import md  # noqa: E402

#: A head where the article's pair makes its points, per sentence: (layer, head). Spanish: riley → perro
#: weighs 0.29 after the softmax, perro → riley 0.045; English: riley → dog 0.31, dog → riley 0.016, and
#: part 2's row-normalised weights differ too (0.009 and 0.34), though k·k is the same both ways.
#: r from 0 to 1 in steps of 0.05, the article's 0.75 among them.
RATIOS = [round(0.05 * i, 2) for i in range(21)]
SUGGESTED = {RILEY_ES: (2, 4), RILEY_EN: (4, 7)}
#: Matrices with at most this many words are drawn side by side.
SIDE_BY_SIDE = 12


def examples() -> dict[str, str]:
    """The article's sentence in Spanish and in its original English."""
    return {_("The article's sentence (Spanish)"): RILEY_ES, _("The original English"): RILEY_EN}


def suggest(sentence: str) -> None:
    """Set the layer and head sliders to the suggested head of ``sentence`` (a button's callback)."""
    layer, head = SUGGESTED[sentence]
    st.session_state["ar_layer"], st.session_state["ar_head"] = layer, head


def controls_ui(n_layers: int, n_heads: int) -> tuple[str, int, int, bool]:
    """Sentence, layer, head and the word toggle: widget values only."""
    default = RILEY_ES if current_lang() == "es" else RILEY_EN
    sentence = ui.sentence_ui("ar_sentence", default, examples())
    layer, head = ui.layer_head_ui("ar", n_layers, n_heads, *SUGGESTED[default])
    row = st.container(horizontal=True, gap="medium", vertical_alignment="center")
    with row:
        words = ui.words_toggle("ar_words", value=True)
        if sentence in SUGGESTED:
            s_layer, s_head = SUGGESTED[sentence]
            st.button(
                _("Suggested for this sentence: layer {layer}, head {head}").format(layer=s_layer, head=s_head),
                key="ar_suggest",
                on_click=suggest,
                args=(sentence,),
                icon=":material/lightbulb:",
            )
    return sentence, layer, head, words


def pair_ui(r: RileyParts) -> tuple[int, int]:
    """The word pair (a, b): a takes in b in part 1; parts 2 and 3 show both directions."""
    labels = r.labels
    a0 = labels.index("riley") if "riley" in labels else 0
    b0 = next((labels.index(w) for w in ("perro", "dog") if w in labels), 1 if a0 != 1 else 0)
    key = f"{abs(hash(labels)) % 10**12}"
    left, right = st.columns(2, gap="large")
    options = list(range(len(labels)))
    a = left.selectbox(
        _("Word a (it attends)"), options, index=a0, key=f"ar_a_{key}", format_func=lambda i: f"{i}: {labels[i]}"
    )
    b = right.selectbox(
        _("Word b (it is attended to)"),
        options,
        index=min(b0, len(labels) - 1),
        key=f"ar_b_{key}",
        format_func=lambda i: f"{i}: {labels[i]}",
    )
    return int(a), int(b)


def heatmap(r: RileyParts, M: np.ndarray, title: str, subtitle: str, signed: bool, pair: tuple[int, int], key: str,
            value_title: str, cell: int | None = None) -> None:  # fmt: skip
    """One n × n matrix of the sentence, with the pair's two cells outlined."""
    n = len(r.labels)
    c = cell or ca.row_height(n, most=46, least=14, total=640)
    a, b = pair
    ui.show_chart(
        ca.matrix_heatmap, M, r.labels, r.labels, key=key, title=title, subtitle=subtitle,
        row_title=_("a: attends (row)"), col_title=_("b: is attended to (column)"), value_title=value_title,
        signed=signed, cell=c, highlight=[(a, b), (b, a)],
    )  # fmt: skip


def two(r: RileyParts) -> tuple[list, int]:
    """Where two matrices go (side by side when small) and their cell size."""
    n = len(r.labels)
    if n <= SIDE_BY_SIDE:
        return list(st.columns(2, gap="medium")), ca.row_height(n, most=40, least=14, total=420)
    return [st.container(), st.container()], ca.row_height(n, most=46, least=14, total=640)


def part1(r: RileyParts, a: int, b: int) -> None:
    """Part 1, values only: a fixed mix of two value vectors."""
    ui.follows(
        ("004",),
        _("Notice: the mix is one fixed rule for every pair of words; nothing in it says which words matter."),
    )
    st.markdown(
        _(
            "The article starts with one vector per word, its value v, and updates “{a}” by mixing in a little "
            "of “{b}”: new v_a = r · v_a + (1 − r) · v_b, with r = 0.75."
        ).format(a=md(r.labels[a]), b=md(r.labels[b]))
    )
    st.session_state.setdefault("ar_ratio", ARTICLE_RATIO)
    ratio = float(
        st.select_slider(
            _("r: how much of its own value a keeps"), RATIOS, key="ar_ratio", format_func=setting_labels(RATIOS)
        )
    )  # a select_slider, so r is written in the session's signs (0,75 in Spanish)
    mixed = r.mix(a, b, ratio)
    st.latex(r"v_a^{\mathrm{new}} = r\,v_a + (1-r)\,v_b")
    ui.show_chart(
        ca.mix_chart,
        [(f"v · {r.labels[a]}", r.V[a]), (f"v · {r.labels[b]}", r.V[b]), (_("new v · {a}").format(a=r.labels[a]), mixed)],
        key="ar_mix",
        title=_("Values of layer {layer}, head {head}: all {hd} numbers").format(
            layer=r.layer, head=r.head, hd=r.V.shape[1]
        ),
        x_title=_("dimension"), y_title=_("value"), series_title=_("vector"),
    )  # fmt: skip
    other = next((i for i in range(len(r.labels)) if i not in (a, b)), b)
    st.markdown(
        _(
            "What goes wrong? The rule never looks at the words: applied to the whole sentence, every word would "
            "take {share} of another one, “{other}” as much as “{a}”. We need to know how much two words relate."
        ).format(share=fmt_percent(1 - ratio), other=md(r.labels[other]), a=md(r.labels[a]))
    )


def part2(r: RileyParts, a: int, b: int) -> None:
    """Part 2, keys only: k·k relevance (symmetric), normalised by the row sum, then by softmax."""
    ui.follows(
        ("004",),
        _(
            "Notice: k_a·k_b = k_b·k_a, so the relevance is symmetric. Dividing each row by its sum can give negative "
            "weights and divide by almost 0: that is why attention uses a softmax."
        ),
    )
    p = r.pair(a, b)
    st.markdown(
        _(
            "Each word also gets a key k; the relevance of two words is k_a · k_b (here divided by √{hd}, as the "
            "model does, and not made unit vectors: the model's keys are not)."
        ).format(hd=r.K.shape[1])
    )
    key_range(r)
    st.latex(r"\frac{k_a \cdot k_b}{\sqrt{d_k}} = \frac{k_b \cdot k_a}{\sqrt{d_k}}")
    n = len(r.labels)
    heatmap(
        r, r.kk, _("K·Kᵀ: keys only"),
        _("symmetric: asymmetry ‖A − Aᵀ‖/‖A‖ = {x}").format(x=fmt_number(r.asymmetry_kk, 2)),
        True, (a, b), "ar_kk", _("relevance"),
    )  # fmt: skip
    st.markdown(
        _("“{a}” → “{b}”: {ab}; “{b}” → “{a}”: {ba}. Exactly the same number.").format(
            a=md(p.labels[0]), b=md(p.labels[1]), ab=fmt_number(p.kk, 3), ba=fmt_number(float(r.kk[b, a]), 3)
        )
    )
    own = int(np.sum(np.argmax(r.kk, axis=1) == np.arange(n)))
    st.caption(
        _(
            "For {own} of {n} words the largest relevance is with itself: a key is closest to itself "
            "(k_a·k_a = |k_a|²), so with keys only a word mostly attends to itself."
        ).format(own=fmt_number(own), n=fmt_number(n))
    )
    st.subheader(_("Turning relevances into weights"))
    st.markdown(
        _(
            "The article divides each row by its sum so that it adds up to 1. With real keys a relevance can be "
            "negative and a row's sum can be close to 0 (the title below counts them for this head); a softmax makes "
            "every weight positive and never divides by 0."
        )
    )
    negative = int(np.sum(np.nan_to_num(r.kk_by_sum, nan=0.0) < 0))
    low, high = float(np.min(r.kk_row_sums)), float(np.max(r.kk_row_sums))
    places, cell = two(r)
    with places[0]:
        heatmap(
            r, r.kk_by_sum, _("÷ row sum (the article's step)"),
            _("{neg} of {total} weights are negative; row sums {low} to {high}").format(
                neg=fmt_number(negative), total=fmt_number(n * n), low=fmt_number(low, 2), high=fmt_number(high, 2)
            ),
            True, (a, b), "ar_kk_sum", _("weight"), cell,
        )  # fmt: skip
    with places[1]:
        heatmap(
            r, r.kk_softmax, _("softmax of each row"), _("every weight positive, every row sums to 1"),
            False, (a, b), "ar_kk_softmax", _("weight"), cell,
        )  # fmt: skip
    if np.isnan(r.kk_by_sum).any():
        st.caption(_("Grey rows: their sum is about 0, so they cannot be divided by it."))
    st.markdown(
        _(
            "Look at the outlined pair. Divided by the row sums, “{a}” → “{b}” is {sum_ab} but “{b}” → “{a}” is "
            "{sum_ba}; after the softmax {ab} and {ba}. Normalising rows already makes the weights asymmetric "
            "(each row has its own total), though the relevance is still symmetric: the article says so too. "
            "But words should be able to attend asymmetrically on purpose."
        ).format(
            a=md(p.labels[0]),
            b=md(p.labels[1]),
            sum_ab=ui.fmt_small(float(r.kk_by_sum[a, b])),
            sum_ba=ui.fmt_small(float(r.kk_by_sum[b, a])),
            ab=ui.fmt_small(p.kk_weight_ab),
            ba=ui.fmt_small(p.kk_weight_ba),
        )
    )
    u = r.update(a, b)
    pair_update(r, u)
    sentence_update(r, u)


def part3(r: RileyParts, a: int, b: int, words: bool) -> None:
    """Part 3, queries against keys: q·k relevance, asymmetric, both directions of the pair."""
    ui.follows(
        ("004",),
        _(
            "Notice: q_a·k_b is not q_b·k_a: how much “{a}” looks for “{b}” differs from how much “{b}” looks "
            "for “{a}”."
        ).format(a=md(r.labels[a]), b=md(r.labels[b])),
    )
    p = r.pair(a, b)
    st.markdown(
        _(
            "A third vector per word, the query q, asks; the keys answer. The relevance of b for a is q_a · k_b, "
            "and in the other direction q_b · k_a: two different numbers."
        )
    )
    st.latex(r"\mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V")
    left, right = st.columns(2, gap="large")
    left.metric(
        _("“{a}” → “{b}”: q_a·k_b").format(a=p.labels[0], b=p.labels[1]),
        fmt_number(p.qk_ab, 2),
        help=_("row a, column b"),
    )
    left.metric(_("its weight after the softmax"), ui.fmt_small(p.qk_weight_ab))
    right.metric(
        _("“{b}” → “{a}”: q_b·k_a").format(a=p.labels[0], b=p.labels[1]),
        fmt_number(p.qk_ba, 2),
        help=_("row b, column a"),
    )
    right.metric(_("its weight after the softmax"), ui.fmt_small(p.qk_weight_ba))
    places, cell = two(r)
    with places[0]:
        heatmap(
            r, r.qk, _("Q·Kᵀ: queries against keys"),
            _("asymmetric: ‖A − Aᵀ‖/‖A‖ = {x} (K·Kᵀ: {y})").format(
                x=fmt_number(r.asymmetry_qk, 2), y=fmt_number(r.asymmetry_kk, 2)
            ),
            True, (a, b), "ar_qk", _("relevance"), cell,
        )  # fmt: skip
    with places[1]:
        heatmap(
            r, r.qk_softmax, _("softmax of each row: the attention weights"), _("every row sums to 1"),
            False, (a, b), "ar_qk_softmax", _("weight"), cell,
        )  # fmt: skip
    if words:
        st.caption(
            _(
                "The model computes this per token, with [CLS] and [SEP]. Here a word's q, k and v are the mean of "
                "its pieces', and [CLS] and [SEP] are left out, as in the article's sentence."
            )
        )
    else:
        st.caption(
            _("Per token, as the model computes it; [CLS] and [SEP] are left out, as in the article's sentence.")
        )
    query_update(r, r.update(a, b))


def main() -> None:
    ins = ui.get_inspector()
    sentence, layer, head, words = controls_ui(ins.n_layers, ins.n_heads)
    if not sentence:
        st.info(_("Type a sentence, or click the article's."))
        return
    try:
        r = riley_parts(ins, sentence, layer, head, words=words)
    except RetrievalAttentionError as exc:
        ui.problem(exc, sentence)
        return
    if words:
        ui.words_line(tuple(ins.tokens(sentence)))
    if len(r.labels) < 2:
        st.info(_("This needs at least two words."))
        return
    a, b = pair_ui(r)
    tabs = st.tabs([_("Part 1 · values only"), _("Part 2 · keys only"), _("Part 3 · queries and keys")])
    with tabs[0]:
        part1(r, a, b)
    with tabs[1]:
        part2(r, a, b)
    with tabs[2]:
        part3(r, a, b, words)


main()
