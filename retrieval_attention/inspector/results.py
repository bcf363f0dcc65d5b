"""What the inspector returns (frozen float32 results), and the small pure-numpy helpers it uses:
a causal mask and the asymmetry of a score matrix (LayerNorm and the split into heads live with
the forward pass, in :mod:`retrieval_attention.encoders.bert`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.encoders.bert import ForwardTrace

__all__ = [
    "LayerAttention",
    "LayerProjections",
    "ModelCheck",
    "Relevance",
    "asymmetry",
    "causal_mask",
    "most_asymmetric_pair",
]


F32 = NDArray[np.float32]


def _frozen(a: Any) -> F32:
    """A read-only float32 copy (results are cached and shared between callers)."""
    out = np.array(a, dtype=np.float32)
    out.flags.writeable = False
    return out


# ----------------------------------------------------------------------------- pure numpy helpers


def causal_mask(n: int) -> F32:
    """The float mask of a decoder: 0 on and below the diagonal, -inf above it.

    Added to the scores before the softmax, -inf becomes weight exp(-inf) = 0, so token i can only
    attend to tokens 0..i: a decoder that generates left to right must not peek at the future.

    Example:
        >>> causal_mask(3)
        array([[  0., -inf, -inf],
               [  0.,   0., -inf],
               [  0.,   0.,   0.]], dtype=float32)
    """
    return np.triu(np.full((n, n), -np.inf, dtype=np.float32), k=1)


def asymmetry(A: NDArray[np.floating]) -> float:
    """``‖A − Aᵀ‖_F / ‖A‖_F`` of a square matrix, in [0, 2].

    0 when A is symmetric (a·b relevance is the same both ways), 2 when antisymmetric; sqrt(2)
    when the symmetric and antisymmetric parts ``(A ± Aᵀ) / 2`` have equal norms.

    Example:
        >>> asymmetry(np.array([[1.0, 2.0], [2.0, 1.0]])), round(asymmetry(np.array([[0.0, 1.0], [0.0, 0.0]])), 4)
        (0.0, 1.4142)
    """
    a = np.asarray(A, dtype=np.float64)
    norm = np.linalg.norm(a)
    return float(np.linalg.norm(a - a.T) / norm) if norm > 0 else 0.0


def most_asymmetric_pair(A: NDArray[np.floating], allowed: NDArray[np.bool_] | None = None) -> tuple[int, int]:
    """The (i, j) maximising ``A[i, j] − A[j, i]``: i scores j much higher than j scores i.

    Args:
        A: square matrix (T, T).
        allowed: optional boolean (T,) mask of the positions that may be picked (e.g. words only).

    Returns:
        (i, j) with ``A[i, j] >= A[j, i]``; (0, 0) when fewer than two positions are allowed.

    Example:
        >>> most_asymmetric_pair(np.array([[0.0, 5.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]))
        (0, 1)
    """
    a = np.asarray(A, dtype=np.float64)
    d = a - a.T  # (T, T), antisymmetric
    if allowed is not None:
        ok = np.asarray(allowed, dtype=bool)
        d = np.where(ok[:, None] & ok[None, :], d, -np.inf)
    if not np.isfinite(d).any():
        return (0, 0)
    i, j = np.unravel_index(int(np.argmax(d)), d.shape)
    return (int(i), int(j))


# ----------------------------------------------------------------------------- result types


@dataclass(frozen=True, eq=False)
class LayerProjections:
    """One layer's attention weights in the ``x @ W + b`` convention (torch stores W transposed)."""

    layer: int  # layer index, 0-based
    W_Q: F32  # (d, d) query projection; head k uses columns k*hd:(k+1)*hd
    b_Q: F32  # (d,)  # noqa: N815 (the maths' name, as W_Q)
    W_K: F32  # (d, d) key projection
    b_K: F32  # (d,)  # noqa: N815 (the maths' name, as W_K)
    W_V: F32  # (d, d) value projection
    b_V: F32  # (d,)  # noqa: N815 (the maths' name, as W_V)
    W_O: F32  # (d, d) output projection applied to the concatenated heads
    b_O: F32  # (d,)  # noqa: N815 (the maths' name, as W_O)
    ln_gamma: F32  # (d,) LayerNorm weight applied to x + concat W_O + b_O
    ln_beta: F32  # (d,) LayerNorm bias
    ln_eps: float  # LayerNorm epsilon
    n_heads: int  # h = 12 for all-MiniLM-L6-v2
    head_dim: int  # hd = d / h = 32

    @property
    def scale(self) -> float:
        """The model's score scale 1/sqrt(hd)."""
        return 1.0 / math.sqrt(self.head_dim)


@dataclass(frozen=True, eq=False)
class LayerAttention:
    """One layer's attention, all heads, computed by our numpy code. L queries, S keys."""

    kind: Literal["self", "causal", "cross"]  # which variant produced it
    layer: int  # layer index, 0-based
    query_tokens: tuple[str, ...]  # L tokens giving the queries, with [CLS] and [SEP]
    key_tokens: tuple[str, ...]  # S tokens giving keys and values (= query_tokens unless cross)
    scores: F32  # (h, L, S) q·k / sqrt(hd) before any mask
    mask: F32  # (L, S) added to the scores: 0 = may attend, -inf = masked (causal upper triangle)
    weights: F32  # (h, L, S) softmax(scores + mask), every row sums to 1
    head_outputs: F32  # (h, L, hd) weights @ V for each head
    concat: F32  # (L, d) heads side by side: token t = [head 0 | head 1 | ... | head h-1]
    projected: F32  # (L, d) concat @ W_O + b_O, the model's attention.output.dense
    block_output: F32  # (L, d) LayerNorm(x_query + projected), the attention sub-layer's output

    @property
    def n_heads(self) -> int:
        """Number of heads h."""
        return int(self.weights.shape[0])


@dataclass(frozen=True, eq=False)
class Relevance:
    """The asymmetry lesson for one head: keys against keys vs queries against keys."""

    layer: int  # layer index, 0-based
    head: int  # head index, 0-based
    tokens: tuple[str, ...]  # T tokens with [CLS] and [SEP]
    kk: F32  # (T, T) K Kᵀ / sqrt(hd): symmetric, "a relates to b" = "b relates to a"
    qk: F32  # (T, T) q Kᵀ / sqrt(hd): the model's scores, row i = what token i looks for
    asymmetry_kk: float  # ‖kk − kkᵀ‖_F / ‖kk‖_F, 0 up to float rounding
    asymmetry_qk: float  # ‖qk − qkᵀ‖_F / ‖qk‖_F, clearly > 0
    pair: tuple[int, int]  # (i, j) maximising qk[i, j] − qk[j, i] (words only unless asked)
    pair_tokens: tuple[str, str]  # (tokens[i], tokens[j])
    pair_scores: tuple[float, float]  # (qk[i, j], qk[j, i]): i -> j and j -> i


@dataclass(frozen=True, eq=False)
class ModelCheck:
    """Our forward pass against transformers' BertModel: max |our weights − its output_attentions|, and
    the same for the attention sub-layer outputs and every layer's hidden states."""

    max_diff: float  # over all sentences, layers, heads and entries
    per_sentence: dict[str, float]  # sentence -> max diff
    per_layer: F32  # (n_checked_layers,) max diff per layer
    per_head: F32  # (n_checked_layers, h) max diff per layer and head
    layers: tuple[int, ...]  # the layers checked, in the order of per_layer
    max_projection_diff: float  # max |concat W_O + b_O − model's attention.output.dense output|
    max_block_diff: float  # max |LayerNorm(x + projected) − model's attention sub-layer output|
    max_hidden_diff: float  # max |our hidden states − the model's output_hidden_states|, every layer
    tokens_match: bool  # our tokenizer gave the same token ids as transformers' for every sentence


@dataclass(frozen=True, eq=False)
class _Run:
    """Our forward pass over one sentence (a batch of one, no padding), arrays read-only."""

    tokens: tuple[str, ...]  # T tokens
    special: NDArray[np.bool_]  # (T,) True for [CLS], [SEP], ...
    trace: ForwardTrace  # every layer's intermediates, shapes (1, ...)
    hidden: F32  # (n_layers + 1, T, d) hidden[l] enters layer l; hidden[-1] is the final output
