"""The proof: transformers' own BertModel (eager attention) on the same tokens, to compare ours against.

The only inspector module that touches torch and transformers, and only inside :func:`reference_run`,
which the check against the model calls on demand: the pages, and everything else the inspector
computes, run on our numpy forward pass alone.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from retrieval_attention.encoders.base import apply_offline_policy
from retrieval_attention.errors import ModelNotFoundError
from retrieval_attention.inspector.results import F32

__all__ = [
    "ReferenceRun",
    "reference_run",
]


@dataclass(frozen=True, eq=False)
class ReferenceRun:
    """What transformers' BertModel computes for one sentence (tokenised by its own tokenizer)."""

    ids: tuple[int, ...]  # T token ids from transformers' tokenizer
    hidden: F32  # (n_layers + 1, T, d) output_hidden_states
    attentions: F32  # (n_layers, h, T, T) output_attentions
    dense: F32  # (n_layers, T, d) output of attention.output.dense (before dropout and LayerNorm)
    block: F32  # (n_layers, T, d) output of the attention sub-layer (after residual + LayerNorm)


@functools.lru_cache(maxsize=2)
def _load(path: str) -> tuple[Any, Any, threading.Lock]:
    """transformers' tokenizer and BertModel for ``path`` (eval mode, eager attention, float32), once."""
    apply_offline_policy()
    import torch
    import transformers

    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        model = transformers.AutoModel.from_pretrained(path, attn_implementation="eager", dtype=torch.float32)
    except (OSError, ValueError) as exc:
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        raise ModelNotFoundError(f"cannot load the reference transformer from {path!r}: {first}") from None
    return tokenizer, model.eval(), threading.Lock()


def reference_run(path: str, sentence: str, max_length: int) -> ReferenceRun:
    """Run transformers' BertModel on ``sentence`` alone (no padding) and collect what we compare.

    Args:
        path: the model folder (the same files our numpy encoder reads).
        sentence: one sentence.
        max_length: truncation in tokens, [CLS] and [SEP] included (the model's max_seq_length).

    Returns:
        ReferenceRun with float32 numpy arrays.

    Raises:
        ModelNotFoundError: transformers cannot load the folder.
    """
    import torch

    tokenizer, model, lock = _load(path)
    enc = tokenizer(sentence, return_tensors="pt", truncation=True, max_length=max_length)
    captured: dict[str, list[Any]] = {"dense": [], "block": []}

    def keep(name: str) -> Any:
        def hook(_module: Any, _inputs: Any, output: Any) -> None:
            captured[name].append((output[0] if isinstance(output, tuple) else output)[0].detach())

        return hook

    layers = model.encoder.layer
    with lock, torch.inference_mode():  # hooks are per model: one sentence at a time
        handles = [lyr.attention.output.dense.register_forward_hook(keep("dense")) for lyr in layers]
        handles += [lyr.attention.register_forward_hook(keep("block")) for lyr in layers]
        try:
            out = model(**enc, output_attentions=True, output_hidden_states=True)
        finally:
            for h in handles:
                h.remove()

    def stack(tensors: Any) -> F32:
        return np.ascontiguousarray(torch.stack(list(tensors)).numpy(), dtype=np.float32)

    return ReferenceRun(
        ids=tuple(int(i) for i in enc["input_ids"][0]),
        hidden=stack(h[0] for h in out.hidden_states),  # (n_layers + 1, T, d)
        attentions=stack(a[0] for a in out.attentions),  # (n_layers, h, T, T)
        dense=stack(captured["dense"]),  # (n_layers, T, d)
        block=stack(captured["block"]),  # (n_layers, T, d)
    )
