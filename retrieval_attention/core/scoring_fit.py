"""Train Bahdanau's additive scorer to reproduce an encoder's cosine ranking, so both scorers are trained.

The scoring lesson compares the dot product (the encoder's own, trained) with the additive score
a(q, k) = vᵀ tanh(W q + U k). With random W, U, v the additive score ranks keys arbitrarily, which
makes the comparison unfair. :func:`fit_additive` trains it briefly, by gradient descent in numpy,
to copy the encoder: the target for a (query, key) pair is their cosine.

* Data: the corpus's own texts as queries, against its keys. Row i of ``K`` is item i's key (a
  title); row i of ``extra`` (optional) is another text of the same item (title + description). A
  seeded fifth of the items is held out: none of their texts is ever a training query.
* Loss: squared error between the scores and the cosines, both centred per query over the keys of
  a step. A softmax ignores a shift of one query's scores, so only the differences between keys
  matter; the cosines are divided by their spread so the target has unit variance.
* Optimiser: Adam on minibatches (``batch`` queries × ``keys_per_step`` keys per step), seeded.
* Fit: :func:`spearman` between the additive scores and the cosines of each held-out query over
  every key, the median over held-out queries; the same for the random starting weights.

Shapes: K (n, d), extra (n, d), W and U (h, d), v (h,).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.scoring import AdditiveScorer, cosine_scores
from retrieval_attention.errors import InvalidParameterError

__all__ = ["AdditiveFit", "fit_additive", "median_spearman", "spearman"]

Progress = Callable[[int, int], None]  # (steps done, steps in all)


def _ranks(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ranks 1..n along the last axis, ties sharing their mean rank."""
    order = np.argsort(x, axis=-1, kind="stable")  # (..., n)
    ranks = np.empty_like(x)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(1.0, x.shape[-1] + 1.0), x.shape), axis=-1)
    out = ranks.copy()
    for idx in np.ndindex(x.shape[:-1]):  # average the ranks of tied values (rare with float scores)
        row = x[idx]
        _, inverse, counts = np.unique(row, return_inverse=True, return_counts=True)
        if counts.max() > 1:
            sums = np.bincount(inverse, weights=ranks[idx])  # (unique,)
            out[idx] = (sums / counts)[inverse]
    return out


def spearman(a: ArrayLike, b: ArrayLike) -> NDArray[np.float64] | float:
    """Spearman's rank correlation of ``a`` and ``b`` along the last axis (ties get their mean rank).

    Args:
        a: scores (n,) or (m, n).
        b: scores of the same shape.

    Returns:
        A float for (n,) inputs, an (m,) array for (m, n); NaN where either side is constant.

    Example:
        >>> spearman([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 40.0, 30.0])
        0.8
    """
    a2, b2 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a2.shape != b2.shape or a2.ndim not in (1, 2) or a2.shape[-1] < 2:
        raise InvalidParameterError(
            f"need two (n,) or (m, n) arrays of the same shape, n >= 2; got {a2.shape}, {b2.shape}"
        )
    ra, rb = _ranks(a2), _ranks(b2)
    ra -= ra.mean(axis=-1, keepdims=True)
    rb -= rb.mean(axis=-1, keepdims=True)
    den = np.sqrt((ra * ra).sum(axis=-1) * (rb * rb).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (ra * rb).sum(axis=-1) / den
    return float(rho) if a2.ndim == 1 else rho


def median_spearman(scorer: AdditiveScorer, queries: ArrayLike, K: ArrayLike) -> float:
    """The median over ``queries`` of :func:`spearman` between ``scorer``'s scores and the cosines.

    Args:
        scorer: the additive scorer.
        queries: (m, d).
        K: keys (n, d).

    Returns:
        The median rank correlation: 1 = the same ranking as the cosine, 0 = unrelated.
    """
    Q = np.atleast_2d(np.asarray(queries, dtype=np.float64))
    return float(np.nanmedian(spearman(scorer.scores(Q, K), cosine_scores(Q, K))))


@dataclass(frozen=True, eq=False)
class AdditiveFit:
    """An additive scorer trained to reproduce the cosine, with what it was trained on and how well it fits."""

    scorer: AdditiveScorer  # the trained weights
    initial: AdditiveScorer  # the seeded random weights it started from
    losses: NDArray[np.float64]  # (steps,) minibatch loss per step; 1 = no better than a constant score
    train_items: NDArray[np.int64]  # rows of K whose texts were training queries
    held_out_items: NDArray[np.int64]  # rows of K never used as queries in training
    n_train_queries: int  # training queries: the training items' keys, and their extra texts if given
    spearman_trained: float  # median Spearman(additive, cosine) over held-out queries, against every key
    spearman_initial: float  # the same for the random starting weights
    spearman_train: float  # the same on the training queries (a gap to the held-out figure = overfitting)
    steps: int  # gradient steps
    batch: int  # queries per step
    keys_per_step: int  # keys per step
    lr: float  # Adam's learning rate
    seed: int  # seeds the starting weights, the split and the minibatches
    seconds: float  # wall-clock training time (machine-dependent)


def _adam(params: list[NDArray[np.floating]]) -> Callable[[list[NDArray[np.floating]], float, int], None]:
    """An Adam optimiser (β = 0.9, 0.999) updating ``params`` in place: ``step(grads, lr, t)``."""
    m = [np.zeros_like(p) for p in params]
    s = [np.zeros_like(p) for p in params]

    def step(grads: list[NDArray[np.floating]], lr: float, t: int) -> None:
        for p, g, mi, si in zip(params, grads, m, s):
            mi *= 0.9
            mi += 0.1 * g
            si *= 0.999
            si += 0.001 * g * g
            p -= lr * (mi / (1 - 0.9**t)) / (np.sqrt(si / (1 - 0.999**t)) + 1e-8)

    return step


def _loss_and_grads(
    W: NDArray[np.floating], U: NDArray[np.floating], v: NDArray[np.floating],
    Q: NDArray[np.floating], Kb: NDArray[np.floating], target: NDArray[np.floating],
) -> tuple[float, list[NDArray[np.floating]]]:  # fmt: skip
    """Mean squared error of the row-centred scores against ``target`` (already row-centred), and its gradients."""
    H = np.tanh((Q @ W.T)[:, None, :] + (Kb @ U.T)[None, :, :])  # (b, k, h)
    s = H @ v  # (b, k)
    r = s - s.mean(axis=1, keepdims=True) - target  # (b, k), zero mean per row
    g = 2.0 * r / r.size  # dL/ds: centring is a projection and r already lies in its range
    dA = g[:, :, None] * v * (1.0 - H * H)  # (b, k, h) dL/d(pre-activation)
    dW = dA.sum(axis=1).T @ Q  # (h, d)
    dU = dA.sum(axis=0).T @ Kb  # (h, d)
    dv = np.einsum("bk,bkh->h", g, H)  # (h,)
    return float(np.mean(r * r)), [dW, dU, dv]


def fit_additive(
    K: ArrayLike,
    extra: ArrayLike | None = None,
    hidden: int = 64,
    steps: int = 400,
    batch: int = 16,
    keys_per_step: int = 64,
    lr: float = 0.01,
    init_std: float = 0.3,
    held_out: float = 0.2,
    seed: int = 0,
    progress: Progress | None = None,
) -> AdditiveFit:
    """Train ``vᵀ tanh(W q + U k)`` so that its ranking of keys reproduces the cosine's.

    Args:
        K: keys (n, d); each row is also a query (an item's title against every title).
        extra: more queries (n, d), row i a second text of item i (e.g. title + description), or None.
        hidden: h, the hidden width.
        steps: gradient steps.
        batch: queries per step.
        keys_per_step: keys per step, drawn anew each step (all n when n is smaller).
        lr: Adam's learning rate.
        init_std: standard deviation of the starting W and U (:meth:`AdditiveScorer.random`).
        held_out: the fraction of items whose texts are never training queries (at least one item).
        seed: seeds the starting weights, the split and the minibatches: the same seed, the same fit.
        progress: called as ``progress(done, steps)`` every 25 steps and at the end.

    Returns:
        An :class:`AdditiveFit`.

    Raises:
        InvalidParameterError: fewer than 4 keys, shapes that do not match, or a setting out of range.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> K = rng.normal(size=(40, 8)); K /= np.linalg.norm(K, axis=1, keepdims=True)
        >>> fit = fit_additive(K, hidden=16, steps=150, batch=8, keys_per_step=40, lr=0.02)
        >>> bool(fit.losses[-20:].mean() < fit.losses[:20].mean())
        True
    """
    K2 = np.asarray(K, dtype=np.float64)
    if K2.ndim != 2 or K2.shape[0] < 4:
        raise InvalidParameterError(f"K must be (n, d) with n >= 4 keys, got {K2.shape}")
    n, d = K2.shape
    E = None if extra is None else np.asarray(extra, dtype=np.float64)
    if E is not None and E.shape != K2.shape:
        raise InvalidParameterError(f"extra must have K's shape {K2.shape}, got {E.shape}")
    if min(hidden, steps, batch, keys_per_step) < 1 or not (0.0 < held_out < 1.0) or not lr > 0 or not init_std > 0:
        raise InvalidParameterError("hidden, steps, batch, keys_per_step >= 1, 0 < held_out < 1, lr > 0, init_std > 0")
    t0 = time.perf_counter()
    initial = AdditiveScorer.random(d, hidden, seed, weight_std=init_std)
    f32 = np.float32  # the steps run in float32: about 5x faster than float64 on one core, the same fit
    W, U, v = initial.W.astype(f32), initial.U.astype(f32), initial.v.astype(f32)
    rng = np.random.default_rng(seed)
    items = rng.permutation(n)
    n_out = min(n - 2, max(1, round(held_out * n)))
    test, train = np.sort(items[:n_out]), np.sort(items[n_out:])
    Q = K2[train] if E is None else np.concatenate([K2[train], E[train]])  # (m, d) training queries
    C = cosine_scores(Q, K2)  # (m, n) the encoder's similarities: the target
    scale = 1.0 / max(float((C - C.mean(axis=1, keepdims=True)).std()), 1e-12)  # unit-variance target
    b, k = min(batch, len(Q)), min(keys_per_step, n)
    Q32, K32 = Q.astype(f32), K2.astype(f32)
    adam = _adam([W, U, v])
    losses = np.empty(steps)
    for t in range(1, steps + 1):
        rows, keys = rng.choice(len(Q), b, replace=False), rng.choice(n, k, replace=False)
        c = C[np.ix_(rows, keys)]  # (b, k)
        target = ((c - c.mean(axis=1, keepdims=True)) * scale).astype(f32)  # (b, k)
        losses[t - 1], grads = _loss_and_grads(W, U, v, Q32[rows], K32[keys], target)
        adam(grads, lr, t)
        if progress is not None and (t % 25 == 0 or t == steps):
            progress(t, steps)
    trained = AdditiveScorer(W=W.astype(np.float64), U=U.astype(np.float64), v=v.astype(np.float64))
    return AdditiveFit(
        scorer=trained,
        initial=initial,
        losses=losses,
        train_items=train,
        held_out_items=test,
        n_train_queries=len(Q),
        spearman_trained=median_spearman(trained, K2[test], K2),
        spearman_initial=median_spearman(initial, K2[test], K2),
        spearman_train=median_spearman(trained, K2[train], K2),
        steps=steps,
        batch=b,
        keys_per_step=k,
        lr=lr,
        seed=seed,
        seconds=time.perf_counter() - t0,
    )
