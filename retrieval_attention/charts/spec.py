"""Chart specifications (and CSV files) built once per distinct input: a content fingerprint and a bounded cache.

Building an Altair chart and turning it into a Vega-Lite dictionary costs milliseconds to tens of
milliseconds (Altair wraps every encoding channel and validates the whole specification against
the Vega-Lite JSON schema). A page that redraws the same chart for the same numbers on every rerun
pays that each time. The app keys each chart by its builder and a :func:`fingerprint` of the
builder's inputs, and keeps the finished dictionary in a :class:`RenderCache` shared by every
session: a slider that leaves a chart's inputs unchanged costs one hash instead of one build. The
CSV downloads are kept the same way.

No streamlit here: the cache stores whatever the caller's ``build`` returns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from retrieval_attention.errors import InvalidParameterError

__all__ = ["Lazy", "RenderCache", "Same", "fingerprint", "render_nbytes", "resolve"]

_SCALARS = (bool, int, float, complex, str, type(None))
T = TypeVar("T")


@dataclass(frozen=True, init=False)
class Lazy:
    """An input made only when the chart (or CSV) it feeds is not cached, known by what it is made from.

    ``Lazy(pd.DataFrame, {"rank": ranks, "weight": w})`` is hashed as ``pd.DataFrame`` and its
    arguments; the frame itself is built only on a miss. ``make`` must be a named function (not a
    lambda: two lambdas of one module would hash alike) and depend on ``parts`` alone.

    Example:
        >>> import numpy as np, pandas as pd
        >>> lazy = Lazy(pd.DataFrame, {"w": np.array([0.5, 0.5])})
        >>> fingerprint(lazy) == fingerprint(Lazy(pd.DataFrame, {"w": np.array([0.5, 0.5])}))
        True
        >>> resolve(lazy)["w"].tolist()
        [0.5, 0.5]
    """

    make: Callable[..., Any]
    parts: tuple[Any, ...]

    def __init__(self, make: Callable[..., Any], *parts: Any) -> None:
        name = getattr(make, "__qualname__", "")
        if not name or "<lambda>" in name or "<locals>" in name:
            raise InvalidParameterError(f"Lazy needs a named module-level function, not {make!r}")
        object.__setattr__(self, "make", make)
        object.__setattr__(self, "parts", parts)

    def value(self) -> Any:
        """``make(*parts)``."""
        return self.make(*self.parts)


def resolve(x: Any) -> Any:
    """``x.value()`` for a :class:`Lazy`, else ``x`` itself."""
    return x.value() if isinstance(x, Lazy) else x


def fingerprint(*parts: object) -> str:
    """A content hash of chart inputs: equal inputs give equal strings, in any process.

    Arrays hash their dtype, shape and bytes; frames and series their index, column names, dtypes
    and every value; numbers hash their type and exact ``repr``
    (so ``1``, ``1.0`` and ``True`` differ); sequences and mappings hash their items in order
    (the order of a category dict is the order of its bars); frozen dataclasses hash their fields.

    Args:
        parts: the builder's inputs.

    Returns:
        32 hexadecimal characters (BLAKE2b, 16 bytes).

    Raises:
        InvalidParameterError: for an input it cannot hash by content (an arbitrary object would only hash
            by identity and could silently serve a stale chart).

    Example:
        >>> import numpy as np
        >>> fingerprint(np.arange(3), 5) == fingerprint(np.arange(3), 5)
        True
        >>> fingerprint(np.arange(3), 5) == fingerprint(np.arange(3), 5.0)
        False
    """
    h = hashlib.blake2b(digest_size=16)
    _feed(h, parts)
    return h.hexdigest()


def _feed(h: Any, x: object) -> None:  # h: hashlib blake2b
    if isinstance(x, _SCALARS):
        h.update(f"{type(x).__name__}:{x!r};".encode("utf-8", "surrogatepass"))
    elif isinstance(x, bytes):
        h.update(b"bytes:%d;" % len(x))
        h.update(x)
    elif x is pd.NA or x is pd.NaT:
        h.update(f"{x!r};".encode())
    elif isinstance(x, np.generic):
        _feed(h, ("np", str(x.dtype), x.item()))
    elif isinstance(x, np.ndarray):
        h.update(f"nd:{x.dtype.str}:{x.shape};".encode())
        if x.dtype.hasobject:  # object arrays hold pointers: hash the objects
            _feed(h, x.tolist())
        else:
            h.update(np.ascontiguousarray(x).tobytes())
    elif isinstance(x, pd.DataFrame):
        h.update(f"df:{x.shape};".encode())
        _feed(h, x.index)
        for name, col in x.items():
            _feed(h, str(name))
            _feed_values(h, col)
    elif isinstance(x, pd.Series):
        h.update(b"series;")
        _feed(h, str(x.name))
        _feed(h, x.index)
        _feed_values(h, x)
    elif isinstance(x, pd.RangeIndex):
        h.update(f"range:{x.start}:{x.stop}:{x.step}:{x.name!s};".encode())
    elif isinstance(x, pd.Index):
        h.update(f"index:{type(x).__name__}:{[str(n) for n in x.names]};".encode())
        _feed_values(h, x)
    elif isinstance(x, Lazy):
        code = getattr(x.make, "__code__", None)  # a page's functions all live in module __main__
        where = code.co_filename if code is not None else ""
        _feed(h, ("lazy", getattr(x.make, "__module__", ""), x.make.__qualname__, where, x.parts))
    elif isinstance(x, (tuple, list)):
        if x and all(type(i) is str for i in x):  # titles, labels: one update instead of one per item
            h.update(f"strs:{len(x)}:{','.join(str(len(i)) for i in x)};".encode())
            h.update("".join(x).encode("utf-8", "surrogatepass"))
            return
        kind = "list" if isinstance(x, list) else type(x).__name__  # a template's Records hash as the rows they are
        h.update(f"{kind}:{len(x)}[".encode())
        for item in x:
            _feed(h, item)
        h.update(b"]")
    elif isinstance(x, Mapping):
        h.update(f"map:{len(x)}{{".encode())
        for k, v in x.items():
            _feed(h, k)
            _feed(h, v)
        h.update(b"}")
    elif dataclasses.is_dataclass(x) and not isinstance(x, type):
        h.update(f"dc:{type(x).__module__}.{type(x).__qualname__};".encode())
        for f in dataclasses.fields(x):
            _feed(h, f.name)
            _feed(h, getattr(x, f.name))
    else:
        raise InvalidParameterError(
            f"fingerprint cannot hash a {type(x).__name__} by its content; pass the chart builder "
            "plain data (arrays, frames, numbers, strings, sequences, dicts or dataclasses of those)"
        )


def _feed_values(h: Any, values: pd.Series | pd.Index) -> None:
    """One column's dtype and values: numbers as raw bytes, anything else item by item."""
    h.update(f"dtype:{values.dtype};".encode())
    if isinstance(values.dtype, pd.CategoricalDtype):  # the categories' order sorts bars and legends
        _feed(h, (values.dtype.categories.tolist(), values.dtype.ordered))
    if values.dtype.kind in "biufcmM":  # object arrays (nullable with NA) are fed item by item
        _feed(h, values.to_numpy())
    else:  # text, categories, mixed objects
        _feed(h, values.tolist())


def render_nbytes(value: object) -> int:
    """A cheap size estimate of a cached rendering, what :class:`RenderCache`'s memory bound counts.

    Args:
        value: bytes (a CSV file), an Arrow table (a page's table) or a Vega-Lite dictionary (its datasets
            may be Arrow bytes, Arrow tables or records).

    Returns:
        ``len`` of bytes; for a specification its datasets' bytes (an Arrow table's ``nbytes``, 64 per
        record) plus 4 kB for the rest.
    """
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    if isinstance(getattr(value, "nbytes", None), int):  # a pyarrow.Table (a page's table, drawn)
        return 4096 + value.nbytes
    size = 4096
    if isinstance(value, Mapping):
        for data in (value.get("datasets") or {}).values():
            if isinstance(data, (bytes, bytearray)):
                size += len(data)
            else:
                nbytes = getattr(data, "nbytes", None)  # a pyarrow.Table
                size += nbytes if isinstance(nbytes, int) else 64 * len(data)
    return size


class Same:
    """A cache key that is one object: hashed by its id and holding it, so that id stays its own while the key lives.

    For what the builders cache and never change (a specification, a frame): a revisit hands over the
    same object, and its rendering is found without hashing its data.

    Example:
        >>> rows = [{"w": 0.5}]
        >>> Same(rows) == Same(rows), Same(rows) == Same([{"w": 0.5}])
        (True, False)
    """

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj


class RenderCache:
    """Finished renderings (chart specifications, CSV bytes) by key, least recently used dropped first.

    One cache serves every session of a server (it is safe across threads): the first session to
    draw a chart for some input builds it, every later draw of that input (any session) reuses
    the same object. Callers must treat a returned dictionary as read-only.

    Args:
        max_entries: most renderings kept.
        max_bytes: most bytes kept, as :func:`render_nbytes` estimates them.

    Example:
        >>> cache = RenderCache(max_entries=2)
        >>> cache.get(("bar", "x"), lambda: {"mark": "bar"})
        {'mark': 'bar'}
        >>> cache.get(("bar", "x"), lambda: {"mark": "never built"})
        {'mark': 'bar'}
        >>> cache.hits, cache.misses
        (1, 1)
    """

    def __init__(self, max_entries: int = 512, max_bytes: int = 128 * 1024 * 1024) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise InvalidParameterError(
                f"RenderCache needs room for one entry, got max_entries={max_entries}, max_bytes={max_bytes}"
            )
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """The rendering stored under ``key``, built with ``build()`` (outside the lock) if missing.

        Args:
            key: what identifies it, e.g. ``(builder name, fingerprint of its inputs)``.
            build: makes it; called at most once per miss (two sessions missing at once both build).

        Returns:
            The stored object (shared: do not change it).
        """
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return found[0]
            self.misses += 1
        value = build()
        size = render_nbytes(value)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while len(self._items) > 1 and (len(self._items) > self.max_entries or self._bytes > self.max_bytes):
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return value

    def clear(self) -> None:
        """Forget every rendering (the counters stay)."""
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """The estimated bytes held now."""
        return self._bytes
