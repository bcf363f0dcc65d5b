"""The little markdown a page's prose uses, one meaning for the app, the saved file and the notebook.

A builder writes prose as our own sentences with ``**bold**``, ``*italic*`` and ```code``` in them,
and puts user data (titles, queries, file names) in through :func:`md`, which backslash-escapes
every character markdown, HTML or LaTeX would read. Streamlit's ``st.markdown`` reads the result
as markdown (never as HTML); :func:`markup_html` turns the same text into escaped HTML for a saved
lesson, and :func:`markup_plain` into plain text (a terminal, an aria-label).
"""

from __future__ import annotations

import html
import re

__all__ = ["md", "markup_html", "markup_plain"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
_HELD = re.compile("\x00(\\d+)\x00")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", re.DOTALL)
_EM = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", re.DOTALL)
_CODE = re.compile(r"`([^`]+)`")


def md(text: object) -> str:
    """Escape user data for our markdown: it shows literally, never as markdown, HTML or LaTeX.

    Args:
        text: any value; it is turned into a string and its whitespace collapsed to single spaces.

    Returns:
        The text with every markdown, HTML and LaTeX special character backslash-escaped.

    Example:
        >>> md("**not bold** <b>")
        '\\\\*\\\\*not bold\\\\*\\\\* \\\\<b\\\\>'
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _hold_escapes(text: str) -> str:
    """Each backslash-escaped character as a placeholder no pattern below can match."""
    return _ESCAPED.sub(lambda m: f"\x00{ord(m.group(1))}\x00", text.replace("\x00", ""))


def markup_html(text: str) -> str:
    """Our markdown as HTML: every character escaped, then ``**``/``*``/````` as strong, em and code.

    Args:
        text: prose built with :func:`md` around user data.

    Returns:
        HTML with no tag but ``<strong>``, ``<em>`` and ``<code>``.

    Example:
        >>> markup_html("**Hit**: weight " + md("<1>") + " for *" + md("a*b") + "*")
        '<strong>Hit</strong>: weight &lt;1&gt; for <em>a*b</em>'
    """
    out = html.escape(_hold_escapes(text), quote=False)
    out = _CODE.sub(r"<code>\1</code>", out)
    out = _STRONG.sub(r"<strong>\1</strong>", out)
    out = _EM.sub(r"<em>\1</em>", out)
    return _HELD.sub(lambda m: html.escape(chr(int(m.group(1))), quote=False), out)


def markup_plain(text: str) -> str:
    """Our markdown as plain text: the markers dropped, escaped characters kept as themselves.

    Example:
        >>> markup_plain("**Hit**: the key " + md("a*b") + " is *there*")
        'Hit: the key a*b is there'
    """
    out = _CODE.sub(r"\1", _hold_escapes(text))
    out = _STRONG.sub(r"\1", out)
    out = _EM.sub(r"\1", out)
    return _HELD.sub(lambda m: chr(int(m.group(1))), out)
