"""The glossary: every term the app uses, in English, 中文 and Español side by side (issue 13).

The table and its introduction are :mod:`retrieval_attention.views.glossary`; this page draws them.
"""

from __future__ import annotations

from retrieval_attention.views import glossary as view
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import current_lang


def main() -> None:
    lesson = view.glossary_lesson(current_lang())
    draw_intro(lesson.title, lesson.intro)
    for section in lesson.sections:
        draw_section(section, lesson)  # a static table: every meaning wraps, none is cut
    save_button(lambda: lesson, "glossary")


main()
