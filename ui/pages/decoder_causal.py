"""Page: causal vs bidirectional. The widgets here; the content in :mod:`retrieval_attention.views.causal`.

The sentence and the decoder on top; each model's layer and head above its own heatmap, the
encoder left (all-MiniLM-L6-v2; multilingual-e5-small in Chinese and Spanish), the decoder right.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.inspector import load_inspector
from retrieval_attention.views import causal as view
from ui.components import articles as ui
from ui.components.decoders import get_decoder, model_ui
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang


def sentence_ui(lang: str) -> str:
    """The sentence box (one per language, opening on that language's example): the widget value only."""
    box = f"cv_sentence_{lang}"
    st.session_state.setdefault(box, view.examples(lang)[0])
    return str(st.text_input(_("Sentence"), key=box, max_chars=200)).strip()


def main() -> None:
    lang = current_lang()
    draw_intro(view.causal_title(lang), view.causal_intro(lang))
    top_left, top_right = st.columns(2, gap="large")
    with top_left:
        sentence = sentence_ui(lang)
    with top_right:
        name = model_ui(lang, "cv_model")
        decoder = get_decoder(name)
    encoder = view.default_encoder(lang)
    with st.spinner(_("Loading {model} (first time only)…").format(model=encoder or "all-MiniLM-L6-v2")):
        try:
            inspector = load_inspector(encoder)
        except RetrievalAttentionError:  # the multilingual extra is not installed: the English encoder answers
            inspector = load_inspector()
    left, right = st.columns(2, gap="large")
    with left:
        enc_layer, enc_head = ui.layer_head_ui("cv_encoder", inspector.n_layers, inspector.n_heads)
    with right:
        cfg = decoder.config
        dec_layer, dec_head = ui.layer_head_ui(f"cv_{name}", cfg.n_layers, cfg.n_heads, layer=cfg.n_layers // 2)
    settings = view.CausalSettings(sentence, enc_layer, enc_head, dec_layer, dec_head, lang)
    try:
        section = view.side_section(inspector, decoder, settings)
    except RetrievalAttentionError as exc:
        ui.problem(exc, sentence)
        return
    draw_section(section, heading=False)
    save_button(lambda: view.causal_lesson(inspector, decoder, settings), "causal")


main()
