"""Lesson: top-k retrieval as efficient attention: what the k best keys keep, what the tail costs.

One library call per query (``store.topk_search``): FAISS's top k, and the scores of every key
that the full softmax and the error identities are computed from.
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import N_, _, fmt_number, fmt_percent, fmt_setting, fmt_significant

st.title(_("Top-k retrieval as efficient attention"))
st.markdown(
    _(
        "Full attention reads **every** key. A search engine reads only the **k best** and takes the softmax over "
        "those. What does that throw away? (Here a flat FAISS index, which still scores every key; approximate "
        "indexes such as HNSW or IVF skip most keys on large corpora.)"
    )
)

import numpy as np  # noqa: E402  (the imports follow the title, on purpose)

import retrieval_attention as ra  # noqa: E402
from retrieval_attention.charts import topk as cl  # noqa: E402
from retrieval_attention.core.topk import TopKCurve, TopKError  # noqa: E402
from ui.components.charts import show_chart  # noqa: E402
from ui.components.controls import sidebar_controls  # noqa: E402
from ui.components.downloads import download_csv  # noqa: E402
from ui.components.predict import guess_line, predict_ui  # noqa: E402
from ui.components.query import query_ui  # noqa: E402
from ui.components.store import ensure_query, get_store, shared_corpus_path  # noqa: E402
from ui.components.text import md  # noqa: E402

QUESTION_K = 10
ANSWERS = [N_("About 10%"), N_("About half"), N_("About 90%"), N_("More than 99%")]  # codes, shown translated


@st.cache_data(show_spinner=False, max_entries=64)
def error_curve(logits: np.ndarray, _V: np.ndarray, corpus_key: tuple[str, str], temperature: float) -> TopKCurve:
    """τ and the output error for every k, once per query's logits (n,), corpus and T (k does not enter)."""
    return ra.topk_error_curve(logits, _V, temperature=temperature)


def fmt(x: float) -> str:
    """One format for every number that is compared on this page (τ with TV, error with its identity)."""
    return fmt_significant(x, 4)  # significant digits in the session's signs, compared digit by digit


def chart_text() -> dict[str, str]:
    """The charts' text (:data:`retrieval_attention.charts.topk.TOPK_TEXT`) in the session's language."""
    return {
        "tail_mass": _("tail mass τ (= TV distance)"),
        "output_error": _("output error ‖o_full − o_topk‖"),
        "error_bound": _("bound 2τ·max‖v‖"),
        "x_curve": _("k, keys kept (log scale)"),
        "y_curve": _("size (log scale)"),
        "rose": _("error rose at k"),
        "title_curve": _("What top-k drops, as k goes from 1 to n"),
        "subtitle_curve": _("▲ = the output error went up from k − 1 to k · dotted line: the k in use"),
        "full": _("full softmax"),
        "topk": _("softmax over the top {k}"),
        "title_weights": _("Weights of the best keys: full softmax vs top-k (renormalised)"),
        "x_weights": _("key rank under the full softmax"),
        "weight": _("weight"),
        "rank": _("rank"),
        "title": _("title"),
    }


def verdict(kept: float) -> str:
    """The answer option closest to a measured share of weight kept."""
    if kept > 0.99:
        return ANSWERS[3]
    if kept > 0.7:
        return ANSWERS[2]
    return ANSWERS[1] if kept > 0.3 else ANSWERS[0]


@st.fragment
def question(curve: TopKCurve, temperature: float, own: float, query: str) -> None:
    """How much weight does the top 10 keep at the encoder's own T ``own``? Asked first, then computed from ``curve``."""
    question = _("At T = {t} (this encoder's own), top-{k} keeps how much of the full softmax weight for “{query}”?")
    question = question.format(t=fmt_setting(own), k=QUESTION_K, query=md(query))
    choice = predict_ui(question, ANSWERS, key="topk_guess")
    if choice is None:
        return
    with st.expander(_("Reveal: computed live"), expanded=True):
        kept = 1.0 - float(curve.tail_mass[QUESTION_K - 1])
        st.metric(
            _("weight kept by the top {k} at T = {t}").format(k=QUESTION_K, t=fmt_setting(temperature)),
            fmt_percent(kept, 2),
        )
        st.markdown(guess_line(choice, verdict(kept)))
        if temperature != own:
            st.caption(
                _("Computed at your current T = {t}; set T = {own} in the sidebar for the question.").format(
                    t=fmt_setting(temperature), own=fmt_setting(own)
                )
            )
        st.markdown(
            _(
                "At T = {t} a cosine gap of {gap} is a factor e² ≈ 7.4 in weight, so the weight falls off fast down "
                "the ranking: a handful of keys hold almost everything. Raise T and the tail grows (try T = 1)."
            ).format(t=fmt_setting(own), gap=fmt_setting(2 * own))
        )


def identities(err: TopKError) -> None:
    """Both sides of TV = τ and of the output-error identity, computed separately."""
    st.subheader(_("Full softmax vs softmax over the top {k}").format(k=err.k))
    c = st.columns(4)
    c[0].metric(_("tail mass τ"), fmt(err.tail_mass), help=_("Σ of the full weights of the keys top-k drops"))
    c[1].metric(_("TV distance ½‖w − w′‖₁"), fmt(err.tv_distance), help=_("computed from the two weight vectors"))
    c[2].metric(
        _("error ‖o_full − o_topk‖"), fmt(err.output_error), help=_("output error: Euclidean norm in value space")
    )
    rhs = float(np.linalg.norm(err.identity_rhs))
    c[3].metric("τ · ‖m_drop − m_keep‖", fmt(rhs), help=_("the right-hand side of the identity, computed separately"))
    st.markdown(
        _(
            "Two exact identities, both sides computed separately above. **TV = τ**: renormalising moves exactly "
            "the dropped mass τ onto the kept keys. **o_full − o_topk = τ · (m_drop − m_keep)**, where m_keep and "
            "m_drop are the weight-averaged values of the kept and the dropped keys, because "
            "o_full = (1 − τ) m_keep + τ m_drop. It holds as vectors, so in any norm; here the Euclidean norm over "
            "the whole value vector (category one-hot, duration in minutes, log views, embedding), where the "
            "duration dominates."
        )
    )


def weights_section(err: TopKError, titles: list[str]) -> None:
    """The full and the top-k weights of the best keys, side by side."""
    text = chart_text()
    frame = cl.topk_weights_frame(err, titles, text=text)
    show_chart(cl.topk_weights_chart, frame, text=text, key="topk_weights", height=380)
    download_csv(frame, "topk_weights.csv", "dl_topk_weights")


def curve_section(curve: TopKCurve, k: int, n: int) -> None:
    """τ and the output error for every k from 1 to n."""
    st.header(_("As k goes from 1 to n"))
    cframe = cl.topk_curve_frame(curve)
    show_chart(cl.topk_curve_chart, cframe, k, text=chart_text(), key="topk_curve", height=420)
    download_csv(cframe, "topk_curve.csv", "dl_topk_curve")
    rose = cframe.loc[cframe["error_rose"], "k"].tolist()
    st.markdown(
        _(
            "τ can only shrink as k grows: each extra key moves its weight from the dropped side to the kept side. "
            "**The output error need not shrink**: adding a key whose value lies on the far side from what is "
            "still dropped moves o_topk away from o_full."
        )
        + " "
        + (
            _("For this query it went **up** at {rose} of the {steps} steps (first at k = {first}).").format(
                rose=len(rose), steps=n - 1, first=rose[0]
            )
            if rose
            else _("For this query it happens not to go up anywhere.")
        )
        + " "
        + _(
            "What does hold is error = τ‖m_drop − m_keep‖ ≤ 2τ·max‖v‖, so it vanishes with τ, with bumps on the "
            "way. At k = n = {n} nothing is dropped: both are exactly 0 (the log scale leaves that point off)."
        ).format(n=n)
    )


def related_section() -> None:
    """Top-k next to the other efficient-attention ideas the source names."""
    st.header(_("Where this sits among efficient-attention ideas"))
    st.markdown(
        _(
            "Full attention costs one score per (query, key) pair. Top-k attention spends that only on the keys a "
            "nearest-neighbour index returns; the price is the tail mass τ, small when the softmax is peaked (low T, "
            "a few clearly relevant keys) and large when it is flat. The question-and-answer this app starts from "
            "names two later ways to cut the cost. **Reformer** hashes queries and keys (locality-sensitive hashing) so that each query is scored only "
            "against the keys in its bucket: like top-k, it bets that the large scores come from nearby keys, found "
            "approximately. **Linformer** takes a different route: it projects the "
            "n keys and values down to a fixed number of rows (a low-rank approximation), so every key still contributes "
            "a little. **kNN attention over an external memory** (e.g. Memorizing Transformers) is this page's setting: "
            "retrieve the k nearest stored keys from an index and attend to those. How much each loses depends on the "
            "data and the model; this page measures only what top-k drops for one query over our small corpus."
        )
    )


def main() -> None:
    controls = sidebar_controls(show_k=False)
    query = query_ui(key="topk_query")
    store = get_store(controls.model)
    n = len(store)
    k = st.slider(_("k: keys kept"), 1, n, 5, key="topk_k")
    st.caption(
        _("{n} keys · encoder {model} · T = {t}").format(
            n=fmt_number(n), model=md(controls.model), t=fmt_setting(controls.temperature)
        )
    )
    ensure_query(store, query)  # only a new query waits for the model
    T = controls.temperature
    try:  # the page's one retrieval: FAISS's top k, carrying the q·k of every key
        faiss = store.topk_search(query, k, T, controls.scale)
    except ra.QueryError as exc:
        st.info(_("This query cannot be used: {detail}").format(detail=md(str(exc))))
        return
    except ra.RetrievalAttentionError as exc:
        st.info(md(str(exc)))
        return
    logits = faiss.all_scores * faiss.scale  # (n,) q·k · scale, corpus order: what the softmax divides by T
    err = ra.topk_attention_error(logits, store.V, k, temperature=T)
    curve = error_curve(logits, store.V, (controls.model, shared_corpus_path() or "bundled"), T)
    same = set(faiss.positions.tolist()) == set(err.kept.tolist())
    question(curve, T, controls.own_temperature, query)
    identities(err)
    gap = fmt(float(np.max(np.abs(faiss.output - err.output_topk))))
    if same:
        note = _(
            "FAISS's top {k} are the {k} highest scores used above; its output differs from o_topk by {gap} (float32 vs float64)."
        )
    else:
        note = _(
            "FAISS's top {k} differ from the {k} highest scores used above (a tie at the k-th place); its output differs from o_topk by {gap} (float32 vs float64)."
        )
    st.caption(note.format(k=k, gap=gap))
    weights_section(err, store.corpus.titles)
    curve_section(curve, k, n)
    related_section()
    st.caption(_("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG."))


main()
