"""retrieval_attention: the Streamlit app. Page config and navigation only; each page lives in ui/pages/.

Run with `make demo` (or `streamlit run app.py`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.components.i18n import _, language_switch
from ui.components.navigation import pages
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

# expanded=True: with more than twelve pages Streamlit would otherwise show ten and hide the rest behind
# "View N more", and a student would not see the last articles or the glossary
st.navigation(pages(), expanded=True).run()  # made once per language (ui/components/navigation.py)
