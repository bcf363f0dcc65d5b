"""Lesson: Gaussian smoothing of a time series is attention by position; then weights by content."""

from __future__ import annotations

import streamlit as st

st.title("Attention as smoothing")
st.markdown(
    "Before words, a time series: smoothing one is a weighted average of neighbours. Written with queries, "
    "keys and values, it is attention whose weights come from **where** a step is; transformers take them "
    "from **what** it contains."
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
ANSWERS = [
    "It narrows to a spike on step t",
    "It flattens: every step gets about 1/n, and the smoothed series flattens to the mean",
    "It keeps its shape and moves",
    "It turns negative far from t",
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


def charts(frame: pd.DataFrame, step: int, title: str, key: str) -> None:
    """The series with its smoothings, and under it, on the same time axis, the chosen step's weight row."""
    show_chart(cl.series_chart, frame, step, title, key=f"{key}_series", height=400)
    show_chart(cl.weight_row_chart, frame, step, key=f"{key}_row", height=310)


def position_section(s: NoisySeries, step: int) -> float:
    """Gaussian smoothing as position-only attention; returns the kernel width chosen."""
    st.header("1 · Smoothing by position: Gaussian weights")
    st.markdown(
        "Every time step t asks: *what is my value, give or take the noise?* Its **query** attends to every "
        "step's **key**, and the score depends on **distance only**: score = −(t − s)² / (2σ²). The softmax of a "
        "row is the normalised Gaussian kernel and the output is the weighted average of the values: "
        "the Nadaraya-Watson estimator, written as attention."
    )
    st.latex(
        r"w_{t s} = \mathrm{softmax}_s\!\Big(-\frac{(t - s)^2}{2\sigma^2}\Big), \qquad \hat y_t = \sum_s w_{t s}\, y_s"
    )
    sigma = st.select_slider(
        "Kernel width σ (time steps)", WIDTHS, value=3.0, key="kernel_width", format_func=lambda x: f"{x:g}"
    )
    ys, W, gap = by_position(float(sigma))  # (n,), (n, n), float
    frame = cl.smoothing_frame(s.t, s.y, s.signal, {"by position": ys}, {"by position": W[step]})
    charts(frame, step, f"Gaussian smoothing, σ = {sigma:g}", "position")
    download_csv(frame, "gaussian_smoothing.csv", "dl_position")
    c = st.columns(4)
    c[0].metric("noisy: error", f"{rmse(s.y, s.signal):.3f}", help="RMS distance to the clean signal")
    c[1].metric("smoothed: error", f"{rmse(ys, s.signal):.3f}", help="RMS distance to the clean signal")
    c[2].metric(f"keys step {step} reads", f"{ra.effective_num_keys(W[step]):.1f}", help="1 / Σ w²: effective keys")
    c[3].metric(
        "gap to NW formula",
        f"{gap:.1e}",
        help="largest difference to the Nadaraya-Watson (NW) kernel-regression formula and to positional q·k attention",
    )
    st.caption(
        "Both checks run live: the attention output equals the Nadaraya-Watson formula, and the same weights "
        "come from plain dot-product attention with positional vectors q_t = [t − t̄, 1] and "
        "k_s = [(s − t̄)/σ², −(s − t̄)²/(2σ²)], t̄ the mean step."
    )
    return float(sigma)


@st.fragment
def wide_question(s: NoisySeries, step: int) -> None:
    """What does a very wide kernel do? Asked first, then drawn at σ = 100."""
    question = f"What happens to the weight row of step {step} when the kernel is very wide (σ = {WIDE:g} steps)?"
    choice = predict_ui(question, ANSWERS, key="wide_guess")
    if choice is None:
        return
    with st.expander("Reveal: the same series with σ = 100", expanded=True):
        ys, W, _ = by_position(WIDE)
        row = W[step]
        st.markdown(guess_line(choice, ANSWERS[1], exact=True))
        c = st.columns(3)
        c[0].metric(f"weights of step {step}", f"{row.min():.4f} … {row.max():.4f}", help=f"1/n = {1 / len(s.t):.4f}")
        c[1].metric("keys it reads", f"{ra.effective_num_keys(row):.0f} of {len(s.t)}")
        c[2].metric("smoothed: error", f"{rmse(ys, s.signal):.3f}", help="RMS distance to the clean signal, at σ = 100")
        st.markdown(
            "A very wide kernel gives every step nearly the same weight: each output is close to the average of the "
            "whole series (average pooling, like a very high temperature). The noise is gone, and so is the signal."
        )


@st.fragment
def content_section(s: NoisySeries, step: int, sigma: float) -> None:
    """Queries and keys from the values: weights by what a step looks like."""
    st.header("2 · Weights by content: keys from the values")
    st.markdown(
        "The article's point: the Gaussian rule uses **position only**, fixed for every series. Now keep the "
        "values and the softmax but take **queries and keys from the values**: step t's query and step s's key are "
        "the windows of values around them, and the score is minus their mean squared difference. A step now attends "
        "to every step whose neighbourhood **looks like** its own, e.g. the same phase one period earlier or later."
    )
    a, b = st.columns(2)
    window = a.select_slider("Window length (steps)", WINDOWS, value=9, key="content_window")
    width = b.select_slider(
        "Similarity width σ (units of y)",
        CONTENT_WIDTHS,
        value=0.3,
        key="content_width",
        format_func=lambda x: f"{x:g}",
    )
    yp, Wp, _ = by_position(sigma)
    yc, Wc = by_content(int(window), float(width))
    frame = cl.smoothing_frame(
        s.t, s.y, s.signal, {"by position": yp, "by content": yc}, {"by position": Wp[step], "by content": Wc[step]}
    )
    charts(frame, step, f"Position (σ = {sigma:g}) vs content (window {window}, σ = {width:g})", "content")
    download_csv(frame, "content_vs_position_smoothing.csv", "dl_content")
    c = st.columns(3)
    c[0].metric("error, by position", f"{rmse(yp, s.signal):.3f}")
    c[1].metric("error, by content", f"{rmse(yc, s.signal):.3f}")
    c[2].metric(f"keys step {step} reads, by content", f"{ra.effective_num_keys(Wc[step]):.1f}")
    st.markdown(
        f"The period of the signal is {s.period:g} steps: look for the content weights' bumps one period apart. "
        "Pooling far-apart look-alikes removes noise without blurring peaks (image denoising calls this "
        "*non-local means*). The rule here is still hand-made: window length and squared distance. A transformer "
        "**learns** the query and key projections W_Q, W_K that decide what *looks alike* means, and a value "
        "projection W_V that decides what to pass on."
    )


def main() -> None:
    s = series()
    st.caption(
        f"A generated series (seed 0): n = {len(s.t)} steps, periodic signal (period {s.period:g}) plus Gaussian "
        f"noise of standard deviation {s.noise:g}. Errors are RMS distances to the clean signal."
    )
    step = st.slider("Step t to inspect (its weight row is drawn under the series)", 0, len(s.t) - 1, 70, key="step")
    sigma = position_section(s, step)
    wide_question(s, step)
    content_section(s, step, sigma)
    st.caption("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG.")


main()
