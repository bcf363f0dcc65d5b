"""From a file's bytes to rows: the encoding, and the CSV, JSON and JSONL formats (by suffix).

Each ``rows_from_*`` returns ``(header, rows)``: the column names in file order, and one
``(where, {column: value})`` per record, ``where`` naming the line or record for messages.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from retrieval_attention.corpus.fields import LongInteger, kind, names
from retrieval_attention.corpus.records import printable_label
from retrieval_attention.errors import CorpusError

__all__ = [
    "DELIMITERS",
    "FORMATS",
    "REFUSED_SUFFIXES",
    "decode",
    "format_of",
    "json_loads",
    "lines",
    "rows_from_csv",
    "rows_from_json",
    "rows_from_jsonl",
]

#: Files that are never parsed: they could carry pickles or native code.
REFUSED_SUFFIXES = (".npy", ".npz", ".pkl", ".pickle", ".faiss", ".index", ".joblib", ".pt", ".bin")
#: The formats read, by file suffix.
FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "txt"}
#: A JSON integer with more digits than this is kept as its digits (a LongInteger), never int()-ed.
JSON_INT_DIGITS = 30
#: The separators a spreadsheet writes, by name: Excel's "CSV" is comma- or (where the decimal sign
#: is a comma) semicolon-separated, its "Text (Tab delimited)" is a .txt with tabs.
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def lines(text: str) -> list[str]:
    """``text`` split at line breaks only: ``\\n``, ``\\r\\n`` and ``\\r``.

    ``str.splitlines`` also splits at U+2028 / U+2029, U+0085, form feeds and a few other
    characters that JSON allows inside a string and that a title may hold; a file's lines, and
    the lines pasted into the app, end only where a text editor ends them.

    Example:
        >>> lines("a\\u2028b\\r\\nc\\rd\\n")
        ['a\\u2028b', 'c', 'd', '']
    """
    return _LINE_BREAK.split(text)


def decode(raw: bytes, label: str) -> str:
    """The file's text: UTF-8, leading byte-order marks dropped.

    Raises:
        CorpusError: a byte that is not UTF-8 (with its line and column), or NUL bytes (a binary file).
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise CorpusError(
            f"{label} is not UTF-8: byte 0x{bad} at line {line}, column {col}; "
            "save it as UTF-8 (in a spreadsheet: 'CSV UTF-8') and try again"
        ) from None
    text = text.lstrip("\ufeff")  # a byte-order mark twice (two tools each added one) is still only a mark
    if "\x00" in text:
        raise CorpusError(f"{label} contains NUL bytes: it looks like a binary file, not text")
    return text


def json_int(digits: str) -> int | str:
    """``parse_int`` for ``json.loads``: Python refuses int() of more than 4,300 digits with a raw ValueError."""
    return int(digits) if len(digits) <= JSON_INT_DIGITS else LongInteger(digits)


def header_line(text: str) -> str:
    """The first line of ``text`` that holds a visible character (the header of a table), or ''."""
    start = 0
    while True:
        brk = _LINE_BREAK.search(text, start)
        line = text[start : brk.start() if brk else len(text)]
        if line.strip() or brk is None:
            return line if line.strip() else ""
        start = brk.end()


def sniff_delimiter(text: str, key_fields: Iterable[str]) -> str:
    """The separator of a table's cells: the one whose header names a key field, else the commonest.

    A spreadsheet saves "CSV" with semicolons where the decimal sign is a comma (Spain, most of
    Europe) and "Text" with tabs. The header decides: the separator that splits it into cells one of
    which is a key field (any case) wins; a header that names none is split at whichever of tab,
    semicolon and comma it holds most of (comma on a tie, and when it holds none).

    Example:
        >>> sniff_delimiter("Title;Views\\nCats;1.234\\n", ["title"]), sniff_delimiter("id\\ttitle\\n", ["title"])
        (';', '\\t')
    """
    head = header_line(text)
    keys = {k.casefold() for k in key_fields}
    for delim in DELIMITERS:
        try:
            cells = next(csv.reader([head], delimiter=delim), [])
        except csv.Error:  # a cell past the csv module's limit: rows_from_csv says so with its line
            continue
        if any(c.strip().casefold() in keys for c in cells):
            return delim
    counts = {d: head.count(d) for d in DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def rows_from_csv(text: str, label: str, delimiter: str = ",") -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
    """Header and rows of CSV text; blank lines are skipped.

    Args:
        text: the file's text.
        label: the file's name, for messages.
        delimiter: the cells' separator (see :func:`sniff_delimiter`).

    Raises:
        CorpusError: empty, duplicate column names, a row with a different number of fields, bad quoting.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    sep = {",": "comma", ";": "semicolon", "\t": "tab"}[delimiter]
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise CorpusError(f"{label} is empty: expected a header row with a 'title' column")
        header = [h.strip() for h in header]
        dupes = sorted(h for h, c in Counter(header).items() if c > 1)
        if dupes:
            raise CorpusError(f"{label}: duplicate column names in the header: {names(dupes)}")
        rows: list[tuple[str, dict[str, str]]] = []
        for cells in reader:
            where = f"{label}, line {reader.line_num}"
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise CorpusError(
                    f"{where}: {len(cells)} fields but the header has {len(header)} "
                    f"(an unquoted {sep} in a title? put the title in double quotes)"
                )
            rows.append((where, dict(zip(header, cells))))
    except csv.Error as exc:
        raise CorpusError(f"{label}, line {reader.line_num}: malformed CSV ({exc})") from None
    return header, rows


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dupes = sorted(k for k, c in Counter(keys).items() if c > 1)
    if dupes:
        raise CorpusError(f"duplicate field names in one JSON object: {names(dupes)}")
    return dict(pairs)


def _refuse_constant(name: str) -> None:
    raise CorpusError(f"JSON contains {name}, which is not valid JSON: write null for a missing number")


def json_loads(text: str, where: str) -> Any:
    """Strict JSON: no duplicate field names, no NaN or Infinity, no int() of a huge literal.

    Raises:
        CorpusError: invalid or nested too deeply, prefixed with ``where``.
    """
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant, parse_int=json_int
        )
    except CorpusError as exc:
        raise CorpusError(f"{where}: {exc}") from None
    except (json.JSONDecodeError, RecursionError) as exc:
        detail = (
            f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
            if isinstance(exc, json.JSONDecodeError)
            else "nested too deeply"
        )
        raise CorpusError(f"{where}: invalid JSON ({detail})") from None


def rows_from_json(text: str, label: str) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """Rows of a JSON list of objects, or of ``{"videos": [...]}`` / ``{"records": [...]}``."""
    if not text.strip():
        raise CorpusError(f"{label} is empty: expected a JSON list of objects with a 'title' field")
    data = json_loads(text, label)
    if isinstance(data, dict):
        data = data.get("videos", data.get("records"))
    if not isinstance(data, list):
        raise CorpusError(f'{label}: expected a JSON list of objects (or {{"videos": [...]}})')
    return _object_rows(((f"{label}, record {i + 1}", obj) for i, obj in enumerate(data)), label)


def rows_from_jsonl(text: str, label: str) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    """Rows of JSON Lines: one object a line, blank lines skipped."""
    if not text.strip():
        raise CorpusError(f"{label} is empty: expected one JSON object with a 'title' field per line")
    items = []
    for n, line in enumerate(lines(text), start=1):
        if line.strip():
            items.append((f"{label}, line {n}", json_loads(line, f"{label}, line {n}")))
    return _object_rows(items, label)


def _object_rows(items: Iterable[tuple[str, Any]], label: str) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    rows, seen = [], {}
    for where, obj in items:
        if not isinstance(obj, dict):
            raise CorpusError(f"{where}: expected an object, got {kind(obj)}")
        rows.append((where, obj))
        seen.update(dict.fromkeys(obj))
    return list(seen), rows


def format_of(filename: str, label: str) -> str:
    """The format a file name's suffix names; raises for refused and unknown suffixes."""
    suffix = Path(filename).suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise CorpusError(
            f"{label}: {suffix} files are refused: they can carry pickled code. "
            "Give the corpus as CSV, JSON or JSONL text"
        )
    if suffix not in FORMATS:
        shown = printable_label(suffix) or "(no suffix)"
        raise CorpusError(f"{label}: unknown format {shown!r}; use .csv, .json or .jsonl")
    return FORMATS[suffix]
