"""Lesson: four scoring functions on one query, what each costs (measured live), and why ÷√d.

The additive (Bahdanau) scorer is trained here, once per server and corpus, to reproduce the encoder's
cosine (:func:`retrieval_attention.core.scoring_fit.fit_additive`), so that both scorers are trained.
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import N_, _, current_lang, fmt_number, number_signs

st.title(_("Scoring functions: how a query is compared with a key"))
st.markdown(
    _(
        "Attention turns scores a(q, k) into weights with a softmax. The score is the only part that "
        "compares query and key, and there are several ways to compute it: the dot product, the scaled dot "
        "product of transformers, the cosine, and the additive network of Bahdanau et al. (2015)."
    )
)

import threading  # noqa: E402  (the imports follow the title, on purpose)
from contextlib import AbstractContextManager, nullcontext  # noqa: E402

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
from retrieval_attention.core.scoring_fit import AdditiveFit, fit_additive, spearman  # noqa: E402
from ui.components.charts import show_chart  # noqa: E402
from ui.components.downloads import download_csv  # noqa: E402
from ui.components.predict import guess_line, predict_ui  # noqa: E402
from ui.components.query import query_ui  # noqa: E402
from ui.components.store import ensure_query, get_store, shared_corpus_path  # noqa: E402
from ui.components.text import md  # noqa: E402

HIDDEN = 64  # width of the additive network's hidden layer = width of the dot product's projections
SEED = 0
FIT_STEPS = 400  # gradient steps of the additive scorer's training: about 2 s on one core
SYNTHETIC_N = 3_000  # keys in the synthetic corpus (about 10x the bundled one), same d as the model
QUERY_COUNTS = [1, 10, 100, 1_000]
AUTO_PAIRS = 40_000  # measure without asking up to this many network passes (well under a second)
MAX_PAIRS = 1_000_000  # never time more passes than this on a page
KEYSETS = {"corpus": N_("the bundled corpus"), "synthetic": N_("synthetic: {n} random unit keys")}  # msgids
ANSWERS = [  # fixed codes (the radio's value), shown translated
    N_("Additive, about 2× faster"),
    N_("About the same"),
    N_("Dot product, about 10× faster"),
    N_("Dot product, 100× faster or more"),
]


def keyset_name(keyset: str) -> str:
    """A key set's name in the session's language."""
    return _(KEYSETS[keyset]).format(n=fmt_number(SYNTHETIC_N))


def chart_text() -> dict[str, str]:
    """The charts' text (:data:`retrieval_attention.charts.scoring.SCORING_TEXT`) in the session's language."""
    return {
        "top": _("top {top} by {first}"),
        "other": _("every other key"),
        "score_x": _("score a(q, k), each strip on its own scale"),
        "strips_title": _("The same query scored against every key, four ways"),
        "title": _("title"),
        "rank": _("rank"),
        "additive_loop": _("additive: one network pass per pair (m·n)"),
        "additive_vec": _("additive, vectorised in numpy (still m·n·h tanh)"),
        "dot": _("dot product: project both sides, one matmul"),
        "dot_cached": _("dot product, keys projected ahead (an index)"),
        "seconds": _("seconds per call (log scale, median)"),
        "times": _("× the dot product"),
        "gaussian": _("Gaussian q, k (entries ~ N(0, 1))"),
        "unit": _("unit q, k (like our embeddings)"),
        "max_weight": _("largest weight (mean over draws)"),
        "entropy": _("entropy of the weights (nats)"),
        "dimension": _("dimension d (log scale)"),
        "uniform": _("uniform weights"),
        "peak_title": _("How peaked is the softmax as d grows? (grey dashes: uniform weights)"),
    }


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


@st.cache_resource(show_spinner=False)
def _fits() -> tuple[dict[str, AdditiveFit], threading.Lock]:
    """The trained additive scorers of this server, by corpus (filled by :func:`trained_additive`), and a lock
    so that two sessions arriving together train once (the second waits behind the first's progress bar)."""
    return {}, threading.Lock()


def trained_additive(store: ra.KeyValueStore) -> AdditiveFit:
    """The additive scorer trained on this corpus (once per server and corpus), with a progress bar the first time."""
    (fits, lock), key = _fits(), corpus_key()
    if key not in fits:
        label = _("Training the additive scorer on this corpus (once per server)…")
        bar = st.progress(0.0, text=label)
        with lock, _one_thread():
            if key not in fits:
                fits[key] = fit_additive(
                    store.K, store.value_embeddings, hidden=HIDDEN, steps=FIT_STEPS, seed=SEED,
                    progress=lambda done, total: bar.progress(done / total, text=label),  # each call sets the text
                )  # fmt: skip
        bar.empty()
    return fits[key]


@st.cache_data(show_spinner=False, max_entries=64)
def four_scores(
    _store: ra.KeyValueStore, _additive: AdditiveScorer, corpus_key: str, query: str
) -> tuple[np.ndarray, ...]:
    """Cosine, dot, scaled dot and additive scores (n,) each of ``query``: once per query and corpus.

    ``_additive`` is the corpus's trained scorer, the same for every call with this ``corpus_key``.
    """
    q = _store.embed_query(query)  # (d,) unit vector
    K = _store.K
    return cosine_scores(q, K), dot_scores(q, K), scaled_dot_scores(q, K), _additive.scores(q, K)


def corpus_key() -> str:
    """What names this page's corpus in its caches: the server's corpus file, or the bundled one."""
    return shared_corpus_path() or "bundled"


@st.fragment
def scores_section(store: ra.KeyValueStore) -> None:
    """One query against every key, four ways; the five best under each."""
    st.header(_("1 · One query, four scores"))
    if current_lang() == "zh":
        st.info(_("This lesson uses the English encoder, which cannot read Chinese: type the query in English."))
    query = query_ui(key="scoring_query")
    ensure_query(store, query)
    fit = trained_additive(store)
    try:
        cosine, dot, scaled, additive = four_scores(store, fit.scorer, corpus_key(), query)
    except ra.QueryError as exc:
        st.info(_("This query cannot be used: {detail}").format(detail=md(str(exc))))
        return
    except ra.RetrievalAttentionError as exc:
        st.info(md(str(exc)))
        return
    scores = {
        _("cosine q·k / (‖q‖‖k‖)"): cosine,
        _("dot product q·k"): dot,
        _("scaled dot product q·k / √{d}").format(d=store.dim): scaled,
        _("additive vᵀ tanh(Wq + Uk), trained to copy the cosine"): additive,
    }
    frame = cl.scores_frame(scores, store.corpus.titles)
    show_chart(cl.scores_strip_chart, frame, text=chart_text(), key="scores_strip", height=620)
    download_csv(frame, "scores_four_ways.csv", "dl_scores")
    best = frame[frame["rank"] <= 5].sort_values(["scorer", "rank"])
    table = best.pivot(index="rank", columns="scorer", values="title")[list(scores)]
    st.table(table)
    st.markdown(
        _(
            "Our embeddings are **unit vectors**, so the dot product *is* the cosine, and ÷√d only shrinks every "
            "score by the same factor: the three rank the keys identically (orange ticks at the right end)."
        )
    )
    fit_section(fit, spearman(additive, cosine), len(store))


def fit_section(fit: AdditiveFit, rho_query: float, n: int) -> None:
    """What the additive scorer was trained on, and how well its ranking follows the cosine's."""
    c = st.columns(3)
    helps = _("Spearman rank correlation of the additive scores with the cosines over every key (1 = same order)")
    c[0].metric(_("Spearman: held-out titles"), fmt_number(fit.spearman_trained, 2), help=helps)
    c[1].metric(_("Spearman: random weights"), fmt_number(fit.spearman_initial, 2), help=helps)
    c[2].metric(_("Spearman: this query"), fmt_number(rho_query, 2), help=helps)
    st.markdown(
        _(
            "Bahdanau *learned* the additive score's W, U ({h} × {d}) and v, and so did this page: it trained them "
            "on this corpus to reproduce the encoder's similarities. {m} queries (the title, and the title with "
            "its description, of {items} videos) were scored against the titles, with their cosine as the target "
            "(centred per query: a softmax ignores a shift), for {steps} steps of gradient descent (Adam, seed "
            "{seed}; {seconds} s on this server). The {held} other videos' titles were held out: on them, the "
            "median Spearman rank correlation between the additive scores and the cosines over all {n} keys is "
            "**{rho}** (1 = the same ranking; random weights: {rho0}; the training queries: {rho_train}). It copies "
            "the encoder from a few hundred texts, so it ranks like the cosine but not exactly."
        ).format(
            h=fit.scorer.hidden,
            d=fit.scorer.d,
            m=fmt_number(fit.n_train_queries),
            items=fmt_number(len(fit.train_items)),
            steps=fmt_number(fit.steps),
            seed=fit.seed,
            seconds=fmt_number(fit.seconds, 1),
            held=fmt_number(len(fit.held_out_items)),
            n=fmt_number(n),
            rho=fmt_number(fit.spearman_trained, 2),
            rho0=fmt_number(fit.spearman_initial, 2),
            rho_train=fmt_number(fit.spearman_train, 2),
        )
    )


def cost_question(store: ra.KeyValueStore) -> None:
    """Which scorer is faster, by how much? Asked first, then measured (on a click)."""
    question = _(
        "You score **{m} queries** against the {n} titles (d = {d}, h = {h}). Which is faster, and by how much?"
    ).format(m=fmt_number(1_000), n=len(store), d=store.dim, h=HIDDEN)
    choice = predict_ui(question, ANSWERS, key="cost_guess")
    if choice is None:
        return
    with st.expander(_("Reveal: the live measurement"), expanded=True):
        if ("corpus", 1_000) not in st.session_state.setdefault("cost_runs", set()):
            st.button(
                _("Measure {m} queries now (a few seconds)").format(m=fmt_number(1_000)),
                key="measure_1000",
                on_click=_request,
                args=("corpus", 1_000),
            )
            return
        with st.spinner(_("Timing {n} network passes…").format(n=fmt_number(1_000 * len(store)))):
            r = measure("corpus", 1_000, store.K, corpus_key())
        st.metric(
            _("dot product is faster by"),
            f"{fmt_number(r.ratio, 0)}×",
            help=_("additive loop seconds / dot-product seconds"),
        )
        loop, dot = (
            cl.format_seconds(r.additive_loop_seconds, number_signs()[0]),
            cl.format_seconds(r.dot_seconds, number_signs()[0]),
        )
        explained = _(
            "The additive network ran {pairs} times ({loop}); the dot product projected {m} + {n} vectors once "
            "and multiplied two matrices ({dot}). Counted work alone differs {flops}×. Vectorised in numpy (no "
            "Python loop), additive takes {vec}× the dot product's time: it still needs all m·n·h tanh inputs, "
            "and no matrix multiply produces them."
        ).format(
            pairs=fmt_number(r.pairs),
            loop=loop,
            m=fmt_number(r.m),
            n=fmt_number(r.n),
            dot=dot,
            flops=fmt_number(r.flop_ratio, 0),
            vec=fmt_number(r.vectorised_ratio, 1),
        )
        st.markdown(guess_line(choice, verdict(r.ratio)) + " " + explained)


def _request(keyset: str, m: int) -> None:
    st.session_state.setdefault("cost_runs", set()).add((keyset, m))


@st.fragment
def cost_section(store: ra.KeyValueStore) -> None:
    """Additive against dot-product scoring, timed live on this server."""
    st.header(_("2 · What each score costs, measured now"))
    st.markdown(
        _(
            "Bahdanau's score a(q, k) = vᵀ tanh(W q + U k) has the tanh **between** q and k, so it cannot be split "
            "into *something of q* · *something of k*: with m queries and n keys the small network runs **m·n** "
            "times. The projected dot product (W q)·(U k) projects each side **once** (m + n projections) and then "
            "needs **one matrix multiply**. Same parameters W, U, same width h; only the combination differs."
        )
    )
    cost_question(store)
    st.subheader(_("Measure it yourself"))
    a, b = st.columns(2)
    names = {k: keyset_name(k) for k in KEYSETS}
    keyset = a.radio(_("Keys"), list(KEYSETS), format_func=names.__getitem__, key="cost_keys", horizontal=True)
    counts = {x: fmt_number(x) for x in QUERY_COUNTS}
    m = b.select_slider(_("Queries m"), QUERY_COUNTS, value=10, key="cost_m", format_func=counts.__getitem__)
    n = len(store) if keyset == "corpus" else SYNTHETIC_N
    pairs = m * n
    if pairs > MAX_PAIRS:
        st.info(
            _("m·n = {pairs} network passes would take half a minute here; pick fewer queries.").format(
                pairs=fmt_number(pairs)
            )
        )
        return
    if pairs > AUTO_PAIRS and (keyset, m) not in st.session_state.setdefault("cost_runs", set()):
        st.button(
            _("Measure m·n = {pairs} passes (a few seconds)").format(pairs=fmt_number(pairs)),
            key="measure_big",
            on_click=_request,
            args=(keyset, m),
        )
        return
    with st.spinner(_("Timing both scorings…")):
        r = measure(keyset, m, store.K, corpus_key())
    c = st.columns(4)
    c[0].metric(
        _("pairs m·n"),
        fmt_number(r.pairs),
        help=_("m = {m} queries, n = {n} keys, d = {d}, h = {h}").format(
            m=fmt_number(r.m), n=fmt_number(r.n), d=r.d, h=r.hidden
        ),
    )
    c[1].metric(_("additive (one pass per pair)"), cl.format_seconds(r.additive_loop_seconds, number_signs()[0]))
    c[2].metric(_("dot product (project + matmul)"), cl.format_seconds(r.dot_seconds, number_signs()[0]))
    c[3].metric(
        _("ratio additive / dot"),
        f"{fmt_number(r.ratio, 0)}×",
        help=_("counted work ratio {ratio}×").format(ratio=fmt_number(r.flop_ratio, 1)),
    )
    text = chart_text()
    frame = cl.cost_frame({names[keyset]: r}, text=text)
    title = _("Time to score m queries against n keys")
    show_chart(cl.cost_chart, frame, title, text=text, decimal=number_signs()[0], key="cost_chart", height=260)
    download_csv(frame, "scoring_cost.csv", "dl_cost")
    st.caption(
        _(
            "Median of {repeats} timed run(s) after a warm-up, single-threaded BLAS, measured on this server "
            "(machine-dependent). With one query both need about n·d·h work, so the gap is small; it grows with m, "
            "and with the keys projected ahead (as an index does) a query costs one small multiply."
        ).format(repeats=r.repeats)
    )


@st.fragment
def scaling_section() -> None:
    """Softmax peakiness against d, with and without ÷√d."""
    st.header(_("3 · Why transformers divide by √d"))
    res = peakiness()
    metric = st.radio(
        _("Peakiness measured by"),
        ["max_weight", "entropy"],
        key="peak_metric",
        horizontal=True,
        format_func={"max_weight": _("largest weight"), "entropy": _("entropy (nats)")}.__getitem__,
    )
    text = chart_text()
    frame = cl.peakiness_frame(res, text=text)
    show_chart(cl.peakiness_chart, frame, metric, text=text, key="peak_chart", height=520)
    download_csv(frame, "softmax_peakiness_vs_d.csv", "dl_peak")
    g = res.curve("gaussian", scaled=False)
    st.markdown(
        _(
            "Softmax over {n} random keys, {trials} draws per d. **Left, the classic reason:** with "
            "entries ~ N(0, 1), q·k has variance d, so raw scores spread out and the softmax saturates "
            "(largest weight {w0} at d = {d0}, {w1} at d = {d1}); ÷√d keeps the variance at 1 and the curve flat. "
            "**Right, our case:** unit vectors have q·k of variance 1/d, so the raw softmax is already nearly "
            "uniform and ÷√d flattens it further. For unit embeddings the knob that matters is the temperature "
            "(the main page starts at the encoder's own: T = 0.05 for all-MiniLM-L6-v2, 0.01 for multilingual-e5-small)."
        ).format(
            n=res.n_keys,
            trials=res.trials,
            w0=fmt_number(g.max_weight[0], 2),
            d0=res.dims[0],
            w1=fmt_number(g.max_weight[-1], 2),
            d1=res.dims[-1],
        )
    )


def main() -> None:
    store = get_store(DEFAULT_MODEL)  # only a new query waits for the model
    st.caption(
        _("{n} keys (video titles) · encoder {model} · d = {d}").format(
            n=len(store), model=md(DEFAULT_MODEL), d=store.dim
        )
    )
    scores_section(store)
    cost_section(store)
    scaling_section()
    st.caption(_("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG."))


main()
