"""Page: Bahdanau in Q/K/V terms, and 我爱吃苹果 aligned (articles 000 and 001).

The widgets here (the sentence pair, the query word, the raw-cosines toggle); the content in
:mod:`retrieval_attention.views.alignment`. In Chinese the example comes first.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.articles import ALIGN_EN, ALIGN_ZH
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views import alignment as view
from ui.components import articles as ui
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang
from ui.components.query import example_pills

SCORING_PAGE, FRAME_PAGE = "ui/pages/lesson_scoring.py", "ui/pages/frame.py"
QUERY_KEY, KEYS_KEY = "al_queries", "al_keys"


def pair_ui(lang: str) -> tuple[str, str]:
    """The two sentences (queries, keys) with example pairs: widget values only."""
    st.session_state.setdefault(QUERY_KEY, ALIGN_EN)
    st.session_state.setdefault(KEYS_KEY, ALIGN_ZH)
    left, right = st.columns(2, gap="large")
    left.text_input(_("Queries: the sentence being written (one row per word)"), key=QUERY_KEY, max_chars=400)
    right.text_input(_("Keys and values: the sentence being read (one column per word)"), key=KEYS_KEY, max_chars=400)
    example_pills(view.examples(lang), (QUERY_KEY, KEYS_KEY), "al_examples", labels={})
    st.caption(
        _(
            "Words are split at spaces or “/”, punctuation dropped. Chinese with no spaces is read one character "
            "per word, as article 001 does (我 爱 吃 苹 果); put spaces in to keep 苹果 together."
        )
    )
    return str(st.session_state[QUERY_KEY]).strip(), str(st.session_state[KEYS_KEY]).strip()


def bahdanau_part(lang: str) -> None:
    """Article 000's question answered in its own symbols, and the way to the scoring page."""
    draw_section(view.bahdanau_section(lang))
    with st.container(horizontal=True, gap="large"):  # the ways on; the frame's link left the page's top (issue 25)
        st.page_link(SCORING_PAGE, label=_("The scoring page measures the difference"), icon=":material/functions:")
        st.page_link(FRAME_PAGE, label=_("See first: the frame the articles assume"), icon=":material/account_tree:")


def alignment_part(lang: str) -> view.AlignmentSettings:
    """The translation example: the pair, then the builder's section with the word and toggle in place."""
    top = st.container()
    queries, keys = pair_ui(lang)
    settings = view.AlignmentSettings(queries, keys, 0, False, lang)
    if not queries or not keys:
        draw_section(view.alignment_section(settings), before=top)
        return settings
    try:
        with st.spinner(_("Embedding the words with multilingual-e5-small…")):
            al = view.aligned(queries, keys)
    except RetrievalAttentionError as exc:
        draw_section(view.section_head(lang), before=top)
        ui.problem(exc, queries if len(queries) > len(keys) else keys)
        return settings
    middle = st.container()
    word = st.selectbox(
        _("Query word"),
        list(range(len(al.query_words))),
        key=f"al_word_{abs(hash(al.query_words)) % 10**12}",
        format_func=lambda k: f"{k + 1}: {al.query_words[k]}",
    )
    bottom = st.container()
    raw = st.toggle(_("Show the raw cosines"), key="al_raw")
    settings = view.AlignmentSettings(queries, keys, int(word), bool(raw), lang)
    draw_section(view.alignment_section(settings), before=(top, middle, bottom))
    return settings


def main() -> None:
    lang = current_lang()
    draw_intro(view.alignment_title(lang), view.alignment_intro(lang))
    if lang == "zh":  # the Chinese article's own example first
        settings = alignment_part(lang)
        bahdanau_part(lang)
    else:
        bahdanau_part(lang)
        settings = alignment_part(lang)
    save_button(lambda: view.alignment_lesson(settings), "alignment")


main()
