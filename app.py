"""retrieval_attention: the Streamlit app. Page config and navigation only; each page lives in ui/pages/.

Run with `make demo` (or `streamlit run app.py`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.components.article_nav import article_group

#: The tab's icon ships with the app (inlined as a data: URL): a `:material/...:` page icon would make
#: the browser fetch it from a font CDN, which fails offline. The navigation's icons come from the
#: Material Symbols font that Streamlit serves itself.
ICON = Path(__file__).parent / "ui" / "assets" / "favicon.svg"

st.set_page_config(page_title="Attention is soft retrieval", page_icon=ICON, layout="wide")

PAGES = {
    "Retrieval": [
        st.Page("ui/pages/retrieval.py", title="Three retrievals", icon=":material/search:", default=True),
        st.Page("ui/pages/analogy.py", title="The analogy in 60 seconds", icon=":material/menu_book:"),
    ],
    "Recommender": [
        st.Page("ui/pages/recommender.py", title="Target attention (DIN)", icon=":material/recommend:"),
    ],
    "Inside a transformer": [
        st.Page("ui/pages/transformer.py", title="Self, cross and causal attention", icon=":material/hub:"),
    ],
    "Lessons": [
        st.Page("ui/pages/lesson_scoring.py", title="Scoring functions", icon=":material/functions:"),
        st.Page("ui/pages/lesson_smoothing.py", title="Attention as smoothing", icon=":material/show_chart:"),
        st.Page("ui/pages/lesson_topk.py", title="Top-k as efficient attention", icon=":material/filter_list:"),
    ],
    **article_group(),  # "The articles, step by step" (issue 16), titles in the session's language
}

st.navigation(PAGES).run()
