"""Numbers that pass a plain "> 0" check but break float32 (issue 18, item 1).

A temperature so small, or a scale so large, that ``q·k · scale / T`` overflows float32 or T
underflows there gave NaN weights and an arbitrary "top" result. Every entry point now checks the
effective factor c = scale / T (:func:`retrieval_attention.core.validate.effective_factor`), and
refuses a NaN, infinite, zero or negative scale. Just inside the limits the answer is finite and
right (the hard top-1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.core.attention import softmax_breakdown, temperature_sweep
from retrieval_attention.core.topk import kept_mass, topk_attention_error
from retrieval_attention.core.validate import effective_factor
from retrieval_attention.index import VectorIndex
from retrieval_attention.large import exact_attention, topk_attention
from retrieval_attention.recommender import cross_attention_matrix, history_attention, recommend, target_attention

F32 = np.finfo(np.float32)
BAD_SCALES = [float("nan"), float("inf"), -float("inf"), 0, 0.0, -1.0, True, "cube"]
UNDERFLOWS = 1e-46  # a positive float64 that is 0 in float32
OVERFLOWS = 1e39  # a finite float64 that is infinity in float32
EDGE = 2e-38  # a temperature just above float32's smallest normal number (1.18e-38)


# -- the rule ----------------------------------------------------------------------------------------


def test_the_factor_must_fit_float32():
    assert effective_factor(1.0, EDGE) == 1 / EDGE  # the smallest T float32 carries well
    with pytest.raises(ra.InvalidParameterError, match="underflows in float32"):
        effective_factor(1.0, 1e-38)  # below float32's smallest normal number
    with pytest.raises(ra.InvalidParameterError, match="underflows in float32"):
        effective_factor(1.0, UNDERFLOWS)
    with pytest.raises(ra.InvalidParameterError, match="too large for float32"):
        effective_factor(10.0, EDGE)  # a fine T, but scale / T is past half the largest float32
    with pytest.raises(ra.InvalidParameterError, match="too large for float32"):
        effective_factor(OVERFLOWS, 1.0)
    with pytest.raises(ra.InvalidParameterError, match="too large for float32: times scores up to 100"):
        effective_factor(1.0, 1e-37, max_abs_score=100.0)  # fine for cosines, not for scores of 100
    with pytest.raises(ra.InvalidParameterError, match="underflows"):
        effective_factor(1e-30, 1e30)  # c = 1e-60: every weight exactly uniform, as scale 0
    assert effective_factor(1.0, 1e-300, dtype=np.float64) == pytest.approx(1e300)  # float64 carries more
    for bad in BAD_SCALES:
        with pytest.raises(ra.InvalidParameterError, match="scale"):
            effective_factor(bad, 1.0)


# -- the store: soft attention, top-k, retrieve --------------------------------------------------


@pytest.mark.parametrize(
    ("temperature", "scale"), [(UNDERFLOWS, "none"), (1e-39, "none"), (1e-30, OVERFLOWS), (1.0, 1e39)]
)
def test_store_refuses_a_factor_float32_cannot_carry(tiny_store, temperature, scale):
    for call in (tiny_store.soft_attention, tiny_store.topk_search, tiny_store.retrieve):
        with pytest.raises(ra.InvalidParameterError, match="float32"):
            call("funny cats", temperature=temperature, scale=scale)
    scores = tiny_store.K @ tiny_store.embed_query("funny cats")
    with pytest.raises(ra.InvalidParameterError, match="float32"):
        tiny_store.soft_attention_from_scores("funny cats", scores, temperature, scale)


@pytest.mark.parametrize("scale", BAD_SCALES)
def test_store_refuses_nan_infinite_zero_or_negative_scale(tiny_store, scale):
    for call in (tiny_store.soft_attention, tiny_store.topk_search, tiny_store.retrieve):
        with pytest.raises(ra.InvalidParameterError, match="scale must be"):
            call("funny cats", scale=scale)


def test_store_at_the_edge_is_the_hard_top1(tiny_store):
    out = tiny_store.retrieve("funny cats compilation", k=3, temperature=EDGE)
    for mode in ("topk", "soft"):
        w = out[mode].weights
        assert np.isfinite(w).all() and math.isclose(float(w.sum()), 1.0, rel_tol=1e-6)
        assert w[out[mode].positions[0]] == 1.0 and out[mode].ids[0] == "a1"
        assert np.isfinite(out[mode].output).all()


# -- the numpy core ------------------------------------------------------------------------------


def test_softmax_refuses_a_temperature_that_is_zero_in_its_float_type():
    s32 = np.array([1.0, 2.0], np.float32)
    with pytest.raises(ra.InvalidParameterError, match="underflows in float32"):
        ra.softmax(s32, temperature=UNDERFLOWS)
    with pytest.raises(ra.InvalidParameterError, match="overflows float32"):
        ra.softmax(s32, temperature=OVERFLOWS)
    np.testing.assert_array_equal(ra.softmax(s32.astype(np.float64), temperature=UNDERFLOWS), [0.0, 1.0])


def test_sdpa_checks_the_factor_against_its_scores():
    rng = np.random.default_rng(0)
    q, K, V = (rng.standard_normal(s).astype(np.float32) for s in ((2, 4), (5, 4), (5, 3)))
    with pytest.raises(ra.InvalidParameterError, match="too large for float32"):
        ra.scaled_dot_product_attention(q, K, V, scale=1e30, temperature=1e-10)
    with pytest.raises(ra.InvalidParameterError, match="underflows in float32"):
        ra.scaled_dot_product_attention(q, K, V, temperature=UNDERFLOWS)
    for bad in BAD_SCALES:
        with pytest.raises(ra.InvalidParameterError, match="scale"):
            ra.scaled_dot_product_attention(q, K, V, scale=bad)
    out, w = ra.scaled_dot_product_attention(q, K, V, scale=1.0, temperature=1e-30)  # large, still fits
    assert np.isfinite(w).all() and np.isfinite(out).all()
    np.testing.assert_array_equal(w.argmax(axis=1), (q @ K.T).argmax(axis=1))
    np.testing.assert_array_equal(w.max(axis=1), 1.0)


def test_temperature_sweep_and_breakdown_stay_finite_or_refuse():
    w = temperature_sweep(np.array([0.0, 100.0], np.float32), [1e-37, 1.0])
    np.testing.assert_array_equal(w[0], [0.0, 1.0])  # 100 / 1e-37 is past float32: shifted first
    with pytest.raises(ra.InvalidParameterError, match="underflows in float32"):
        temperature_sweep(np.array([0.0, 1.0], np.float32), [UNDERFLOWS])
    with pytest.raises(ra.InvalidParameterError, match="too large for float64"):
        softmax_breakdown([1.0, 0.0], [0], scale=1e300, temperature=1e-300)
    for bad in BAD_SCALES:
        with pytest.raises(ra.InvalidParameterError, match="scale"):
            softmax_breakdown([1.0, 0.0], [0], scale=bad)


def test_topk_maths_and_kept_mass():
    with pytest.raises(ra.InvalidParameterError, match="temperature"):
        topk_attention_error([1.0, 0.0], [1.0, 2.0], 1, temperature=1e-320)  # a subnormal float64
    with pytest.raises(ra.InvalidParameterError, match="too large for float64"):
        kept_mass([1.0], 0.0, temperature=1e-300, scale=1e300)


# -- attention over many keys --------------------------------------------------------------------


def test_exact_attention_refuses_what_overflows():
    K = np.eye(3, dtype=np.float32)
    V = np.arange(6, dtype=np.float32).reshape(3, 2)
    with pytest.raises(ra.InvalidParameterError, match="underflows in float32"):
        exact_attention(K[0], K, V, temperature=UNDERFLOWS)
    with pytest.raises(ra.InvalidParameterError, match="too large for float32"):
        exact_attention(K[0], K, V, scale=OVERFLOWS)
    big = 4 * K  # scores of 16: c = 5e37 fits for cosines, 16 · c does not
    for block in (1 << 24, 2):  # all at once, and in blocks with the online softmax
        with pytest.raises(ra.InvalidParameterError, match="infinite in float32"):
            exact_attention(big[0], big, V, temperature=EDGE, block=block)
    out, lse = exact_attention(K[0], K, V, temperature=EDGE)  # unit vectors at the edge: the hard top-1
    np.testing.assert_array_equal(out, V[0])
    assert np.isfinite(lse)


def test_topk_attention_checks_the_factor_against_the_scores_found():
    K = 4 * np.eye(3, dtype=np.float32)
    V = np.arange(3, dtype=np.float32)[:, None]
    with pytest.raises(ra.InvalidParameterError, match="too large for float32: times scores up to 16"):
        topk_attention(K[0], VectorIndex(K), V, k=1, temperature=EDGE)
    for bad in BAD_SCALES:
        with pytest.raises(ra.InvalidParameterError, match="scale"):
            topk_attention(K[0], VectorIndex(K), V, k=1, scale=bad)
    r = topk_attention(K[0], VectorIndex(K), V, k=1, temperature=1e-36)
    assert np.isfinite(r.output).all() and float(r.tail_mass[0]) == 0.0


# -- the recommender -------------------------------------------------------------------------------


def test_history_attention_refuses_a_temperature_whose_logits_overflow():
    q, K, V = np.array([[1.0, 0.0]]), np.eye(2), np.array([[10.0], [20.0]])
    with pytest.raises(ra.InvalidParameterError, match="temperature"):
        history_attention(q, K, V, temperature=1e-320)  # subnormal float64: S / T would be inf
    with pytest.raises(ra.InvalidParameterError, match="too large for float64"):
        history_attention(1e10 * q, K, V, temperature=1e-300)
    _, w = history_attention(q, K, V, temperature=1e-300)
    np.testing.assert_array_equal(w, [[1.0, 0.0]])


def test_store_level_recommender_uses_the_stores_float32_rule(tiny_store):
    history = ["a1", "a3"]
    for call in (
        lambda T: target_attention(tiny_store, history, "a2", temperature=T),
        lambda T: cross_attention_matrix(tiny_store, history, temperature=T),
        lambda T: recommend(tiny_store, history, temperature=T),
    ):
        with pytest.raises(ra.InvalidParameterError, match="float32"):
            call(1e-39)
        call(EDGE)  # just inside: answers


def test_smoothing_refuses_a_bandwidth_whose_square_leaves_float64():
    from retrieval_attention.core.smoothing import content_attention, gaussian_smoothing_attention, nadaraya_watson

    for bad in (1e-200, 1e200):
        with pytest.raises(ra.InvalidParameterError, match="bandwidth"):
            gaussian_smoothing_attention([0.0, 1.0], [1.0, 2.0], bad)
        with pytest.raises(ra.InvalidParameterError, match="bandwidth"):
            nadaraya_watson([0.0, 1.0], [1.0, 2.0], bad)
        with pytest.raises(ra.InvalidParameterError, match="bandwidth"):
            content_attention([0.0, 1.0], window=1, bandwidth=bad)
    _, w = gaussian_smoothing_attention([0.0, 1.0], [1.0, 2.0], 1e-100)  # tiny but fine: no smoothing at all
    np.testing.assert_array_equal(w, np.eye(2))
