"""Attention as smoothing: the page's document, built once for the app, a saved file and a notebook.

Gaussian smoothing of a time series is attention whose weights come from *where* a step is
(section ``position``); a very wide kernel is average pooling (section ``wide``); weights from
*what* a step contains, queries and keys taken from the values, find the same phase one period
away (section ``content``). Every number is computed here from :mod:`retrieval_attention.core.smoothing`
and checked live (the Nadaraya-Watson formula, positional q·k attention).

Example:
    >>> lesson = smoothing_lesson(SmoothingSettings(step=70, sigma=3.0))
    >>> [s.key for s in lesson.sections]
    ['position', 'content']
    >>> [b.key for b in lesson.section("position").blocks if b.kind == "chart"]
    ['position_series', 'position_row']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.attention import effective_num_keys, scaled_dot_product_attention
from retrieval_attention.core.smoothing import (
    NoisySeries,
    content_attention,
    gaussian_smoothing_attention,
    nadaraya_watson,
    noisy_series,
    positional_query_key,
    rmse,
)
from retrieval_attention.core.validate import check_positive, check_whole
from retrieval_attention.export.blocks import Controls, Formula, LessonChart, LessonSection, Metric, Metrics, Text
from retrieval_attention.export.document import Lesson

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "WIDE",
    "SmoothingSettings",
    "by_content",
    "by_position",
    "content_frame",
    "content_section",
    "position_frame",
    "position_section",
    "series",
    "smoothing_intro",
    "smoothing_lesson",
    "smoothing_title",
    "wide_section",
]

#: The "very wide" kernel of the page's question, in time steps.
WIDE = 100.0
#: The element heights of the page's two charts, in pixels (the saved file draws them as tall).
SERIES_HEIGHT, ROW_HEIGHT = 400, 310


@dataclass(frozen=True)
class SmoothingSettings:
    """The page's widget values."""

    step: int = 70  # the time step whose weight row is drawn, 0 <= step < n
    sigma: float = 3.0  # width of the Gaussian kernel, in time steps (> 0)
    window: int = 9  # length of the windows compared by content, in steps (odd, >= 1)
    width: float = 0.3  # width of the content similarity, in units of y (> 0)
    lang: str = "en"  # the language of every text and number sign


@functools.cache
def series() -> NoisySeries:
    """The page's series (seed 0), made once per process."""
    return noisy_series()


@functools.lru_cache(maxsize=32)
def by_position(sigma: float) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Gaussian smoothing of :func:`series` at width σ.

    Returns:
        The smoothed series (n,), the weights W (n, n) and the largest gap to the Nadaraya-Watson
        formula and to positional q·k attention (both computed here).
    """
    s = series()
    ys, W = gaussian_smoothing_attention(s.t, s.y, sigma)  # (n,), (n, n)
    q, K = positional_query_key(s.t, sigma)  # (n, 2) each
    _, W_dot = scaled_dot_product_attention(q, K, s.y[:, None], scale=1.0)
    gap = max(float(np.max(np.abs(ys - nadaraya_watson(s.t, s.y, sigma)))), float(np.max(np.abs(W - W_dot))))
    for a in (ys, W):
        a.flags.writeable = False  # cached and shared
    return ys, W, gap


@functools.lru_cache(maxsize=64)
def by_content(window: int, width: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Content-based smoothing of :func:`series`: smoothed (n,) and weights (n, n)."""
    yc, Wc = content_attention(series().y, window, width)
    for a in (yc, Wc):
        a.flags.writeable = False
    return yc, Wc


def _check(settings: SmoothingSettings) -> SmoothingSettings:
    check_whole(settings.step, "step", 0, len(series().t) - 1)
    check_positive(settings.sigma, "sigma")
    check_whole(settings.window, "window", 1)
    check_positive(settings.width, "width")
    return settings


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _chart_text(lang: str) -> dict[str, str]:
    from retrieval_attention.charts.smoothing import SMOOTHING_TEXT
    from retrieval_attention.i18n import translated

    return translated(SMOOTHING_TEXT, lang)


def _names(lang: str) -> tuple[str, str]:
    _ = _gettext(lang)
    return _("by position"), _("by content")


@functools.lru_cache(maxsize=64)  # the section and the CSV of every rerun read one frame
def position_frame(settings: SmoothingSettings) -> pd.DataFrame:
    """The position section's data, one row per step (what its charts draw and its CSV holds).

    Shared by every call with the same settings: read it, never change it.
    """
    from retrieval_attention.charts.smoothing import smoothing_frame

    s, (ys, W, _gap) = series(), by_position(float(settings.sigma))
    pos, _con = _names(settings.lang)
    return smoothing_frame(s.t, s.y, s.signal, {pos: ys}, {pos: W[settings.step]})


@functools.lru_cache(maxsize=64)  # the section and the CSV of every rerun read one frame
def content_frame(settings: SmoothingSettings) -> pd.DataFrame:
    """The content section's data: both smoothings and both weight rows of the chosen step.

    Shared by every call with the same settings: read it, never change it.
    """
    from retrieval_attention.charts.smoothing import smoothing_frame

    s = series()
    yp, Wp, _gap = by_position(float(settings.sigma))
    yc, Wc = by_content(int(settings.window), float(settings.width))
    pos, con = _names(settings.lang)
    return smoothing_frame(s.t, s.y, s.signal, {pos: yp, con: yc}, {pos: Wp[settings.step], con: Wc[settings.step]})


def _charts(frame: pd.DataFrame, settings: SmoothingSettings, title: str, key: str) -> tuple[LessonChart, ...]:
    from retrieval_attention.charts.smoothing import series_chart, weight_row_chart
    from retrieval_attention.export.specs import inline_spec, signs

    text, number = _chart_text(settings.lang), signs(settings.lang)
    top = inline_spec(series_chart(frame, settings.step, title, text=text), **number, validate=False)
    row = inline_spec(weight_row_chart(frame, settings.step, text=text), **number, validate=False)
    return (
        LessonChart(top, key=f"{key}_series", height=SERIES_HEIGHT),
        LessonChart(row, key=f"{key}_row", height=ROW_HEIGHT),
    )


def smoothing_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)  # bound to _ so that the string is extracted for translation
    return _("Attention as smoothing")


def smoothing_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the page is about (the series it uses is said under the first chart)."""
    _ = _gettext(lang)
    return (
        Text(
            _(
                "Before words, a time series: smoothing one is a weighted average of neighbours. Written with "
                "queries, keys and values, it is attention whose weights come from **where** a step is; "
                "transformers take them from **what** it contains."
            ),
            key="intro",
        ),
    )


@functools.lru_cache(maxsize=64)  # a revisit costs nothing: the section is a pure function of its inputs
def position_section(settings: SmoothingSettings) -> LessonSection:
    """Section 1: Gaussian smoothing as attention by position, checked against the formula."""
    from retrieval_attention.i18n import fmt_number, fmt_setting

    settings = _check(settings)
    _, lang, s, step = _gettext(settings.lang), settings.lang, series(), settings.step
    ys, W, gap = by_position(float(settings.sigma))
    rms = _("RMS distance to the clean signal")
    title = _("Gaussian smoothing, σ = {sigma}").format(sigma=fmt_setting(settings.sigma, lang))
    blocks = (
        Controls(key="position_controls"),  # the picture first (issue 25): the sliders, then the charts
        *_charts(position_frame(settings), settings, title, "position"),
        Text(
            _(
                "A generated series (seed 0): n = {n} steps, periodic signal (period {period}) plus Gaussian "
                "noise of standard deviation {noise}. Errors are RMS distances to the clean signal."
            ).format(n=len(s.t), period=fmt_setting(s.period, lang), noise=fmt_setting(s.noise, lang)),
            style="caption",
            key="series",
        ),
        Text(
            _(
                "Every time step t asks: *what is my value, give or take the noise?* Its **query** attends to "
                "every step's **key**, and the score depends on **distance only**: score = −(t − s)² / (2σ²). The "
                "softmax of a row is the normalised Gaussian kernel and the output is the weighted average of the "
                "values: the Nadaraya-Watson estimator, written as attention."
            ),
            key="position_text",
        ),
        Formula(
            r"w_{t s} = \mathrm{softmax}_s\!\Big(-\frac{(t - s)^2}{2\sigma^2}\Big), \qquad \hat y_t = \sum_s w_{t s}\, y_s",
            key="position_formula",
        ),
        Metrics(
            (
                Metric(_("noisy: error"), fmt_number(rmse(s.y, s.signal), lang, 3), rms),
                Metric(_("smoothed: error"), fmt_number(rmse(ys, s.signal), lang, 3), rms),
                Metric(
                    _("keys step {step} reads").format(step=step),
                    fmt_number(effective_num_keys(W[step]), lang, 1),
                    _("1 / Σ w²: effective keys"),
                ),
                Metric(
                    _("gap to NW formula"),
                    f"{gap:.1e}",
                    _(
                        "largest difference to the Nadaraya-Watson (NW) kernel-regression formula and to "
                        "positional q·k attention"
                    ),
                ),
            ),
            key="position_metrics",
        ),
        Text(
            _(
                "Both checks run live: the attention output equals the Nadaraya-Watson formula, and the same "
                "weights come from plain dot-product attention with positional vectors q_t = [t − t̄, 1] and "
                "k_s = [(s − t̄)/σ², −(s − t̄)²/(2σ²)], t̄ the mean step."
            ),
            style="caption",
            key="position_checks",
        ),
    )
    return LessonSection(_("1 · Smoothing by position: Gaussian weights"), blocks=blocks, key="position")


@functools.lru_cache(maxsize=64)  # a revisit costs nothing: the section is a pure function of its inputs
def wide_section(settings: SmoothingSettings) -> LessonSection:
    """The answer to the page's question: the same series with a very wide kernel (σ = :data:`WIDE`)."""
    from retrieval_attention.i18n import fmt_number

    settings = _check(settings)
    _, lang, s, step = _gettext(settings.lang), settings.lang, series(), settings.step
    ys, W, _gap = by_position(WIDE)
    row = W[step]
    blocks = (
        Metrics(
            (
                Metric(
                    _("weights of step {step}").format(step=step),
                    f"{fmt_number(row.min(), lang, 4)} … {fmt_number(row.max(), lang, 4)}",
                    f"1/n = {fmt_number(1 / len(s.t), lang, 4)}",
                ),
                Metric(
                    _("keys it reads"),
                    _("{value} of {n}").format(value=fmt_number(effective_num_keys(row), lang, 0), n=len(s.t)),
                ),
                Metric(
                    _("smoothed: error"),
                    fmt_number(rmse(ys, s.signal), lang, 3),
                    _("RMS distance to the clean signal, at σ = 100"),
                ),
            ),
            key="wide_metrics",
        ),
        Text(
            _(
                "A very wide kernel gives every step nearly the same weight: each output is close to the average "
                "of the whole series (average pooling, like a very high temperature). The noise is gone, and so "
                "is the signal."
            ),
            key="wide_text",
        ),
    )
    return LessonSection(_("Reveal: the same series with σ = 100"), blocks=blocks, key="wide")


@functools.lru_cache(maxsize=64)  # a revisit costs nothing: the section is a pure function of its inputs
def content_section(settings: SmoothingSettings) -> LessonSection:
    """Section 2: queries and keys from the values; weights by what a step looks like."""
    from retrieval_attention.i18n import fmt_number, fmt_setting

    settings = _check(settings)
    _, lang, s, step = _gettext(settings.lang), settings.lang, series(), settings.step
    yp, _Wp, _gap = by_position(float(settings.sigma))
    yc, Wc = by_content(int(settings.window), float(settings.width))
    title = _("Position (σ = {sigma}) vs content (window {window}, σ = {width})").format(
        sigma=fmt_setting(settings.sigma, lang), window=settings.window, width=fmt_setting(settings.width, lang)
    )
    blocks = (
        Text(
            _(
                "The article's point: the Gaussian rule uses **position only**, fixed for every series. Now keep "
                "the values and the softmax but take **queries and keys from the values**: step t's query and step "
                "s's key are the windows of values around them, and the score is minus their mean squared "
                "difference. A step now attends to every step whose neighbourhood **looks like** its own, e.g. the "
                "same phase one period earlier or later."
            ),
            key="content_text",
        ),
        Controls(key="content_controls"),
        *_charts(content_frame(settings), settings, title, "content"),
        Metrics(
            (
                Metric(_("error, by position"), fmt_number(rmse(yp, s.signal), lang, 3)),
                Metric(_("error, by content"), fmt_number(rmse(yc, s.signal), lang, 3)),
                Metric(
                    _("keys step {step} reads, by content").format(step=step),
                    fmt_number(effective_num_keys(Wc[step]), lang, 1),
                ),
            ),
            key="content_metrics",
        ),
        Text(
            _(
                "The period of the signal is {period} steps: look for the content weights' bumps one period apart. "
                "Pooling far-apart look-alikes removes noise without blurring peaks (image denoising calls this "
                "*non-local means*). The rule here is still hand-made: window length and squared distance. A "
                "transformer **learns** the query and key projections W_Q, W_K that decide what *looks alike* "
                "means, and a value projection W_V that decides what to pass on."
            ).format(period=fmt_setting(s.period, lang)),
            key="content_lesson",
        ),
    )
    return LessonSection(_("2 · Weights by content: keys from the values"), blocks=blocks, key="content")


def smoothing_lesson(settings: SmoothingSettings = SmoothingSettings(), *, revealed: bool = False) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and its sections.

    Args:
        settings: the page's widget values.
        revealed: include the answer to the wide-kernel question (as the page does once it is asked).

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        ~retrieval_attention.errors.InvalidParameterError: a step outside the series, or a width, σ or window that is not positive.
    """
    from retrieval_attention.export.specs import made_with, signs
    from retrieval_attention.i18n import fmt_setting

    _, lang = _gettext(settings.lang), settings.lang
    sections = [position_section(settings)]
    if revealed:
        sections.append(wide_section(settings))
    sections.append(content_section(settings))
    facts = (
        (_("Step t"), str(settings.step)),
        (_("Kernel width σ (time steps)"), fmt_setting(settings.sigma, lang)),
        (_("Window length (steps)"), str(settings.window)),
        (_("Similarity width σ (units of y)"), fmt_setting(settings.width, lang)),
    )
    return Lesson(
        title=smoothing_title(lang),
        facts=facts,
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        intro=smoothing_intro(lang),
        **signs(lang),
    )
