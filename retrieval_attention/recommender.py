"""Recommender mode: target attention over a watch history (Deep Interest Network, Alibaba 2018).

In search the query is what the user typed. In a recommender the query is the *candidate item*,
and the keys and values are the user's watch history: the user's interest is not one fixed vector
but depends on what is being recommended. A cooking video looks at the cooking part of a mixed
history, a Python tutorial at the programming part.

Vectors used (one choice, made once, for every function here):

* key of video i: its title embedding ``store.K[i]`` (unit, d);
* value of video i: its title + description embedding ``store.value_embeddings[i]`` (unit, d),
  so the interest vector lives in the same embedding space as the keys;
* query: the target's key ``store.K[target]``.

For one target with key q and a history with keys K (H, d) and values V (H, d)::

    s_i      = q·k_i                                  raw score (cosine), (H,)
    decay_i  = 0.5 ** (age_i / half_life)             recency, age 0 = most recent; 1 when off
    w_i      = softmax(s / T + log decay)_i           = relevance_i · decay_i / Σ_j relevance_j · decay_j
    interest = Σ_i w_i v_i                            target-specific interest vector, (d,)
    score    = interest · q                           how well the target fits that interest

``normalize=False`` is the DIN paper's choice: no softmax, ``w_i = s_i · decay_i`` (the temperature
is not used). DIN keeps raw weights so that the size of the interest vector says how *strongly*
the history supports the target (five cat videos weigh more than one); the weights then do not sum
to 1, can be negative for unrelated items, and grow with the history's length.

Temperature: scores are cosines of unit vectors, which differ by a few tenths at most, so the
temperature decides what the bars look like. Measured over the 10 bundled personas and their top-10
attention recommendations (all-MiniLM-L6-v2): at T = 1 (the issue's first suggestion) the weights
are almost uniform and attention *is* the mean baseline; at the package's retrieval default
T = 0.05 the median largest weight is 0.80 (about 1.5 effective items), so attention looks like
"nearest watched item"; at :data:`RECOMMENDER_TEMPERATURE` = 0.1 it is 0.45 (about 3.4 effective
items): one item leads and its neighbours still show. That is the default here, chosen for readable
weights, not tuned on the leave-last-out numbers.

Masking: a key equal to the query (the target itself sitting in the history, or a seen item ranked
with ``exclude_seen=False``) gets weight 0, exactly like a masked key in attention, because it would
otherwise explain itself with cosine 1. If nothing is left to attend to, the weights, the interest
and the score are all 0 (never NaN). Empty histories and unknown ids raise :class:`RecommenderError`.

Shapes: H history items, C candidates, d embedding size; the cross-attention matrix is (C, H).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .attention import check_temperature, effective_num_keys, entropy, softmax
from .corpus import Persona, load_histories
from .errors import InvalidParameterError, RetrievalAttentionError
from .index import check_k
from .retrieval import KeyValueStore

__all__ = [
    "METHODS",
    "RECOMMENDER_TEMPERATURE",
    "CrossAttention",
    "Explanation",
    "LeaveLastOut",
    "Method",
    "MethodScore",
    "Recommendations",
    "RecommenderError",
    "TargetAttention",
    "cross_attention_matrix",
    "evaluate_leave_last_out",
    "history_attention",
    "recency_decay",
    "recommend",
    "target_attention",
]

Method = Literal["attention", "mean", "popular"]
#: Default softmax temperature of target attention over a history (see the module docstring).
RECOMMENDER_TEMPERATURE = 0.1
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
    return np.exp2(-ages / _check_half_life(half_life))


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

    Example:
        >>> q = np.array([[1.0, 0.0]]); K = np.eye(2); V = np.array([[10.0], [20.0]])
        >>> out, w = history_attention(q, K, V, temperature=0.5)
        >>> w.round(3), out.round(2)
        (array([[0.881, 0.119]]), array([[11.19]]))
    """
    t = check_temperature(temperature)
    q, K, V = (np.asarray(x, dtype=np.float64) for x in (q, K, V))
    S = q @ K.T  # (C, H) raw scores
    d = np.ones(S.shape[1]) if decay is None else np.asarray(decay, dtype=np.float64)  # (H,)
    m = np.ones(S.shape, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)  # (C, H)
    if normalize:
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
        """Entropy of the weights in nats (normalised weights only; 0 for one-hot)."""
        return float(entropy(np.clip(self.weights, 0, None)))

    @property
    def effective_num_keys(self) -> float:
        """1 / Σ w²: about how many history items the target really reads (normalised weights)."""
        return float(effective_num_keys(self.weights))

    def top(self, m: int = 3) -> list[tuple[str, str, float]]:
        """The m history items with the largest weights as (id, title, weight), largest first."""
        order = np.argsort(-self.weights, kind="stable")[:m]
        return [(self.history_ids[i], self.history_titles[i], float(self.weights[i])) for i in order]


@dataclass(frozen=True)
class Explanation:
    """Why an item was recommended: the history item it attended to most."""

    video_id: str  # the recommended video
    because_id: str | None  # history item with the largest weight (None if every key was masked)
    because_title: str | None
    weight: float  # its attention weight
    similarity: float  # its raw cosine with the recommended video's title

    @property
    def text(self) -> str:
        """``because you watched 'X' (weight 0.62)``."""
        if self.because_id is None:
            return "no history item to attend to"
        return f"because you watched {self.because_title!r} (weight {self.weight:.2f})"


@dataclass(frozen=True)
class Recommendations:
    """A ranking of unseen videos for one history, in the same form for all three methods."""

    method: Method
    history_ids: tuple[str, ...]
    ids: tuple[str, ...]  # (k,) best first
    titles: tuple[str, ...]  # (k,)
    positions: NDArray[np.int64]  # (k,) corpus positions
    scores: NDArray[np.float64]  # (k,) attention: interest·target; mean: mean·target; popular: views
    explanations: tuple[Explanation, ...]  # attention only (empty for mean and popular)
    attention: CrossAttention | None  # attention only: the (k, H) rows of the recommended items
    n_candidates: int  # how many videos were ranked
    temperature: float
    normalize: bool
    half_life: float | None


@dataclass(frozen=True)
class MethodScore:
    """Leave-last-out quality of one method."""

    method: Method
    hit_rate: float  # share of personas whose held-out video is in the top k, in [0, 1]
    mrr: float  # mean of 1 / rank over the full ranking (no cut-off), in (0, 1]
    ranks: dict[str, int]  # persona id -> 1-based rank of its held-out video


@dataclass(frozen=True)
class LeaveLastOut:
    """The evaluation of :func:`evaluate_leave_last_out`."""

    k: int
    scores: dict[str, MethodScore]  # method -> its numbers
    held_out: dict[str, str]  # persona id -> the hidden (last watched) video id
    n_candidates: dict[str, int]  # persona id -> how many videos were ranked
    skipped: tuple[str, ...]  # persona ids with fewer than 2 videos
    temperature: float
    normalize: bool
    half_life: float | None


# -- validation ---------------------------------------------------------------------------------


def _check_half_life(half_life: float | None) -> float | None:
    if half_life is None:
        return None
    try:
        h = float(half_life)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"half_life must be None or a number > 0, got {half_life!r}") from None
    if not math.isfinite(h) or h <= 0:
        raise InvalidParameterError(f"half_life must be None or a finite number > 0 (in videos), got {half_life!r}")
    return h


def _check_method(method: str) -> Method:
    if method not in METHODS:
        raise InvalidParameterError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    return method  # type: ignore[return-value]


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


def _cross(
    store: KeyValueStore,
    h: NDArray[np.int64],
    c: NDArray[np.int64],
    temperature: float,
    normalize: bool,
    half_life: float | None,
    uniform: bool = False,
) -> CrossAttention:
    """Candidates c (C,) attending over history h (H,), as positions."""
    t, hl = check_temperature(temperature), _check_half_life(half_life)
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
    temperature: float = RECOMMENDER_TEMPERATURE,
    normalize: bool = True,
    half_life: float | None = None,
) -> CrossAttention:
    """Every candidate's target attention over one history, as one (C, H) matrix computation.

    Args:
        store: the key-value store (keys ``store.K``, values ``store.value_embeddings``).
        history_ids: watched video ids, oldest first.
        candidate_ids: the targets (rows); None for every video not in the history.
        temperature: T > 0 of the softmax (default 0.1, see the module docstring).
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
    temperature: float = RECOMMENDER_TEMPERATURE,
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
        temperature: T > 0 (default 0.1). T = 1 makes the weights almost uniform on cosine
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


# -- ranking ------------------------------------------------------------------------------------


def _ranked(
    store: KeyValueStore,
    h: NDArray[np.int64],
    method: Method,
    exclude_seen: bool,
    temperature: float,
    normalize: bool,
    half_life: float | None,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64], CrossAttention | None]:
    """Every candidate scored: (candidates c (C,), scores (C,), order best first (C,), cross-attention)."""
    t, hl = check_temperature(temperature), _check_half_life(half_life)
    all_pos = np.arange(len(store), dtype=np.int64)
    c = np.setdiff1d(all_pos, h) if exclude_seen else all_pos  # (C,) corpus order
    X = None
    if method == "popular":
        s = np.array([v.views or 0 for v in store.corpus.videos], dtype=np.float64)[c]  # unknown = 0
    else:
        X = _cross(store, h, c, t, normalize, hl, uniform=method == "mean")
        s = X.target_scores
    order = np.argsort(-s, kind="stable")  # ties keep corpus order
    return c, s, order, X if method == "attention" else None


def _rows(X: CrossAttention, rows: NDArray[np.int64]) -> CrossAttention:
    """The given rows (candidates) of a cross-attention matrix."""
    return CrossAttention(
        candidate_ids=tuple(X.candidate_ids[i] for i in rows),
        candidate_titles=tuple(X.candidate_titles[i] for i in rows),
        history_ids=X.history_ids,
        history_titles=X.history_titles,
        scores=X.scores[rows],
        mask=X.mask[rows],
        relevance=X.relevance[rows],
        decay=X.decay,
        weights=X.weights[rows],
        interest=X.interest[rows],
        target_scores=X.target_scores[rows],
        temperature=X.temperature,
        normalize=X.normalize,
        half_life=X.half_life,
    )


def recommend(
    store: KeyValueStore,
    history_ids: Sequence[str],
    k: int = 10,
    method: Method = "attention",
    exclude_seen: bool = True,
    temperature: float = RECOMMENDER_TEMPERATURE,
    normalize: bool = True,
    half_life: float | None = None,
) -> Recommendations:
    """Rank every candidate video for a history and return the best k.

    * ``attention``: each candidate c gets its own interest vector (target attention with q = k_c)
      and the score interest_c · k_c; one (C, H) matrix computation for all candidates.
    * ``mean``: the no-attention baseline, one interest vector = the mean of the history's values
      (attention with equal weights, T = ∞); score mean · k_c. With ``half_life`` it is the
      recency-weighted mean, so recency never separates the two.
    * ``popular``: rank by view count (unknown views count as 0); the history only removes seen items.

    Ties keep corpus order. All three rank the same candidates, so they are comparable.

    Args:
        store: the key-value store.
        history_ids: watched video ids, oldest first.
        k: how many to return (>= 1); fewer only when fewer candidates exist.
        method: "attention", "mean" or "popular".
        exclude_seen: True to rank only unseen videos. False ranks every video; a seen candidate
            then does not attend to itself (masked).
        temperature: T > 0 for attention (default 0.1).
        normalize: False for DIN-style raw attention weights (attention only).
        half_life: recency half-life in videos (attention and mean); None for no recency.

    Returns:
        :class:`Recommendations`, with explanations and the (k, H) weights for attention.

    Raises:
        RecommenderError: empty history, unknown ids.
        InvalidParameterError: bad k, method, temperature or half_life.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> rec = recommend(store, ["v270", "v159", "v046"], k=3)  # three cat videos
        >>> [store.corpus.by_id(i).category for i in rec.ids]
        ['pets', 'pets', 'pets']
    """
    k, m = check_k(k), _check_method(method)
    h = _positions(store, history_ids, "history")
    c, s, order, X = _ranked(store, h, m, exclude_seen, temperature, normalize, half_life)
    best = order[:k]  # (k,) rows of the candidate list
    videos = store.corpus.videos
    pos = c[best]
    top = None if X is None else _rows(X, best)
    explanations = () if top is None else tuple(_explain(top, r) for r in range(len(best)))
    return Recommendations(
        method=m,
        history_ids=tuple(videos[i].id for i in h),
        ids=tuple(videos[i].id for i in pos),
        titles=tuple(videos[i].title for i in pos),
        positions=pos,
        scores=s[best],
        explanations=explanations,
        attention=top,
        n_candidates=len(c),
        temperature=check_temperature(temperature),
        normalize=normalize,
        half_life=_check_half_life(half_life),
    )


def _explain(X: CrossAttention, r: int) -> Explanation:
    w = np.where(X.mask[r], X.weights[r], -np.inf)  # (H,) masked items never explain
    j = int(np.argmax(w))
    if not np.isfinite(w[j]):
        return Explanation(X.candidate_ids[r], None, None, 0.0, 0.0)
    return Explanation(X.candidate_ids[r], X.history_ids[j], X.history_titles[j], float(w[j]), float(X.scores[r, j]))


# -- evaluation ---------------------------------------------------------------------------------


def evaluate_leave_last_out(
    store: KeyValueStore,
    personas: Sequence[Persona] | None = None,
    k: int = 10,
    methods: Sequence[Method] = METHODS,
    temperature: float = RECOMMENDER_TEMPERATURE,
    normalize: bool = True,
    half_life: float | None = None,
) -> LeaveLastOut:
    """Leave-last-out: hide each persona's last watched video, rank all others, see where it lands.

    For each persona the history minus its last video is the input; every video not in that
    input (the hidden one included) is ranked. Reported per method: hit rate@k (share of personas
    whose hidden video is in the top k) and MRR (mean of 1/rank over the full ranking).

    What this measures, honestly: the bundled histories are *hand-written* personas (10 of them,
    11-22 videos each) over a hand-written corpus of about 310 titles in 14 categories. Each persona
    was written to be about two or three topics, and the hidden last video was chosen by the same
    author to fit them. So a hit says "the title embedding puts the hidden title near the persona's
    other titles", a check of the embedding and the topic design, not of real user behaviour; there
    are no clicks, no popularity feedback, and the view counts are made up, which makes ``popular``
    a sanity floor rather than a real baseline. With 10 personas one persona moves the hit rate by
    0.1: differences of one or two hits are noise. The temperature was chosen for readable weights,
    not tuned on these numbers.

    Args:
        store: the key-value store.
        personas: the histories; None for the bundled ``data/histories.json``.
        k: the cut-off of the hit rate (>= 1).
        methods: which of "attention", "mean", "popular" to evaluate.
        temperature, normalize, half_life: as in :func:`recommend`.

    Returns:
        :class:`LeaveLastOut` with per-method hit rate, MRR and per-persona ranks. Personas with
        fewer than 2 videos (or whose last video also appears earlier) are listed in ``skipped``.

    Raises:
        RecommenderError: no persona can be evaluated, unknown video ids.
        InvalidParameterError: bad k, method, temperature or half_life.

    Example:
        >>> import retrieval_attention as ra
        >>> store = ra.KeyValueStore.from_corpus(ra.load_corpus())
        >>> ev = evaluate_leave_last_out(store)
        >>> 0 <= ev.scores["attention"].hit_rate <= 1
        True
    """
    k = check_k(k)
    ms = [_check_method(m) for m in methods]
    if not ms:
        raise InvalidParameterError("methods is empty: give at least one of " + ", ".join(METHODS))
    if personas is None:
        personas = load_histories(corpus=store.corpus)
    ranks: dict[str, dict[str, int]] = {m: {} for m in ms}
    held_out, n_candidates, skipped = {}, {}, []
    for p in personas:
        if len(p.history) < 2 or p.history[-1] in p.history[:-1]:
            skipped.append(p.id)
            continue
        h = _positions(store, p.history[:-1], f"history of {p.id}")
        target = int(_positions(store, [p.history[-1]], f"history of {p.id}")[0])
        held_out[p.id] = p.history[-1]
        for m in ms:
            c, _, order, _ = _ranked(store, h, m, True, temperature, normalize, half_life)
            ranks[m][p.id] = int(np.flatnonzero(c[order] == target)[0]) + 1
            n_candidates[p.id] = len(c)
    if not held_out:
        raise RecommenderError("no persona has a history of 2 or more videos: nothing to leave out")
    scores = {
        m: MethodScore(
            method=m,
            hit_rate=float(np.mean([r <= k for r in ranks[m].values()])),
            mrr=float(np.mean([1.0 / r for r in ranks[m].values()])),
            ranks=ranks[m],
        )
        for m in ms
    }
    return LeaveLastOut(
        k=k,
        scores=scores,
        held_out=held_out,
        n_candidates=n_candidates,
        skipped=tuple(skipped),
        temperature=check_temperature(temperature),
        normalize=normalize,
        half_life=_check_half_life(half_life),
    )
