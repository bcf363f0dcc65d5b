"""MiniLM's forward pass in plain numpy: a BERT-style encoder is a few matrix products and softmaxes.

One function per step, with the names the lesson pages use. Shapes: B texts, T tokens, d model
width (384), h heads (12) of hd = d / h numbers (32), d_ff feed-forward width (1536)::

    x = LayerNorm(word[ids] + position[0..T-1] + type[0])                  embed            (B, T, d)
    for each layer:                                                        encoder_layer
        q, K, V = x W_Q + b_Q, x W_K + b_K, x W_V + b_V, split into heads  project_heads    (B, h, T, hd)
        heads = softmax(q Kᵀ / √hd + mask) V                               (core attention) (B, h, T, hd)
        a = LayerNorm(x + concat(heads) W_O + b_O)                         attention_block  (B, T, d)
        x = LayerNorm(a + FFN(a)),  FFN(a) = gelu(a W_1 + b_1) W_2 + b_2   feed_forward     (B, T, d)
    e = mean of x over the real tokens                                     mean_pool        (B, d)

The attention in the middle is :func:`~retrieval_attention.core.attention.scaled_dot_product_attention`,
the same ten lines the first page teaches. Every weight matrix is stored in the ``x @ W``
convention (in, out) as C-contiguous float32 (torch keeps (out, in)), so each product is one
contiguous matrix multiply. Pure numpy, no I/O: :mod:`retrieval_attention.encoders.numpy_bert`
reads a model folder into these dataclasses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.attention import scaled_dot_product_attention

__all__ = [
    "BertConfig",
    "BertWeights",
    "ForwardTrace",
    "LayerTrace",
    "LayerWeights",
    "attention_block",
    "embed",
    "encoder_layer",
    "feed_forward",
    "forward",
    "gelu",
    "layer_norm",
    "linear",
    "mean_pool",
    "merge_heads",
    "project_heads",
    "split_heads",
]

F32 = NDArray[np.float32]

#: Rows (tokens) per block in the feed-forward network: the FFN acts on each token alone, so it runs
#: in blocks whose (rows, d_ff) intermediate stays in the CPU cache between its two products and gelu.
FFN_BLOCK_ROWS = 64


@dataclass(frozen=True)
class BertConfig:
    """The shape of a BERT-style encoder (the fields of its ``config.json`` that the forward pass uses)."""

    d_model: int  # d, hidden_size: the width of every hidden state (384)
    n_layers: int  # num_hidden_layers (6)
    n_heads: int  # h, num_attention_heads (12)
    d_ff: int  # intermediate_size: the FFN's hidden width (1536)
    vocab_size: int  # rows of the word-embedding table (30522)
    max_position: int  # max_position_embeddings: rows of the position table (512)
    type_vocab_size: int  # rows of the token-type table (2)
    eps: float  # layer_norm_eps of every LayerNorm (1e-12)

    @property
    def head_dim(self) -> int:
        """hd = d / h, the width of one head's q, k and v."""
        return self.d_model // self.n_heads


@dataclass(frozen=True, eq=False)
class LayerWeights:
    """One encoder layer, every matrix in the ``x @ W`` convention (in, out), C-contiguous float32."""

    W_Q: F32  # (d, d) queries; head k uses columns k*hd:(k+1)*hd
    b_Q: F32  # (d,)  # noqa: N815 (the maths' name, as W_Q)
    W_K: F32  # (d, d) keys
    b_K: F32  # (d,)  # noqa: N815
    W_V: F32  # (d, d) values
    b_V: F32  # (d,)  # noqa: N815
    W_O: F32  # (d, d) output projection of the concatenated heads
    b_O: F32  # (d,)  # noqa: N815
    ln1_gamma: F32  # (d,) LayerNorm after the attention's residual
    ln1_beta: F32  # (d,)
    W_1: F32  # (d, d_ff) FFN, first product
    b_1: F32  # (d_ff,)
    W_2: F32  # (d_ff, d) FFN, second product
    b_2: F32  # (d,)
    ln2_gamma: F32  # (d,) LayerNorm after the FFN's residual
    ln2_beta: F32  # (d,)


@dataclass(frozen=True, eq=False)
class BertWeights:
    """The whole encoder: embedding tables, their LayerNorm, and the layers."""

    config: BertConfig
    word: F32  # (vocab_size, d) one row per WordPiece token
    position: F32  # (max_position, d) one row per position 0, 1, 2, ...
    token_type: F32  # (type_vocab_size, d) sentence A / B; a single text is all type 0
    ln_gamma: F32  # (d,) LayerNorm of the embeddings
    ln_beta: F32  # (d,)
    layers: tuple[LayerWeights, ...]  # n_layers of them


@dataclass(frozen=True, eq=False)
class LayerTrace:
    """Everything one layer computed, for the pages that look inside (B texts, T tokens)."""

    x: F32  # (B, T, d) hidden states entering the layer
    q: F32  # (B, h, T, hd) queries, per head
    k: F32  # (B, h, T, hd) keys, per head
    v: F32  # (B, h, T, hd) values, per head
    weights: F32  # (B, h, T, T) softmax(q kᵀ / √hd + mask): what transformers calls output_attentions
    heads: F32  # (B, h, T, hd) weights @ v, per head
    projected: F32  # (B, T, d) concat(heads) W_O + b_O
    attention_output: F32  # (B, T, d) LayerNorm(x + projected): the attention block's output
    ffn_output: F32  # (B, T, d) gelu(a W_1 + b_1) W_2 + b_2 with a = attention_output
    output: F32  # (B, T, d) LayerNorm(a + ffn_output): the hidden states entering the next layer


@dataclass(frozen=True, eq=False)
class ForwardTrace:
    """A whole forward pass: the embeddings, every layer's trace, the final hidden states."""

    embeddings: F32  # (B, T, d) embed(ids), the hidden states entering layer 0
    layers: tuple[LayerTrace, ...]  # one per layer
    last_hidden: F32  # (B, T, d) the last layer's output

    def hidden_states(self) -> tuple[F32, ...]:
        """n_layers + 1 arrays (B, T, d): entering each layer, then the output (as output_hidden_states)."""
        return (self.embeddings, *(t.output for t in self.layers))


# ----------------------------------------------------------------------------- the steps


def layer_norm(x: F32, gamma: F32, beta: F32, eps: float) -> F32:
    """LayerNorm over the last axis: ``(x − mean) / √(var + eps) · gamma + beta`` (biased variance, as torch).

    Example:
        >>> layer_norm(np.array([[1.0, 3.0]], np.float32), np.ones(2, np.float32), np.zeros(2, np.float32), 1e-12)
        array([[-1.,  1.]], dtype=float32)
    """
    mu = x.mean(axis=-1, keepdims=True)  # (..., 1)
    centred = x - mu  # (..., d)
    var = np.mean(centred * centred, axis=-1, keepdims=True)  # (..., 1)
    centred *= (1.0 / np.sqrt(var + np.float32(eps))).astype(x.dtype, copy=False)
    centred *= gamma
    centred += beta
    return centred


def embed(ids: NDArray[np.int64], w: BertWeights) -> F32:
    """Token ids (B, T) -> x (B, T, d): word + position + token type (all type 0), then LayerNorm."""
    T = ids.shape[1]
    x = w.word[ids]  # (B, T, d) one row of the table per token
    x += w.token_type[0]  # (d,) a single text is sentence A
    x += w.position[:T]  # (T, d) position 0, 1, ..., T-1
    return layer_norm(x, w.ln_gamma, w.ln_beta, w.config.eps)


def split_heads(x: F32, n_heads: int) -> F32:
    """(..., T, d) -> (..., h, T, hd): head k gets columns k*hd:(k+1)*hd of every token.

    Example:
        >>> split_heads(np.arange(8, dtype=np.float32).reshape(2, 4), 2)[1]  # head 1: columns 2 and 3
        array([[2., 3.],
               [6., 7.]], dtype=float32)
    """
    *lead, T, d = x.shape
    return np.swapaxes(x.reshape(*lead, T, n_heads, d // n_heads), -2, -3)


def merge_heads(heads: F32) -> F32:
    """(..., h, T, hd) -> (..., T, d): the heads side by side, token t = [head 0 | head 1 | ... ]."""
    *lead, h, T, hd = heads.shape
    return np.ascontiguousarray(np.swapaxes(heads, -2, -3)).reshape(*lead, T, h * hd)


def linear(x: F32, W: F32, b: F32) -> F32:
    """``x @ W + b`` over the last axis, as one (B*T, in) @ (in, out) product: (B, T, in) -> (B, T, out)."""
    rows = x.reshape(-1, x.shape[-1]) @ W  # (B*T, out): one matrix multiply, not one per text
    rows += b
    return rows.reshape(*x.shape[:-1], W.shape[1])


def project_heads(x: F32, L: LayerWeights, n_heads: int) -> tuple[F32, F32, F32]:
    """q, K, V = x W_Q + b_Q, x W_K + b_K, x W_V + b_V, each split into heads: (B, T, d) -> 3 × (B, h, T, hd)."""
    q = split_heads(linear(x, L.W_Q, L.b_Q), n_heads)  # (B, h, T, hd)
    K = split_heads(linear(x, L.W_K, L.b_K), n_heads)  # (B, h, T, hd)
    V = split_heads(linear(x, L.W_V, L.b_V), n_heads)  # (B, h, T, hd)
    return q, K, V


def attention_block(
    x: F32, key_mask: NDArray[np.bool_] | None, L: LayerWeights, cfg: BertConfig
) -> tuple[F32, F32, F32, F32, F32, F32, F32]:
    """Multi-head self-attention, then the residual and LayerNorm.

    Args:
        x: (B, T, d) hidden states entering the layer.
        key_mask: (B, T) True for real tokens, False for padding (None: no padding).
        L: the layer's weights.
        cfg: the model's shape.

    Returns:
        (q, K, V, weights, heads, projected, a): per-head (B, h, T, hd) q, K, V and heads, the
        weights (B, h, T, T), concat(heads) W_O + b_O (B, T, d) and a = LayerNorm(x + projected).
    """
    q, K, V = project_heads(x, L, cfg.n_heads)  # (B, h, T, hd) each
    mask = None if key_mask is None else key_mask[:, None, None, :]  # (B, 1, 1, T): no query looks at padding
    heads, weights = scaled_dot_product_attention(q, K, V, attn_mask=mask)  # (B, h, T, hd), (B, h, T, T)
    projected = linear(merge_heads(heads), L.W_O, L.b_O)  # (B, T, d)
    a = layer_norm(x + projected, L.ln1_gamma, L.ln1_beta, cfg.eps)  # (B, T, d)
    return q, K, V, weights, heads, projected, a


_SQRT1_2 = np.float32(1.0 / math.sqrt(2.0))
# Abramowitz & Stegun 7.1.26: erf(u) = 1 − (a1 t + … + a5 t⁵) e^(−u²), t = 1 / (1 + p u), u ≥ 0
_P, _A1, _A2, _A3, _A4, _A5 = 0.3275911, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429


def gelu(x: F32) -> F32:
    """GELU(x) = x · Φ(x) = x/2 · (1 + erf(x/√2)), the exact form BERT uses (``hidden_act = "gelu"``).

    numpy has no erf, so it is Abramowitz & Stegun's formula 7.1.26 (|error| < 1.5e-7, about one
    float32 step of the result), written with in-place steps because gelu runs on the largest array.

    Example:
        >>> gelu(np.array([-3.0, 0.0, 1.0], np.float32)).round(5)
        array([-0.00405,  0.     ,  0.84134], dtype=float32)
    """
    u = x * _SQRT1_2  # erf's argument
    t = np.abs(u)
    t *= _P
    t += 1.0
    np.reciprocal(t, out=t)  # t = 1 / (1 + p |u|)
    y = t * _A5  # Horner: ((((a5 t + a4) t + a3) t + a2) t + a1) t
    for a in (_A4, _A3, _A2, _A1):
        y += a
        y *= t
    e = np.square(u)
    np.negative(e, out=e)
    y *= np.exp(e, out=e)  # y = 1 − erf(|u|)
    one_plus_erf = np.where(u >= 0, 2.0 - y, y)  # 1 + erf(u), using erf(−u) = −erf(u)
    one_plus_erf *= x
    one_plus_erf *= 0.5
    return one_plus_erf


def feed_forward(a: F32, L: LayerWeights) -> F32:
    """FFN(a) = gelu(a W_1 + b_1) W_2 + b_2, on each token alone: (B, T, d) -> (B, T, d)."""
    rows = a.reshape(-1, a.shape[-1])  # (B*T, d): the FFN never mixes tokens
    out = np.empty_like(rows)  # (B*T, d)
    for start in range(0, rows.shape[0], FFN_BLOCK_ROWS):
        block = slice(start, start + FFN_BLOCK_ROWS)
        hidden = rows[block] @ L.W_1  # (rows, d_ff)
        hidden += L.b_1
        np.matmul(gelu(hidden), L.W_2, out=out[block])  # (rows, d)
    out += L.b_2
    return out.reshape(a.shape)


def encoder_layer(x: F32, key_mask: NDArray[np.bool_] | None, L: LayerWeights, cfg: BertConfig) -> LayerTrace:
    """One layer: attention block, then the FFN with its residual and LayerNorm. x (B, T, d) -> output (B, T, d)."""
    q, K, V, weights, heads, projected, a = attention_block(x, key_mask, L, cfg)
    f = feed_forward(a, L)  # (B, T, d)
    out = layer_norm(a + f, L.ln2_gamma, L.ln2_beta, cfg.eps)  # (B, T, d)
    return LayerTrace(x, q, K, V, weights, heads, projected, a, f, out)


def forward(
    ids: NDArray[np.int64], key_mask: NDArray[np.bool_] | None, w: BertWeights, keep: bool = False
) -> ForwardTrace:
    """The whole encoder on token ids (B, T), padded on the right where ``key_mask`` is False.

    Args:
        ids: (B, T) token ids, [CLS] first and [SEP] last in every row (then padding).
        key_mask: (B, T) True for real tokens; None when no row is padded.
        w: the weights.
        keep: keep every layer's trace (for the inspector); False keeps only the final hidden states.

    Returns:
        ForwardTrace; its ``layers`` is empty unless ``keep``.
    """
    x = embed(ids, w)  # (B, T, d)
    x0, kept = x, []
    for L in w.layers:
        trace = encoder_layer(x, key_mask, L, w.config)
        if keep:
            kept.append(trace)
        x = trace.output  # (B, T, d)
    return ForwardTrace(embeddings=x0, layers=tuple(kept), last_hidden=x)


def mean_pool(hidden: F32, key_mask: NDArray[np.bool_] | None) -> F32:
    """The mean of each text's real tokens, padding left out: (B, T, d) -> (B, d).

    Example:
        >>> mean_pool(np.array([[[1.0], [3.0], [100.0]]], np.float32), np.array([[True, True, False]]))
        array([[2.]], dtype=float32)
    """
    if key_mask is None:
        return hidden.mean(axis=1)
    m = key_mask[:, :, None].astype(hidden.dtype)  # (B, T, 1)
    counts = np.maximum(m.sum(axis=1), np.float32(1e-9))  # (B, 1), as sentence-transformers' clamp
    return (hidden * m).sum(axis=1) / counts
