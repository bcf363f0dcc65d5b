"""Self-attention without positions is a set operation (article 004): shuffle the words, the weights follow.

Nothing in q·k knows where a token stands: the only place order enters the model is the position
embedding added to each token at the start (``x = LayerNorm(word + position + type)``). Take it out
and every layer is permutation-equivariant: shuffle the tokens and every weight matrix comes back
shuffled the same way, ``W'[i, j] = W[p(i), p(j)]``, to float precision. Put it back and the
weights change, because token i now carries "I am at position i".

The shuffle moves whole words (a word's WordPiece pieces stay together, in order) and keeps
[CLS] first and [SEP] last. It permutes the token ids, never re-tokenises the text, so the
shuffled sentence has exactly the same tokens. Both forward passes are our numpy one
(:mod:`retrieval_attention.encoders.bert`), with the model's own weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.validate import check_index, check_whole
from retrieval_attention.encoders.bert import BertWeights, encoder_layer, forward, layer_norm
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.inspector.model import TransformerInspector
from retrieval_attention.inspector.results import F32, _frozen
from retrieval_attention.inspector.walkthrough import check_model_sentence
from retrieval_attention.inspector.words import word_groups, word_labels

__all__ = [
    "PermutationCheck",
    "layer_weights",
    "permutation_check",
    "shuffled_word_order",
]


def layer_weights(ids: NDArray[np.int64], w: BertWeights, layer: int, positions: bool = True) -> F32:
    """The attention weights (h, T, T) of ``layer`` for one row of token ids, with or without positions.

    Without positions the embeddings are ``LayerNorm(word[ids] + type[0])``; every layer after
    that is the model's own.

    Args:
        ids: (T,) token ids.
        w: the model's weights.
        layer: 0..n_layers-1.
        positions: False to leave the position embeddings out.

    Returns:
        (h, T, T) float32 weights.
    """
    batch = np.asarray(ids, dtype=np.int64)[None, :]  # (1, T)
    if positions:
        return forward(batch, None, w, keep=True).layers[layer].weights[0]
    x = w.word[batch] + w.token_type[0]  # (1, T, d): no position
    x = layer_norm(x, w.ln_gamma, w.ln_beta, w.config.eps)
    for L in w.layers[:layer]:
        x = encoder_layer(x, None, L, w.config).output  # (1, T, d)
    return encoder_layer(x, None, w.layers[layer], w.config).weights[0]  # (h, T, T)


def shuffled_word_order(n_words: int, seed: int = 0) -> tuple[int, ...]:
    """A shuffle of words 1..n-2 with word 0 ([CLS]) and word n-1 ([SEP]) kept in place, never the identity
    when there are at least two words to move.

    Example:
        >>> shuffled_word_order(5, seed=0)
        (0, 3, 1, 2, 4)
    """
    n = check_whole(n_words, "n_words", 2)
    inner = list(range(1, n - 1))
    rng = np.random.default_rng(check_whole(seed, "seed", 0))
    moved = [int(i) for i in rng.permutation(inner)]
    if len(inner) >= 2 and moved == inner:
        moved = inner[1:] + inner[:1]  # the draw changed nothing: rotate instead
    return (0, *moved, n - 1)


@dataclass(frozen=True, eq=False)
class PermutationCheck:
    """One layer's weights for a sentence and for its words shuffled, with and without positions."""

    layer: int  # layer index, 0-based
    tokens: tuple[str, ...]  # T tokens of the sentence, [CLS] ... [SEP]
    words: tuple[str, ...]  # W words (pieces joined), [CLS] and [SEP] included
    word_order: tuple[int, ...]  # (W,) the shuffled sentence's word k is the original word word_order[k]
    order: tuple[int, ...]  # (T,) the same as a token permutation: shuffled token i = original token order[i]
    shuffled_tokens: tuple[str, ...]  # the T tokens in the shuffled order
    without_positions: F32  # (h, T, T) original sentence, position embeddings removed
    without_positions_shuffled: F32  # (h, T, T) shuffled sentence, position embeddings removed
    with_positions: F32  # (h, T, T) original sentence, as the model runs it
    with_positions_shuffled: F32  # (h, T, T) shuffled sentence, as the model runs it
    max_diff_without: float  # max |shuffled − original permuted| without positions: float rounding only
    max_diff_with: float  # the same with positions: clearly > 0

    def permuted(self, weights: F32) -> F32:
        """The original sentence's weights (h, T, T) rearranged into the shuffled order: W[p(i), p(j)]."""
        p = np.asarray(self.order)
        return weights[:, p][:, :, p]


def permutation_check(
    inspector: TransformerInspector,
    sentence: str,
    layer: int,
    word_order: Sequence[int] | None = None,
    seed: int = 0,
) -> PermutationCheck:
    """Shuffle the words of ``sentence`` and compare ``layer``'s weights, without and with positions.

    Args:
        inspector: the model.
        sentence: one sentence (checked by :func:`~retrieval_attention.inspector.walkthrough.check_model_sentence`).
        layer: 0..n_layers-1.
        word_order: a permutation of the W words (indices into ``words``, [CLS] and [SEP] included);
            None for :func:`shuffled_word_order` with ``seed``.
        seed: the shuffle's seed when ``word_order`` is None.

    Returns:
        PermutationCheck; ``max_diff_without`` is float rounding, ``max_diff_with`` is not.

    Raises:
        QueryError / UnknownTokenError: bad sentence; InvalidParameterError: bad layer or a
        ``word_order`` that is not a permutation of 0..W-1.

    Example:
        >>> from retrieval_attention.inspector import load_inspector
        >>> c = permutation_check(load_inspector(), "the dog chased the cat", 0)
        >>> c.shuffled_tokens, c.max_diff_without < 1e-5 < c.max_diff_with
        (('[CLS]', 'chased', 'cat', 'the', 'the', 'dog', '[SEP]'), True)
    """
    tokens = check_model_sentence(inspector, sentence)
    layer = check_index(layer, inspector.n_layers, "layer")
    groups = word_groups(tokens)
    W = len(groups)
    if word_order is None:
        perm = shuffled_word_order(W, seed)
    else:
        perm = tuple(check_index(i, W, "word_order entry") for i in word_order)
        if sorted(perm) != list(range(W)):
            raise InvalidParameterError(f"word_order must be a permutation of 0..{W - 1}, got {list(word_order)}")
    order = tuple(i for a in perm for i in groups[a])  # (T,)
    ids = np.asarray(inspector.model.tokenize(sentence).ids, dtype=np.int64)  # (T,)
    shuffled = ids[list(order)]
    w = inspector.model.weights
    nopos, nopos_s = layer_weights(ids, w, layer, False), layer_weights(shuffled, w, layer, False)
    pos, pos_s = inspector.trace(sentence).layers[layer].weights[0], layer_weights(shuffled, w, layer, True)
    p = np.asarray(order)
    return PermutationCheck(
        layer=layer, tokens=tokens, words=word_labels(tokens, groups), word_order=perm, order=order,
        shuffled_tokens=tuple(tokens[i] for i in order),
        without_positions=_frozen(nopos), without_positions_shuffled=_frozen(nopos_s),
        with_positions=_frozen(pos), with_positions_shuffled=_frozen(pos_s),
        max_diff_without=float(np.abs(nopos_s - nopos[:, p][:, :, p]).max()),
        max_diff_with=float(np.abs(pos_s - pos[:, p][:, :, p]).max()),
    )  # fmt: skip
