"""Save this view (HTML): what a page drew, recorded as it draws, and a download that writes it as one offline file.

A page records its view while it renders: :func:`begin_page` opens a new recording on every full run,
every chart arrives through :func:`ui.components.charts.show_chart` (which calls :func:`record_chart`
with its recipe: the builder, its inputs and the element key), and the page's own key numbers come
through the small drawing helpers here (:func:`header`, :func:`metric`, :func:`table`, ...) or are
noted without drawing (:func:`note`, :func:`record_table`). :func:`download_button` closes the
recording and draws the button; nothing is built until it is clicked.

Fragments (``st.fragment``) rerun alone. A full run records into a fresh recording and replaces the
last one only when it reaches the button, so a chart the page no longer draws leaves the lesson. A
fragment-only rerun updates the recording the button already points at, in place (by chart or item
key), so the file always holds the latest recipe of every chart. The recordings live in
``st.session_state``, one per page.

On click Streamlit runs the button's callable on another thread: it calls no Streamlit function.
It builds each chart as the page does (``projector(build(*args, **kwargs))``), but with Altair's
default data transformer, so the data is inline JSON instead of Streamlit's Arrow datasets, with the
session's number signs; then :func:`retrieval_attention.export.document.export_html` writes the file
(HTML is never written here).
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from retrieval_attention import __version__
from retrieval_attention.charts.spec import resolve
from ui.components.i18n import _, current_lang, number_signs

if TYPE_CHECKING:
    import pandas as pd

    from retrieval_attention.export.document import Lesson

__all__ = [
    "PageView",
    "begin_page",
    "build_lesson",
    "chart_dict",
    "download_button",
    "header",
    "lesson_html",
    "metric",
    "note",
    "plain",
    "record_chart",
    "record_metric",
    "record_table",
    "section",
    "subheader",
    "table",
    "views",
]

logger = logging.getLogger(__name__)

#: session_state: {page: PageView}, this session's recordings.
VIEWS_KEY = "export_views"
#: session_state: the PageView the current page records into.
ACTIVE_KEY = "export_active"
#: The button's widget key (one button per page).
BUTTON_KEY = "export_html"
_MARKUP = re.compile(r"\*\*|\*|`")


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
    """One page's recorded view in one session (see the module's docstring for the two kinds of rerun)."""

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


def views() -> dict[str, PageView]:
    """This session's recordings, by page."""
    return st.session_state.setdefault(VIEWS_KEY, {})


def _script_hash() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return ctx.page_script_hash if ctx is not None else ""


def begin_page(page: str) -> PageView:
    """Start recording this full run of ``page`` (call it once, before the page draws its first chart).

    Args:
        page: the page's short name (``"retrieval"``, ``"model"``, ``"recommender"``): the file name's first part.

    Returns:
        The page's recording, for :func:`download_button`.
    """
    view = views().setdefault(page, PageView(page))
    view.begin(_script_hash())
    st.session_state[ACTIVE_KEY] = view
    return view


def _active() -> PageView | None:
    view = st.session_state.get(ACTIVE_KEY)
    if view is None or view.script_hash != _script_hash():
        return None  # a page that offers no export
    return view


def record_chart(
    build: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    *,
    key: str,
    height: int | str = "content",
    width: int | str | None = None,
) -> None:
    """Note a chart the page draws (``show_chart`` calls this); nothing is built. A no-op on other pages."""
    view = _active()
    if view is not None:
        view.put("chart", f"chart:{key}", ChartRecipe(build, tuple(args), dict(kwargs), key, height, width))


def plain(template: str) -> str:
    """A translated markdown template as plain text: ``**``, ``*`` and backticks removed.

    Strip the template before ``.format``, so user text put into it keeps every character.

    Example:
        >>> plain("At **T = {t}** the *tail*: `k`").format(t="<b>")
        'At T = <b> the tail: k'
    """
    return _MARKUP.sub("", template)


def section(heading: str, key: str | None = None) -> None:
    """Start a section of the lesson (records only; the page draws its own heading)."""
    view = _active()
    if view is not None:
        view.put("section", key or f"section:{heading}", heading)


def header(heading: str, key: str | None = None) -> None:
    """``st.header(heading)``, and a section of the lesson."""
    st.header(heading)
    section(heading, key)


def subheader(heading: str, key: str | None = None) -> None:
    """``st.subheader(heading)``, and a section of the lesson."""
    st.subheader(heading)
    section(heading, key)


def note(text: str, key: str | None = None) -> None:
    """A paragraph of the current section (plain text, never markdown; records only)."""
    view = _active()
    if view is not None:
        view.put("text", key or view.auto_key("text"), text)


def metric(where: DeltaGenerator | Any, label: str, value: str, **kwargs: Any) -> None:
    """``where.metric(label, value, **kwargs)``, and a row of the current section's numbers."""
    where.metric(label, value, **kwargs)
    record_metric(label, value)


def _cells(frame: pd.DataFrame | tuple[Any, Any]) -> tuple[tuple[str, ...], tuple[tuple[object, ...], ...]]:
    """A table's header and rows: from a frame (read when the lesson is built), or as given."""
    if isinstance(frame, tuple):
        return frame
    columns = tuple(str(c) for c in frame.columns)
    rows = tuple(tuple(v.item() if hasattr(v, "item") else v for v in row) for row in frame.itertuples(index=False))
    return columns, rows


def record_table(frame: pd.DataFrame, caption: str = "", key: str | None = None, decimals: int = 3) -> None:
    """A table of the current section (records only): its columns and cells as the page shows them.

    Args:
        frame: the table; text cells are written as they are, float cells with ``decimals`` digits.
            It is kept as it is and read only on a click: do not change it afterwards.
        caption: shown above it.
        key: needed only for a table a fragment draws without a heading of its own.
        decimals: digits of a float cell (the lesson writes them with the session's number signs).
    """
    view = _active()
    if view is not None:
        view.put("table", key or view.auto_key("table"), (frame, caption, decimals))  # read on click


def record_metric(label: str, value: str) -> None:
    """A row of the current section's numbers, for a metric drawn elsewhere (records only)."""
    view = _active()
    if view is not None:
        view.put("metric", f"{view._section}|metric|{label}", (label, value))


def table(frame: pd.DataFrame, caption: str = "", key: str | None = None) -> None:
    """``st.table(frame, hide_index=True)``, and the same table in the lesson."""
    st.table(frame, hide_index=True)
    record_table(frame, caption, key)


def softmax_steps_table(steps: Any, titles: Sequence[str], scale: float, temperature: float, n: int) -> None:
    """The main page's softmax arithmetic (:func:`~retrieval_attention.core.attention.softmax_breakdown`) as a
    table of the lesson, with the numbers the page's formula shows, and the formula as a paragraph.

    Args:
        steps: the ``SoftmaxSteps`` of the keys shown, best first.
        titles: those keys' titles.
        scale: the q·k multiplier (1, or 1/√d).
        temperature: T.
        n: the number of keys the denominator sums over.
    """
    view = _active()
    if view is None:
        return
    factor = "1" if scale == 1.0 else "%.4g" % scale
    note(f"w_i = exp(q·k_i × {factor} / T) / Σ_(j=1..{n}) exp(q·k_j × {factor} / T),  o = Σ_i w_i v_i")
    columns = (_("key"), _("title"), "q·k", f"z = q·k × {factor} / {temperature:g}", "e^(z − max z)", "w")
    rows = tuple(
        (f"k{j + 1}", t, "%.4f" % s, "%.3f" % z, "%.4g" % e, "%.4f" % w)
        for j, (t, s, z, e, w) in enumerate(zip(titles, steps.scores, steps.logits, steps.shifted_exp, steps.weights))
    )
    caption = _("w = e^(z − max z) / {total}, the sum over all {n} keys").format(total="%.4f" % steps.denominator, n=n)
    view.put("table", view.auto_key("table"), ((columns, rows), caption, 3))


# --- on click: the lesson and its file (no Streamlit from here on) ------------------------------------

try:  # what Streamlit itself does: the lock around Altair's global transformer, then its spec adjustments
    from streamlit.elements.vega_charts import _altair_globals_lock as _altair_lock
    from streamlit.elements.vega_charts import _prepare_vega_lite_spec as _streamlit_sizing
except ImportError:  # pragma: no cover - depends on the installed Streamlit
    _altair_lock = threading.Lock()

    def _streamlit_sizing(spec: dict[str, Any], use_container_width: bool) -> dict[str, Any]:
        return spec


_SINGLE_VIEW = ("mark", "layer")
_COMPOUND = ("hconcat", "vconcat", "concat", "facet", "repeat")


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
    import altair as alt

    from retrieval_attention.charts.theme import projector_spec, with_number_locale_spec

    chart = recipe.build(*(resolve(a) for a in recipe.args), **{k: resolve(v) for k, v in recipe.kwargs.items()})
    with _altair_lock:  # Altair's theme and data transformer are global to all threads
        theme = alt.theme.enable("none") if alt.theme.active == "default" else nullcontext()
        with theme, alt.data_transformers.enable("default", max_rows=None):
            spec = chart.to_dict(validate=False)  # the page's first chart of each builder was validated
    spec = with_number_locale_spec(projector_spec(spec), decimal, thousands)
    single = any(k in spec for k in _SINGLE_VIEW) and not any(k in spec for k in _COMPOUND)
    stretch = recipe.width == "stretch" or (recipe.width is None and single)  # Streamlit's default width
    spec = _streamlit_sizing(spec, stretch)
    if stretch and single and "width" not in spec:
        spec["width"] = "container"
    if single and "height" not in spec and isinstance(recipe.height, int):
        spec["height"] = recipe.height
    return spec


def build_lesson(snap: ViewSnapshot) -> Lesson:
    """The :class:`~retrieval_attention.export.document.Lesson` of a recorded view: its sections in order,
    each with its paragraphs, tables (the metrics as one table of numbers) and charts.

    Args:
        snap: :meth:`PageView.snapshot`.

    Returns:
        The lesson, every text as the page showed it (translated, user text literal).
    """
    from retrieval_attention.export.document import Lesson, LessonChart, LessonSection, LessonTable

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


def download_button(
    view: PageView,
    *,
    title: str,
    model: str,
    corpus: str,
    file_corpus: str,
    facts: Sequence[tuple[str, str]] = (),
    where: DeltaGenerator | None = None,
) -> None:
    """Close this run's recording and draw "Save this view (HTML)": the file is built only when clicked.

    Args:
        view: from :func:`begin_page`.
        title: the lesson's title (the page's, translated).
        model: the encoder's name (a fact, and part of the file name).
        corpus: the corpus's name as the page shows it (a fact, a path by its file name only; "" for none).
        file_corpus: the corpus's name in the file name, the same in every language (``"videos"``).
        facts: the page's other settings as (translated label, value), after model, corpus, date.
        where: the container to draw in; None for the current one.
    """
    from retrieval_attention.export.document import lesson_filename

    decimal, thousands = number_signs()
    today = datetime.date.today()
    shown = (
        (_("Model"), model),
        *(((_("Corpus"), os.path.basename(corpus) or corpus),) if corpus else ()),  # no server folders
        (_("Date"), today.isoformat()),
        *((str(k), str(v)) for k, v in facts),
    )
    meta = ViewMeta(
        title=title,
        facts=shown,
        lang=current_lang(),
        decimal=decimal,
        thousands=thousands,
        footer=_("Saved from the retrieval_attention app {version}: {title}").format(version=__version__, title=title),
        file_name=lesson_filename(view.page, model, file_corpus, today),
        numbers=(_("quantity"), _("value")),
    )
    view.commit(meta)
    (where or st).download_button(
        _("Save this view (HTML)"),
        data=lambda: lesson_html(view),
        file_name=meta.file_name,
        mime="text/html",
        key=BUTTON_KEY,
        on_click="ignore",
        icon=":material/download:",
        help=_(
            "One HTML file with this view's query, settings, numbers and every chart, in this language. "
            "It opens in any browser with no network and no server: for slides, a handout or a learning platform."
        ),
    )
