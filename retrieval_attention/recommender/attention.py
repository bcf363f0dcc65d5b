"""Target attention over a watch history: the query is the candidate, keys and values the history.

The maths (recency decay, history attention) is pure numpy; the store-level functions pick the rows
of K and V for a history and a set of candidates. See the package docstring for the vectors used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.core.attention import effective_num_keys, entropy, softmax
from retrieval_attention.core.topk import topk_order
from retrieval_attention.core.validate import check_half_life, check_temperature, effective_factor
from retrieval_attention.errors import InvalidParameterError, RetrievalAttentionError
from retrieval_attention.store import KeyValueStore

__all__ = [
    "METHODS",
    "RECOMMENDER_TEMPERATURE",
    "CrossAttention",
    "Method",
    "RecommenderError",
    "TargetAttention",
    "cross_attention_matrix",
    "history_attention",
    "recency_decay",
    "target_attention",
]


Method = Literal["attention", "mean", "popular"]
#: Default softmax temperature of target attention over a history (see the module docstring).
RECOMMENDER_TEMPERATURE = 0.1  # all-MiniLM-L6-v2's; a store uses its encoder's (store.temperature_info.recommender)
#: The three rankings, comparable on the same history and the same candidates.
METHODS: tuple[Method, ...] = ("attention", "mean", "popular")


class RecommenderError(RetrievalAttentionError, ValueError):
    """A watch history or target cannot be used: empty history, unknown video ids, ..."""


# -- the maths: pure numpy ----------------------------------------------------------------------


def recency_decay(n: int, half_life: float | None = None) -> NDArray[np.float64]:
    """Recency factor of each of n history items, oldest first: ``0.5 ** (age / half_life)``.

    The age counts videos watched since (0 for the last one), so the factor halves every
    ``half_life`` videos back. ``half_life=None`` switches recency off (all ones).

    Raises:
        InvalidParameterError: half_life is not None and not a finite number > 0.

    Example:
        >>> recency_decay(4, half_life=1.0)
        array([0.125, 0.25 , 0.5  , 1.   ])
    """
    ages = np.arange(n - 1, -1, -1, dtype=np.float64)  # (n,) oldest has age n-1
    if half_life is None:
        return np.ones(n, dtype=np.float64)
    return np.exp2(-ages / check_half_life(half_life))


def history_attention(
    q: ArrayLike,
    K: ArrayLike,
    V: ArrayLike,
    temperature: float = RECOMMENDER_TEMPERATURE,
    normalize: bool = True,
    decay: ArrayLike | None = None,
    mask: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Target attention: each target (a row of q) reads the history K, V with its own weights.

    ``w = softmax(q Kᵀ / T + log decay)`` (normalize) or ``w = (q Kᵀ) · decay`` (DIN, no softmax);
    masked keys get weight 0 and a row with every key masked is all zeros. Output ``w @ V``.

    Args:
        q: target keys, shape (C, d).
        K: history keys, shape (H, d).
        V: history values, shape (H, dv).
        temperature: T > 0 of the softmax (unused when ``normalize=False``).
        normalize: True for softmax weights summing to 1, False for raw DIN-style weights.
        decay: optional recency factors > 0, shape (H,).
        mask: optional boolean (C, H), True where target c may attend to history item h.

    Returns:
        (output, weights): output (C, dv) and weights (C, H).

    Raises:
        InvalidParameterError: bad temperature (1 / T times the largest |q·k| must stay finite in
            float64), or shapes that do not fit.

    Example:
        >>> q = np.array([[1.0, 0.0]]); K = np.eye(2); V = np.array([[10.0], [20.0]])
        >>> out, w = history_attention(q, K, V, temperature=0.5)
        >>> w.round(3), out.round(2)
        (array([[0.881, 0.119]]), array([[11.19]]))
    """
    t = check_temperature(temperature)
    q, K, V = (np.asarray(x, dtype=np.float64) for x in (q, K, V))
    if q.ndim != 2 or K.ndim != 2 or V.ndim != 2 or q.shape[1] != K.shape[1] or K.shape[0] != V.shape[0]:
        raise InvalidParameterError(
            f"need q (C, d), K (H, d) and V (H, dv) with one d and one H; got {q.shape}, {K.shape}, {V.shape}"
        )
    S = q @ K.T  # (C, H) raw scores
    d = np.ones(S.shape[1]) if decay is None else np.asarray(decay, dtype=np.float64)  # (H,)
    m = np.ones(S.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)  # (C, H)
    if d.shape != (S.shape[1],) or m.shape != S.shape:
        raise InvalidParameterError(f"decay must be ({S.shape[1]},) and mask {S.shape}; got {d.shape} and {m.shape}")
    if normalize:
        effective_factor(1.0, t, scores=S)  # S / T must stay finite: no NaN weights
        with np.errstate(divide="ignore"):  # a decay that underflowed to 0 is weight 0
            logits = np.where(m, S / t + np.log(d), -np.inf)  # (C, H)
        w = softmax(logits, axis=-1)  # (C, H), rows sum to 1
    else:
        w = np.where(m, S * d, 0.0)  # (C, H), raw
    return w @ V, w


def _uniform_weights(mask: NDArray[np.bool_], decay: NDArray[np.float64]) -> NDArray[np.float64]:
    """The mean baseline as weights: equal over the unmasked keys (times decay), i.e. T = ∞."""
    w = mask * decay  # (C, H)
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrossAttention:
    """Every candidate attending over one history: the (C, H) matrix a page draws as a heatmap."""

    candidate_ids: tuple[str, ...]  # (C,) rows
    candidate_titles: tuple[str, ...]  # (C,)
    history_ids: tuple[str, ...]  # (H,) columns, oldest first
    history_titles: tuple[str, ...]  # (H,)
    scores: NDArray[np.float64]  # (C, H) raw cosines k_c·k_h
    mask: NDArray[np.bool_]  # (C, H) False where the candidate is that history item
    relevance: NDArray[np.float64]  # (C, H) weights before recency (softmax, or raw scores if not normalize)
    decay: NDArray[np.float64]  # (H,) recency factor, all 1 when recency is off
    weights: NDArray[np.float64]  # (C, H) final weights: relevance × decay, renormalised if normalize
    interest: NDArray[np.float64]  # (C, d) weights @ value embeddings
    target_scores: NDArray[np.float64]  # (C,) interest_c · k_c
    temperature: float
    normalize: bool
    half_life: float | None


@dataclass(frozen=True)
class TargetAttention:
    """One target's attention over a history: the bars, the interest vector and the score."""

    target_id: str
    target_title: str
    history_ids: tuple[str, ...]  # (H,) oldest first
    history_titles: tuple[str, ...]  # (H,)
    scores: NDArray[np.float64]  # (H,) raw cosines q·k_h
    relevance: NDArray[np.float64]  # (H,) weights before recency
    decay: NDArray[np.float64]  # (H,) recency factor
    weights: NDArray[np.float64]  # (H,) final weights; 0 where masked
    masked: NDArray[np.bool_]  # (H,) True where the history item is the target itself
    interest: NDArray[np.float64]  # (d,) Σ w_h v_h, in embedding space
    score: float  # interest · q
    output: NDArray[np.float64]  # (dv,) weights @ store.V[history]: pass to store.describe_output
    temperature: float
    normalize: bool
    half_life: float | None

    @property
    def entropy(self) -> float:
        """Entropy in nats of the weights' shares ``|w| / Σ|w|`` (the weights themselves with softmax on).

        Raw weights (softmax off) are cosines that neither sum to 1 nor stay >= 0; their shares are
        what a reader can compare with softmax's weights. 0 for one-hot, at most log H.
        """
        w = np.abs(self.weights)
        total = w.sum()
        return float(entropy(w / total)) if total > 0 else 0.0

    @property
    def effective_num_keys(self) -> float:
        """About how many history items the target really reads, between 1 and H (0 if no weight).

        ``1 / Σ p²`` of the shares ``p = |w| / Σ|w|``: with softmax on, ``1 / Σ w²``.
        """
        return float(effective_num_keys(self.weights))

    def top(self, m: int = 3) -> list[tuple[str, str, float]]:
        """The m history items with the largest weights as (id, title, weight), largest first."""
        order = topk_order(self.weights)[:m]
        return [(self.history_ids[i], self.history_titles[i], float(self.weights[i])) for i in order]


# -- ids to positions ---------------------------------------------------------------------------


def _positions(store: KeyValueStore, ids: Sequence[str], what: str) -> NDArray[np.int64]:
    """Corpus positions of ids, or one RecommenderError naming the unknown ones."""
    if isinstance(ids, str):
        raise RecommenderError(f"the {what} must be a list of video ids, not one string ({ids[:40]!r})")
    ids = list(ids)
    if not ids:
        raise RecommenderError(f"the {what} is empty: give at least one watched video id")
    pos, unknown = [], []
    for v in ids:
        try:
            pos.append(store.corpus.index_of(v))
        except (KeyError, TypeError):  # TypeError: an unhashable "id" such as a list
            unknown.append(v)
    if unknown:
        shown = ", ".join(map(repr, unknown[:5])) + (" ..." if len(unknown) > 5 else "")
        raise RecommenderError(f"unknown video id(s) in the {what}: {shown}")
    return np.array(pos, dtype=np.int64)


# -- target attention ---------------------------------------------------------------------------


def store_temperature(store: KeyValueStore, temperature: float | None, used: bool = True) -> float:
    """``temperature``, or None: the store's encoder's own for target attention (0.1 for MiniLM, 0.02 for E5).

    ``used=False`` (DIN's raw weights, no softmax): the temperature plays no part, so None is
    :data:`RECOMMENDER_TEMPERATURE` and the encoder is not asked.
    """
    if temperature is not None:
        return temperature
    return store.temperature_info.recommender if used else RECOMMENDER_TEMPERATURE


def _cross(
    store: KeyValueStore,
    h: NDArray[np.int64],
    c: NDArray[np.int64],
    temperature: float | None,
    normalize: bool,
    half_life: float | None,
    uniform: bool = False,
) -> CrossAttention:
    """Candidates c (C,) attending over history h (H,), as positions."""
    t, hl = check_temperature(store_temperature(store, temperature, normalize)), check_half_life(half_life)
    effective_factor(1.0, t)  # the store's rule: cosines times 1 / T must fit float32, T must not underflow
    Kc, Kh = store.K[c], store.K[h]  # (C, d), (H, d)
    Vh = store.value_embeddings[h]  # (H, d)
    decay = recency_decay(len(h), hl)  # (H,)
    mask = c[:, None] != h[None, :]  # (C, H) a video never attends to itself
    if uniform:  # the mean baseline: T = ∞
        relevance, weights = _uniform_weights(mask, np.ones(len(h))), _uniform_weights(mask, decay)
    else:
        _, relevance = history_attention(Kc, Kh, Vh, t, normalize, mask=mask)
        _, weights = history_attention(Kc, Kh, Vh, t, normalize, decay=decay, mask=mask)
    interest = weights @ Vh.astype(np.float64)  # (C, d)
    videos = store.corpus.videos
    return CrossAttention(
        candidate_ids=tuple(videos[i].id for i in c),
        candidate_titles=tuple(videos[i].title for i in c),
        history_ids=tuple(videos[i].id for i in h),
        history_titles=tuple(videos[i].title for i in h),
        scores=Kc.astype(np.float64) @ Kh.T.astype(np.float64),  # (C, H), as history_attention computes it
        mask=mask,
        relevance=relevance,
        decay=decay,
        weights=weights,
        interest=interest,
        target_scores=np.einsum("cd,cd->c", interest, Kc.astype(np.float64)),  # (C,)
        temperature=t,
        normalize=normalize,
        half_life=hl,
    )


def cross_attention_matrix(
    store: KeyValueStore,
    history_ids: Sequence[str],
    candidate_ids: Sequence[str] | None = None,
    temperature: float | None = None,
    normalize: bool = True,
    half_life: float | None = None,
) -> CrossAttention:
    """Every candidate's target attention over one history, as one (C, H) matrix computation.

    Args:
        store: the key-value store (keys ``store.K``, values ``store.value_embeddings``).
        history_ids: watched video ids, oldest first.
        candidate_ids: the targets (rows); None for every video not in the history.
        temperature: T > 0 of the softmax; None (default): the encoder's own for target attention
            (0.1 for all-MiniLM-L6-v2, 0.02 for multilingual-e5-small; see the module docstring).
        normalize: False for DIN-style raw weights (no softmax).
        half_life: recency half-life in videos; None for no recency.

    Returns:
        A :class:`CrossAttention`; a candidate that is itself in the history does not attend to
        that item (masked, weight 0).

    Raises:
        RecommenderError: empty history or candidate list, unknown ids.
        InvalidParameterError: bad temperature or half_life.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> X = cross_attention_matrix(store, ["v270", "v010", "v028"], ["v252", "v136"])
        >>> X.weights.shape, X.weights.argmax(axis=1)  # cat clip -> cat video, pizza -> pizza dough
        ((2, 3), array([0, 2]))
    """
    h = _positions(store, history_ids, "history")
    if candidate_ids is None:
        c = np.setdiff1d(np.arange(len(store), dtype=np.int64), h)
    else:
        c = _positions(store, candidate_ids, "candidate list")
    return _cross(store, h, c, temperature, normalize, half_life)


def target_attention(
    store: KeyValueStore,
    history_ids: Sequence[str],
    target_id: str,
    temperature: float | None = None,
    normalize: bool = True,
    half_life: float | None = None,
) -> TargetAttention:
    """Attention over a watch history with the target item as the query (DIN).

    q = the target's key (title embedding), K / V = the history's title / title+description
    embeddings. Returns the weights over the history, the target-specific interest Σ wᵢ vᵢ and
    the score interest · q.

    Args:
        store: the key-value store.
        history_ids: watched video ids, oldest first (a video watched twice counts twice).
        target_id: the candidate video id.
        temperature: T > 0; None (default): the encoder's own (0.1 for MiniLM, 0.02 for E5). T = 1 makes the weights almost uniform on cosine
            scores (the mean baseline); T = 0.05 almost one-hot.
        normalize: True: softmax weights summing to 1. False: DIN's raw weights ``q·kᵢ``
            (times recency), no softmax, temperature unused.
        half_life: recency half-life in videos (age 0 = last watched); None: no recency.

    Returns:
        A :class:`TargetAttention`. If the target is in the history, that item is masked (weight
        0); if it is the only item, weights, interest and score are 0.

    Raises:
        RecommenderError: empty history, unknown history or target id.
        InvalidParameterError: bad temperature or half_life.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> ta = target_attention(store, ["v270", "v010", "v028"], "v252")  # cats, game, pizza
        >>> ta.top(1)[0][1], round(float(ta.weights.sum()), 3)
        ('Funny Cats Compilation 2024', 1.0)
    """
    h = _positions(store, history_ids, "history")
    if not isinstance(target_id, str):
        raise RecommenderError(f"the target must be one video id (text), got {type(target_id).__name__}")
    c = _positions(store, [target_id], "target")
    X = _cross(store, h, c, temperature, normalize, half_life)
    w = X.weights[0]  # (H,)
    return TargetAttention(
        target_id=X.candidate_ids[0],
        target_title=X.candidate_titles[0],
        history_ids=X.history_ids,
        history_titles=X.history_titles,
        scores=X.scores[0],
        relevance=X.relevance[0],
        decay=X.decay,
        weights=w,
        masked=~X.mask[0],
        interest=X.interest[0],
        score=float(X.target_scores[0]),
        output=w @ store.V[h].astype(np.float64),  # (dv,)
        temperature=X.temperature,
        normalize=normalize,
        half_life=X.half_life,
    )
