"""Nearest-neighbour search with FAISS: the only module that imports ``faiss``.

Keys are L2-normalised float32, so an inner-product index returns cosine similarities, the same
numbers the numpy attention computes. ``D, I = index.search(q, k)`` as in FAISS: D the scores,
I the row ids; k is capped at the number of keys and FAISS's ``-1`` ids never leak out.

Three kinds of index, one class:

* ``"flat"``: exact, a scan of every key (``IndexFlatIP``). One query over n keys of d = 384
  reads n · 1.5 kB, so its cost grows linearly with n.
* ``"hnsw"``: approximate, a navigable small-world graph (``IndexHNSWFlat``). Sub-millisecond at
  1M keys, at a recall below 1 that depends on ``ef_search`` and on the data: real-text
  embeddings lie on a low-dimensional manifold and are easy; Gaussian-random vectors are the
  worst case. Slow to build at a million keys, so :func:`cached_index` keeps it on disk.
* ``"ivf"``: approximate, k-means cells searched ``nprobe`` at a time (``IndexIVFFlat``).
  Builds faster than HNSW, answers more slowly.

``kind="auto"`` picks flat below :attr:`IndexParams.flat_max` keys and HNSW above it. The
default :class:`IndexParams` are the documented settings: their recall@10 and search times are
measured in ``docs/benchmarks.md`` (``make bench``) and recall is checked (>= 0.95 on real-text
keys) in ``tests/test_index_approx.py``.

The on-disk cache follows the embedding cache's rules: file names are a hash of the keys, the
index settings and the FAISS version; writes are atomic (temporary file, then ``os.replace``);
a file whose checksum, size or shape does not match is rebuilt with a warning; and an index is
only ever read from that cache folder, never from a path a user passes in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import cache_folder
from retrieval_attention.core.validate import check_choice, check_k
from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.infra.atomic import atomic_path
from retrieval_attention.infra.paths import os_problem

__all__ = [
    "IndexKind",
    "IndexParams",
    "VectorIndex",
    "cached_index",
    "faiss_threads",
    "recall_at_k",
    "set_faiss_threads",
]

log = logging.getLogger(__name__)

IndexKind = Literal["auto", "flat", "hnsw", "ivf"]
_KINDS = ("auto", "flat", "hnsw", "ivf")
_CACHE_FORMAT = 1  # bump when the index cache layout changes


@dataclass(frozen=True)
class IndexParams:
    """Which index ``kind="auto"`` builds, and how the approximate ones are tuned.

    The defaults are the documented settings (recall in ``docs/benchmarks.md``).
    """

    flat_max: int = 50_000  # auto: an exact flat scan below this many keys, HNSW above
    hnsw_m: int = 32  # HNSW links per node; memory 2·M·4 bytes a key on the base layer (256 B at M = 32)
    hnsw_ef_construction: int = 200  # HNSW build beam width: wider builds a better graph (higher recall), more slowly
    hnsw_ef_search: int = 256  # HNSW search beam width (raised to k when k is larger): recall vs time per query
    ivf_nlist: int = 0  # IVF k-means cells; 0 means 4·sqrt(n), at least 1
    ivf_nprobe: int = 32  # IVF cells visited per query: recall vs speed
    train_size: int = 100_000  # IVF: at most this many keys (an even sample) train the k-means

    def resolve(self, kind: IndexKind, n: int) -> str:
        """The concrete kind ("flat", "hnsw" or "ivf") built for n keys."""
        kind = check_choice(kind, _KINDS, "index kind")
        if kind == "auto":
            return "flat" if n < self.flat_max else "hnsw"
        return kind

    def nlist(self, n: int) -> int:
        """Number of IVF cells for n keys."""
        return max(1, min(n, self.ivf_nlist or int(4 * math.sqrt(n))))


def _faiss():  # the faiss module, imported lazily: importing this module stays cheap
    import faiss

    return faiss


def set_faiss_threads(n: int) -> None:
    """Set the number of OpenMP threads FAISS uses for searches and builds (process-wide)."""
    _faiss().omp_set_num_threads(max(1, int(n)))


def faiss_threads() -> int:
    """The number of OpenMP threads FAISS currently uses."""
    return int(_faiss().omp_get_max_threads())


class VectorIndex:
    """An inner-product FAISS index over unit vectors: exact (flat) by default, or approximate.

    Args:
        K: keys, shape (n, d); converted to contiguous float32 (no copy if it already is).
        kind: "flat" (exact, the default), "hnsw", "ivf", or "auto" (flat below
            ``params.flat_max`` keys, HNSW above).
        params: index settings; None means the documented defaults.

    Example:
        >>> K = np.eye(3, dtype=np.float32)
        >>> D, I = VectorIndex(K).search(np.array([[0.25, 1.0, 0.5]]), k=10)
        >>> I.tolist(), D.round(2).tolist()
        ([[1, 2, 0]], [[1.0, 0.5, 0.25]])
        >>> VectorIndex(K, kind="hnsw").search(K[2], k=1)[1].tolist()
        [[2]]
    """

    def __init__(self, K: NDArray[np.floating], kind: IndexKind = "flat", params: IndexParams | None = None) -> None:
        K = np.ascontiguousarray(K, dtype=np.float32)  # (n, d)
        if K.ndim != 2 or K.shape[0] == 0:
            raise InvalidParameterError(f"keys must be a non-empty (n, d) array, got shape {K.shape}")
        self.n, self.d = K.shape
        self.params = params or IndexParams()
        self.kind = self.params.resolve(kind, self.n)
        self._index = self._build(K)

    @classmethod
    def _wrap(cls, index: object, kind: str, params: IndexParams) -> VectorIndex:
        """A VectorIndex around an already built (or loaded) FAISS index."""
        self = cls.__new__(cls)
        self.n, self.d = int(index.ntotal), int(index.d)
        self.kind, self.params, self._index = kind, params, index
        self._tune()
        return self

    def _build(self, K: NDArray[np.float32]) -> object:
        faiss, p = _faiss(), self.params
        if self.kind == "flat":
            index = faiss.IndexFlatIP(self.d)
        elif self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(self.d, p.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = p.hnsw_ef_construction
        else:
            index = faiss.index_factory(self.d, f"IVF{p.nlist(self.n)},Flat", faiss.METRIC_INNER_PRODUCT)
            step = max(1, self.n // max(1, p.train_size))
            index.train(np.ascontiguousarray(K[::step]))  # an even sample: (<= train_size, d)
        index.add(K)
        self._index = index
        self._tune()
        return index

    def _tune(self) -> None:
        if self.kind == "hnsw":
            self._index.hnsw.efSearch = self.params.hnsw_ef_search
        elif self.kind == "ivf":
            self._index.nprobe = self.params.ivf_nprobe

    @property
    def exact(self) -> bool:
        """True for the flat index: its results equal a brute-force argsort (up to ties)."""
        return self.kind == "flat"

    @property
    def faiss_index(self) -> object:
        """The underlying FAISS index (for benchmarks and experts)."""
        return self._index

    def _flat_storage(self) -> object:
        """The IndexFlat holding the raw keys: the index itself (flat) or HNSW's storage."""
        if self.kind == "flat":
            return self._index
        if self.kind == "hnsw":
            return _faiss().downcast_index(self._index.storage)
        raise InvalidParameterError("an IVF index keeps its keys in cells, not as one (n, d) matrix")

    def vectors(self) -> NDArray[np.float32]:
        """The stored keys (n, d) as a read-only numpy view of FAISS's memory: no copy.

        Use it instead of a separate copy of K (1.5 GB at 1M × 384) next to a flat or HNSW index;
        the view keeps the index alive. IVF indexes reorder keys into cells and raise.

        Example:
            >>> K = np.eye(3, dtype=np.float32)
            >>> VectorIndex(K, "hnsw").vectors()[2].tolist()
            [0.0, 0.0, 1.0]
        """
        address = int(self._flat_storage().get_xb())  # float* to n·d contiguous floats
        view = np.asarray(_Memory(address, (self.n, self.d), owner=self))  # (n, d); its base keeps self alive
        view.flags.writeable = False
        return view

    def flat_view(self) -> VectorIndex:
        """An exact (flat) index over the very same stored keys, sharing their memory.

        For a flat index that is itself; for HNSW it is the graph's storage searched exhaustively,
        so exact and approximate search need one copy of the keys, not two.
        """
        if self.kind == "flat":
            return self
        view = VectorIndex._wrap(self._flat_storage(), "flat", self.params)
        view._owner = self  # the storage belongs to the HNSW index: keep it alive
        return view

    def __len__(self) -> int:
        return self.n

    def __repr__(self) -> str:
        return f"VectorIndex(n={self.n}, d={self.d}, kind={self.kind!r})"

    def search(self, q: NDArray[np.floating], k: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """The k keys with the largest inner product with each query, best first.

        Many queries in one call share the work (FAISS answers a batch in one pass over the
        keys for a flat index, and in parallel for HNSW and IVF).

        Args:
            q: queries, shape (m, d) or (d,).
            k: number of neighbours, >= 1; capped at the number of keys.

        Returns:
            D (m, k') scores and I (m, k') key positions, with k' = min(k, n). Rows never
            contain FAISS's ``-1`` placeholder: an exact index always fills k' slots; if an
            approximate one finds fewer keys for some query, every row is cut to the shortest.
        """
        k = min(check_k(k), self.n)
        q = np.ascontiguousarray(np.atleast_2d(q), dtype=np.float32)  # (m, d)
        if q.ndim != 2 or q.shape[1] != self.d:
            raise InvalidParameterError(f"query has d={q.shape[-1]} but the index has d={self.d}")
        if self.kind == "hnsw" and k > self.params.hnsw_ef_search:
            params = _faiss().SearchParametersHNSW(efSearch=k)  # the beam must hold k results
            D, I = self._index.search(q, k, params=params)  # (m, k)
        else:
            D, I = self._index.search(q, k)  # (m, k)
        if (I < 0).any():  # flat: cannot happen with k <= n; approximate: cut to what every row has
            keep = (I >= 0).all(axis=0)
            D, I = D[:, keep], I[:, keep]
        return D, I.astype(np.int64, copy=False)


class _Memory:
    """Exposes FAISS-owned float32 memory to numpy (``__array_interface__``) and keeps its owner alive."""

    def __init__(self, address: int, shape: tuple[int, int], owner: object) -> None:
        self.owner = owner
        self.__array_interface__ = {"data": (address, False), "shape": shape, "typestr": "<f4", "version": 3}


def recall_at_k(I_found: NDArray[np.integer], I_true: NDArray[np.integer], k: int = 10) -> float:
    """Mean share of the true k nearest keys that a search found among its first k.

    Args:
        I_found: ids from the index under test, shape (m, >= k) (shorter rows count as misses).
        I_true: ids from an exact search (brute force), shape (m, >= k).
        k: how many neighbours count.

    Returns:
        recall@k in [0, 1].

    Example:
        >>> recall_at_k(np.array([[1, 2, 9]]), np.array([[1, 2, 3]]), k=3)
        0.6666666666666666
    """
    k = check_k(k)
    found, true = np.atleast_2d(I_found)[:, :k], np.atleast_2d(I_true)[:, :k]  # (m, k)
    if found.shape[0] != true.shape[0]:
        raise InvalidParameterError(f"{found.shape[0]} rows found but {true.shape[0]} true rows")
    hits = (found[:, :, None] == true[:, None, :]).any(axis=1) & (true >= 0)  # (m, k) true id found?
    return float(hits.sum() / (true.shape[0] * k))


# -- the on-disk index cache ----------------------------------------------------------------


def _build_settings(kind: str, params: IndexParams, n: int) -> dict:
    """The settings a built index depends on (search-time ones such as efSearch are applied after loading)."""
    if kind == "hnsw":
        return {"M": params.hnsw_m, "efConstruction": params.hnsw_ef_construction}
    return {"nlist": params.nlist(n), "train_size": params.train_size}


def _key_digest(K: NDArray[np.float32], kind: str, params: IndexParams) -> str:
    h = hashlib.sha256()
    settings = json.dumps(_build_settings(kind, params, K.shape[0]), sort_keys=True)
    h.update(f"format={_CACHE_FORMAT};faiss={_faiss().__version__};kind={kind};params={settings};".encode())
    h.update(f"shape={K.shape};dtype={K.dtype};".encode())
    h.update(memoryview(K).cast("B"))  # the keys themselves, without a copy
    return h.hexdigest()


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            h.update(chunk)
    return h.hexdigest()


def _write_index(index: VectorIndex, path: Path, meta_path: Path, meta: dict) -> None:
    """Atomic: the index to a temporary file in the same folder, fsync, checksum, ``os.replace``;
    the metadata (with that checksum) last, so a half-written pair never verifies."""
    with atomic_path(path) as tmp:
        _faiss().write_index(index.faiss_index, str(tmp))
        meta = dict(meta, sha256=_file_digest(tmp), bytes=tmp.stat().st_size)
    with atomic_path(meta_path) as tmp:
        tmp.write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")


def _read_index(path: Path, meta_path: Path, meta: dict, params: IndexParams) -> VectorIndex | None:
    """The cached index, or None (with a warning) if it is missing or does not verify."""
    if not path.exists() or not meta_path.exists():
        return None
    try:
        stored = json.loads(meta_path.read_text(encoding="utf-8"))
        problem = None
        for field in ("key", "kind", "n", "d", "faiss"):
            if stored.get(field) != meta[field]:
                problem = f"{field} is {stored.get(field)!r}, expected {meta[field]!r}"
                break
        if problem is None and stored.get("bytes") != os.path.getsize(path):
            problem = "file size mismatch"
        if problem is None and stored.get("sha256") != _file_digest(path):
            problem = "checksum mismatch"
        if problem is None:
            raw = _faiss().read_index(str(path))
            if (raw.ntotal, raw.d) != (meta["n"], meta["d"]):
                problem = f"index holds ({raw.ntotal}, {raw.d}), expected ({meta['n']}, {meta['d']})"
            else:
                return VectorIndex._wrap(raw, meta["kind"], params)
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    log.warning("index cache %s is damaged (%s); rebuilding it", path, problem)
    return None


def _usable(folder: Path, *paths: Path) -> bool:
    """True if ``folder`` exists and each path is a file name directly inside it; a folder that cannot
    be looked at (permission denied, a loop of links) is not usable, with a warning."""
    try:
        return folder.exists() and all(_inside(folder, p) for p in paths)
    except OSError as exc:
        log.warning("the index cache %s cannot be read (%s); building the index", folder, os_problem(exc))
        return False


def _inside(folder: Path, path: Path) -> bool:
    """True if ``path`` is a regular file name directly inside ``folder`` (no symlink escapes)."""
    if path.is_symlink():
        return False
    return path.resolve().parent == folder.resolve()


def cached_index(
    K: NDArray[np.floating],
    kind: IndexKind = "auto",
    params: IndexParams | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
) -> VectorIndex:
    """A :class:`VectorIndex` over ``K``, built once and then read from the on-disk cache.

    Only approximate indexes are cached (a flat index builds as fast as it loads). The file name
    is the SHA-256 of the keys' bytes, their shape, ``kind``, the build settings of ``params``
    (M and efConstruction, or nlist and the training size) and the FAISS version, so changed keys
    or settings never reuse a stale index; search settings (efSearch, nprobe) apply on loading. Next to each
    ``<hash>.faiss`` file a ``<hash>.json`` holds its SHA-256, size, n and d, all checked before
    it is used; a mismatch logs a warning and rebuilds. Files are read only from
    ``<cache_dir>/indexes``, never from a user-supplied path.

    Args:
        K: keys (n, d), unit vectors (float32 without a copy if it already is).
        kind: as :class:`VectorIndex`; "auto" picks by n.
        params: index settings; None means the documented defaults.
        cache_dir: cache root; None means the per-user default (where the embedding cache lives).
        use_cache: False to build without reading or writing the cache.

    Returns:
        The index (``index.kind`` tells which was built).

    Example:
        >>> import tempfile
        >>> K = np.eye(4, dtype=np.float32)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     a = cached_index(K, "hnsw", cache_dir=Path(tmp))  # built and saved
        ...     b = cached_index(K, "hnsw", cache_dir=Path(tmp))  # read back
        >>> b.kind, b.search(K[3], 1)[1].tolist()
        ('hnsw', [[3]])
    """
    K = np.ascontiguousarray(K, dtype=np.float32)  # (n, d)
    if K.ndim != 2 or K.shape[0] == 0:
        raise InvalidParameterError(f"keys must be a non-empty (n, d) array, got shape {K.shape}")
    params = params or IndexParams()
    resolved = params.resolve(kind, K.shape[0])
    if resolved == "flat" or not use_cache:
        return VectorIndex(K, resolved, params)
    base = cache_folder(cache_dir)
    if base is None:
        return VectorIndex(K, resolved, params)
    folder = base / "indexes"
    key = _key_digest(K, resolved, params)
    path, meta_path = folder / f"{key}.faiss", folder / f"{key}.json"
    meta = {"key": key, "kind": resolved, "n": int(K.shape[0]), "d": int(K.shape[1]), "faiss": _faiss().__version__}
    if _usable(folder, path, meta_path):
        index = _read_index(path, meta_path, meta, params)
        if index is not None:
            return index
    index = VectorIndex(K, resolved, params)
    try:
        _write_index(index, path, meta_path, meta)
    except OSError as exc:
        log.warning("could not write the index cache %s: %s", path, exc)
    return index
