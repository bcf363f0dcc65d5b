"""Page: the KV cache is a key-value store. The widgets here; the content in :mod:`retrieval_attention.views.kv_cache`.

The prompt, "write the next word" and the layer and head sit left of the lookup chart (the first
picture on the first screen); the store's table and the cached-vs-recomputed check under both.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views import kv_cache as view
from retrieval_attention.views.next_word import model_title
from ui.components import articles as ui
from ui.components.decoders import get_decoder, model_ui, prompt_ui, session_runs, write_ui
from ui.components.document import draw_blocks, draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang


def main() -> None:
    lang = current_lang()
    draw_intro(view.kv_title(lang))
    left, right = st.columns([2, 3], gap="large")
    with left:
        name = model_ui(lang, "kv_model")
        decoder = get_decoder(name)
        draw_blocks(view.kv_intro(lang, model_title(decoder)))
        prompt = prompt_ui("kv", lang)
        n = write_ui("kv", (name, prompt))
        cfg = decoder.config
        layer, head = ui.layer_head_ui(f"kv_{name}", cfg.n_layers, cfg.n_heads, layer=cfg.n_layers // 2)
    settings = view.KVSettings(prompt, n, layer, head, lang)
    runs = session_runs()
    try:
        with st.spinner(_("The model is writing…")):
            store = view.store_section(decoder, settings, runs)
    except RetrievalAttentionError as exc:
        with right:
            ui.problem(exc, prompt)
        return
    draw_section(store, before=(right, right))  # heading and chart beside the widgets, the table under them
    with st.spinner(_("Running the text again without the cache, and timing both…")):
        draw_section(view.check_section(decoder, settings, runs))
    save_button(lambda: view.kv_lesson(decoder, settings, runs), "kv_cache")


main()
