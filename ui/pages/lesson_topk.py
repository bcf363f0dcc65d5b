"""Lesson: top-k retrieval as efficient attention: what the k best keys keep, what the tail costs.

The widgets here (the sidebar's encoder and T, the query, k, the question); the content in
:mod:`retrieval_attention.views.topk`, which asks the store once per query, k and T.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

import retrieval_attention as ra
from retrieval_attention.export.specs import corpus_name
from retrieval_attention.views import topk as view
from ui.components.controls import sidebar_controls
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.downloads import download_csv
from ui.components.i18n import N_, _, current_lang
from ui.components.predict import guess_line, predict_ui
from ui.components.query import query_ui
from ui.components.store import ensure_query, get_store
from ui.components.text import md

#: The question's options (the radio's values), from the least to the most weight kept; shown translated.
ANSWERS = [N_("About 10%"), N_("About half"), N_("About 90%"), N_("More than 99%")]
#: session_state: what the page drew last ({"settings"}); the question's fragment updates the guess, the save reads it.
DRAWN = "topk_drawn"


@st.fragment
def question(store: ra.KeyValueStore, settings: view.TopKSettings, drawn: dict) -> None:
    """How much weight does the top 10 keep at the encoder's own T? Asked first, then the builder's reveal."""
    choice = predict_ui(view.topk_question(settings), ANSWERS, key="topk_guess")
    drawn["settings"] = settings = replace(settings, guess=choice)
    if choice is None:
        return
    section = view.reveal_section(store, settings)
    with st.expander(section.heading, expanded=True):
        draw_section(section, heading=False)
        st.markdown(guess_line(choice, ANSWERS[view.verdict(view.kept_share(store, settings))]))


def main() -> None:
    lang = current_lang()
    draw_intro(view.topk_title(lang), view.topk_intro(lang))
    controls = sidebar_controls(show_k=False)
    a, b = st.columns([3, 2], gap="medium")
    with a:
        query = query_ui(key="topk_query")
    store = get_store(controls.model)
    k = b.slider(_("k: keys kept"), 1, len(store), 5, key="topk_k")
    ensure_query(store, query)  # only a new query waits for the model
    settings = view.TopKSettings(
        query, int(k), controls.temperature, controls.scale, controls.own_temperature, lang=lang
    )
    try:  # the page's one retrieval: FAISS's top k, carrying the q·k of every key
        view.searched(store, query, int(k), controls.temperature, controls.scale)
    except ra.QueryError as exc:
        st.info(_("This query cannot be used: {detail}").format(detail=md(str(exc))))
        return
    except ra.RetrievalAttentionError as exc:
        st.info(md(str(exc)))
        return
    drawn = st.session_state.setdefault(DRAWN, {})
    draw_section(view.weights_section(store, settings))  # the picture first: on a projector's first screen
    download_csv(view.weights_frame(store, settings), "topk_weights.csv", "dl_topk_weights")
    question(store, settings, drawn)
    draw_section(view.identities_section(store, settings))
    draw_section(view.curve_section(store, settings))
    download_csv(view.curve_frame(store, settings), "topk_curve.csv", "dl_topk_curve")
    draw_section(view.related_section(lang))
    st.caption(_("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG."))
    save_button(
        lambda: view.topk_lesson(store, drawn["settings"]),
        "topk",
        model=controls.model,
        corpus=corpus_name(store.corpus),
    )


main()
