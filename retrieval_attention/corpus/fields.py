"""One value of a record, checked: text that can be encoded, numbers that are plausible counts.

Every message names the row and the field, and quotes the value cut to one line (:func:`quote`,
:func:`names`), however long the file's text is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from retrieval_attention.corpus.records import unencodable
from retrieval_attention.errors import CorpusError

__all__ = ["MAX_DURATION_S", "MAX_VIEWS", "LongInteger", "kind", "names", "number_field", "quote", "text_field"]

#: Largest plausible view count and duration (about 31 years). They also keep the value vector's
#: float32 columns finite: 1e300 seconds would be infinity there, and every output NaN.
MAX_VIEWS = 10**15
MAX_DURATION_S = 10**9


class LongInteger(str):
    """A JSON integer literal too long to be a count: kept as its digits, refused where a number is needed.

    ``json.loads`` would call ``int()`` on it, and Python refuses integer strings of more than 4,300
    digits with a raw ValueError (and slows down well before that).
    """


def quote(value: Any, width: int = 40) -> str:
    """``repr(value)`` cut to about ``width`` characters, for an error message."""
    if isinstance(value, LongInteger):
        return f"{len(value):,} digits"
    shown = repr(value)
    return shown if len(shown) <= width else f"{shown[: width - 1]}…"


def names(items: Sequence[Any], limit: int = 10) -> str:
    """The first ``limit`` items, each :func:`quote`-d, then how many more: a message stays one line.

    Example:
        >>> names([f"c{i}" for i in range(100_000)], limit=2)
        "'c0', 'c1' and 99,998 more"
    """
    shown = ", ".join(quote(n) for n in items[:limit])
    return shown + (f" and {len(items) - limit:,} more" if len(items) > limit else "")


def kind(value: Any) -> str:
    """What a JSON value is, in words: 'a number', 'text', 'a list', ..."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float, LongInteger)):
        return "a number"
    return {str: "text", list: "a list", dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def number_field(value: Any, name: str, where: str, limit: float, integer: bool) -> float | int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CorpusError(f"{where}: {name} must be a number, got {value!r}")
    try:
        x = float(value.strip()) if isinstance(value, str) else float(value)
    except OverflowError:  # an int of more digits than a float can carry
        x = math.inf
    except (TypeError, ValueError):
        raise CorpusError(f"{where}: {name} must be a number, got {quote(value)}") from None
    written_inf = isinstance(value, float) or (isinstance(value, str) and "inf" in value.lower())
    if math.isnan(x) or x < 0 or (math.isinf(x) and written_inf):
        raise CorpusError(f"{where}: {name} must be a finite number >= 0, got {quote(value)}")
    if x > limit:
        raise CorpusError(f"{where}: {name} is implausibly large ({quote(value)}); the limit is {limit:,.0f}")
    return int(round(x)) if integer else x


def text_field(value: Any, name: str, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise CorpusError(f"{where}: {name} must be text, got {kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise CorpusError(f"{where}: {name} must be text, got {value!r}")
    text = str(value)
    if (problem := unencodable(text)) is not None:
        raise CorpusError(
            f"{where}: {name} is not valid Unicode text: {problem} "
            "(from a \\u escape without its partner, or bytes that were not UTF-8); remove or retype it"
        )
    return text
