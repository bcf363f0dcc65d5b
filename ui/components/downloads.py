"""CSV downloads: every page's data for slides and spreadsheets, through one helper."""

from __future__ import annotations

import pandas as pd
import streamlit as st


def csv_bytes(frame: pd.DataFrame, index: bool = False) -> bytes:
    """``frame`` as UTF-8 CSV.

    Args:
        frame: the data.
        index: True to write the index as the first column (a matrix with labelled rows).

    Returns:
        The file's bytes.
    """
    return frame.to_csv(index=index).encode("utf-8")


def download_csv(frame: pd.DataFrame, name: str, key: str, label: str | None = None, index: bool = False) -> None:
    """A button that downloads ``frame`` as ``name`` (CSV, UTF-8); no rerun on click.

    Args:
        frame: the data.
        name: the file name offered to the browser.
        key: the button's widget key.
        label: the button's text; default "Download the data (CSV): <name>".
        index: True to write the index as the first column.
    """
    st.download_button(
        label or f"Download the data (CSV): {name}",
        csv_bytes(frame, index=index),
        file_name=name,
        mime="text/csv",
        key=key,
        on_click="ignore",
    )
