"""Smoothing a time series as attention: first by position only, then by content.

Gaussian smoothing replaces each value y_i by a weighted average of all values, with weights from
a Gaussian of the distance |t_i - t_j|. That is attention in which step i's query attends to every
step's key and the score depends on positions only:

    score_ij = -(t_i - t_j)² / (2σ²),   w_i = softmax(score_i),   ŷ_i = Σ_j w_ij y_j

which is the Nadaraya-Watson kernel regression estimate ŷ_i = Σ_j K(t_i - t_j) y_j / Σ_j K(t_i - t_j).
The rule is fixed and blind to the values: a spike and a plateau get the same weights.

:func:`content_attention` keeps the values and the softmax but takes queries and keys from the
*values*: a window of values around each step. Steps whose neighbourhoods look alike attend to
each other, however far apart they are. Shapes: t, y (n,); weights (n, n), row i sums to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.attention import softmax
from retrieval_attention.core.validate import check_bandwidth, check_whole
from retrieval_attention.errors import InvalidParameterError

__all__ = [
    "NoisySeries",
    "content_attention",
    "gaussian_smoothing_attention",
    "nadaraya_watson",
    "noisy_series",
    "positional_query_key",
    "rmse",
    "window_features",
]


@dataclass(frozen=True, eq=False)
class NoisySeries:
    """A generated time series: a periodic signal plus Gaussian noise."""

    t: NDArray[np.float64]  # (n,) time steps 0, 1, ..., n - 1
    y: NDArray[np.float64]  # (n,) observed values = signal + noise
    signal: NDArray[np.float64]  # (n,) the clean signal, to measure how well smoothing recovers it
    period: float  # period of the signal, in steps
    noise: float  # standard deviation of the noise


def noisy_series(n: int = 200, seed: int = 0, period: float = 40.0, noise: float = 0.35) -> NoisySeries:
    """A seeded noisy series: ``sin(2πt/P) + 0.5 sin(4πt/P) + noise`` at t = 0..n-1.

    The signal is periodic with an asymmetric shape, so every phase (a rising edge, a peak, a
    shoulder) recurs once per period: position-based smoothing sees only neighbours, content-based
    weights can find the same phase in other periods.

    Args:
        n: number of time steps (>= 2).
        seed: seed of ``np.random.default_rng``.
        period: P, period of the signal in steps (> 0).
        noise: standard deviation of the added Gaussian noise (>= 0).

    Returns:
        A :class:`NoisySeries`.

    Example:
        >>> s = noisy_series(100, seed=1)
        >>> s.t.shape, s.y.shape, round(float(s.signal[0]), 3)
        ((100,), (100,), 0.0)
    """
    if n < 2 or not period > 0 or not noise >= 0:
        raise InvalidParameterError(f"need n >= 2, period > 0, noise >= 0; got {n}, {period}, {noise}")
    t = np.arange(n, dtype=np.float64)  # (n,)
    phase = 2.0 * np.pi * t / period
    signal = np.sin(phase) + 0.5 * np.sin(2.0 * phase)  # (n,)
    y = signal + np.random.default_rng(seed).normal(0.0, noise, size=n)  # (n,)
    return NoisySeries(t=t, y=y, signal=signal, period=float(period), noise=float(noise))


def _series(t: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t1, y1 = np.asarray(t, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if t1.ndim != 1 or y1.shape != t1.shape or t1.size == 0:
        raise InvalidParameterError(f"t and y must be non-empty 1-D arrays of one length; got {t1.shape}, {y1.shape}")
    return t1, y1


def gaussian_smoothing_attention(
    t: ArrayLike, y: ArrayLike, bandwidth: float, causal: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gaussian smoothing written as attention with position-only scores.

    Every step i attends to every step j with ``score_ij = -(t_i - t_j)² / (2σ²)``; the softmax of
    row i is the normalised Gaussian kernel, and the output is the weighted average of y.
    Up to a per-row constant (which the softmax ignores) the score is a dot product of positional
    features, see :func:`positional_query_key`.

    Args:
        t: time stamps (n,), any order and spacing.
        y: values (n,).
        bandwidth: σ > 0, the kernel width in units of t.
        causal: if True, step i attends only to steps j <= i (a one-sided, online smoother;
            assumes t is sorted).

    Returns:
        (smoothed (n,), weights (n, n)); row i of the weights is what step i reads.

    Example:
        >>> ys, w = gaussian_smoothing_attention([0.0, 1.0, 2.0], [0.0, 3.0, 0.0], bandwidth=1.0)
        >>> w.sum(axis=1).round(6), ys.round(3)
        (array([1., 1., 1.]), array([1.045, 1.356, 1.045]))
    """
    t1, y1 = _series(t, y)
    sigma = check_bandwidth(bandwidth)
    scores = -((t1[:, None] - t1[None, :]) ** 2) / (2.0 * sigma**2)  # (n, n)
    if causal:
        scores = np.where(np.tri(t1.size, dtype=bool), scores, -np.inf)
    w = softmax(scores, axis=-1)  # (n, n)
    return w @ y1, w


def positional_query_key(t: ArrayLike, bandwidth: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Queries and keys that make Gaussian smoothing plain dot-product attention.

    With t' = t - mean(t), query q_i = [t'_i, 1] and key k_j = [t'_j / σ², -t'_j² / (2σ²)]:

        q_i · k_j = -(t_i - t_j)² / (2σ²) + t'_i² / (2σ²)

    The second term is the same for every key of row i, so ``softmax(q Kᵀ)`` equals the Gaussian
    weights: position-only smoothing is attention whose queries and keys encode positions.
    (Use :func:`gaussian_smoothing_attention` for computing: it avoids the large row constant.)

    Args:
        t: time stamps (n,).
        bandwidth: σ > 0.

    Returns:
        (q (n, 2), K (n, 2)), to use with ``scaled_dot_product_attention(q, K, y[:, None], scale=1.0)``.

    Example:
        >>> q, K = positional_query_key([0.0, 1.0, 2.0], bandwidth=1.0)
        >>> q.shape, K.shape
        ((3, 2), (3, 2))
    """
    t1 = np.asarray(t, dtype=np.float64)
    sigma = check_bandwidth(bandwidth)
    tc = t1 - t1.mean()  # (n,) centred, to keep the row constant small
    q = np.stack([tc, np.ones_like(tc)], axis=1)  # (n, 2)
    K = np.stack([tc / sigma**2, -(tc**2) / (2.0 * sigma**2)], axis=1)  # (n, 2)
    return q, K


def nadaraya_watson(t: ArrayLike, y: ArrayLike, bandwidth: float) -> NDArray[np.float64]:
    """Reference Nadaraya-Watson estimate with explicit kernel sums (no softmax).

        ŷ_i = Σ_j K(t_i - t_j) y_j / Σ_j K(t_i - t_j),   K(u) = exp(-u² / (2σ²))

    The denominator is at least K(0) = 1, so it never vanishes.

    Args:
        t: time stamps (n,).
        y: values (n,).
        bandwidth: σ > 0.

    Returns:
        Smoothed values (n,).

    Example:
        >>> nadaraya_watson([0.0, 1.0, 2.0], [0.0, 3.0, 0.0], bandwidth=1.0).round(3)
        array([1.045, 1.356, 1.045])
    """
    t1, y1 = _series(t, y)
    sigma = check_bandwidth(bandwidth)
    out = np.empty_like(y1)
    for i, ti in enumerate(t1):
        k = np.exp(-((ti - t1) ** 2) / (2.0 * sigma**2))  # (n,) kernel around t_i
        out[i] = np.sum(k * y1) / np.sum(k)
    return out


def window_features(y: ArrayLike, window: int = 9) -> NDArray[np.float64]:
    """The values in a window centred on each step, edge-padded: one row per step.

    Args:
        y: values (n,).
        window: odd window length w >= 1.

    Returns:
        Features (n, w); row i is y[i - w//2 .. i + w//2], with the end values repeated past the ends.

    Example:
        >>> window_features([1.0, 2.0, 3.0], window=3)
        array([[1., 1., 2.],
               [1., 2., 3.],
               [2., 3., 3.]])
    """
    y1 = np.asarray(y, dtype=np.float64)
    if y1.ndim != 1 or y1.size == 0:
        raise InvalidParameterError(f"y must be a non-empty 1-D array, got shape {y1.shape}")
    window = check_whole(window, "window", 1)
    if window % 2 == 0:
        raise InvalidParameterError(f"window must be an odd integer >= 1, got {window}")
    half = window // 2
    padded = np.pad(y1, half, mode="edge")  # (n + 2·half,)
    return np.lib.stride_tricks.sliding_window_view(padded, window).copy()  # (n, w)


def content_attention(
    y: ArrayLike, window: int = 9, bandwidth: float = 0.3
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Smoothing with content-based weights: queries and keys are windows of values, not positions.

    Step i's query and step j's key are the windows of values around them (:func:`window_features`);
    the score is minus their mean squared difference:

        score_ij = -mean_k (P_ik - P_jk)² / (2σ²)

    (like the Gaussian case, a dot product of the windows up to per-row constants). What it shows:
    the weight row of a step now peaks wherever the series *looks like* that step's neighbourhood,
    e.g. at the same phase one period earlier and later, not only next door. The average then pools
    those far-apart look-alikes, which removes noise without blurring the shape (this is the
    "non-local means" filter of image denoising). The relevance is decided by content, but the
    rule is still hand-made (window length, squared distance); a transformer *learns* the query
    and key projections that decide what "looks alike" means.

    Args:
        y: values (n,).
        window: odd window length w >= 1; w = 1 compares single values.
        bandwidth: σ > 0 in units of y; how different two windows may be and still count as alike.
            Two windows of the same clean shape under noise of standard deviation s differ by
            about 2s² in mean square, so σ near the noise level (0.3 for the default series,
            s = 0.35) keeps same-shape windows and shuts out different ones.

    Returns:
        (smoothed (n,), weights (n, n)), rows summing to 1. Every step's best match is itself
        (score 0), so the diagonal holds the largest weight of each row.

    Example:
        >>> y = np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
        >>> ys, w = content_attention(y, window=1, bandwidth=0.1)
        >>> ys.round(3), w[0].round(3)
        (array([0., 1., 0., 1., 0., 1.]), array([0.333, 0.   , 0.333, 0.   , 0.333, 0.   ]))
    """
    y1 = np.asarray(y, dtype=np.float64)
    sigma = check_bandwidth(bandwidth)
    P = window_features(y1, window)  # (n, w)
    sq = np.sum(P * P, axis=1)  # (n,)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (P @ P.T), 0.0)  # (n, n) squared distances
    np.fill_diagonal(d2, 0.0)  # exact 0 for i = j, free of rounding in the expansion above
    scores = -d2 / (window * 2.0 * sigma**2)  # (n, n)
    w = softmax(scores, axis=-1)  # (n, n)
    return w @ y1, w


def rmse(a: NDArray[np.floating], b: NDArray[np.floating]) -> float:
    """Root-mean-square difference ``sqrt(mean((a - b)²))``: how far a smoothing is from the clean signal.

    Example:
        >>> rmse(np.array([0.0, 2.0]), np.array([0.0, 0.0]))
        1.4142135623730951
    """
    return float(np.sqrt(np.mean((np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) ** 2)))
