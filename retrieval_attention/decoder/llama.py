"""SmolLM2's forward pass in plain numpy: a Llama decoder is RMSNorm, rotary attention and SwiGLU.

One function per step. Shapes for one text: T new tokens, S positions cached after them, d model
width (576), h query heads (9), kv key-value heads (3), hd = d / h numbers per head (64), d_ff the
feed-forward width (1536), V the vocabulary (49152)::

    x = E[ids]                                                            embed            (T, d)
    for each layer:
        a = rms_norm(x)                                                   attention_block
        q, k, v = a W_Q, a W_K, a W_V split into heads, RoPE on q and k                    (h|kv, T, hd)
        K, V = cache + (k, v)                                             (KV cache)       (kv, S, hd)
        heads = softmax(q Kᵀ / √hd + causal mask) V                       (core attention) (h, T, hd)
        x = x + concat(heads) W_O                                                          (T, d)
        x = x + (silu(b W_gate) * (b W_up)) W_down,  b = rms_norm(x)      feed_forward     (T, d)
    logits = rms_norm(x) Eᵀ                                               (output head)    (T, V)

Every matrix is stored in the ``x @ W`` convention (in, out), C-contiguous float32, as in
:mod:`retrieval_attention.encoders.bert`; the output head is the embedding table itself (tied).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.decoder.layers import KVCache, LayerTrace, causal_attention, rms_norm, rope, silu

__all__ = [
    "LlamaConfig",
    "LlamaLayer",
    "LlamaWeights",
    "attention_block",
    "convert_tensors",
    "feed_forward",
    "forward",
    "unpermute",
    "weights_from_arrays",
]

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class LlamaConfig:
    """The shape of a Llama decoder (the GGUF's ``llama.*`` metadata)."""

    d_model: int  # d, embedding_length (576)
    n_layers: int  # block_count (30)
    n_heads: int  # h, attention.head_count (9)
    n_kv_heads: int  # kv, attention.head_count_kv (3): each serves h / kv query heads
    d_ff: int  # feed_forward_length (1536)
    vocab_size: int  # V (49152)
    rope_base: float  # rope.freq_base (100000)
    eps: float  # attention.layer_norm_rms_epsilon (1e-5)
    context_length: int  # context_length the model was trained for (8192)

    @property
    def head_dim(self) -> int:
        """hd = d / h."""
        return self.d_model // self.n_heads

    @classmethod
    def from_metadata(cls, meta: Mapping[str, object]) -> LlamaConfig:
        """Read from a GGUF's metadata (keys ``llama.*``)."""
        return cls(
            d_model=int(meta["llama.embedding_length"]),
            n_layers=int(meta["llama.block_count"]),
            n_heads=int(meta["llama.attention.head_count"]),
            n_kv_heads=int(meta["llama.attention.head_count_kv"]),
            d_ff=int(meta["llama.feed_forward_length"]),
            vocab_size=len(meta["tokenizer.ggml.tokens"]),
            rope_base=float(meta.get("llama.rope.freq_base", 10000.0)),
            eps=float(meta["llama.attention.layer_norm_rms_epsilon"]),
            context_length=int(meta["llama.context_length"]),
        )


@dataclass(frozen=True, eq=False)
class LlamaLayer:
    """One decoder layer, every matrix (in, out), C-contiguous float32."""

    attn_norm: F32  # (d,) RMSNorm before attention
    W_Q: F32  # (d, h·hd) queries; head i uses columns i·hd:(i+1)·hd
    W_K: F32  # (d, kv·hd) keys
    W_V: F32  # (d, kv·hd) values
    W_O: F32  # (h·hd, d) output projection of the concatenated heads
    ffn_norm: F32  # (d,) RMSNorm before the feed-forward network
    W_gate: F32  # (d, d_ff) SwiGLU gate
    W_up: F32  # (d, d_ff)
    W_down: F32  # (d_ff, d)


@dataclass(frozen=True, eq=False)
class LlamaWeights:
    """The whole decoder."""

    config: LlamaConfig
    embed: F32  # (V, d) one row per token
    layers: tuple[LlamaLayer, ...]
    out_norm: F32  # (d,) the final RMSNorm
    head: F32  # (V, d) the output head, logits = x headᵀ: the embedding table itself when tied (SmolLM2)


_LAYER_TENSORS = {  # LlamaLayer field -> GGUF tensor in block i, and whether it is a matrix (stored transposed)
    "attn_norm": ("attn_norm", False),
    "W_Q": ("attn_q", True),
    "W_K": ("attn_k", True),
    "W_V": ("attn_v", True),
    "W_O": ("attn_output", True),
    "ffn_norm": ("ffn_norm", False),
    "W_gate": ("ffn_gate", True),
    "W_up": ("ffn_up", True),
    "W_down": ("ffn_down", True),
}


def unpermute(w: F32, n_heads: int) -> F32:
    """Undo llama.cpp's reordering of W_Q / W_K rows (out, in): per head, rows (0, 2, 4, ..., 1, 3, ...) -> (0, 1, 2, ...).

    llama.cpp rotates adjacent pairs (number 2i with 2i + 1); transformers rotates i with i + hd/2.
    The GGUF's rows are ordered for the first, this puts them back for the second (as transformers'
    GGUF loader does), so our q and k equal transformers' number for number.

    Example:
        >>> unpermute(np.arange(4.0)[:, None], 1).ravel()
        array([0., 2., 1., 3.])
    """
    out, d_in = w.shape
    return w.reshape(n_heads, out // n_heads // 2, 2, d_in).swapaxes(1, 2).reshape(out, d_in)


def convert_tensors(tensors: Mapping[str, F32], cfg: LlamaConfig) -> dict[str, F32]:
    """The GGUF's tensors (numpy (out, in)) in the layout :func:`forward` uses: matrices (in, out), q/k rows un-permuted."""
    arrays = {"embed": tensors["token_embd.weight"], "out_norm": tensors["output_norm.weight"]}
    if "output.weight" in tensors:  # an untied output head
        arrays["head"] = tensors["output.weight"]
    for i in range(cfg.n_layers):
        for field, (name, matrix) in _LAYER_TENSORS.items():
            w = tensors[f"blk.{i}.{name}.weight"]
            if name == "attn_q":
                w = unpermute(w, cfg.n_heads)
            elif name == "attn_k":
                w = unpermute(w, cfg.n_kv_heads)
            arrays[f"{i}.{field}"] = w.T if matrix else w  # a view: write_copy lays each out as it writes it
    return arrays


def weights_from_arrays(cfg: LlamaConfig, arrays: Mapping[str, F32]) -> LlamaWeights:
    """The decoder from :func:`convert_tensors`' arrays (or their memory-mapped copies)."""
    layers = tuple(LlamaLayer(**{f: arrays[f"{i}.{f}"] for f in _LAYER_TENSORS}) for i in range(cfg.n_layers))
    head = arrays.get("head", arrays["embed"])
    return LlamaWeights(config=cfg, embed=arrays["embed"], layers=layers, out_norm=arrays["out_norm"], head=head)


def split_heads(x: F32, n: int) -> F32:
    """(T, n·hd) -> (n, T, hd)."""
    T = x.shape[0]
    return x.reshape(T, n, -1).transpose(1, 0, 2)


def attention_block(
    x: F32, w: LlamaLayer, cfg: LlamaConfig, positions: NDArray[np.int64], cache: KVCache, layer: int
) -> tuple[F32, LayerTrace]:
    """x + attention(rms_norm(x)); the new keys and values go into ``cache``. x (T, d) -> (T, d)."""
    a = rms_norm(x, w.attn_norm, cfg.eps)  # (T, d)
    q = rope(split_heads(a @ w.W_Q, cfg.n_heads), positions, cfg.rope_base)  # (h, T, hd)
    k = rope(split_heads(a @ w.W_K, cfg.n_kv_heads), positions, cfg.rope_base)  # (kv, T, hd)
    v = split_heads(a @ w.W_V, cfg.n_kv_heads)  # (kv, T, hd)
    K, V = cache.append(layer, k, v)  # (kv, S, hd)
    heads, weights = causal_attention(q, K, V, scale=1.0 / math.sqrt(cfg.head_dim))  # (h, T, hd), (h, T, S)
    merged = heads.transpose(1, 0, 2).reshape(x.shape[0], -1)  # (T, h·hd)
    return x + merged @ w.W_O, LayerTrace(q=q, weights=weights, read=heads)


def feed_forward(x: F32, w: LlamaLayer, cfg: LlamaConfig) -> F32:
    """x + SwiGLU(rms_norm(x)). (T, d) -> (T, d)."""
    b = rms_norm(x, w.ffn_norm, cfg.eps)  # (T, d)
    return x + (silu(b @ w.W_gate) * (b @ w.W_up)) @ w.W_down  # (T, d_ff) -> (T, d)


def forward(weights: LlamaWeights, ids: NDArray[np.int64], cache: KVCache) -> tuple[F32, list[LayerTrace]]:
    """Run T new tokens after the ``cache.length`` cached ones.

    Args:
        weights: the decoder.
        ids: (T,) token ids.
        cache: the KV cache; it grows by T positions.

    Returns:
        (logits (T, V), one :class:`LayerTrace` per layer).
    """
    cfg = weights.config
    positions = np.arange(cache.length, cache.length + len(ids))  # (T,)
    x = weights.embed[ids]  # (T, d)
    traces = []
    for i, layer in enumerate(weights.layers):
        x, trace = attention_block(x, layer, cfg, positions, cache, i)
        x = feed_forward(x, layer, cfg)
        traces.append(trace)
    cache.advance(len(ids))
    x = rms_norm(x, weights.out_norm, cfg.eps)  # (T, d)
    return x @ weights.head.T, traces  # (T, V)
