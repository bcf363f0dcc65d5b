"""Lesson: four scoring functions on one query, what each costs (measured live), and why ÷√d."""

from __future__ import annotations

import streamlit as st

st.title("Scoring functions: how a query is compared with a key")
st.markdown(
    "Attention turns scores a(q, k) into weights with a softmax. The score is the only part that "
    "compares query and key, and there are several ways to compute it: the dot product, the scaled dot "
    "product of transformers, the cosine, and the additive network of Bahdanau et al. (2015)."
)

from contextlib import AbstractContextManager, nullcontext  # noqa: E402  (the imports follow the title, on purpose)

import numpy as np  # noqa: E402

import retrieval_attention as ra  # noqa: E402
from retrieval_attention.charts import scoring as cl  # noqa: E402
from retrieval_attention.config import DEFAULT_MODEL  # noqa: E402
from retrieval_attention.core.scoring import (  # noqa: E402
    AdditiveScorer,
    PeakinessResult,
    cosine_scores,
    dot_scores,
    peakiness_vs_dim,
    scaled_dot_scores,
)
from retrieval_attention.core.scoring_cost import CostResult, measure_scoring_cost, time_scoring  # noqa: E402
from ui.components.charts import show_chart  # noqa: E402
from ui.components.downloads import download_csv  # noqa: E402
from ui.components.predict import guess_line, predict_ui  # noqa: E402
from ui.components.query import query_ui  # noqa: E402
from ui.components.store import ensure_query, get_store, shared_corpus_path  # noqa: E402
from ui.components.text import md  # noqa: E402

HIDDEN = 64  # width of the additive network's hidden layer = width of the dot product's projections
SEED = 0
SYNTHETIC_N = 3_000  # keys in the synthetic corpus (about 10x the bundled one), same d as the model
QUERY_COUNTS = [1, 10, 100, 1_000]
AUTO_PAIRS = 40_000  # measure without asking up to this many network passes (well under a second)
MAX_PAIRS = 1_000_000  # never time more passes than this on a page
KEYSETS = {"corpus": "the bundled corpus", "synthetic": f"synthetic: {SYNTHETIC_N:,} random unit keys"}
ANSWERS = [
    "Additive, about 2× faster",
    "About the same",
    "Dot product, about 10× faster",
    "Dot product, 100× faster or more",
]


def _one_thread() -> AbstractContextManager[object]:
    """Single-threaded BLAS while timing: on a busy 2-core machine threads stall tiny multiplies."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return nullcontext()
    return threadpool_limits(limits=1)


@st.cache_data(show_spinner=False, max_entries=32)
def measure(keyset: str, m: int, _K: np.ndarray, corpus_key: str) -> CostResult:
    """Live timing, once per server and parameter set: 3 repeats when cheap, else 1 after a warm-up.

    ``_K`` (n, d) are the keys of the corpus ``corpus_key`` names (not hashed on every rerun); the
    corpus titles are reused as the m queries. The synthetic key set takes only d from it.
    """
    K = _K
    n, d = (SYNTHETIC_N, K.shape[1]) if keyset == "synthetic" else K.shape
    repeats = 3 if m * n <= 5_000 else 1
    with _one_thread():
        if keyset == "synthetic":
            return measure_scoring_cost(m=m, n=n, d=d, hidden=HIDDEN, repeats=repeats, seed=SEED)
        queries = K[np.arange(m) % n]  # (m, d): the titles themselves, cycled, as queries
        return time_scoring(queries, K, AdditiveScorer.random(d, HIDDEN, SEED), repeats=repeats)


def verdict(ratio: float) -> str:
    """The answer option closest (on a log scale) to a measured additive / dot ratio."""
    if ratio >= 30:
        return ANSWERS[3]
    if ratio >= 3:
        return ANSWERS[2]
    return ANSWERS[1] if ratio >= 0.7 else ANSWERS[0]


@st.cache_data(show_spinner=False)
def peakiness() -> PeakinessResult:
    return peakiness_vs_dim()


@st.cache_data(show_spinner=False, max_entries=64)
def four_scores(_store: ra.KeyValueStore, corpus_key: str, query: str) -> tuple[np.ndarray, ...]:
    """Cosine, dot, scaled dot and additive scores (n,) each of ``query``: once per query and corpus."""
    q = _store.embed_query(query)  # (d,) unit vector
    additive = AdditiveScorer.random(_store.dim, HIDDEN, SEED)
    K = _store.K
    return cosine_scores(q, K), dot_scores(q, K), scaled_dot_scores(q, K), additive.scores(q, K)


def corpus_key() -> str:
    """What names this page's corpus in its caches: the server's corpus file, or the bundled one."""
    return shared_corpus_path() or "bundled"


@st.fragment
def scores_section(store: ra.KeyValueStore) -> None:
    """One query against every key, four ways; the five best under each."""
    st.header("1 · One query, four scores")
    query = query_ui(key="scoring_query")
    ensure_query(store, query)
    try:
        cosine, dot, scaled, additive = four_scores(store, corpus_key(), query)
    except ra.RetrievalAttentionError as exc:
        st.info(str(exc))
        return
    scores = {
        "cosine q·k / (‖q‖‖k‖)": cosine,
        "dot product q·k": dot,
        f"scaled dot product q·k / √{store.dim}": scaled,
        "additive vᵀ tanh(Wq + Uk), untrained": additive,
    }
    frame = cl.scores_frame(scores, store.corpus.titles)
    show_chart(cl.scores_strip_chart, frame, key="scores_strip", height=620)
    download_csv(frame, "scores_four_ways.csv", "dl_scores")
    best = frame[frame["rank"] <= 5].sort_values(["scorer", "rank"])
    table = best.pivot(index="rank", columns="scorer", values="title")[list(scores)]
    st.table(table)
    st.markdown(
        "Our embeddings are **unit vectors**, so the dot product *is* the cosine, and ÷√d only shrinks every "
        "score by the same factor: the three rank the keys identically (orange ticks at the right end). "
        f"The additive score's W, U ({HIDDEN} × {store.dim}) and v are **random numbers from seed {SEED}, "
        "not trained**: it ranks keys arbitrarily. Bahdanau *learned* these weights; this one only shows "
        "the shape of the computation and what it costs."
    )


def cost_question(store: ra.KeyValueStore) -> None:
    """Which scorer is faster, by how much? Asked first, then measured (on a click)."""
    question = (
        f"You score **1,000 queries** against the {len(store)} titles (d = {store.dim}, h = {HIDDEN}). "
        "Which is faster, and by how much?"
    )
    choice = predict_ui(question, ANSWERS, key="cost_guess")
    if choice is None:
        return
    with st.expander("Reveal: the live measurement", expanded=True):
        if ("corpus", 1_000) not in st.session_state.setdefault("cost_runs", set()):
            st.button(
                "Measure 1,000 queries now (a few seconds)",
                key="measure_1000",
                on_click=_request,
                args=("corpus", 1_000),
            )
            return
        with st.spinner(f"Timing {1_000 * len(store):,} network passes…"):
            r = measure("corpus", 1_000, store.K, corpus_key())
        st.metric("dot product is faster by", f"{r.ratio:,.0f}×", help="additive loop seconds / dot-product seconds")
        loop, dot = cl.format_seconds(r.additive_loop_seconds), cl.format_seconds(r.dot_seconds)
        st.markdown(
            guess_line(choice, verdict(r.ratio)) + f" The additive network ran {r.pairs:,} times ({loop}); the dot "
            f"product projected {r.m:,} + {r.n:,} vectors once and multiplied two matrices ({dot}). Counted work "
            f"alone differs {r.flop_ratio:,.0f}×. Vectorised in numpy (no Python loop), additive takes "
            f"{r.vectorised_ratio:,.1f}× the dot product's time: it still needs all m·n·h tanh inputs, "
            "and no matrix multiply produces them."
        )


def _request(keyset: str, m: int) -> None:
    st.session_state.setdefault("cost_runs", set()).add((keyset, m))


@st.fragment
def cost_section(store: ra.KeyValueStore) -> None:
    """Additive against dot-product scoring, timed live on this server."""
    st.header("2 · What each score costs, measured now")
    st.markdown(
        "Bahdanau's score a(q, k) = vᵀ tanh(W q + U k) has the tanh **between** q and k, so it cannot be split "
        "into *something of q* · *something of k*: with m queries and n keys the small network runs **m·n** times. "
        "The projected dot product (W q)·(U k) projects each side **once** (m + n projections) and then needs "
        "**one matrix multiply**. Same parameters W, U, same width h; only the combination differs."
    )
    cost_question(store)
    st.subheader("Measure it yourself")
    a, b = st.columns(2)
    keyset = a.radio("Keys", list(KEYSETS), format_func=lambda k: KEYSETS[k], key="cost_keys", horizontal=True)
    m = b.select_slider("Queries m", QUERY_COUNTS, value=10, key="cost_m", format_func=lambda x: f"{x:,}")
    n = len(store) if keyset == "corpus" else SYNTHETIC_N
    pairs = m * n
    if pairs > MAX_PAIRS:
        st.info(f"m·n = {pairs:,} network passes would take half a minute here; pick fewer queries.")
        return
    if pairs > AUTO_PAIRS and (keyset, m) not in st.session_state.setdefault("cost_runs", set()):
        st.button(
            f"Measure m·n = {pairs:,} passes (a few seconds)", key="measure_big", on_click=_request, args=(keyset, m)
        )
        return
    with st.spinner("Timing both scorings…"):
        r = measure(keyset, m, store.K, corpus_key())
    c = st.columns(4)
    c[0].metric("pairs m·n", f"{r.pairs:,}", help=f"m = {r.m:,} queries, n = {r.n:,} keys, d = {r.d}, h = {r.hidden}")
    c[1].metric("additive (one pass per pair)", cl.format_seconds(r.additive_loop_seconds))
    c[2].metric("dot product (project + matmul)", cl.format_seconds(r.dot_seconds))
    c[3].metric("ratio additive / dot", f"{r.ratio:,.0f}×", help=f"counted work ratio {r.flop_ratio:,.1f}×")
    frame = cl.cost_frame({KEYSETS[keyset]: r})
    show_chart(cl.cost_chart, frame, key="cost_chart", height=260)
    download_csv(frame, "scoring_cost.csv", "dl_cost")
    st.caption(
        f"Median of {r.repeats} timed run(s) after a warm-up, single-threaded BLAS, measured on this server "
        "(machine-dependent). With one query both need about n·d·h work, so the gap is small; it grows with m, "
        "and with the keys projected ahead (as an index does) a query costs one small multiply."
    )


@st.fragment
def scaling_section() -> None:
    """Softmax peakiness against d, with and without ÷√d."""
    st.header("3 · Why transformers divide by √d")
    res = peakiness()
    metric = st.radio(
        "Peakiness measured by",
        ["max_weight", "entropy"],
        key="peak_metric",
        horizontal=True,
        format_func=lambda x: "largest weight" if x == "max_weight" else "entropy (nats)",
    )
    frame = cl.peakiness_frame(res)
    show_chart(cl.peakiness_chart, frame, metric, key="peak_chart", height=520)
    download_csv(frame, "softmax_peakiness_vs_d.csv", "dl_peak")
    g = res.curve("gaussian", scaled=False)
    st.markdown(
        f"Softmax over {res.n_keys} random keys, {res.trials} draws per d. **Left, the classic reason:** with "
        f"entries ~ N(0, 1), q·k has variance d, so raw scores spread out and the softmax saturates "
        f"(largest weight {g.max_weight[0]:.2f} at d = {res.dims[0]}, {g.max_weight[-1]:.2f} at d = {res.dims[-1]}); "
        "÷√d keeps the variance at 1 and the curve flat. **Right, our case:** unit vectors have q·k of variance "
        "1/d, so the raw softmax is already nearly uniform and ÷√d flattens it further. For unit embeddings the "
        "knob that matters is the temperature (the main page uses T = 0.05)."
    )


def main() -> None:
    store = get_store(DEFAULT_MODEL)  # only a new query waits for the model
    st.caption(f"{len(store)} keys (video titles) · encoder {md(DEFAULT_MODEL)} · d = {store.dim}")
    scores_section(store)
    cost_section(store)
    scaling_section()
    st.caption("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG.")


main()
