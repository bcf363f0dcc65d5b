"""One value of a record, checked: text that can be encoded, numbers that are plausible counts.

Every message names the row and the field, and quotes the value cut to one line (:func:`quote`,
:func:`names`), however long the file's text is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from retrieval_attention.corpus.records import unencodable
from retrieval_attention.errors import CorpusError
from retrieval_attention.i18n import N_, load_translations

__all__ = [
    "MAX_DURATION_S",
    "MAX_VIEWS",
    "LongInteger",
    "SaidCorpusError",
    "kind",
    "names",
    "number_field",
    "quote",
    "text_field",
]


class SaidCorpusError(CorpusError):
    """A :class:`CorpusError` kept as its catalogue template and values, so the app and the CLI say it in
    the reader's language (``str()`` is the English).

    The values are the file's own text (a row's place such as ``c.csv, line 2``, a cell, a field's
    name) and are never translated.

    Example:
        >>> e = SaidCorpusError(N_("{where}: {name} is a count and must be a whole number, got {value}"),
        ...                     where="c.csv, line 2", name="views", value="'2.5'")
        >>> str(e) == "c.csv, line 2: views is a count and must be a whole number, got '2.5'", e.said("es")[:24]
        (True, 'c.csv, line 2: views es ')
    """

    def __init__(self, template: str, **values: object) -> None:
        super().__init__(template.format(**values))
        self.template = template  # English, marked N_ where it is written
        self.values = values  # the placeholders' values

    def said(self, lang: str) -> str:
        """The message in ``lang`` (the English for a language without this string)."""
        return load_translations(lang).gettext(self.template).format(**self.values)


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


#: A number written with thousands separators: "1.234", "1,234,567", "12 345" (a space or U+00A0 / U+202F).
_GROUPED = re.compile(r"\d{1,3}(?:([.,\s\u00a0\u202f])\d{3})(?:\1\d{3})*")


#: Why a number as written is refused, by the separator a spreadsheet put in it.
_THOUSANDS = {
    ".": N_(
        "{where}: {name} must be a plain number, got {value} (a point between thousands? write {digits} with no separator)"
    ),
    ",": N_(
        "{where}: {name} must be a plain number, got {value} (a comma between thousands? write {digits} with no separator)"
    ),
    " ": N_(
        "{where}: {name} must be a plain number, got {value} (a space between thousands? write {digits} with no separator)"
    ),
}
_DECIMAL_COMMA = N_(
    "{where}: {name} must be a plain number, got {value} (write decimals with a point and no thousands separator, "
    "e.g. 1234.5)"
)


def _misread(text: str, integer: bool) -> str | None:
    """The template that says why ``text`` would be misread as a number, or None if it reads as written.

    Example:
        >>> _misread("1.234", integer=True) is _THOUSANDS["."], _misread("1,5", integer=False) is _DECIMAL_COMMA
        (True, True)
        >>> _misread("1.234", integer=False), _misread("1234", integer=True)
        (None, None)
    """
    grouped = _GROUPED.fullmatch(text)
    if grouped and (integer or grouped.group(1) not in ".,"):
        return _THOUSANDS.get(grouped.group(1), _THOUSANDS[" "])
    if not integer and "," in text:
        return _DECIMAL_COMMA
    return None


def number_field(value: Any, name: str, where: str, limit: float, integer: bool) -> float | int | None:
    """A count or a measure as a number, or None when the cell is empty.

    Args:
        value: the cell (text from CSV, a number or text from JSON).
        name: the field's name, for messages.
        where: the row, for messages.
        limit: the largest plausible value.
        integer: True for a count (views): a value that is not a whole number is refused, never rounded.

    Returns:
        The number (an int when ``integer``), or None.

    Raises:
        CorpusError: not a number, NaN, infinite, negative, past ``limit``, a count with a fraction
            (``2.5`` views), or a count written with thousands separators (``1.234`` in Spanish is
            one thousand two hundred thirty-four; read as a decimal it would silently become 1).
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CorpusError(f"{where}: {name} must be a number, got {value!r}")
    text = value.strip() if isinstance(value, str) else None
    if text is not None and (template := _misread(text, integer)):
        raise SaidCorpusError(template, where=where, name=name, value=quote(value), digits=re.sub(r"[^0-9]", "", text))
    try:
        x = float(text) if text is not None else float(value)
    except OverflowError:  # an int of more digits than a float can carry
        x = math.inf
    except (TypeError, ValueError):
        raise CorpusError(f"{where}: {name} must be a number, got {quote(value)}") from None
    written_inf = isinstance(value, float) or (isinstance(value, str) and "inf" in value.lower())
    if math.isnan(x) or x < 0 or (math.isinf(x) and written_inf):
        raise CorpusError(f"{where}: {name} must be a finite number >= 0, got {quote(value)}")
    if x > limit:
        raise CorpusError(f"{where}: {name} is implausibly large ({quote(value)}); the limit is {limit:,.0f}")
    if integer and not x.is_integer():
        template = N_("{where}: {name} is a count and must be a whole number, got {value}")
        raise SaidCorpusError(template, where=where, name=name, value=quote(value))
    return int(x) if integer else x


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
