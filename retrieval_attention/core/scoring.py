"""Four ways to score a query against keys, what each costs, and why transformers divide by √d.

Attention turns scores a(q, k) into weights with a softmax; this module is only about the scores.
Shapes: q is (d,) for one query or (m, d) for m queries, K is (n, d); scores are (n,) or (m, n).

* ``dot_scores``         q·k, one matrix multiply ``q Kᵀ``.
* ``scaled_dot_scores``  q·k / √d, the transformer's score.
* ``cosine_scores``      q·k / (‖q‖ ‖k‖); equals the dot product on L2-normalised embeddings.
* ``AdditiveScorer``     Bahdanau's vᵀ tanh(W q + U k): a small network with one hidden layer.

``AdditiveScorer.random`` gives seeded random W, U and v, whose scores rank keys arbitrarily;
``retrieval_attention.core.scoring_fit.fit_additive`` trains them to reproduce an encoder's cosine,
which is what the scoring lesson shows. The cost does not depend on the weights' values. Because
the tanh sits between q and k, the score cannot be split into "something of q" · "something of k",
so a network pass is needed for each of the m·n (query, key) pairs. A dot-product score
(W q)·(U k) projects each side once (m + n projections) and then needs one matrix multiply.
``retrieval_attention.core.scoring_cost`` times both. ``peakiness_vs_dim`` shows why transformers divide by √d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.attention import entropy, softmax
from retrieval_attention.errors import InvalidParameterError

__all__ = [
    "AdditiveScorer",
    "PeakinessCurve",
    "PeakinessResult",
    "cosine_scores",
    "dot_scores",
    "peakiness_vs_dim",
    "projected_dot_scores",
    "scaled_dot_scores",
]

_CHUNK_FLOATS = 4_000_000  # largest temporary (rows x n x h) the vectorised additive score builds


def _query_keys(q: ArrayLike, K: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64], bool]:
    """(q as (m, d), K as (n, d), whether q was a single (d,) vector), checking that d matches."""
    q2 = np.asarray(q, dtype=np.float64)
    K2 = np.asarray(K, dtype=np.float64)
    single = q2.ndim == 1
    if single:
        q2 = q2[None, :]
    if q2.ndim != 2 or K2.ndim != 2:
        raise InvalidParameterError(f"q must be (d,) or (m, d) and K (n, d); got {q2.shape} and {K2.shape}")
    if q2.shape[1] != K2.shape[1]:
        raise InvalidParameterError(f"q has d={q2.shape[1]} features but K has {K2.shape[1]}")
    return q2, K2, single


def dot_scores(q: ArrayLike, K: ArrayLike) -> NDArray[np.float64]:
    """Dot-product scores ``q Kᵀ``: one matrix multiply for all pairs.

    Args:
        q: query (d,) or queries (m, d).
        K: keys (n, d).

    Returns:
        Scores (n,) for one query, (m, n) for m queries.

    Example:
        >>> dot_scores([1.0, 2.0], [[1.0, 0.0], [3.0, 1.0]])
        array([1., 5.])
    """
    q2, K2, single = _query_keys(q, K)
    s = q2 @ K2.T  # (m, n)
    return s[0] if single else s


def scaled_dot_scores(q: ArrayLike, K: ArrayLike) -> NDArray[np.float64]:
    """Scaled dot-product scores ``q Kᵀ / √d`` as in "Attention Is All You Need".

    Args:
        q: query (d,) or queries (m, d).
        K: keys (n, d).

    Returns:
        Scores (n,) or (m, n).

    Example:
        >>> scaled_dot_scores([1.0, 1.0, 1.0, 1.0], [[1.0, 1.0, 1.0, 1.0]])
        array([2.])
    """
    q2, _, _ = _query_keys(q, K)
    return dot_scores(q, K) / math.sqrt(q2.shape[1])


def cosine_scores(q: ArrayLike, K: ArrayLike) -> NDArray[np.float64]:
    """Cosine similarity ``q·k / (‖q‖ ‖k‖)``, in [-1, 1].

    A zero vector has no direction: its cosine with anything is reported as 0.
    On L2-normalised vectors this equals :func:`dot_scores`.

    Args:
        q: query (d,) or queries (m, d).
        K: keys (n, d).

    Returns:
        Scores (n,) or (m, n).

    Example:
        >>> cosine_scores([2.0, 0.0], [[5.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
        array([ 1.,  0., -1.])
    """
    q2, K2, single = _query_keys(q, K)
    q2 = _rescale_rows(q2)  # so that tiny or huge vectors neither underflow nor overflow
    K2 = _rescale_rows(K2)
    qn = np.linalg.norm(q2, axis=1, keepdims=True)  # (m, 1)
    kn = np.linalg.norm(K2, axis=1, keepdims=True)  # (n, 1)
    qu = np.divide(q2, qn, out=np.zeros_like(q2), where=qn > 0)  # (m, d)
    ku = np.divide(K2, kn, out=np.zeros_like(K2), where=kn > 0)  # (n, d)
    s = np.clip(qu @ ku.T, -1.0, 1.0)  # (m, n)
    return s[0] if single else s


def _rescale_rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each row divided by its largest absolute entry (zero rows stay zero); directions unchanged."""
    peak = np.max(np.abs(x), axis=1, keepdims=True)  # (rows, 1)
    return np.divide(x, peak, out=np.zeros_like(x), where=peak > 0)


def projected_dot_scores(q: ArrayLike, K: ArrayLike, W_q: ArrayLike, W_k: ArrayLike) -> NDArray[np.float64]:
    """Project each side once, then one matrix multiply: ``(q W_qᵀ)(K W_kᵀ)ᵀ``.

    This is the transformer's recipe (query and key projections) and the cheap side of the cost
    comparison: m + n projections and one (m, h) x (h, n) product, instead of m·n network passes.

    Args:
        q: query (d,) or queries (m, d).
        K: keys (n, d).
        W_q: query projection (h, d).
        W_k: key projection (h, d).

    Returns:
        Scores (n,) or (m, n).

    Example:
        >>> projected_dot_scores([1.0, 2.0], [[1.0, 0.0]], np.eye(2), 2 * np.eye(2))
        array([2.])
    """
    q2, K2, single = _query_keys(q, K)
    Wq, Wk = np.asarray(W_q, dtype=np.float64), np.asarray(W_k, dtype=np.float64)
    if Wq.shape != Wk.shape or Wq.ndim != 2 or Wq.shape[1] != q2.shape[1]:
        raise InvalidParameterError(f"W_q and W_k must both be (h, {q2.shape[1]}); got {Wq.shape} and {Wk.shape}")
    s = (q2 @ Wq.T) @ (K2 @ Wk.T).T  # (m, h) @ (h, n) -> (m, n)
    return s[0] if single else s


@dataclass(frozen=True, eq=False)
class AdditiveScorer:
    """Bahdanau's additive score ``a(q, k) = vᵀ tanh(W q + U k)`` with fixed, untrained weights.

    The weights are random numbers from a seed, not learned: the scores show how the computation
    works and what it costs, not which keys are relevant. Build one with :meth:`random`.

    Example:
        >>> a = AdditiveScorer.random(d=3, hidden=4, seed=0)
        >>> q, K = np.ones(3), np.eye(3)
        >>> np.allclose(a.scores(q, K), a.scores_loop(q, K))
        True
    """

    W: NDArray[np.float64]  # (h, d) query weights
    U: NDArray[np.float64]  # (h, d) key weights
    v: NDArray[np.float64]  # (h,) output weights

    def __post_init__(self) -> None:
        h, d = np.shape(self.W)
        if np.shape(self.U) != (h, d) or np.shape(self.v) != (h,):
            raise InvalidParameterError(
                f"need W (h, d), U (h, d), v (h,); got {np.shape(self.W)}, {np.shape(self.U)}, {np.shape(self.v)}"
            )

    @classmethod
    def random(cls, d: int, hidden: int = 32, seed: int = 0, weight_std: float = 1.0) -> AdditiveScorer:
        """Seeded, untrained weights: W, U ~ N(0, weight_std²), v ~ N(0, 1/hidden).

        With the default ``weight_std = 1`` and L2-normalised inputs (as our embeddings are), each
        hidden unit of W q + U k has variance ‖q‖² + ‖k‖² = 2, so the tanh works in its curved
        range and the score has order-1 size. For inputs with unit-variance components use
        ``weight_std = 1/sqrt(d)``.

        Args:
            d: input dimension.
            hidden: h, the hidden-layer width.
            seed: seed of ``np.random.default_rng``.
            weight_std: standard deviation of the entries of W and U.

        Returns:
            An :class:`AdditiveScorer`.
        """
        if d < 1 or hidden < 1:
            raise InvalidParameterError(f"d and hidden must be >= 1, got d={d}, hidden={hidden}")
        rng = np.random.default_rng(seed)
        W = rng.normal(0.0, weight_std, size=(hidden, d))  # (h, d)
        U = rng.normal(0.0, weight_std, size=(hidden, d))  # (h, d)
        v = rng.normal(0.0, 1.0 / math.sqrt(hidden), size=hidden)  # (h,)
        return cls(W=W, U=U, v=v)

    @property
    def d(self) -> int:
        """Input dimension."""
        return int(self.W.shape[1])

    @property
    def hidden(self) -> int:
        """Hidden-layer width h."""
        return int(self.W.shape[0])

    def scores(self, q: ArrayLike, K: ArrayLike) -> NDArray[np.float64]:
        """Vectorised additive scores: project q and K once, then tanh of every pairwise sum.

        Even vectorised, the tanh needs the full (m, n, h) array of sums: there is no matrix
        multiply that produces it. Built in chunks of queries to bound memory.

        Args:
            q: query (d,) or queries (m, d).
            K: keys (n, d).

        Returns:
            Scores (n,) or (m, n).
        """
        q2, K2, single = _query_keys(q, K)
        self._check_d(q2)
        Pq = q2 @ self.W.T  # (m, h)
        Pk = K2 @ self.U.T  # (n, h)
        m, n = Pq.shape[0], Pk.shape[0]
        out = np.empty((m, n))
        rows = max(1, _CHUNK_FLOATS // max(1, n * self.hidden))
        for start in range(0, m, rows):
            hid = np.tanh(Pq[start : start + rows, None, :] + Pk[None, :, :])  # (rows, n, h)
            out[start : start + rows] = hid @ self.v  # (rows, n)
        return out[0] if single else out

    def scores_loop(self, q: ArrayLike, K: ArrayLike) -> NDArray[np.float64]:
        """Run the small network once per (query, key) pair, as Bahdanau's cost model counts it.

        Each pass feeds the concatenation [q_i; k_j] (2d,) through the hidden layer
        [W U] (h, 2d), a tanh and the output layer v: m·n passes of O(h·d) work each.
        Deliberately slow; use :meth:`scores` for the same numbers fast.

        Args:
            q: query (d,) or queries (m, d).
            K: keys (n, d).

        Returns:
            Scores (n,) or (m, n), equal to :meth:`scores` up to rounding.
        """
        q2, K2, single = _query_keys(q, K)
        self._check_d(q2)
        W_a = np.concatenate([self.W, self.U], axis=1)  # (h, 2d): one layer on [q; k]
        v = self.v
        out = np.empty((q2.shape[0], K2.shape[0]))
        for i, qi in enumerate(q2):
            for j, kj in enumerate(K2):
                x = np.concatenate((qi, kj))  # (2d,)
                out[i, j] = v @ np.tanh(W_a @ x)  # one network pass
        return out[0] if single else out

    def _check_d(self, q2: NDArray[np.float64]) -> None:
        if q2.shape[1] != self.d:
            raise InvalidParameterError(f"this scorer takes d={self.d} features, got {q2.shape[1]}")


@dataclass(frozen=True, eq=False)
class PeakinessCurve:
    """Softmax peakiness against d for one kind of vector, with or without the 1/√d scaling."""

    vectors: str  # "gaussian": components ~ N(0, 1), so Var(q·k) = d; "unit": the same, L2-normalised
    scaled: bool  # True: softmax(q·k / √d); False: softmax(q·k)
    max_weight: NDArray[np.float64]  # (D,) mean over trials of the largest weight
    entropy: NDArray[np.float64]  # (D,) mean over trials of the entropy of the weights, in nats
    score_std: NDArray[np.float64]  # (D,) standard deviation of the scores fed to the softmax


@dataclass(frozen=True, eq=False)
class PeakinessResult:
    """The four peakiness curves of :func:`peakiness_vs_dim` over the same dims."""

    dims: NDArray[np.int64]  # (D,) the dimensions d
    n_keys: int  # keys per softmax
    trials: int  # random (query, keys) draws per d
    uniform_entropy: float  # log(n_keys): the entropy of uniform weights, the flattest possible
    curves: tuple[PeakinessCurve, ...]  # gaussian raw, gaussian scaled, unit raw, unit scaled

    def curve(self, vectors: str, scaled: bool) -> PeakinessCurve:
        """The curve for ``vectors`` ("gaussian" or "unit") and ``scaled``."""
        for c in self.curves:
            if c.vectors == vectors and c.scaled == scaled:
                return c
        raise InvalidParameterError(f"no curve for vectors={vectors!r}, scaled={scaled}")

    def as_records(self) -> list[dict[str, object]]:
        """One dict per (curve, d): a tidy table for a chart."""
        return [
            {
                "vectors": c.vectors,
                "scaled": c.scaled,
                "d": int(d),
                "max_weight": float(c.max_weight[i]),
                "entropy": float(c.entropy[i]),
                "score_std": float(c.score_std[i]),
            }
            for c in self.curves
            for i, d in enumerate(self.dims)
        ]


def peakiness_vs_dim(
    dims: ArrayLike = (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
    n_keys: int = 64,
    trials: int = 200,
    seed: int = 0,
) -> PeakinessResult:
    """How peaked softmax(q·k) is as d grows, for two kinds of random vectors, with and without 1/√d.

    * "gaussian": q and k have independent N(0, 1) components, the setting of the √d argument in
      "Attention Is All You Need". q·k has variance d, so raw scores spread out as d grows and the
      softmax saturates towards one-hot (max weight -> 1, entropy -> 0). Dividing by √d brings the
      variance back to 1 for every d: the curve is flat. This is why transformers scale.
    * "unit": the same vectors L2-normalised, like our embeddings. q·k has variance 1/d, so raw
      scores *shrink* as d grows and the softmax flattens towards uniform (entropy -> log n);
      dividing by √d flattens it further. For unit vectors √d scaling is the wrong knob: use a
      temperature (see ``config.DEFAULT_TEMPERATURE``).

    The unit vectors are the Gaussian draws divided by their norms, so all four curves share the
    same random directions.

    Args:
        dims: dimensions d to try, each >= 1.
        n_keys: keys per softmax (n).
        trials: random draws of one query and n keys per d.
        seed: seed of ``np.random.default_rng``.

    Returns:
        A :class:`PeakinessResult`; ``result.curve("gaussian", scaled=False)`` etc.

    Example:
        >>> r = peakiness_vs_dim(dims=(4, 256), n_keys=16, trials=50)
        >>> g = r.curve("gaussian", scaled=False)
        >>> bool(g.max_weight[1] > g.max_weight[0])
        True
    """
    d_arr = np.asarray(dims, dtype=np.int64).reshape(-1)
    if d_arr.size == 0 or np.any(d_arr < 1) or n_keys < 1 or trials < 1:
        raise InvalidParameterError("dims must be non-empty with every d >= 1, and n_keys, trials >= 1")
    rng = np.random.default_rng(seed)
    cases = [("gaussian", False), ("gaussian", True), ("unit", False), ("unit", True)]
    stats = {c: np.zeros((3, d_arr.size)) for c in cases}  # rows: max weight, entropy, score std
    for col, d in enumerate(d_arr):
        raw, norms = np.empty((trials, n_keys)), np.empty((trials, n_keys))
        step = max(1, _CHUNK_FLOATS // (n_keys * int(d)))  # trials per chunk, to bound memory
        for t0 in range(0, trials, step):
            q = rng.standard_normal((min(step, trials - t0), d))  # (t, d)
            K = rng.standard_normal((q.shape[0], n_keys, d))  # (t, n, d)
            raw[t0 : t0 + len(q)] = np.einsum("td,tnd->tn", q, K)  # (t, n)  gaussian q·k
            norms[t0 : t0 + len(q)] = np.linalg.norm(q, axis=1)[:, None] * np.linalg.norm(K, axis=2)
        scores = {"gaussian": raw, "unit": raw / norms}  # (trials, n) each
        for vectors, scaled in cases:
            s = scores[vectors] / math.sqrt(d) if scaled else scores[vectors]  # (trials, n)
            w = softmax(s, axis=-1)  # (trials, n)
            stats[(vectors, scaled)][:, col] = (w.max(axis=1).mean(), np.mean(entropy(w)), s.std())
    curves = tuple(
        PeakinessCurve(vectors=v, scaled=sc, max_weight=st[0], entropy=st[1], score_std=st[2])
        for (v, sc), st in stats.items()
    )
    return PeakinessResult(dims=d_arr, n_keys=n_keys, trials=trials, uniform_entropy=math.log(n_keys), curves=curves)
