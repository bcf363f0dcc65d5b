"""The navigation group "The articles, step by step": which pages, in which order, titled in the session's language.

Kept apart from :mod:`ui.components.articles` so that ``app.py`` imports only streamlit and the
i18n helper before it draws the navigation (the charts and the model come with the pages).
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import _

__all__ = ["PAGES", "article_group"]

#: The group's pages, by name. The alignment page is where Chinese text goes (the English model
#: reads most Chinese characters as [UNK]), so messages on the other pages link to it.
PAGES = {
    "walkthrough": "ui/pages/article_walkthrough.py",
    "riley": "ui/pages/article_riley.py",
    "alignment": "ui/pages/article_alignment.py",
    "projections": "ui/pages/article_projections.py",
}


def article_group() -> dict[str, list[st.Page]]:
    """The group for ``st.navigation``, titled in the session's language.

    Returns:
        {group label: pages}.
    """
    pages = [
        st.Page(PAGES["walkthrough"], title=_("One token, step by step"), icon=":material/footprint:"),
        st.Page(PAGES["riley"], title=_("Riley in three parts"), icon=":material/pets:"),
        st.Page(PAGES["alignment"], title=_("Bahdanau aligns 我爱吃苹果"), icon=":material/translate:"),
        st.Page(PAGES["projections"], title=_("Why three vectors per word"), icon=":material/scatter_plot:"),
    ]
    return {_("The articles, step by step"): pages}
