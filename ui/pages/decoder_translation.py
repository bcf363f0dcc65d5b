"""Page: 我爱吃苹果, translated and aligned by a trained decoder. The widgets here; the content in
:mod:`retrieval_attention.views.translation`.

The sentence's language and the sentence sit left of the alignment heatmap (the first picture on
the first screen); the numbers, the context vectors and what this is under both. The translator is
the multilingual Gemma 3 (the ``multilingual`` extra): without it the page says how to install it.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views import translation as view
from ui.components import articles as ui
from ui.components.decoders import INSTALL, get_decoder, installed
from ui.components.document import draw_blocks, draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang


def sentence_ui(lang: str) -> tuple[str, str]:
    """The sentence's language and the sentence (one box per language) with examples: widget values only."""
    source = st.segmented_control(
        _("The sentence's language"), list(view.SOURCES), default=view.default_source(lang), key=f"tr_source_{lang}",
        format_func=view.SOURCES.__getitem__,
    ) or view.default_source(lang)  # fmt: skip  (a click on the selected choice clears it: keep the default)
    box = f"tr_sentence_{source}"
    choices = view.examples(source)
    st.session_state.setdefault(box, choices[0])
    sentence = st.text_input(_("Chinese or Spanish, into English"), key=box, max_chars=200)
    ui.example_pills({e: (e,) for e in choices}, (box,), f"tr_examples_{source}")
    return str(source), str(sentence).strip()


def main() -> None:
    lang = current_lang()
    draw_intro(view.translation_title(lang))
    if not installed("gemma3"):
        st.info(
            _("This page needs the multilingual decoder Gemma 3 270M, which is not installed. Install it with `{command}`; "
              "the other pages keep working without it.").format(command=INSTALL["gemma3"]),
            icon=":material/download:",
        )  # fmt: skip
        return
    left, right = st.columns([2, 3], gap="large")
    with left:
        decoder = get_decoder("gemma3")
        draw_blocks(view.translation_intro(lang))
        source, sentence = sentence_ui(lang)
    settings = view.TranslationSettings(sentence, source, lang)
    try:
        with right, st.spinner(_("Gemma 3 is translating…")):
            section = view.alignment_section(decoder, settings)
    except RetrievalAttentionError as exc:
        with right:
            ui.problem(exc, sentence)
        return
    draw_section(section, before=right)  # heading, translation and heatmap beside the widgets; the rest under them
    draw_section(view.what_section(decoder, settings))
    save_button(lambda: view.translation_lesson(decoder, settings), "translation")


main()
