"""The encoders' on-disk caches: embedding vectors, and the shape of each local model.

Both live under the per-user cache folder (``$RETRIEVAL_ATTENTION_CACHE`` or
``~/.cache/retrieval_attention``), are written atomically, are checked when read, and a damaged
file only costs a rebuild (with a warning), never a wrong answer:

* ``embeddings/<sha256>.npz``: vectors keyed by the encoder's identity, the normalisation, a kind
  ("key", "value", "query") and every text; stored with their own sha256. Read member by member:
  each array's header (dtype, shape) and its size in the zip are checked before any data is read,
  so a small file declaring a huge array is refused without allocating it.
* ``models/<sha256>.json``: a local model folder's ``dim`` and ``max_seq_length``, keyed by the
  folder's fingerprint, so a later start can read cached vectors while the model still loads.

What the checks protect against: accidents (a disk filling up, a crash mid-write, a truncated
copy, a changed model or corpus). Not against someone who can write to the cache folder: the
checksum sits in the file it checks, so such a person can plant vectors that pass it.

No model is imported here: numpy and the standard library only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import cache_folder
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.infra.atomic import atomic_path
from retrieval_attention.infra.paths import path_stat

if TYPE_CHECKING:
    from retrieval_attention.encoders.base import Encoder, Progress

__all__ = [
    "embed_documents",
    "embed_queries",
    "model_record_path",
    "read_model_record",
    "write_model_record",
]

log = logging.getLogger(__name__)

_CACHE_FORMAT = 1  # bump when the cache file layout changes
_MODEL_INFO_FORMAT = 1  # bump when the model-info file layout changes
_MAX_RECORD_BYTES = 4096  # a model record is about 200 bytes
_SHA_DTYPE = np.dtype("<U64")  # the stored hex digest, a 0-d unicode array


# -- model records --------------------------------------------------------------------------


def model_record_path(fingerprint: str) -> Path | None:
    """Where the record of the model with this fingerprint lives; None if the cache folder is unusable."""
    folder = cache_folder()
    name = f"{hashlib.sha256(fingerprint.encode()).hexdigest()[:32]}.json"
    return None if folder is None else folder / "models" / name


def _there(path: Path, what: str) -> bool:
    """True if ``path`` exists; False if not, or (with a warning) if it cannot even be looked at."""
    try:
        return path_stat(path) is not None
    except RetrievalAttentionError as exc:
        log.warning("%s cannot be read (%s); working without it", what, exc)
        return False


def read_model_record(fingerprint: str) -> tuple[int, int] | None:
    """(dim, max_seq_length) recorded the last time the model with this fingerprint loaded, or None."""
    path = model_record_path(fingerprint)
    if path is None or not _there(path, "the model info"):
        return None
    try:
        if path.stat().st_size > _MAX_RECORD_BYTES:
            raise ValueError(f"{path.stat().st_size} bytes, a record is at most {_MAX_RECORD_BYTES}")
        info = json.loads(path.read_text(encoding="utf-8"))
        if info["format"] == _MODEL_INFO_FORMAT and info["fingerprint"] == fingerprint:
            dim, max_len = info["dim"], info["max_seq_length"]
            if type(dim) is int and type(max_len) is int and dim > 0 and max_len >= 0:
                return dim, max_len
        problem = "it describes another model or format"
    except Exception as exc:  # damaged: unreadable, not JSON, missing fields
        problem = f"{type(exc).__name__}: {exc}"
    log.warning("model info %s is unusable (%s); loading the model before answering", path, problem)
    return None


def write_model_record(fingerprint: str, dim: int, max_seq_length: int) -> None:
    path = model_record_path(fingerprint)
    if path is None:
        return
    info = {"format": _MODEL_INFO_FORMAT, "fingerprint": fingerprint, "dim": dim, "max_seq_length": max_seq_length}
    try:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(info), encoding="utf-8")
    except OSError as exc:
        log.warning("could not write the model info %s: %s", path, exc)


# -- the on-disk embedding cache ------------------------------------------------------------


def _cache_key(encoder: Encoder, texts: Sequence[str], kind: str) -> str:
    h = hashlib.sha256()
    h.update(f"format={_CACHE_FORMAT};model={encoder.cache_id};kind={kind};normalize=l2;".encode())
    h.update(f"maxlen={getattr(encoder, 'max_seq_length', 0)};n={len(texts)};".encode())
    for t in texts:
        b = t.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _digest(x: NDArray[np.float32]) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()


def _read_member(z: zipfile.ZipFile, name: str, dtype: np.dtype, shape: tuple[int, ...]) -> NDArray:
    """One ``.npy`` member of a cache file, its header checked before any data is read.

    Raises:
        ValueError: the member is compressed, its header declares another dtype, order or shape,
            or its size in the zip does not match the header.
    """
    info = z.getinfo(name)
    if info.compress_type != zipfile.ZIP_STORED:  # np.savez stores: a compressed member was not written by us
        raise ValueError(f"{name} is compressed")
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    with z.open(info) as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_2_0 if version == (2, 0) else np.lib.format.read_array_header_1_0
        if version not in ((1, 0), (2, 0)):
            raise ValueError(f"{name} has .npy format {version}")
        got_shape, fortran, got_dtype = read_header(f)
        if got_dtype != dtype or fortran or tuple(got_shape) != shape:
            raise ValueError(f"{name} holds {got_dtype} {tuple(got_shape)}, expected {dtype} {shape}")
        if info.file_size != f.tell() + nbytes:
            raise ValueError(f"{name} is {info.file_size} bytes, its header says {f.tell() + nbytes}")
        data = f.read(nbytes)
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def _read_cache(path: Path, n: int, dim: int) -> NDArray[np.float32] | None:
    """The cached vectors, or None (with a warning) if the file is missing or damaged.

    Nothing is allocated from what the file declares: its size, its members and every header are
    checked against (n, dim) float32 first.
    """
    if not _there(path, "the embedding cache"):
        return None
    try:
        expected = n * dim * 4
        if path.stat().st_size > expected + 64 * 1024:
            raise ValueError(f"{path.stat().st_size} bytes for {expected} bytes of vectors")
        with zipfile.ZipFile(path) as z:
            names = sorted(z.namelist())
            if names != ["sha256.npy", "vectors.npy"]:
                raise ValueError(f"members {names[:5]}, expected sha256.npy and vectors.npy")
            x = np.array(_read_member(z, "vectors.npy", np.dtype("<f4"), (n, dim)), dtype=np.float32)
            stored = str(_read_member(z, "sha256.npy", _SHA_DTYPE, ())[()])
        if _digest(x) == stored:
            return x
        problem = "checksum mismatch"
    except Exception as exc:  # damaged: truncated, not a zip, wrong members, headers or sizes
        problem = f"{type(exc).__name__}: {exc}"
    log.warning("embedding cache %s is damaged (%s); re-embedding and rewriting it", path, problem)
    return None


def _write_cache(path: Path, x: NDArray[np.float32]) -> None:
    """Atomic write (see :func:`retrieval_attention.infra.atomic.atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, vectors=np.ascontiguousarray(x, dtype="<f4"), sha256=np.array(_digest(x), dtype=_SHA_DTYPE))


def embed_documents(
    encoder: Encoder,
    texts: Sequence[str],
    kind: str = "key",
    cache_dir: Path | None = None,
    use_cache: bool = True,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> NDArray[np.float32]:
    """Embed ``texts`` as documents, reading and writing the on-disk cache.

    The cache file name is a hash of the encoder's identity (weights fingerprint, max sequence
    length), the normalisation, ``kind`` and every text, so a changed model or corpus never reuses
    stale vectors. A damaged file is rebuilt with a warning; writes are atomic.

    Args:
        encoder: any :class:`Encoder`.
        texts: n documents.
        kind: a label that keeps different uses of the same texts apart ("key", "value").
        cache_dir: folder of the cache; None means the per-user default.
        use_cache: False to neither read nor write the cache.
        batch_size: texts per encoder call.
        progress: called as ``progress(done, total)`` after each batch.

    Returns:
        (n, d) float32 array of unit vectors.
    """
    return _cached(
        encoder,
        texts,
        kind,
        cache_dir,
        use_cache,
        lambda: encoder.encode_documents(texts, batch_size=batch_size, progress=progress),
        progress,
    )


def embed_queries(
    encoder: Encoder, texts: Sequence[str], cache_dir: Path | None = None, use_cache: bool = True
) -> NDArray[np.float32]:
    """Embed a fixed list of queries (an app's examples), with the same on-disk cache as documents.

    Each query is encoded on its own, exactly as ``encoder.encode_queries([text])`` would be
    (batching pads texts together, which can move the last float digits), so a cached vector
    equals the one a live query gets. Queries use the encoder's query side (E5's ``"query: "``).

    Returns:
        (n, d) float32 array of unit vectors.
    """

    def encode() -> NDArray[np.float32]:
        rows = [encoder.encode_queries([t])[0] for t in texts]  # (d,) each; d is read after the first
        return np.stack(rows) if rows else np.empty((0, encoder.dim), dtype=np.float32)

    return _cached(encoder, texts, "query", cache_dir, use_cache, encode, None)


def _cached(
    encoder: Encoder,
    texts: Sequence[str],
    kind: str,
    cache_dir: Path | None,
    use_cache: bool,
    encode: Callable[[], NDArray[np.float32]],
    progress: Progress | None,
) -> NDArray[np.float32]:
    """``encode()`` through the on-disk cache (read if intact, else encode and write atomically)."""
    if not use_cache:
        return encode()
    folder = cache_folder(cache_dir)
    if folder is None:
        return encode()
    path = folder / "embeddings" / f"{_cache_key(encoder, texts, kind)}.npz"
    cached = _read_cache(path, len(texts), encoder.dim)
    if cached is not None:
        if progress is not None:
            progress(len(texts), len(texts))
        return cached
    x = encode()
    # a background load may have corrected the encoder's identity meanwhile (a stale model record)
    path = folder / "embeddings" / f"{_cache_key(encoder, texts, kind)}.npz"
    try:
        _write_cache(path, x)
    except OSError as exc:
        log.warning("could not write the embedding cache %s: %s", path, exc)
    return x
