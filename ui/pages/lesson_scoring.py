"""Lesson: four scoring functions on one query, what each costs (measured live), and why ÷√d.

The widgets, the training of the additive scorer (once per server and corpus, with a progress bar) and
the live timings (once per server and setting) are here; the content is built by
:mod:`retrieval_attention.views.scoring`.
"""

from __future__ import annotations

import threading

import numpy as np
import streamlit as st

import retrieval_attention as ra
from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.core.scoring_cost import CostResult
from retrieval_attention.core.scoring_fit import AdditiveFit, fit_additive
from retrieval_attention.views import scoring as view
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.downloads import download_csv
from ui.components.i18n import N_, _, current_lang, fmt_number
from ui.components.predict import guess_line, predict_ui
from ui.components.query import query_ui
from ui.components.store import ensure_query, get_store, shared_corpus_path

ANSWERS = [  # fixed codes (the radio's value), shown translated; view.verdict gives the closest one's position
    N_("Additive, about 2× faster"),
    N_("About the same"),
    N_("Dot product, about 10× faster"),
    N_("Dot product, 100× faster or more"),
]
#: session_state: what the page drew last ({"settings", "cost", "reveal"}); fragments update it, the save reads it.
DRAWN = "scoring_drawn"


@st.cache_data(show_spinner=False, max_entries=32)
def measure(keyset: str, m: int, _K: np.ndarray, corpus_key: str) -> CostResult:
    """:func:`view.measure`, once per server and parameter set (``_K``: the keys ``corpus_key`` names, not hashed)."""
    return view.measure(keyset, m, _K)


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
        with lock, view.one_thread():
            if key not in fits:
                fits[key] = fit_additive(
                    store.K, store.value_embeddings, hidden=view.HIDDEN, steps=view.FIT_STEPS, seed=view.SEED,
                    progress=lambda done, total: bar.progress(done / total, text=label),  # each call sets the text
                )  # fmt: skip
        bar.empty()
    return fits[key]


def corpus_key() -> str:
    """What names this page's corpus in its caches: the server's corpus file, or the bundled one."""
    return shared_corpus_path() or "bundled"


@st.fragment
def scores_part(store: ra.KeyValueStore, drawn: dict) -> None:
    """One query against every key, four ways: the query box, then the builder's section."""
    top = st.container()
    query = query_ui(key="scoring_query")
    ensure_query(store, query)
    fit = trained_additive(store)
    settings = view.ScoringSettings(query, *_rest(drawn), lang=current_lang())
    drawn["settings"], drawn["fit"] = settings, fit
    section = view.scores_section(store, fit, settings)
    draw_section(section, before=top)
    if any(b.kind == "chart" for b in section.blocks):
        download_csv(view.scores_frame(store, fit, settings), "scores_four_ways.csv", "dl_scores")


def _rest(drawn: dict) -> tuple[str, int, str]:
    """The other sections' widget values (key set, m, peakiness measure), as they stand."""
    state = st.session_state
    return state.get("cost_keys", "corpus"), int(state.get("cost_m", 10)), state.get("peak_metric", "max_weight")


def _request(keyset: str, m: int) -> None:
    st.session_state.setdefault("cost_runs", set()).add((keyset, m))


def reveal_part(store: ra.KeyValueStore, drawn: dict, lang: str) -> None:
    """Which scorer is faster, by how much? Asked first, then measured (on a click)."""
    drawn["reveal"] = None
    choice = predict_ui(view.cost_question(len(store), store.dim, lang), ANSWERS, key="cost_guess")
    if choice is None:
        return
    with st.expander(_("Reveal: the live measurement"), expanded=True):
        if ("corpus", view.REVEAL_M) not in st.session_state.setdefault("cost_runs", set()):
            st.button(
                _("Measure {m} queries now (a few seconds)").format(m=fmt_number(view.REVEAL_M)),
                key="measure_1000", on_click=_request, args=("corpus", view.REVEAL_M),
            )  # fmt: skip
            return
        with st.spinner(_("Timing {n} network passes…").format(n=fmt_number(view.REVEAL_M * len(store)))):
            r = measure("corpus", view.REVEAL_M, store.K, corpus_key())
        drawn["reveal"] = r
        st.markdown(guess_line(choice, ANSWERS[view.verdict(r.ratio)]))
        draw_section(view.reveal_section(r, lang), heading=False)


@st.fragment
def cost_part(store: ra.KeyValueStore, drawn: dict) -> None:
    """Additive against dot-product scoring: the question, then "measure it yourself" with its two widgets."""
    lang = current_lang()
    draw_section(view.cost_section(lang), before=st.container())
    reveal_part(store, drawn, lang)
    head = st.container()
    a, b = st.columns(2)
    names = {k: view.keyset_name(k, lang) for k in view.KEYSETS}
    keyset = a.radio(_("Keys"), list(view.KEYSETS), format_func=names.__getitem__, key="cost_keys", horizontal=True)
    counts = {x: fmt_number(x) for x in view.QUERY_COUNTS}
    m = b.select_slider(_("Queries m"), view.QUERY_COUNTS, value=10, key="cost_m", format_func=counts.__getitem__)
    old = drawn.get("settings") or view.ScoringSettings(lang=lang)
    settings = view.ScoringSettings(old.query, keyset, int(m), old.metric, lang)
    drawn["settings"], drawn["cost"] = settings, None
    pairs = m * (len(store) if keyset == "corpus" else view.SYNTHETIC_N)
    if (
        pairs <= view.MAX_PAIRS
        and pairs > view.AUTO_PAIRS
        and (keyset, m) not in st.session_state.setdefault("cost_runs", set())
    ):
        st.button(
            _("Measure m·n = {pairs} passes (a few seconds)").format(pairs=fmt_number(pairs)),
            key="measure_big", on_click=_request, args=(keyset, m),
        )  # fmt: skip
        draw_section(view.measure_section(None, settings, len(store)), before=head)
        return
    if pairs > view.MAX_PAIRS:
        draw_section(view.measure_section(None, settings, len(store)), before=head)
        return
    with st.spinner(_("Timing both scorings…")):
        r = measure(keyset, m, store.K, corpus_key())
    drawn["cost"] = r
    draw_section(view.measure_section(r, settings, len(store)), before=head)
    download_csv(view.measure_frame(r, settings), "scoring_cost.csv", "dl_cost")


@st.fragment
def scaling_part(drawn: dict) -> None:
    """Softmax peakiness against d: the measure's radio, then the builder's section."""
    lang = current_lang()
    top = st.container()
    metric = st.radio(
        _("Peakiness measured by"),
        ["max_weight", "entropy"],
        key="peak_metric",
        horizontal=True,
        format_func={"max_weight": _("largest weight"), "entropy": _("entropy (nats)")}.__getitem__,
    )
    old = drawn.get("settings") or view.ScoringSettings(lang=lang)
    settings = view.ScoringSettings(old.query, old.keyset, old.m, metric, lang)
    drawn["settings"] = settings
    draw_section(view.scaling_section(settings), before=top)
    download_csv(view.peak_frame(lang), "softmax_peakiness_vs_d.csv", "dl_peak")


def main() -> None:
    lang = current_lang()
    store = get_store(DEFAULT_MODEL)  # only a new query waits for the model
    drawn = st.session_state.setdefault(DRAWN, {})
    draw_intro(view.scoring_title(lang), view.scoring_intro(lang))
    scores_part(store, drawn)
    cost_part(store, drawn)
    scaling_part(drawn)
    st.caption(_("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG."))
    save_button(
        lambda: view.scoring_lesson(store, drawn["fit"], drawn["settings"], cost=drawn.get("cost"), reveal=drawn.get("reveal")),
        "scoring", model=DEFAULT_MODEL,
    )  # fmt: skip


main()
