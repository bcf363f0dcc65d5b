"""A lesson saved as one self-contained offline HTML file: the document model, its renderer and builders.

:mod:`~retrieval_attention.export.document` holds :class:`Lesson` and :func:`export_html` (the only
module that imports ``vl_convert``).
"""

from retrieval_attention.export.document import (
    Lesson,
    LessonChart,
    LessonSection,
    LessonTable,
    export_html,
    lesson_filename,
    save_html,
)

__all__ = ["Lesson", "LessonChart", "LessonSection", "LessonTable", "export_html", "lesson_filename", "save_html"]
