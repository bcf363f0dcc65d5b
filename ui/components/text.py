"""Text escaping: user data (titles, queries, file names, model names) shown literally."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")


def md(text: object) -> str:
    """Escape user data for ``st.markdown``: it shows literally, never as markdown or HTML.

    Args:
        text: any value; it is turned into a string and its whitespace collapsed to single spaces.

    Returns:
        The text with every markdown, HTML and LaTeX special character backslash-escaped.
    """
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))
