"""The app's navigation: every page, in its group, titled in the session's language.

The page objects are made once per language and process, and each run gets copies. Making them
costs about a tenth of a main-page slider change (Streamlit resolves and checks each page's file),
and one object cannot serve two runs: ``st.navigation`` marks the page it returns as callable and
that page's ``run`` clears the mark, so two sessions sharing it would race. A copy has its own mark.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import streamlit as st

from ui.components.i18n import _, current_lang

__all__ = ["ARTICLE_PAGES", "pages"]

#: The group "The articles, step by step", by name. The alignment page is where Chinese text goes (the
#: English model reads most Chinese characters as [UNK]), so messages on the other pages link to it.
ARTICLE_PAGES = {
    "walkthrough": "ui/pages/article_walkthrough.py",
    "riley": "ui/pages/article_riley.py",
    "alignment": "ui/pages/article_alignment.py",
    "projections": "ui/pages/article_projections.py",
}

#: The app's folder: page files are named from it, so the objects made once do not depend on which
#: script Streamlit was started with.
ROOT = Path(__file__).resolve().parent.parent.parent


def pages() -> dict[str, list[st.Page]]:
    """``st.navigation``'s argument for this run: {group label: pages}, in the session's language."""
    return {group: [copy.copy(p) for p in items] for group, items in _groups(current_lang())}


@functools.lru_cache(maxsize=3)  # one entry per language
def _groups(lang: str) -> tuple[tuple[str, tuple[st.Page, ...]], ...]:
    """The groups and their pages, made once per language (``_`` translates into ``lang``, the session's)."""

    def page(path: str, title: str, icon: str, **kwargs) -> st.Page:
        return st.Page(ROOT / path, title=title, icon=icon, **kwargs)

    groups = {
        _("Retrieval"): [
            page("ui/pages/retrieval.py", _("Three retrievals"), ":material/search:", default=True),
            page("ui/pages/analogy.py", _("The analogy in 60 seconds"), ":material/menu_book:"),
        ],
        _("Recommender"): [
            page("ui/pages/recommender.py", _("Target attention (DIN)"), ":material/recommend:"),
        ],
        _("Inside a transformer"): [
            page("ui/pages/frame.py", _("From RNN to Transformer"), ":material/account_tree:"),
            page("ui/pages/transformer.py", _("Self, cross and causal attention"), ":material/hub:"),
        ],
        _("Lessons"): [
            page("ui/pages/lesson_scoring.py", _("Scoring functions"), ":material/functions:"),
            page("ui/pages/lesson_smoothing.py", _("Attention as smoothing"), ":material/show_chart:"),
            page("ui/pages/lesson_topk.py", _("Top-k as efficient attention"), ":material/filter_list:"),
        ],
        _("The decoder"): [
            page("ui/pages/decoder_next_word.py", _("The next word"), ":material/edit_note:"),
            page("ui/pages/decoder_kv_cache.py", _("The KV cache"), ":material/database:"),
            page("ui/pages/decoder_causal.py", _("Causal vs bidirectional"), ":material/compare_arrows:"),
            page("ui/pages/decoder_translation.py", _("Translation and alignment"), ":material/g_translate:"),
        ],
        _("The articles, step by step"): [  # issue 16
            page(ARTICLE_PAGES["walkthrough"], _("One token, step by step"), ":material/footprint:"),
            page(ARTICLE_PAGES["riley"], _("Riley in three parts"), ":material/pets:"),
            page(ARTICLE_PAGES["alignment"], _("Bahdanau aligns 我爱吃苹果"), ":material/translate:"),
            page(ARTICLE_PAGES["projections"], _("Why three vectors per word"), ":material/scatter_plot:"),
        ],
        _("Reference"): [
            page("ui/pages/glossary.py", _("Glossary"), ":material/translate:"),
        ],
    }
    return tuple((group, tuple(items)) for group, items in groups.items())
