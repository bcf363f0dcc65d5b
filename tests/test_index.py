"""The FAISS index against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import retrieval_attention as ra
from retrieval_attention.encoders.base import normalize_rows


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.integers(2, 24), st.integers(1, 80), st.integers(0, 2**31 - 1))
def test_faiss_topk_equals_numpy_argsort(n, d, k, seed):
    rng = np.random.default_rng(seed)
    K = normalize_rows(rng.standard_normal((n, d)))
    q = normalize_rows(rng.standard_normal((3, d)))
    D, I = ra.VectorIndex(K).search(q, k)
    kk = min(k, n)
    assert D.shape == I.shape == (3, kk)
    assert (I >= 0).all()
    S = q @ K.T
    ref = np.sort(S, axis=1)[:, ::-1][:, :kk]
    np.testing.assert_allclose(D, ref, atol=1e-5)
    # the ids point at those scores (ties may be ordered differently)
    np.testing.assert_allclose(np.take_along_axis(S, I, axis=1), D, atol=1e-5)


def test_k_is_capped_and_validated():
    K = np.eye(3, dtype=np.float32)
    idx = ra.VectorIndex(K)
    _, I = idx.search(K[0], 100)
    assert I.shape == (1, 3) and (I >= 0).all()
    for bad in (0, -1, 1.5, "3"):
        with pytest.raises(ra.InvalidParameterError, match="k must be"):
            idx.search(K[0], bad)
    with pytest.raises(ra.InvalidParameterError, match="d=2"):
        idx.search(np.ones(2), 1)
