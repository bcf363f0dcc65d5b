"""Page: the search-engine analogy, for students, in a few sentences (no model, no data).

The content is :mod:`retrieval_attention.views.analogy`; this page draws it and links onwards.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.views import analogy as view
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang


def main() -> None:
    lang = current_lang()
    lesson = view.analogy_lesson(lang)
    draw_intro(lesson.title)
    for section in lesson.sections:
        draw_section(section, lesson)
    st.page_link("ui/pages/retrieval.py", label=_("Try it: three retrievals side by side"), icon=":material/search:")
    save_button(lambda: lesson, "analogy")


main()
