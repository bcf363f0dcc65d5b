"""Every chart of the app, drawn from a Vega-Lite specification built once per distinct input.

``st.altair_chart(chart)`` turns the Altair object into a Vega-Lite dictionary on every call:
Altair's ``to_dict``, which validates the whole specification against the Vega-Lite JSON schema,
with the data written as Arrow by Streamlit's own data transformer. Then it hands the dictionary
to the same code ``st.vega_lite_chart`` runs. :func:`show_chart` does that conversion once per
builder and inputs (with Streamlit's converter, so the dictionary is the one ``st.altair_chart``
would make), keeps it in one cache for the whole server, and passes it to ``st.vega_lite_chart``:
the browser receives the same message, theme and projector sizes included, and a rerun that leaves
a chart's inputs as they were costs a hash of those inputs instead of a build and a validation.

A new input still builds its chart. Two things keep that cheap: the projector theme is written into
the dictionary (:func:`~retrieval_attention.charts.theme.projector_spec`) instead of four
``configure_*`` calls that each copy the whole Altair chart, and the schema validation runs on the
first chart of each builder in this process only (the tests validate every builder's output): later
inputs change the numbers, not the structure. Labels are part of the inputs, so a page that passes
translated labels gets one cached chart per language; a builder must not read a language itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import altair as alt
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from retrieval_attention.charts.spec import RenderCache, fingerprint, resolve
from retrieval_attention.charts.theme import projector, projector_spec, with_number_locale, with_number_locale_spec
from ui.components.export import record_chart
from ui.components.i18n import number_signs
from ui.components.present import chart_size

try:  # what st.altair_chart itself calls; private, so a Streamlit without it falls back to st.altair_chart
    from streamlit.elements.vega_charts import _convert_altair_to_vega_lite_spec as _streamlit_spec
except ImportError:  # pragma: no cover - depends on the installed Streamlit
    _streamlit_spec = None

#: Most chart specifications one server keeps (a main-page chart is 5 to 60 kB, a heads grid ~1 MB).
MAX_SPECS = 1024
MAX_SPEC_BYTES = 192 * 1024 * 1024

Builder = Callable[..., alt.TopLevelMixin]


@st.cache_resource(show_spinner=False)
def spec_cache() -> RenderCache:
    """The server's one cache of chart specifications, shared by every session."""
    return RenderCache(max_entries=MAX_SPECS, max_bytes=MAX_SPEC_BYTES)


@st.cache_resource(show_spinner=False)
def _validated() -> set[str]:
    """The builders whose first chart this process has validated against the Vega-Lite schema."""
    return set()


class _Unvalidated:
    """A chart whose ``to_dict()`` skips the schema validation (Streamlit's converter calls ``to_dict()``)."""

    def __init__(self, chart: alt.TopLevelMixin) -> None:
        self._chart = chart

    def to_dict(self) -> dict[str, Any]:
        return self._chart.to_dict(validate=False)


def altair_spec(chart: alt.TopLevelMixin, validate: bool = True) -> dict[str, Any]:
    """``chart`` as the Vega-Lite dictionary ``st.altair_chart`` would send (data as Arrow datasets).

    Args:
        chart: a finished Altair chart (theme applied).
        validate: check it against the Vega-Lite schema (what ``st.altair_chart`` always does).

    Returns:
        The specification; its ``datasets`` map content-hash names to Arrow bytes.
    """
    if _streamlit_spec is None:  # pragma: no cover
        raise RuntimeError("this Streamlit has no Altair converter; show_chart draws with st.altair_chart instead")
    return _streamlit_spec(chart if validate else _Unvalidated(chart))


def chart_key(build: Builder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[str, str]:
    """What identifies a chart in the cache: the builder's full name and a fingerprint of its inputs."""
    return f"{build.__module__}.{build.__qualname__}", fingerprint(args, kwargs)


def chart_spec(build: Builder, /, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The projector-themed specification of ``build(*args, **kwargs)``, built only on the first request.

    Args:
        build: a chart builder from :mod:`retrieval_attention.charts` (plain data in, Altair chart out).
        args, kwargs: its inputs, hashed by content (:func:`~retrieval_attention.charts.spec.fingerprint`);
            a :class:`~retrieval_attention.charts.spec.Lazy` one is made only if the chart is not cached.

    Returns:
        The shared, read-only dictionary.
    """
    key = chart_key(build, args, kwargs)

    def make() -> dict[str, Any]:
        validated = _validated()
        chart = build(*(resolve(a) for a in args), **{k: resolve(v) for k, v in kwargs.items()})
        spec = projector_spec(altair_spec(chart, validate=key[0] not in validated))
        validated.add(key[0])
        return spec

    return spec_cache().get(key, make)


def show_chart(
    build: Builder,
    /,
    *args: Any,
    key: str,
    height: int | str = "content",
    width: int | str | None = None,
    where: DeltaGenerator | None = None,
    on_select: str | Callable[[], None] = "ignore",
    **kwargs: Any,
) -> Any:
    """Draw ``projector(build(*args, **kwargs))`` as ``st.altair_chart`` would, from the cached specification.

    Args:
        build: the chart builder.
        args, kwargs: its inputs (every one is part of the cache key).
        key: the element's key, as for ``st.altair_chart``.
        height, width: as for ``st.altair_chart`` (width None: Streamlit's default for the chart kind).
        where: the container to draw in (a column); None for the current one.
        on_select: as for ``st.altair_chart``: "ignore", "rerun" or a callback (the chart's selection
            parameters are in its specification; the selection is ``st.session_state[key]``).

    Returns:
        What ``st.vega_lite_chart`` returns (the selection state when ``on_select`` is not "ignore").
    """
    record_chart(build, args, kwargs, key=key, height=height, width=width)  # for "Save this view (HTML)"
    dg = where if where is not None else st
    size = chart_size()  # presentation mode's larger type, on the page only (the saved lesson re-builds)
    if _streamlit_spec is None:  # pragma: no cover
        chart = build(*(resolve(a) for a in args), **{k: resolve(v) for k, v in kwargs.items()})
        chart = projector(with_number_locale(chart, *number_signs()), size)
        return dg.altair_chart(chart, key=key, height=height, width=width, on_select=on_select)
    spec = with_number_locale_spec(chart_spec(build, *args, **kwargs), *number_signs())  # a top-level copy:
    if size != "projector":
        spec = projector_spec(spec, size)  # replaces the four sized entries of the config, a copy again
    return dg.vega_lite_chart(  # Streamlit pops "datasets"
        spec=spec, key=key, height=height, width=width, on_select=on_select
    )
