"""The CLI's progress line while a corpus is embedded: how far it is, and about how long is left.

Embedding runs at a few hundred texts a second with the numpy encoder, so a large corpus takes
minutes; the line says so while it runs, on stderr (stdout stays the result, or the JSON):

* stderr is a terminal: one line redrawn in place (at most four times a second), ended when done;
* stderr is a pipe or a file (a log, ``2> err.txt``): nothing for a run under
  :data:`QUIET_S` seconds, then one plain line every :data:`EVERY_S` seconds and one at the end,
  so a long run in a batch job still shows it is alive.

The estimate is the time left at the rate so far (texts done / seconds since the first call).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from retrieval_attention.i18n import DEFAULT_LANG, fmt_number, load_translations

__all__ = ["EVERY_S", "QUIET_S", "EmbeddingProgress"]

#: A run shorter than this prints nothing when stderr is not a terminal.
QUIET_S = 10.0
#: Seconds between two lines when stderr is not a terminal.
EVERY_S = 10.0
#: Seconds between two redraws of the live line on a terminal.
_REDRAW_S = 0.25


class EmbeddingProgress:
    """``progress(done, total)`` for :meth:`KeyValueStore.from_corpus` that prints the CLI's progress line.

    Args:
        lang: the language of the line.
        stream: where to write (stderr).
        live: redraw one line in place; None: when ``stream`` is a terminal.
        clock: seconds, monotonic (a test passes its own).

    Example:
        >>> import io
        >>> out, now = io.StringIO(), iter([0.0, 20.0])
        >>> show = EmbeddingProgress(stream=out, live=False, clock=lambda: next(now))
        >>> show(0, 400); show(100, 400)
        >>> out.getvalue()
        'embedding corpus: 100/400 · about 1 min left\\n'
    """

    def __init__(
        self,
        lang: str = DEFAULT_LANG,
        stream: TextIO | None = None,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lang = lang
        self.stream = sys.stderr if stream is None else stream
        self.live = _isatty(self.stream) if live is None else live
        self.clock = clock
        self._start: float | None = None  # time of the first call
        self._last = -1e300  # time of the last line written
        self._wrote = False  # a line was written (the final one is then due too)
        self._open = False  # a live line is drawn and not ended yet

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self._start is None:
            self._start = now
        elapsed = now - self._start
        finished = done >= total
        if self.live:
            due = finished or now - self._last >= _REDRAW_S
        else:
            due = (finished and self._wrote) or (elapsed >= QUIET_S and now - self._last >= EVERY_S)
        if not due:
            return
        self._last, self._wrote = now, True
        line = self.line(done, total, elapsed)
        if self.live:
            self.stream.write(f"\r{line}\x1b[K" + ("\n" if finished else ""))
            self._open = not finished
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """End a live line left unfinished (Ctrl-C, an error), so what follows starts on its own line."""
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False

    def line(self, done: int, total: int, elapsed: float) -> str:
        """The progress text: counts, then the time left at the rate so far (once there is a rate)."""
        _ = load_translations(self.lang).gettext
        text = _("embedding corpus: {done}/{total}").format(
            done=fmt_number(done, self.lang), total=fmt_number(total, self.lang)
        )
        if 0 < done < total and elapsed > 0:
            left = (total - done) * elapsed / done
            text += " · " + _("about {time} left").format(time=duration(left, self.lang))
        return text


def duration(seconds: float, lang: str = DEFAULT_LANG) -> str:
    """A time left in words, rounded as an estimate deserves: '45 s', '3 min', '2 h 5 min'.

    Example:
        >>> duration(44.6), duration(200), duration(7500), duration(200, "es")
        ('45 s', '3 min', '2 h 5 min', '3 min')
    """
    _ = load_translations(lang).gettext
    s = max(1, round(seconds))
    if s < 60:
        return _("{s} s").format(s=s)
    if s < 3600:
        return _("{m} min").format(m=round(s / 60))
    h, m = divmod(round(s / 60), 60)
    return _("{h} h {m} min").format(h=h, m=m)


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
