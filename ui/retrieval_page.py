"""Page 1: one query, three retrievals side by side, the temperature continuum and the arithmetic.

The title and introduction go out before the page's heavy imports (pandas, Altair and the charts:
about 0.6 s on the first run after a server start), so the layout shows at once.
"""

from __future__ import annotations

import streamlit as st

st.title("Attention is soft retrieval")
st.markdown(
    "A **query** is compared with every **key** (a video title); the comparison becomes **weights**; "
    "the weights pick out **values** (the videos). Three ways to do it, same query, same keys:"
)

from ui.retrieval_parts import render  # noqa: E402  (after the title, on purpose)

render()
