"""Page: causal vs bidirectional. The widgets here; the content in :mod:`retrieval_attention.views.causal`.

The sentence and the two models on top; the encoder's heatmap left and the decoder's right, each
with its own layer and head under it; the numbers of both, side by side, below. Without a decoder
package the right half says how to install one and the encoder half still shows.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.config import DEFAULT_MODEL, MULTILINGUAL_MODEL
from retrieval_attention.core.validate import MAX_SENTENCE_CHARS
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views import causal as view
from ui.components import articles as ui
from ui.components.decoders import INSTALL, get_decoder, installed, model_ui
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang
from ui.components.transformer import get_inspector


def encoder_ui(lang: str, where) -> str:
    """The encoder choice: multilingual-e5-small first in Chinese and Spanish, all-MiniLM-L6-v2 in English."""
    models = [DEFAULT_MODEL, MULTILINGUAL_MODEL]
    choice = where.selectbox(
        _("Encoder"), models, index=models.index(view.default_encoder(lang)), key=f"cv_encoder_{lang}",
        help=_("Both run on this app's own numpy forward pass; all-MiniLM-L6-v2 reads most Chinese as [UNK]."),
    )  # fmt: skip
    return str(choice)


def sentence_ui(lang: str) -> str:
    """The sentence box (one per language, so a switch starts from that language's example), stripped."""
    key = f"cv_sentence_{lang}"
    st.session_state.setdefault(key, view.examples(lang)[0])
    st.text_input(_("Sentence"), key=key, max_chars=MAX_SENTENCE_CHARS, placeholder=_("type a sentence"))
    return str(st.session_state[key]).strip()


def main() -> None:
    lang = current_lang()
    draw_intro(view.causal_title(lang), view.causal_intro(lang))
    box, left_model, right_model = st.columns([5, 4, 5])
    with box:
        sentence = sentence_ui(lang)
    encoder = encoder_ui(lang, left_model)
    name = model_ui(lang, "cv_decoder", where=right_model)
    ui.example_pills({e: (e,) for e in view.examples(lang)}, (f"cv_sentence_{lang}",), f"cv_examples_{lang}")
    if not sentence:
        st.info(_("Type a sentence for both models to read."))
        return
    ins = get_inspector(encoder)
    left, right = st.columns(2, gap="medium")
    settings = view.CausalSettings(sentence, lang=lang)
    ok = True
    with left:
        top = st.container()
        layer, head = ui.layer_head_ui(f"cv_enc_{encoder}", ins.n_layers, ins.n_heads)
        settings = view.CausalSettings(sentence, layer, head, lang=lang)
        try:
            draw_section(view.encoder_section(ins, settings), before=top)
        except RetrievalAttentionError as exc:
            ui.problem(exc, sentence)
            ok = False
    decoder = None
    with right:
        if not installed(name):
            draw_section(view.decoder_section(None, settings, install=INSTALL[name]))
            return
        decoder = get_decoder(name)
        top = st.container()
        cfg = decoder.config
        layer, head = ui.layer_head_ui(f"cv_dec_{name}", cfg.n_layers, cfg.n_heads, layer=cfg.n_layers // 2)
        settings = view.CausalSettings(sentence, settings.encoder_layer, settings.encoder_head, layer, head, lang)
        try:
            draw_section(view.decoder_section(decoder, settings), before=top)
        except RetrievalAttentionError as exc:
            ui.problem(exc, sentence)
            ok = False
    if not ok:
        return
    draw_section(view.compare_section(ins, decoder, settings))
    save_button(lambda: view.causal_lesson(ins, decoder, settings), "causal", model=encoder, corpus=name)


main()
