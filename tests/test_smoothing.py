"""Gaussian smoothing as attention equals Nadaraya-Watson; content-based weights follow the values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from retrieval_attention.core.attention import scaled_dot_product_attention
from retrieval_attention.core.smoothing import (
    content_attention,
    gaussian_smoothing_attention,
    nadaraya_watson,
    noisy_series,
    positional_query_key,
    window_features,
)
from retrieval_attention.errors import InvalidParameterError


@st.composite
def series(draw):
    n = draw(st.integers(1, 40))
    t = draw(arrays(np.float64, n, elements=st.floats(-50.0, 50.0, allow_nan=False)))
    y = draw(arrays(np.float64, n, elements=st.floats(-100.0, 100.0, allow_nan=False)))
    return t, y


@settings(max_examples=100, deadline=None)
@given(ty=series(), bandwidth=st.floats(0.05, 200.0))
def test_gaussian_attention_equals_nadaraya_watson(ty, bandwidth):
    t, y = ty
    smoothed, w = gaussian_smoothing_attention(t, y, bandwidth)
    assert w.shape == (t.size, t.size)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(smoothed, nadaraya_watson(t, y, bandwidth), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("bandwidth", [0.7, 2.0, 5.0])
def test_uniform_grid_equals_normalised_convolution(bandwidth):
    s = noisy_series(120, seed=3)
    u = np.arange(-119, 120)
    kernel = np.exp(-(u**2) / (2 * bandwidth**2))  # (2n - 1,) covers every offset
    middle = slice(119, 239)  # the full convolution, centred on each step
    ref = np.convolve(s.y, kernel)[middle] / np.convolve(np.ones(120), kernel)[middle]
    smoothed, _ = gaussian_smoothing_attention(s.t, s.y, bandwidth)
    np.testing.assert_allclose(smoothed, ref, rtol=1e-10, atol=1e-12)


def test_weights_depend_on_distance_only():
    t = np.arange(30.0)
    _, w = gaussian_smoothing_attention(t, np.random.default_rng(0).normal(size=30), bandwidth=3.0)
    for i in (0, 13, 29):
        np.testing.assert_allclose(w[i] / w[i, i], np.exp(-((t - t[i]) ** 2) / 18.0), rtol=1e-12)


def test_positional_dot_product_attention_gives_the_same_smoothing():
    s = noisy_series(80, seed=1)
    q, K = positional_query_key(s.t, bandwidth=2.5)
    out, w_dot = scaled_dot_product_attention(q, K, s.y[:, None], scale=1.0)
    smoothed, w = gaussian_smoothing_attention(s.t, s.y, 2.5)
    np.testing.assert_allclose(w_dot, w, atol=1e-9)
    np.testing.assert_allclose(out[:, 0], smoothed, atol=1e-9)


def test_bandwidth_limits():
    s = noisy_series(50, seed=2)
    wide, _ = gaussian_smoothing_attention(s.t, s.y, 1e6)
    np.testing.assert_allclose(wide, s.y.mean(), rtol=1e-6)  # average pooling
    narrow, w = gaussian_smoothing_attention(s.t, s.y, 0.01)
    np.testing.assert_allclose(narrow, s.y, rtol=1e-12)  # a hard lookup of each step itself
    np.testing.assert_allclose(w, np.eye(50), atol=1e-12)


def test_causal_smoothing_reads_only_the_past():
    s = noisy_series(40, seed=0)
    smoothed, w = gaussian_smoothing_attention(s.t, s.y, 3.0, causal=True)
    assert np.all(np.triu(w, k=1) == 0.0)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    assert smoothed[0] == s.y[0]
    np.testing.assert_allclose(smoothed[5], nadaraya_watson(s.t[:6], s.y[:6], 3.0)[5], rtol=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_bandwidth_raises(bad):
    with pytest.raises(InvalidParameterError):
        gaussian_smoothing_attention([0.0, 1.0], [1.0, 2.0], bad)
    with pytest.raises(InvalidParameterError):
        nadaraya_watson([0.0, 1.0], [1.0, 2.0], bad)
    with pytest.raises(InvalidParameterError):
        content_attention([0.0, 1.0], bandwidth=bad)


def test_noisy_series_is_seeded():
    a, b, c = noisy_series(300, seed=7), noisy_series(300, seed=7), noisy_series(300, seed=8)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.allclose(a.y, c.y)
    np.testing.assert_array_equal(a.signal, c.signal)
    assert abs(np.std(a.y - a.signal) - a.noise) < 0.05
    with pytest.raises(InvalidParameterError):
        noisy_series(1)


def test_window_features_match_manual_windows():
    y = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    P = window_features(y, window=3)
    np.testing.assert_array_equal(P, [[3, 3, 1], [3, 1, 4], [1, 4, 1], [4, 1, 5], [1, 5, 5]])
    np.testing.assert_array_equal(window_features(y, window=1)[:, 0], y)
    with pytest.raises(InvalidParameterError):
        window_features(y, window=4)


def _non_local_means(y, window, bandwidth):
    """Reference: explicit window distances and kernel sums, no softmax."""
    n, half = len(y), window // 2
    padded = np.concatenate([np.full(half, y[0]), y, np.full(half, y[-1])])
    out = np.zeros(n)
    for i in range(n):
        kernel = np.array(
            [
                math.exp(-np.mean((padded[i : i + window] - padded[j : j + window]) ** 2) / (2 * bandwidth**2))
                for j in range(n)
            ]
        )
        out[i] = kernel @ y / kernel.sum()
    return out


@settings(max_examples=40, deadline=None)
@given(
    y=arrays(np.float64, st.integers(1, 30), elements=st.floats(-3.0, 3.0, allow_nan=False)),
    window=st.sampled_from([1, 3, 5, 9]),
    bandwidth=st.floats(0.2, 5.0),
)
def test_content_attention_matches_explicit_non_local_means(y, window, bandwidth):
    smoothed, w = content_attention(y, window=window, bandwidth=bandwidth)
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(smoothed, _non_local_means(y, window, bandwidth), rtol=1e-8, atol=1e-8)


def test_content_weights_find_the_same_phase_in_other_periods():
    s = noisy_series(200, seed=0, period=40.0, noise=0.0)
    _, w = content_attention(s.y, window=9, bandwidth=0.3)
    i = 100
    top = np.sort(np.argsort(-w[i], kind="stable")[:5])
    np.testing.assert_array_equal(top, [20, 60, 100, 140, 180])  # i ± multiples of the period
    _, w_pos = gaussian_smoothing_attention(s.t, s.y, bandwidth=2.0)
    assert w_pos[i, 60] < 1e-40 < w[i, 60]  # position-only weights cannot see a period away


def test_content_attention_denoises_the_default_series():
    s = noisy_series(200, seed=0)
    smoothed, _ = content_attention(s.y)
    best_gauss = min(
        np.mean((gaussian_smoothing_attention(s.t, s.y, b)[0] - s.signal) ** 2) for b in (1.0, 2.0, 3.0, 4.0)
    )
    mse_content = np.mean((smoothed - s.signal) ** 2)
    assert mse_content < np.mean((s.y - s.signal) ** 2) / 4
    assert mse_content < best_gauss, (mse_content, best_gauss)


def test_constant_series_gives_uniform_content_weights():
    _, w = content_attention(np.full(12, 2.5), window=5)
    np.testing.assert_allclose(w, 1 / 12, rtol=1e-12)
