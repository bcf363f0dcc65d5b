"""The query box and its one-click example pills: one default query for every page."""

from __future__ import annotations

import streamlit as st

#: The first query of every page and the main page's one-click examples. They are embedded with
#: the corpus and cached on disk, so a restarted server shows them before the model has loaded.
DEFAULT_QUERY = "funny cat videos"
EXAMPLES = {
    "exact title": "Learn Python in One Hour",
    "paraphrase": "hilarious kitten videos",
    "ambiguous": "python",
    "中文": "股市新闻",
    "español": "recetas fáciles de cocina",
    "nonsense": "zxqv blorptastic",
}
#: The main page's query box; another page's box starts from what was typed there.
MAIN_KEY = "query"


def example_pills(examples: dict[str, str], box_key: str, pills_key: str) -> None:
    """One-click examples under a text box: picking one fills the box (the widget at ``box_key``).

    Args:
        examples: pill label -> the text it puts in the box.
        box_key: the text box's widget key.
        pills_key: the pills' own widget key.
    """

    def fill() -> None:
        choice = st.session_state.get(pills_key)
        if choice:
            st.session_state[box_key] = examples[choice]

    st.pills("Try an example", list(examples), key=pills_key, on_change=fill, help="One click fills the box.")


def query_ui(key: str = MAIN_KEY, pills_key: str | None = None) -> str:
    """The query box, starting from the main page's query (else :data:`DEFAULT_QUERY`).

    Args:
        key: the box's widget key, one per page so each page keeps its own query.
        pills_key: the key of the example pills under the box; None draws no pills.

    Returns:
        The query as typed (not stripped: the library says what is wrong with an empty one).
    """
    st.session_state.setdefault(key, st.session_state.get(MAIN_KEY) or DEFAULT_QUERY)
    query = st.text_input("Query", key=key, placeholder="type a search, e.g. funny cat videos")
    if pills_key is not None:
        example_pills(EXAMPLES, box_key=key, pills_key=pills_key)
    return query
