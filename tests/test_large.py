"""Exact and top-k attention over many keys, against brute force (numpy, torch SDPA, topk.py)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrieval_attention as ra
from retrieval_attention.core.topk import topk_attention_error
from retrieval_attention.encoders.base import normalize_rows
from retrieval_attention.index import VectorIndex
from retrieval_attention.infra.threads import ThreadSettings, configure_threads, current_threads, recommended_threads
from retrieval_attention.large import exact_attention, kept_mass, topk_attention


def unit(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    return normalize_rows(rng.standard_normal((n, d)))


def clustered(rng: np.random.Generator, n: int, d: int, centres: int = 8) -> np.ndarray:
    """Unit keys around a few centres: a peaked softmax, as real-text keys give."""
    C = unit(rng, centres, d)
    return normalize_rows(C[rng.integers(0, centres, n)] + 0.3 * rng.standard_normal((n, d)) / np.sqrt(d))


def brute(q: np.ndarray, K: np.ndarray, V: np.ndarray, temperature: float, scale: float = 1.0):
    """softmax(q Kᵀ · scale / T) V in float64, the obvious way."""
    S = np.atleast_2d(q).astype(np.float64) @ K.T.astype(np.float64) * scale / temperature  # (m, n)
    W = np.exp(S - S.max(axis=1, keepdims=True))
    W /= W.sum(axis=1, keepdims=True)
    return W @ V.astype(np.float64), W, S


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 300),
    st.integers(1, 6),
    st.integers(2, 16),
    st.sampled_from([0.01, 0.05, 0.3, 1.0, 5.0]),
    st.integers(0, 2**31 - 1),
)
def test_exact_attention_equals_brute_force_in_both_paths(n, m, d, t, seed):
    rng = np.random.default_rng(seed)
    K, V, q = unit(rng, n, d), rng.standard_normal((n, 5)).astype(np.float32), unit(rng, m, d)
    ref, W, S = brute(q, K, V, t)
    for block in (1 << 24, 7):  # all scores at once, and keys 7 // m at a time (online softmax)
        out, lse = exact_attention(q, K, V, temperature=t, block=block)
        assert out.shape == (m, 5) and lse.shape == (m,) and out.dtype == np.float32
        np.testing.assert_allclose(out, ref, rtol=2e-4, atol=2e-5)
        np.testing.assert_allclose(np.exp(S - lse[:, None].astype(np.float64)), W, rtol=2e-4, atol=1e-7)


def test_exact_attention_single_query_shapes_and_scale():
    rng = np.random.default_rng(1)
    K, V = unit(rng, 50, 8), rng.standard_normal((50, 3)).astype(np.float32)
    out, lse = exact_attention(K[0], K, V, temperature=0.5, scale=1 / np.sqrt(8))
    assert out.shape == (3,) and np.ndim(lse) == 0
    ref, _, _ = brute(K[0], K, V, 0.5, 1 / np.sqrt(8))
    np.testing.assert_allclose(out, ref[0], rtol=1e-5, atol=1e-6)


def test_exact_attention_equals_torch_sdpa():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    K, V, q = unit(rng, 2000, 32), unit(rng, 2000, 16), unit(rng, 4, 32)
    t = 0.05
    out, _ = exact_attention(q, K, V, temperature=t)
    ref = torch.nn.functional.scaled_dot_product_attention(
        torch.from_numpy(q)[None], torch.from_numpy(K)[None], torch.from_numpy(V)[None], scale=1 / t
    )[0].numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_exact_attention_keeps_float32_and_checks_inputs():
    rng = np.random.default_rng(3)
    K, V = unit(rng, 20, 4), unit(rng, 20, 4)
    out, lse = exact_attention(K[:2].astype(np.float64), K, V)
    assert out.dtype == np.float32 and lse.dtype == np.float32
    with pytest.raises(ra.InvalidParameterError, match="temperature"):
        exact_attention(K[0], K, V, temperature=0)
    with pytest.raises(ra.InvalidParameterError, match="scale"):
        exact_attention(K[0], K, V, scale=-1.0)
    with pytest.raises(ra.InvalidParameterError, match="V has"):
        exact_attention(K[0], K, V[:5])
    with pytest.raises(ra.InvalidParameterError, match="queries must be"):
        exact_attention(np.ones(3), K, V)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 200), st.integers(1, 5), st.sampled_from([0.01, 0.05, 0.5, 2.0]), st.integers(0, 2**31 - 1))
def test_topk_with_k_equal_n_is_exact_attention(n, m, t, seed):
    rng = np.random.default_rng(seed)
    K, V, q = clustered(rng, n, 12), rng.standard_normal((n, 4)).astype(np.float32), unit(rng, m, 12)
    r = topk_attention(q, VectorIndex(K), V, k=n, temperature=t, K=K)
    out, _ = exact_attention(q, K, V, temperature=t)
    np.testing.assert_allclose(r.output, out, rtol=1e-4, atol=1e-5)
    assert (r.tail_mass == 0).all() and (r.output_error == 0).all() and (r.tail_bound == 0).all()
    np.testing.assert_allclose(r.weights.sum(axis=1), 1.0, rtol=1e-5)
    assert sorted(r.I[0].tolist()) == list(range(n))


def test_topk_with_k_equal_n_through_hnsw_and_ivf():
    rng = np.random.default_rng(4)
    n = 300
    K, V, q = clustered(rng, n, 16), unit(rng, n, 8), unit(rng, 3, 16)
    exact, _ = exact_attention(q, K, V, temperature=0.05)
    for kind in ("hnsw", "ivf"):
        params = ra.index.IndexParams(ivf_nprobe=10_000)  # IVF: visit every cell, so the search is exhaustive
        r = topk_attention(q, VectorIndex(K, kind, params), V, k=n, temperature=0.05, K=K)
        assert r.I.shape == (3, n) and not r.exact_search
        np.testing.assert_allclose(r.output, exact, rtol=1e-4, atol=1e-5)


def test_topk_matches_topk_py_and_brute_force_ranking():
    rng = np.random.default_rng(5)
    n, k, t = 500, 20, 0.05
    K, V, q = clustered(rng, n, 16), rng.standard_normal((n, 3)).astype(np.float32), unit(rng, 1, 16)
    r = topk_attention(q[0], VectorIndex(K), V, k=k, temperature=t, K=K, tail_samples=0)
    scores = K @ q[0]
    assert set(r.I[0].tolist()) == set(np.argsort(-scores)[:k].tolist())
    ref = topk_attention_error(scores.astype(np.float64), V, k=k, temperature=t)
    np.testing.assert_allclose(r.output[0], ref.output_topk, rtol=1e-4, atol=1e-5)
    _, lse = exact_attention(q, K, V, temperature=t)
    np.testing.assert_allclose(1 - kept_mass(r.D, lse, temperature=t), ref.tail_mass, atol=1e-5)
    assert np.isnan(r.tail_mass).all() and r.samples == 0  # no sample asked for: no estimate
    assert r.tail_bound[0] >= ref.tail_mass - 1e-9  # exact search: every dropped score <= the k-th


@pytest.mark.parametrize("t", [0.02, 0.05, 0.2])
def test_tail_estimate_is_close_to_the_truth(t):
    rng = np.random.default_rng(6)
    n, k = 20_000, 16
    K, V, q = clustered(rng, n, 24), unit(rng, n, 24), unit(rng, 8, 24)
    r = topk_attention(q, VectorIndex(K), V, k=k, temperature=t, K=K, tail_samples=8192)
    exact, lse = exact_attention(q, K, V, temperature=t)
    tau = 1 - kept_mass(r.D, lse, temperature=t)
    err = np.linalg.norm(exact - r.output, axis=1)
    np.testing.assert_allclose(r.tail_mass, tau, rtol=0.15, atol=0.01)
    np.testing.assert_allclose(r.output_error, err, rtol=0.25, atol=0.01)
    assert (r.tail_bound >= tau - 1e-9).all()


def test_near_tail_is_measured_exactly_at_low_temperature():
    """At T = 0.01 the dropped weight sits just below the k-th key: a uniform sample misses it,
    the exactly measured near tail does not."""
    rng = np.random.default_rng(9)
    n, k, t = 50_000, 8, 0.01
    K, V, q = clustered(rng, n, 24, centres=50), unit(rng, n, 24), unit(rng, 8, 24)
    index = VectorIndex(K)
    exact, lse = exact_attention(q, K, V, temperature=t)
    with_near = topk_attention(q, index, V, k=k, temperature=t, K=K, tail_samples=256)
    tau = 1 - kept_mass(with_near.D, lse, temperature=t)
    assert with_near.near == 128 - k and with_near.samples == 256
    np.testing.assert_allclose(with_near.tail_mass, tau, rtol=0.1, atol=0.01)
    uniform_only = topk_attention(q, index, V, k=k, temperature=t, K=K, tail_samples=256, near=0)
    assert np.median(np.abs(uniform_only.tail_mass - tau)) > 5 * np.median(np.abs(with_near.tail_mass - tau))
    err = np.linalg.norm(exact - with_near.output, axis=1)
    np.testing.assert_allclose(with_near.output_error, err, rtol=0.2, atol=0.01)
    assert (with_near.tail_bound >= tau - 1e-9).all()
    assert uniform_only.near == 0 and uniform_only.I.shape == (8, k)
    with pytest.raises(ra.InvalidParameterError, match="near"):
        topk_attention(q, index, V, k=k, near=-1)


def test_batch_equals_single_query():
    rng = np.random.default_rng(7)
    n = 3000
    K, V, Q = clustered(rng, n, 16), unit(rng, n, 8), unit(rng, 6, 16)
    out, lse = exact_attention(Q, K, V, temperature=0.05)
    blocked, lse_b = exact_attention(Q, K, V, temperature=0.05, block=4096)
    np.testing.assert_allclose(blocked, out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(lse_b, lse, rtol=1e-5)
    for kind in ("flat", "hnsw"):
        index = VectorIndex(K, kind)
        batch = topk_attention(Q, index, V, k=10, temperature=0.05, K=K)
        for i in range(len(Q)):
            o1, l1 = exact_attention(Q[i], K, V, temperature=0.05)
            np.testing.assert_allclose(o1, out[i], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(l1, lse[i], rtol=1e-5)
            one = topk_attention(Q[i], index, V, k=10, temperature=0.05, K=K)
            np.testing.assert_array_equal(one.I[0], batch.I[i])
            np.testing.assert_allclose(one.output[0], batch.output[i], rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(one.tail_mass[0], batch.tail_mass[i], rtol=1e-5)
            np.testing.assert_allclose(one.output_error[0], batch.output_error[i], rtol=1e-4, atol=1e-7)


def test_topk_checks_inputs():
    rng = np.random.default_rng(8)
    K = unit(rng, 10, 4)
    index = VectorIndex(K)
    with pytest.raises(ra.InvalidParameterError, match="V has"):
        topk_attention(K[0], index, K[:3], k=2)
    with pytest.raises(ra.InvalidParameterError, match="k must be"):
        topk_attention(K[0], index, K, k=0)
    r = topk_attention(K[0], index, K, k=99)  # capped at n
    assert r.I.shape == (1, 10)


def test_thread_settings_apply_and_report():
    assert recommended_threads("interactive", cpus=2) == ThreadSettings(torch=2, faiss=1, blas=1)
    assert recommended_threads("batch", cpus=4) == ThreadSettings(torch=4, faiss=4, blas=1)
    with pytest.raises(ValueError, match="workload"):
        recommended_threads("fast")  # type: ignore[arg-type]
    before = current_threads()
    try:
        now = configure_threads(ThreadSettings(torch=0, faiss=1, blas=1))
        assert now["faiss"] == 1 and now["blas"] in (1, -1)
    finally:
        configure_threads(ThreadSettings(torch=0, faiss=max(1, before["faiss"]), blas=max(1, before["blas"])))


def test_faiss_thread_setting_is_per_thread_as_documented():
    """threads.configure_threads says FAISS's count holds for the calling thread only: check it."""
    import threading

    from retrieval_attention.index import faiss_threads, set_faiss_threads

    before = faiss_threads()
    seen = {}
    try:
        set_faiss_threads(1)
        worker = threading.Thread(target=lambda: seen.setdefault("other", faiss_threads()))
        worker.start()
        worker.join()
        assert faiss_threads() == 1
        if (os.cpu_count() or 1) > 1 and not os.environ.get("OMP_NUM_THREADS"):
            assert seen["other"] > 1, "a new thread starts from FAISS's default, not from this thread's setting"
    finally:
        set_faiss_threads(before)


def test_zero_width_or_empty_keys_are_refused():
    with pytest.raises(ra.InvalidParameterError, match="non-empty"):
        exact_attention(np.ones(0), np.ones((3, 0)), np.ones((3, 2)))  # d = 0: nothing to compare
    with pytest.raises(ra.InvalidParameterError, match="non-empty"):
        exact_attention(np.ones(2), np.ones((0, 2)), np.ones((0, 2)))  # n = 0: nothing to attend to
