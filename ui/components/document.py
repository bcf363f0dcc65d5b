"""The one renderer: a page's document (built in ``retrieval_attention.views``) drawn with ``st.*``, and saved.

A page places its widgets, asks its builder for the document, and hands it here. Each kind of
block has one way to appear: prose through ``st.markdown`` (our markdown, user data already
escaped by the builder, never HTML; folded into an expander in presentation mode, see
:mod:`ui.components.present`), captions and notes through ``st.caption`` / ``st.info`` ...,
formulas through ``st.latex``, metrics as a row of ``st.metric``, tables as text cells written with
the document's number signs (so the page and its saved file read the same), charts through
``st.vega_lite_chart`` at the height the builder gave (the plot's, with the element as tall as the whole
drawing, for a chart that fits only its width, as in the saved file; the element's for a chart Streamlit
fits whole into it). A chart's rows are handed over as Arrow IPC bytes (:func:`arrow_rows`, no pandas
frame, then :func:`arrow_bytes`), made once per specification object (:func:`drawn_charts`): the
builders cache their specifications, so a revisited setting draws its charts without converting or
serialising their data again; a table's cells are written once per table the same way
(:func:`drawn_tables`). A :class:`Controls` block marks where the page's widgets sit inside a section:
:func:`draw_section` draws what comes before it into a container the page opened above its widgets.

:func:`save_button` offers the same document as one offline HTML file; it is written only when
clicked, on Streamlit's download thread, from the document the page drew.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from retrieval_attention.charts.spec import RenderCache, Same
from retrieval_attention.charts.theme import projector_spec
from retrieval_attention.export.blocks import Block, LessonSection, LessonTable
from retrieval_attention.export.document import Lesson, chart_spec_sized, format_cell
from ui.components.i18n import _, number_signs
from ui.components.present import chart_size, explain

__all__ = ["draw_blocks", "draw_intro", "draw_section", "drawn_charts", "drawn_tables", "save_button", "table_frame"]

_BOXES = {"info": "info", "success": "success", "warning": "warning", "error": "error"}


def table_frame(table: LessonTable, decimal: str = ".", thousands: str = ",") -> pd.DataFrame:
    """A table's cells as the text the saved file shows (numbers with the document's signs and decimals)."""
    per_column = table.decimals if isinstance(table.decimals, tuple) else ()
    rows = []
    for row in table.rows:
        cells = []
        for i, value in enumerate(row):
            decimals = per_column[i] if i < len(per_column) else (3 if per_column else table.decimals)
            cells.append(format_cell(value, decimal, thousands, decimals))
        rows.append(cells)
    return pd.DataFrame(rows, columns=list(table.columns))


def _streamlit_copy(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``spec`` copied as deep as ``st.vega_lite_chart`` writes into what it is given.

    Streamlit pops the top level's datasets and replaces a null colour-legend title
    (``encoding.color.title``, ``encoding.color.legend.title``) with a space, in place. A block's
    specification is shared (the builders cache it for every session, and "Save this view" writes
    it), so those dictionaries are copied; the rest is read only.
    """
    out = dict(spec)
    encoding = out.get("encoding")
    if isinstance(encoding, Mapping) and isinstance(encoding.get("color"), Mapping):
        color = dict(encoding["color"])
        if isinstance(color.get("legend"), Mapping):
            color["legend"] = dict(color["legend"])
        out["encoding"] = {**encoding, "color": color}
    return out


@st.cache_resource(show_spinner=False)
def drawn_charts() -> RenderCache:
    """The server's charts as ``st.vega_lite_chart`` takes them (sized, rows as Arrow bytes), per specification."""
    return RenderCache(max_entries=128, max_bytes=64 * 1024 * 1024)


@st.cache_resource(show_spinner=False)
def drawn_tables() -> RenderCache:
    """The server's tables as the text cells a page shows (:func:`table_frame`, as Arrow), per table block and signs."""
    return RenderCache(max_entries=128, max_bytes=64 * 1024 * 1024)


def arrow_rows(rows: list[Mapping[str, Any]]) -> pa.Table | list[Mapping[str, Any]]:
    """A dataset's rows as an Arrow table, column by column, without a pandas frame on the way.

    Streamlit turns a list of rows into a pandas frame and then into Arrow; for a chart's few hundred
    rows the frame is most of the cost of a new chart (pandas' Arrow-backed text columns). Arrow
    infers each column's type from its values as pandas would for these rows (numbers, text, booleans,
    missing values as nulls). Rows Arrow cannot type (a column mixing text and numbers) are returned
    as they are, for Streamlit to convert its own way.

    Args:
        rows: the dataset's rows (a Vega-Lite named dataset).

    Returns:
        The table (every key of any row is a column, in order of first appearance), or ``rows``.
    """
    columns = getattr(rows, "columns", None)  # a template's Records keep their columns: no need to take rows apart
    if not isinstance(columns, Mapping):
        names = list(dict.fromkeys(key for row in rows for key in row))
        columns = {name: [row.get(name) for row in rows] for name in names}
    try:
        return pa.table({name: pa.array(values) for name, values in columns.items()})
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        return rows


def arrow_bytes(table: pa.Table) -> bytes:
    """``table`` as Arrow IPC stream bytes: what ``st.vega_lite_chart`` sends for a dataset.

    Streamlit serialises a ``pyarrow.Table`` dataset this way on every call and passes bytes through as
    they are, so a chart drawn again from cached bytes costs no serialisation. (Streamlit first narrows a
    ``large_list`` column, which the browser's Arrow cannot read; :func:`arrow_rows` never makes one.)

    Example:
        >>> import io
        >>> t = pa.table({"w": [0.25, 0.75]})
        >>> pa.ipc.open_stream(io.BytesIO(arrow_bytes(t))).read_all().equals(t)
        True
    """
    sink = pa.BufferOutputStream()
    with pa.RecordBatchStreamWriter(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def _dataset(rows: Any) -> Any:
    """A dataset as the page sends it: rows Arrow can type as IPC bytes, anything else as it is."""
    if not isinstance(rows, list) or not rows:
        return rows
    table = arrow_rows(rows)
    return arrow_bytes(table) if isinstance(table, pa.Table) else table


def _for_streamlit(spec: Mapping[str, Any], size: str) -> dict[str, Any]:
    """``spec`` at ``size`` with every dataset's rows as Arrow IPC bytes: once per specification object and size.

    The builders cache their specifications (the same object on every revisit, for every session) and
    never change one, so the object itself is the key; a specification built afresh on every rerun
    costs one conversion of its rows (:func:`arrow_rows`, :func:`arrow_bytes`), cheaper than the one
    Streamlit would make. ``st.vega_lite_chart`` sends a dataset given as bytes as they are.
    """

    def build() -> dict[str, Any]:
        out = dict(spec if size == "projector" else projector_spec(spec, size))
        datasets = out.get("datasets")
        if isinstance(datasets, Mapping):
            out["datasets"] = {name: _dataset(rows) for name, rows in datasets.items()}
        return out

    return drawn_charts().get((size, Same(spec)), build)


def _plot_height_only(spec: Mapping[str, Any]) -> bool:
    """Whether a specification's height is its plot's alone: autosize ``fit-x``, ``pad`` or ``none``.

    Without an autosize Streamlit gives a single or layered view ``fit`` (the whole drawing within its
    height), which an element height suits, and a concatenated or faceted chart ``pad`` or ``fit-x``;
    those draw their axes and legend around the plot, outside an element height.
    """
    autosize = spec.get("autosize")
    if autosize is None:
        return not any(k in spec for k in ("mark", "layer"))
    kind = autosize.get("type") if isinstance(autosize, Mapping) else autosize
    return kind in ("fit-x", "pad", "none")


def _draw(block: Block, where: Any, lesson: Lesson | None, on_select: Mapping[str, Callable[[], None]]) -> None:
    kind = block.kind
    if kind == "text":
        if block.style == "body":
            explain(f"{block.icon} {block.text}" if block.icon else block.text, where)  # folded while presenting
        elif block.style == "caption":
            where.caption(block.text)
        elif block.style == "subheader":
            where.subheader(f"{block.icon} {block.text}" if block.icon else block.text)
        else:
            getattr(where, _BOXES[block.style])(block.text, icon=block.icon or None)
    elif kind == "formula":
        where.latex(block.latex)
    elif kind == "metrics":  # one metric needs no row of columns (two elements fewer to send, the same look)
        columns = where.columns(len(block.items)) if len(block.items) > 1 else (where,)
        for column, m in zip(columns, block.items):
            column.metric(m.label, m.value, help=m.help or None)
    elif kind == "table":
        decimal, thousands = (lesson.decimal, lesson.thousands) if lesson else number_signs()  # the session's
        if block.caption:
            where.caption(block.caption)
        frame = drawn_tables().get(  # an Arrow table: Streamlit only serialises it on a revisit
            (Same(block), decimal, thousands),
            lambda: pa.Table.from_pandas(table_frame(block, decimal, thousands), preserve_index=False),
        )
        if block.static:
            where.table(frame, hide_index=True)
        else:
            where.dataframe(frame, hide_index=True, key=block.key or None)
    elif kind == "chart":
        size = chart_size()  # presentation mode's larger type: on the page only, never in the saved file
        spec = _streamlit_copy(_for_streamlit(block.spec, size))
        height: int | str = block.height if block.height is not None else "content"
        if block.height is not None and _plot_height_only(spec):
            # a chart that fits only its width: an element height (Streamlit's height=int) became its plot's
            # height, and its axes, title and legend were drawn below the element, over the text that follows
            # (up to 230 px on the main page at 1280 wide). As in the saved file, the builder's height is the
            # plot's (unless the view set its own) and the element holds the whole drawing.
            spec, height = chart_spec_sized(block, spec), "content"
        width = {"width": block.width} if block.width is not None else {}
        if block.key in on_select:  # a chart a click on which changes the page (its selection's callback)
            width["on_select"] = on_select[block.key]
        where.vega_lite_chart(spec=spec, key=block.key or None, height=height, **width)
    elif kind == "columns":
        for column, blocks in zip(where.columns(len(block.items), border=block.border), block.items):
            draw_blocks(blocks, lesson, column, on_select=on_select)
    elif kind == "controls":
        pass  # the page's widgets are already here
    else:  # pragma: no cover (a new kind of block needs a way to appear)
        raise TypeError(f"no way to draw a {type(block).__name__}")


def draw_blocks(
    blocks: Sequence[Block],
    lesson: Lesson | None = None,
    where: DeltaGenerator | None = None,
    *,
    on_select: Mapping[str, Callable[[], None]] | None = None,
) -> None:
    """Draw blocks in order, in ``where`` (None: where the page is); consecutive prose as one explanation.

    ``on_select`` maps a chart's key to the callback its click selection runs (none by default).
    """
    dg = where if where is not None else st
    prose: list[str] = []
    for block in blocks:
        if block.kind == "text" and block.style == "body":
            prose.append(block.text)  # one expander for a run of paragraphs while presenting
            continue
        if prose:
            explain("\n\n".join(prose), dg)
            prose = []
        _draw(block, dg, lesson, on_select or {})
    if prose:
        explain("\n\n".join(prose), dg)


def draw_intro(title: str, intro: Sequence[Block] = ()) -> None:
    """The page's title and its introduction (the builder's ``*_title`` and ``*_intro``)."""
    st.title(title)
    draw_blocks(intro)


def draw_section(
    section: LessonSection,
    lesson: Lesson | None = None,
    *,
    before: DeltaGenerator | Sequence[DeltaGenerator] | None = None,
    heading: bool = True,
    on_select: Mapping[str, Callable[[], None]] | None = None,
) -> None:
    """Draw one section: its heading and blocks; what precedes its :class:`Controls` goes into ``before``.

    Args:
        section: from the page's builder.
        lesson: the document it belongs to (its number signs for tables); None: the session's signs.
        before: a container the page opened above its widgets; the heading and every block before the
            section's ``Controls`` are drawn there, the rest where the page is. A section with several
            ``Controls`` takes one container per group of widgets, in order: the blocks before the
            first go into the first, those between the first and the second into the second, and so
            on. None: all where the page is.
        heading: draw the section's heading (``st.header``).
        on_select: a chart's key -> the callback a click on it runs (``st.vega_lite_chart``'s ``on_select``).
    """
    blocks = section.content()
    places: list[Any] = [] if before is None else [before] if isinstance(before, DeltaGenerator) else list(before)
    cuts = [i for i, b in enumerate(blocks) if b.kind == "controls"][: len(places)]
    top = places[0] if places else st
    if heading and section.heading:
        top.header(section.heading)
    start = 0
    for place, cut in zip(places, cuts):
        draw_blocks(blocks[start:cut], lesson, place, on_select=on_select)
        start = cut
    draw_blocks(blocks[start:], lesson, on_select=on_select)


def save_button(
    lesson: Callable[[], Lesson], page: str, *, model: str = "", corpus: str = "", where: Any = None
) -> None:
    """ "Save this view (HTML)": the document the page drew, as one offline file, written when clicked.

    Args:
        lesson: makes the page's document from what the page drew last (its settings, which fragments
            keep up to date); called on the download thread, so it must not call Streamlit.
        page: the page's name in the file name (``"smoothing"``).
        model, corpus: their names in the file name ("" for a page without them).
        where: the container of the button; None for the sidebar.
    """
    from retrieval_attention.export.document import export_html
    from retrieval_attention.export.files import lesson_filename

    (where or st.sidebar).download_button(
        _("Save this view (HTML)"),
        data=lambda: export_html(lesson()),
        file_name=lesson_filename(page, model, corpus, datetime.date.today()),
        mime="text/html",
        key="export_html",
        on_click="ignore",
        icon=":material/download:",
        help=_(
            "One HTML file with this view's query, settings, numbers and every chart, in this language. "
            "It opens in any browser with no network and no server: for slides, a handout or a learning platform."
        ),
    )
