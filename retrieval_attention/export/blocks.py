"""The blocks of a page's document: what one page shows, as plain data.

A :class:`~retrieval_attention.export.document.Lesson` has a title, its facts (model, corpus, query, settings) and sections; a section
has a heading and its blocks in the order the page shows them: prose (:class:`Text`), a formula,
a row of metrics, a table, a chart. Every block has a ``key``, stable across reruns, so the app
can give a widget-like element the same identity each time and a test can find it. Text is our
markdown (:mod:`~retrieval_attention.export.markup`): our sentences with ``**bold**``/``*italic*``,
user data escaped. The same dataclasses are drawn by three renderers: Streamlit
(``ui/components/document.py``), HTML (:func:`~retrieval_attention.export.document.export_html`)
and Jupyter (``Lesson._repr_html_``).

Older builders fill a section's ``paragraphs``, ``tables`` and ``charts`` (drawn in that order);
page builders fill ``blocks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Union

__all__ = [
    "Block",
    "Columns",
    "Controls",
    "Formula",
    "LessonChart",
    "LessonSection",
    "LessonTable",
    "Metric",
    "Metrics",
    "Text",
    "TextStyle",
    "walk",
]

#: How a piece of prose is set: body text, a small caption, a coloured box (as ``st.info`` etc.), or a
#: subheading inside a section (``st.subheader``, ``<h3>``).
TextStyle = Literal["body", "caption", "info", "success", "warning", "error", "subheader"]


@dataclass(frozen=True)
class Text:
    """Prose in our markdown; user data inside it went through :func:`~retrieval_attention.export.markup.md`."""

    kind: ClassVar[str] = "text"  # what a renderer draws it as

    text: str  # e.g. "**Hit**: the key exists, one weight is 1, all others 0."
    style: TextStyle = "body"
    key: str = ""  # stable name of the block within its document
    icon: str = ""  # the page's icon for it (":material/visibility:", an emoji); a file leaves it out


@dataclass(frozen=True)
class Formula:
    """A displayed formula in LaTeX (``st.latex`` on the page, the LaTeX source as code in a file)."""

    kind: ClassVar[str] = "formula"  # what a renderer draws it as

    latex: str
    key: str = ""


@dataclass(frozen=True)
class Controls:
    """Where the page puts its widgets inside a section (nothing in a file: the settings are its facts)."""

    kind: ClassVar[str] = "controls"  # what a renderer draws it as
    key: str = ""


@dataclass(frozen=True)
class Metric:
    """One number with its label, as ``st.metric`` shows it; the value is already formatted."""

    label: str
    value: str  # formatted with the document's number signs
    help: str = ""  # the tooltip on the page, a note under the value in a file


@dataclass(frozen=True)
class Metrics:
    """Metrics side by side (one row of columns)."""

    kind: ClassVar[str] = "metrics"  # what a renderer draws it as

    items: tuple[Metric, ...]
    key: str = ""


@dataclass(frozen=True)
class LessonTable:
    """A table of numbers and labels, drawn as an HTML ``<table>``."""

    kind: ClassVar[str] = "table"  # what a renderer draws it as

    columns: tuple[str, ...]  # header cells, already translated
    rows: tuple[tuple[object, ...], ...]  # cells: str / int / float (floats written with the lesson's number signs)
    caption: str = ""  # shown above the table
    decimals: int | tuple[int, ...] = 3  # digits after the decimal sign for float cells: one for all, or per column
    key: str = ""
    static: bool = False  # the page draws it as a static table (``st.table``: every cell wraps, none is cut)


@dataclass(frozen=True)
class LessonChart:
    """One Vega-Lite chart; its data must be inline (``alt.Chart.to_dict()``), never a URL."""

    kind: ClassVar[str] = "chart"  # what a renderer draws it as

    spec: Mapping[str, Any]  # a Vega-Lite dict with its data inline
    title: str = ""  # shown above the chart (unless the chart draws this same title), and its aria-label
    key: str = ""
    height: int | None = None  # the page's element height in pixels; None: the spec's own
    width: int | str | None = None  # the page's element width ("content": the spec's own); None: Streamlit's default


@dataclass(frozen=True)
class Columns:
    """Groups of blocks side by side (``st.columns`` on the page, a wrapping row in a file)."""

    kind: ClassVar[str] = "columns"  # what a renderer draws it as

    items: tuple[tuple[Block, ...], ...]  # one tuple of blocks per column, left to right
    border: bool = False  # each column in a bordered box
    key: str = ""


Block = Union[Text, Formula, Controls, Metrics, LessonTable, LessonChart, Columns]  # noqa: UP007 (a runtime alias, Python 3.10)


def walk(blocks: tuple[Block, ...]) -> tuple[Block, ...]:
    """Every block, the ones inside :class:`Columns` too (after their row), in reading order.

    Example:
        >>> row = Columns(((Text("a", key="a"),), (Text("b", key="b"),)), key="row")
        >>> [b.key for b in walk((Text("x", key="x"), row))]
        ['x', 'row', 'a', 'b']
    """
    out: list[Block] = []
    for block in blocks:
        out.append(block)
        if isinstance(block, Columns):
            out += [b for column in block.items for b in walk(column)]
    return tuple(out)


@dataclass(frozen=True)
class LessonSection:
    """A heading with its content: ``blocks`` in order, or (older builders) paragraphs, tables, charts."""

    heading: str
    paragraphs: tuple[str, ...] = ()  # plain text (never HTML); may contain user text
    tables: tuple[LessonTable, ...] = ()
    charts: tuple[LessonChart, ...] = ()
    blocks: tuple[Block, ...] = ()  # a page builder's content, in the order the page draws it
    key: str = ""

    def content(self) -> tuple[Block, ...]:
        """Everything the section shows, in order: its blocks, or its paragraphs, tables and charts."""
        if self.blocks:
            return self.blocks
        return (
            *(Text(p, key=f"p{i}", style="body") for i, p in enumerate(self.paragraphs)),
            *self.tables,
            *self.charts,
        )
