"""Page: the frame articles 001 and 003 assume. The widget here; the content in :mod:`retrieval_attention.views.frame`.

Three diagrams of 我爱吃苹果 → "I love eating apples" (Vega-Lite charts, so a saved page carries them
too); the decoder step of the attention diagram is the page's one control. No model runs on this page.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.views import frame as view
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang
from ui.components.navigation import ARTICLE_PAGES


def main() -> None:
    lang = current_lang()
    draw_intro(view.frame_title(lang), view.frame_intro(lang))
    draw_section(view.rnn_section(view.FrameSettings(lang=lang)))
    top = st.container()
    words = list(view.steps())
    word = st.segmented_control(_("Decoder step: the word being written"), words, default=words[0], key="fr_step")
    step = words.index(word) + 1 if word in words else 1  # a cleared control shows the first step
    settings = view.FrameSettings(step, lang)
    draw_section(view.attention_section(settings), before=top)
    st.page_link(ARTICLE_PAGES["alignment"], label=_("These weights on real word vectors: 我爱吃苹果 aligned"),
                 icon=":material/translate:")  # fmt: skip
    draw_section(view.transformer_section(settings))
    st.page_link("ui/pages/transformer.py", label=_("The three attentions on a real model"), icon=":material/hub:")
    save_button(lambda: view.frame_lesson(settings), "frame")


main()
