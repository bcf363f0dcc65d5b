"""Writing text one token at a time, and the KV cache read as the key-value store it is.

Each step runs only the newest token through the model: its key and value are appended to the
cache of every layer, its query is compared with every cached key, and the weights read the cached
values (the retrieval of the first page). Its logits give the next token: greedy (temperature 0,
the arg-max: a hard lookup) or drawn at a temperature from the top k. Shapes: S positions so far,
h query heads, kv key-value heads, hd numbers per head, V the vocabulary::

    step i: logits = model(token_{i-1} | cache)     (V,)       the cache grows to S positions
            p = softmax(logits / T), top k kept      (V,)       token_i ~ p  (T = 0: argmax)
            row = the step's attention               (L, h, S)  over positions 0..S-1, itself last
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.core.attention import softmax
from retrieval_attention.decoder.layers import KVCache, LayerTrace
from retrieval_attention.errors import InvalidParameterError, QueryError

__all__ = ["MAX_CONTEXT_TOKENS", "MAX_NEW_TOKENS", "GenerationSettings", "GenerationStep", "KVLookup", "generate", "kv_lookup", "plan_generation"]

F32 = NDArray[np.float32]

#: At most this many new tokens per call: a larger request is capped (and the settings say so).
MAX_NEW_TOKENS = 200

#: The longest text (prompt and generated tokens together) these pages run: attention is (h, T, T)
#: per layer, and a classroom machine should answer in seconds.
MAX_CONTEXT_TOKENS = 1024


class Decoder(Protocol):
    """What generation needs of :class:`retrieval_attention.decoder.model.Decoder`."""

    config: Any
    stop_ids: frozenset[int]

    def token_ids(self, text: str) -> list[int]: ...
    def token(self, token_id: int) -> str: ...
    def decode(self, ids: list[int]) -> str: ...
    def new_cache(self) -> KVCache: ...
    def run(self, ids: list[int], cache: KVCache | None = None) -> tuple[F32, list[LayerTrace]]: ...


@dataclass(frozen=True)
class GenerationSettings:
    """How tokens are chosen, after the requested values were checked (what the page says it did)."""

    temperature: float  # T ≥ 0; 0 means greedy
    greedy: bool  # T == 0: always the most probable token (a hard lookup), no randomness
    top_k: int | None  # sample among the k most probable tokens only (None: all)
    seed: int  # the random generator's seed: the same seed gives the same text
    max_new_tokens: int  # what will be generated at most (after the cap)
    requested_max_new_tokens: int  # what was asked for
    capped: bool  # requested > MAX_NEW_TOKENS, so max_new_tokens = MAX_NEW_TOKENS


def plan_generation(
    max_new_tokens: int = 20, temperature: float = 1.0, top_k: int | None = None, seed: int = 0
) -> GenerationSettings:
    """Check the generation settings; temperature 0 means greedy, a huge max_new_tokens is capped.

    Example:
        >>> s = plan_generation(10_000, temperature=0)
        >>> s.greedy, s.max_new_tokens, s.capped
        (True, 200, True)
    """
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 1:
        raise InvalidParameterError(f"max_new_tokens must be a whole number ≥ 1, got {max_new_tokens!r}")
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"temperature must be a number ≥ 0, got {temperature!r}") from None
    if not math.isfinite(t) or t < 0:
        raise InvalidParameterError(f"temperature must be a finite number ≥ 0 (0 = greedy), got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1):
        raise InvalidParameterError(f"top_k must be a whole number ≥ 1 or None, got {top_k!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidParameterError(f"seed must be a whole number ≥ 0, got {seed!r}")
    n = int(max_new_tokens)
    return GenerationSettings(
        temperature=t,
        greedy=t == 0.0,
        top_k=None if top_k is None else int(top_k),
        seed=int(seed),
        max_new_tokens=min(n, MAX_NEW_TOKENS),
        requested_max_new_tokens=n,
        capped=n > MAX_NEW_TOKENS,
    )


@dataclass(frozen=True, eq=False)
class GenerationStep:
    """One new token and what the model did to write it."""

    index: int  # 0 for the first new token
    token_id: int  # the token chosen
    token: str  # its spelling in the vocabulary
    text: str  # every new token so far, decoded
    probabilities: F32  # (V,) the model's next-token distribution, softmax of the logits at T = 1
    sampled_from: F32  # (V,) what the token was drawn from: temperature and top-k applied (one-hot when greedy)
    attention: F32  # (L, h, S) this step's query row in every layer and head, over positions 0..S-1 (itself last)
    queries: F32  # (L, h, hd) this step's query in every layer and head (after RoPE)
    reads: F32  # (L, h, hd) what each head read from the cache: attention @ values
    position: int  # S - 1: the position whose query wrote this token
    cache: KVCache  # the generation's key-value store (shared by its steps; positions 0..S-1 are this step's)
    settings: GenerationSettings
    stopped: str | None  # on the last step: "stop_token" (an end token), "max_new_tokens" or "context"; else None


@dataclass(frozen=True, eq=False)
class KVLookup:
    """One head's retrieval at one step: the query against the cached keys, the weights, the value read."""

    layer: int
    head: int  # the query head; it reads key-value head ``kv_head``
    kv_head: int
    keys: F32  # (S, hd) the cached keys K, one per position so far (after RoPE)
    values: F32  # (S, hd) the cached values V
    query: F32  # (hd,) the step's query q
    scores: F32  # (S,) q·K / √hd (Gemma: / √query_pre_attn_scalar), before the softmax and before the mask
    #               (a Gemma local layer reads only the last 512 positions: its weights are 0 further back)
    weights: F32  # (S,) softmax of the scores: the model's own weights (sum to 1)
    read: F32  # (hd,) weights @ V: the value read


def _choose(logits: F32, settings: GenerationSettings, rng: np.random.Generator) -> tuple[int, F32]:
    """The next token and the distribution it was drawn from."""
    V = logits.shape[0]
    if settings.greedy:
        i = int(np.argmax(logits))
        onehot = np.zeros(V, np.float32)
        onehot[i] = 1.0
        return i, onehot
    p = softmax(logits.astype(np.float64), temperature=settings.temperature)  # (V,)
    if settings.top_k is not None and settings.top_k < V:
        keep = np.argpartition(p, V - settings.top_k)[V - settings.top_k :]  # the k largest
        kept = np.zeros_like(p)
        kept[keep] = p[keep]
        p = kept / kept.sum()
    return int(rng.choice(V, p=p)), p.astype(np.float32)


def generate(decoder: Decoder, prompt: str, settings: GenerationSettings) -> Iterator[GenerationStep]:
    """Write up to ``settings.max_new_tokens`` tokens after ``prompt``, one step at a time (see the module doc).

    Stops early at a control token (end of text, end of turn) or when the text reaches
    :data:`MAX_CONTEXT_TOKENS`.
    """
    ids = decoder.token_ids(prompt)
    if len(ids) >= MAX_CONTEXT_TOKENS:
        raise QueryError(f"the prompt has {len(ids)} tokens: no room is left for new ones (at most {MAX_CONTEXT_TOKENS})")
    rng = np.random.default_rng(settings.seed)
    cache = decoder.new_cache()
    logits, traces = decoder.run(ids, cache)  # the whole prompt at once: its keys and values fill the cache
    row = -1  # the prompt's last position writes the first token
    new: list[int] = []
    for index in range(settings.max_new_tokens):
        token_id, sampled_from = _choose(logits[row], settings, rng)
        new.append(token_id)
        stopped = None
        if token_id in decoder.stop_ids:
            stopped = "stop_token"
        elif index + 1 == settings.max_new_tokens:
            stopped = "max_new_tokens"
        elif cache.length + 1 >= MAX_CONTEXT_TOKENS:  # the text now holds MAX_CONTEXT_TOKENS tokens
            stopped = "context"
        yield GenerationStep(
            index=index,
            token_id=token_id,
            token=decoder.token(token_id),
            text=decoder.decode(new),
            probabilities=softmax(logits[row]),
            sampled_from=sampled_from,
            attention=np.stack([t.weights[:, row] for t in traces]),  # (L, h, S)
            queries=np.stack([t.q[:, row] for t in traces]),  # (L, h, hd)
            reads=np.stack([t.read[:, row] for t in traces]),  # (L, h, hd)
            position=cache.length - 1,
            cache=cache,
            settings=settings,
            stopped=stopped,
        )
        if stopped is not None:
            return
        logits, traces = decoder.run([token_id], cache)  # one new token: one new key and value per layer
        row = 0


def kv_lookup(decoder: Decoder, step: GenerationStep, layer: int, head: int) -> KVLookup:
    """One head's retrieval at ``step``, read back from the cache (see :class:`KVLookup`).

    Raises:
        InvalidParameterError: a layer or head the model does not have.
    """
    cfg = decoder.config
    def whole(n: object, top: int) -> bool:
        return isinstance(n, (int, np.integer)) and not isinstance(n, bool) and 0 <= n < top

    if not whole(layer, cfg.n_layers) or not whole(head, cfg.n_heads):
        raise InvalidParameterError(
            f"layer must be 0..{cfg.n_layers - 1} and head 0..{cfg.n_heads - 1}, got layer {layer}, head {head}"
        )
    kv = head // (cfg.n_heads // cfg.n_kv_heads)  # transformers' repeat_kv: query head i reads key-value head i // g
    S = step.position + 1
    K = step.cache.keys(layer, S)[kv]  # (S, hd)
    V = step.cache.values(layer, S)[kv]  # (S, hd)
    q = step.queries[layer, head]  # (hd,)
    scale = getattr(cfg, "query_scale", cfg.head_dim)  # Gemma scales by query_pre_attn_scalar, Llama by hd
    scores = (K @ q) / np.float32(math.sqrt(scale))  # (S,)
    w = step.attention[layer, head]  # (S,) the weights the model used
    return KVLookup(layer, head, kv, K, V, q, scores.astype(np.float32), w, step.reads[layer, head])
