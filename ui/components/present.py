"""Presentation mode: the app as a teacher shows it on a projector, from the back row.

Turned on by the sidebar's "Presentation mode" toggle or by ``?present=1`` in the URL (a link a teacher
sends or bookmarks); it is kept for the session and mirrored into the URL like the language, so the
address bar always holds a link that opens the same way. While it is on:

- charts use the larger "present" type (:data:`retrieval_attention.charts.theme.PRESENT_CONFIG`),
  applied where charts are drawn (:func:`chart_size`), never in what a chart builder returns;
- explanations are one click away (:func:`explain`, and the document renderer's prose) so the
  pictures come up into the first screen; the "what to notice" boxes stay;
- the sidebar starts collapsed (:func:`sidebar_state`, for ``st.set_page_config``).

Saved lessons are built from the page's settings, not from what is drawn, so they read the same
with and without it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from ui.components.i18n import _

__all__ = ["QUERY_PARAM", "chart_size", "explain", "parse_flag", "present_switch", "presenting", "sidebar_state"]

#: The URL's query parameter: ``?present=1``.
QUERY_PARAM = "present"
#: session_state: whether this session presents. Not a widget key, so no page can drop it.
PRESENT_KEY = "ui_present"
#: session_state: the sidebar toggle's own key (kept equal to PRESENT_KEY before the toggle is drawn).
SWITCH_KEY = "ui_present_switch"


def parse_flag(value: object) -> bool | None:
    """``?present=`` read as on, off, or "the URL says nothing" (None).

    Example:
        >>> [parse_flag(v) for v in ("1", "true", "0", "no", None, "maybe")]
        [True, True, False, False, None, None]
    """
    text = str(value).strip().lower() if value is not None else ""
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    return None


def presenting() -> bool:
    """Whether this session presents: the URL's ``?present=`` if it says, else what the session chose (off)."""
    said = parse_flag(st.query_params.get(QUERY_PARAM))
    on = said if said is not None else bool(st.session_state.get(PRESENT_KEY, False))
    st.session_state[PRESENT_KEY] = on
    return on


def _mirror(on: bool) -> None:
    if on:
        st.query_params[QUERY_PARAM] = "1"  # a page switch may drop the parameter: put it back
    elif QUERY_PARAM in st.query_params:
        del st.query_params[QUERY_PARAM]


def _switched() -> None:
    on = bool(st.session_state.get(SWITCH_KEY))
    st.session_state[PRESENT_KEY] = on
    _mirror(on)


def sidebar_state() -> str:
    """``initial_sidebar_state`` for ``st.set_page_config``: collapsed while presenting."""
    return "collapsed" if presenting() else "auto"


def present_switch() -> bool:
    """The sidebar's "Presentation mode" toggle; call it once per run, in app.py, before any page.

    Returns:
        Whether this run presents.
    """
    on = presenting()
    _mirror(on)
    st.session_state[SWITCH_KEY] = on  # follows ?present= ; set before the widget exists
    st.sidebar.toggle(
        _("Presentation mode"),
        key=SWITCH_KEY,
        on_change=_switched,
        help=_(
            "For a projector: larger chart text, explanations folded away (one click opens them), the sidebar "
            "collapsed. Add ?present=1 to the address to send a link that opens this way. Saved lessons are unchanged."
        ),
    )
    return on


def chart_size() -> str:
    """The chart type size to draw with: ``"present"`` while presenting, else ``"projector"``."""
    return "present" if st.session_state.get(PRESENT_KEY, False) else "projector"


def explain(text: str, where: Any = None, label: str | None = None) -> None:
    """An explanation in our markdown: shown as it is, or folded into an expander while presenting.

    Args:
        text: the explanation (markdown; user data already escaped by the caller).
        where: the container (a column); None for where the page is.
        label: the expander's label while presenting; None: "Explanation".
    """
    dg = where if where is not None else st
    if st.session_state.get(PRESENT_KEY, False):
        dg.expander(label or _("Explanation")).markdown(text)
    else:
        dg.markdown(text)
