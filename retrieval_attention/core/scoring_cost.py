"""What a scoring function costs: Bahdanau's additive network against a projected dot product, timed.

The additive score needs one network pass per (query, key) pair, m·n passes; the projected dot product
projects each side once (m + n projections) and then needs one matrix multiply. ``measure_scoring_cost``
times both on the same inputs and counts their floating-point operations.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from retrieval_attention.core.scoring import AdditiveScorer, _query_keys, projected_dot_scores
from retrieval_attention.errors import InvalidParameterError

__all__ = [
    "CostResult",
    "measure_scoring_cost",
    "time_scoring",
]


@dataclass(frozen=True)
class CostResult:
    """Measured cost of additive scoring vs projected dot-product scoring (median seconds per call)."""

    m: int  # number of queries
    n: int  # number of keys
    d: int  # input dimension
    hidden: int  # hidden width h of the additive network = projection width of the dot product
    repeats: int  # timed repeats per method (after one warm-up call)
    additive_loop_seconds: float  # m·n network passes, one Python-level pass per pair
    additive_vectorised_seconds: float  # the same arithmetic broadcast in numpy (no Python loop)
    dot_seconds: float  # project q and K once, then one matrix multiply
    dot_cached_seconds: float  # keys projected ahead (as an index does once): project q, one multiply
    additive_flops: int  # counted floating-point operations of the per-pair network, m·n·(4hd + 3h)
    dot_flops: int  # counted operations of the projected dot product, 2hd(m + n) + 2mnh

    @property
    def pairs(self) -> int:
        """m·n, the number of network passes the additive score needs."""
        return self.m * self.n

    @property
    def ratio(self) -> float:
        """additive_loop_seconds / dot_seconds: how many times slower the per-pair network is."""
        return self.additive_loop_seconds / self.dot_seconds

    @property
    def vectorised_ratio(self) -> float:
        """additive_vectorised_seconds / dot_seconds: the gap left once Python overhead is gone."""
        return self.additive_vectorised_seconds / self.dot_seconds

    @property
    def cached_ratio(self) -> float:
        """additive_loop_seconds / dot_cached_seconds: the gap per query once the keys are indexed."""
        return self.additive_loop_seconds / self.dot_cached_seconds

    @property
    def flop_ratio(self) -> float:
        """additive_flops / dot_flops: the counted-work part of the gap."""
        return self.additive_flops / self.dot_flops


def _median_seconds(fn: Callable[[], object], repeats: int, min_time: float) -> float:
    """Median seconds per call over ``repeats`` repeats; a fast ``fn`` is called several times per repeat."""
    fn()  # warm-up: caches, BLAS threads, lazy allocations
    number = 1
    while True:  # like timeit's autorange: grow the calls per repeat until one repeat takes min_time
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time or number >= 1 << 20:
            break
        number *= 2
    times = [elapsed / number]
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return float(statistics.median(times))


def time_scoring(
    q: ArrayLike, K: ArrayLike, scorer: AdditiveScorer, repeats: int = 5, min_time: float = 0.002
) -> CostResult:
    """Time additive scoring against projected dot-product scoring on the given q and K.

    The dot-product side uses the scorer's own W and U as query and key projections, so both
    methods have the same parameters and hidden width; only how q and k are combined differs.
    It is timed twice: projecting both sides (``dot_seconds``) and with the keys projected
    beforehand (``dot_cached_seconds``), which is what a retrieval index pays per query. With one
    query the first costs about as much counted work as the additive network (both O(n·d·h));
    the m·n versus m + n saving shows with many queries or with cached keys.

    Timings are live and machine-dependent. Multi-threaded BLAS can stall on a busy machine; for
    stable numbers run with ``OPENBLAS_NUM_THREADS=1`` (or limit threads with threadpoolctl).

    Args:
        q: query (d,) or queries (m, d), e.g. one encoded question.
        K: keys (n, d), e.g. the corpus embeddings.
        scorer: the additive scorer (its d must match).
        repeats: timed repeats per method, after one warm-up call; the median is reported.
        min_time: a repeat calls a fast method several times until it lasts this many seconds.

    Returns:
        A :class:`CostResult`.
    """
    if repeats < 1:
        raise InvalidParameterError(f"repeats must be >= 1, got {repeats}")
    q2, K2, _ = _query_keys(q, K)
    m, n, d, h = q2.shape[0], K2.shape[0], q2.shape[1], scorer.hidden
    loop = _median_seconds(lambda: scorer.scores_loop(q2, K2), repeats, min_time)
    vec = _median_seconds(lambda: scorer.scores(q2, K2), repeats, min_time)
    dot = _median_seconds(lambda: projected_dot_scores(q2, K2, scorer.W, scorer.U), repeats, min_time)
    Kp = K2 @ scorer.U.T  # (n, h) projected once, outside the timing
    cached = _median_seconds(lambda: (q2 @ scorer.W.T) @ Kp.T, repeats, min_time)
    return CostResult(
        m=m,
        n=n,
        d=d,
        hidden=h,
        repeats=repeats,
        additive_loop_seconds=loop,
        additive_vectorised_seconds=vec,
        dot_seconds=dot,
        dot_cached_seconds=cached,
        additive_flops=m * n * (4 * h * d + 3 * h),
        dot_flops=2 * h * d * (m + n) + 2 * m * n * h,
    )


def measure_scoring_cost(
    m: int = 16,
    n: int = 256,
    d: int = 64,
    hidden: int = 64,
    repeats: int = 5,
    seed: int = 0,
    max_pairs: int = 1_000_000,
) -> CostResult:
    """Time both scorings on synthetic L2-normalised queries (m, d) and keys (n, d).

    Most of the per-pair loop's cost is Python and call overhead, not arithmetic; the
    ``vectorised_ratio`` of the result separates that from the arithmetic, and ``flop_ratio``
    gives the counted-work ratio (≈ 2d + 1.5 for large m and n).

    Args:
        m: number of queries.
        n: number of keys.
        d: input dimension.
        hidden: hidden width of the additive network and of the projections.
        repeats: timed repeats per method (median reported).
        seed: seed for the data and the scorer.
        max_pairs: refuse m·n above this, so a page cannot start a minutes-long loop.

    Returns:
        A :class:`CostResult`.

    Example:
        >>> r = measure_scoring_cost(m=2, n=50, d=8, hidden=8, repeats=3)
        >>> r.pairs, r.ratio > 1
        (100, True)
    """
    if min(m, n, d, hidden) < 1:
        raise InvalidParameterError(f"m, n, d, hidden must be >= 1, got {m}, {n}, {d}, {hidden}")
    if m * n > max_pairs:
        raise InvalidParameterError(f"m·n = {m * n} network passes is above max_pairs={max_pairs}")
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((m, d))  # (m, d)
    K = rng.standard_normal((n, d))  # (n, d)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    K /= np.linalg.norm(K, axis=1, keepdims=True)
    return time_scoring(q, K, AdditiveScorer.random(d, hidden, seed), repeats=repeats)
