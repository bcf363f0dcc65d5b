"""retrieval_attention: the Streamlit app. Page config and navigation only; each page lives in ui/pages/.

Run with `make demo` (or `streamlit run app.py`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.components.article_nav import article_group
from ui.components.i18n import _, language_switch
from ui.components.present import present_switch, sidebar_state

#: The tab's icon ships with the app (inlined as a data: URL): a `:material/...:` page icon would make
#: the browser fetch it from a font CDN, which fails offline. The navigation's icons come from the
#: Material Symbols font that Streamlit serves itself.
ICON = Path(__file__).parent / "ui" / "assets" / "favicon.svg"

st.set_page_config(
    page_title=_("Attention is soft retrieval"),
    page_icon=ICON,
    layout="wide",
    initial_sidebar_state=sidebar_state(),  # collapsed in presentation mode (?present=1)
)
language_switch()  # first in the sidebar of every page; the titles below are in its language
present_switch()  # "Presentation mode": larger chart type, explanations folded, sidebar collapsed

PAGES = {
    _("Retrieval"): [
        st.Page("ui/pages/retrieval.py", title=_("Three retrievals"), icon=":material/search:", default=True),
        st.Page("ui/pages/analogy.py", title=_("The analogy in 60 seconds"), icon=":material/menu_book:"),
    ],
    _("Recommender"): [
        st.Page("ui/pages/recommender.py", title=_("Target attention (DIN)"), icon=":material/recommend:"),
    ],
    _("Inside a transformer"): [
        st.Page("ui/pages/frame.py", title=_("From RNN to Transformer"), icon=":material/account_tree:"),
        st.Page("ui/pages/transformer.py", title=_("Self, cross and causal attention"), icon=":material/hub:"),
    ],
    _("Lessons"): [
        st.Page("ui/pages/lesson_scoring.py", title=_("Scoring functions"), icon=":material/functions:"),
        st.Page("ui/pages/lesson_smoothing.py", title=_("Attention as smoothing"), icon=":material/show_chart:"),
        st.Page("ui/pages/lesson_topk.py", title=_("Top-k as efficient attention"), icon=":material/filter_list:"),
    ],
    _("The decoder"): [
        st.Page("ui/pages/decoder_next_word.py", title=_("The next word"), icon=":material/edit_note:"),
        st.Page("ui/pages/decoder_kv_cache.py", title=_("The KV cache"), icon=":material/database:"),
        st.Page("ui/pages/decoder_causal.py", title=_("Causal vs bidirectional"), icon=":material/compare_arrows:"),
        st.Page("ui/pages/decoder_translation.py", title=_("Translation and alignment"), icon=":material/g_translate:"),
    ],
    **article_group(),  # "The articles, step by step" (issue 16), titles in the session's language
    _("Reference"): [
        st.Page("ui/pages/glossary.py", title=_("Glossary"), icon=":material/translate:"),
    ],
}

# expanded=True: with more than twelve pages Streamlit would otherwise show ten and hide the rest behind
# "View N more", and a student would not see the last articles or the glossary
st.navigation(PAGES, expanded=True).run()
