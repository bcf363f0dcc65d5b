"""Attention over many keys: exact softmax attention at memory speed, and top-k attention via an index.

Both take queries q (m, d) (or one query (d,)), keys K (n, d) and values V (n, dv), float32, and
compute ``o = softmax(q·Kᵀ · scale / T) V`` — exactly, or over the k best keys only.

Exact attention (:func:`exact_attention`) reads K once for the scores and V once for the output:
at n = 1M and d = 384 that is 3 GB of memory traffic a call whatever m is, so its cost is set by
memory bandwidth, and a batch of queries shares it. Nothing of size n × n exists; when m × n
scores would not fit in ``block`` floats, keys are taken ``block // m`` at a time with an online
softmax (running maximum and rescaled sums, as in FlashAttention), still one pass over K and V.
Instead of the (m, n) weights it returns the log-partition ``lse = log Σ_j exp(z_j)``, from which
the weight of any key is ``exp(z_i − lse)`` (z = q·k · scale / T).

Top-k attention (:func:`topk_attention`) asks a :class:`~retrieval_attention.index.VectorIndex`
for the k best keys and takes the softmax over those k only: work in k, not n. What it drops is
the tail mass τ = Σ_{i∉S} w_i (see :mod:`retrieval_attention.core.topk`), and the output error is
o_full − o_topk = τ (m_drop − m_keep). Neither can be known without reading every key, so they
are *estimated*. The index returns k + r keys: the first k are kept, the next r (the near
tail, where nearly all the dropped weight sits at low temperature) are measured exactly, and a
uniform sample of s keys stands for the n − k − r keys never searched (the far tail):

    Z_top  = Σ_{i ≤ k} e^{z_i}                               exact, from the k kept scores
    Z_near = Σ_{k < i ≤ k+r} e^{z_i}                          exact, from the next r scores
    Ẑ_far  = (n − k − r) · mean_{j∈sample, unseen} e^{z_j}     unbiased for the far tail
    τ̂      = (Z_near + Ẑ_far) / (Z_top + Z_near + Ẑ_far)
    m̂_drop = (Σ_near e^{z_i} v_i + Ŝ_far) / (Z_near + Ẑ_far)   Ŝ_far likewise from the sample
    error  ≈ τ̂ ‖m̂_drop − o_topk‖₂

and bounded from above, for an exact (flat) search, by giving every unseen key the last seen
score: τ ≤ (Z_near + u e^{z_{k+r}}) / (Z_top + Z_near + u e^{z_{k+r}}), u = n − k − r. With k = n
nothing is dropped: τ = 0 exactly and the output equals exact attention. Gathering the s random rows of K and V is most of the
estimate's cost, so draw the sample once per key set (:func:`sample_tail`) and pass it to every call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.topk import kept_mass
from retrieval_attention.core.validate import check_k, effective_factor
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.index import VectorIndex

__all__ = ["TailSample", "TopKAttention", "exact_attention", "kept_mass", "sample_tail", "topk_attention"]

#: Fewest keys top-k attention searches by default (k kept, the rest measure the near tail).
NEAR_MIN = 128
#: Largest block of scores (floats) exact attention materialises: 16M floats = 64 MB.
BLOCK_FLOATS = 1 << 24


def _matrix(x: ArrayLike, name: str) -> NDArray[np.float32]:
    """x as a C-contiguous float32 (n, d) array; no copy if it already is one."""
    a = np.asarray(x)
    if a.ndim != 2 or 0 in a.shape:
        raise InvalidParameterError(f"{name} must be a non-empty (n, d) array, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float32)


def _queries(q: ArrayLike, d: int) -> tuple[NDArray[np.float32], bool]:
    """(q as (m, d) float32, whether a single (d,) query was given)."""
    a = np.asarray(q)
    single = a.ndim == 1
    a = np.ascontiguousarray(np.atleast_2d(a), dtype=np.float32)  # (m, d)
    if a.ndim != 2 or a.shape[1] != d:
        raise InvalidParameterError(f"queries must be (m, {d}) or ({d},), got shape {np.shape(q)}")
    return a, single


def exact_attention(
    q: ArrayLike,
    K: ArrayLike,
    V: ArrayLike,
    temperature: float = 1.0,
    scale: float = 1.0,
    block: int = BLOCK_FLOATS,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Full softmax attention ``softmax(q·Kᵀ · scale / T) V`` in one pass over K and one over V.

    Float32 throughout (no float64 copies of K or V), BLAS for both products, nothing of size
    n × n. Many queries in one call read K and V once between them.

    Args:
        q: queries (m, d) or one query (d,).
        K: keys (n, d), float32 C-contiguous to avoid a copy.
        V: values (n, dv), likewise.
        temperature: T > 0 dividing the scaled scores.
        scale: multiplier of q·k (1 for cosine scores, 1/sqrt(d) as in transformers).
        block: most scores held at once, in floats; more than m × n switches to blocks of keys
            with an online softmax (same result up to float rounding).

    Returns:
        (output, lse): output (m, dv) and lse (m,), the log-partition log Σ_j exp(q·k_j ·
        scale / T); shapes (dv,) and () for a single query. The weight of key i is
        ``exp(q·k_i · scale / T − lse)``.

    Raises:
        InvalidParameterError: bad temperature or scale (scale / T must fit float32 for unit
            vectors, see :func:`~retrieval_attention.core.validate.effective_factor`), scores that
            overflow float32 once multiplied by scale / T, or shapes that do not fit. NaN in the
            inputs propagates to that query's output, as in torch.

    Example:
        >>> K = np.eye(2, dtype=np.float32); V = np.array([[10.0], [20.0]], dtype=np.float32)
        >>> out, lse = exact_attention(np.array([1.0, 0.0]), K, V, temperature=0.5)
        >>> out.round(2), round(float(np.exp(2.0 - lse)), 3)
        (array([11.19], dtype=float32), 0.881)
    """
    K, V = _matrix(K, "K"), _matrix(V, "V")
    if K.shape[0] != V.shape[0]:
        raise InvalidParameterError(f"K has n={K.shape[0]} keys but V has {V.shape[0]} rows")
    qs, single = _queries(q, K.shape[1])
    c = np.float32(effective_factor(scale, temperature, d=K.shape[1]))  # checked for |q·k| <= 1
    m, n = qs.shape[0], K.shape[0]
    if m * n <= block:
        out, lse = _attend_all(qs, K, V, c)
    else:
        out, lse = _attend_blocks(qs, K, V, c, max(1, block // m))
    return (out[0], lse[0]) if single else (out, lse)


def _check_top_logits(mx: NDArray[np.float32], c: np.float32) -> None:
    """Refuse a largest logit of ±inf: q·k · c overflowed float32 (a NaN input gives NaN, which propagates)."""
    bad = int(np.isinf(mx).sum())
    if bad:
        raise InvalidParameterError(
            f"q·k · scale / T is infinite in float32 for {bad} of {mx.size} queries (scale / T = {float(c):.3g}): "
            "use a larger temperature or a smaller scale, or check q and K for huge or infinite numbers"
        )


def _attend_all(
    q: NDArray[np.float32], K: NDArray[np.float32], V: NDArray[np.float32], c: np.float32
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """All m × n scores at once: one BLAS pass over K, one over V."""
    S = (K @ q[0])[None, :] if q.shape[0] == 1 else q @ K.T  # (m, n); one query: gemv, not gemm
    with np.errstate(over="ignore"):  # an overflow is refused just below
        S *= c
    mx = S.max(axis=1, keepdims=True)  # (m, 1)
    _check_top_logits(mx, c)
    S -= mx
    np.exp(S, out=S)  # S is now the unnormalised weights e^(z - max)
    Z = S.sum(axis=1, keepdims=True)  # (m, 1)
    out = (V.T @ S[0])[None, :] if q.shape[0] == 1 else S @ V  # (m, dv)
    out /= Z
    return out, (mx + np.log(Z))[:, 0]


def _attend_blocks(
    q: NDArray[np.float32], K: NDArray[np.float32], V: NDArray[np.float32], c: np.float32, b: int
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Keys b at a time with an online softmax: running max mx, sum Z and output acc, rescaled."""
    m, n = q.shape[0], K.shape[0]
    acc = np.zeros((m, V.shape[1]), dtype=np.float32)  # (m, dv) Σ e^(z - mx) v so far
    Z = np.zeros((m, 1), dtype=np.float32)  # (m, 1) Σ e^(z - mx) so far
    mx = np.full((m, 1), -np.inf, dtype=np.float32)  # (m, 1) largest z so far
    for a in range(0, n, b):
        S = q @ K[a : a + b].T  # (m, b)
        with np.errstate(over="ignore"):  # an overflow is refused just below
            S *= c
        top = S.max(axis=1, keepdims=True)  # (m, 1)
        _check_top_logits(np.maximum(top, 0), c)  # +inf in this block (a block may be all -inf)
        new = np.maximum(mx, top)  # (m, 1)
        alpha = np.exp(mx - new)  # (m, 1) rescales what came before; exp(-inf) = 0 on the first block
        S -= new
        np.exp(S, out=S)
        acc *= alpha
        acc += S @ V[a : a + b]
        Z *= alpha
        Z += S.sum(axis=1, keepdims=True)
        mx = new
    _check_top_logits(mx, c)  # -inf: every score of a query overflowed downwards
    return acc / Z, (mx + np.log(Z))[:, 0]


@dataclass(frozen=True, eq=False)
class TailSample:
    """A uniform sample of keys and their values, drawn once and reused for every tail estimate."""

    ids: NDArray[np.int64]  # (s,) sampled key positions (with replacement)
    K: NDArray[np.float32]  # (s, d) their keys
    V: NDArray[np.float32]  # (s, dv) their values
    n: int  # number of keys sampled from


def sample_tail(K: ArrayLike, V: ArrayLike, samples: int = 1024, seed: int = 0) -> TailSample:
    """Draw s keys uniformly (with replacement) for :func:`topk_attention`'s tail estimate.

    Gathering s random rows of K and V is most of the estimate's cost; draw the sample once per
    key set and pass it to every call.

    Args:
        K: keys (n, d).
        V: values (n, dv).
        samples: s >= 1.
        seed: seed of the draw.

    Example:
        >>> K = np.eye(4, dtype=np.float32)
        >>> sample_tail(K, K, samples=3).K.shape
        (3, 4)
    """
    K, V = _matrix(K, "K"), _matrix(V, "V")
    if K.shape[0] != V.shape[0]:
        raise InvalidParameterError(f"K has n={K.shape[0]} keys but V has {V.shape[0]} rows")
    s = check_k(samples)
    j = np.random.default_rng(seed).integers(0, K.shape[0], size=s)  # (s,)
    return TailSample(ids=j, K=K[j], V=V[j], n=K.shape[0])


@dataclass(frozen=True, eq=False)
class TopKAttention:
    """Top-k attention for m queries: the result and what the dropped tail is estimated to cost."""

    output: NDArray[np.float32]  # (m, dv) Σ_{i∈S} w'_i v_i, softmax over the kept keys only
    D: NDArray[np.float32]  # (m, k) scores q·k of the kept keys, best first
    I: NDArray[np.int64]  # (m, k) their key positions
    weights: NDArray[np.float32]  # (m, k) softmax over the k kept scores; rows sum to 1
    tail_mass: NDArray[np.float64]  # (m,) τ̂: estimated full-softmax weight of the dropped keys (0 if k = n)
    tail_bound: NDArray[
        np.float64
    ]  # (m,) upper bound on τ if the search was exact (every unseen score <= the last seen)
    output_error: NDArray[np.float64]  # (m,) estimated ‖o_full − o_topk‖₂ = τ̂ ‖m̂_drop − o_topk‖₂
    near: int  # dropped keys whose weights were measured exactly (searched with the k kept)
    samples: int  # keys sampled for the far tail (0 with no sample: tail_mass and output_error are NaN)
    exact_search: bool  # True when I came from an exact (flat) index


def topk_attention(
    q: ArrayLike,
    index: VectorIndex,
    V: ArrayLike,
    k: int,
    temperature: float = 1.0,
    scale: float = 1.0,
    K: ArrayLike | None = None,
    tail_samples: int = 1024,
    seed: int = 0,
    sample: TailSample | None = None,
    near: int | None = None,
) -> TopKAttention:
    """Attention over the k best keys found by ``index``, with an estimate of what the rest held.

    The index is asked for k + ``near`` keys. The output uses the first k only; the next ``near``
    measure the near tail exactly (at low temperature almost all the dropped weight sits just
    below the k-th key, where a uniform sample would miss it), and a uniform sample of the keys
    estimates the far tail (the module docstring has the formulas).

    Cost: one index search (a batch of queries in one call), O(m·(k + near)·dv) to gather values,
    and O(m·s·(d + dv)) for the far tail from s sampled keys.

    Args:
        q: queries (m, d) or one query (d,).
        index: a :class:`VectorIndex` over the keys K (flat, HNSW or IVF).
        V: values (n, dv), row i belonging to key i.
        k: keys kept per query, >= 1 (capped at n).
        temperature: T > 0 dividing the scaled scores.
        scale: multiplier of q·k before dividing by T.
        K: the keys (n, d), needed only for the far-tail sample (when no ``sample`` is given).
        tail_samples: s, keys drawn uniformly (with replacement) for the far tail; 0 skips.
        seed: seed of the sample, so repeated calls give the same estimate.
        sample: a :func:`sample_tail` drawn beforehand (then K, tail_samples and seed are
            unused): the fast way to call this many times over the same keys.
        near: dropped keys measured exactly; None means max(3·k, 128 − k), so at least 128 and
            4·k keys are searched (an HNSW search costs about the same for any k up to efSearch).
            0 leaves the whole tail to the sample.

    Returns:
        A :class:`TopKAttention` (single query: still m = 1 rows).

    Raises:
        InvalidParameterError: bad k, near, temperature, scale (scale / T times the largest score
            found must fit float32) or shapes.

    Example:
        >>> K = np.eye(3, dtype=np.float32); V = np.array([[1.0], [2.0], [3.0]], dtype=np.float32)
        >>> r = topk_attention(K[0], VectorIndex(K), V, k=3, temperature=1.0, K=K)
        >>> round(float(r.output[0, 0]), 3), float(r.tail_mass[0])
        (1.636, 0.0)
        >>> bool(np.allclose(r.output[0], exact_attention(K[0], K, V)[0]))
        True
        >>> r = topk_attention(K[0], VectorIndex(K), V, k=1, temperature=1.0)  # the other 2 keys measured exactly
        >>> round(float(r.tail_mass[0]), 3), float(r.output[0, 0])
        (0.424, 1.0)
    """
    V = _matrix(V, "V")
    n = len(index)
    if V.shape[0] != n:
        raise InvalidParameterError(f"the index holds n={n} keys but V has {V.shape[0]} rows")
    k = min(check_k(k), n)
    extra = max(3 * k, NEAR_MIN - k) if near is None else int(near)
    if extra < 0:
        raise InvalidParameterError(f"near must be >= 0, got {near!r}")
    qs, _ = _queries(q, index.d)
    D_all, I_all = index.search(qs, min(n, k + extra))  # (m, k + near) best first
    c = effective_factor(scale, temperature, d=index.d, scores=D_all)  # c · max|q·k| fits float32
    k = min(k, I_all.shape[1])
    z = D_all * np.float32(c)  # (m, k + near)
    e = np.exp(z - z[:, :1])  # (m, k + near) e^(z - max): the best kept score is the stable shift
    Z_top = e[:, :k].sum(axis=1, dtype=np.float64)  # (m,)
    w = e[:, :k] / Z_top[:, None].astype(np.float32)  # (m, k)
    D, I = D_all[:, :k], I_all[:, :k]
    out = (w[:, None, :] @ V[I])[:, 0, :]  # (m, dv): gathers m·k rows of V

    seen = I_all.shape[1]
    e_near = e[:, k:].astype(np.float64)  # (m, near) exact weights (unnormalised) of the near tail
    Z_near = e_near.sum(axis=1)  # (m,)
    S_near = (e_near[:, None, :] @ V[I_all[:, k:]])[:, 0, :]  # (m, dv) Σ_near e v
    unseen = n - seen
    last = e[:, -1].astype(np.float64)  # (m,) e^(z_last - max): every unseen score is <= this (exact search)
    Z_bound = Z_near + unseen * last
    bound = Z_bound / (Z_top + Z_bound)
    if sample is None and K is not None and tail_samples > 0 and unseen > 0:
        sample = sample_tail(K, V, tail_samples, seed)
    if sample is not None and sample.n != n:
        raise InvalidParameterError(f"the tail sample was drawn from {sample.n} keys, the index holds {n}")
    if unseen == 0:  # every key was searched: the tail is measured, not estimated
        Z_far, S_far, s = np.zeros_like(Z_near), np.zeros_like(S_near), 0
    elif sample is None:
        Z_far = S_far = np.full_like(Z_near, np.nan)
        s = 0
    else:
        Z_far, S_far = _far_tail(qs, sample, I_all, z[:, :1], c)
        s = len(sample.ids)
    Z_tail = Z_near + Z_far  # (m,)
    tau = Z_tail / (Z_top + Z_tail)  # Z_top >= 1 (the best kept key contributes e^0); NaN without a sample
    m_drop = (S_near + S_far) / np.where(Z_tail > 0, Z_tail, 1.0)[:, None]  # (m, dv)
    err = tau * np.linalg.norm(m_drop - out, axis=1)
    return TopKAttention(
        output=out.astype(np.float32, copy=False),
        D=D,
        I=I,
        weights=w.astype(np.float32, copy=False),
        tail_mass=tau,
        tail_bound=bound,
        output_error=err,
        near=seen - k,
        samples=s,
        exact_search=index.exact,
    )


def _far_tail(
    q: NDArray[np.float32], sample: TailSample, I_seen: NDArray[np.int64], top: NDArray[np.float32], c: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Estimates of Σ e^(z - max) and Σ e^(z - max) v over the keys not searched, from the sample.

    Returns (m,) and (m, dv), each (n − seen) times the mean over the sampled keys that were not seen.
    """
    n, j, s = sample.n, sample.ids, len(sample.ids)
    m, seen = I_seen.shape
    zs = q @ sample.K.T  # (m, s), one sample shared by every query
    zs *= np.float32(c)
    # which sampled keys each row has seen: rows live in disjoint ranges r·n + id, one searchsorted
    rows = np.arange(m, dtype=np.int64)[:, None] * n  # (m, 1)
    got = np.sort(I_seen + rows, axis=None)  # (m·seen,)
    probe = (j[None, :] + rows).ravel()  # (m·s,)
    pos = np.minimum(np.searchsorted(got, probe), got.size - 1)
    outside = (got[pos] != probe).reshape(m, s)  # (m, s) True for sampled keys not searched
    zs -= top
    es = np.exp(zs, out=zs)  # (m, s) e^(z - max)
    es *= outside
    per = (n - seen) / np.maximum(outside.sum(axis=1), 1)  # (m,) keys each unseen sample stands for
    Z_far = es.sum(axis=1, dtype=np.float64) * per  # (m,)
    S_far = (es @ sample.V).astype(np.float64) * per[:, None]  # (m, dv)
    return Z_far, S_far
