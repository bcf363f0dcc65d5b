"""Every parameter check in one place: each returns the clean value or raises a specific error.

The library's entry points (store, attention, top-k, recommender, inspector, CLI) call these, so a
temperature of 0, a k of 2.5 or an empty query gets the same one-line message wherever it is given.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from retrieval_attention.errors import InvalidParameterError, QueryError

__all__ = [
    "MAX_QUERY_CHARS",
    "Scale",
    "check_index",
    "check_k",
    "check_query",
    "check_temperature",
    "scale_factor",
]

Scale = Literal["none", "sqrt_d"]
#: Longest query accepted; longer text is refused rather than silently cut.
MAX_QUERY_CHARS = 10_000


def check_temperature(temperature: float) -> float:
    """Return ``temperature`` as a float, or raise if it is not a finite number > 0.

    Raises:
        InvalidParameterError: temperature is 0, negative, NaN, infinite or not a number.
    """
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"temperature must be a number > 0, got {temperature!r}") from None
    if not math.isfinite(t) or t <= 0.0:
        raise InvalidParameterError(
            f"temperature must be a finite number > 0, got {temperature!r} "
            "(0 would divide by zero: use a small value such as 0.001 for a hard top-1)"
        )
    return t


def check_k(k: int) -> int:
    """Return ``k`` as an int, or raise if it is not a whole number >= 1."""
    if isinstance(k, (bool, str, bytes)):
        raise InvalidParameterError(f"k must be a whole number >= 1, got {k!r}")
    if not isinstance(k, (int, np.integer)):
        try:
            as_float = float(k)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"k must be a whole number >= 1, got {k!r}") from None
        if not as_float.is_integer():
            raise InvalidParameterError(f"k must be a whole number >= 1, got {k!r}")
        k = int(as_float)
    if k < 1:
        raise InvalidParameterError(f"k must be >= 1, got {k}")
    return int(k)


def check_index(value: object, upto: int, name: str) -> int:
    """Return ``value`` as an int in ``0..upto-1`` (a layer, a head, a row), or raise.

    Args:
        value: the index to check; a Python or numpy integer. Bools and floats (even 2.0) are refused.
        upto: the number of valid positions; the valid range is ``0..upto-1``.
        name: what the index counts (``"layer"``, ``"head"``), used in the message.

    Returns:
        ``value`` as a Python int.

    Raises:
        InvalidParameterError: ``value`` is not an integer or lies outside ``0..upto-1``; the message
            names ``name`` and the range.

    Example:
        >>> check_index(np.int64(3), 12, "head")
        3
        >>> check_index(12, 12, "head")
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: head must be an integer in 0..11, got 12
    """
    if upto < 1:
        raise InvalidParameterError(f"{name}: there is nothing to index (0 positions), got {value!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 0 <= value < upto:
        raise InvalidParameterError(f"{name} must be an integer in 0..{upto - 1}, got {value!r}")
    return int(value)


def check_query(query: object) -> str:
    """Return the query text, or raise :class:`QueryError` with the reason.

    Example:
        >>> check_query("  cats ")
        '  cats '
    """
    if not isinstance(query, str):
        raise QueryError(f"the query must be text, got {type(query).__name__}")
    if not query.strip():
        raise QueryError("the query is empty: type a few words, e.g. 'funny cat videos'")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is {len(query):,} characters; the limit is {MAX_QUERY_CHARS:,} "
            "(the model reads only the first few hundred tokens anyway)"
        )
    try:  # a lone surrogate (bytes that were not UTF-8, half a \u pair) crashes the tokenizer
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise QueryError(
            f"the query is not valid Unicode text: a lone surrogate U+{ord(query[exc.start]):04X} "
            f"at character {exc.start + 1} (bytes that are not UTF-8, or half of a surrogate pair)"
        ) from None
    if not any(ch.isprintable() and not ch.isspace() for ch in query):
        raise QueryError("the query has no visible characters (only control or whitespace characters)")
    return query


def scale_factor(scale: Scale | float | None, d: int) -> float:
    """The multiplier of q·k: 1 for "none", 1/sqrt(d) for "sqrt_d", or a given number."""
    if scale is None or scale == "none":
        return 1.0
    if scale == "sqrt_d":
        return 1.0 / math.sqrt(d)
    if isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0:
        return float(scale)
    raise InvalidParameterError(f"scale must be 'none', 'sqrt_d' or a number > 0, got {scale!r}")
