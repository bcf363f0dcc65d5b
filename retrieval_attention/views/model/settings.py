"""The model page's settings (its widget values), constants and the helpers its sections share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval_attention.config import DEFAULT_MODEL

if TYPE_CHECKING:
    from retrieval_attention.inspector import ModelCheck

__all__ = ["MAX_TOKENS", "RILEY", "SPANISH", "CheckNumbers", "ModelSettings", "check_numbers"]

RILEY = "Evan's dog Riley is so hyperactive, she never stops moving"
SPANISH = "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse"
#: Heatmaps show at most this many tokens per axis, so labels stay readable.
MAX_TOKENS = 48
#: Warn when at least this share of the word tokens are [UNK].
UNK_WARN_SHARE = 0.3
#: |ours − the model's| below this is "the same numbers" for float32.
TOLERANCE = 1e-5
#: The main heatmap's plot width in pixels: it sits beside the page's controls.
MAIN_WIDTH = 270


@dataclass(frozen=True)
class CheckNumbers:
    """The check against transformers (:meth:`~retrieval_attention.inspector.TransformerInspector.check_against_model`), its three numbers."""

    weights: float  # max |our weight − the model's output_attentions weight|, every layer, head and cell
    projection: float  # max |Concat·W_O + b_O − the model's output projection|
    block: float  # max difference after residual + LayerNorm


def check_numbers(check: ModelCheck) -> CheckNumbers:
    """A :class:`~retrieval_attention.inspector.ModelCheck`'s numbers the page shows."""
    return CheckNumbers(float(check.max_diff), float(check.max_projection_diff), float(check.max_block_diff))


@dataclass(frozen=True)
class ModelSettings:
    """The page's widget values."""

    sentence: str = RILEY  # the sentence the model reads (stripped, at most 400 characters)
    layer: int = 0  # 0 = the first layer, next to the word embeddings
    head: int = 0  # the head drawn large
    causal: bool = False  # a decoder's causal mask on the drawn layer
    cross: str | None = None  # sentence B of the cross-attention section; None: the section is off
    grid: bool = False  # every head of the layer, and the pronoun question
    concat: bool = False  # the heads concatenated, then W_O
    relevance: bool = True  # K·Kᵀ beside Q·Kᵀ
    token: int | None = None  # the concat section's token position; None: "she", else token 1
    link: tuple[int, int] | None = None  # the pronoun question's (query, key) positions; None: measured
    check: CheckNumbers | None = None  # the check against transformers, when it ran
    model: str = DEFAULT_MODEL  # the model's name, as the sidebar offers it
    lang: str = "en"  # the language of every text and number sign


def _only(settings: ModelSettings, *fields: str) -> ModelSettings:
    """``settings`` with every other field at its default: one cache entry per section, whatever else is on."""
    return ModelSettings(**{f: getattr(settings, f) for f in fields})


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _chart_text(lang: str) -> dict[str, str]:
    from retrieval_attention.charts.transformer import HEATMAP_TEXT
    from retrieval_attention.i18n import translated

    return translated(HEATMAP_TEXT, lang)


def _diff(value: float, lang: str) -> str:
    """A difference in scientific notation, with the language's decimal sign (1.2e-07, 1,2e-07)."""
    from retrieval_attention.i18n import number_signs

    return f"{value:.1e}".replace(".", number_signs(lang)[0])


def _latex_word(text: str) -> str:
    """A translated word set inside LaTeX's ``\\text{}``: no backslash or brace."""
    return text.replace("\\", "").replace("{", "").replace("}", "")
