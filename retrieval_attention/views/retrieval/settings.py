"""The main page's widget values, its one question to the library (:func:`ask`) and its chart cache."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from retrieval_attention.i18n import N_

if TYPE_CHECKING:
    from retrieval_attention.charts.spec import RenderCache
    from retrieval_attention.store import KeyValueStore, RetrievalResult

__all__ = ["ARITHMETIC_KEYS", "SCALE_NAMES", "Results", "RetrievalSettings", "ask", "chart_cache"]

#: The element heights of the page's charts, in pixels (the saved file draws them as tall).
WEIGHTS_HEIGHT, CONTINUUM_HEIGHT, SCALING_HEIGHT = 420, 440, 400
#: The output mix's element height beyond its bars (title, axis): 161 px for one bar, as it was drawn.
MIX_ROOM = 133
#: Keys whose softmax is written out step by step.
ARITHMETIC_KEYS = 4
#: The scale radio's codes (msgids, shown translated) by the library's scale.
SCALE_NAMES = {"none": N_("none: q·k (cosine)"), "sqrt_d": N_("÷√d, as transformers do")}
#: Bounds of :func:`chart_cache` (a weights chart is ~60 kB inline, a continuum chart ~40 kB).
CACHED_CHARTS, CACHED_BYTES = 256, 64 * 1024 * 1024


@dataclass(frozen=True)
class RetrievalSettings:
    """The page's widget values."""

    query: str = "funny cat videos"  # the query as typed (the library says what is wrong with an empty one)
    k: int = 5  # keys kept by top-k search, 1..n
    temperature: float | None = None  # T > 0 of top-k and soft attention; None: the encoder's own
    scale: str | float = "none"  # "none" (cosine), "sqrt_d" (÷√d) or a number multiplying q·k
    log_weights: bool = True  # the weights chart on a log axis (the long tail visible)
    lang: str = "en"  # the language of every text and number sign
    when: datetime.date | None = None  # the date the document names; None: today


Results = Mapping[str, "RetrievalResult"]


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def ask(store: KeyValueStore, settings: RetrievalSettings) -> Results:
    """The page's one question to the library: ``store.retrieve`` (the query embedded once, q·K once).

    Returns:
        ``{"hard", "topk", "soft"}`` -> :class:`~retrieval_attention.store.RetrievalResult`.

    Raises:
        QueryError: an empty or unusable query.
        InvalidParameterError: a bad k, temperature or scale.
    """
    return _asked(store, settings.query, settings.k, settings.temperature, settings.scale)


@functools.lru_cache(maxsize=64)  # a revisit asks nothing again; every section and the CSV read one answer
def _asked(store: KeyValueStore, query: str, k: int, temperature: float | None, scale: str | float) -> Results:
    """``store.retrieve``, once per store and question (an error is not kept); shared and read only."""
    from types import MappingProxyType

    return MappingProxyType(store.retrieve(query, k=k, temperature=temperature, scale=scale))


@functools.cache
def chart_cache() -> RenderCache:
    """This process's inline chart specifications of the page, by kind and a fingerprint of their data."""
    from retrieval_attention.charts.spec import RenderCache

    return RenderCache(max_entries=CACHED_CHARTS, max_bytes=CACHED_BYTES)


def _chart(kind: str, make: Any, *parts: Any) -> dict[str, Any]:
    """``make(*parts)``: an inline chart specification, built once per kind and distinct data (shared, read-only)."""
    from retrieval_attention.charts.spec import fingerprint

    return chart_cache().get((kind, fingerprint(parts)), lambda: make(*parts))


def _filled(view: Any, parts: Any, lang: str) -> dict[str, Any]:
    """The chart kind's specification template (built once per options and language) filled with ``parts``' rows."""
    from retrieval_attention.export.specs import filled_spec, signs

    return filled_spec(view, parts, **signs(lang))
