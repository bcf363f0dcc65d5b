"""The causal page's two models read one sentence: each one's tokens and attention in every layer, checked.

The encoder's weights come from its inspector; the decoder's from one forward pass, kept per
sentence. :func:`above_diagonal` is the number the page compares them by. No streamlit here.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.validate import MAX_SENTENCE_CHARS, check_whole
from retrieval_attention.errors import QueryError
from retrieval_attention.views.next_word import label

if TYPE_CHECKING:
    from retrieval_attention.decoder import Decoder
    from retrieval_attention.inspector import TransformerInspector

__all__ = ["above_diagonal", "decoder_weights", "encoder_weights"]


def above_diagonal(weights: NDArray[np.floating]) -> NDArray[np.float64]:
    """The share of the attention weight that queries give to later tokens (the cells above the diagonal).

    Args:
        weights: (..., T, T) attention weights, rows are queries and sum to 1.

    Returns:
        (...) the sum of the weights above the diagonal over the sum of all weights: 0 for a causal
        head, and exactly 0 when every weight above the diagonal is exactly 0.

    Example:
        >>> above_diagonal(np.array([[1.0, 0.0], [0.5, 0.5]])).item(), above_diagonal(np.full((2, 2), 0.5)).item()
        (0.0, 0.25)
    """
    w = np.asarray(weights, dtype=np.float64)
    return np.triu(w, k=1).sum(axis=(-2, -1)) / w.sum(axis=(-2, -1))


@functools.lru_cache(maxsize=8)
def _every_layer(decoder: Decoder, sentence: str) -> tuple[list[str], NDArray[np.float32]]:
    """The decoder's tokens (as a student reads them) and its attention in every layer: (layers, heads, T, T).

    One forward pass; layer l equals ``decoder.attention(sentence, l)``.
    """
    ids = decoder.token_ids(sentence)  # a bad sentence fails here
    _, traces = decoder.run(ids)
    weights = np.stack([t.weights for t in traces])  # (layers, heads, T, T)
    weights.flags.writeable = False  # cached and shared
    return [label(decoder, i) for i in ids], weights


def _sentence(sentence: str) -> str:
    if not isinstance(sentence, str) or not sentence.strip():
        raise QueryError("the sentence is empty: write a few words for both models to read")
    if len(sentence) > MAX_SENTENCE_CHARS:
        raise QueryError(f"the sentence has {len(sentence)} characters; at most {MAX_SENTENCE_CHARS} here")
    return sentence


def encoder_weights(
    ins: TransformerInspector, sentence: str, layer: int, head: int
) -> tuple[list[str], NDArray[np.float32]]:
    """The encoder's tokens and its attention in every layer: (layers, heads, T, T), once ``layer`` and
    ``head`` (the ones the page draws) are checked to exist."""
    check_whole(layer, "encoder layer", 0, ins.n_layers - 1)
    check_whole(head, "encoder head", 0, ins.n_heads - 1)
    sentence = _sentence(sentence)
    return ins.tokens(sentence), ins.all_weights(sentence)


def decoder_weights(decoder: Decoder, sentence: str, layer: int, head: int) -> tuple[list[str], NDArray[np.float32]]:
    """The decoder's tokens (as a student reads them) and its attention in every layer: (layers, heads, T, T),
    once ``layer`` and ``head`` (the ones the page draws) are checked to exist."""
    cfg = decoder.config
    check_whole(layer, "decoder layer", 0, cfg.n_layers - 1)
    check_whole(head, "decoder head", 0, cfg.n_heads - 1)
    return _every_layer(decoder, _sentence(sentence))
