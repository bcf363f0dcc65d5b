"""Article 001's worked example by hand: two scores, ÷ √d_k, the softmax, the weighted sum.

Article 001 (注意力机制, "Self-Attention单字计算", after "The Illustrated Transformer") scores the
word "Thinking" against itself and against "Machines" in its figures::

    q₁·k₁ = 112,  q₁·k₂ = 96          step 2: one score per word
    ÷ √d_k = √64 = 8  ->  14, 12       step 3: scale
    softmax           ->  0.88, 0.12   step 3: e^s / Σ e^s
    z₁ = 0.88·v₁ + 0.12·v₂             steps 4 and 5: weigh the values, add them up

The article draws v₁ and v₂ as three boxes each, with no numbers in them; :data:`EXAMPLE_VALUES`
are ours, made up so that the sum can be followed digit by digit. :func:`score_steps` runs the
steps on any scores, d_k and values, with the core softmax
(:func:`~retrieval_attention.core.attention.softmax_breakdown`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.attention import softmax_breakdown
from retrieval_attention.core.validate import check_whole
from retrieval_attention.errors import InvalidParameterError

__all__ = [
    "ARTICLE_DK",
    "ARTICLE_SCORES",
    "ARTICLE_WORDS",
    "EXAMPLE_VALUES",
    "MAX_WORDS_BY_HAND",
    "ScoreSteps",
    "score_steps",
]

F64 = NDArray[np.float64]

#: The article's two words: "Thinking" is the query; it scores itself and "Machines".
ARTICLE_WORDS = ("Thinking", "Machines")
#: q₁·k₁ and q₁·k₂ in the article's figure.
ARTICLE_SCORES = (112.0, 96.0)
#: d_k of the original Transformer, as the article quotes it (√64 = 8).
ARTICLE_DK = 64
#: Value vectors for the two words: OURS, not the article's (its figure draws them without numbers).
EXAMPLE_VALUES = ((1.0, 0.0, 2.0), (0.0, 3.0, 1.0))
#: The hand calculation takes at most this many words (the article has two; a third shows the pattern).
MAX_WORDS_BY_HAND = 3


@dataclass(frozen=True, eq=False)
class ScoreSteps:
    """Every step of ``z = softmax(s / √d_k) V`` for one query, n words, values of e numbers."""

    scores: F64  # (n,) s_j = q·k_j
    d_k: int  # the width of q and k
    scaled: F64  # (n,) s_j / √d_k
    shifted_exp: F64  # (n,) e^(s_j/√d_k − max): the stable numerators (the max cancels when normalising)
    total: float  # Σ_j shifted_exp[j]
    weights: F64  # (n,) shifted_exp / total: sums to 1
    V: F64  # (n, e) one value vector per word
    weighted: F64  # (n, e) weights[j] · V[j]
    z: F64  # (e,) Σ_j weights[j] · V[j]

    @property
    def sqrt_dk(self) -> float:
        """√d_k, what every score is divided by."""
        return math.sqrt(self.d_k)

    @property
    def top(self) -> float:
        """The largest scaled score, subtracted before e^ (it does not change the weights)."""
        return float(self.scaled.max())


def _finite(x: ArrayLike, name: str, ndim: int) -> F64:
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{name} must be numbers") from None
    if a.ndim != ndim or a.size == 0:
        raise InvalidParameterError(f"{name} must be a non-empty {ndim}-D array, got shape {a.shape}")
    if not np.isfinite(a).all():
        raise InvalidParameterError(f"{name} must be finite numbers")
    return a


def score_steps(scores: ArrayLike, d_k: int, V: ArrayLike) -> ScoreSteps:
    """The article's steps 2 to 5 for one query: scale, exponentiate, normalise, weigh and add the values.

    Args:
        scores: (n,) q·k_j for each of the n words, finite.
        d_k: the width of q and k, a whole number >= 1.
        V: (n, e) one value vector per word, finite.

    Returns:
        ScoreSteps; its weights are the core softmax of ``scores / √d_k``.

    Raises:
        InvalidParameterError: scores or values that are not finite numbers, shapes that do not
            fit, d_k not a whole number >= 1, or scores so large that e^ cannot be computed.

    Example:
        >>> s = score_steps(ARTICLE_SCORES, ARTICLE_DK, EXAMPLE_VALUES)
        >>> s.scaled.tolist(), s.weights.round(2).tolist(), s.z.round(2).tolist()
        ([14.0, 12.0], [0.88, 0.12], [0.88, 0.36, 1.88])
    """
    s = _finite(scores, "scores", 1)
    d = check_whole(d_k, "d_k", 1)
    V_ = _finite(V, "values", 2)
    if V_.shape[0] != s.shape[0]:
        raise InvalidParameterError(f"need one value vector per score: {s.shape[0]} scores, {V_.shape[0]} values")
    steps = softmax_breakdown(s, np.arange(s.shape[0]), scale=1.0 / math.sqrt(d))
    w = steps.weights  # (n,)
    weighted = w[:, None] * V_  # (n, e)
    return ScoreSteps(
        scores=s, d_k=d, scaled=steps.logits, shifted_exp=steps.shifted_exp, total=steps.denominator,
        weights=w, V=V_, weighted=weighted, z=weighted.sum(axis=0),
    )  # fmt: skip
