"""Three retrievals: the widgets here, the content in :mod:`retrieval_attention.views.retrieval`.

The page asks the library once per query (``view.ask``: ``store.retrieve``) and draws the document
its builder makes from the three results. The log-scale toggle of the weights chart lives in a
fragment, so it redraws only that chart; "Save this view" writes the document with the toggle as
it was last drawn.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

import retrieval_attention as ra
from retrieval_attention.export.blocks import LessonSection
from retrieval_attention.export.specs import corpus_name
from retrieval_attention.views import retrieval as view
from retrieval_attention.views.problems import query_problem
from ui.components.controls import sidebar_controls
from ui.components.document import draw_blocks, draw_intro, draw_section, save_button
from ui.components.downloads import download_csv
from ui.components.i18n import _, current_lang
from ui.components.query import query_ui
from ui.components.store import ensure_query, get_store
from ui.components.upload import own_data_controls

#: session_state: the settings the page drew last (the fragment updates the log toggle); the save reads it.
DRAWN = "retrieval_drawn"


@st.fragment
def weights_chart(store: ra.KeyValueStore, results: view.Results, drawn: dict) -> None:
    """The sorted weights and their log-scale toggle: a fragment, so the toggle redraws only this chart."""
    log = st.toggle(_("log scale (see the long tail)"), value=True, key="log_weights")
    settings = drawn["settings"] = dataclasses.replace(drawn["settings"], log_weights=bool(log))
    draw_blocks((view.page_weights_chart(store, settings),))  # the soft results view.ask gave the page


def retrievals(store: ra.KeyValueStore, results: view.Results, drawn: dict, section: LessonSection) -> None:
    """The three columns (``section``), side by side; the weights chart of the third drawn by its fragment."""
    *notes, row = section.blocks
    draw_blocks(tuple(notes))
    hard, topk, soft = row.items
    cut = next(i for i, b in enumerate(soft) if b.kind == "controls")
    # at 1280 wide: the top-k table's titles >= 140 px, the third column's metric labels whole in es (issue 25)
    c1, c2, c3 = st.columns([0.85, 1.25, 1.05], gap="small", border=True)
    draw_blocks(hard, where=c1)
    draw_blocks(topk, where=c2)
    draw_blocks(soft[:cut], where=c3)
    with c3:
        weights_chart(store, results, drawn)
    draw_blocks(soft[cut + 2 :], where=c3)  # after the controls and the chart the fragment drew


def main() -> None:
    lang = current_lang()
    draw_intro(view.retrieval_title(lang), view.retrieval_intro(lang))
    save = st.sidebar.container()  # "Save this view (HTML)", drawn once the page has drawn everything
    controls = sidebar_controls()
    own_data_controls()
    query = query_ui(pills_key="example")
    store = get_store(controls.model, own_data=True)
    ensure_query(store, query)  # a new query needs the model; the examples are cached
    drawn = st.session_state.setdefault(DRAWN, {})
    settings = view.RetrievalSettings(
        query, controls.k, controls.temperature, controls.scale, st.session_state.get("log_weights", True), lang
    )
    try:  # the page's one retrieval: the query is embedded once and q·K computed once
        results = view.ask(store, settings)
    except ra.QueryError as exc:
        if isinstance(query, str) and not query.strip():
            st.info(_("The query is empty: type a few words, or pick an example."))
        else:
            st.info(query_problem(exc, lang))
        return
    except ra.RetrievalAttentionError as exc:
        st.info(query_problem(exc, lang))  # one wording for a refused query (views.problems)
        return
    drawn["settings"] = settings
    columns, continuum, arithmetic, scaling = view.page_sections(store, settings)  # built once per setting
    retrievals(store, results, drawn, columns)
    with st.expander(_("How to read this page: queries, keys, values")):  # the intro's rest, one click away
        draw_blocks(view.retrieval_more(store, lang))
    draw_section(continuum)
    draw_section(arithmetic)
    with st.expander(scaling.heading, expanded=False):
        draw_section(scaling, heading=False)
    label = _("Download all weights (CSV)")
    weights = view.page_weights_table(store, settings)  # a Lazy frame: made only if its CSV is not cached
    download_csv(weights, "attention_weights.csv", "dl_weights", label=label)
    st.caption(_("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG for slides."))
    save_button(
        lambda: view.retrieval_document(store, drawn["settings"], results),
        "retrieval",
        model=controls.model,
        corpus=corpus_name(store.corpus),
        where=save,
    )


main()
