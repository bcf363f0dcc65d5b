"""CSV downloads: every page's data for slides and spreadsheets, safe to open in a spreadsheet.

A title such as ``=HYPERLINK("http://evil","click")`` would run as a formula when a teacher opens
the file in Excel, LibreOffice or Google Sheets. Every download goes through :func:`csv_bytes`,
which neutralises such text cells the way OWASP recommends (a leading ``'``, which spreadsheets
read as "this cell is text"); numeric columns are written as numbers, so a negative score stays
a negative number.

The bytes start with UTF-8's byte-order mark: Excel reads a CSV without one in the system's
code page (GBK on a Chinese Windows, Windows-1252 in Spain), so every Chinese title and every "ñ"
would open as mojibake. Pandas, Python's ``csv`` with ``utf-8-sig``, LibreOffice and Google Sheets
all read the mark as what it is. The JSON downloads stay without one (JSON forbids it).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from retrieval_attention.charts.spec import Lazy, RenderCache, Same, fingerprint, resolve
from ui.components.i18n import _

#: A text cell starting with one of these is read as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula, else unchanged.

    Args:
        value: one cell (or a column or index label).

    Returns:
        The cell as a spreadsheet should show it: numbers and safe text unchanged.

    Example:
        >>> neutralise("=1+1"), neutralise("-foo"), neutralise("Funny cats"), neutralise(-0.5)
        ("'=1+1", "'-foo", 'Funny cats', -0.5)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _neutralise_labels(labels: pd.Index) -> pd.Index:
    if pd.api.types.is_numeric_dtype(labels.dtype) or isinstance(labels, pd.MultiIndex):
        return labels
    return labels.map(neutralise)


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell, column name and index label neutralised.

    Numeric, boolean and datetime columns are left as they are: they hold no text.

    Args:
        frame: the data to download.

    Returns:
        The neutralised copy (``frame`` itself is not changed).
    """
    out = frame.copy()
    for i, dtype in enumerate(out.dtypes):
        if not (
            pd.api.types.is_numeric_dtype(dtype)
            or pd.api.types.is_bool_dtype(dtype)
            or pd.api.types.is_datetime64_any_dtype(dtype)
        ):
            out.isetitem(i, out.iloc[:, i].astype(object).map(neutralise))
    out.columns = _neutralise_labels(out.columns)
    out.index = _neutralise_labels(out.index)
    return out


def csv_bytes(frame: pd.DataFrame, index: bool = False) -> bytes:
    """``frame`` as UTF-8 CSV with a byte-order mark, formula-like text neutralised (:func:`safe_frame`).

    Args:
        frame: the data.
        index: True to write the index as the first column (a matrix with labelled rows).

    Returns:
        The file's bytes, starting with the byte-order mark Excel needs to read UTF-8.

    Example:
        >>> csv_bytes(pd.DataFrame({"title": ["猫"]}))[:3]
        b'\\xef\\xbb\\xbf'
    """
    return safe_frame(frame).to_csv(index=index).encode("utf-8-sig")


@st.cache_resource(show_spinner=False)
def csv_cache() -> RenderCache:
    """The server's CSV files by content: a slider often leaves a page's data as it was."""
    return RenderCache(max_entries=256, max_bytes=64 * 1024 * 1024)


@st.cache_resource(show_spinner=False)
def csv_by_object() -> RenderCache:
    """The same CSV files by the frame object they were made from (each entry holds its frame: few entries)."""
    return RenderCache(max_entries=64, max_bytes=16 * 1024 * 1024)


def _cached_csv_bytes(frame: pd.DataFrame | Lazy, index: bool) -> bytes:
    """:func:`csv_bytes`, once per distinct frame for the whole server (a :class:`Lazy` one is made on a miss).

    A frame the builders cache (the same object on every revisit, never changed) is found by itself
    first, without hashing its rows again.
    """

    def by_content() -> bytes:
        return csv_cache().get(("csv", fingerprint(frame, index)), lambda: csv_bytes(resolve(frame), index=index))

    return csv_by_object().get((Same(frame), index), by_content)


def download_csv(
    frame: pd.DataFrame | Lazy, name: str, key: str, label: str | None = None, index: bool = False
) -> None:
    """A button that downloads ``frame`` as ``name`` (CSV, UTF-8, spreadsheet-safe); no rerun on click.

    The file is written when the button is clicked, on Streamlit's download thread, not on every rerun:
    most students never download, and a new query's CSV cost a new query about a tenth of its time.

    Args:
        frame: the data, or a :class:`~retrieval_attention.charts.spec.Lazy` that makes it (only when
            this data's CSV is not cached yet).
        name: the file name offered to the browser.
        key: the button's widget key.
        label: the button's text; default "Download the data (CSV): <name>".
        index: True to write the index as the first column.
    """
    st.download_button(
        label or _("Download the data (CSV): {name}").format(name=name),
        lambda: _cached_csv_bytes(frame, index),
        file_name=name,
        mime="text/csv",
        key=key,
        on_click="ignore",
    )
