"""Which softmax temperature suits an encoder's cosine scores: the grid of choices and the spread rule.

Pure numpy. Cosine scores are not on one scale for every encoder: all-MiniLM-L6-v2 spreads a query's
scores over the bundled corpus with a standard deviation of about 0.10, multilingual-e5-small (trained
at a lower temperature) squeezes them into about 0.02. A temperature that makes one encoder's weights
concentrate makes the other's almost uniform, so T belongs to the encoder.

    S (m, n)   scores q·k of m queries against n keys (cosines)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from retrieval_attention.errors import InvalidParameterError

__all__ = [
    "TEMPERATURE_GRID",
    "snap_temperature",
    "spread_temperature",
]

#: The temperatures a slider offers, on a log scale, strictly above 0 (every encoder's own T is one of them).
# fmt: off
TEMPERATURE_GRID: tuple[float, ...] = (
    0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
    1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0,
)
# fmt: on


def snap_temperature(t: float, grid: tuple[float, ...] = TEMPERATURE_GRID) -> float:
    """The grid value nearest to ``t`` on a log scale (ties go to the smaller one).

    Example:
        >>> snap_temperature(0.011), snap_temperature(0.045), snap_temperature(100.0)
        (0.01, 0.05, 10.0)
    """
    if not (np.isfinite(t) and t > 0):
        raise InvalidParameterError(f"a temperature must be a finite number > 0, got {t!r}")
    g = np.asarray(grid, dtype=np.float64)
    return float(g[int(np.argmin(np.abs(np.log(g) - np.log(t))))])


def spread_temperature(S: ArrayLike, grid: tuple[float, ...] = TEMPERATURE_GRID) -> float:
    """The rule for an encoder whose training temperature is not known: ``T = σ / 2`` on the grid.

    σ is the median, over the queries, of the standard deviation of one query's scores over the
    keys. With ``T = σ / 2`` a score one σ above another weighs e² ≈ 7.4 times more, whatever the
    encoder's scale. On the bundled corpus and :data:`~retrieval_attention.temperature.CALIBRATION_QUERIES`
    the rule gives back both training temperatures we know: σ ≈ 0.102 for all-MiniLM-L6-v2 (T = 0.05)
    and σ ≈ 0.022 for multilingual-e5-small (T = 0.01).

    Args:
        S: (m, n) scores of m >= 1 queries against n >= 2 keys.
        grid: the allowed temperatures.

    Returns:
        The grid temperature nearest (log scale) to σ / 2.

    Raises:
        InvalidParameterError: S is not a finite (m, n) array with m >= 1, n >= 2, or its scores do not vary.

    Example:
        >>> S = np.array([[0.9, 0.7, 0.5, 0.3], [0.1, 0.3, 0.5, 0.7]])  # σ ≈ 0.224 per row
        >>> spread_temperature(S)
        0.1
    """
    S = np.asarray(S, dtype=np.float64)
    if S.ndim != 2 or S.shape[0] < 1 or S.shape[1] < 2 or not np.isfinite(S).all():
        raise InvalidParameterError(f"scores must be a finite (queries, keys) array with >= 2 keys, got {S.shape}")
    sigma = float(np.median(S.std(axis=1)))  # how far apart one query's scores lie, typically
    if sigma <= 0:
        raise InvalidParameterError("every key has the same score: no temperature can tell them apart")
    return snap_temperature(sigma / 2, grid)
