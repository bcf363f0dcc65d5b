"""Load and validate corpora (CSV, JSON, JSONL) and watch histories into plain frozen types.

Only the key text (``title``) is required. Every problem in a file is a :class:`CorpusError`
with one specific message (which line, which column, which byte), and nothing is half-loaded.
:mod:`~retrieval_attention.corpus.files` reads a file safely, :mod:`~retrieval_attention.corpus.formats`
turns its bytes into rows, :mod:`~retrieval_attention.corpus.fields` checks each value, and this
module builds the :class:`Corpus`.

Decisions, documented in the README's "Use your own data":
* files: only a regular file of at most :data:`MAX_CORPUS_BYTES` (5 MB, the app's upload limit) is
  read; a named pipe, a device, a socket or a folder is refused before reading;
* encoding: UTF-8 only (a byte-order mark, even twice, is fine); any other byte is refused with its
  line, column and value, because guessing Latin-1 silently turns Chinese titles into mojibake;
  text holding a lone surrogate (a JSON ``\\ud800`` escape without its partner) is refused with
  its field and row, never cleaned;
* empty keys (no visible character) are dropped with a count in :attr:`Corpus.warnings`; a file of
  only empty keys is refused;
* numeric payload fields that are present must be numbers >= 0 up to a plausible limit
  (:data:`MAX_VIEWS`, :data:`MAX_DURATION_S`); an empty cell means "unknown";
* keys that collide after normalisation are all kept, each collision a warning: a hard lookup
  finds the first in file order;
* columns that are not known fields are ignored, and named in a warning.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from retrieval_attention.core.validate import has_visible_text
from retrieval_attention.corpus.fields import (
    MAX_DURATION_S,
    MAX_VIEWS,
    LongInteger,
    SaidCorpusError,
    kind,
    names,
    number_field,
    quote,
    text_field,
)
from retrieval_attention.corpus.files import MAX_CORPUS_BYTES, check_size, read_capped
from retrieval_attention.corpus.formats import (
    DELIMITERS,
    REFUSED_SUFFIXES,
    decode,
    format_of,
    header_line,
    json_loads,
    lines,
    rows_from_csv,
    rows_from_json,
    rows_from_jsonl,
    sniff_delimiter,
)
from retrieval_attention.corpus.limits import MAX_TITLE_CHARS, RowLimitError, cut_text
from retrieval_attention.corpus.records import (
    FIELDS,
    UNCATEGORISED,
    Corpus,
    Persona,
    Video,
    normalize_key,
    printable_label,
)
from retrieval_attention.errors import CorpusError
from retrieval_attention.i18n import N_
from retrieval_attention.infra.paths import user_path

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
    "parse_titles",
]

log = logging.getLogger(__name__)

#: Column names accepted for the key text, first match wins.
KEY_FIELDS = ("title", "key", "text")
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


# -- a corpus from rows ------------------------------------------------------------------------


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
    fmt = format_of(filename, label)
    check_size(len(raw), label, max_bytes)
    text = decode(raw, label)
    seen = ""
    if fmt == "csv":
        delimiter = sniff_delimiter(text, KEY_FIELDS)
        header, rows = rows_from_csv(text, label, delimiter)
        seen = f"the header {quote(header_line(text), 60)} was read as separated by {DELIMITERS[delimiter]}"
    elif fmt == "json":
        header, rows = rows_from_json(text, label)
    elif fmt == "jsonl":
        header, rows = rows_from_jsonl(text, label)
    else:  # txt
        return parse_titles(text, source=source or label, max_rows=max_rows)
    return _table(header, rows, label, source or label, max_rows, seen)


def _known_names(header: Sequence[str]) -> dict[str, str]:
    """Header names that are a known field in another case (``Title``, ``VIEWS``) -> that field.

    A name written exactly as the field is never renamed, and a field written twice in two cases
    (``title`` and ``Title``) keeps the exact one; the other is then an unused column.
    """
    exact, rename = set(header), {}
    for h in header:
        known = h.strip().casefold()
        if known != h and known in (*FIELDS, *KEY_FIELDS) and known not in exact and known not in rename.values():
            rename[h] = known
    return rename


def _table(
    header: list[str],
    rows: list[tuple[str, dict[str, Any]]],
    label: str,
    source: str,
    max_rows: int | None,
    seen: str = "",
) -> Corpus:
    """A corpus from a table's header and rows (CSV, JSON or JSONL), field names matched in any case.

    ``seen`` says how a text table's header line was read, for the message when it has no title column.
    """
    rename = _known_names(header)
    if rename:
        header = [rename.get(h, h) for h in header]
        rows = [(where, {rename.get(k, k): v for k, v in row.items()}) for where, row in rows]
    key_field = next((k for k in KEY_FIELDS if k in header), None)
    if key_field is None:
        found = names(header) or "none"
        raise CorpusError(f"{label} has no 'title' column (columns found: {found}){': ' + seen if seen else ''}")
    if not rows:
        raise CorpusError(f"{label} has a header but no records")
    if max_rows is not None and len(rows) > max_rows:
        raise RowLimitError(label, len(rows), max_rows)
    unused = [h for h in header if h and h not in FIELDS and h != key_field]
    return _build(rows, key_field, source, label, unused)


def parse_titles(text: str, source: str = "pasted", max_rows: int | None = None) -> Corpus:
    """A corpus from text of one title a line (a ``.txt`` file, or titles pasted into the app).

    Lines end only at ``\\n``, ``\\r\\n`` or ``\\r`` (:func:`~retrieval_attention.corpus.formats.lines`):
    a U+2028 inside a title stays in it. Text that is a table a spreadsheet saved as "Text (Tab
    delimited)" (a first line with tab-separated cells, one of them a ``title`` column in any
    case) is read as that table; tabs in other lines are refused, since each line would otherwise
    become one key such as ``1\\tFunny cats\\t100``.

    Args:
        text: the text.
        source: label of the corpus and of its lines in messages.
        max_rows: refuse more titles than this.

    Returns:
        A validated :class:`Corpus`.

    Raises:
        CorpusError: no title, more than ``max_rows``, or tab-separated cells without a title column.
    """
    cells = header_line(text).split("\t")
    if len(cells) > 1 and any(c.strip().casefold() in KEY_FIELDS for c in cells):
        header, rows = rows_from_csv(text, source, "\t")
        return _table(header, rows, source, source, max_rows, "its first line was read as separated by tabs")
    numbered = [(n, ln) for n, ln in enumerate(lines(text), start=1) if ln.strip()]
    if max_rows is not None and len(numbered) > max_rows:  # before a row is built: 2.6 M lines fit in 5 MB
        raise RowLimitError(source, len(numbered), max_rows)
    tabbed = next(((n, ln) for n, ln in numbered if "\t" in ln.strip()), None)
    if tabbed is not None:
        n, ln = tabbed
        template = N_(
            "{where} holds tab-separated cells ({cells}): a table copied from a spreadsheet? Give it a first "
            "line naming a 'title' column, or keep only the titles, one per line"
        )
        raise SaidCorpusError(template, where=f"{source}, line {n}", cells=names(ln.strip().split("\t"), limit=4))
    return corpus_from_titles(
        (ln for _, ln in numbered), source=source, max_rows=max_rows, lines=[n for n, _ in numbered]
    )


def _build(
    rows: list[tuple[str, dict[str, Any]]], key_field: str, source: str, label: str, unused: Sequence[str] = ()
) -> Corpus:
    videos, warnings, empty, cut = [], [], 0, 0
    if unused:  # a misspelt field ("ident", "view"), or a byte-order mark glued to a name, says so here
        warnings.append(f"{label}: column(s) not used: {names(unused)} (known: {', '.join(FIELDS)})")
    for n, (where, row) in enumerate(rows, start=1):
        title = text_field(row.get(key_field), key_field, where)
        if not has_visible_text(title):  # the same rule as check_query: nothing to see
            empty += 1
            continue
        title = title.strip()
        description = text_field(row.get("description"), "description", where).strip()
        vid = text_field(row.get("id"), "id", where).strip() or f"row{n}"
        if len(title) > MAX_TITLE_CHARS or len(description) > MAX_TITLE_CHARS:
            cut += 1
            long = [
                f"{name} of {len(text):,} characters" for name, text in (("title", title), ("description", description))
            ]
            long = [what for what, text in zip(long, (title, description)) if len(text) > MAX_TITLE_CHARS]
            warnings.append(
                f"{where}: {' and '.join(long)} cut to {MAX_TITLE_CHARS:,}; the model reads only its first tokens"
            )
            title, description = cut_text(title), cut_text(description)
        elif len(title) > LONG_TITLE_CHARS:
            warnings.append(
                f"{where}: title of {len(title):,} characters; the model reads only its first "
                "tokens (about 1,000 characters), the rest is ignored when embedding"
            )
        videos.append(
            Video(
                id=vid,
                title=title,
                channel=text_field(row.get("channel"), "channel", where).strip(),
                category=text_field(row.get("category"), "category", where).strip() or UNCATEGORISED,
                duration_s=number_field(row.get("duration_s"), "duration_s", where, MAX_DURATION_S, integer=False),
                views=number_field(row.get("views"), "views", where, MAX_VIEWS, integer=True),
                upload_date=text_field(row.get("upload_date"), "upload_date", where).strip(),
                description=description,
                language=text_field(row.get("language"), "language", where).strip(),
            )
        )
    if not videos:
        raise CorpusError(f"{label}: every one of its {len(rows)} records has an empty title (no visible characters)")
    if empty:
        warnings.insert(0, f"{empty} record(s) with an empty title were dropped (no visible characters)")
    dupes = sorted(i for i, c in Counter(v.id for v in videos).items() if c > 1)
    if dupes:
        shown = names(dupes, limit=5)
        raise CorpusError(f"{label}: duplicate ids: {shown}; every id must be unique")
    warnings += _collisions(videos, label)
    for w in warnings[:_LOGGED_WARNINGS]:
        log.warning("%s", w)
    if len(warnings) > _LOGGED_WARNINGS:
        log.warning("... and %d more warnings (all of them are in Corpus.warnings)", len(warnings) - _LOGGED_WARNINGS)
    return Corpus(videos=tuple(videos), source=source, warnings=tuple(warnings), cut_titles=cut)


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
                f"{label}: ids {quote(kept.id)} and {quote(v.id)} have the same lookup key {quote(key)} "
                f"after normalisation (NFKC + case folding): a hard lookup finds only {quote(kept.id)}, "
                "the first in the file"
            )
    return out


def corpus_from_titles(
    titles: Iterable[str], source: str = "pasted", max_rows: int | None = None, lines: Sequence[int] | None = None
) -> Corpus:
    """A corpus from bare titles (one key per line, no payload but the text itself).

    Args:
        titles: the titles, in order.
        source: label of the corpus and its rows in messages.
        max_rows: refuse more titles than this.
        lines: the line number of each title in its text, for messages (default 1, 2, 3, ...).

    Raises:
        CorpusError: no non-empty title, or more than ``max_rows``.
    """
    titles = list(titles)
    numbers = range(1, len(titles) + 1) if lines is None else lines
    rows = [(f"{source}, line {n}", {"title": t}) for n, t in zip(numbers, titles)]
    if not rows:
        raise CorpusError(f"{source}: no titles given")
    if max_rows is not None and len(rows) > max_rows:
        raise RowLimitError(source, len(rows), max_rows)
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
    p = user_path(path, CorpusError) if path is not None else bundled_data_path("videos.csv")
    format_of(p.name, printable_label(p.name))  # a refused or unknown suffix: refused before touching the file
    raw = read_capped(p, max_bytes)
    source = "bundled" if path is None else printable_label(str(p))
    return parse_corpus(raw, p.name, source=source, max_rows=max_rows, max_bytes=max_bytes)


def load_histories(
    path: str | Path | None = None, corpus: Corpus | None = None, lang: str | None = None
) -> tuple[Persona, ...]:
    """Load user watch histories (``{"personas": [...]}``); the bundled ones by default.

    A persona may carry ``"translations": {"zh": {"name": ..., "description": ...}, "es": {...}}``;
    the bundled ones do, for the app's languages.

    Args:
        path: a JSON file; None for the bundled ``data/histories.json``.
        corpus: if given, every video id must exist in it.
        lang: a language code: each persona's name and description in that language when the file
            has them (:meth:`Persona.in_language`); None keeps them as written.

    Raises:
        CorpusError: malformed file, empty history, unknown or repeated ids.
    """
    p = user_path(path, CorpusError) if path is not None else bundled_data_path("histories.json")
    label = printable_label(p.name)
    raw = read_capped(p)
    data = json_loads(decode(raw, label), label)
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
            if not isinstance(vid, str) or isinstance(vid, LongInteger):
                raise CorpusError(f"{where}: history entries must be video ids, got {kind(vid)} ({quote(vid)})")
            ids.append(text_field(vid, "history", where))
            if isinstance(h, dict) and "watched_at" in h:
                times.append(text_field(h["watched_at"], "watched_at", where))
        if len(set(ids)) != len(ids):
            raise CorpusError(f"{where}: a video appears twice in the history")
        if known is not None and (missing := [v for v in ids if v not in known]):
            raise CorpusError(f"{where}: unknown video ids {names(missing, limit=5)}")
        personas.append(
            Persona(
                id=text_field(obj.get("id", f"persona{i}"), "id", where),
                name=text_field(obj.get("name", obj.get("id", f"persona {i}")), "name", where),
                description=text_field(obj.get("description", ""), "description", where),
                history=tuple(ids),
                watched_at=tuple(times) if len(times) == len(ids) else (),
                translations=_persona_translations(obj.get("translations", {}), where),
            )
        )
    return tuple(p.in_language(lang) for p in personas) if lang else tuple(personas)


def _persona_translations(obj: object, where: str) -> tuple[tuple[str, str, str], ...]:
    """``{"zh": {"name": ..., "description": ...}, ...}`` -> ((lang, name, description), ...)."""
    if not isinstance(obj, dict) or not all(isinstance(v, dict) for v in obj.values()):
        raise CorpusError(f'{where}: translations must look like {{"zh": {{"name": ..., "description": ...}}}}')
    return tuple(
        (
            text_field(code, "translations", where),
            text_field(t.get("name", ""), "name", where),
            text_field(t.get("description", ""), "description", where),
        )
        for code, t in obj.items()
    )
