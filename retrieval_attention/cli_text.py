"""The CLI's text output: three columns (or stacked), strict JSON, and every line made safe for a terminal.

:func:`render_text` lays out the three retrievals for a person, in ``--lang``; :func:`result_to_dict`
and :func:`json_text` are the ``--json`` document; :func:`terminal_text` is the one function every
printed line goes through (control characters, escape sequences and bidi overrides become visible
escapes). Split from :mod:`retrieval_attention.cli`, which parses the arguments and runs the query.
"""

from __future__ import annotations

import json
import unicodedata
from itertools import zip_longest
from typing import Any

from retrieval_attention.core.topk import kept_weight
from retrieval_attention.i18n import DEFAULT_LANG, category_name, fmt_list, fmt_number, fmt_percent, load_translations

__all__ = ["json_text", "render_text", "result_to_dict", "terminal_text"]


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
    share = fmt_percent(kept_weight(soft.weights, topk.positions), lang)
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
