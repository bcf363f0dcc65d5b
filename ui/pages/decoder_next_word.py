"""Page: the next word. The widgets here; the content in :mod:`retrieval_attention.views.next_word`.

The prompt, the decoder, the temperature and "write the next word" sit left of the distribution
chart (the first picture on the first screen); the layer and head of the attention row under it.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views import next_word as view
from ui.components import articles as ui
from ui.components.decoders import get_decoder, model_ui, prompt_ui, session_runs, write_ui
from ui.components.document import draw_blocks, draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang, setting_labels


def draw_ui() -> tuple[float, int]:
    """The temperature and (for T > 0) the seed of the draw: widget values only."""
    temperature = st.select_slider(
        _("Temperature T (0 = greedy)"), view.TEMPERATURES, value=0.0, key="nw_temperature",
        format_func=setting_labels(list(view.TEMPERATURES)),
    )  # fmt: skip
    seed = 0
    if temperature > 0:
        seed = int(st.number_input(_("Seed of the random draw"), 0, 10_000, 0, key="nw_seed"))
    return float(temperature), seed


def main() -> None:
    lang = current_lang()
    draw_intro(view.next_word_title(lang))
    left, right = st.columns([2, 3], gap="large")
    with left:
        name = model_ui(lang, "nw_model")
        decoder = get_decoder(name)
        draw_blocks(view.next_word_intro(lang, view.model_title(decoder)))
        prompt = prompt_ui("nw", lang)
        temperature, seed = draw_ui()
        n = write_ui("nw", (name, prompt, temperature, seed))
    settings = view.NextWordSettings(prompt, temperature, seed, n, lang=lang)  # the layer and head come below
    runs = session_runs()
    try:
        with right, st.spinner(_("The model is writing…")):
            draw_section(view.next_section(decoder, settings, runs))
    except RetrievalAttentionError as exc:
        with right:
            ui.problem(exc, prompt)
        return
    top = st.container()
    layer, head = ui.layer_head_ui(f"nw_{name}", decoder.config.n_layers, decoder.config.n_heads,
                                   layer=decoder.config.n_layers // 2)  # fmt: skip
    settings = view.NextWordSettings(prompt, temperature, seed, n, layer, head, lang)
    draw_section(view.attention_section(decoder, settings, runs), before=top)
    save_button(lambda: view.next_word_lesson(decoder, settings, runs), "next_word")


main()
