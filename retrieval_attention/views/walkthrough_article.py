"""One token, step by step: the article's own arithmetic, its numbers by hand and its matrix shapes.

Section ``hand``: article 001's q·k = 112 and 96, ÷ √64 = 8, the softmax and the weighted sum, each
step from :func:`retrieval_attention.articles.score_steps` with the numbers the page's boxes hold.
Section ``matrix``: every token at once, this model's shapes beside the article's (the original
Transformer). The page's document is put together in :mod:`retrieval_attention.views.walkthrough`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval_attention.articles import ARTICLE_DK, ARTICLE_SCORES, ARTICLE_WORDS, EXAMPLE_VALUES
from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.export.blocks import Block, Controls, Formula, LessonSection, LessonTable, Text
from retrieval_attention.export.markup import md
from retrieval_attention.i18n import N_

if TYPE_CHECKING:
    from retrieval_attention.articles import ScoreSteps
    from retrieval_attention.inspector import MatrixShapes

__all__ = [
    "THINKING",
    "THIRD",
    "WalkthroughSettings",
    "hand_head",
    "hand_section",
    "matrix_section",
    "steps",
    "v_name",
    "word_names",
]

#: The article's own two words.
THINKING = "Thinking Machines"
#: A third word the student can add: its score and value (ours, like the other values).
THIRD = (100.0, (2.0, 2.0, 0.0))
#: Decimals of the hand calculation's weights and sums.
DECIMALS = 4  #: The matrix form's stage names (:attr:`MatrixShapes.stages`) that have words in them, to translate.
_STAGES = (N_("Q, K, V (per head)"), N_("heads = weights V"))


@dataclass(frozen=True)
class WalkthroughSettings:
    """The page's widget values."""

    scores: tuple[float, ...] = ARTICLE_SCORES  # the calculator's q·k_j, one per word (2 or 3)
    d_k: int = ARTICLE_DK  # the calculator's width of q and k
    values: tuple[tuple[float, ...], ...] = EXAMPLE_VALUES  # the calculator's v_j, one per word
    sentence: str = THINKING  # the model's sentence ("" for none)
    layer: int = 0  # 0-based
    head: int = 0  # 0-based
    token: int | None = (
        None  # the query token's position; None: :func:`~retrieval_attention.views.walkthrough.default_token`
    )
    words: bool = False  # also draw the row merged to words
    aside: bool = False  # also draw the row with [CLS] and [SEP] set aside
    lang: str = "en"  # the language of every text and number sign


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def _fmt(value: float, lang: str, decimals: int | None = None) -> str:
    from retrieval_attention.i18n import fmt_number

    return fmt_number(float(value), lang, decimals)


def word_names(n: int, lang: str = "en") -> list[str]:
    """The calculator's rows: the article's two words, then the optional third."""
    return [*ARTICLE_WORDS, _gettext(lang)("a third word")][:n]


def v_name(j: int) -> str:
    """v₁, v₂, v₃: the article's names of the values (j from 0)."""
    return "v" + chr(0x2081 + j)


@functools.lru_cache(maxsize=64)
def steps(scores: tuple[float, ...], d_k: int, values: tuple[tuple[float, ...], ...]) -> ScoreSteps:
    """The calculator's steps (:func:`~retrieval_attention.articles.score_steps`), once per input.

    Raises:
        ~retrieval_attention.errors.InvalidParameterError: numbers the steps cannot use.
    """
    from retrieval_attention.articles import score_steps

    return score_steps(scores, d_k, values)


def _vector(v, lang: str) -> str:
    """(0.88; 0.36; 1.88) in the language's format (a semicolon: Spanish writes 0,88 with a comma)."""
    return "(" + "; ".join(_fmt(x, lang, 2) for x in v) + ")"


def hand_head(lang: str = "en", problem: str = "") -> LessonSection:
    """The calculator's section for numbers the library refused: its lead, the boxes, the library's reason."""
    _ = _gettext(lang)
    reason: tuple[Block, ...] = ()
    if problem:
        reason = (
            Text(_("The library says: {reason}").format(reason=md(problem)), style="warning", key="hand_problem"),
        )
    return LessonSection(
        _("The article's numbers, by hand"),
        blocks=(*_hand_lead(lang), Controls(key="hand_inputs"), *reason),
        key="hand",
    )


def _hand_lead(lang: str) -> tuple[Block, ...]:
    _ = _gettext(lang)
    text = _(
        "Article 001's figure scores “Thinking” against itself and against “Machines”: q·k = 112 and 96, "
        "with d_k = 64. Change any number and follow each step: scale, exp, normalise, weighted sum."
    )
    return (Text(text, key="hand_text"),)


def hand_section(settings: WalkthroughSettings) -> LessonSection:
    """The article's numbers by hand: the steps table, what it shows, the boxes (``Controls``), the weighted sum.

    Raises:
        ~retrieval_attention.errors.InvalidParameterError: numbers the steps cannot use.
    """
    _, lang = _gettext(settings.lang), settings.lang
    s = steps(tuple(settings.scores), int(settings.d_k), tuple(tuple(v) for v in settings.values))
    names = word_names(len(s.scores), lang)
    columns = (
        _("word j"),
        _("score q·k_j"),
        _("scale: ÷ √{dk}").format(dk=_fmt(s.d_k, lang)),
        _("exp: e^(scaled − {top})").format(top=_fmt(s.top, lang)),
        _("normalise: ÷ {total}").format(total=_fmt(s.total, lang, DECIMALS)),
    )
    rows = tuple(
        (names[j], _fmt(s.scores[j], lang), _fmt(s.scaled[j], lang), _fmt(s.shifted_exp[j], lang, DECIMALS),
         _fmt(s.weights[j], lang, DECIMALS))
        for j in range(len(names))
    )  # fmt: skip
    total = ("Σ", "", "", _fmt(s.total, lang, DECIMALS), _fmt(s.weights.sum(), lang, DECIMALS))  # what is divided by; 1
    terms = " + ".join(f"{_fmt(w, lang, 2)} · {v_name(j)}" for j, w in enumerate(s.weights))
    sums = tuple(
        (label, *(_fmt(x, lang, DECIMALS) for x in v))
        for label, v in zip(
            [f"{_fmt(w, lang, 2)} · {v_name(j)}" for j, w in enumerate(s.weights)] + ["z"], [*s.weighted, s.z]
        )
    )
    blocks = (
        LessonTable(
            columns, (*rows, total), key="hand_steps", static=True
        ),  # the picture first: on a projector's first screen
        *_hand_lead(lang),
        Controls(key="hand_inputs"),
        Text(
            _(
                "**Scale.** Each score is divided by √{dk} = {root}. **Exp.** e to the power of each scaled score; "
                "the largest ({top}) is subtracted first, which changes no weight and keeps the numbers small. "
                "**Normalise.** Each exp is divided by their sum, {total}, so the weights add up to 1."
            ).format(
                dk=_fmt(s.d_k, lang),
                root=_fmt(s.sqrt_dk, lang),
                top=_fmt(s.top, lang),
                total=_fmt(s.total, lang, DECIMALS),
            ),
            key="hand_steps_text",
        ),
        Text(
            _("**Weighted sum.** z = {weights} = {z}").format(weights=terms, z=_vector(s.z, lang)), key="hand_sum_text"
        ),
        LessonTable((_("row"), *(f"[{i}]" for i in range(s.z.size))), sums, key="hand_sum", static=True),
        Text(
            _(
                "The article draws v₁ and v₂ as boxes without numbers: the values here are ours, so that the sum can be "
                "followed. Its scores are illustrative too; below, the same steps run on a trained model."
            ),
            style="caption",
            key="hand_values",
        ),
    )
    return LessonSection(_("The article's numbers, by hand"), blocks=blocks, key="hand")


def _shape(shape: tuple[int, ...], lang: str) -> str:
    """(12, 24, 32) -> "12 × 24 × 32"."""
    return " × ".join(_fmt(s, lang) for s in shape)


def matrix_section(shapes: MatrixShapes, model: str = DEFAULT_MODEL, lang: str = "en") -> LessonSection:
    """The matrix form: every token at once, this model's shapes beside the article's (the original Transformer)."""
    from retrieval_attention.inspector import ORIGINAL_TRANSFORMER

    _ = _gettext(lang)
    ours = _("this model, this sentence (T = {T})").format(T=shapes.n_tokens)
    theirs = _("the article: original Transformer, “Thinking Machines” (T = 2)")
    rows = tuple(
        (_(name) if name in _STAGES else name, _shape(s, lang), _shape(o, lang))
        for (name, s), (_name, o) in zip(shapes.stages, ORIGINAL_TRANSFORMER.stages)
    )
    blocks = (
        Text(
            _(
                "In practice all tokens are computed together: the rows of X are the tokens. Each of the {h} heads "
                "runs the five steps on its own {hd} columns; their outputs are put side by side and W_O mixes them."
            ).format(h=shapes.n_heads, hd=shapes.head_dim),
            key="matrix_text",
        ),
        Formula(r"Z = \mathrm{softmax}\!\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V", key="matrix_formula"),
        LessonTable((_("matrix"), ours, theirs), rows, key="matrix_shapes", static=True),
        Text(
            _(
                "The article's embeddings have {d0} numbers and its q, k, v {hd0} ({h0} heads); {model} has "
                "{d} and {hd} ({h} heads). Same steps, different sizes."
            ).format(
                model=md(model),
                d0=ORIGINAL_TRANSFORMER.d_model,
                hd0=ORIGINAL_TRANSFORMER.head_dim,
                h0=ORIGINAL_TRANSFORMER.n_heads,
                d=shapes.d_model,
                hd=shapes.head_dim,
                h=shapes.n_heads,
            ),
            style="caption",
            key="matrix_sizes",
        ),
    )
    return LessonSection(_("The matrix form: every token at once"), blocks=blocks, key="matrix")
