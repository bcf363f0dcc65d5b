"""Page: target attention over a watch history (Deep Interest Network, Alibaba 2018).

The widgets here; the content in :mod:`retrieval_attention.views.recommender`, this page's widget
groups in :mod:`ui.components.recommender`. Laid out for a projector: the history and the two
targets in one row, the settings in the next, the bars right under them.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

import retrieval_attention as ra
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.specs import corpus_name
from retrieval_attention.views import recommender as view
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.downloads import download_csv
from ui.components.i18n import _, current_lang, fmt_setting, number_signs
from ui.components.recommender import (
    controls_ui,
    encoder_ui,
    ensure_targets,
    history_ui,
    load_personas,
    target_ui,
    temperature_note,
)
from ui.components.store import get_store, shared_corpus_path
from ui.components.text import md

#: session_state: {"settings": what the page drew last}; the evaluation's fragment updates it, the save reads it.
DRAWN = "rec_drawn"


@st.fragment
def evaluation_part(
    store: ra.KeyValueStore,
    settings: view.RecommenderSettings,
    personas: tuple[ra.Persona, ...],
    signs: Lesson,
    drawn: dict,
) -> None:
    """Leave-last-out; a fragment, so its toggle recomputes only this section."""
    head = st.container()
    own = store.temperature_info.recommender
    live = st.toggle(
        _("evaluate at the settings above (each new setting is computed once, ~2 s)"),
        value=False,
        key="rec_eval_live",
        help=_(
            "Off: the package defaults (softmax, the encoder's own T = {t}, no recency), computed once per server."
        ).format(t=fmt_setting(own)),
        disabled=not personas,
    )
    settings = replace(settings, live=bool(live))
    drawn["settings"] = settings
    with st.spinner(_("Ranking every video for every persona, three ways…")):
        section = view.evaluation_section(store, settings, personas)
    draw_section(section, signs, before=head)


def main() -> None:
    lang = current_lang()
    model = encoder_ui()
    store = get_store(model)  # the page uses the cached key and value embeddings only
    personas = load_personas(store.corpus, shared_corpus_path() or "bundled", lang)
    signs = Lesson("", (), (), lang, *number_signs())  # the tables' number signs, as the saved file writes them
    draw_intro(view.recommender_title(lang), view.recommender_intro(lang))
    head = st.container()  # the first section's heading, above its widgets
    pick, col_a, col_b = st.columns([4, 3, 3], vertical_alignment="bottom")
    below = st.container()  # a history built by hand: its multiselect, full width
    history, persona = history_ui(store.corpus, personas, pick, below)
    s = controls_ui(model)
    if not history:
        st.info(_("This history is empty: pick at least one watched video above to see attention over it."))
        return
    seen = set(history)
    candidates = [
        v.id for v in sorted(store.corpus, key=lambda v: (v.category, v.title.casefold())) if v.id not in seen
    ]
    if not candidates:
        st.warning(_("Nothing left to recommend: this history already contains every video in the corpus."))
        return
    settings = view.RecommenderSettings(
        history=tuple(history),
        targets=(),
        temperature=s.temperature,
        normalize=s.normalize,
        half_life=s.half_life,
        who=persona.name if persona else "",
        about=persona.description if persona else "",
        live=bool(st.session_state.get("rec_eval_live", False)),
        lang=lang,
    )
    try:
        ensure_targets(candidates, lambda: view.default_targets(store, settings), history)
        with col_a:
            a = target_ui(store.corpus, candidates, "rec_target_a", _("Target A (the query q)"))
        targets = (a,)
        if s.compare:
            with col_b:
                targets = (a, target_ui(store.corpus, candidates, "rec_target_b", _("Target B (the query q)")))
        settings = replace(settings, targets=targets)
        compare = view.compare_section(store, settings)
    except ra.RetrievalAttentionError as exc:
        st.warning(_("Cannot rank videos for this history: {detail}").format(detail=md(str(exc))))
        return
    drawn = st.session_state.setdefault(DRAWN, {})
    drawn["settings"] = settings
    draw_section(compare, signs, before=head)
    temperature_note(s)
    download_csv(
        view.weights_frame(store, settings),
        "target_attention_weights.csv",
        "rec_dl_weights",
        label=_("Download these weights (CSV)"),
    )
    draw_section(view.cross_section(store, settings), signs)
    download_csv(
        view.cross_matrix(store, settings),
        "cross_attention.csv",
        "rec_dl_matrix",
        label=_("Download the cross-attention matrix (CSV)"),
        index=True,
    )
    draw_section(view.lists_section(store, settings), signs)
    evaluation_part(store, settings, personas, signs, drawn)
    save_button(
        lambda: view.target_attention_lesson(store, drawn["settings"], personas),
        "recommender",
        model=model,
        corpus=corpus_name(store.corpus),
    )


main()
