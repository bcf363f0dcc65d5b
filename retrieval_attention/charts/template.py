"""A chart's Vega-Lite specification built once per kind, options and language; a new query brings only its rows.

Turning an Altair chart into an inline, themed Vega-Lite dictionary
(:func:`~retrieval_attention.export.specs.inline_spec`) costs tens of milliseconds per chart, most
of it Altair wrapping and walking every channel; the numbers of a new query change none of that
structure. So a chart kind is written in two parts:

* a *parts* function (e.g. :func:`~retrieval_attention.charts.retrieval.weights_parts`) turns the
  page's results into :class:`ChartParts`: the rows of each dataset, by a stable name, and the
  *options*, every other value the specification reads (labels in the page's language, k, a log
  axis's floor ...). A dataset is a pandas frame or, cheaper for a new query, :class:`Columns`
  (numpy arrays and lists of texts, no frame: a frame is made of them only when a template is
  built). No Altair;
* a *view* function (e.g. :func:`~retrieval_attention.charts.retrieval.weights_view`) builds the
  Altair chart from those datasets and options; each of its charts takes one of the frames as it
  is (no transform of the rows in pandas inside the view).

:func:`filled` builds the view once per (view, options, number signs, dataset columns) and
keeps it as a *template*: the specification with its top-level ``datasets`` renamed to the stable
names (``data-weights``). Every later call with the same options copies the template's top level
and puts the new rows under those names: Vega-Lite reads named datasets, so the result draws
exactly as a fresh build would (the tests compare them, dataset names aside). The rows are the values
Altair's own converter (:func:`altair.utils.data.to_values`) writes, so they are the ones a fresh
build writes. :func:`~retrieval_attention.export.specs.filled_spec` is this with the lesson's theme
and number signs (what :func:`~retrieval_attention.export.specs.inline_spec` gives a fresh build).

A view whose specification would depend on the rows themselves would be drawn wrong from a
template: such a value belongs in the options (the parts function computes it), which makes it part
of the template's key.

Cache (per process, bounded, shared by every session; a template holds no rows):

=================  =====================================================  ===========
what               key                                                    bound
=================  =====================================================  ===========
:data:`TEMPLATES`  view, fingerprint of options, dataset names /         512 entries
                   columns / dtypes, number signs, width
=================  =====================================================  ===========

No streamlit here.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from retrieval_attention.charts.spec import RenderCache, fingerprint

if TYPE_CHECKING:
    import altair as alt
    import pandas as pd

__all__ = ["TEMPLATES", "ChartParts", "Columns", "Records", "columns_of", "dataset_name", "filled", "template_key"]

#: The specification templates of this process (a template is a few kB: no rows).
TEMPLATES = RenderCache(max_entries=512, max_bytes=64 * 1024 * 1024)

View = Callable[..., "alt.TopLevelMixin"]


class Columns:
    """A dataset column by column, made without pandas: what a new query's chart rows cost least as.

    Each column is a numpy array of numbers or booleans, or a list of texts (None for a missing one),
    all of one length. :meth:`frame` is the pandas frame of them, which a view takes: it is made only
    when a template is built, and a template's rows are exactly that frame's (the tests compare them
    with fresh builds). Make one with :func:`columns_of`, which checks the kinds.
    """

    __slots__ = ("kinds", "length", "values")

    def __init__(self, values: dict[str, Any], kinds: tuple[str, ...], length: int) -> None:
        self.values = values  #: name -> numpy array or list of texts
        self.kinds = kinds  #: each column's dtype as its frame's (``"float64"``, ``"str"`` ...), for the template key
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __repr__(self) -> str:
        return f"Columns({', '.join(f'{n}: {k}' for n, k in zip(self.values, self.kinds))}; {self.length} rows)"

    def frame(self) -> pd.DataFrame:
        """The columns as a pandas frame (texts as pandas' text dtype, numbers as they are)."""
        import pandas as pd

        return pd.DataFrame(
            {n: pd.array(v, dtype="str") if k == "str" else v for (n, v), k in zip(self.values.items(), self.kinds)}
        )


def columns_of(data: Mapping[str, Any] | pd.DataFrame) -> Columns | pd.DataFrame:
    """``data`` (a frame, or name -> array, list or scalar) as :class:`Columns`, or as a frame when it cannot be.

    Numbers and booleans become numpy arrays, texts lists (numpy text arrays and text frame columns
    too), a scalar a column of its value. A column of anything else (dates, mixed objects, categories)
    or of another length makes the whole dataset a pandas frame, as it was: Altair's own conversions.

    Example:
        >>> import numpy as np
        >>> columns_of({"rank": np.arange(1, 3), "title": ["a", None], "base": 0.5})
        Columns(rank: int64, title: str, base: float64; 2 rows)
        >>> type(columns_of({"when": np.array(["2026-12-07"], dtype="datetime64[D]")})).__name__
        'DataFrame'
    """
    import numpy as np
    import pandas as pd

    values: dict[str, Any] = {}
    kinds: list[str] = []
    pending: list[tuple[str, Any]] = []  # scalars: their length comes from the arrays
    length: int | None = None
    ok = True
    for name, raw in data.items():
        if not isinstance(name, str):
            ok = False
            break
        if isinstance(raw, pd.Series):
            if isinstance(raw.dtype, pd.StringDtype):
                raw = raw.to_numpy(dtype=object, na_value=None).tolist()
            elif isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iufb":
                raw = raw.to_numpy()
            else:
                ok = False
                break
        if isinstance(raw, (bool, int, float, np.generic)) and not isinstance(raw, (np.str_, np.bytes_)):
            pending.append((name, raw))
            values[name] = None
            kinds.append("")
            continue
        if isinstance(raw, np.ndarray) and raw.ndim == 1 and raw.dtype.kind in "iufb":
            col, kind = raw, str(raw.dtype)
        elif isinstance(raw, np.ndarray) and raw.ndim == 1 and raw.dtype.kind == "U":
            col, kind = raw.tolist(), "str"
        elif isinstance(raw, (list, tuple)) or (
            isinstance(raw, np.ndarray) and raw.ndim == 1 and raw.dtype.kind == "O"
        ):
            col, kind = list(raw), "str"
            if not all(type(v) is str or v is None for v in col) or (col and all(v is None for v in col)):
                ok = False  # not texts (or only missing ones, which pandas types otherwise)
                break
        else:
            ok = False
            break
        if length is None:
            length = len(col)
        elif len(col) != length:
            ok = False
            break
        values[name] = col
        kinds.append(kind)
    if ok and length is not None:
        for name, scalar in pending:
            col = np.full(length, scalar)
            if col.dtype.kind not in "iufb":
                ok = False
                break
            values[name] = col
            kinds[list(values).index(name)] = str(col.dtype)
    if not ok or length is None:
        return data if isinstance(data, pd.DataFrame) else pd.DataFrame(dict(data))
    return Columns(values, tuple(kinds), length)


@dataclass(frozen=True)
class ChartParts:
    """What one chart is made of: its datasets' rows by name and every other value its specification reads.

    Attributes:
        data: dataset name -> the frame (or :class:`Columns`) a chart of the view takes as it is.
        options: the view's keyword arguments (labels, k, sizes, values derived from the rows that
            the specification writes outside its data); hashed into the template's key.
    """

    data: Mapping[str, pd.DataFrame | Columns]
    options: Mapping[str, Any] = field(default_factory=dict)

    def frames(self) -> dict[str, pd.DataFrame]:
        """The datasets as the pandas frames a view takes (:class:`Columns` made into frames)."""
        return {name: d.frame() if isinstance(d, Columns) else d for name, d in self.data.items()}


@dataclass(frozen=True)
class _Template:
    spec: Mapping[str, Any]  # without "datasets"
    names: tuple[tuple[str, str], ...]  # (stable dataset name, key of ChartParts.data)


def dataset_name(name: str) -> str:
    """The stable name a template gives the dataset ``name`` (``"weights"`` -> ``"data-weights"``)."""
    return f"data-{name}"


def _column(values: pd.Series) -> list[Any] | None:
    """One column as the values Altair's sanitizer writes (None for a dtype it treats otherwise)."""
    import numpy as np
    import pandas as pd

    if isinstance(values.dtype, pd.StringDtype):  # pandas' text dtype: str or missing, nothing else
        return values.to_numpy(dtype=object, na_value=None).tolist()
    if not isinstance(values.dtype, np.dtype):  # nullable numbers, categories, dates with a zone ...
        return None
    kind = values.dtype.kind
    if kind in "iubf":  # Python ints, bools and floats; NaN and ±inf as None
        return _array_column(values.to_numpy())
    if kind == "O":  # text and objects: arrays as lists, missing values as None, numpy scalars as Python's
        missing = values.isna().to_numpy()
        return [
            None if m else v.tolist() if isinstance(v, np.ndarray) else v.item() if isinstance(v, np.generic) else v
            for v, m in zip(values.tolist(), missing)
        ]
    return None  # dates, durations: Altair's own converter


class Records(list):
    """A dataset's rows (a list of dicts, as Vega-Lite and JSON read them) that also keeps them column by column.

    A renderer that wants columns (Arrow, for the app) reads :attr:`columns` instead of taking every
    row apart again. It is a list in every other way: equal to the same rows, written as a JSON array.
    """

    __slots__ = ("columns",)

    def __init__(self, rows: list[dict[str, Any]], columns: dict[str, list[Any]]) -> None:
        super().__init__(rows)
        self.columns = columns  #: name -> the column's values, in row order


def _array_column(values: Any) -> list[Any]:
    """One :class:`Columns` column (or a frame's numbers as an array) as the values Altair writes for it."""
    import numpy as np

    if isinstance(values, list):
        return values  # texts and None
    out = values.tolist()  # Python ints, bools and floats
    if values.dtype.kind == "f":  # NaN and ±inf as None
        bad = ~np.isfinite(values)
        if bad.any():
            for i in np.flatnonzero(bad):
                out[i] = None
    return out


def _records(names: list[str], columns: list[list[Any]], length: int) -> Records:
    """:class:`Records` of ``length`` rows from its columns, filled a column at a time (1.5× faster than a
    ``dict(zip(...))`` per row, the same dicts with the keys in the same order)."""
    rows: list[dict[str, Any]] = [{} for _ in range(length)]
    for name, values in zip(names, columns):
        for row, value in zip(rows, values):
            row[name] = value
    return Records(rows, dict(zip(names, columns)))


def _rows(frame: pd.DataFrame | Columns) -> list[dict[str, Any]]:
    """``frame`` as the records Altair's default data transformer writes for it (the same values, faster).

    Returns:
        :class:`Records` (the rows, and the same values by column) when the fast path applies, else
        Altair's own list of rows.
    """
    import pandas as pd
    from altair.utils.data import to_values

    if isinstance(frame, Columns):
        return _records(list(frame.values), [_array_column(v) for v in frame.values.values()], len(frame))
    names = list(frame.columns)
    if isinstance(frame.index, pd.MultiIndex) or not all(type(n) is str for n in names):
        return to_values(frame)["values"]  # Altair's errors and conversions
    columns = [_column(values) for _name, values in frame.items()]  # items(): a third of iloc's cost a column
    if any(c is None for c in columns):
        return to_values(frame)["values"]
    return _records(names, columns, len(frame))


def template_key(view: View, parts: ChartParts, *more: Hashable) -> tuple[Hashable, ...]:
    """What identifies a template: the view, its options, the datasets' names, columns and dtypes, and ``more``."""
    shape = tuple(
        (name, tuple(d.values), d.kinds)
        if isinstance(d, Columns)
        else (name, tuple(map(str, d.columns)), tuple(map(str, d.dtypes)))
        for name, d in parts.data.items()
    )
    return (f"{view.__module__}.{view.__qualname__}", fingerprint(dict(parts.options)), shape, *more)


def _rename(node: Any, names: Mapping[str, str]) -> Any:
    """``node`` with every ``"data": {"name": old}`` pointing at ``names[old]`` (a copy of what changes)."""
    if isinstance(node, list):
        return [_rename(x, names) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "data" and isinstance(v, dict) and v.get("name") in names:
            out[k] = {**v, "name": names[v["name"]]}
        else:
            out[k] = _rename(v, names)
    return out


def _template(spec: Mapping[str, Any], rows: Mapping[str, list[dict[str, Any]]]) -> _Template | None:
    """``spec`` (a fresh build) as a template, or None when its datasets cannot be told apart by their rows."""
    names: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for altair_name, values in (spec.get("datasets") or {}).items():
        same = [name for name, r in rows.items() if r == values]
        if len(same) != 1:  # rows no frame has (the view changed them), or two frames alike: no template
            return None
        names[altair_name] = dataset_name(same[0])
        pairs.append((names[altair_name], same[0]))
    body = _rename({k: v for k, v in spec.items() if k != "datasets"}, names)
    return _Template(spec=body, names=tuple(pairs))


def filled(
    view: View, parts: ChartParts, convert: Callable[[alt.TopLevelMixin], dict[str, Any]], *more: Hashable
) -> dict[str, Any]:
    """``convert(view(parts.frames(), **parts.options))``, its structure built once per view, options and ``more``.

    Args:
        view: a chart kind's view function (datasets and options in, Altair chart out).
        parts: the chart's rows and options, from the kind's parts function.
        convert: turns the chart into its final Vega-Lite dict (theme, number signs, width), e.g.
            :func:`~retrieval_attention.export.specs.inline_spec` with the language's signs.
        more: whatever else ``convert`` depends on (the signs, the width rule): part of the key.

    Returns:
        What ``convert`` returns for a fresh build, with the datasets under stable names
        (:func:`dataset_name`). Its top level is new; everything else is the template's, shared:
        read it, never change it.

    Example:
        >>> import altair as alt, pandas as pd
        >>> def bars(data, colour):
        ...     return alt.Chart(data["w"]).mark_bar(color=colour).encode(x="w:Q")
        >>> parts = ChartParts({"w": pd.DataFrame({"w": [0.25]})}, {"colour": "red"})
        >>> spec = filled(bars, parts, lambda chart: chart.to_dict(validate=False))
        >>> spec["data"], spec["datasets"]
        ({'name': 'data-w'}, {'data-w': [{'w': 0.25}]})
    """
    rows = {name: _rows(frame) for name, frame in parts.data.items()}
    fresh: dict[str, Any] = {}

    def build() -> _Template | None:
        fresh["spec"] = convert(view(parts.frames(), **parts.options))
        return _template(fresh["spec"], rows)

    template = TEMPLATES.get(template_key(view, parts, *more), build)
    if template is None:  # this view's datasets cannot be named apart: the fresh build, every time
        if not fresh:
            build()
        return fresh["spec"]
    return {**template.spec, "datasets": {stable: rows[name] for stable, name in template.names}}
