"""Attention as soft retrieval: softmax, scaled dot-product attention and its summaries.

Pure numpy, no I/O. Shapes use one set of names everywhere:

    q (..., L, E)   queries        L query positions, E features
    K (..., S, E)   keys           S key positions
    V (..., S, Ev)  values
    w (..., L, S)   weights        every row sums to 1 (or is all 0 when every key is masked,
                                   or all NaN when its scores hold a NaN, as in torch)

A classic dictionary lookup is the special case where one weight is 1 and the rest are 0;
equal weights are average pooling. Everything in between is attention.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.validate import check_temperature, effective_factor, scale_factor
from retrieval_attention.errors import InvalidParameterError

__all__ = [
    "SoftmaxSteps",
    "effective_num_keys",
    "entropy",
    "scaled_dot_product_attention",
    "softmax",
    "softmax_breakdown",
    "temperature_sweep",
]


def _float_array(x: ArrayLike, name: str = "scores") -> NDArray[np.floating]:
    """As an array of real numbers, keeping float32 as float32 (no silent float64 copies)."""
    try:
        a = np.asarray(x)
    except ValueError:  # ragged nested lists
        raise InvalidParameterError(f"{name} must be a rectangular array of numbers") from None
    if a.dtype.kind in "biu":
        return a.astype(np.float64)
    if a.dtype.kind != "f":
        raise InvalidParameterError(f"{name} must be an array of real numbers, got dtype {a.dtype}")
    return a


def _working(a: NDArray[np.floating]) -> NDArray[np.floating]:
    """``a`` in the type the arithmetic runs in: at least float32.

    float16 carries at most 65,504 and three decimal digits: q·k of two 64-dim vectors with entries
    near 40 already overflows it, and ``exp`` of a score gap above 11 is infinity, so every output
    would be NaN. torch computes half-precision attention in float32 internally and returns
    float16; so does this module (the result is cast back by the caller).
    """
    return a.astype(np.float32) if a.dtype.itemsize < 4 else a


def softmax(scores: ArrayLike, temperature: float = 1.0, axis: int = -1) -> NDArray[np.floating]:
    """Numerically stable ``exp(s / T) / sum(exp(s / T))`` along ``axis``.

    Entries equal to ``-inf`` get weight 0; a slice in which every entry is ``-inf`` (every key
    masked) gets all-zero weights instead of NaN. A slice holding NaN or ``+inf`` gets NaN
    weights, as ``torch.softmax`` gives: a NaN in the scores propagates, it is never hidden in
    weights that look valid.

    Args:
        scores: array of scores with at least one dimension.
        temperature: T, a finite number > 0. Small T sharpens towards the arg-max (ties split
            evenly), large T flattens towards uniform weights.
        axis: the axis that sums to 1; it must not be empty.

    Returns:
        Weights with the shape and float dtype of ``scores`` (float16 scores are computed in
        float32, as torch does, and the weights cast back).

    Raises:
        InvalidParameterError: temperature is not a finite number > 0, or not a normal number of
            the scores' float type (float32: 1.18e-38 to 3.4e38); scores that are not real
            numbers, 0-d, or empty along ``axis``; an axis the scores do not have.

    Example:
        >>> softmax([1.0, 2.0, 3.0]).round(3)
        array([0.09 , 0.245, 0.665])
        >>> softmax([1.0, 2.0, 3.0], temperature=0.01).round(3)
        array([0., 0., 1.])
        >>> softmax([1.0, np.nan, 3.0])
        array([nan, nan, nan])
    """
    given = _float_array(scores)
    s = _working(given)
    t = check_temperature(temperature, s.dtype)  # a T that underflows to 0 in s's type would give NaN
    if s.ndim == 0:
        raise InvalidParameterError("scores must have at least one dimension, got a single number")
    if not -s.ndim <= axis < s.ndim:
        raise InvalidParameterError(f"axis {axis} is out of range for scores of shape {s.shape}")
    if s.shape[axis] == 0:
        raise InvalidParameterError(f"scores of shape {s.shape} are empty along axis {axis}: nothing to weigh")
    m = np.max(s, axis=axis, keepdims=True)  # NaN if the slice holds a NaN
    undefined = np.isnan(m) | (m == np.inf)  # torch gives NaN for the whole slice
    m = np.where(np.isfinite(m), m, 0.0).astype(s.dtype, copy=False)  # all-masked slice: no inf - inf
    with np.errstate(invalid="ignore"):  # inf - inf, inf / inf in an undefined slice: NaN, set below anyway
        z = s - m
        if t != 1.0:
            z /= s.dtype.type(t)
        e = np.exp(z, out=z)
        total = np.sum(e, axis=axis, keepdims=True)
        np.divide(e, total, out=e, where=total > 0)
    np.copyto(e, np.nan, where=np.broadcast_to(undefined, e.shape))
    return e.astype(given.dtype, copy=False)


def scaled_dot_product_attention(
    query: ArrayLike,
    key: ArrayLike,
    value: ArrayLike,
    attn_mask: ArrayLike | None = None,
    is_causal: bool = False,
    scale: float | None = None,
    temperature: float = 1.0,
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    """``softmax((q Kᵀ · scale + mask) / T) V``, with the semantics of PyTorch's function.

    Same arguments and meaning as ``torch.nn.functional.scaled_dot_product_attention``:
    a boolean mask marks with True the keys a query *may* attend to; a float mask is added to
    the scaled scores; ``is_causal`` lets position i see keys 0..i only (lower triangle);
    ``scale`` defaults to 1/sqrt(E). The extra ``temperature`` divides the masked, scaled scores.
    A row whose keys are all masked gets zero weights and a zero output, never NaN (as torch's
    function does; ``torch.softmax`` alone would give NaN).

    NaN rule, as in torch: a NaN (or an infinity that meets a 0) anywhere in q or K makes NaN
    scores, and every query row that has one gets NaN weights and a NaN output, even where the
    mask hides that key (masks are added, and NaN + -inf is NaN); a NaN in V makes its output
    column NaN. Nothing is silently renormalised.

    Args:
        query: q, shape (..., L, E), at least 2-D (one query is (1, E)).
        key: K, shape (..., S, E), S >= 1 and E >= 1.
        value: V, shape (..., S, Ev).
        attn_mask: optional boolean or float mask broadcastable to (..., L, S).
        is_causal: apply a causal (lower-triangular) mask; not together with ``attn_mask``.
        scale: multiplier of q·k, a finite number > 0; None means 1/sqrt(E).
        temperature: T > 0 dividing the scaled scores.

    Returns:
        (output, weights): output of shape (..., L, Ev) and weights of shape (..., L, S), in the
        inputs' common float type. Half-precision inputs are computed in float32 and the results
        cast back, as torch does: q·k overflows float16 long before the answer does.

    Raises:
        InvalidParameterError: bad temperature or scale (scale / T times the largest score must
            fit the scores' float type), both a mask and ``is_causal``, a mask that is not bool
            or float or does not broadcast to (..., L, S), inputs that are not real numbers,
            fewer than 2 dimensions, no keys (S = 0), no features (E = 0), or shapes (batch
            dimensions included) that do not fit together.

    Example:
        >>> q = np.array([[1.0, 0.0]]); K = np.eye(2); V = np.array([[10.0], [20.0]])
        >>> out, w = scaled_dot_product_attention(q, K, V, scale=1.0, temperature=0.5)
        >>> w.round(3), out.round(2)
        (array([[0.881, 0.119]]), array([[11.19]]))
    """
    t = check_temperature(temperature)
    q, K, V = _float_array(query, "query"), _float_array(key, "key"), _float_array(value, "value")
    _check_shapes(q, K, V)
    given = np.result_type(q, K, V)  # the type handed back
    q, K, V = _working(q), _working(K), _working(V)
    if is_causal and attn_mask is not None:
        raise InvalidParameterError("pass either attn_mask or is_causal=True, not both (as in PyTorch)")
    L, S, E = q.shape[-2], K.shape[-2], q.shape[-1]

    scores = q @ np.swapaxes(K, -1, -2)  # (..., L, S)
    # c = scale / T, checked against what the scores' float type can carry
    c = effective_factor(1.0 / math.sqrt(E) if scale is None else scale, t, scores=scores)
    scores *= scores.dtype.type(c)
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))
    if attn_mask is not None:
        m = _check_mask(attn_mask, scores.shape)
        # added, as torch does: a masked NaN score stays NaN (NaN + -inf), it is not hidden
        bias = np.where(m, 0.0, -np.inf) if m.dtype == bool else m / t
        with np.errstate(over="ignore"):  # a huge negative bias over a tiny T: -inf, masked
            scores = scores + bias.astype(scores.dtype, copy=False)
    w = softmax(scores, axis=-1)  # (..., L, S)
    with np.errstate(over="ignore"):  # an output past float16's 65,504 is inf there, as in torch
        return (w @ V).astype(given, copy=False), w.astype(given, copy=False)


def _check_shapes(q: NDArray[np.floating], K: NDArray[np.floating], V: NDArray[np.floating]) -> None:
    """q (..., L, E), K (..., S, E), V (..., S, Ev) that fit together, or one clear error."""
    for name, a, dims in (("query", q, "(..., L, E)"), ("key", K, "(..., S, E)"), ("value", V, "(..., S, Ev)")):
        if a.ndim < 2:
            raise InvalidParameterError(
                f"{name} must have at least 2 dimensions {dims}, got shape {a.shape} (one query is (1, E))"
            )
    if q.shape[-1] != K.shape[-1]:
        raise InvalidParameterError(f"query has E={q.shape[-1]} features but key has {K.shape[-1]}")
    if q.shape[-1] == 0:
        raise InvalidParameterError("query and key have E=0 features: there is nothing to compare")
    if K.shape[-2] == 0:
        raise InvalidParameterError("key has S=0 positions: there is nothing to attend to")
    if K.shape[-2] != V.shape[-2]:
        raise InvalidParameterError(f"key has S={K.shape[-2]} positions but value has {V.shape[-2]}")
    try:
        np.broadcast_shapes(q.shape[:-2], K.shape[:-2], V.shape[:-2])
    except ValueError:
        raise InvalidParameterError(
            f"batch dimensions do not broadcast: query {q.shape}, key {K.shape}, value {V.shape}"
        ) from None


def _check_mask(attn_mask: ArrayLike, shape: tuple[int, ...]) -> NDArray:
    """The mask as an array that broadcasts to the scores' ``shape`` (..., L, S), or one clear error."""
    m = np.asarray(attn_mask)
    if m.dtype != bool and m.dtype.kind != "f":
        raise InvalidParameterError(
            f"attn_mask must be boolean (True = may attend) or float (added to the scores), got dtype {m.dtype}"
        )
    try:
        fits = np.broadcast_shapes(m.shape, shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise InvalidParameterError(f"attn_mask of shape {m.shape} does not broadcast to the scores' shape {shape}")
    return m


def entropy(weights: ArrayLike, axis: int = -1) -> NDArray[np.floating] | float:
    """Shannon entropy ``-Σ w log w`` in nats (0 log 0 = 0).

    0 for a one-hot weight vector (a hard lookup), ``log n`` for uniform weights over n keys.

    Example:
        >>> round(float(entropy([0.5, 0.5])), 4)
        0.6931
    """
    w = _float_array(weights)
    logs = np.log(w, out=np.zeros_like(w), where=w > 0)
    h = -np.sum(w * logs, axis=axis)
    return float(h) if np.ndim(h) == 0 else h


def effective_num_keys(weights: ArrayLike, axis: int = -1) -> NDArray[np.floating] | float:
    """The effective number of keys ``1 / Σ p²`` of the shares ``p = |w| / Σ|w|`` (inverse participation ratio).

    For softmax weights (>= 0, summing to 1) ``p = w`` and this is ``1 / Σ w²``. Raw weights
    (softmax off: cosines, any sign, any sum) are first made shares of the whole, so the count
    stays between 1 and n: ``(Σ|w|)² / Σ w² <= n`` by Cauchy-Schwarz. Without that, raw cosines
    of 0.3 over 12 keys would claim 1 / (12 · 0.09) ≈ 0.9 keys, and of 0.1 about 8 keys of 3.

    1 when one key takes all the weight, n when the weight is spread evenly over n keys,
    0 for an all-zero weight vector (a dictionary miss).

    Example:
        >>> effective_num_keys([0.25, 0.25, 0.25, 0.25])
        4.0
        >>> effective_num_keys([0.1, 0.1, -0.1])  # raw weights: three keys read equally
        3.0
    """
    w = np.abs(_float_array(weights)).astype(np.float64)
    total = np.sum(w, axis=axis, keepdims=True)
    p = np.divide(w, total, out=np.zeros_like(w), where=total > 0)  # shares of the whole
    sq = np.sum(p * p, axis=axis)
    out = np.divide(1.0, sq, out=np.zeros_like(sq, dtype=np.float64), where=sq > 0)
    return float(out) if np.ndim(out) == 0 else out


def temperature_sweep(scores: ArrayLike, temperatures: ArrayLike) -> NDArray[np.floating]:
    """Softmax weights of one score vector at many temperatures: the hard-to-uniform continuum.

    Args:
        scores: s, shape (n,).
        temperatures: T, shape (m,), every one a finite number > 0.

    Returns:
        Weights of shape (m, n): row j is ``softmax(s, T_j)``. Near T = 0 a row is the hard
        top-1 (one-hot); for large T it tends to uniform weights 1/n (average pooling).

    Example:
        >>> temperature_sweep([0.0, 1.0], [1e-3, 1.0, 1e3]).round(3)
        array([[0.   , 1.   ],
               [0.269, 0.731],
               [0.5  , 0.5  ]])
    """
    s = _float_array(scores)
    if s.ndim != 1 or s.size == 0:
        raise InvalidParameterError(f"scores must be a non-empty 1-D array, got shape {s.shape}")
    ts = np.array([check_temperature(t, s.dtype) for t in np.atleast_1d(temperatures)], dtype=s.dtype)
    top = np.max(s)
    z = s - (top if np.isfinite(top) else 0.0)  # (n,) <= 0: divided by a tiny T it goes to -inf, never +inf
    with np.errstate(over="ignore"):  # -inf: a weight of exactly 0
        return softmax(z[None, :] / ts[:, None], axis=-1)  # (m, n)


@dataclass(frozen=True)
class SoftmaxSteps:
    """Each step of ``w = softmax(s · scale / T)``, for showing the arithmetic with real numbers."""

    scores: NDArray[np.float64]  # s_i = q·k_i for the shown keys
    logits: NDArray[np.float64]  # z_i = s_i · scale / T
    shifted_exp: NDArray[np.float64]  # e^(z_i − max z): the stable numerator
    denominator: float  # Σ_j e^(z_j − max z) over *all* keys
    weights: NDArray[np.float64]  # w_i = numerator / denominator
    scale: float
    temperature: float


def softmax_breakdown(scores: ArrayLike, show: ArrayLike, scale: float = 1.0, temperature: float = 1.0) -> SoftmaxSteps:
    """The softmax of all ``scores``, step by step, for the keys at positions ``show``.

    Args:
        scores: s, shape (n,): q·k for every key.
        show: positions of the keys to report (e.g. the top 3).
        scale: multiplier of q·k (1 or 1/sqrt(d)).
        temperature: T > 0.

    Example:
        >>> st = softmax_breakdown([2.0, 1.0, 0.0], [0, 1], scale=1.0, temperature=1.0)
        >>> st.logits.tolist(), round(st.denominator, 4), st.weights.round(4).tolist()
        ([2.0, 1.0], 1.5032, [0.6652, 0.2447])
    """
    t = check_temperature(temperature)
    s = np.asarray(scores, dtype=np.float64)
    idx = np.asarray(show, dtype=np.int64)
    c = effective_factor(scale, t, scores=s)
    z = s * c  # (n,) = s · scale / T
    e = np.exp(z - z.max())
    total = float(e.sum())
    return SoftmaxSteps(s[idx], z[idx], e[idx], total, e[idx] / total, scale_factor(scale), t)
