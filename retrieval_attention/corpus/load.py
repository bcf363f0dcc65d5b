"""Load and validate corpora (CSV, JSON, JSONL) and watch histories into plain frozen types.

Only the key text (``title``) is required. Every problem in a file is a :class:`CorpusError`
with one specific message (which line, which column, which byte), and nothing is half-loaded.

Decisions, documented in the README's "Use your own data":
* encoding: UTF-8 only (a byte-order mark is fine); any other byte is refused with its line,
  column and value, because guessing Latin-1 silently turns Chinese titles into mojibake;
* empty keys are dropped with a count in :attr:`Corpus.warnings`; a file of only empty keys is refused;
* numeric payload fields that are present must be numbers >= 0; an empty cell means "unknown".
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from retrieval_attention.corpus.files import MAX_CORPUS_BYTES, check_size, read_capped
from retrieval_attention.corpus.records import (
    FIELDS,
    UNCATEGORISED,
    Corpus,
    Persona,
    Video,
    normalize_key,
    printable_label,
    unencodable,
)
from retrieval_attention.errors import CorpusError

__all__ = [
    "KEY_FIELDS",
    "LONG_TITLE_CHARS",
    "MAX_CORPUS_BYTES",
    "MAX_DURATION_S",
    "MAX_VIEWS",
    "REFUSED_SUFFIXES",
    "bundled_data_path",
    "corpus_from_titles",
    "load_corpus",
    "load_histories",
    "parse_corpus",
]

log = logging.getLogger(__name__)

#: Column names accepted for the key text, first match wins.
KEY_FIELDS = ("title", "key", "text")
#: Files that are never parsed: they could carry pickles or native code.
REFUSED_SUFFIXES = (".npy", ".npz", ".pkl", ".pickle", ".faiss", ".index", ".joblib", ".pt", ".bin")
#: Largest plausible view count and duration (about 31 years). They also keep the value vector's
#: float32 columns finite: 1e300 seconds would be infinity there, and every output NaN.
MAX_VIEWS = 10**15
MAX_DURATION_S = 10**9
#: A JSON integer with more digits than this is kept as its digits (see _LongInteger), never int()-ed.
_JSON_INT_DIGITS = 30
#: Warnings beyond this many are not logged one by one (Corpus.warnings still has every one).
_LOGGED_WARNINGS = 10
#: Titles longer than this many characters are kept but flagged: the model reads only its
#: first max_seq_length tokens (256 for all-MiniLM-L6-v2), roughly 1,000 characters of English.
LONG_TITLE_CHARS = 1000

# -- locating the bundled data ----------------------------------------------------------------


def bundled_data_path(name: str) -> Path:
    """Path of a bundled data file, from a checkout (``data/``) or an installed wheel."""
    try:
        p = resources.files("retrieval_attention.data") / name
        if p.is_file():
            return Path(str(p))
    except (ModuleNotFoundError, TypeError):
        pass
    p = Path(__file__).resolve().parents[2] / "data" / name
    if p.is_file():
        return p
    raise CorpusError(f"bundled data file {name!r} not found: the package installation is incomplete")


# -- parsing ------------------------------------------------------------------------------------


def _decode(raw: bytes, label: str) -> str:
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


class _LongInteger(str):
    """A JSON integer literal too long to be a count: kept as its digits, refused where a number is needed.

    ``json.loads`` would call ``int()`` on it, and Python refuses integer strings of more than 4,300
    digits with a raw ValueError (and slows down well before that).
    """


def _json_int(digits: str) -> int | str:
    return int(digits) if len(digits) <= _JSON_INT_DIGITS else _LongInteger(digits)


def _quote(value: Any, width: int = 40) -> str:
    """``repr(value)`` cut to about ``width`` characters, for an error message."""
    if isinstance(value, _LongInteger):
        return f"{len(value):,} digits"
    shown = repr(value)
    return shown if len(shown) <= width else f"{shown[: width - 1]}…"


def _names(names: list[Any], limit: int = 10) -> str:
    """The first ``limit`` names, each :func:`_quote`-d, then how many more: a message stays one line."""
    shown = ", ".join(_quote(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit:,} more" if len(names) > limit else "")


def _kind(value: Any) -> str:
    """What a JSON value is, in words: 'a number', 'text', 'a list', ..."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float, _LongInteger)):
        return "a number"
    return {str: "text", list: "a list", dict: "an object", type(None): "null"}.get(type(value), type(value).__name__)


def _number(value: Any, name: str, where: str, limit: float, integer: bool) -> float | int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise CorpusError(f"{where}: {name} must be a number, got {value!r}")
    try:
        x = float(value.strip()) if isinstance(value, str) else float(value)
    except OverflowError:  # an int of more digits than a float can carry
        x = math.inf
    except (TypeError, ValueError):
        raise CorpusError(f"{where}: {name} must be a number, got {_quote(value)}") from None
    written_inf = isinstance(value, float) or (isinstance(value, str) and "inf" in value.lower())
    if math.isnan(x) or x < 0 or (math.isinf(x) and written_inf):
        raise CorpusError(f"{where}: {name} must be a finite number >= 0, got {_quote(value)}")
    if x > limit:
        raise CorpusError(f"{where}: {name} is implausibly large ({_quote(value)}); the limit is {limit:,.0f}")
    return int(round(x)) if integer else x


def _text(value: Any, name: str, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise CorpusError(f"{where}: {name} must be text, got {_kind(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise CorpusError(f"{where}: {name} must be text, got {value!r}")
    text = str(value)
    if (problem := unencodable(text)) is not None:
        raise CorpusError(
            f"{where}: {name} is not valid Unicode text: {problem} "
            "(from a \\u escape without its partner, or bytes that were not UTF-8); remove or retype it"
        )
    return text


def _rows_from_csv(text: str, label: str) -> tuple[list[str], list[tuple[str, dict[str, str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise CorpusError(f"{label} is empty: expected a header row with a 'title' column")
        header = [h.strip() for h in header]
        dupes = sorted(h for h, c in Counter(header).items() if c > 1)
        if dupes:
            raise CorpusError(f"{label}: duplicate column names in the header: {_names(dupes)}")
        rows: list[tuple[str, dict[str, str]]] = []
        for cells in reader:
            where = f"{label}, line {reader.line_num}"
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise CorpusError(
                    f"{where}: {len(cells)} fields but the header has {len(header)} "
                    "(an unquoted comma in a title? put the title in double quotes)"
                )
            rows.append((where, dict(zip(header, cells))))
    except csv.Error as exc:
        raise CorpusError(f"{label}, line {reader.line_num}: malformed CSV ({exc})") from None
    return header, rows


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dupes = sorted(k for k, c in Counter(keys).items() if c > 1)
    if dupes:
        raise CorpusError(f"duplicate field names in one JSON object: {_names(dupes)}")
    return dict(pairs)


def _refuse_constant(name: str) -> None:
    raise CorpusError(f"JSON contains {name}, which is not valid JSON: write null for a missing number")


def _json_loads(text: str, where: str) -> Any:
    try:
        return json.loads(
            text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant, parse_int=_json_int
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


def _rows_from_json(text: str, label: str) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    if not text.strip():
        raise CorpusError(f"{label} is empty: expected a JSON list of objects with a 'title' field")
    data = _json_loads(text, label)
    if isinstance(data, dict):
        data = data.get("videos", data.get("records"))
    if not isinstance(data, list):
        raise CorpusError(f'{label}: expected a JSON list of objects (or {{"videos": [...]}})')
    return _object_rows(((f"{label}, record {i + 1}", obj) for i, obj in enumerate(data)), label)


def _rows_from_jsonl(text: str, label: str) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    if not text.strip():
        raise CorpusError(f"{label} is empty: expected one JSON object with a 'title' field per line")
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            items.append((f"{label}, line {n}", _json_loads(line, f"{label}, line {n}")))
    return _object_rows(items, label)


def _object_rows(items: Iterable[tuple[str, Any]], label: str) -> tuple[list[str], list[tuple[str, dict[str, Any]]]]:
    rows, seen = [], {}
    for where, obj in items:
        if not isinstance(obj, dict):
            raise CorpusError(f"{where}: expected an object, got {_kind(obj)}")
        rows.append((where, obj))
        seen.update(dict.fromkeys(obj))
    return list(seen), rows


_FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".txt": "txt"}


def _format_of(filename: str, label: str) -> str:
    """The format a file name's suffix names; raises for refused and unknown suffixes."""
    suffix = Path(filename).suffix.lower()
    if suffix in REFUSED_SUFFIXES:
        raise CorpusError(
            f"{label}: {suffix} files are refused: they can carry pickled code. "
            "Give the corpus as CSV, JSON or JSONL text"
        )
    if suffix not in _FORMATS:
        shown = printable_label(suffix) or "(no suffix)"
        raise CorpusError(f"{label}: unknown format {shown!r}; use .csv, .json or .jsonl")
    return _FORMATS[suffix]


def parse_corpus(
    raw: bytes,
    filename: str = "corpus.csv",
    source: str | None = None,
    max_rows: int | None = None,
    max_bytes: int | None = MAX_CORPUS_BYTES,
) -> Corpus:
    """Parse the bytes of a corpus file; the format comes from the file name's suffix.

    Args:
        raw: the file's bytes.
        filename: its name: ``.csv``, ``.json``, ``.jsonl`` / ``.ndjson`` (``.txt``: one title a line).
        source: label kept in :attr:`Corpus.source` (default: ``filename``).
        max_rows: refuse files with more records than this.
        max_bytes: refuse more bytes than this (default :data:`MAX_CORPUS_BYTES`, the app's upload
            limit; None: no limit).

    Returns:
        A validated :class:`Corpus`; its :attr:`Corpus.warnings` lists what was dropped or flagged.

    Raises:
        CorpusError: with one specific message (see the module docstring).
    """
    label = printable_label(Path(filename).name) or "corpus"
    fmt = _format_of(filename, label)
    check_size(len(raw), label, max_bytes)
    text = _decode(raw, label)
    if fmt == "csv":
        header, rows = _rows_from_csv(text, label)
    elif fmt == "json":
        header, rows = _rows_from_json(text, label)
    elif fmt == "jsonl":
        header, rows = _rows_from_jsonl(text, label)
    else:  # txt
        lines = [ln for ln in text.splitlines() if ln.strip()]
        return corpus_from_titles(lines, source=source or label, max_rows=max_rows)

    key_field = next((k for k in KEY_FIELDS if k in header), None)
    if key_field is None:
        found = _names(header) or "none"
        raise CorpusError(f"{label} has no 'title' column (columns found: {found})")
    if not rows:
        raise CorpusError(f"{label} has a header but no records")
    if max_rows is not None and len(rows) > max_rows:
        raise CorpusError(f"{label} has {len(rows)} records; the limit is {max_rows}")
    unused = [h for h in header if h and h not in FIELDS and h != key_field]
    return _build(rows, key_field, source or label, label, unused)


def _build(
    rows: list[tuple[str, dict[str, Any]]], key_field: str, source: str, label: str, unused: Sequence[str] = ()
) -> Corpus:
    videos, warnings, empty = [], [], 0
    if unused:  # a misspelt field ("Id", "views "), or a byte-order mark glued to a name, says so here
        warnings.append(f"{label}: column(s) not used: {_names(unused)} (known: {', '.join(FIELDS)})")
    for n, (where, row) in enumerate(rows, start=1):
        title = _text(row.get(key_field), key_field, where)
        if not any(ch.isprintable() and not ch.isspace() for ch in title):  # as check_query: nothing to see
            empty += 1
            continue
        title = title.strip()
        vid = _text(row.get("id"), "id", where).strip() or f"row{n}"
        if len(title) > LONG_TITLE_CHARS:
            warnings.append(
                f"{where}: title of {len(title):,} characters; the model reads only its first "
                "tokens (about 1,000 characters), the rest is ignored when embedding"
            )
        videos.append(
            Video(
                id=vid,
                title=title,
                channel=_text(row.get("channel"), "channel", where).strip(),
                category=_text(row.get("category"), "category", where).strip() or UNCATEGORISED,
                duration_s=_number(row.get("duration_s"), "duration_s", where, MAX_DURATION_S, integer=False),
                views=_number(row.get("views"), "views", where, MAX_VIEWS, integer=True),
                upload_date=_text(row.get("upload_date"), "upload_date", where).strip(),
                description=_text(row.get("description"), "description", where).strip(),
                language=_text(row.get("language"), "language", where).strip(),
            )
        )
    if not videos:
        raise CorpusError(f"{label}: every one of its {len(rows)} records has an empty title (no visible characters)")
    if empty:
        warnings.insert(0, f"{empty} record(s) with an empty title were dropped (no visible characters)")
    dupes = sorted(i for i, c in Counter(v.id for v in videos).items() if c > 1)
    if dupes:
        shown = _names(dupes, limit=5)
        raise CorpusError(f"{label}: duplicate ids: {shown}; every id must be unique")
    warnings += _collisions(videos, label)
    for w in warnings[:_LOGGED_WARNINGS]:
        log.warning("%s", w)
    if len(warnings) > _LOGGED_WARNINGS:
        log.warning("... and %d more warnings (all of them are in Corpus.warnings)", len(warnings) - _LOGGED_WARNINGS)
    return Corpus(videos=tuple(videos), source=source, warnings=tuple(warnings))


def _collisions(videos: list[Video], label: str) -> list[str]:
    """One warning per record whose lookup key (:func:`normalize_key`) an earlier record already has.

    A dict keeps one value per key: the store's hard lookup finds the first record in file order
    (``setdefault``), and the later ones only by top-k or soft attention. Ligatures (U+FB01), full-width
    letters and "ß" against "ss" collide this way as well as plain duplicates.
    """
    first: dict[str, Video] = {}
    out = []
    for v in videos:
        key = normalize_key(v.title)
        kept = first.setdefault(key, v)
        if kept is not v:
            out.append(
                f"{label}: ids {_quote(kept.id)} and {_quote(v.id)} have the same lookup key {_quote(key)} "
                f"after normalisation (NFKC + case folding): a hard lookup finds only {_quote(kept.id)}, "
                "the first in the file"
            )
    return out


def corpus_from_titles(titles: Iterable[str], source: str = "pasted", max_rows: int | None = None) -> Corpus:
    """A corpus from bare titles (one key per line, no payload but the text itself).

    Raises:
        CorpusError: no non-empty title, or more than ``max_rows``.
    """
    rows = [(f"{source}, line {n}", {"title": t}) for n, t in enumerate(titles, start=1)]
    if not rows:
        raise CorpusError(f"{source}: no titles given")
    if max_rows is not None and len(rows) > max_rows:
        raise CorpusError(f"{source} has {len(rows)} lines; the limit is {max_rows}")
    return _build(rows, "title", source, source)


def load_corpus(
    path: str | Path | None = None, max_rows: int | None = None, max_bytes: int | None = MAX_CORPUS_BYTES
) -> Corpus:
    """Load a corpus: the bundled video corpus by default, or a CSV / JSON / JSONL file.

    Only a regular file is read (a named pipe, a device, a socket or a folder is refused before
    reading), and at most ``max_bytes`` of it.

    Args:
        path: a file path; ``None`` for the bundled ``data/videos.csv``.
        max_rows: refuse a file with more records.
        max_bytes: refuse a file larger than this many bytes (default :data:`MAX_CORPUS_BYTES`,
            5 MB, the app's upload limit; None: no limit).

    Returns:
        A validated :class:`Corpus`.

    Raises:
        CorpusError: unreadable, not a regular file, too large, empty, not UTF-8, no title column,
            duplicate ids, ...

    Example:
        >>> corpus = load_corpus()
        >>> len(corpus) >= 250, corpus[0].id
        (True, 'v001')
    """
    p = Path(path) if path is not None else bundled_data_path("videos.csv")
    _format_of(p.name, printable_label(p.name))  # a refused or unknown suffix: refused before touching the file
    raw = read_capped(p, max_bytes)
    source = "bundled" if path is None else printable_label(str(p))
    return parse_corpus(raw, p.name, source=source, max_rows=max_rows, max_bytes=max_bytes)


def load_histories(path: str | Path | None = None, corpus: Corpus | None = None) -> tuple[Persona, ...]:
    """Load user watch histories (``{"personas": [...]}``); the bundled ones by default.

    Args:
        path: a JSON file; None for the bundled ``data/histories.json``.
        corpus: if given, every video id must exist in it.

    Raises:
        CorpusError: malformed file, empty history, unknown or repeated ids.
    """
    p = Path(path) if path is not None else bundled_data_path("histories.json")
    label = printable_label(p.name)
    raw = read_capped(p)
    data = _json_loads(_decode(raw, label), label)
    items = data.get("personas") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise CorpusError(f'{label}: expected {{"personas": [...]}} with at least one persona')
    known = set(corpus.ids) if corpus is not None else None
    personas = []
    for i, obj in enumerate(items, start=1):
        where = f"{label}, persona {i}"
        if not isinstance(obj, dict) or not isinstance(obj.get("history"), list) or not obj["history"]:
            raise CorpusError(f"{where}: needs an 'id' and a non-empty 'history' list")
        ids, times = [], []
        for h in obj["history"]:
            vid = h.get("video_id") if isinstance(h, dict) else h
            if not isinstance(vid, str) or isinstance(vid, _LongInteger):
                raise CorpusError(f"{where}: history entries must be video ids, got {_kind(vid)} ({_quote(vid)})")
            ids.append(_text(vid, "history", where))
            if isinstance(h, dict) and "watched_at" in h:
                times.append(_text(h["watched_at"], "watched_at", where))
        if len(set(ids)) != len(ids):
            raise CorpusError(f"{where}: a video appears twice in the history")
        if known is not None and (missing := [v for v in ids if v not in known]):
            raise CorpusError(f"{where}: unknown video ids {_names(missing, limit=5)}")
        personas.append(
            Persona(
                id=_text(obj.get("id", f"persona{i}"), "id", where),
                name=_text(obj.get("name", obj.get("id", f"persona {i}")), "name", where),
                description=_text(obj.get("description", ""), "description", where),
                history=tuple(ids),
                watched_at=tuple(times) if len(times) == len(ids) else (),
            )
        )
    return tuple(personas)
