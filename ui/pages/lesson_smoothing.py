"""Lesson: Gaussian smoothing of a time series is attention by position; then weights by content."""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import N_, _, fmt_number, fmt_setting, setting_labels

st.title(_("Attention as smoothing"))
st.markdown(
    _(
        "Before words, a time series: smoothing one is a weighted average of neighbours. Written with queries, "
        "keys and values, it is attention whose weights come from **where** a step is; transformers take them "
        "from **what** it contains."
    )
)

import numpy as np  # noqa: E402  (the imports follow the title, on purpose)
import pandas as pd  # noqa: E402

import retrieval_attention as ra  # noqa: E402
from retrieval_attention.charts import smoothing as cl  # noqa: E402
from retrieval_attention.core.smoothing import (  # noqa: E402
    NoisySeries,
    content_attention,
    gaussian_smoothing_attention,
    nadaraya_watson,
    noisy_series,
    positional_query_key,
    rmse,
)
from ui.components.charts import show_chart  # noqa: E402
from ui.components.downloads import download_csv  # noqa: E402
from ui.components.predict import guess_line, predict_ui  # noqa: E402

WIDTHS = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 50.0, 100.0]  # σ in time steps
WINDOWS = [1, 3, 5, 7, 9, 13, 17, 21]
CONTENT_WIDTHS = [0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0]  # σ in units of y
WIDE = 100.0  # the "very wide" kernel of the question
ANSWERS = [  # fixed codes (the radio's value), shown translated
    N_("It narrows to a spike on step t"),
    N_("It flattens: every step gets about 1/n, and the smoothed series flattens to the mean"),
    N_("It keeps its shape and moves"),
    N_("It turns negative far from t"),
]


@st.cache_data(show_spinner=False)
def series() -> NoisySeries:
    """The lesson's series (seed 0), made once per server."""
    return noisy_series()


@st.cache_data(show_spinner=False, max_entries=32)
def by_position(sigma: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Gaussian smoothing of :func:`series` at width σ, once per σ: smoothed (n,), weights W (n, n), and
    the largest gap to the Nadaraya-Watson formula and to positional q·k attention (both checked live)."""
    s = series()
    ys, W = gaussian_smoothing_attention(s.t, s.y, sigma)  # (n,), (n, n)
    q, K = positional_query_key(s.t, sigma)  # (n, 2) each
    _, W_dot = ra.scaled_dot_product_attention(q, K, s.y[:, None], scale=1.0)
    gap = max(float(np.max(np.abs(ys - nadaraya_watson(s.t, s.y, sigma)))), float(np.max(np.abs(W - W_dot))))
    return ys, W, gap


@st.cache_data(show_spinner=False, max_entries=64)
def by_content(window: int, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Content-based smoothing of :func:`series`, once per window and width: smoothed (n,), weights (n, n)."""
    return content_attention(series().y, window, width)


def chart_text() -> dict[str, str]:
    """The charts' text (:data:`retrieval_attention.charts.smoothing.SMOOTHING_TEXT`) in the session's language."""
    return {
        "time": _("time step t"),
        "value": _("value"),
        "weight": _("weight"),
        "clean": _("clean"),
        "smoothed": _("smoothed: {name}"),
        "weight_of": _("weight: {name}"),
        "subtitle": _("grey dots: the noisy series · orange line: step t = {step}"),
        "row_title": _("The weight row of step t = {step}: how much of each step it averages"),
    }


def charts(frame: pd.DataFrame, step: int, title: str, key: str) -> None:
    """The series with its smoothings, and under it, on the same time axis, the chosen step's weight row."""
    text = chart_text()
    show_chart(cl.series_chart, frame, step, title, text=text, key=f"{key}_series", height=400)
    show_chart(cl.weight_row_chart, frame, step, text=text, key=f"{key}_row", height=310)


def position_section(s: NoisySeries, step: int) -> float:
    """Gaussian smoothing as position-only attention; returns the kernel width chosen."""
    st.header(_("1 · Smoothing by position: Gaussian weights"))
    st.markdown(
        _(
            "Every time step t asks: *what is my value, give or take the noise?* Its **query** attends to every "
            "step's **key**, and the score depends on **distance only**: score = −(t − s)² / (2σ²). The softmax of "
            "a row is the normalised Gaussian kernel and the output is the weighted average of the values: "
            "the Nadaraya-Watson estimator, written as attention."
        )
    )
    st.latex(
        r"w_{t s} = \mathrm{softmax}_s\!\Big(-\frac{(t - s)^2}{2\sigma^2}\Big), \qquad \hat y_t = \sum_s w_{t s}\, y_s"
    )
    sigma = st.select_slider(
        _("Kernel width σ (time steps)"), WIDTHS, value=3.0, key="kernel_width", format_func=setting_labels(WIDTHS)
    )
    ys, W, gap = by_position(float(sigma))  # (n,), (n, n), float
    pos = _("by position")
    frame = cl.smoothing_frame(s.t, s.y, s.signal, {pos: ys}, {pos: W[step]})
    charts(frame, step, _("Gaussian smoothing, σ = {sigma}").format(sigma=fmt_setting(sigma)), "position")
    download_csv(frame, "gaussian_smoothing.csv", "dl_position")
    c = st.columns(4)
    rms = _("RMS distance to the clean signal")
    c[0].metric(_("noisy: error"), fmt_number(rmse(s.y, s.signal), 3), help=rms)
    c[1].metric(_("smoothed: error"), fmt_number(rmse(ys, s.signal), 3), help=rms)
    c[2].metric(
        _("keys step {step} reads").format(step=step),
        fmt_number(ra.effective_num_keys(W[step]), 1),
        help=_("1 / Σ w²: effective keys"),
    )
    c[3].metric(
        _("gap to NW formula"),
        f"{gap:.1e}",
        help=_(
            "largest difference to the Nadaraya-Watson (NW) kernel-regression formula and to positional q·k attention"
        ),
    )
    st.caption(
        _(
            "Both checks run live: the attention output equals the Nadaraya-Watson formula, and the same weights "
            "come from plain dot-product attention with positional vectors q_t = [t − t̄, 1] and "
            "k_s = [(s − t̄)/σ², −(s − t̄)²/(2σ²)], t̄ the mean step."
        )
    )
    return float(sigma)


@st.fragment
def wide_question(s: NoisySeries, step: int) -> None:
    """What does a very wide kernel do? Asked first, then drawn at σ = 100."""
    question = _(
        "What happens to the weight row of step {step} when the kernel is very wide (σ = {sigma} steps)?"
    ).format(step=step, sigma=fmt_setting(WIDE))
    choice = predict_ui(question, ANSWERS, key="wide_guess")
    if choice is None:
        return
    with st.expander(_("Reveal: the same series with σ = 100"), expanded=True):
        ys, W, _gap = by_position(WIDE)
        row = W[step]
        st.markdown(guess_line(choice, ANSWERS[1], exact=True))
        c = st.columns(3)
        c[0].metric(
            _("weights of step {step}").format(step=step),
            f"{fmt_number(row.min(), 4)} … {fmt_number(row.max(), 4)}",
            help=f"1/n = {fmt_number(1 / len(s.t), 4)}",
        )
        c[1].metric(
            _("keys it reads"),
            _("{value} of {n}").format(value=fmt_number(ra.effective_num_keys(row), 0), n=len(s.t)),
        )
        c[2].metric(
            _("smoothed: error"),
            fmt_number(rmse(ys, s.signal), 3),
            help=_("RMS distance to the clean signal, at σ = 100"),
        )
        st.markdown(
            _(
                "A very wide kernel gives every step nearly the same weight: each output is close to the average of "
                "the whole series (average pooling, like a very high temperature). The noise is gone, and so is the "
                "signal."
            )
        )


@st.fragment
def content_section(s: NoisySeries, step: int, sigma: float) -> None:
    """Queries and keys from the values: weights by what a step looks like."""
    st.header(_("2 · Weights by content: keys from the values"))
    st.markdown(
        _(
            "The article's point: the Gaussian rule uses **position only**, fixed for every series. Now keep the "
            "values and the softmax but take **queries and keys from the values**: step t's query and step s's key "
            "are the windows of values around them, and the score is minus their mean squared difference. A step "
            "now attends to every step whose neighbourhood **looks like** its own, e.g. the same phase one period "
            "earlier or later."
        )
    )
    a, b = st.columns(2)
    window = a.select_slider(_("Window length (steps)"), WINDOWS, value=9, key="content_window")
    width = b.select_slider(
        _("Similarity width σ (units of y)"),
        CONTENT_WIDTHS,
        value=0.3,
        key="content_width",
        format_func=setting_labels(CONTENT_WIDTHS),  # built in this run: see setting_labels
    )
    yp, Wp, _gap = by_position(sigma)
    yc, Wc = by_content(int(window), float(width))
    pos, con = _("by position"), _("by content")
    frame = cl.smoothing_frame(s.t, s.y, s.signal, {pos: yp, con: yc}, {pos: Wp[step], con: Wc[step]})
    title = _("Position (σ = {sigma}) vs content (window {window}, σ = {width})").format(
        sigma=fmt_setting(sigma), window=window, width=fmt_setting(width)
    )
    charts(frame, step, title, "content")
    download_csv(frame, "content_vs_position_smoothing.csv", "dl_content")
    c = st.columns(3)
    c[0].metric(_("error, by position"), fmt_number(rmse(yp, s.signal), 3))
    c[1].metric(_("error, by content"), fmt_number(rmse(yc, s.signal), 3))
    c[2].metric(
        _("keys step {step} reads, by content").format(step=step), fmt_number(ra.effective_num_keys(Wc[step]), 1)
    )
    st.markdown(
        _(
            "The period of the signal is {period} steps: look for the content weights' bumps one period apart. "
            "Pooling far-apart look-alikes removes noise without blurring peaks (image denoising calls this "
            "*non-local means*). The rule here is still hand-made: window length and squared distance. A "
            "transformer **learns** the query and key projections W_Q, W_K that decide what *looks alike* means, "
            "and a value projection W_V that decides what to pass on."
        ).format(period=fmt_setting(s.period))
    )


def main() -> None:
    s = series()
    st.caption(
        _(
            "A generated series (seed 0): n = {n} steps, periodic signal (period {period}) plus Gaussian "
            "noise of standard deviation {noise}. Errors are RMS distances to the clean signal."
        ).format(n=len(s.t), period=fmt_setting(s.period), noise=fmt_setting(s.noise))
    )
    step = st.slider(_("Step t to inspect (its weight row is drawn under the series)"), 0, len(s.t) - 1, 70, key="step")
    sigma = position_section(s, step)
    wide_question(s, step)
    content_section(s, step, sigma)
    st.caption(_("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG."))


main()
