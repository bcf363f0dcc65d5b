"""Every parameter check in one place: each returns the clean value or raises a specific error.

The library's entry points (store, attention, top-k, recommender, smoothing, inspector, CLI) call
these, so a temperature of 0, a k of 2.5 or an empty query gets the same one-line message wherever
it is given. :func:`effective_factor` is the one scale helper: ``softmax(q·k · scale / T)`` is
``softmax(c · q·k)`` with ``c = scale / T``, checked against what float32 can carry.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from retrieval_attention.errors import InvalidParameterError, QueryError

__all__ = [
    "MAX_QUERY_CHARS",
    "MAX_SENTENCE_CHARS",
    "Scale",
    "check_bandwidth",
    "check_choice",
    "check_half_life",
    "check_index",
    "check_k",
    "check_positive",
    "check_query",
    "check_sentence",
    "check_temperature",
    "check_whole",
    "effective_factor",
    "has_visible_text",
    "scale_factor",
]

Scale = Literal["none", "sqrt_d"]
#: Longest query accepted; longer text is refused rather than silently cut.
MAX_QUERY_CHARS = 10_000
#: Longest sentence the lessons inside the model accept (one sentence read token by token, not a document).
MAX_SENTENCE_CHARS = 400

_T = TypeVar("_T")


def _is_number(x: object) -> bool:
    """A real number that is not a bool (True is not a temperature, a scale or a k)."""
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def check_temperature(temperature: float, dtype: DTypeLike | None = None) -> float:
    """Return ``temperature`` as a float, or raise if it is not a finite number > 0.

    Args:
        temperature: T, which divides the scores before the softmax.
        dtype: the floating type T is used in, if any. Then T must also be a normal number of
            that type, so it neither underflows to 0 nor overflows to infinity there (float32:
            1.2e-38 to 3.4e38); a T that became 0 would give NaN weights.

    Returns:
        T as a Python float.

    Raises:
        InvalidParameterError: temperature is 0, negative, NaN, infinite, not a number (or a
            bool), or outside ``dtype``'s normal range.

    Example:
        >>> check_temperature(0.05)
        0.05
        >>> check_temperature(1e-40, np.float32)
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: temperature 1e-40 underflows in float32 (its smallest normal number is 1.18e-38): use a value such as 0.001 for a hard top-1
    """
    if isinstance(temperature, (bool, np.bool_)):
        raise InvalidParameterError(f"temperature must be a number > 0, got {temperature!r}")
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"temperature must be a number > 0, got {temperature!r}") from None
    if not math.isfinite(t) or t <= 0.0:
        raise InvalidParameterError(
            f"temperature must be a finite number > 0, got {temperature!r} "
            "(0 would divide by zero: use a small value such as 0.001 for a hard top-1)"
        )
    if dtype is not None:
        info = np.finfo(dtype)
        if t < float(info.tiny):
            raise InvalidParameterError(
                f"temperature {t:g} underflows in {info.dtype} (its smallest normal number is "
                f"{float(info.tiny):.3g}): use a value such as 0.001 for a hard top-1"
            )
        if t > float(info.max):
            raise InvalidParameterError(
                f"temperature {t:g} overflows {info.dtype} (its largest number is {float(info.max):.3g})"
            )
    return t


def check_positive(value: object, name: str) -> float:
    """Return ``value`` as a float, or raise unless it is a finite number > 0 (a bandwidth, a width).

    Example:
        >>> check_positive(0.3, "bandwidth")
        0.3
    """
    if not _is_number(value) or not math.isfinite(float(value)) or float(value) <= 0:
        raise InvalidParameterError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_bandwidth(bandwidth: object) -> float:
    """Return a Gaussian kernel's width σ: a finite number > 0 whose 2σ² is a normal float64.

    Scores ``-(t_i - t_j)² / (2σ²)`` need 2σ² neither to underflow to 0 (0/0 gives NaN weights)
    nor to overflow.

    Example:
        >>> check_bandwidth(3)
        3.0
    """
    sigma = check_positive(bandwidth, "bandwidth")
    info = np.finfo(np.float64)
    if not info.tiny <= 2.0 * sigma * sigma <= info.max:
        raise InvalidParameterError(
            f"bandwidth {sigma:g} is outside what float64 can square (2σ² = {2.0 * sigma * sigma:g}): "
            "use a value between 1e-150 and 1e150"
        )
    return sigma


def check_half_life(half_life: object) -> float | None:
    """Return a recency half-life in videos (a finite number > 0) as a float, or None (recency off).

    Example:
        >>> check_half_life(None), check_half_life(3)
        (None, 3.0)
    """
    if half_life is None:
        return None
    if not _is_number(half_life):
        raise InvalidParameterError(f"half_life must be None or a number > 0, got {half_life!r}")
    h = float(half_life)
    if not math.isfinite(h) or h <= 0:
        raise InvalidParameterError(f"half_life must be None or a finite number > 0 (in videos), got {half_life!r}")
    return h


def check_choice(value: object, choices: Sequence[_T], name: str) -> _T:
    """Return ``value`` if it is one of ``choices``, or raise naming them all.

    Example:
        >>> check_choice("mean", ("attention", "mean"), "method")
        'mean'
    """
    for c in choices:
        if type(value) is type(c) and value == c:
            return c
    raise InvalidParameterError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")


def check_whole(value: object, name: str, lo: int = 1, hi: int | None = None) -> int:
    """Return ``value`` as an int if it is a whole number in ``lo..hi`` (``hi=None``: no upper end).

    Python and numpy integers, and floats with no fraction (``5.0``), are accepted; bools, text,
    NaN and fractions are refused.

    Example:
        >>> check_whole(5.0, "window", 1)
        5
    """
    where = f">= {lo}" if hi is None else (f"in 1..n = 1..{hi}" if (lo, name) == (1, "k") else f"in {lo}..{hi}")
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        v = int(value)
    elif _is_number(value) and float(value).is_integer():  # NaN and inf are not integers
        v = int(float(value))
    else:
        raise InvalidParameterError(f"{name} must be a whole number {where}, got {value!r}")
    if v < lo or (hi is not None and v > hi):
        raise InvalidParameterError(f"{name} must be {where}, got {v}")
    return v


def check_k(k: object, n: int | None = None) -> int:
    """Return ``k`` as an int: a whole number >= 1, and at most ``n`` when ``n`` is given.

    One check for both meanings of k. Without ``n``, k is a request that the caller caps at the
    number of keys (ten neighbours among five keys gives five): the store, the index, the
    recommender. With ``n``, k must name a real prefix of the ranking, 1..n: the top-k maths,
    where k > n has no meaning.

    Raises:
        InvalidParameterError: k is not a whole number (2.5, True, "3", NaN), or < 1, or > n.

    Example:
        >>> check_k(3.0), check_k(7, n=10)
        (3, 7)
        >>> check_k(11, n=10)
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: k must be in 1..n = 1..10, got 11
    """
    return check_whole(k, "k", 1, n)


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


def has_visible_text(text: str) -> bool:
    """True if ``text`` has at least one character a reader can see (not whitespace, not a control).

    The one rule for "empty" text: a query without one is refused, a corpus title without one is dropped.

    Example:
        >>> has_visible_text(" cats "), has_visible_text("\u200b\t\x08")
        (True, False)
    """
    return any(ch.isprintable() and not ch.isspace() for ch in text)


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
    if not has_visible_text(query):
        raise QueryError("the query has no visible characters (only control or whitespace characters)")
    return query


def check_sentence(sentence: object, name: str = "sentence") -> str:
    """Return one lesson sentence: a valid query (:func:`check_query`) of at most ``MAX_SENTENCE_CHARS``.

    Example:
        >>> check_sentence("x" * 401)
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.QueryError: the sentence is 401 characters; the limit is 400 (one sentence, read token by token)
    """
    if isinstance(sentence, str) and not sentence.strip():
        raise QueryError(f"the {name} is empty: type a sentence")
    try:
        text = check_query(sentence)
    except QueryError as exc:
        raise QueryError(str(exc).replace("the query", f"the {name}", 1)) from None
    if len(text) > MAX_SENTENCE_CHARS:
        raise QueryError(
            f"the {name} is {len(text):,} characters; the limit is {MAX_SENTENCE_CHARS} (one sentence, read token by token)"
        )
    return text


def scale_factor(scale: Scale | float | None, d: int | None = None) -> float:
    """The multiplier of q·k: 1 for "none" (or None), 1/sqrt(d) for "sqrt_d", or a given number.

    Args:
        scale: "none", None, "sqrt_d", or a finite number > 0.
        d: the vectors' dimension (needed for "sqrt_d").

    Raises:
        InvalidParameterError: any other scale (NaN, infinite, 0, negative, a bool, another name).

    Example:
        >>> scale_factor("none"), scale_factor("sqrt_d", 16), scale_factor(0.5)
        (1.0, 0.25, 0.5)
    """
    if scale is None or (isinstance(scale, str) and scale == "none"):
        return 1.0
    if isinstance(scale, str) and scale == "sqrt_d":
        return 1.0 / math.sqrt(check_whole(d, "d (the dimension, for scale='sqrt_d')", 1))
    if _is_number(scale) and math.isfinite(float(scale)) and float(scale) > 0:
        return float(scale)
    raise InvalidParameterError(f"scale must be 'none', 'sqrt_d' or a finite number > 0, got {scale!r}")


def effective_factor(
    scale: Scale | float | None,
    temperature: float,
    d: int | None = None,
    max_abs_score: float = 1.0,
    dtype: DTypeLike = np.float32,
    scores: ArrayLike | None = None,
) -> float:
    """The one number every score is multiplied by before the softmax: ``c = scale / T``.

    ``softmax(q·k · scale / T)`` is ``softmax(c · q·k)``; the store, exact and top-k attention and
    the numpy core all multiply by c once. It is checked against what ``dtype`` can carry, so that
    no weight comes out NaN and no "top" result is arbitrary:

    * T must be a normal number of ``dtype`` (float32: at least 1.18e-38), so it never underflows;
    * ``c · max_abs_score`` must be at most half the largest ``dtype`` number (float32: 1.7e38), so
      every logit, and every difference of two logits, is finite;
    * c itself must not underflow (float32: below 1.18e-38 every weight would be exactly uniform,
      as with a scale of 0).

    Args:
        scale: "none" or None (1), "sqrt_d" (1/sqrt(d)), or a finite number > 0.
        temperature: T > 0.
        d: the vectors' dimension, needed for "sqrt_d".
        max_abs_score: the largest |q·k| that c will multiply: 1 for unit vectors (cosines).
        dtype: the floating type the scores are in.
        scores: the scores themselves, when they are at hand: then their largest finite |q·k|
            and their float type replace ``max_abs_score`` and ``dtype`` (NaN and ±inf entries
            are left to propagate, see :func:`retrieval_attention.core.attention.softmax`).

    Returns:
        c as a Python float.

    Raises:
        InvalidParameterError: bad scale or temperature, or a c that ``dtype`` cannot carry.

    Example:
        >>> effective_factor("none", 0.05), effective_factor("sqrt_d", 1.0, d=4)
        (20.0, 0.5)
        >>> effective_factor(1e6, 1e-33)
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: scale / temperature = 1e+39 is too large for float32: times scores up to 1 it passes 1.7e+38, half the largest float32 (use a temperature of at least 5.9e-33)
    """
    if scores is not None:
        a = np.asarray(scores)
        dtype = a.dtype if np.issubdtype(a.dtype, np.floating) else np.float64
        max_abs_score = float(np.max(np.abs(a), where=np.isfinite(a), initial=0.0))
    t = check_temperature(temperature, dtype)
    s = scale_factor(scale, d)
    info = np.finfo(dtype)
    c = s / t
    m = float(max_abs_score)
    if not math.isfinite(m) or m < 0:
        raise InvalidParameterError(f"max_abs_score must be a finite number >= 0, got {max_abs_score!r}")
    limit = float(info.max) / 2
    if c * m > limit:
        raise InvalidParameterError(
            f"scale / temperature = {c:.3g} is too large for {info.dtype}: times scores up to {m:.3g} it "
            f"passes {limit:.2g}, half the largest {info.dtype} (use a temperature of at least {s * m / limit:.2g})"
        )
    if c < info.tiny:
        raise InvalidParameterError(
            f"scale / temperature = {c:.3g} underflows in {info.dtype} (below {float(info.tiny):.3g}): every "
            "weight would be exactly uniform; use a smaller temperature or a larger scale"
        )
    return c
