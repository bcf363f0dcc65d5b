"""Riley's self-attention in three parts (article 004, "Motivando la Autoatención"), on the real model.

The article builds self-attention on "El perro de Evan, Riley, es tan hiperactivo, nunca deja de
moverse" in three tries. Here every vector is the model's own, for one head of one layer: v, k
and q of each word (a word's vectors are the mean of its WordPiece pieces', see
:mod:`retrieval_attention.inspector.words`; or per token with ``words=False``).

Part 1, values only: Riley's new value is a fixed mix, ``0.75 · v_Riley + 0.25 · v_perro``
(:func:`values_mix`). The rule does not look at the words, so it cannot know which ones matter.

Part 2, keys only: relevance ``k_a · k_b`` (here ``/ √hd``, as the model scales), a symmetric
matrix: "a relates to b" exactly as much as "b relates to a". The article turns each row into
weights by dividing by its sum (:func:`normalise_by_sum`); real keys give negative relevances and
rows whose sum is near 0, which is why attention uses a softmax instead. Normalising rows already
makes the WEIGHTS asymmetric (each row has its own total), though the relevance stays symmetric.

Part 3, queries against keys: relevance ``q_a · k_b``, asymmetric: Riley → perro differs from
perro → Riley (:meth:`RileyParts.pair`). Per token with [CLS] and [SEP] kept, its softmax is the
model's own attention.

Each part carried to the end, with the article's own formulas (:meth:`RileyParts.update`):

* part 2, one pair: ``rel = k_Riley · k_perro`` with unit keys (the article's keys are unit vectors,
  so here each key is divided by its length: rel is their cosine, in [−1, 1]), then
  ``v_Riley' = rel · v_Riley + (1 − rel) · v_perro`` (:func:`pairwise_update`);
* part 2, the whole sentence: ``relevances = [k_Riley · k for k in keys]``, divided by their sum,
  then ``v_Riley' = relevances · values`` (:func:`relevance_update`);
* part 3: ``Q @ K.T``, each row divided by its sum, ``new_V = normalised @ V``; its row for Riley.
  (The article's numpy line ``relevancias / relevancias.sum(axis=1)`` would divide column j by the
  sum of row j; its text means each row by its own sum, which is what is computed here.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from retrieval_attention.core.attention import softmax
from retrieval_attention.core.validate import check_index
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.inspector import TransformerInspector, asymmetry, check_model_sentence, merge_vectors
from retrieval_attention.inspector.results import F32, _frozen
from retrieval_attention.inspector.words import word_groups, word_labels

__all__ = [
    "ARTICLE_RATIO",
    "RILEY_EN",
    "RILEY_ES",
    "RileyPair",
    "RileyParts",
    "mix_values",
    "RileyUpdate",
    "normalise_by_sum",
    "pairwise_update",
    "relevance_update",
    "riley_parts",
    "unit_rows",
    "values_mix",
]

#: Article 004's sentence, in the Spanish translation the project ships.
RILEY_ES = "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse"
#: The same sentence in the article's original English.
RILEY_EN = "Evan's dog Riley is so hyperactive, she never stops moving"
#: Part 1's mix: ``ratio · v_Riley + (1 − ratio) · v_dog`` with the article's ratio.
ARTICLE_RATIO = 0.75
#: A row sum smaller than this (in absolute value) cannot be divided by: its normalised row is NaN.
MIN_ROW_SUM = 1e-6


def mix_values(V: ArrayLike, mix: ArrayLike) -> F32:
    """A fixed mix of value vectors: ``Σ_j mix[j] · V[j]`` (part 1, values only).

    Args:
        V: (n, e) one value per word.
        mix: (n,) weights, finite, >= 0, summing to 1.

    Returns:
        (e,) the mixed value; weight 1 on one word returns that word's own value.

    Raises:
        InvalidParameterError: shapes that do not fit, or a mix that is not a distribution.

    Example:
        >>> mix_values([[1.0, 0.0], [0.0, 1.0]], [0.75, 0.25])
        array([0.75, 0.25], dtype=float32)
    """
    V_, m = np.asarray(V, dtype=np.float64), np.asarray(mix, dtype=np.float64)
    if V_.ndim != 2 or m.shape != (V_.shape[0],):
        raise InvalidParameterError(f"need V (n, e) and mix (n,), got {V_.shape} and {m.shape}")
    if not np.isfinite(m).all() or (m < 0).any() or abs(m.sum() - 1.0) > 1e-6:
        raise InvalidParameterError(f"the mix must be weights >= 0 that sum to 1, got sum {m.sum():.6g}")
    return _frozen(m @ V_)


def values_mix(V: ArrayLike, i: int, j: int, ratio: float = ARTICLE_RATIO) -> F32:
    """The article's part 1: ``ratio · V[i] + (1 − ratio) · V[j]`` (word i takes in some of word j).

    Example:
        >>> values_mix([[4.0, 0.0], [0.0, 4.0]], 0, 1)
        array([3., 1.], dtype=float32)
    """
    n = np.shape(V)[0]
    i, j = check_index(i, n, "word"), check_index(j, n, "word")
    r = float(ratio) if isinstance(ratio, (int, float, np.floating)) and not isinstance(ratio, bool) else math.nan
    if not 0.0 <= r <= 1.0:
        raise InvalidParameterError(f"ratio must be a number in [0, 1], got {ratio!r}")
    mix = np.zeros(n)
    mix[i] += r
    mix[j] += 1.0 - r
    return mix_values(V, mix)


def normalise_by_sum(R: ArrayLike) -> tuple[F32, F32]:
    """The article's normalisation: each row divided by its sum, ``R[i] / Σ_j R[i, j]``.

    Every row then sums to 1, but with negative relevances some weights are negative, and a row
    whose sum is near 0 blows up: such rows (|sum| < ``MIN_ROW_SUM``) come back NaN. A softmax
    has neither problem.

    Args:
        R: (n, n) relevances.

    Returns:
        (weights (n, n), row sums (n,)).

    Example:
        >>> w, s = normalise_by_sum([[3.0, 1.0], [1.0, -1.0]])
        >>> w, s
        (array([[0.75, 0.25],
               [ nan,  nan]], dtype=float32), array([4., 0.], dtype=float32))
    """
    A = np.asarray(R, dtype=np.float64)
    sums = A.sum(axis=1)  # (n,)
    ok = np.abs(sums) >= MIN_ROW_SUM
    out = np.full_like(A, np.nan)
    out[ok] = A[ok] / sums[ok, None]
    return _frozen(out), _frozen(sums)


def unit_rows(X: ArrayLike) -> F32:
    """Each row divided by its length, so that a row's dot product with itself is 1.

    Args:
        X: (n, e) vectors.

    Returns:
        (n, e) unit vectors.

    Raises:
        InvalidParameterError: not a 2-D array of finite numbers, or a row of length (about) 0.

    Example:
        >>> unit_rows([[3.0, 4.0], [0.0, 2.0]])
        array([[0.6, 0.8],
               [0. , 1. ]], dtype=float32)
    """
    A = np.asarray(X, dtype=np.float64)
    if A.ndim != 2 or not np.isfinite(A).all():
        raise InvalidParameterError(f"need (n, e) finite vectors, got shape {A.shape}")
    norms = np.linalg.norm(A, axis=1)  # (n,)
    if (norms < MIN_ROW_SUM).any():
        raise InvalidParameterError("a vector of length 0 has no direction: it cannot be made a unit vector")
    return _frozen(A / norms[:, None])


def pairwise_update(K: ArrayLike, V: ArrayLike, a: int, b: int) -> tuple[float, F32]:
    """Article 004, part 2, one pair: ``rel = k_a · k_b`` with unit keys, ``v_a' = rel · v_a + (1 − rel) · v_b``.

    The article's keys are unit vectors, so its relevance is a cosine: it lies in [−1, 1], and in
    [0, 1] only for keys less than 90° apart (always so for vectors with no negative numbers).
    By the formula, rel = 1 keeps v_a and rel = 0 replaces it with v_b; a negative rel pushes
    v_a away from v_b (a weight above 1 on v_a, below 0 on v_b).

    Args:
        K: (n, e) keys (divided here by their length).
        V: (n, hd) values.
        a: the word that is updated (Riley).
        b: the word it takes in (perro).

    Returns:
        (rel, new v_a of shape (hd,)).

    Raises:
        InvalidParameterError: bad shapes, a key of length 0, or an index out of range.

    Example:
        >>> rel, new = pairwise_update([[1.0, 0.0], [3.0, 4.0]], [[10.0, 0.0], [0.0, 10.0]], 0, 1)
        >>> round(rel, 6), new.round(4).tolist()
        (0.6, [6.0, 4.0])
    """
    Kh = unit_rows(K).astype(np.float64)
    V_ = np.asarray(V, dtype=np.float64)
    if V_.ndim != 2 or V_.shape[0] != Kh.shape[0]:
        raise InvalidParameterError(f"need one value per key: K {Kh.shape}, V {V_.shape}")
    a, b = check_index(a, Kh.shape[0], "word"), check_index(b, Kh.shape[0], "word")
    rel = float(Kh[a] @ Kh[b])
    return rel, _frozen(rel * V_[a] + (1.0 - rel) * V_[b])


def relevance_update(relevance: ArrayLike, V: ArrayLike) -> tuple[F32, F32]:
    """Article 004's update of one word from a row of relevances: divide by their sum, weigh the values.

    Part 2: ``relevances = [k_a · k for k in keys]; relevances /= sum(relevances); v_a = relevances · values``.
    Part 3 is the same with ``q_a · k``, one row of ``Q @ K.T``.

    Args:
        relevance: (n,) the word's relevance with every word (itself included).
        V: (n, hd) values.

    Returns:
        (weights (n,) summing to 1, new value (hd,)); both NaN when the relevances sum to about 0.

    Raises:
        InvalidParameterError: shapes that do not fit.

    Example:
        >>> w, new = relevance_update([3.0, 1.0], [[4.0, 0.0], [0.0, 4.0]])
        >>> w.tolist(), new.tolist()
        ([0.75, 0.25], [3.0, 1.0])
    """
    R = np.asarray(relevance, dtype=np.float64)
    V_ = np.asarray(V, dtype=np.float64)
    if R.ndim != 1 or V_.ndim != 2 or V_.shape[0] != R.shape[0]:
        raise InvalidParameterError(f"need relevances (n,) and values (n, hd), got {R.shape} and {V_.shape}")
    w = normalise_by_sum(R[None, :])[0][0].astype(np.float64)  # (n,)
    return _frozen(w), _frozen(w @ V_)


@dataclass(frozen=True, eq=False)
class RileyUpdate:
    """Word a's new value by each of the article's rules, with the model's vectors (n words, hd numbers)."""

    a: int  # the word that is updated (Riley)
    b: int  # the word it takes in, in the pairwise update (perro)
    relevance: float  # part 2, one pair: k̂_a · k̂_b, unit keys (a cosine, in [−1, 1])
    pair_value: F32  # (hd,) rel · v_a + (1 − rel) · v_b
    key_weights: F32  # (n,) part 2, whole sentence: k̂_a · k̂_j divided by their sum
    key_value: F32  # (hd,) key_weights @ V
    query_weights: F32  # (n,) part 3: q_a · k_j divided by their sum (row a of the normalised Q Kᵀ)
    query_value: F32  # (hd,) query_weights @ V: row a of new_V
    softmax_value: F32  # (hd,) softmax(q_a · k_j / √hd) @ V: what attention does instead


@dataclass(frozen=True, eq=False)
class RileyPair:
    """Both directions between two words: a → b is row a, column b."""

    a: int  # index of the first word
    b: int  # index of the second word
    labels: tuple[str, str]  # their texts
    kk: float  # k_a · k_b / √hd  (= k_b · k_a: part 2 is symmetric)
    qk_ab: float  # q_a · k_b / √hd: how much a looks for b
    qk_ba: float  # q_b · k_a / √hd: how much b looks for a
    kk_weight_ab: float  # part 2's softmax weight a → b
    kk_weight_ba: float  # part 2's softmax weight b → a (differs: each row has its own total)
    qk_weight_ab: float  # part 3's softmax weight a → b
    qk_weight_ba: float  # part 3's softmax weight b → a


@dataclass(frozen=True, eq=False)
class RileyParts:
    """The three parts for one sentence, layer and head. n words (or tokens), hd numbers per vector."""

    sentence: str  # the sentence, as given
    layer: int  # layer index, 0-based
    head: int  # head index, 0-based
    labels: tuple[str, ...]  # n words (pieces joined) or tokens
    groups: tuple[tuple[int, ...], ...]  # n groups of token positions behind each label
    Q: F32  # (n, hd) queries (mean of the pieces')
    K: F32  # (n, hd) keys
    V: F32  # (n, hd) values
    kk: F32  # (n, n) K Kᵀ / √hd, part 2's relevance: symmetric
    kk_by_sum: F32  # (n, n) kk with each row divided by its sum (the article's step; NaN rows: sum ~ 0)
    kk_row_sums: F32  # (n,) those sums
    kk_softmax: F32  # (n, n) softmax of each row of kk
    qk: F32  # (n, n) Q Kᵀ / √hd, part 3's relevance: asymmetric
    qk_by_sum: F32  # (n, n) qk / row sums
    qk_row_sums: F32  # (n,)
    qk_softmax: F32  # (n, n) softmax of each row of qk (per token with [CLS]/[SEP]: the model's weights)

    @property
    def asymmetry_kk(self) -> float:
        """‖kk − kkᵀ‖ / ‖kk‖: 0 up to float rounding."""
        return asymmetry(self.kk)

    @property
    def asymmetry_kk_weights(self) -> float:
        """The same for part 2's softmax weights: > 0, normalising rows breaks the symmetry."""
        return asymmetry(self.kk_softmax)

    @property
    def asymmetry_qk(self) -> float:
        """‖qk − qkᵀ‖ / ‖qk‖: clearly > 0."""
        return asymmetry(self.qk)

    def index(self, label: str) -> int:
        """The first word (or token) whose text is ``label`` (case-insensitive).

        Raises:
            InvalidParameterError: no such word; the message lists them.
        """
        wanted = str(label).strip().lower()
        for i, text in enumerate(self.labels):
            if text.lower() == wanted:
                return i
        raise InvalidParameterError(f"no word {label!r} in the sentence; its words are {list(self.labels)}")

    def mix(self, i: int, j: int, ratio: float = ARTICLE_RATIO) -> F32:
        """Part 1: ``ratio · v_i + (1 − ratio) · v_j`` (hd,)."""
        return values_mix(self.V, i, j, ratio)

    @property
    def cos_kk(self) -> F32:
        """(n, n) k̂_a · k̂_b: the keys made unit vectors, as the article's (cosines, in [−1, 1])."""
        Kh = unit_rows(self.K)
        return _frozen(Kh @ Kh.T)

    def update(self, a: int, b: int) -> RileyUpdate:
        """Word a's new value by the article's part 2 (with word b, then the whole sentence) and part 3."""
        a, b = check_index(a, len(self.labels), "word"), check_index(b, len(self.labels), "word")
        rel, pair_value = pairwise_update(self.K, self.V, a, b)
        key_weights, key_value = relevance_update(self.cos_kk[a], self.V)
        query_weights, query_value = relevance_update(self.qk[a], self.V)
        return RileyUpdate(
            a=a, b=b, relevance=rel, pair_value=pair_value, key_weights=key_weights, key_value=key_value,
            query_weights=query_weights, query_value=query_value, softmax_value=_frozen(self.qk_softmax[a] @ self.V),
        )  # fmt: skip

    def pair(self, a: int, b: int) -> RileyPair:
        """Both directions between words ``a`` and ``b`` (indices into ``labels``)."""
        a, b = check_index(a, len(self.labels), "word"), check_index(b, len(self.labels), "word")
        return RileyPair(
            a=a, b=b, labels=(self.labels[a], self.labels[b]), kk=float(self.kk[a, b]),
            qk_ab=float(self.qk[a, b]), qk_ba=float(self.qk[b, a]),
            kk_weight_ab=float(self.kk_softmax[a, b]), kk_weight_ba=float(self.kk_softmax[b, a]),
            qk_weight_ab=float(self.qk_softmax[a, b]), qk_weight_ba=float(self.qk_softmax[b, a]),
        )  # fmt: skip


def riley_parts(
    inspector: TransformerInspector,
    sentence: str = RILEY_ES,
    layer: int = 0,
    head: int = 0,
    words: bool = True,
    keep_special: bool = False,
) -> RileyParts:
    """Article 004's three parts on the model's own q, k, v of one head.

    Args:
        inspector: the model.
        sentence: one sentence (default the article's, in Spanish); checked by
            :func:`~retrieval_attention.inspector.check_model_sentence`.
        layer: 0..n_layers-1 (layer 0 reads the embeddings: the closest to the article's
            context-free vectors).
        head: 0..n_heads-1.
        words: one vector per word (the mean of its pieces'); False for one per token.
        keep_special: keep [CLS] and [SEP] (the article's sentence has neither).

    Returns:
        RileyParts.

    Raises:
        QueryError / UnknownTokenError: bad sentence; InvalidParameterError: layer or head out of range.

    Example:
        >>> from retrieval_attention.inspector import load_inspector
        >>> r = riley_parts(load_inspector())
        >>> r.labels[:6], r.asymmetry_kk < 1e-6 < r.asymmetry_qk
        (('el', 'perro', 'de', 'evan', ',', 'riley'), True)
    """
    tokens = check_model_sentence(inspector, sentence)
    layer = check_index(layer, inspector.n_layers, "layer")
    head = check_index(head, inspector.n_heads, "head")
    t = inspector.trace(sentence).layers[layer]
    q, k, v = t.q[0, head], t.k[0, head], t.v[0, head]  # (T, hd) each
    groups = word_groups(tokens) if words else tuple((i,) for i in range(len(tokens)))
    labels = word_labels(tokens, groups)
    if not keep_special:
        special = {0, len(tokens) - 1}  # [CLS] and [SEP]: one sentence, never padded
        kept = [a for a, g in enumerate(groups) if not special & set(g)]
        groups, labels = tuple(groups[a] for a in kept), tuple(labels[a] for a in kept)
    Q, K, V = (merge_vectors(x, groups).astype(np.float64) for x in (q, k, v))  # (n, hd) each
    s = 1.0 / math.sqrt(inspector.head_dim)
    kk = (K @ K.T) * s  # (n, n)
    qk = (Q @ K.T) * s  # (n, n)
    kk_by_sum, kk_sums = normalise_by_sum(kk)
    qk_by_sum, qk_sums = normalise_by_sum(qk)
    return RileyParts(
        sentence=sentence, layer=layer, head=head, labels=labels, groups=groups,
        Q=_frozen(Q), K=_frozen(K), V=_frozen(V), kk=_frozen(kk), kk_by_sum=kk_by_sum, kk_row_sums=kk_sums,
        kk_softmax=_frozen(softmax(kk)), qk=_frozen(qk), qk_by_sum=qk_by_sum, qk_row_sums=qk_sums,
        qk_softmax=_frozen(softmax(qk)),
    )  # fmt: skip
