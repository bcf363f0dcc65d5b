"""Nearest-neighbour search with FAISS: the only module that imports ``faiss``.

Keys are L2-normalised float32, so an inner-product index returns cosine similarities, the same
numbers the numpy attention computes. ``D, I = index.search(q, k)`` as in FAISS: D the scores,
I the row ids; k is capped at the number of keys and FAISS's ``-1`` ids never leak out.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .errors import InvalidParameterError

__all__ = ["VectorIndex", "check_k"]


def check_k(k: int) -> int:
    """Return ``k`` as an int, or raise if it is not a whole number >= 1."""
    if isinstance(k, (bool, str, bytes)):
        raise InvalidParameterError(f"k must be a whole number >= 1, got {k!r}")
    if not isinstance(k, (int, np.integer)):
        try:
            as_float = float(k)
        except (TypeError, ValueError):
            raise InvalidParameterError(f"k must be a whole number >= 1, got {k!r}") from None
        if not as_float.is_integer():
            raise InvalidParameterError(f"k must be a whole number >= 1, got {k!r}")
        k = int(as_float)
    if k < 1:
        raise InvalidParameterError(f"k must be >= 1, got {k}")
    return int(k)


class VectorIndex:
    """An exact inner-product FAISS index over unit vectors.

    Args:
        K: keys, shape (n, d); converted to contiguous float32.

    Example:
        >>> K = np.eye(3, dtype=np.float32)
        >>> D, I = VectorIndex(K).search(np.array([[0.0, 1.0, 0.0]]), k=10)
        >>> I.tolist(), D.round(2).tolist()
        ([[1, 0, 2]], [[1.0, 0.0, 0.0]])
    """

    def __init__(self, K: NDArray[np.floating]) -> None:
        import faiss

        K = np.ascontiguousarray(K, dtype=np.float32)  # (n, d)
        if K.ndim != 2 or K.shape[0] == 0:
            raise InvalidParameterError(f"keys must be a non-empty (n, d) array, got shape {K.shape}")
        self.n, self.d = K.shape
        self._index = faiss.IndexFlatIP(self.d)
        self._index.add(K)

    def __len__(self) -> int:
        return self.n

    def search(self, q: NDArray[np.floating], k: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """The k keys with the largest inner product with each query, best first.

        Args:
            q: queries, shape (m, d) or (d,).
            k: number of neighbours, >= 1; capped at the number of keys.

        Returns:
            D (m, k') scores and I (m, k') key positions, with k' = min(k, n). Rows never
            contain FAISS's ``-1`` placeholder (an exact index always fills k' slots).
        """
        k = min(check_k(k), self.n)
        q = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float32)  # (m, d)
        if q.shape[1] != self.d:
            raise InvalidParameterError(f"query has d={q.shape[1]} but the index has d={self.d}")
        D, I = self._index.search(q, k)  # (m, k)
        if (I < 0).any():  # cannot happen for a flat index with k <= n; never let -1 through
            keep = (I >= 0).all(axis=0)
            D, I = D[:, keep], I[:, keep]
        return D, I.astype(np.int64, copy=False)
