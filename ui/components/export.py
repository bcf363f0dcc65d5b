"""Save this view (HTML): what a page drew, recorded as it draws, and a download that writes it as one offline file.

A page records its view while it renders: :func:`begin_page` opens a new recording on every full run,
every chart arrives through :func:`ui.components.charts.show_chart` (which calls :func:`record_chart`
with its recipe: the builder, its inputs and the element key), and the page's own key numbers come
through the small drawing helpers here (:func:`header`, :func:`metric`, :func:`table`, ...) or are
noted without drawing (:func:`note`, :func:`record_table`). :func:`download_button` closes the
recording and draws the button; nothing is built until it is clicked. The recording and what a
click builds from it are in :mod:`ui.components.lesson_view`.

Fragments (``st.fragment``) rerun alone. A full run records into a fresh recording and replaces the
last one only when it reaches the button, so a chart the page no longer draws leaves the lesson. A
fragment-only rerun updates the recording the button already points at, in place (by chart or item
key), so the file always holds the latest recipe of every chart. The recordings live in
``st.session_state``, one per page.

On click Streamlit runs the button's callable on another thread, with no Streamlit call in it: it
builds each chart as the page does (``projector(build(*args, **kwargs))``) but with Altair's default
data transformer, so the data is inline JSON instead of Streamlit's Arrow datasets, with the session's
number signs; then :func:`retrieval_attention.export.document.export_html` writes the file (HTML is
never written here). Everything it needs, translated texts included, was captured while the page ran.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from retrieval_attention import __version__
from ui.components.i18n import _, current_lang, fmt_number, fmt_setting, fmt_significant, number_signs
from ui.components.lesson_view import ChartRecipe, PageView, ViewMeta, lesson_html

if TYPE_CHECKING:
    import pandas as pd


__all__ = [
    "begin_page",
    "download_button",
    "header",
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


#: session_state: {page: PageView}, this session's recordings.
VIEWS_KEY = "export_views"
#: session_state: the PageView the current page records into.
ACTIVE_KEY = "export_active"
#: The button's widget key (one button per page).
BUTTON_KEY = "export_html"
_MARKUP = re.compile(r"\*\*|\*|`")


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
    factor = "1" if scale == 1.0 else fmt_significant(scale, 4)
    note(f"w_i = exp(q·k_i × {factor} / T) / Σ_(j=1..{n}) exp(q·k_j × {factor} / T),  o = Σ_i w_i v_i")
    t_shown = fmt_setting(temperature)
    columns = (_("key"), _("title"), "q·k", f"z = q·k × {factor} / {t_shown}", "e^(z − max z)", "w")
    rows = tuple(
        (f"k{j + 1}", t, fmt_number(s, 4), fmt_number(z, 3), fmt_significant(e, 4), fmt_number(w, 4))
        for j, (t, s, z, e, w) in enumerate(zip(titles, steps.scores, steps.logits, steps.shifted_exp, steps.weights))
    )
    caption = _("w = e^(z − max z) / {total}, the sum over all {n} keys").format(
        total=fmt_number(steps.denominator, 4), n=fmt_number(n)
    )
    view.put("table", view.auto_key("table"), ((columns, rows), caption, 3))


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
    from retrieval_attention.export.files import lesson_filename

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
