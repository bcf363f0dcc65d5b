"""Gemma 3's forward pass in plain numpy: a Llama-like decoder with four more norms and two kinds of layer.

Differences from :mod:`.llama`, one line each: the embeddings are multiplied by √d; q and k get an
RMSNorm of their own (per head); the attention and the feed-forward output are normed again before
they join the residual; the gate is GELU (tanh) instead of SiLU; the scores are scaled by
``query_pre_attn_scalar^-½``; five layers in six are *local* (sliding window of 512 positions,
RoPE base 10 000) and every sixth is *global* (the whole past, RoPE base 1 000 000).

Gemma's norms compute ``x̂ · (1 + w)``; the GGUF already stores ``1 + w`` (llama.cpp adds the 1
when converting; transformers' GGUF loader subtracts it again), so here every norm is a plain
``rms_norm(x, w)`` with the stored w. Shapes (270M): d = 640, h = 4 query heads, kv = 1 key-value
head, hd = 256, d_ff = 2048, V = 262144, 18 layers::

    x = E[ids] · √d                                                        embed            (T, d)
    for each layer:
        a = rms_norm(x)                                                    attention_block
        q, k, v = a W_Q, a W_K, a W_V per head; q, k = rms_norm each; RoPE                 (h|kv, T, hd)
        heads = softmax(q Kᵀ / √256 + causal (window) mask) V              (core attention) (h, T, hd)
        x = x + rms_norm(concat(heads) W_O)                                                 (T, d)
        x = x + rms_norm((gelu(b W_gate) * (b W_up)) W_down),  b = rms_norm(x)  feed_forward (T, d)
    logits = rms_norm(x) Eᵀ                                                (output head)    (T, V)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.decoder.layers import KVCache, LayerTrace, causal_attention, gelu_tanh, rms_norm, rope

__all__ = [
    "GemmaConfig",
    "GemmaLayer",
    "GemmaWeights",
    "attention_block",
    "convert_tensors",
    "feed_forward",
    "forward",
    "weights_from_arrays",
]

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class GemmaConfig:
    """The shape of a Gemma 3 decoder (the GGUF's ``gemma3.*`` metadata)."""

    d_model: int  # d, embedding_length (640)
    n_layers: int  # block_count (18)
    n_heads: int  # h, attention.head_count (4)
    n_kv_heads: int  # kv, attention.head_count_kv (1)
    head_dim: int  # hd, attention.key_length (256): not d / h in Gemma
    d_ff: int  # feed_forward_length (2048)
    vocab_size: int  # V (262144)
    rope_base_global: float  # rope.freq_base (1e6), for the global layers
    rope_base_local: float  # 1e4 for the local layers (not in the GGUF: llama.cpp and transformers both use 10 000)
    sliding_window: int  # attention.sliding_window (512): a local layer reads the last 512 positions
    global_every: int  # layer i is global when (i + 1) % global_every == 0 (6: layers 5, 11, 17)
    query_scale: float  # query_pre_attn_scalar (256): scores are scaled by its -½ power
    eps: float  # attention.layer_norm_rms_epsilon (1e-6)
    context_length: int  # context_length (32768)

    def is_global(self, layer: int) -> bool:
        """Whether ``layer`` reads the whole past (else the sliding window)."""
        return (layer + 1) % self.global_every == 0

    @classmethod
    def from_metadata(cls, meta: Mapping[str, object]) -> GemmaConfig:
        """Read from a GGUF's metadata (keys ``gemma3.*``)."""
        hd = int(meta["gemma3.attention.key_length"])
        return cls(
            d_model=int(meta["gemma3.embedding_length"]),
            n_layers=int(meta["gemma3.block_count"]),
            n_heads=int(meta["gemma3.attention.head_count"]),
            n_kv_heads=int(meta["gemma3.attention.head_count_kv"]),
            head_dim=hd,
            d_ff=int(meta["gemma3.feed_forward_length"]),
            vocab_size=len(meta["tokenizer.ggml.tokens"]),
            rope_base_global=float(meta.get("gemma3.rope.freq_base", 1_000_000.0)),
            rope_base_local=10_000.0,
            sliding_window=int(meta["gemma3.attention.sliding_window"]),
            global_every=int(meta.get("gemma3.attention.sliding_window_pattern", 6)),
            query_scale=float(hd),  # transformers' default query_pre_attn_scalar = 256 = hd for the 270M model
            eps=float(meta["gemma3.attention.layer_norm_rms_epsilon"]),
            context_length=int(meta["gemma3.context_length"]),
        )


@dataclass(frozen=True, eq=False)
class GemmaLayer:
    """One decoder layer, every matrix (in, out), C-contiguous float32; every norm already holds 1 + w."""

    attn_norm: F32  # (d,) before attention
    W_Q: F32  # (d, h·hd)
    W_K: F32  # (d, kv·hd)
    W_V: F32  # (d, kv·hd)
    q_norm: F32  # (hd,) RMSNorm of each query head
    k_norm: F32  # (hd,) RMSNorm of each key head
    W_O: F32  # (h·hd, d)
    post_attn_norm: F32  # (d,) on the attention's output, before the residual
    ffn_norm: F32  # (d,) before the feed-forward network
    W_gate: F32  # (d, d_ff)
    W_up: F32  # (d, d_ff)
    W_down: F32  # (d_ff, d)
    post_ffn_norm: F32  # (d,) on the feed-forward output, before the residual


@dataclass(frozen=True, eq=False)
class GemmaWeights:
    """The whole decoder."""

    config: GemmaConfig
    embed: F32  # (V, d) one row per token; also the output head
    layers: tuple[GemmaLayer, ...]
    out_norm: F32  # (d,) the final RMSNorm


_LAYER_TENSORS = {  # GemmaLayer field -> GGUF tensor in block i, and whether it is a matrix (stored transposed)
    "attn_norm": ("attn_norm", False),
    "W_Q": ("attn_q", True),
    "W_K": ("attn_k", True),
    "W_V": ("attn_v", True),
    "q_norm": ("attn_q_norm", False),
    "k_norm": ("attn_k_norm", False),
    "W_O": ("attn_output", True),
    "post_attn_norm": ("post_attention_norm", False),
    "ffn_norm": ("ffn_norm", False),
    "W_gate": ("ffn_gate", True),
    "W_up": ("ffn_up", True),
    "W_down": ("ffn_down", True),
    "post_ffn_norm": ("post_ffw_norm", False),
}


def convert_tensors(tensors: Mapping[str, F32], cfg: GemmaConfig) -> dict[str, F32]:
    """The GGUF's tensors in the layout :func:`forward` uses: matrices (in, out); q/k are not permuted for Gemma."""
    arrays = {"embed": tensors["token_embd.weight"], "out_norm": tensors["output_norm.weight"]}
    for i in range(cfg.n_layers):
        for field, (name, matrix) in _LAYER_TENSORS.items():
            w = tensors[f"blk.{i}.{name}.weight"]
            arrays[f"{i}.{field}"] = w.T if matrix else w  # a view: write_copy lays each out as it writes it
    return arrays


def weights_from_arrays(cfg: GemmaConfig, arrays: Mapping[str, F32]) -> GemmaWeights:
    """The decoder from :func:`convert_tensors`' arrays (or their memory-mapped copies)."""
    layers = tuple(GemmaLayer(**{f: arrays[f"{i}.{f}"] for f in _LAYER_TENSORS}) for i in range(cfg.n_layers))
    return GemmaWeights(config=cfg, embed=arrays["embed"], layers=layers, out_norm=arrays["out_norm"])


def split_heads(x: F32, n: int) -> F32:
    """(T, n·hd) -> (n, T, hd)."""
    return x.reshape(x.shape[0], n, -1).transpose(1, 0, 2)


def attention_block(
    x: F32, w: GemmaLayer, cfg: GemmaConfig, positions: NDArray[np.int64], cache: KVCache, layer: int
) -> tuple[F32, LayerTrace]:
    """x + rms_norm(attention(rms_norm(x))), local or global by layer. x (T, d) -> (T, d)."""
    base, window = (
        (cfg.rope_base_global, None) if cfg.is_global(layer) else (cfg.rope_base_local, cfg.sliding_window)
    )
    a = rms_norm(x, w.attn_norm, cfg.eps)  # (T, d)
    q = rope(rms_norm(split_heads(a @ w.W_Q, cfg.n_heads), w.q_norm, cfg.eps), positions, base)  # (h, T, hd)
    k = rope(rms_norm(split_heads(a @ w.W_K, cfg.n_kv_heads), w.k_norm, cfg.eps), positions, base)  # (kv, T, hd)
    v = split_heads(a @ w.W_V, cfg.n_kv_heads)  # (kv, T, hd)
    K, V = cache.append(layer, k, v)  # (kv, S, hd)
    heads, weights = causal_attention(q, K, V, scale=1.0 / math.sqrt(cfg.query_scale), window=window)
    merged = heads.transpose(1, 0, 2).reshape(x.shape[0], -1)  # (T, h·hd)
    return x + rms_norm(merged @ w.W_O, w.post_attn_norm, cfg.eps), LayerTrace(q=q, weights=weights, read=heads)


def feed_forward(x: F32, w: GemmaLayer, cfg: GemmaConfig) -> F32:
    """x + rms_norm(GeGLU(rms_norm(x))). (T, d) -> (T, d)."""
    b = rms_norm(x, w.ffn_norm, cfg.eps)  # (T, d)
    f = (gelu_tanh(b @ w.W_gate) * (b @ w.W_up)) @ w.W_down  # (T, d_ff) -> (T, d)
    return x + rms_norm(f, w.post_ffn_norm, cfg.eps)


def forward(weights: GemmaWeights, ids: NDArray[np.int64], cache: KVCache) -> tuple[F32, list[LayerTrace]]:
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
    x = weights.embed[ids] * np.float32(math.sqrt(cfg.d_model))  # (T, d)
    traces = []
    for i, layer in enumerate(weights.layers):
        x, trace = attention_block(x, layer, cfg, positions, cache, i)
        x = feed_forward(x, layer, cfg)
        traces.append(trace)
    cache.advance(len(ids))
    x = rms_norm(x, weights.out_norm, cfg.eps)  # (T, d)
    return x @ weights.embed.T, traces  # (T, V)
