"""What every lesson builder shares: an Altair chart as an inline, projector-themed Vega-Lite dict, and the facts.

A lesson's chart must carry its data inline (the file is read offline), the projector theme
(:func:`~retrieval_attention.charts.theme.projector_spec`) and the lesson's number signs
(:func:`~retrieval_attention.charts.theme.with_number_locale_spec`). Altair's data transformer and
theme are global to the process, so the conversion holds one lock.

The builders import :mod:`retrieval_attention.i18n` (Babel, a few hundred milliseconds) and the chart
modules (Altair, pandas) inside their functions: ``import retrieval_attention`` stays as quick as it was.
"""

from __future__ import annotations

import datetime
import functools
import importlib.metadata
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import altair as alt

    from retrieval_attention.charts.template import ChartParts
    from retrieval_attention.corpus import Corpus

__all__ = [
    "corpus_label",
    "corpus_name",
    "filled_spec",
    "inline_spec",
    "is_single_view",
    "lesson_date",
    "made_with",
    "package_version",
    "signs",
]

#: Altair's theme and data transformer are process-wide: one conversion at a time.
_ALTAIR_LOCK = threading.Lock()
_SINGLE_VIEW = ("mark", "layer")
_COMPOUND = ("hconcat", "vconcat", "concat", "facet", "repeat")


def is_single_view(spec: Mapping[str, Any]) -> bool:
    """Whether a Vega-Lite dict is one view (a mark or a layer), not a concatenation, facet or repeat."""
    return any(k in spec for k in _SINGLE_VIEW) and not any(k in spec for k in _COMPOUND)


def inline_spec(
    chart: alt.TopLevelMixin,
    decimal: str = ".",
    thousands: str = ",",
    *,
    validate: bool = True,
    container_width: bool = True,
    lock: AbstractContextManager[Any] | None = None,
) -> dict[str, Any]:
    """``chart`` as a Vega-Lite dict for a lesson: data inline (no row limit), projector theme, number signs.

    A single view that sets no width of its own gets ``width: "container"``: as wide as the page.

    Args:
        chart: a chart from one of the builders in :mod:`retrieval_attention.charts`.
        decimal: the decimal sign of the chart's numbers (axes, legends, tooltips).
        thousands: the digit-grouping sign.
        validate: check the specification against the Vega-Lite schema (off when this builder's
            output was already validated).
        container_width: give a single view with no width of its own ``width: "container"``.
        lock: the lock around Altair's process-wide theme and data transformer; None for this
            module's own (the app passes Streamlit's, which its own conversions hold).

    Returns:
        The specification, ready for :class:`~retrieval_attention.export.document.LessonChart`.

    Example:
        >>> import altair as alt, pandas as pd
        >>> spec = inline_spec(alt.Chart(pd.DataFrame({"w": [0.5]})).mark_bar().encode(x="w:Q"), ",", ".")
        >>> spec["config"]["axis"]["labelFontSize"], spec["config"]["locale"]["number"]["decimal"]
        (15, ',')
        >>> list(spec["datasets"].values())
        [[{'w': 0.5}]]
    """
    import altair as alt

    from retrieval_attention.charts.theme import projector_spec, with_number_locale_spec

    with lock if lock is not None else _ALTAIR_LOCK:
        theme = alt.theme.enable("none") if alt.theme.active == "default" else nullcontext()
        with theme, alt.data_transformers.enable("default", max_rows=None):
            spec = chart.to_dict(validate=validate)
    spec = with_number_locale_spec(projector_spec(spec), decimal, thousands)
    if container_width and is_single_view(spec) and "width" not in spec:
        spec["width"] = "container"
        # fit the width only: Vega-Lite's default for a container width is "fit", and a chart whose
        # height is a step per row (discrete) then logs "Dropping fit-y" in the reader's console
        spec.setdefault("autosize", {"type": "fit-x", "contains": "padding"})
    return spec


def filled_spec(
    view: Any,
    parts: ChartParts,
    /,
    decimal: str = ".",
    thousands: str = ",",
    *,
    container_width: bool = True,
) -> dict[str, Any]:
    """:func:`inline_spec` of ``view(parts.frames(), **parts.options)``, built once per view, options and signs.

    A new query's chart costs its rows: the specification is a template
    (:mod:`retrieval_attention.charts.template`) filled with ``parts.data``.

    Args:
        view: a chart kind's view function, e.g. :func:`~retrieval_attention.charts.retrieval.weights_view`.
        parts: from the kind's parts function, e.g. :func:`~retrieval_attention.charts.retrieval.weights_parts`.
        decimal, thousands: the number signs of the chart's language.
        container_width: as for :func:`inline_spec`.

    Returns:
        What :func:`inline_spec` returns for the fresh build (not validated), its datasets under stable
        names; shared below its top level: read it, never change it.

    Example:
        >>> from retrieval_attention.charts.retrieval import category_mix_parts, category_mix_view
        >>> spec = filled_spec(category_mix_view, category_mix_parts({"pets": 0.75, "news": 0.25}), ",", ".")
        >>> spec["datasets"]["data-mix"], spec["config"]["locale"]["number"]["decimal"]
        ([{'category': 'pets', 'share': 0.75}, {'category': 'news', 'share': 0.25}], ',')
    """
    from retrieval_attention.charts.template import filled

    def convert(chart: alt.TopLevelMixin) -> dict[str, Any]:
        return inline_spec(chart, decimal, thousands, validate=False, container_width=container_width)

    return filled(view, parts, convert, decimal, thousands, container_width)


def signs(lang: str) -> dict[str, str]:
    """``{"decimal": ..., "thousands": ...}`` of ``lang``, as :class:`~retrieval_attention.export.document.Lesson` takes them."""
    from retrieval_attention.i18n import number_signs

    decimal, thousands = number_signs(lang)
    return {"decimal": decimal, "thousands": thousands}


def corpus_label(corpus: Corpus, lang: str) -> str:
    """The corpus as a reader sees it: "bundled videos" (translated) or its file name."""
    from retrieval_attention.i18n import load_translations

    _ = load_translations(lang).gettext
    if corpus.source == "bundled":
        return _("bundled videos")
    if corpus.source == "pasted":
        return _("pasted videos")
    return Path(corpus.source).name


def corpus_name(corpus: Corpus) -> str:
    """The corpus's short name for :func:`~retrieval_attention.export.files.lesson_filename`: ``videos`` or the file's stem."""
    return "videos" if corpus.source == "bundled" else Path(corpus.source).stem or corpus.source


def lesson_date(when: datetime.date | datetime.datetime | None) -> datetime.date:
    """``when`` as a date; today's (local) date for None."""
    if when is None:
        return datetime.date.today()
    return when.date() if isinstance(when, datetime.datetime) else when


@functools.cache
def package_version() -> str:
    """This package's installed version, "" in a checkout that is not installed; read once per process
    (``importlib.metadata`` parses the package's metadata on every call: about 2 ms, an eighth of the
    main page's document for a new query)."""
    try:
        return importlib.metadata.version("retrieval_attention")
    except importlib.metadata.PackageNotFoundError:  # a checkout on sys.path, not installed
        return ""


def made_with(lang: str) -> str:
    """The footer: "Made with retrieval_attention 0.1.0" in ``lang``."""
    from retrieval_attention.i18n import load_translations

    text = load_translations(lang).gettext("Made with retrieval_attention {version}").format(version=package_version())
    return text.strip()
