"""Scoring functions against hand-written references, the measured cost gap, and the √d argument."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from retrieval_attention.core.scoring import (
    AdditiveScorer,
    cosine_scores,
    dot_scores,
    peakiness_vs_dim,
    projected_dot_scores,
    scaled_dot_scores,
)
from retrieval_attention.core.scoring_cost import measure_scoring_cost, time_scoring
from retrieval_attention.errors import InvalidParameterError

# Entries are 0 or at least 1e-6 in size, so that rescaling by 0.01..100 cannot underflow to 0.
finite = st.floats(-10.0, 10.0, allow_nan=False).map(lambda x: x if abs(x) > 1e-6 else 0.0)


@pytest.fixture
def small_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(42)
    return rng.standard_normal((5, 7)), rng.standard_normal((11, 7))  # q (m, d), K (n, d)


def test_dot_scores_match_a_loop_and_the_matrix_form(small_data):
    q, K = small_data
    loop = np.array([[sum(q[i, e] * K[j, e] for e in range(7)) for j in range(11)] for i in range(5)])
    np.testing.assert_allclose(dot_scores(q, K), loop, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dot_scores(q, K), q @ K.T, rtol=1e-12)
    assert dot_scores(q[0], K).shape == (11,)
    np.testing.assert_allclose(dot_scores(q[0], K), K @ q[0], rtol=1e-12)


def test_scaled_dot_divides_by_sqrt_d(small_data):
    q, K = small_data
    np.testing.assert_allclose(scaled_dot_scores(q, K), (q @ K.T) / math.sqrt(7), rtol=1e-12)


def test_cosine_is_dot_of_normalised_vectors(small_data):
    q, K = small_data
    qu = q / np.linalg.norm(q, axis=1, keepdims=True)
    Ku = K / np.linalg.norm(K, axis=1, keepdims=True)
    np.testing.assert_allclose(cosine_scores(q, K), qu @ Ku.T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cosine_scores(qu, Ku), dot_scores(qu, Ku), rtol=1e-12, atol=1e-12)


def test_cosine_of_a_zero_vector_is_zero():
    np.testing.assert_array_equal(cosine_scores([0.0, 0.0], [[1.0, 0.0], [0.0, 0.0]]), [0.0, 0.0])


@settings(max_examples=60, deadline=None)
@given(
    q=arrays(np.float64, 4, elements=finite),
    K=arrays(np.float64, (6, 4), elements=finite),
    a=st.floats(0.01, 100.0),
    b=st.floats(0.01, 100.0),
)
def test_cosine_ignores_length_and_stays_in_range(q, K, a, b):
    s = cosine_scores(q, K)
    assert np.all(s >= -1.0) and np.all(s <= 1.0)
    np.testing.assert_allclose(cosine_scores(a * q, b * K), s, atol=1e-9)


def test_shape_mismatch_raises(small_data):
    q, K = small_data
    with pytest.raises(InvalidParameterError):
        dot_scores(q, K[:, :3])
    with pytest.raises(InvalidParameterError):
        AdditiveScorer.random(d=3).scores(q, K)


def _additive_by_hand(W, U, v, q, K):
    """Bahdanau's score written out: one vᵀ tanh(W q + U k) per (query, key) pair."""
    out = np.zeros((len(q), len(K)))
    for i in range(len(q)):
        for j in range(len(K)):
            hidden = [
                math.tanh(sum(W[r, e] * q[i, e] + U[r, e] * K[j, e] for e in range(q.shape[1]))) for r in range(len(v))
            ]
            out[i, j] = sum(v[r] * hidden[r] for r in range(len(v)))
    return out


def test_additive_scoring_matches_a_hand_written_loop(small_data):
    q, K = small_data
    a = AdditiveScorer.random(d=7, hidden=5, seed=3)
    ref = _additive_by_hand(a.W, a.U, a.v, q, K)
    np.testing.assert_allclose(a.scores(q, K), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.scores_loop(q, K), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.scores(q[2], K), ref[2], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(a.scores_loop(q[2], K), ref[2], rtol=1e-10, atol=1e-12)


def test_additive_vectorised_chunks_agree_with_the_loop():
    rng = np.random.default_rng(0)
    q, K = rng.standard_normal((70, 3)), rng.standard_normal((900, 3))  # 70·900·64 floats > one chunk
    a = AdditiveScorer.random(d=3, hidden=64, seed=1)
    s = a.scores(q, K)
    assert s.shape == (70, 900)
    rows = [0, 61, 62, 69]  # on both sides of the first chunk boundary
    np.testing.assert_allclose(s[rows], a.scores_loop(q[rows], K), rtol=1e-10, atol=1e-12)


def test_additive_weights_are_seeded_and_shaped():
    a, b = AdditiveScorer.random(4, 6, seed=1), AdditiveScorer.random(4, 6, seed=1)
    c = AdditiveScorer.random(4, 6, seed=2)
    assert a.W.shape == a.U.shape == (6, 4) and a.v.shape == (6,)
    assert (a.d, a.hidden) == (4, 6)
    np.testing.assert_array_equal(a.W, b.W)
    assert not np.allclose(a.W, c.W)
    with pytest.raises(InvalidParameterError):
        AdditiveScorer(W=np.ones((3, 2)), U=np.ones((3, 2)), v=np.ones(2))


def test_projected_dot_is_dot_of_projections(small_data):
    q, K = small_data
    rng = np.random.default_rng(5)
    Wq, Wk = rng.standard_normal((4, 7)), rng.standard_normal((4, 7))
    ref = np.array([[np.dot(Wq @ qi, Wk @ kj) for kj in K] for qi in q])
    np.testing.assert_allclose(projected_dot_scores(q, K, Wq, Wk), ref, rtol=1e-10, atol=1e-12)


def test_cost_ratio_is_measured_and_the_loop_is_slower():
    r = measure_scoring_cost(m=8, n=128, d=32, hidden=32, repeats=3, seed=0)
    msg = (
        f"additive loop {r.additive_loop_seconds:.2e}s, vectorised {r.additive_vectorised_seconds:.2e}s, "
        f"projected dot {r.dot_seconds:.2e}s, measured ratio {r.ratio:.1f}"
    )
    assert r.pairs == 8 * 128
    assert r.additive_loop_seconds > 0 and r.dot_seconds > 0, msg
    assert r.ratio == pytest.approx(r.additive_loop_seconds / r.dot_seconds), msg
    assert r.additive_loop_seconds > r.dot_seconds, msg
    assert r.additive_flops == 8 * 128 * (4 * 32 * 32 + 3 * 32)
    assert r.dot_flops == 2 * 32 * 32 * (8 + 128) + 2 * 8 * 128 * 32


def test_time_scoring_on_given_arrays(small_data):
    q, K = small_data
    r = time_scoring(q[0], K, AdditiveScorer.random(d=7, hidden=8), repeats=2, min_time=1e-4)
    assert (r.m, r.n, r.d, r.hidden) == (1, 11, 7, 8)
    assert r.ratio > 0 and r.vectorised_ratio > 0 and r.cached_ratio > 0 and r.flop_ratio > 0


def test_cost_refuses_huge_loops():
    with pytest.raises(InvalidParameterError):
        measure_scoring_cost(m=1000, n=1000, max_pairs=10_000)


@pytest.fixture(scope="module")
def peak():
    return peakiness_vs_dim(dims=(4, 64, 1024), n_keys=32, trials=200, seed=0)


def test_gaussian_scores_grow_with_d_and_scaling_undoes_it(peak):
    raw, scaled = peak.curve("gaussian", scaled=False), peak.curve("gaussian", scaled=True)
    np.testing.assert_allclose(raw.score_std, np.sqrt(peak.dims), rtol=0.1)  # Var(q·k) = d
    np.testing.assert_allclose(scaled.score_std, 1.0, rtol=0.1)
    assert np.all(np.diff(raw.max_weight) > 0) and np.all(np.diff(raw.entropy) < 0)  # saturates
    assert raw.max_weight[-1] > 0.8 and raw.entropy[-1] < 0.5 * peak.uniform_entropy
    assert np.ptp(scaled.max_weight) < 0.03 and np.ptp(scaled.entropy) < 0.1  # flat in d


def test_unit_vectors_flatten_and_scaling_flattens_more(peak):
    raw, scaled = peak.curve("unit", scaled=False), peak.curve("unit", scaled=True)
    np.testing.assert_allclose(raw.score_std, 1.0 / np.sqrt(peak.dims), rtol=0.1)  # Var(q·k) = 1/d
    assert np.all(np.diff(raw.entropy) > 0)
    assert raw.entropy[-1] > 0.99 * peak.uniform_entropy  # nearly uniform weights
    assert np.all(scaled.entropy >= raw.entropy - 1e-12)
    assert np.all(scaled.max_weight <= raw.max_weight + 1e-12)


def test_peakiness_records_and_lookup(peak):
    recs = peak.as_records()
    assert len(recs) == 4 * 3 and {r["vectors"] for r in recs} == {"gaussian", "unit"}
    assert peak.uniform_entropy == pytest.approx(math.log(32))
    with pytest.raises(InvalidParameterError):
        peak.curve("binary", scaled=True)
    with pytest.raises(InvalidParameterError):
        peakiness_vs_dim(dims=(0, 4))


@given(
    st.floats(min_value=-7, max_value=1, allow_nan=False),
    st.floats(min_value=0, max_value=5, allow_nan=False),
)
@settings(max_examples=300, deadline=None)
def test_the_cost_axis_keeps_room_for_the_slowest_label(fastest, spread):
    """Whatever the machine measured, the log axis starts at a decade at or below the fastest time and
    ends at a decade that leaves LABEL_ROOM of it right of the slowest bar: a 133.6 ms label once ran
    3 px past the Spanish page because the axis ended at the next decade (71 of 325 px)."""
    from retrieval_attention.charts.scoring import LABEL_ROOM, cost_domain

    times = [10.0**fastest, 10.0 ** (fastest + spread / 2), 10.0 ** (fastest + spread)]
    lo, hi = cost_domain(times)
    a, b, top = math.log10(lo), math.log10(hi), math.log10(max(times))
    assert abs(a - round(a)) < 1e-9 and abs(b - round(b)) < 1e-9, "both ends are decades"
    assert a <= math.log10(min(times)) + 1e-9
    assert b - top >= LABEL_ROOM * (b - a) - 1e-9
