"""The pieces both decoders share: RMSNorm, rotary positions, causal grouped-query attention, the KV cache.

Shapes for one text (no batch): T new tokens, S = positions in the cache after them (S = T when
nothing is cached), d model width, h query heads, g = h / kv query heads per key-value head,
kv key-value heads, hd numbers per head::

    rms_norm(x, w)            x / sqrt(mean(x²) + eps) * w                         (T, d)
    rope(x, positions, base)  each pair of numbers (i, i + hd/2) turned by pos·θ_i (heads, T, hd)
    causal_attention(q, K, V) softmax(q Kᵀ · scale + causal mask) V per head       (h, T, hd), (h, T, S)

The attention is :func:`~retrieval_attention.core.attention.scaled_dot_product_attention`, the
function the first page teaches, with a boolean mask: query i (at absolute position p = S - T + i)
may read keys 0..p only (and only the last ``window`` of them in a sliding-window layer), so every
weight above the diagonal is exactly 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.attention import scaled_dot_product_attention

__all__ = ["KVCache", "LayerTrace", "causal_attention", "causal_mask", "gelu_tanh", "rms_norm", "rope", "silu"]

F32 = NDArray[np.float32]


@dataclass(frozen=True, eq=False)
class LayerTrace:
    """What one layer's attention did for the T new tokens (S positions in the cache after them)."""

    q: F32  # (h, T, hd) the queries, after RoPE (and Gemma's q-norm)
    weights: F32  # (h, T, S) softmax(q Kᵀ · scale + mask): every row sums to 1, zeros above the diagonal
    read: F32  # (h, T, hd) the values read, weights @ V, before the output projection


def rms_norm(x: F32, weight: F32, eps: float) -> F32:
    """``x / sqrt(mean(x²) + eps) * weight`` over the last axis (no mean subtracted, no bias).

    Example:
        >>> rms_norm(np.array([[3.0, 4.0]], dtype=np.float32), np.ones(2, np.float32), 0.0).round(4)
        array([[0.8485, 1.1314]], dtype=float32)
    """
    ms = np.mean(np.square(x), axis=-1, keepdims=True)  # (..., 1)
    return (x / np.sqrt(ms + np.float32(eps))) * weight


def silu(x: F32) -> F32:
    """``x · sigmoid(x)`` (SwiGLU's gate)."""
    return x / (np.float32(1.0) + np.exp(-x))


def gelu_tanh(x: F32) -> F32:
    """GELU, tanh approximation (Gemma's gate): ``x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³)))``."""
    c = np.float32(np.sqrt(2.0 / np.pi))
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(c * (x + np.float32(0.044715) * x * x * x)))


def rope(x: F32, positions: NDArray[np.int64], base: float) -> F32:
    """Rotary position embedding, as transformers applies it (``rotate_half``).

    Number i of a head and number i + hd/2 form a pair, turned by the angle ``p · base^(-2i/hd)``
    for a token at position p. (llama.cpp pairs adjacent numbers instead; the loader reorders the
    rows of W_Q and W_K from that layout, so q·k is the same either way.)

    Args:
        x: (heads, T, hd) queries or keys.
        positions: (T,) absolute positions of the T tokens.
        base: θ, the RoPE base (``rope.freq_base``).

    Returns:
        (heads, T, hd) rotated, float32.
    """
    hd = x.shape[-1]
    cos_table, sin_table = _rope_table(float(base), hd, _ROPE_TABLE_ROWS)  # (rows, hd/2) each
    if positions.size and positions.max() < _ROPE_TABLE_ROWS:
        cos, sin = cos_table[positions], sin_table[positions]  # (T, hd/2)
    else:
        cos, sin = _rope_angles(float(base), hd, positions)
    x1, x2 = x[..., : hd // 2], x[..., hd // 2 :]  # (heads, T, hd/2) each
    return np.concatenate([x1 * cos - x2 * sin, x2 * cos + x1 * sin], axis=-1)


_ROPE_TABLE_ROWS = 4096  # positions whose cos/sin are computed once per (base, hd) and looked up


def _rope_angles(base: float, hd: int, positions: NDArray[np.int64]) -> tuple[F32, F32]:
    """cos and sin of ``p · base^(-2i/hd)`` for each position p and i < hd/2, computed in float64. (T, hd/2) each."""
    inv_freq = 1.0 / (base ** (np.arange(0, hd, 2, dtype=np.float64) / hd))  # (hd/2,)
    angles = positions.astype(np.float64)[:, None] * inv_freq[None, :]  # (T, hd/2)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


@lru_cache(maxsize=8)
def _rope_table(base: float, hd: int, rows: int) -> tuple[F32, F32]:
    """:func:`_rope_angles` for positions 0..rows-1, once per (base, hd): a token step only looks its row up."""
    return _rope_angles(base, hd, np.arange(rows))


def causal_mask(T: int, S: int, window: int | None = None) -> NDArray[np.bool_]:
    """(T, S) True where query i (at position S - T + i) may read key j: j ≤ its position (and within ``window``).

    Example:
        >>> causal_mask(2, 3).astype(int)
        array([[1, 1, 0],
               [1, 1, 1]])
        >>> causal_mask(3, 3, window=2).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [0, 1, 1]])
    """
    p = np.arange(S - T, S)[:, None]  # (T, 1) absolute positions of the queries
    j = np.arange(S)[None, :]  # (1, S)
    allowed = j <= p
    if window is not None:
        allowed &= j > p - window  # transformers' sliding window: the last `window` positions
    return allowed


def causal_attention(q: F32, K: F32, V: F32, scale: float, window: int | None = None) -> tuple[F32, F32]:
    """Grouped-query causal attention: each of h query heads reads one of kv key-value heads.

    Args:
        q: (h, T, hd) queries of the T new tokens.
        K: (kv, S, hd) keys of every position so far (the cache, the new tokens last).
        V: (kv, S, hd) values.
        scale: multiplier of q·k (1/√hd).
        window: sliding-window length, or None for full causal attention.

    Returns:
        (out, w): out (h, T, hd) the values read, w (h, T, S) the weights; query head i reads
        key-value head i // (h / kv), as transformers' ``repeat_kv``.
    """
    h, T, hd = q.shape
    kv, S, _ = K.shape
    qg = q.reshape(kv, h // kv, T, hd)  # (kv, g, T, hd): the g query heads sharing one key-value head
    mask = causal_mask(T, S, window)  # (T, S)
    if mask.all():  # one new token that may read the whole cache: nothing to mask (and no mask to build)
        mask = None
    out, w = scaled_dot_product_attention(qg, K[:, None], V[:, None], attn_mask=mask, scale=scale)
    return out.reshape(h, T, hd), w.reshape(h, T, S)


class KVCache:
    """The decoder's key-value store: per layer, the key and value of every position read so far.

    A new token's query is compared with every cached key (plus its own), and the weights read the
    cached values: the retrieval of the first page, with a store that grows by one key and one value
    per token and layer. Keys are stored after RoPE, as the attention compares them.

    Storage grows by doubling; ``keys(layer, S)`` and ``values(layer, S)`` are views of the first S
    positions, so a step can look back at the store as it was when it ran.
    """

    def __init__(self, n_layers: int, n_kv: int, head_dim: int, capacity: int = 64) -> None:
        self._K = [np.zeros((n_kv, capacity, head_dim), np.float32) for _ in range(n_layers)]
        self._V = [np.zeros((n_kv, capacity, head_dim), np.float32) for _ in range(n_layers)]
        self.length = 0  # S: positions stored in every layer

    def append(self, layer: int, k: F32, v: F32) -> tuple[F32, F32]:
        """Store T new keys and values (kv, T, hd) after the ``length`` cached ones; return all (kv, S, hd)."""
        T = k.shape[1]
        S = self.length + T
        cap = self._K[layer].shape[1]
        if S > cap:
            grow = max(S, 2 * cap)
            for store in (self._K, self._V):
                old = store[layer]
                new = np.zeros((old.shape[0], grow, old.shape[2]), np.float32)
                new[:, :cap] = old
                store[layer] = new
        self._K[layer][:, self.length : S] = k
        self._V[layer][:, self.length : S] = v
        return self._K[layer][:, :S], self._V[layer][:, :S]

    def advance(self, T: int) -> None:
        """Every layer has stored its T new positions."""
        self.length += T

    def keys(self, layer: int, S: int | None = None) -> F32:
        """(kv, S, hd) the first S cached keys of ``layer`` (all by default)."""
        return self._K[layer][:, : self.length if S is None else S]

    def values(self, layer: int, S: int | None = None) -> F32:
        """(kv, S, hd) the first S cached values of ``layer`` (all by default)."""
        return self._V[layer][:, : self.length if S is None else S]
