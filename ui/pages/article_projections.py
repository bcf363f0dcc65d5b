"""Page: why three vectors per word (articles 002 and 004).

The widgets here; the content (the tokens' x, q and k in 2-D, and the sentence shuffled without
and with the position embeddings) in :mod:`retrieval_attention.views.projections`.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views import projections as view
from ui.components import articles as ui
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang


def shuffle_ui(lang: str) -> tuple[str, bool, int]:
    """The sentence to shuffle, the word toggle and the shuffle's seed: widget values only."""
    sentence = ui.sentence_ui("ap_shuffle_sentence", view.SHORT.get(lang, view.SHORT["en"]), view.examples(lang),
                              label=_("Sentence to shuffle"))  # fmt: skip
    st.session_state.setdefault("ap_seed", 0)
    row = st.container(horizontal=True, gap="medium", vertical_alignment="center")
    with row:
        words = ui.words_toggle("ap_words")
        if st.button(_("Shuffle again"), key="ap_shuffle", icon=":material/shuffle:"):
            st.session_state["ap_seed"] += 1
    return sentence, words, int(st.session_state["ap_seed"])


def draw(build, ins, settings: view.ProjectionSettings, key: str, top, problem_text: str) -> None:
    """One section from the builder, or its head and a clear message for input the library refused."""
    try:
        section = build(ins, settings)
    except RetrievalAttentionError as exc:
        draw_section(view.section_head(key, settings.lang), before=top)
        ui.problem(exc, problem_text)
        return
    draw_section(section, before=top)


def main() -> None:
    lang = current_lang()
    first = view.ProjectionSettings.first(lang)
    draw_intro(view.projections_title(lang), view.projections_intro(lang))

    top = st.container()  # the heading, what to notice and the picture; the model and the widgets under them
    ins = ui.get_inspector()
    sentence = ui.sentence_ui("ap_sentence", first.sentence, view.examples(lang))
    layer, head = ui.layer_head_ui("ap", ins.n_layers, ins.n_heads)
    settings = view.ProjectionSettings(sentence, layer, head, first.shuffle_sentence, False, 0, lang)
    draw(view.projections_section, ins, settings, "projections", top, sentence)

    top = st.container()
    shuffled, words, seed = shuffle_ui(lang)
    settings = view.ProjectionSettings(sentence, layer, head, shuffled, words, seed, lang)
    draw(view.shuffle_section, ins, settings, "shuffle", top, shuffled)
    save_button(lambda: view.projections_lesson(ins, settings), "projections")


main()
