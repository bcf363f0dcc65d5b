"""A page's recorded view (:class:`PageView`) and the lesson built from it on a click (:func:`lesson_html`).

:mod:`ui.components.export` records into a :class:`PageView` while a page runs. A click runs
:func:`lesson_html` on Streamlit's download thread: it calls no Streamlit function, only reads a
:meth:`PageView.snapshot` (under the view's lock, so a fragment rerunning at that moment cannot tear
it), rebuilds each chart from its recipe with its data inline (:func:`chart_dict`) and hands the
:class:`~retrieval_attention.export.document.Lesson` to
:func:`~retrieval_attention.export.document.export_html`. Nothing here writes HTML.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retrieval_attention.charts.spec import resolve
from retrieval_attention.export.specs import is_single_view

if TYPE_CHECKING:
    import pandas as pd

    from retrieval_attention.export.document import Lesson

__all__ = ["ChartRecipe", "Item", "PageView", "ViewMeta", "ViewSnapshot", "build_lesson", "chart_dict", "lesson_html"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChartRecipe:
    """How to draw one chart again: what ``show_chart`` was given."""

    build: Callable[..., Any]  # the builder (plain data in, Altair chart out)
    args: tuple[Any, ...]  # its positional inputs (a Lazy one is made on export)
    kwargs: Mapping[str, Any]  # its keyword inputs
    key: str  # the element key on the page
    height: int | str = "content"  # as given to show_chart
    width: int | str | None = None


@dataclass(frozen=True)
class Item:
    """One recorded thing: a section heading, a paragraph, a table, a metric or a chart."""

    order: int  # drawing order on the page
    section: str  # the key of the section it belongs to ("" before the first heading)
    kind: str  # "section", "text", "table", "metric" or "chart"
    value: Any  # heading | text | (frame or (columns, rows), caption, decimals) | (label, value) | ChartRecipe


@dataclass(frozen=True)
class ViewMeta:
    """What the lesson says about the view as a whole, translated while the page ran."""

    title: str
    facts: tuple[tuple[str, str], ...]
    lang: str
    decimal: str
    thousands: str
    footer: str
    file_name: str
    numbers: tuple[str, str]  # the column headers of a section's table of metrics


@dataclass(frozen=True)
class ViewSnapshot:
    """A consistent copy of a recording: what one click exports."""

    meta: ViewMeta
    items: tuple[Item, ...]  # in drawing order, section by section

    def charts(self) -> list[ChartRecipe]:
        """The chart recipes, in drawing order."""
        return [i.value for i in self.items if i.kind == "chart"]


@dataclass
class PageView:
    """One page's recorded view in one session.

    A full run (:meth:`begin`) records into a fresh dictionary that replaces the last one only when
    the run reaches the button (:meth:`commit`): what the page no longer draws leaves. A fragment-only
    rerun has no :meth:`begin`, so it updates the committed recording in place, by key.
    """

    page: str  # the page's short name, as in the file name
    script_hash: str = ""  # the page script that records into it (other pages' charts are ignored)
    meta: ViewMeta | None = None
    _done: dict[str, Item] = field(default_factory=dict)  # the last full run, updated by fragments
    _building: dict[str, Item] | None = None  # the full run in progress
    _order: int = 0
    _section: str = ""
    _counts: dict[tuple[str, str], int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def begin(self, script_hash: str) -> None:
        """A full run starts: record into a fresh recording."""
        with self._lock:
            self.script_hash = script_hash
            self._building, self._order, self._section, self._counts = {}, 0, "", {}

    def auto_key(self, kind: str) -> str:
        """The next automatic key of ``kind`` in the current section (stable across reruns of the section)."""
        with self._lock:
            n = self._counts.get((self._section, kind), 0)
            self._counts[(self._section, kind)] = n + 1
        return f"{self._section}|{kind}|{n}"

    def put(self, kind: str, key: str, value: Any) -> None:
        """Record ``value``; a fragment-only rerun replaces the item of the same key where it was.

        A fragment-only rerun that redraws a section heading empties that section first, so what
        the fragment no longer draws (a second target switched off) leaves it.
        """
        with self._lock:
            target = self._done if self._building is None else self._building
            old = target.get(key)
            if self._building is None and old is not None:
                order, section = old.order, old.section
                if kind == "section":  # a fragment redraws this section: what it draws now replaces it
                    for k in [k for k, i in target.items() if i.section == key and i.kind != "section"]:
                        del target[k]
            else:
                self._order += 1
                order, section = self._order, key if kind == "section" else self._section
            if kind == "section":
                self._section = key
                self._counts = {k: v for k, v in self._counts.items() if k[0] != key}
            target[key] = Item(order, section, kind, value)

    def commit(self, meta: ViewMeta) -> None:
        """The full run reached the button: its recording replaces the last one."""
        with self._lock:
            if self._building is not None:
                self._done, self._building = self._building, None
            self.meta = meta

    def snapshot(self) -> ViewSnapshot:
        """The last complete recording (with any fragment's updates), safe to read on another thread."""
        with self._lock:
            if self.meta is None:
                raise RuntimeError(f"the {self.page} page has not finished a run yet")
            items = list(self._done.values())
        # sections in drawing order, each followed by its items (a fragment's redrawn items come last
        # in order but stay in their section)
        starts = {i.section: i.order for i in items if i.kind == "section"}
        items.sort(key=lambda i: (starts.get(i.section, 0), i.kind != "section", i.order))
        return ViewSnapshot(self.meta, tuple(items))


def _cells(frame: pd.DataFrame | tuple[Any, Any]) -> tuple[tuple[str, ...], tuple[tuple[object, ...], ...]]:
    """A table's header and rows: from a frame (read when the lesson is built), or as given."""
    if isinstance(frame, tuple):
        return frame
    columns = tuple(str(c) for c in frame.columns)
    rows = tuple(tuple(v.item() if hasattr(v, "item") else v for v in row) for row in frame.itertuples(index=False))
    return columns, rows


try:  # what Streamlit itself does: the lock around Altair's global transformer, then its spec adjustments
    from streamlit.elements.vega_charts import _altair_globals_lock as _altair_lock
    from streamlit.elements.vega_charts import _prepare_vega_lite_spec as _streamlit_sizing
except ImportError:  # pragma: no cover - depends on the installed Streamlit
    _altair_lock = threading.Lock()

    def _streamlit_sizing(spec: dict[str, Any], use_container_width: bool) -> dict[str, Any]:
        return spec


def chart_dict(recipe: ChartRecipe, decimal: str = ".", thousands: str = ",") -> dict[str, Any]:
    """The chart of ``recipe`` as a Vega-Lite dictionary with its data inline, as the page shows it.

    Args:
        recipe: what ``show_chart`` was given.
        decimal, thousands: the session's number signs (the chart's Vega number locale).

    Returns:
        ``projector(build(*args, **kwargs)).to_dict()`` with Altair's default data transformer (inline
        ``datasets``, no row limit), the number locale set, Streamlit's own adjustments (autosize, a
        blank legend title for a null one), and the page's width and height where the chart leaves
        them to the page (a chart as wide as its column gets ``width: "container"``).
    """
    from retrieval_attention.export.specs import inline_spec

    chart = recipe.build(*(resolve(a) for a in recipe.args), **{k: resolve(v) for k, v in recipe.kwargs.items()})
    # validation off: the page's first chart of each builder was validated; the page sizes it below
    spec = inline_spec(chart, decimal, thousands, validate=False, container_width=False, lock=_altair_lock)
    single = is_single_view(spec)
    stretch = recipe.width == "stretch" or (recipe.width is None and single)  # Streamlit's default width
    spec = _streamlit_sizing(spec, stretch)
    if stretch and single and "width" not in spec:
        spec["width"] = "container"
    if single and isinstance(recipe.height, int):
        spec["height"] = recipe.height  # the page's element height wins over the builder's, as Streamlit draws it
    return spec


def build_lesson(snap: ViewSnapshot) -> Lesson:
    """The :class:`~retrieval_attention.export.document.Lesson` of a recorded view: its sections in order,
    each with its paragraphs, tables (the metrics as one table of numbers) and charts.

    Args:
        snap: :meth:`PageView.snapshot`.

    Returns:
        The lesson, every text as the page showed it (translated, user text literal).
    """
    from retrieval_attention.export.blocks import LessonChart, LessonSection, LessonTable
    from retrieval_attention.export.document import Lesson

    meta = snap.meta
    heads: dict[str, str] = {"": ""}
    parts: dict[str, dict[str, list[Any]]] = {}
    for item in snap.items:
        if item.kind == "section":
            heads[item.section] = item.value
        part = parts.setdefault(item.section, {"text": [], "table": [], "metric": [], "chart": []})
        if item.kind in part:
            part[item.kind].append(item.value)
    sections = []
    for key, part in parts.items():
        tables = [LessonTable(*_cells(t), caption=cap, decimals=d) for t, cap, d in part["table"]]
        if part["metric"]:
            tables.insert(0, LessonTable(columns=meta.numbers, rows=tuple(part["metric"])))
        charts = []
        for recipe in part["chart"]:
            spec = chart_dict(recipe, meta.decimal, meta.thousands)
            charts.append(LessonChart(spec=spec))  # its title is drawn by the chart itself
        if part["text"] or tables or charts or key:
            sections.append(
                LessonSection(
                    heading=heads.get(key, ""),
                    paragraphs=tuple(part["text"]),
                    tables=tuple(tables),
                    charts=tuple(charts),
                )
            )
    return Lesson(
        title=meta.title,
        facts=meta.facts,
        sections=tuple(sections),
        lang=meta.lang,
        decimal=meta.decimal,
        thousands=meta.thousands,
        footer=meta.footer,
    )


def lesson_html(view: PageView) -> str:
    """The recorded view as one self-contained HTML document (what the button downloads).

    Runs on Streamlit's download thread: no Streamlit call, only the recording and the library.
    """
    from retrieval_attention.export.document import export_html

    try:
        return export_html(build_lesson(view.snapshot()))
    except Exception:
        logger.exception("could not export the %s page", view.page)
        raise
