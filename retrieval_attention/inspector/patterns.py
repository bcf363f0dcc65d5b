"""Heads with names: what one head's attention matrix does, measured as scores in [0, 1].

Article 003 says the Transformer runs several heads "so that each can learn different attention
weights"; article 001 asks what "it" refers to in "The animal didn't cross the street because it
was too tired". This module measures both on a head's weights A (T, T), rows = queries, columns =
keys, every row summing to 1 (what :meth:`TransformerInspector.layer_attention` returns per head)::

    previous  = mean over i = 1..T-1 of A[i, i-1]         weight on the token just before
    next      = mean over i = 0..T-2 of A[i, i+1]         weight on the token just after
    itself    = mean over i of A[i, i]                    weight on the token itself (the diagonal)
    special   = mean over i of Σ_{j special} A[i, j]      weight resting on [CLS] / [SEP]
    broad     = mean over i of H(A[i]) / log T            normalised entropy: 1 = uniform, 0 = one-hot

The first four are shares of a row's weight, averaged over the rows where they are defined (row 0
has no previous token, row T-1 no next one), so each lies in [0, 1] and a head that does only that
scores 1. A head is named by :func:`name_pattern`: the highest score among those above their
threshold (:data:`THRESHOLDS`: more than half the weight for the four shares, 0.8 for the entropy,
since half a row's weight on one token still leaves H / log T near 0.7), "mixed" when none does.

The article's pronoun is a single cell: :func:`pair_weight` is ``A[query, key]``, the share of the
query's weight the key receives. Which key a pronoun "looks at" is measured, not assumed:
:func:`strongest_antecedent` takes, among the words before the pronoun (a pronoun points back to a
word already said), the one that some head gives the most weight. The token right before is left
out, because a previous-token head gives it nearly all the weight whatever it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.attention import entropy
from retrieval_attention.core.topk import topk_order
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.i18n import N_
from retrieval_attention.inspector.results import F32, _frozen

__all__ = [
    "MIXED",
    "PATTERNS",
    "PATTERN_LABELS",
    "PRONOUNS",
    "THRESHOLDS",
    "HeadPattern",
    "Link",
    "antecedent_candidates",
    "find_pronoun",
    "head_patterns",
    "link",
    "name_pattern",
    "pair_weight",
    "pattern_scores",
    "strongest_antecedent",
]

#: The patterns, in the order they are reported (and win ties).
PATTERNS = ("previous", "next", "itself", "special", "broad")
#: The name of a head where no pattern reaches its threshold.
MIXED = "mixed"
#: The score a pattern must exceed to name a head: more than half the weight, or a near-uniform spread.
THRESHOLDS: Mapping[str, float] = {"previous": 0.5, "next": 0.5, "itself": 0.5, "special": 0.5, "broad": 0.8}
#: Short names for a head grid's panel titles (translated by the package catalogue).
PATTERN_LABELS = {
    "previous": N_("previous"),
    "next": N_("next"),
    "itself": N_("itself"),
    "special": N_("[CLS]/[SEP]"),
    "broad": N_("broad"),
    MIXED: N_("mixed"),
}
#: Personal pronouns as an uncased WordPiece tokenizer writes them (English, and Spanish without accents).
PRONOUNS = frozenset(
    "it he she they him her them its his their itself himself herself themselves ella ellas ellos".split()
)
#: Row sums may differ from 1 by float32 rounding.
_ROW_SUM_TOLERANCE = 1e-3


def _check_weights(weights: ArrayLike) -> NDArray[np.float64]:
    """(..., T, T) row-stochastic weights as float64, or a one-line error."""
    A = np.asarray(weights, dtype=np.float64)
    if A.ndim < 2 or A.shape[-1] != A.shape[-2] or A.shape[-1] < 2:
        raise InvalidParameterError(f"weights must be square (..., T, T) with T >= 2, got shape {A.shape}")
    if not np.isfinite(A).all() or (A < 0).any():
        raise InvalidParameterError("weights must be finite and non-negative")
    if not np.allclose(A.sum(axis=-1), 1.0, atol=_ROW_SUM_TOLERANCE):
        raise InvalidParameterError("every row of the weights must sum to 1 (attention after the softmax)")
    return A


def _check_special(special: ArrayLike, T: int) -> NDArray[np.bool_]:
    s = np.asarray(special)
    if s.shape != (T,) or s.dtype != bool:
        raise InvalidParameterError(f"special must be a boolean mask of shape ({T},), got {s.dtype} {s.shape}")
    return s


def pattern_scores(weights: ArrayLike, special: ArrayLike) -> dict[str, float]:
    """The five pattern scores of one head (definitions in the module docstring), each in [0, 1].

    Args:
        weights: A (T, T), T >= 2, rows = queries, every row summing to 1.
        special: (T,) bool, True for [CLS], [SEP] and other special tokens.

    Returns:
        ``{"previous": ..., "next": ..., "itself": ..., "special": ..., "broad": ...}`` (floats).

    Raises:
        InvalidParameterError: weights not square, too small, negative or not summing to 1 per row;
            special of the wrong shape or type.

    Example:
        >>> shift = np.eye(4, k=-1); shift[0, 0] = 1.0  # every token looks at the one before
        >>> pattern_scores(shift, np.zeros(4, bool))["previous"]
        1.0
    """
    A = _check_weights(weights)
    if A.ndim != 2:
        raise InvalidParameterError(f"weights must be one head's (T, T), got shape {A.shape}")
    T = A.shape[0]
    mask = _check_special(special, T)
    h = np.asarray(entropy(A, axis=-1))  # (T,) nats, 0 log 0 = 0
    scores = {
        "previous": float(np.diagonal(A, offset=-1).mean()),  # A[i, i-1], i = 1..T-1
        "next": float(np.diagonal(A, offset=1).mean()),  # A[i, i+1], i = 0..T-2
        "itself": float(np.diagonal(A).mean()),
        "special": float(A[:, mask].sum(axis=1).mean()),  # 0 when no token is special
        "broad": float((h / np.log(T)).mean()),
    }
    return {k: min(max(v, 0.0), 1.0) for k, v in scores.items()}  # rounding never leaves [0, 1]


def name_pattern(scores: Mapping[str, float], thresholds: Mapping[str, float] = THRESHOLDS) -> str:
    """A head's name: its highest-scoring pattern among those above their threshold, else "mixed".

    Args:
        scores: :func:`pattern_scores` of one head.
        thresholds: the score each pattern must exceed (default :data:`THRESHOLDS`).

    Returns:
        One of :data:`PATTERNS`, or :data:`MIXED`.

    Example:
        >>> name_pattern({"previous": 0.9, "next": 0.0, "itself": 0.05, "special": 0.05, "broad": 0.1})
        'previous'
        >>> name_pattern({"previous": 0.3, "next": 0.0, "itself": 0.1, "special": 0.45, "broad": 0.6})
        'mixed'
    """
    passing = [p for p in PATTERNS if scores[p] > thresholds[p]]
    return max(passing, key=lambda p: scores[p]) if passing else MIXED  # max keeps the first of a tie


@dataclass(frozen=True)
class HeadPattern:
    """One head's measured pattern scores and its name."""

    head: int  # head index, 0-based
    scores: dict[str, float]  # pattern -> score in [0, 1], keys in PATTERNS order
    name: str  # the winning pattern (one of PATTERNS) or MIXED

    @property
    def score(self) -> float | None:
        """The winning pattern's score; None for a mixed head."""
        return self.scores.get(self.name)


def head_patterns(weights: ArrayLike, special: ArrayLike) -> tuple[HeadPattern, ...]:
    """Every head of a layer, scored and named.

    Args:
        weights: (h, T, T) weights of all heads of one layer (``LayerAttention.weights``).
        special: (T,) bool, True for [CLS], [SEP].

    Returns:
        h HeadPattern, in head order.

    Example:
        >>> W = np.stack([np.eye(3), np.full((3, 3), 1 / 3)])  # head 0: itself, head 1: uniform
        >>> [p.name for p in head_patterns(W, np.array([True, False, True]))]
        ['itself', 'broad']
    """
    A = _check_weights(weights)
    if A.ndim != 3:
        raise InvalidParameterError(f"weights must be (h, T, T), got shape {A.shape}")
    out = []
    for k in range(A.shape[0]):
        s = pattern_scores(A[k], special)
        out.append(HeadPattern(head=k, scores=s, name=name_pattern(s)))
    return tuple(out)


def pair_weight(weights: ArrayLike, query: int, key: int) -> NDArray[np.floating] | float:
    """The pronoun score: the share of ``query``'s weight that ``key`` receives, ``A[..., query, key]``.

    Args:
        weights: (..., T, T) weights of one head or many (e.g. (n_layers, h, T, T)).
        query: the asking token's position (e.g. "it").
        key: the answering token's position (e.g. "animal").

    Returns:
        A float in [0, 1] for one head, else an array of the leading shape.

    Example:
        >>> pair_weight([[0.5, 0.5], [0.9, 0.1]], 1, 0)
        0.9
    """
    A = _check_weights(weights)
    T = A.shape[-1]
    for name, i in (("query", query), ("key", key)):
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < T:
            raise InvalidParameterError(f"{name} must be a token position in 0..{T - 1}, got {i!r}")
    out = A[..., query, key]
    return float(out) if np.ndim(out) == 0 else out


def find_pronoun(tokens: Sequence[str]) -> int | None:
    """The position of the first personal pronoun (:data:`PRONOUNS`) among ``tokens``, or None.

    Example:
        >>> find_pronoun(["[CLS]", "the", "animal", "was", "tired", "because", "it", "[SEP]"])
        6
    """
    return next((i for i, t in enumerate(tokens) if t.lower() in PRONOUNS), None)


def antecedent_candidates(tokens: Sequence[str], special: ArrayLike, query: int) -> list[int]:
    """Positions a pronoun at ``query`` may point back to: earlier word tokens, not the one right before.

    A word token is not special and holds a letter (punctuation and "##" pieces' marks alone are not).

    Example:
        >>> antecedent_candidates(["[CLS]", "the", "dog", ",", "so", "she", "[SEP]"], [1, 0, 0, 0, 0, 0, 1], 5)
        [1, 2]
    """
    mask = _check_special(np.asarray(special, dtype=bool), len(tokens))
    if isinstance(query, bool) or not isinstance(query, (int, np.integer)) or not 0 <= query < len(tokens):
        raise InvalidParameterError(f"query must be a token position in 0..{len(tokens) - 1}, got {query!r}")
    return [j for j in range(max(query - 1, 0)) if not mask[j] and any(ch.isalpha() for ch in tokens[j])]


@dataclass(frozen=True, eq=False)
class Link:
    """How much one query token looks at one key token, in every head of every layer."""

    query: int  # the query token's position (e.g. "it")
    key: int  # the key token's position (e.g. "animal")
    weights: F32  # (n_layers, h) pair_weight in every head

    def top(self, n: int = 3) -> list[tuple[int, int, float]]:
        """The ``n`` heads giving the key the most weight: (layer, head, weight), strongest first."""
        flat = topk_order(self.weights.ravel())[: max(int(n), 0)]  # (n,) flat (layer, head) indices, best first
        return [
            (int(i // self.weights.shape[1]), int(i % self.weights.shape[1]), float(self.weights.flat[i])) for i in flat
        ]


def link(weights: ArrayLike, query: int, key: int) -> Link:
    """The weight ``query`` puts on ``key`` in every head: :func:`pair_weight` over (n_layers, h, T, T).

    Args:
        weights: (n_layers, h, T, T), e.g. :meth:`TransformerInspector.all_weights`.
        query: the asking token's position.
        key: the answering token's position.

    Returns:
        Link with weights (n_layers, h).

    Example:
        >>> W = np.full((2, 3, 4, 4), 0.25); W[1, 2, 3] = [0.7, 0.1, 0.1, 0.1]
        >>> [(layer, head, round(w, 2)) for layer, head, w in link(W, 3, 0).top(1)]
        [(1, 2, 0.7)]
    """
    A = np.asarray(weights)
    if A.ndim != 4:
        raise InvalidParameterError(f"weights must be (n_layers, h, T, T), got shape {A.shape}")
    return Link(query=int(query), key=int(key), weights=_frozen(pair_weight(A, query, key)))


def strongest_antecedent(weights: ArrayLike, tokens: Sequence[str], special: ArrayLike, query: int) -> int | None:
    """Among :func:`antecedent_candidates`, the key that one head of one layer weights most from ``query``.

    Args:
        weights: (n_layers, h, T, T) every head's weights.
        tokens: the T tokens.
        special: (T,) bool, True for [CLS], [SEP].
        query: the pronoun's position.

    Returns:
        The key's position, or None when no word comes before (but one) the pronoun.

    Example:
        >>> W = np.full((1, 1, 5, 5), 0.2); W[0, 0, 4] = [0.1, 0.6, 0.1, 0.1, 0.1]
        >>> strongest_antecedent(W, ["[CLS]", "dog", "ran", "so", "she"], [1, 0, 0, 0, 0], 4)
        1
    """
    A = _check_weights(weights)
    if A.ndim != 4:
        raise InvalidParameterError(f"weights must be (n_layers, h, T, T), got shape {A.shape}")
    candidates = antecedent_candidates(tokens, special, query)
    if not candidates:
        return None
    best = A[:, :, query, candidates].max(axis=(0, 1))  # (len(candidates),) each key's strongest head
    return candidates[int(np.argmax(best))]  # the first of a tie
