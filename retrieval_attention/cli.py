"""``python -m retrieval_attention "funny cat videos"``: the three retrievals side by side.

Prints hard lookup, top-k and soft attention in three columns (stacked on a narrow terminal),
or one JSON document with ``--json``. Errors are one line on stderr and exit status 2.
``--lang zh`` or ``--lang es`` translates the text for people (help, headings, labels, numbers,
category names) with the package's gettext catalogue; JSON keys and values stay as they are.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from itertools import zip_longest
from typing import Any, NoReturn

from retrieval_attention.config import DEFAULT_TEMPERATURE, MODEL_ENV_VAR
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.i18n import (
    DEFAULT_LANG,
    LANGUAGES,
    category_name,
    fmt_list,
    fmt_number,
    fmt_percent,
    load_translations,
)

__all__ = ["build_parser", "json_text", "main", "render_text", "result_to_dict", "terminal_text"]


def build_parser(lang: str = DEFAULT_LANG) -> argparse.ArgumentParser:
    """The command line's arguments, their help in ``lang``; a bad one is a one-line error with exit status 2."""
    _ = load_translations(lang).gettext
    parser = _Parser(
        prog="python -m retrieval_attention",
        description=_("Compare hard lookup, top-k search and soft attention for one query."),
        formatter_class=functools.partial(_HelpFormatter, usage_prefix=_("usage: ")),
        add_help=False,  # -h is added below, its help translated
    )
    # argparse's own headings come from its gettext domain, not ours: named here to be translated
    parser.add_argument_group(_("positional arguments")).add_argument(
        "query", help=_('the query text, e.g. "funny cat videos"')
    )
    p = parser.add_argument_group(_("options"))
    p.add_argument("-h", "--help", action="help", help=_("show this help message and exit"))
    p.add_argument("--k", type=int, default=5, help=_("keys kept by top-k search (default {n})").format(n=5))
    p.add_argument(
        "--temperature",
        "-t",
        type=float,
        default=DEFAULT_TEMPERATURE,
        help=_("softmax temperature T > 0 (default {t}: readable for cosine scores)").format(t=DEFAULT_TEMPERATURE),
    )
    p.add_argument(
        "--scale",
        choices=("none", "sqrt_d"),
        default="none",
        help=_("multiply q·k by 1 (none, default) or 1/sqrt(d) as transformers do"),
    )
    p.add_argument("--corpus", metavar="PATH", help=_("a CSV, JSON or JSONL corpus (default: the bundled videos)"))
    p.add_argument(
        "--model",
        metavar="NAME_OR_PATH",
        help=_(
            "encoder: all-MiniLM-L6-v2 (default), multilingual-e5-small, any sentence-transformers "
            "name or a local folder (also ${env})"
        ).format(env=MODEL_ENV_VAR),
    )
    p.add_argument("--top", type=int, default=5, help=_("rows of soft attention to show (default {n})").format(n=5))
    p.add_argument("--json", action="store_true", help=_("print one JSON document for scripts"))
    p.add_argument("--no-cache", action="store_true", help=_("re-embed the corpus, ignore the cache"))
    p.add_argument(
        "--lang",
        choices=tuple(LANGUAGES),
        default=DEFAULT_LANG,
        help=_(
            "language of the text output: en, zh (中文) or es (Español); JSON stays as it is. For Chinese or "
            "Spanish queries add --model multilingual-e5-small: the default encoder reads English only"
        ),
    )
    return parser


def result_to_dict(store: Any, res: Any, top: int) -> dict[str, Any]:
    """A JSON-ready view of one :class:`RetrievalResult`."""
    videos = store.corpus
    rows = [
        {"id": vid, "title": videos.by_id(vid).title, "score": round(s, 6), "weight": round(w, 6)}
        for vid, s, w in res.top(top if res.mode == "soft" else len(res.ids))
    ]
    d: dict[str, Any] = {"mode": res.mode, "hit": res.hit, "results": rows}
    if res.mode == "hard":
        d["lookup_key"] = res.lookup_key
    else:
        d.update(temperature=res.temperature, scale=res.scale)
    if res.mode == "soft":
        d.update(entropy=round(res.entropy, 6), effective_num_keys=round(res.effective_num_keys, 6))
    if res.hit:
        s = store.describe_output(res.output)
        d["output"] = {
            "category_mix": {c: round(x, 6) for c, x in s.category_mix.items() if x > 0},
            "duration_s": None if s.duration_s is None else round(s.duration_s, 3),
            "views": None if s.views is None else round(s.views, 1),
            "nearest": [{"id": i, "title": videos.by_id(i).title, "cosine": round(c, 6)} for i, c in s.nearest],
        }
    return d


#: Invisible joiners kept as they are: emoji sequences and Persian words need them, terminals ignore them.
_JOINERS = frozenset("\u200c\u200d")


def terminal_text(text: str) -> str:
    r"""``text`` safe to print: control characters shown as escapes, line breaks and odd spaces as a space.

    A title or a file name can hold ANSI/OSC escape sequences (colours, hyperlinks, the window title,
    clearing the screen), C1 controls, DEL or bidi overrides that reorder what the reader sees. Every
    line the CLI prints goes through this one function, in every layout and on stderr.

    Example:
        >>> terminal_text("\x1b[31mred\x1b[0m \u202eevil\u202c\ttab")
        '\\x1b[31mred\\x1b[0m \\u202eevil\\u202c tab'
    """
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch in _JOINERS:
            out.append(ch)
        elif ch.isspace():  # tab, newline, NEL, U+2028, no-break and ideographic spaces
            out.append(" ")
        else:  # C0/C1 controls, DEL, bidi and other format characters, unassigned code points
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def _escape_json_char(ch: str) -> str:
    cp = ord(ch)
    if cp <= 0xFFFF:
        return f"\\u{cp:04x}"
    cp -= 0x10000  # JSON spells a code point past the BMP as a surrogate pair
    return f"\\u{0xD800 + (cp >> 10):04x}\\u{0xDC00 + (cp & 0x3FF):04x}"


def json_text(doc: Any) -> str:
    r"""``doc`` as strict JSON (RFC 8259: no NaN or Infinity), with non-printable characters escaped.

    ``json.dumps`` writes DEL, C1 controls and bidi overrides raw when ``ensure_ascii=False``; they are
    written as ``\uXXXX`` escapes here, so the document is safe on a terminal and decodes to the same data.

    Raises:
        InvalidParameterError: a number in ``doc`` is NaN or infinite, which JSON cannot carry.

    Example:
        >>> print(json_text({"title": "猫\u202e", "weight": 0.5}))
        {
          "title": "猫\u202e",
          "weight": 0.5
        }
    """
    from retrieval_attention.errors import InvalidParameterError

    try:
        text = json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False)
    except ValueError:
        raise InvalidParameterError(
            "the result holds NaN or infinity, which JSON cannot carry: the temperature or scale is too "
            "extreme for float32 (try a temperature between 0.01 and 10)"
        ) from None
    # Outside strings json.dumps writes only ASCII punctuation, spaces and newlines, so every other
    # non-printable character is inside a string, where a \\u escape means the same character.
    return "".join(ch if ch.isprintable() or ch in "\n " else _escape_json_char(ch) for ch in text)


def _width(text: str) -> int:
    """Terminal cells: CJK wide and full-width characters take 2, combining marks and joiners 0."""
    return sum(
        0 if unicodedata.combining(ch) or ch in _JOINERS else 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        for ch in text
    )


def _fit(text: str, width: int) -> str:
    """Cut ``text`` (already :func:`terminal_text`) to ``width`` terminal cells and pad it."""
    out, w = "", 0
    for ch in text:
        cw = _width(ch)
        if w + cw > width - (1 if _width(text) > width else 0):
            out += "…"
            w += 1
            break
        out, w = out + ch, w + cw
    return out + " " * max(0, width - w)


def _describe(store: Any, res: Any, lang: str) -> list[str]:
    _ = load_translations(lang).gettext
    s = store.describe_output(res.output)
    mix = [
        f"{category_name(c, lang)} {fmt_percent(x, lang)}" for c, x in list(s.category_mix.items())[:3] if x >= 0.005
    ]
    lines = [_("output: {mix}").format(mix=fmt_list(mix, lang))]
    if s.duration_s is not None:
        lines.append("  " + _("duration {minutes} min").format(minutes=fmt_number(s.duration_s / 60, lang, 1)))
    if s.views is not None:
        lines.append("  " + _("views ~{views}").format(views=fmt_number(s.views, lang, 0)))
    if s.nearest:
        lines.append("  " + _("nearest: {title}").format(title=store.corpus.by_id(s.nearest[0][0]).title))
    return lines


def _columns(store: Any, results: dict[str, Any], k: int, top: int, lang: str) -> list[list[str]]:
    _ = load_translations(lang).gettext
    titles = store.corpus
    hard, topk, soft = results["hard"], results["topk"], results["soft"]
    c1 = [_("HARD LOOKUP (dict)")]
    if hard.hit:
        v = titles.by_id(hard.ids[0])
        c1 += [_("hit: exact key"), f"  {v.title}", f"  {category_name(v.category, lang)} · {v.channel}"]
        c1 += _describe(store, hard, lang)
    else:
        c1 += [_("miss: no key equals"), f"  {hard.lookup_key!r}"]
        c1 += _("a dict has no notion\nof 'close': weights all 0").split("\n")
    kept = len(topk.ids)
    c2 = [_("TOP-{k} (FAISS, cosine)").format(k=kept)]
    c2 += [
        f"{r}. {fmt_number(s, lang, 3)} {titles.by_id(i).title}" for r, (i, s, _w) in enumerate(topk.top(k), start=1)
    ]
    share = fmt_percent(float(soft.weights[topk.positions].sum()), lang)
    c2 += [_("weight kept by top-{k}: {share}").format(k=kept, share=share)]
    c2 += _describe(store, topk, lang)
    c3 = [_("SOFT ATTENTION (T={t})").format(t=f"{soft.temperature:g}")]  # T as typed on the command line
    c3 += [f"{fmt_percent(w, lang, 1):>6} {titles.by_id(i).title}" for i, _s, w in soft.top(top)]
    h, n_eff = fmt_number(soft.entropy, lang, 2), fmt_number(soft.effective_num_keys, lang, 1)
    c3 += [_("entropy {h} nats · eff. keys {n}").format(h=h, n=n_eff)]
    c3 += _describe(store, soft, lang)
    return [c1, c2, c3]


def render_text(store: Any, results: dict[str, Any], k: int, top: int, width: int, lang: str = DEFAULT_LANG) -> str:
    """The three columns as text, ``width`` terminal cells wide (stacked below 96 cells), in ``lang``.

    Every cell goes through :func:`terminal_text`, in both layouts.
    """
    cols = [[terminal_text(cell) for cell in col] for col in _columns(store, results, k, top, lang)]
    if width < 96:  # stacked
        return "\n\n".join("\n".join(c) for c in cols)
    cw = (width - 6) // 3
    lines = []
    for row in zip_longest(*cols, fillvalue=""):
        lines.append(" │ ".join(_fit(cell, cw) for cell in row).rstrip())
    lines.insert(1, "─┼─".join("─" * cw for _ in cols))
    return "\n".join(lines)


def _undecodable_input(argv: Sequence[str]) -> str | None:
    """The one-line complaint about the first argument (or model variable) holding bytes that are not UTF-8.

    Python hands such bytes over as lone surrogates (``surrogateescape``); they would crash the
    tokenizer, the corpus hash or the JSON output later, so they are refused before anything runs.

    Returns:
        The message, or None if every argument and ``$RETRIEVAL_ATTENTION_MODEL`` is valid text.
    """
    from retrieval_attention.corpus import unencodable

    inputs = [("the argument", arg) for arg in argv]
    inputs.append((f"${MODEL_ENV_VAR}", os.environ.get(MODEL_ENV_VAR, "")))
    for what, value in inputs:
        if (problem := unencodable(value)) is None:
            continue
        try:
            shown = repr(value.encode("utf-8", "surrogateescape"))[1:]  # the user's own bytes: 'caf\xe9'
            at = next(i for i, ch in enumerate(value) if "\udc80" <= ch <= "\udcff")
            problem = f"byte 0x{ord(value[at]) - 0xDC00:02x} at character {at + 1}"
        except UnicodeEncodeError:  # a surrogate no byte maps to: only from Python code
            shown = ascii(value)
        cut = shown if len(shown) <= 60 else shown[:57] + "..."
        return f"{what} {cut} is not valid UTF-8 ({problem}); retype it, or rename the file to UTF-8"
    return None


def _progress(done: int, total: int, lang: str = DEFAULT_LANG) -> None:
    line = load_translations(lang).gettext("embedding corpus: {done}/{total}").format(done=done, total=total)
    print(f"\r{line}", end="" if done < total else "\n", file=sys.stderr, flush=True)


def _lang_in(argv: Sequence[str]) -> str:
    """The ``--lang`` value in ``argv`` before argparse runs, so that ``--help`` is translated too."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in LANGUAGES else DEFAULT_LANG
        if arg.startswith("--lang="):
            value = arg.removeprefix("--lang=")
            return value if value in LANGUAGES else DEFAULT_LANG
    return DEFAULT_LANG


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout with a translated ``usage:`` prefix."""

    def __init__(self, prog: str, usage_prefix: str = "usage: ", **kwargs: Any) -> None:
        super().__init__(prog, **kwargs)
        self._usage_prefix = usage_prefix

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, self._usage_prefix if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error convention: one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        raise SystemExit(_fail(f"{message} (see --help)"))


class _TerminalFormatter(logging.Formatter):
    """Log records (the corpus's warnings quote file names and titles) through :func:`terminal_text`."""

    def format(self, record: logging.LogRecord) -> str:
        return terminal_text(super().format(record))


#: An error line longer than this is cut: argparse quotes the whole argument (a 5,000-digit --k).
_MAX_ERROR_CHARS = 500


def _fail(message: str) -> int:
    """Print ``message`` as the one ``error:`` line on stderr; returns the exit status, 2."""
    line = terminal_text(message)
    if len(line) > _MAX_ERROR_CHARS:
        line = line[: _MAX_ERROR_CHARS - 1] + "…"
    print(f"error: {line}", file=sys.stderr)
    return 2


def _writes_utf8(stream: Any) -> bool:
    """True if ``stream`` encodes UTF-8 (False on, say, a Latin-1 terminal or PYTHONIOENCODING=latin-1)."""
    return (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "") == "utf8"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m retrieval_attention``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if (problem := _undecodable_input(argv)) is not None:
        return _fail(problem)
    args = build_parser(_lang_in(argv)).parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalFormatter("warning: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    from retrieval_attention.core.validate import check_k, check_query, check_whole, effective_factor
    from retrieval_attention.corpus import load_corpus
    from retrieval_attention.store import KeyValueStore

    try:
        check_query(args.query)  # every cheap check before the model loads (several seconds)
        effective_factor(args.scale, args.temperature, d=1)  # again with the model's d in retrieve()
        check_k(args.k)
        check_whole(args.top, "--top", 1)
        corpus = load_corpus(args.corpus)
        show = None if args.json or not sys.stderr.isatty() else functools.partial(_progress, lang=args.lang)
        store = KeyValueStore.from_corpus(corpus, args.model, use_cache=not args.no_cache, progress=show)
        results = store.retrieve(args.query, k=args.k, temperature=args.temperature, scale=args.scale)
        if args.json:
            doc = {
                "query": args.query,
                "model": store.encoder.name,
                "corpus": corpus.source,
                "n_keys": len(store),
                "k": args.k,
                **{mode: result_to_dict(store, res, args.top) for mode, res in results.items()},
            }
            text = json_text(doc)
    except RetrievalAttentionError as exc:
        return _fail(str(exc))
    if args.json:
        # A terminal that cannot show UTF-8 still gets valid JSON: every non-ASCII character escaped.
        print(text if _writes_utf8(sys.stdout) else json.dumps(json.loads(text), indent=2))
        return 0
    if hasattr(sys.stdout, "reconfigure") and not _writes_utf8(sys.stdout):
        sys.stdout.reconfigure(errors="backslashreplace")  # e.g. Chinese titles on a Latin-1 terminal
    width = shutil.get_terminal_size((140, 24)).columns
    head = load_translations(args.lang).gettext(
        "query {query} · {n} keys · model {model} · k={k} · T={t} · scale {scale}"
    )
    head = head.format(
        query=repr(args.query),
        n=fmt_number(len(store), args.lang),
        model=store.encoder.name,
        k=args.k,
        t=f"{args.temperature:g}",
        scale=args.scale,
    )
    print(terminal_text(head))
    print(render_text(store, results, args.k, args.top, width, lang=args.lang))
    return 0
