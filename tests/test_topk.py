"""Top-k attention: TV = τ and o_full - o_topk = τ (m_drop - m_keep), on random data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from retrieval_attention.core.attention import scaled_dot_product_attention, softmax
from retrieval_attention.core.topk import kept_mass, kept_weight, topk_attention_error, topk_error_curve, topk_order
from retrieval_attention.errors import InvalidParameterError


@st.composite
def problems(draw):
    """Scores (n,), values (n, dv), a k in 1..n and a temperature."""
    n = draw(st.integers(1, 40))
    dv = draw(st.integers(1, 4))
    scores = draw(arrays(np.float64, n, elements=st.floats(-30.0, 30.0, allow_nan=False)))
    V = draw(arrays(np.float64, (n, dv), elements=st.floats(-100.0, 100.0, allow_nan=False)))
    k = draw(st.integers(1, n))
    temperature = draw(st.floats(0.05, 20.0))
    return scores, V, k, temperature


@settings(max_examples=200, deadline=None)
@given(p=problems())
def test_topk_identities_hold(p):
    scores, V, k, T = p
    r = topk_attention_error(scores, V, k, temperature=T)
    vmax = float(np.max(np.linalg.norm(V, axis=1)))
    # The definitions.
    np.testing.assert_allclose(r.weights, softmax(scores, temperature=T), rtol=1e-12)
    np.testing.assert_allclose(r.tail_mass, np.sum(np.delete(r.weights, r.kept)), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(r.topk_weights.sum(), 1.0, rtol=1e-12)
    assert np.all(r.topk_weights[np.setdiff1d(np.arange(len(scores)), r.kept)] == 0.0)
    # Identity 1: TV(w, w') = τ.
    assert r.tv_distance == pytest.approx(r.tail_mass, abs=1e-12)
    # Identity 2: o_full - o_topk = τ (m_drop - m_keep), as vectors, hence in norm.
    np.testing.assert_allclose(r.identity_lhs, r.identity_rhs, rtol=1e-9, atol=1e-12 * (1 + vmax))
    np.testing.assert_allclose(r.output_topk, r.m_keep, rtol=1e-12, atol=1e-12 * (1 + vmax))
    if r.tail_mass > 0:
        assert r.output_error == pytest.approx(r.tail_mass * r.gap_norm, rel=1e-9, abs=1e-12 * (1 + vmax))
    assert r.output_error <= r.error_bound * (1 + 1e-9) + 1e-12 * (1 + vmax)


def test_identity_on_seeded_random_data():
    rng = np.random.default_rng(0)
    q, K, V = rng.standard_normal(16), rng.standard_normal((300, 16)), rng.standard_normal((300, 8))
    scores = K @ q / 4.0
    for k in (1, 5, 50, 299):
        r = topk_attention_error(scores, V, k)
        assert 0 < r.tail_mass < 1
        assert r.tv_distance == pytest.approx(r.tail_mass, rel=1e-12)
        np.testing.assert_allclose(r.identity_lhs, r.identity_rhs, rtol=1e-10, atol=1e-14)


def test_full_output_is_our_attention():
    rng = np.random.default_rng(1)
    q, K, V = rng.standard_normal((1, 6)), rng.standard_normal((20, 6)), rng.standard_normal((20, 3))
    out, w = scaled_dot_product_attention(q, K, V, scale=1.0, temperature=0.7)
    r = topk_attention_error((q @ K.T)[0], V, k=4, temperature=0.7)
    np.testing.assert_allclose(r.weights, w[0], rtol=1e-12)
    np.testing.assert_allclose(r.output_full, out[0], rtol=1e-12)


@settings(max_examples=50, deadline=None)
@given(p=problems())
def test_k_equal_n_is_full_attention(p):
    scores, V, _, T = p
    n = len(scores)
    r = topk_attention_error(scores, V, n, temperature=T)
    assert r.tail_mass == 0.0 and r.tv_distance == 0.0 and r.output_error == 0.0
    np.testing.assert_array_equal(r.output_topk, r.output_full)
    assert np.all(np.isnan(r.m_drop)) and np.all(r.identity_rhs == 0.0)
    c = topk_error_curve(scores, V, temperature=T)
    assert c.tail_mass[-1] == 0.0 and c.output_error[-1] == 0.0


@settings(max_examples=100, deadline=None)
@given(p=problems())
def test_curve_tail_mass_non_increasing_and_error_bounded(p):
    scores, V, _, T = p
    c = topk_error_curve(scores, V, temperature=T)
    vmax = float(np.max(np.linalg.norm(V, axis=1)))
    np.testing.assert_array_equal(c.ks, np.arange(1, len(scores) + 1))
    assert np.all(np.diff(c.tail_mass) <= 0.0)  # exactly, not up to rounding
    np.testing.assert_allclose(c.tv_distance, c.tail_mass, atol=1e-12)
    np.testing.assert_allclose(c.identity_rhs, c.output_error, rtol=1e-9, atol=1e-12 * (1 + vmax))
    assert np.all(c.output_error <= c.error_bound * (1 + 1e-9) + 1e-12 * (1 + vmax))


@settings(max_examples=60, deadline=None)
@given(p=problems())
def test_curve_agrees_with_the_single_k_computation(p):
    scores, V, _, T = p
    c = topk_error_curve(scores, V, temperature=T)
    vmax = float(np.max(np.linalg.norm(V, axis=1)))
    for i, k in enumerate(c.ks):
        r = topk_attention_error(scores, V, int(k), temperature=T)
        assert c.tail_mass[i] == pytest.approx(r.tail_mass, rel=1e-9, abs=1e-14)
        assert c.tv_distance[i] == pytest.approx(r.tv_distance, abs=1e-12)
        assert c.output_error[i] == pytest.approx(r.output_error, rel=1e-8, abs=1e-11 * (1 + vmax))


def test_output_error_is_not_monotone_in_k():
    """The issue's "error is non-increasing in k" is false; only τ is monotone."""
    c = topk_error_curve(np.log([0.4, 0.35, 0.25]), [0.0, 10.0, -10.0])
    np.testing.assert_allclose(c.tail_mass, [0.6, 0.25, 0.0], atol=1e-12)
    np.testing.assert_allclose(c.output_error, [1.0, 3.5 / 0.75 - 1.0, 0.0], rtol=1e-12, atol=1e-12)
    assert c.output_error[1] > c.output_error[0]
    # Not a corner case: on ordinary random data the error curve goes up somewhere too.
    rng = np.random.default_rng(0)
    c = topk_error_curve(rng.standard_normal(300), rng.standard_normal((300, 8)))
    assert np.any(np.diff(c.output_error) > 1e-6)
    assert np.all(np.diff(c.tail_mass) <= 0.0)


def test_ties_keep_the_lower_index_and_masked_keys_come_last():
    np.testing.assert_array_equal(topk_order([1.0, 3.0, 1.0, -np.inf, 3.0]), [1, 4, 0, 2, 3])
    r = topk_attention_error([1.0, 1.0, 1.0], [[0.0], [1.0], [2.0]], k=1)
    np.testing.assert_array_equal(r.kept, [0])
    assert r.tail_mass == pytest.approx(2 / 3)
    r = topk_attention_error([0.0, -np.inf, 1.0], [[1.0], [5.0], [2.0]], k=2)
    np.testing.assert_array_equal(r.kept, [2, 0])
    assert r.tail_mass == 0.0 and r.output_error == 0.0


def test_one_dimensional_values_give_scalar_outputs():
    r = topk_attention_error([2.0, 1.0, 0.0], [1.0, 0.0, -1.0], k=1)
    assert r.output_full.shape == () and r.m_keep.shape == ()
    assert float(r.output_topk) == 1.0


def test_subset_of_ks_for_a_large_corpus():
    rng = np.random.default_rng(2)
    scores, V = rng.standard_normal(10_000) * 3, rng.standard_normal((10_000, 384))
    ks = [1, 10, 100, 1000, 10_000]
    c = topk_error_curve(scores, V, ks=ks)
    np.testing.assert_array_equal(c.ks, ks)
    for i, k in enumerate(ks):
        r = topk_attention_error(scores, V, k)
        assert c.output_error[i] == pytest.approx(r.output_error, rel=1e-8, abs=1e-12)
        assert c.tail_mass[i] == pytest.approx(r.tail_mass, rel=1e-9, abs=1e-15)
    assert len(topk_error_curve(scores, V[:, :4]).ks) == 10_000  # every k, still fast


@pytest.mark.parametrize("k", [0, 4, -1, 1.5, True])
def test_bad_k_raises(k):
    with pytest.raises(InvalidParameterError):
        topk_attention_error([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], k)


def test_bad_inputs_raise():
    with pytest.raises(InvalidParameterError):
        topk_attention_error([-np.inf, -np.inf], [1.0, 2.0], 1)
    with pytest.raises(InvalidParameterError):
        topk_attention_error([np.nan, 1.0], [1.0, 2.0], 1)
    with pytest.raises(InvalidParameterError):
        topk_attention_error([1.0, 2.0], [1.0, 2.0, 3.0], 1)
    with pytest.raises(InvalidParameterError):
        topk_attention_error([1.0, 2.0], [1.0, 2.0], 1, temperature=0.0)
    with pytest.raises(InvalidParameterError):
        topk_error_curve([1.0, 2.0], [1.0, 2.0], ks=[0, 1])
    with pytest.raises(InvalidParameterError):
        topk_error_curve([1.0, 2.0], [1.0, 2.0], ks=[1.5])


def test_kept_weight_is_one_minus_the_tail_mass():
    rng = np.random.default_rng(7)
    scores, V = rng.standard_normal(50), rng.standard_normal((50, 3))
    for k in (1, 5, 50):
        r = topk_attention_error(scores, V, k, temperature=0.3)
        assert kept_weight(r.weights, r.kept) == pytest.approx(1.0 - r.tail_mass, abs=1e-12)
    assert kept_weight(r.weights, np.zeros(0, np.int64)) == 0.0
    for bad in ([0, 0], [50], [-1], [0.5]):
        with pytest.raises(InvalidParameterError, match="positions"):
            kept_weight(r.weights, bad)


def test_kept_mass_from_scores_and_lse_is_the_kept_weight():
    rng = np.random.default_rng(8)
    s = rng.standard_normal(30)
    t, scale = 0.2, 0.5
    z = s * scale / t
    lse = np.log(np.exp(z - z.max()).sum()) + z.max()
    top = topk_order(s)[:4]
    w = softmax(s * scale, temperature=t)
    assert float(kept_mass(s[top], lse, temperature=t, scale=scale)) == pytest.approx(kept_weight(w, top), rel=1e-12)
