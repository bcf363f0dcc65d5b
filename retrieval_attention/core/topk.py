"""Top-k retrieval as efficient attention: what keeping only the k best keys costs.

Full attention reads every key with weights w = softmax(scores / T) (n,), Σ w = 1. Top-k attention
keeps the set S of the k highest-scoring keys and renormalises over S:

    τ = Σ_{i∉S} w_i                      the tail mass top-k drops
    w'_i = w_i / (1 - τ) on S, 0 elsewhere

Two exact identities (checked live by :func:`topk_attention_error` and in the tests):

1. Total variation:  TV(w, w') = ½ ‖w - w'‖₁ = τ.
   On S every weight grows by the factor 1/(1 - τ), adding Σ_S w_i·τ/(1 - τ) = τ in total;
   off S the weights τ are removed. Half the sum of both changes is τ.
2. Output error:  o_full - o_topk = τ · (m_drop - m_keep), with the weight-averaged values
   m_keep = Σ_{i∈S} w_i v_i / (1 - τ) (= o_topk) and m_drop = Σ_{i∉S} w_i v_i / τ.
   Because o_full = (1 - τ) m_keep + τ m_drop. It is an identity of vectors, so
   ‖o_full - o_topk‖ = τ ‖m_drop - m_keep‖ in *any* norm, and ≤ 2τ max_i ‖v_i‖.

As k grows, τ can only shrink (fewer keys dropped). The output error need not: adding a key can
move o_topk away from o_full if that key's value lies on the far side from what is still dropped.
See :func:`topk_error_curve` for a three-key example.

Ordering rule: keys are ranked by ``np.argsort(-scores, kind="stable")``, so higher scores come
first and equal scores keep index order (the lower index is kept first); masked keys (score -inf)
come last. With a tie at the k-th place τ does not depend on which tied key is kept (their weights
are equal), but o_topk does.

This module is the one home of top-k's maths: the order (:func:`topk_order`), the weight a
retrieval keeps (:func:`kept_weight`, and :func:`kept_mass` from scores and a log-partition), the
identities and the curve. :mod:`retrieval_attention.large` runs top-k attention over an index and
:meth:`KeyValueStore.topk_search` the retrieval; both use these for the maths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.attention import softmax
from retrieval_attention.core.validate import check_k, effective_factor
from retrieval_attention.errors import InvalidParameterError

__all__ = [
    "TopKCurve",
    "TopKError",
    "kept_mass",
    "kept_weight",
    "topk_attention_error",
    "topk_error_curve",
    "topk_order",
]

_CHUNK_FLOATS = 1_000_000  # largest (ks x dv) block the curve builds at once


@dataclass(frozen=True, eq=False)
class TopKError:
    """Full vs top-k attention for one query and one k, with both sides of both identities.

    Values V of shape (n, dv) give vectors of shape (dv,) below; V of shape (n,) gives scalars
    as 0-d arrays.
    """

    k: int  # number of keys kept
    kept: NDArray[np.int64]  # (k,) indices of the kept keys, best first
    weights: NDArray[np.float64]  # (n,) full softmax weights w
    topk_weights: NDArray[np.float64]  # (n,) softmax over the kept keys (= w / (1 - τ) there), 0 elsewhere
    tail_mass: float  # τ = Σ of w over the dropped keys
    tv_distance: float  # ½ ‖w - w'‖₁, computed directly from the two weight vectors
    output_full: NDArray[np.float64]  # (dv,) o_full = Σ w_i v_i
    output_topk: NDArray[np.float64]  # (dv,) o_topk = Σ w'_i v_i
    output_error: float  # ‖o_full - o_topk‖₂
    m_keep: NDArray[np.float64]  # (dv,) Σ_{kept} w_i v_i / (1 - τ)
    m_drop: NDArray[np.float64]  # (dv,) Σ_{dropped} w_i v_i / τ; NaN when τ = 0 (nothing to average)
    identity_lhs: NDArray[np.float64]  # (dv,) o_full - o_topk
    identity_rhs: NDArray[np.float64]  # (dv,) τ (m_drop - m_keep); zeros when τ = 0
    error_bound: float  # 2 τ max_i ‖v_i‖₂, a bound that needs no m_drop

    @property
    def gap_norm(self) -> float:
        """‖m_drop - m_keep‖₂ (NaN when τ = 0): the error per unit of dropped mass."""
        return float(np.linalg.norm(self.m_drop - self.m_keep))


@dataclass(frozen=True, eq=False)
class TopKCurve:
    """Tail mass and output error of top-k attention for several k (one query)."""

    ks: NDArray[np.int64]  # (K,) the k values
    tail_mass: NDArray[np.float64]  # (K,) τ(k), non-increasing in k
    tv_distance: NDArray[np.float64]  # (K,) ½ ‖w - w'‖₁, equal to τ(k)
    output_error: NDArray[np.float64]  # (K,) ‖o_full - o_topk‖₂, NOT monotone in general
    gap_norm: NDArray[np.float64]  # (K,) ‖m_drop - m_keep‖₂; NaN where τ = 0
    identity_rhs: NDArray[np.float64]  # (K,) τ ‖m_drop - m_keep‖₂, equal to output_error; 0 where τ = 0
    error_bound: NDArray[np.float64]  # (K,) 2 τ max_i ‖v_i‖₂ >= output_error

    def as_records(self) -> list[dict[str, float]]:
        """One dict per k: a tidy table for a chart."""
        return [
            {
                "k": int(k),
                "tail_mass": float(self.tail_mass[i]),
                "tv_distance": float(self.tv_distance[i]),
                "output_error": float(self.output_error[i]),
                "identity_rhs": float(self.identity_rhs[i]),
                "error_bound": float(self.error_bound[i]),
            }
            for i, k in enumerate(self.ks)
        ]


def topk_order(scores: ArrayLike) -> NDArray[np.int64]:
    """Key indices from best to worst score; ties keep index order (stable sort of -scores).

    Example:
        >>> topk_order([0.5, 2.0, 0.5, -np.inf, 1.0])
        array([1, 4, 0, 2, 3])
    """
    s = np.asarray(scores, dtype=np.float64)
    return np.argsort(-s, kind="stable")


def kept_weight(weights: ArrayLike, positions: ArrayLike) -> float:
    """The share of the full attention weight held by the keys at ``positions``: Σ_{i∈S} w_i.

    ``1 - kept_weight(soft.weights, topk.positions)`` is the tail mass τ a top-k retrieval throws
    away (the TV distance between full and top-k attention, see the module docstring).

    Args:
        weights: w, shape (n,): full softmax weights over every key (they sum to 1).
        positions: the kept keys' positions, shape (k,), distinct, each in 0..n-1.

    Returns:
        Σ_{i∈S} w_i as a float, in [0, 1] for softmax weights.

    Raises:
        InvalidParameterError: weights are not 1-D, or positions are not distinct integers in 0..n-1.

    Example:
        >>> kept_weight([0.5, 0.3, 0.2], [0, 2])
        0.7
    """
    w = np.asarray(weights, dtype=np.float64)
    p = np.asarray(positions)
    if w.ndim != 1:
        raise InvalidParameterError(f"weights must be a 1-D array (one query), got shape {w.shape}")
    if p.ndim != 1 or (p.size and not np.issubdtype(p.dtype, np.integer)):
        raise InvalidParameterError(f"positions must be a 1-D array of integers, got {p.dtype} of shape {p.shape}")
    if p.size and (p.min() < 0 or p.max() >= w.size or np.unique(p).size != p.size):
        raise InvalidParameterError(f"positions must be distinct integers in 0..{w.size - 1}")
    return float(w[p].sum())


def kept_mass(D: ArrayLike, lse: ArrayLike, temperature: float = 1.0, scale: float = 1.0) -> NDArray[np.float64]:
    """Exact share of the full softmax weight held by the keys with scores D, given the exact ``lse``.

    With z = q·k · scale / T and ``lse = log Σ_j exp(z_j)`` over *every* key, the kept share is
    Σ_{i∈S} exp(z_i − lse); ``1 - kept_mass(D, lse)`` is the true tail mass τ of a top-k retrieval
    (compare the estimate :attr:`retrieval_attention.large.TopKAttention.tail_mass`).

    Args:
        D: scores q·k of the kept keys, shape (m, k) (or (k,) with a scalar lse).
        lse: log-partition, shape (m,), e.g. from :func:`retrieval_attention.large.exact_attention`.
        temperature, scale: as used for ``lse``.

    Returns:
        Σ_{i∈S} w_i, shape (m,) (or a 0-d array).

    Example:
        >>> lse = np.log(np.exp([1.0, 0.0, 0.0]).sum())  # scores of one query against 3 keys, T = 1
        >>> round(float(kept_mass([1.0, 0.0], lse)), 3)  # the best 2 of 3 keys hold 79% of the weight
        0.788
    """
    z = np.asarray(D, dtype=np.float64)  # (m, k), small: float64 is free here
    c = effective_factor(scale, temperature, scores=z)
    return np.exp(z * c - np.asarray(lse, dtype=np.float64)[..., None]).sum(axis=-1)


def _prepare(
    scores: ArrayLike, V: ArrayLike, temperature: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], tuple[int, ...]]:
    """(weights (n,), V as (n, dv), order (n,), the shape of one value) after checking the inputs."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise InvalidParameterError(f"scores must be a non-empty 1-D array (one query), got shape {s.shape}")
    if np.any(np.isnan(s)) or np.any(s == np.inf):
        raise InvalidParameterError("scores must be finite numbers or -inf (a masked key)")
    if np.all(s == -np.inf):
        raise InvalidParameterError("every key is masked (all scores -inf): there is nothing to attend to")
    Va = np.asarray(V, dtype=np.float64)
    if Va.ndim not in (1, 2) or Va.shape[0] != s.size:
        raise InvalidParameterError(f"V must be (n,) or (n, dv) with n={s.size}, got shape {Va.shape}")
    w = softmax(s, temperature=temperature)  # (n,)
    return w, Va.reshape(s.size, -1), topk_order(s), Va.shape[1:]


def topk_attention_error(scores: ArrayLike, V: ArrayLike, k: int, temperature: float = 1.0) -> TopKError:
    """Compare full softmax attention with softmax over the top-k keys, for one query.

    Every quantity is computed directly from its definition (no identity is assumed), so the
    result carries both sides of TV = τ and of o_full - o_topk = τ (m_drop - m_keep).
    With k = n nothing is dropped: τ = 0 exactly and the error is exactly 0.

    Args:
        scores: scores of one query against n keys (n,); -inf marks a masked key.
        V: values (n, dv) or (n,).
        k: number of keys to keep, 1..n.
        temperature: T > 0 dividing the scores before the softmax.

    Returns:
        A :class:`TopKError`.

    Raises:
        InvalidParameterError: bad k, temperature, shapes, NaN/+inf scores or every key masked.

    Example:
        >>> r = topk_attention_error([2.0, 1.0, 0.0], [[1.0], [0.0], [-1.0]], k=1)
        >>> round(r.tail_mass, 4), round(r.tv_distance, 4), round(r.output_error, 4)
        (0.3348, 0.3348, 0.4248)
    """
    w, V2, order, vshape = _prepare(scores, V, temperature)
    s = np.asarray(scores, dtype=np.float64)
    n = w.size
    k = check_k(k, n)
    kept = order[:k]  # (k,)
    in_S = np.zeros(n, dtype=bool)
    in_S[kept] = True
    tau = float(np.sum(w[~in_S]))  # exactly 0.0 when k = n
    # The softmax over the kept keys only, as an efficient implementation computes it; equal to
    # w / (1 - τ) on S. With k = n it is the very same computation as the full softmax.
    w_top = softmax(np.where(in_S, s, -np.inf), temperature=temperature)  # (n,)
    o_full = w @ V2  # (dv,)
    o_top = w_top @ V2  # (dv,)
    m_keep = (w[in_S] @ V2[in_S]) / (1.0 - tau)  # (dv,)
    m_drop = (w[~in_S] @ V2[~in_S]) / tau if tau > 0 else np.full(V2.shape[1], np.nan)  # (dv,)
    rhs = tau * (m_drop - m_keep) if tau > 0 else np.zeros(V2.shape[1])  # (dv,)
    return TopKError(
        k=k,
        kept=kept,
        weights=w,
        topk_weights=w_top,
        tail_mass=tau,
        tv_distance=float(0.5 * np.sum(np.abs(w - w_top))),
        output_full=o_full.reshape(vshape),
        output_topk=o_top.reshape(vshape),
        output_error=float(np.linalg.norm(o_full - o_top)),
        m_keep=m_keep.reshape(vshape),
        m_drop=m_drop.reshape(vshape),
        identity_lhs=(o_full - o_top).reshape(vshape),
        identity_rhs=rhs.reshape(vshape),
        error_bound=float(2.0 * tau * np.max(np.linalg.norm(V2, axis=1))),
    )


def topk_error_curve(
    scores: ArrayLike, V: ArrayLike, temperature: float = 1.0, ks: ArrayLike | None = None
) -> TopKCurve:
    """τ, TV distance and output error of top-k attention for many k at once (one query).

    Sorts once, then uses running sums of the sorted weights and weighted values from both ends:
    O(n log n + n·dv) for all k together, instead of O(n·dv) for each k. Agrees with
    :func:`topk_attention_error` at every k up to rounding.

    τ(k) is non-increasing in k. The output error is *not* monotone in general: the claim
    "error is non-increasing in k" is false. What holds is error = τ ‖m_drop - m_keep‖ ≤ 2τ max‖v‖,
    so the error vanishes as τ does, with bumps on the way. Three keys show it: weights
    (0.4, 0.35, 0.25) and values (0, 10, -10) give o_full = 1; keeping key 0 alone errs by 1,
    keeping keys 0 and 1 gives o_topk = 3.5 / 0.75 ≈ 4.67, an error of 3.67.

    Args:
        scores: scores of one query against n keys (n,); -inf marks a masked key.
        V: values (n, dv) or (n,).
        temperature: T > 0 dividing the scores before the softmax.
        ks: the k values, each in 1..n; None means every k from 1 to n.

    Returns:
        A :class:`TopKCurve`, entries in the order of ``ks``.

    Example:
        >>> c = topk_error_curve(np.log([0.4, 0.35, 0.25]), [0.0, 10.0, -10.0])
        >>> c.tail_mass.round(2), c.output_error.round(2)
        (array([0.6 , 0.25, 0.  ]), array([1.  , 3.67, 0.  ]))
    """
    w, V2, order, _ = _prepare(scores, V, temperature)
    n, dv = V2.shape
    if ks is None:
        k_arr = np.arange(1, n + 1, dtype=np.int64)
    else:
        k_arr = np.asarray(ks).reshape(-1)
        if k_arr.size == 0 or not np.issubdtype(k_arr.dtype, np.integer) or k_arr.min() < 1 or k_arr.max() > n:
            raise InvalidParameterError(f"ks must be a non-empty list of integers in 1..{n}")
        k_arr = k_arr.astype(np.int64)

    ws = w[order]  # (n,) weights, best key first
    wv = ws[:, None] * V2[order]  # (n, dv) weighted values, best key first
    head_w = np.cumsum(ws)  # (n,) head_w[k-1] = weight kept by top-k
    head_wv = np.cumsum(wv, axis=0)  # (n, dv) head_wv[k-1] = Σ kept w_i v_i
    # Sums of the dropped part from the other end (not 1 - head), so small tails keep their digits;
    # the appended zero row is the empty tail of k = n.
    tail_w = np.append(np.cumsum(ws[::-1])[::-1], 0.0)  # (n + 1,) tail_w[k] = τ(k)
    tail_wv = np.vstack([np.cumsum(wv[::-1], axis=0)[::-1], np.zeros((1, dv))])  # (n + 1, dv)
    o_full = head_wv[-1]  # (dv,) the same running sum top-n ends on, so k = n errs by exactly 0

    tau = tail_w[k_arr]  # (K,)
    kept_w = head_w[k_arr - 1]  # (K,)
    # ½‖w - w'‖₁ with the signs resolved: kept weights grow by w_i (1/(1-τ) - 1), dropped ones lose τ.
    tv = 0.5 * (kept_w * (1.0 / (1.0 - tau) - 1.0) + tau)  # (K,)
    err = np.empty(k_arr.size)
    gap = np.full(k_arr.size, np.nan)
    step = max(1, _CHUNK_FLOATS // dv)
    for a in range(0, k_arr.size, step):
        kk, t = k_arr[a : a + step], tau[a : a + step]
        m_keep = head_wv[kk - 1] / (1.0 - t)[:, None]  # (c, dv) = o_topk
        err[a : a + step] = np.linalg.norm(o_full[None, :] - m_keep, axis=1)
        pos = t > 0
        m_drop = tail_wv[kk[pos]] / t[pos][:, None]  # (c', dv)
        gap[a : a + step][pos] = np.linalg.norm(m_drop - m_keep[pos], axis=1)
    rhs = np.where(tau > 0, tau * np.nan_to_num(gap), 0.0)  # (K,)
    vmax = float(np.max(np.linalg.norm(V2, axis=1)))
    return TopKCurve(
        ks=k_arr,
        tail_mass=tau,
        tv_distance=tv,
        output_error=err,
        gap_norm=gap,
        identity_rhs=rhs,
        error_bound=2.0 * tau * vmax,
    )
