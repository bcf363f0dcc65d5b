"""A lesson saved as one self-contained offline HTML file: the document model and its renderer.

* :mod:`~retrieval_attention.export.document`: :class:`Lesson` (title, facts, sections of text,
  tables and Vega-Lite charts) and :func:`export_html` (the only module that imports
  ``vl_convert``); its fixed script and stylesheet are in :mod:`~retrieval_attention.export.page_assets`;
* :mod:`~retrieval_attention.export.files`: :func:`save_html` (atomic) and :func:`lesson_filename`;
* :mod:`~retrieval_attention.export.specs`: what the builders share (a chart as an inline,
  projector-themed Vega-Lite dict; the facts).

Example:
    >>> import retrieval_attention as ra, tempfile, pathlib
    >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    >>> path = ra.save_html(ra.retrieval_lesson(store, "funny cat videos"), pathlib.Path(tempfile.mkdtemp()) / "x.html")
    >>> path.read_text(encoding="utf-8").count('data-lesson-chart="')  # two output mixes, weights, continuum, ÷√d
    5
"""

from retrieval_attention.export.blocks import (
    Columns,
    Formula,
    LessonChart,
    LessonSection,
    LessonTable,
    Metric,
    Metrics,
    Text,
)
from retrieval_attention.export.document import Lesson, export_html, notebook_html
from retrieval_attention.export.files import lesson_filename, save_html

__all__ = [
    "Columns",
    "Formula",
    "Lesson",
    "LessonChart",
    "LessonSection",
    "LessonTable",
    "Metric",
    "Metrics",
    "Text",
    "export_html",
    "lesson_filename",
    "notebook_html",
    "save_html",
]
