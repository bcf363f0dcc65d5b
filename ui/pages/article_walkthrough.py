"""Page: one token, step by step (article 001, 注意力机制, "Self-Attention单字计算").

The widgets here (the calculator's boxes, the sentence, layer, head, token, and the toggles); the
content in :mod:`retrieval_attention.views.walkthrough`: the article's own numbers by hand, then the
same five steps inside all-MiniLM-L6-v2, then the matrix form.
"""

from __future__ import annotations

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.inspector import TransformerInspector
from retrieval_attention.views import walkthrough as view
from ui.components import articles as ui
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang
from ui.components.worked_example import inputs_ui


def go_to(layer: int, head: int) -> None:
    """Set the layer and head sliders (a button's callback)."""
    st.session_state["aw_layer"], st.session_state["aw_head"] = layer, head


def hand_part(lang: str) -> view.WalkthroughSettings:
    """The article's numbers by hand: the steps, the boxes under them, then the weighted sum."""
    top = st.container()
    scores, d_k, values = inputs_ui()
    settings = view.WalkthroughSettings(scores, d_k, values, lang=lang)
    try:
        section = view.hand_section(settings)
    except RetrievalAttentionError as exc:
        draw_section(view.hand_head(lang), before=top)
        ui.problem(exc)
        return settings
    draw_section(section, before=top)
    return settings


def model_part(
    ins: TransformerInspector, settings: view.WalkthroughSettings, top: DeltaGenerator
) -> view.WalkthroughSettings:
    """The same steps in the model: its widgets, then the builder's sections with the toggles in place."""
    lang = settings.lang
    sentence = ui.sentence_ui("aw_sentence", view.THINKING, view.examples(lang))
    layer, head = ui.layer_head_ui("aw", ins.n_layers, ins.n_heads)
    settings = view.WalkthroughSettings(
        settings.scores, settings.d_k, settings.values, sentence, layer, head, lang=lang
    )
    if not sentence:
        draw_section(view.model_section(lang, empty=True), before=top)
        return settings
    try:
        first = view.walk(ins, sentence, layer, head, None)
    except RetrievalAttentionError as exc:
        draw_section(view.model_head(lang), before=top)
        ui.problem(exc, sentence)
        return settings
    middle = st.container()
    token = ui.token_chips(first.tokens, "aw_token", view.default_token(first.tokens))
    words = ui.words_toggle("aw_words")
    draw_section(view.model_section(lang), before=(top, middle))
    try:
        w = view.walk(ins, sentence, layer, head, token)
    except RetrievalAttentionError as exc:
        ui.problem(exc, sentence)
        return settings
    draw_section(view.vectors_section(w, lang))
    top = st.container()
    aside = st.toggle(_("Set [CLS] and [SEP] aside (the rest renormalised to sum 1)"), key="aw_hide_special")
    middle = st.container()
    found = view.self_head(ins, sentence, w.token)
    if found is not None and (found.layer, found.head) != (w.layer, w.head):
        st.button(
            _("Show layer {layer}, head {head}").format(layer=found.layer, head=found.head),
            key="aw_go_self", on_click=go_to, args=(found.layer, found.head), icon=":material/arrow_forward:",
        )  # fmt: skip
    settings = view.WalkthroughSettings(
        settings.scores, settings.d_k, settings.values, sentence, layer, head, token, words, aside, lang
    )
    draw_section(view.scores_section(ins, w, settings), before=(top, middle))
    draw_section(view.sum_section(w, lang))
    draw_section(view.matrix_section(w.shapes, ins.name, lang))
    return settings


def main() -> None:
    lang = current_lang()
    draw_intro(view.walkthrough_title(lang), view.walkthrough_intro(lang))
    st.page_link(
        "ui/pages/frame.py", label=_("See first: the frame the articles assume"), icon=":material/account_tree:"
    )
    settings = hand_part(lang)
    top = st.container()
    ins = ui.get_inspector()
    settings = model_part(ins, settings, top)
    save_button(lambda: view.walkthrough_lesson(ins, settings, ins.name), "walkthrough", model=ins.name)


main()
