"""One token's attention, step by step, on the real model: the five steps of article 001.

Article 001 (注意力机制, "Self-Attention单字计算") computes self-attention for the word "Thinking"
in five steps. Here they run on all-MiniLM-L6-v2 for one query token of one head of one layer,
read from our numpy forward pass (:meth:`TransformerInspector.trace`)::

    x        (T, d)    hidden states entering the layer (d = 384)
    q        (hd,)     the token's query:  x[token] W_Q + b_Q, this head's hd = 32 columns
    K, V     (T, hd)   every token's key and value, the same way
    scores   (T,)      K q: q·k_j for every token j                    step 2
    scaled   (T,)      scores / √hd  (√32 ≈ 5.66; the article's 8 is √64)  step 3
    weights  (T,)      softmax(scaled), sums to 1                       step 3
    w_j v_j  (T, hd)   each value times its weight                      step 4
    z        (hd,)     weights @ V, the head's output for the token     step 5

``weights`` is the model's own attention row (transformers' ``output_attentions[layer][head,
token]``) and ``z`` that head's slice of its attention output, to float precision (tests check
both against transformers). :func:`check_model_sentence` is the one check every lesson inside
the model runs on a sentence: text, length, the model's token limit, and no [UNK] tokens.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from retrieval_attention.config import MULTILINGUAL_MODEL
from retrieval_attention.core.attention import softmax
from retrieval_attention.core.validate import check_index, check_sentence
from retrieval_attention.errors import InvalidParameterError, QueryError, UnknownTokenError
from retrieval_attention.inspector.model import TransformerInspector
from retrieval_attention.inspector.results import F32, _frozen
from retrieval_attention.inspector.words import WordAttention, merge_weights, word_groups, word_labels

__all__ = [
    "ORIGINAL_TRANSFORMER",
    "MatrixShapes",
    "SelfHead",
    "Walkthrough",
    "check_model_sentence",
    "is_cjk",
    "special_mask",
    "strongest_self_head",
    "walkthrough",
    "without_special",
    "word_attention",
]


def is_cjk(ch: str) -> bool:
    """True for a Chinese, Japanese or Korean character (ideographs, kana, hangul, their punctuation).

    Example:
        >>> is_cjk("苹"), is_cjk("a")
        (True, False)
    """
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK ", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "FULLWIDTH"))


def check_model_sentence(inspector: TransformerInspector, sentence: object) -> tuple[str, ...]:
    """Check one sentence for a lesson inside the model and return its T tokens ([CLS] ... [SEP]).

    Args:
        inspector: the model.
        sentence: the text to read.

    Returns:
        The model's tokens for the sentence.

    Raises:
        QueryError: not text, empty, longer than ``MAX_SENTENCE_CHARS`` (400) characters, or more
            tokens than the model reads (it would be cut).
        UnknownTokenError: the tokenizer maps part of the text to [UNK]; the message names the
            characters and, for Chinese, Japanese or Korean, points to the multilingual encoder.

    Example:
        >>> from retrieval_attention.inspector import load_inspector
        >>> check_model_sentence(load_inspector(), "我爱吃苹果")
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.UnknownTokenError: all-MiniLM-L6-v2 reads '爱', '吃', '苹', '果' as [UNK] (unknown): its vocabulary has almost no Chinese, Japanese or Korean characters. The alignment lesson reads them with the multilingual encoder (multilingual-e5-small).
    """
    text = check_sentence(sentence)
    enc = inspector.model.tokenizer.encode(text)
    if enc.overflowing:
        raise QueryError(f"the sentence is longer than the {inspector.max_length} tokens the model reads; shorten it")
    unknown = [text[a:b] for tok, (a, b) in zip(enc.tokens, enc.offsets) if tok == "[UNK]"]
    if unknown:
        shown = ", ".join(repr(u) for u in dict.fromkeys(unknown))
        name = inspector.name
        if any(is_cjk(ch) for u in unknown for ch in u):
            raise UnknownTokenError(
                f"{name} reads {shown} as [UNK] (unknown): its vocabulary has almost no Chinese, Japanese "
                f"or Korean characters. The alignment lesson reads them with the multilingual encoder "
                f"({MULTILINGUAL_MODEL})."
            )
        raise UnknownTokenError(
            f"{name} reads {shown} as [UNK] (unknown): it has no token for them; remove or replace them"
        )
    return tuple(enc.tokens)


# ----------------------------------------------------------------------------- the matrix form


@dataclass(frozen=True)
class MatrixShapes:
    """The shapes of one multi-head self-attention layer, for the matrix form of the steps."""

    n_tokens: int  # T, tokens (or words) in the sentence
    d_model: int  # d, width of every embedding / hidden state
    n_heads: int  # h, heads per layer
    head_dim: int  # d_k = d_v = d / h, width of one head's q, k, v

    @property
    def stages(self) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """(name, shape) of each matrix, in order: X, the projections, per-head Q/K/V, weights, concat, W_O, Z.

        Example:
            >>> dict(MatrixShapes(5, 384, 12, 32).stages)["concat(heads)"]
            (5, 384)
        """
        T, d, h, hd = self.n_tokens, self.d_model, self.n_heads, self.head_dim
        return (
            ("X", (T, d)),
            ("W_Q, W_K, W_V", (d, h * hd)),
            ("Q, K, V (per head)", (h, T, hd)),
            ("softmax(Q Kᵀ / √d_k)", (h, T, T)),
            ("heads = weights V", (h, T, hd)),
            ("concat(heads)", (T, h * hd)),
            ("W_O", (h * hd, d)),
            ("Z = concat W_O", (T, d)),
        )


#: The original Transformer's base model (Vaswani et al. 2017) as article 001 quotes it: 512-wide
#: embeddings, 8 heads of 64-wide q/k/v (so √d_k = 8), on its two words "Thinking Machines".
ORIGINAL_TRANSFORMER = MatrixShapes(n_tokens=2, d_model=512, n_heads=8, head_dim=64)


# ----------------------------------------------------------------------------- one token's steps


@dataclass(frozen=True, eq=False)
class Walkthrough:
    """Article 001's steps for one query token of one head: every array float32, read-only."""

    sentence: str  # the sentence, as given
    layer: int  # layer index, 0-based
    head: int  # head index, 0-based
    token: int  # position of the query token in ``tokens``
    tokens: tuple[str, ...]  # T WordPiece tokens with [CLS] and [SEP]
    x: F32  # (T, d) hidden states entering the layer
    q: F32  # (hd,) the token's query, this head's columns of x[token] W_Q + b_Q
    K: F32  # (T, hd) every token's key, this head
    V: F32  # (T, hd) every token's value, this head
    scores: F32  # (T,) K q: q·k_j for every j
    scaled: F32  # (T,) scores / √hd
    weights: F32  # (T,) softmax(scaled), sums to 1: the model's attention row
    weighted_values: F32  # (T, hd) weights[j] · V[j]
    z: F32  # (hd,) weights @ V: this head's output for the token
    shapes: MatrixShapes  # this model's layer shapes with T = len(tokens)

    @property
    def head_dim(self) -> int:
        """d_k = hd, the width of q, k and v (32 for all-MiniLM-L6-v2)."""
        return int(self.q.shape[0])

    @property
    def sqrt_dk(self) -> float:
        """√d_k, what the scores are divided by (√32 ≈ 5.66 here; 8 = √64 in the article)."""
        return math.sqrt(self.head_dim)

    @property
    def columns(self) -> tuple[int, int]:
        """(start, stop): this head's columns of W_Q, W_K, W_V and of the concatenated output."""
        return (self.head * self.head_dim, (self.head + 1) * self.head_dim)

    @property
    def query_token(self) -> str:
        """The query token's text."""
        return self.tokens[self.token]

    @property
    def special(self) -> NDArray[np.bool_]:
        """(T,) True at [CLS] and [SEP] (:func:`special_mask`)."""
        return special_mask(self.tokens)

    @property
    def value_lengths(self) -> F32:
        """(T,) ‖v_j‖: how much each token's value can add to z (a short value adds little, whatever its weight)."""
        return _frozen(np.linalg.norm(self.V, axis=1))


def walkthrough(inspector: TransformerInspector, sentence: str, layer: int, head: int, token: int) -> Walkthrough:
    """The steps of self-attention for one query token, from the model's own q, K, V.

    Args:
        inspector: the model (:func:`~retrieval_attention.inspector.load_inspector`).
        sentence: one sentence, tokenised alone (T tokens incl. [CLS] and [SEP]).
        layer: 0..n_layers-1.
        head: 0..n_heads-1.
        token: the query position, 0..T-1 (0 is [CLS]).

    Returns:
        Walkthrough with q (hd,), K and V (T, hd), the scores, scaled scores, weights (T,) and z (hd,).

    Raises:
        QueryError / UnknownTokenError: see :func:`check_model_sentence`.
        InvalidParameterError: layer, head or token out of range (the message gives the range).

    Example:
        >>> from retrieval_attention.inspector import load_inspector
        >>> w = walkthrough(load_inspector(), "thinking machines", layer=0, head=0, token=1)
        >>> w.query_token, w.K.shape, round(float(w.weights.sum()), 5), round(w.sqrt_dk, 2)
        ('thinking', (4, 32), 1.0, 5.66)
    """
    tokens = check_model_sentence(inspector, sentence)
    layer = check_index(layer, inspector.n_layers, "layer")
    head = check_index(head, inspector.n_heads, "head")
    token = check_index(token, len(tokens), "token")
    t = inspector.trace(sentence).layers[layer]  # our forward pass, batch of one
    q = t.q[0, head, token]  # (hd,)
    K, V = t.k[0, head], t.v[0, head]  # (T, hd) each
    scores = K @ q  # (T,)  q·k_j
    scaled = scores / np.float32(math.sqrt(inspector.head_dim))  # (T,)
    weights = softmax(scaled)  # (T,)
    return Walkthrough(
        sentence=sentence, layer=layer, head=head, token=token, tokens=tokens, x=t.x[0],
        q=q, K=K, V=V, scores=_frozen(scores), scaled=_frozen(scaled), weights=_frozen(weights),
        weighted_values=_frozen(weights[:, None] * V), z=_frozen(weights @ V),
        shapes=MatrixShapes(len(tokens), inspector.d_model, inspector.n_heads, inspector.head_dim),
    )  # fmt: skip


def word_attention(inspector: TransformerInspector, sentence: str, layer: int) -> WordAttention:
    """The model's attention of ``layer`` on ``sentence`` merged to words, every head.

    Merging rule (:func:`~retrieval_attention.inspector.words.merge_weights`): sum over the key
    pieces, mean over the query pieces, so every word row still sums to 1.

    Args:
        inspector: the model.
        sentence: one sentence (checked by :func:`check_model_sentence`).
        layer: 0..n_layers-1.

    Returns:
        WordAttention with weights (h, W, W).

    Raises:
        QueryError / UnknownTokenError: see :func:`check_model_sentence`; InvalidParameterError: bad layer.

    Example:
        >>> from retrieval_attention.inspector import load_inspector
        >>> wa = word_attention(load_inspector(), "es tan hiperactivo", 0)
        >>> wa.words, wa.weights.shape
        (('[CLS]', 'es', 'tan', 'hiperactivo', '[SEP]'), (12, 5, 5))
    """
    tokens = check_model_sentence(inspector, sentence)
    att = inspector.layer_attention(sentence, layer)
    groups = word_groups(tokens)
    return WordAttention(
        layer=att.layer, tokens=tokens, words=word_labels(tokens, groups), groups=groups,
        weights=merge_weights(att.weights, groups),
    )  # fmt: skip


# ----------------------------------------------------------------------------- [CLS] and [SEP] set aside


def without_special(weights: ArrayLike, special: ArrayLike) -> F32:
    """Attention weights with the special tokens' share removed and the rest renormalised to sum 1.

    A trained head often parks much of a row's weight on [CLS] or [SEP], a resting place whose
    value carries little. Setting those columns to 0 and dividing by what is left shows how the
    head shares its weight among the words: ``w'_j = w_j / Σ_{i not special} w_i`` for the
    other j. A row that puts all its weight on special tokens has nothing left: it comes back NaN.

    Args:
        weights: (..., T) rows of weights, each summing to 1.
        special: (T,) True at the special tokens' positions ([CLS] first and [SEP] last for one sentence).

    Returns:
        (..., T) float32 weights: 0 at the special positions, the others summing to 1 (or NaN).

    Raises:
        InvalidParameterError: a mask that does not fit the rows, or that hides every token.

    Example:
        >>> without_special([0.21, 0.15, 0.25, 0.39], [True, False, False, True]).round(3)
        array([0.   , 0.375, 0.625, 0.   ], dtype=float32)
    """
    w = np.asarray(weights, dtype=np.float64)
    mask = np.asarray(special, dtype=bool)
    if w.ndim < 1 or mask.shape != (w.shape[-1],):
        raise InvalidParameterError(f"need weights (..., T) and a mask (T,), got {w.shape} and {mask.shape}")
    if mask.all():
        raise InvalidParameterError("every token is special: no word is left to renormalise over")
    kept = np.where(mask, 0.0, w)  # (..., T)
    left = kept.sum(axis=-1, keepdims=True)  # (..., 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(left > 0, kept / left, np.nan)
    return _frozen(out)


def special_mask(tokens: tuple[str, ...]) -> NDArray[np.bool_]:
    """Where the special tokens are: [CLS] first and [SEP] last (one sentence, never padded).

    Args:
        tokens: the T tokens of one sentence, as :func:`check_model_sentence` returns them.

    Returns:
        (T,) bool, True at positions 0 and T-1.

    Example:
        >>> special_mask(("[CLS]", "thinking", "machines", "[SEP]")).tolist()
        [True, False, False, True]
    """
    mask = np.zeros(len(tokens), dtype=bool)
    mask[[0, -1]] = True
    return mask


@dataclass(frozen=True)
class SelfHead:
    """A head in which a token gives itself more weight than any other token ([CLS]/[SEP] included)."""

    layer: int  # layer index, 0-based
    head: int  # head index, 0-based
    weight: float  # the weight the token gives itself there
    heads: int  # how many heads of the model do the same (the token's largest weight is on itself)


def strongest_self_head(inspector: TransformerInspector, sentence: str, token: int) -> SelfHead | None:
    """Scan every layer and head for the one where ``token`` weighs itself most, as its largest weight.

    Article 001 says the word being encoded usually gets the highest softmax score. In a trained
    model that holds only in some heads; this finds them by measurement: among the heads whose
    largest weight (over every token, [CLS] and [SEP] included) is on the token itself, the one
    where that weight is largest.

    Args:
        inspector: the model.
        sentence: one sentence (checked by :func:`check_model_sentence`).
        token: the query position, 0..T-1.

    Returns:
        SelfHead, or None when no head of any layer gives the token its own largest weight.

    Raises:
        QueryError / UnknownTokenError: see :func:`check_model_sentence`; InvalidParameterError: bad token.

    Example:
        >>> from retrieval_attention.inspector import load_inspector
        >>> best = strongest_self_head(load_inspector(), "Thinking Machines", 1)
        >>> (best.layer, best.head), round(best.weight, 2)
        ((5, 1), 0.81)
    """
    tokens = check_model_sentence(inspector, sentence)
    token = check_index(token, len(tokens), "token")
    rows = np.stack([t.weights[0, :, token] for t in inspector.trace(sentence).layers])  # (n_layers, h, T)
    own = rows[..., token]  # (n_layers, h)
    wins = rows.argmax(axis=-1) == token  # (n_layers, h)
    if not wins.any():
        return None
    layer, head = np.unravel_index(int(np.argmax(np.where(wins, own, -1.0))), own.shape)
    return SelfHead(layer=int(layer), head=int(head), weight=float(own[layer, head]), heads=int(wins.sum()))
