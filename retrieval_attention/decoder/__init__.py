"""Trained decoders run in numpy: causal attention writing the next word, and the KV cache as a key-value store.

Two small trained models read from GGUF files: SmolLM2-135M-Instruct (English; Llama
architecture) and Gemma 3 270M (multilingual; Gemma Terms of Use). Only :mod:`.gguf_file` imports
the ``gguf`` package; torch and transformers are used by the tests alone, as the reference.
"""

from retrieval_attention.decoder.generate import (
    MAX_NEW_TOKENS,
    GenerationSettings,
    GenerationStep,
    KVLookup,
    plan_generation,
)
from retrieval_attention.decoder.layers import KVCache, LayerTrace
from retrieval_attention.decoder.model import DECODERS, MAX_CONTEXT_TOKENS, Decoder, load_decoder
from retrieval_attention.decoder.translate import ALIGNMENT_HEAD, Translation

__all__ = [
    "ALIGNMENT_HEAD",
    "DECODERS",
    "MAX_CONTEXT_TOKENS",
    "MAX_NEW_TOKENS",
    "Decoder",
    "GenerationSettings",
    "GenerationStep",
    "KVCache",
    "KVLookup",
    "LayerTrace",
    "Translation",
    "load_decoder",
    "plan_generation",
]
