"""WordPiece pieces back to words: attention read per word instead of per token.

The tokenizer splits a word it does not know whole into pieces: "hiperactivo" becomes ``hip``,
``##era``, ``##ct``, ``##ivo``. A piece that continues a word starts with ``##``; every other
token (a word's first piece, a punctuation mark, [CLS], [SEP], [UNK]) starts a new word. That is
the whole rule of :func:`word_groups`, and it is the tokenizer's own: its pre-tokenizer splits on
spaces and punctuation first, and WordPiece marks every later piece of a word with ``##``.

Attention weights (rows = queries, columns = keys, every row summing to 1) merge by one
documented rule, :func:`merge_weights`::

    W[a, b] = mean over the query pieces i of a of ( sum over the key pieces j of b of w[i, j] )

Sum over the key pieces, because attending to "hip" and to "##ivo" is attending to the word;
mean over the query pieces, because each piece's row is one distribution and the word's row is
their average, so every word row still sums to 1. A sentence without split words comes back
unchanged. Vectors (q, k, v, x) merge as the mean of their pieces (:func:`merge_vectors`); for a
dot product that is the mean of the piece-by-piece scores, because q·k is linear in each side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.inspector.results import F32, _frozen

__all__ = [
    "CONTINUATION",
    "WordAttention",
    "merge_vectors",
    "merge_weights",
    "word_groups",
    "word_labels",
]

#: WordPiece's mark of a piece that continues the previous one.
CONTINUATION = "##"


def word_groups(tokens: tuple[str, ...] | list[str]) -> tuple[tuple[int, ...], ...]:
    """Which tokens make up each word: a new word starts at every token not starting with ``##``.

    Args:
        tokens: T WordPiece tokens, e.g. from ``TransformerInspector.tokens``.

    Returns:
        W groups of token positions, in order, covering 0..T-1 exactly once.

    Example:
        >>> word_groups(["[CLS]", "tan", "hip", "##era", "##ct", "##ivo", "[SEP]"])
        ((0,), (1,), (2, 3, 4, 5), (6,))
    """
    groups: list[list[int]] = []
    for i, tok in enumerate(tokens):
        if groups and tok.startswith(CONTINUATION) and len(tok) > len(CONTINUATION):
            groups[-1].append(i)
        else:
            groups.append([i])
    return tuple(tuple(g) for g in groups)


def word_labels(
    tokens: tuple[str, ...] | list[str], groups: tuple[tuple[int, ...], ...] | None = None
) -> tuple[str, ...]:
    """Each word's text: its pieces joined with the ``##`` marks dropped (lower-cased, as the model reads it).

    Example:
        >>> word_labels(["[CLS]", "hip", "##era", "##ct", "##ivo", "[SEP]"])
        ('[CLS]', 'hiperactivo', '[SEP]')
    """
    groups = word_groups(tokens) if groups is None else groups
    return tuple(tokens[g[0]] + "".join(tokens[i].removeprefix(CONTINUATION) for i in g[1:]) for g in groups)


def _assignment(groups: tuple[tuple[int, ...], ...], T: int) -> NDArray[np.float64]:
    """(T, W) one-hot: entry (i, a) = 1 when token i belongs to word a."""
    flat = sorted(i for g in groups for i in g)
    if flat != list(range(T)):
        raise InvalidParameterError(f"word groups must cover tokens 0..{T - 1} exactly once, got {groups}")
    S = np.zeros((T, len(groups)))  # (T, W)
    for a, g in enumerate(groups):
        S[list(g), a] = 1.0
    return S


def merge_weights(weights: NDArray[np.floating], groups: tuple[tuple[int, ...], ...]) -> F32:
    """Token attention (..., T, T) -> word attention (..., W, W): sum over key pieces, mean over query pieces.

    Args:
        weights: attention weights, rows = queries, columns = keys, each row summing to 1;
            any leading axes (heads, layers) are kept.
        groups: W word groups from :func:`word_groups`.

    Returns:
        (..., W, W) float32; each row still sums to 1 (it is a mean of rows that each sum to 1).
        When no word is split (W = T) the matrix comes back unchanged.

    Raises:
        InvalidParameterError: ``weights`` is not (..., T, T) or the groups do not cover 0..T-1.

    Example:
        >>> w = np.array([[0.5, 0.25, 0.25], [0.0, 1.0, 0.0], [0.2, 0.2, 0.6]])
        >>> merge_weights(w, ((0,), (1, 2)))  # word 1 = tokens 1 and 2
        array([[0.5, 0.5],
               [0.1, 0.9]], dtype=float32)
    """
    w = np.asarray(weights)
    if w.ndim < 2 or w.shape[-1] != w.shape[-2]:
        raise InvalidParameterError(f"weights must be (..., T, T) self-attention, got shape {w.shape}")
    T = w.shape[-1]
    S = _assignment(groups, T)  # (T, W)
    if S.shape[1] == T:
        return _frozen(w)  # no split word: the token matrix is the word matrix
    mean_rows = (S / S.sum(axis=0)).T  # (W, T): 1/|a| on the pieces of word a
    return _frozen(mean_rows @ (w.astype(np.float64) @ S))  # (..., W, T) @ ... -> (..., W, W)


def merge_vectors(vectors: NDArray[np.floating], groups: tuple[tuple[int, ...], ...]) -> F32:
    """One vector per token (T, e) -> one per word (W, e): the mean of the word's pieces.

    Scores built from merged vectors are the means of the piece-by-piece scores (q·k is linear in
    each side), and K·Kᵀ of merged keys is still symmetric. The groups may leave tokens out (e.g.
    [CLS] and [SEP]); each token may be in one group at most.

    Example:
        >>> merge_vectors(np.array([[1.0, 0.0], [3.0, 2.0], [5.0, 5.0]]), ((0, 1), (2,)))
        array([[2., 1.],
               [5., 5.]], dtype=float32)
    """
    X = np.asarray(vectors)
    if X.ndim != 2:
        raise InvalidParameterError(f"vectors must be (T, e), got shape {X.shape}")
    flat = [i for g in groups for i in g]
    if not groups or any(not g for g in groups) or len(set(flat)) != len(flat) or not set(flat) <= set(range(len(X))):
        raise InvalidParameterError(f"word groups must be non-empty, disjoint and within 0..{len(X) - 1}, got {groups}")
    return _frozen(np.stack([X[list(g)].astype(np.float64).mean(axis=0) for g in groups]))  # (W, e)


@dataclass(frozen=True, eq=False)
class WordAttention:
    """One layer's attention merged to words (all heads)."""

    layer: int  # layer index, 0-based
    tokens: tuple[str, ...]  # T WordPiece tokens with [CLS] and [SEP]
    words: tuple[str, ...]  # W word labels (pieces joined), [CLS] and [SEP] kept as words
    groups: tuple[tuple[int, ...], ...]  # W groups of token positions
    weights: F32  # (h, W, W) merged by merge_weights: each row sums to 1

    @property
    def has_split_words(self) -> bool:
        """True when at least one word is made of several pieces (otherwise W = T, nothing merged)."""
        return len(self.words) < len(self.tokens)
