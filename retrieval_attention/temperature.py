"""Each encoder's own softmax temperature, and where it comes from.

Cosine scores only mean something next to the encoder that made them. all-MiniLM-L6-v2 spreads a
query's scores over the bundled corpus from about −0.1 to 0.7; multilingual-e5-small puts them all
between about 0.7 and 0.9. At T = 0.05 the first concentrates on a handful of keys and the second is
almost average pooling (190 to 280 of the 312 keys share the weight). So every default T is the
encoder's:

* **all-MiniLM-L6-v2: T = 0.05.** The sentence-transformers "all-*" models were fine-tuned with
  ``MultipleNegativesRankingLoss`` (in-batch softmax over cosine similarities) at its default
  ``scale = 20``, i.e. T = 1/20 (the model card describes that loss; the scale is the training
  script's and the loss's default, from their source as we know it; not re-checked online here).
* **multilingual-e5-small (and the E5 family): T = 0.01.** E5 is trained with InfoNCE at
  temperature 0.01 (Wang et al. 2022, "Text Embeddings by Weakly-Supervised Contrastive
  Pre-training"); the model card's FAQ gives that low temperature as why its cosines sit between
  about 0.7 and 1.0. Quoted from memory of the card and the paper, not re-checked online here.
* **any other model: the spread rule** (:func:`~retrieval_attention.core.temperature.spread_temperature`):
  ``T = σ / 2`` on the slider's grid, σ the median standard deviation of a query's scores over the
  bundled corpus, for :data:`CALIBRATION_QUERIES`. On those, the rule gives back both known
  temperatures (σ ≈ 0.102 → 0.05 for MiniLM, σ ≈ 0.022 → 0.01 for E5), which is why it was chosen
  over a target number of effective keys (that depends mostly on whether a query has a near-exact
  title). The corpus's key vectors and the queries' vectors go through the per-user embedding cache,
  so the rule is computed from disk, without the model, after the first time; the result is also kept
  per process.

The recommender's target attention compares titles with titles, whose cosines sit closer together
than a query's: its default is twice the retrieval T, on the grid (MiniLM 0.1, E5 0.02).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from retrieval_attention.config import DEFAULT_MODEL, DEFAULT_TEMPERATURE, MODEL_ENV_VAR
from retrieval_attention.core.temperature import TEMPERATURE_GRID, snap_temperature, spread_temperature
from retrieval_attention.corpus import load_corpus
from retrieval_attention.encoders.base import _DEFAULT_ALIASES, _MULTILINGUAL_ALIASES, Encoder
from retrieval_attention.encoders.cache import embed_documents, embed_queries
from retrieval_attention.encoders.registry import get_encoder, wait_for_encoder

__all__ = [
    "CALIBRATION_QUERIES",
    "TEMPERATURE_GRID",
    "EncoderTemperature",
    "encoder_temperature",
    "known_temperature",
]

#: What a student types (English: a custom sentence-transformers model most likely reads English),
#: against which the spread rule measures an encoder whose training temperature is not known.
CALIBRATION_QUERIES: tuple[str, ...] = (
    "funny cat videos",
    "how do black holes form",
    "easy cooking recipes",
    "learn to play guitar",
    "stock market news today",
    "python tutorial for beginners",
    "why is the sky blue",
    "home workout without equipment",
)

Source = Literal["training", "spread rule", "package default"]


def N_(message: str) -> str:  # noqa: N802 (the name gettext tools look for)
    """:func:`retrieval_attention.i18n.N_`, here so that importing the package does not load Babel."""
    return message


@dataclass(frozen=True)
class EncoderTemperature:
    """An encoder's own softmax temperatures for cosine scores, and why."""

    model: str  # the encoder's name, as given
    temperature: float  # T for retrieval: soft attention and the top-k softmax
    recommender: float  # T for target attention over a watch history (twice T, on the grid)
    source: Source  # "training": the model's own; "spread rule": measured; "package default": cannot measure
    why: str  # one sentence (an English msgid of the package catalogue), placeholders {t} and {sigma}
    sigma: float | None = None  # the spread rule's σ; None for a known model

    def reason(self, lang: str = "en") -> str:
        """:attr:`why` in ``lang``, its numbers written as the locale does."""
        from retrieval_attention.i18n import fmt_number, fmt_setting, load_translations  # Babel: only now

        text = load_translations(lang).gettext(self.why)
        sigma = "" if self.sigma is None else fmt_number(self.sigma, lang, 3)
        return text.format(t=fmt_setting(self.temperature, lang), sigma=sigma)


_MINILM_WHY = N_(
    "T = {t} is all-MiniLM-L6-v2's own: it was trained with a contrastive loss of scale 20, "
    "softmax(20 · cosine), that is T = 1/20."
)
_E5_WHY = N_(
    "T = {t} is multilingual-e5-small's own: E5 models are trained with InfoNCE at temperature 0.01, "
    "which is also why their cosines all sit between about 0.7 and 0.9."
)
_DEFAULT_WHY = N_(
    "T = {t} is the package's default (all-MiniLM-L6-v2's): this encoder cannot embed the queries its own T "
    "is measured with."
)
_SPREAD_WHY = N_(
    "T = {t} is measured for this model: half the typical spread of a query's cosines over the bundled "
    "corpus (σ = {sigma}), so one σ of score is a factor e² ≈ 7.4 in weight."
)


def _recommender(t: float) -> float:
    return snap_temperature(2 * t)


def known_temperature(model: str) -> EncoderTemperature | None:
    """The temperature of a model we know by name (its training temperature), else None; loads nothing.

    Example:
        >>> known_temperature("all-MiniLM-L6-v2").temperature, known_temperature("multilingual-e5-small").temperature
        (0.05, 0.01)
        >>> known_temperature("./my-model") is None
        True
    """
    key = model.strip().lower()
    if key in _DEFAULT_ALIASES:
        return EncoderTemperature(model, 0.05, _recommender(0.05), "training", _MINILM_WHY)
    if key in _MULTILINGUAL_ALIASES:
        return EncoderTemperature(model, 0.01, _recommender(0.01), "training", _E5_WHY)
    return None


_MEASURED: dict[str, EncoderTemperature] = {}  # encoder.cache_id -> its spread-rule temperature
_MEASURED_LOCK = threading.Lock()


def encoder_temperature(
    encoder: Encoder | str | None = None, cache_dir: Path | None = None, use_cache: bool = True
) -> EncoderTemperature:
    """The encoder's own temperature: its training temperature, or the spread rule's.

    Args:
        encoder: an :class:`Encoder`, a model name or folder, or None (``$RETRIEVAL_ATTENTION_MODEL``
            or all-MiniLM-L6-v2). A known name answers at once; any other model is loaded and, the
            first time, embeds the bundled corpus's titles and :data:`CALIBRATION_QUERIES`
            (through the on-disk embedding cache). An object that cannot embed text (a store of
            hand-made vectors) gets the package default, all-MiniLM-L6-v2's.
        cache_dir: embedding cache folder (None: the per-user default).
        use_cache: False to embed again.

    Returns:
        The :class:`EncoderTemperature`.

    Raises:
        ModelNotFoundError: the model cannot be loaded.

    Example:
        >>> encoder_temperature("multilingual-e5-small").recommender
        0.02
    """
    if encoder is None or isinstance(encoder, str):
        name = encoder or os.environ.get(MODEL_ENV_VAR) or DEFAULT_MODEL
        if (known := known_temperature(name)) is not None:
            return known
        encoder = get_encoder(name)
    if (known := known_temperature(str(getattr(encoder, "name", "")))) is not None:
        return known
    if not isinstance(encoder, Encoder):  # e.g. a store built from hand-made vectors
        return EncoderTemperature(
            str(getattr(encoder, "name", "")), DEFAULT_TEMPERATURE, _recommender(DEFAULT_TEMPERATURE),
            "package default", _DEFAULT_WHY,
        )  # fmt: skip
    with _MEASURED_LOCK:
        if encoder.cache_id in _MEASURED:
            return _MEASURED[encoder.cache_id]
    wait_for_encoder(encoder)
    K = embed_documents(encoder, load_corpus().titles, "key", cache_dir, use_cache)  # (n, d) the store's keys
    Q = embed_queries(encoder, CALIBRATION_QUERIES, cache_dir, use_cache)  # (m, d)
    S = Q @ K.T  # (m, n)
    t = spread_temperature(S)
    sigma = float(np.median(S.std(axis=1)))
    found = EncoderTemperature(encoder.name, t, _recommender(t), "spread rule", _SPREAD_WHY, sigma)
    with _MEASURED_LOCK:
        _MEASURED[encoder.cache_id] = found
    return found
