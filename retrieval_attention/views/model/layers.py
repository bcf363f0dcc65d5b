"""The model page's ``concat`` (the heads side by side, then W_O) and ``relevance`` (K·Kᵀ beside Q·Kᵀ) sections."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from retrieval_attention.export.blocks import Block, Columns, Controls, Formula, LessonSection, Text
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart
from retrieval_attention.views.model.settings import (
    MAX_TOKENS,
    ModelSettings,
    _chart_text,
    _diff,
    _gettext,
    _latex_word,
    _only,
)

if TYPE_CHECKING:
    from retrieval_attention.inspector import TransformerInspector

__all__ = ["concat_section", "concat_token", "relevance_section"]


def concat_token(tokens: list[str]) -> int:
    """The concat section's first token: "she" (the Riley sentence's pronoun), else token 1."""
    return tokens.index("she") if "she" in tokens else min(1, len(tokens) - 1)


def concat_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    """One token's head outputs side by side, then the output projection W_O.

    Blocks: the explanation, the formula, ``Controls`` (the token), the chart, and the check's number when it ran.

    Raises:
        ~retrieval_attention.errors.InvalidParameterError: a token position the sentence does not have.
    """
    return _concat_section(ins, _only(settings, "sentence", "layer", "causal", "token", "check", "lang"))


@functools.lru_cache(maxsize=16)
def _concat_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    from retrieval_attention.charts import transformer as ct
    from retrieval_attention.core.validate import check_index

    _, lang = _gettext(settings.lang), settings.lang
    att = ins.layer_attention(settings.sentence, settings.layer, causal=settings.causal)
    t = concat_token(att.query_tokens) if settings.token is None else settings.token
    t = check_index(t, len(att.query_tokens), "token")
    chart = ct.concat_projection_chart(
        att.head_outputs[:, t, :], att.projected[t], att.query_tokens[t], text=_chart_text(lang)
    )
    blocks: list[Block] = [
        Text(
            _(
                "Each head returns 32 numbers per token; they are put side by side (384 numbers) and one matrix W_O "
                "mixes them, so the next layer sees all heads at once."
            ),
            key="concat_text",
        ),
        Formula(
            r"\mathrm{MultiHead}(Q,K,V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h)\,W_O",
            key="concat_formula",
        ),
        Controls(key="concat_token"),
        article_chart(chart, lang, "tr_concat_chart"),
    ]
    if settings.check is not None:
        text = _(
            "Without the causal mask our Concat·W_O + b_O equals the model's own output projection to "
            "{diff} (all tokens, all layers)."
        ).format(diff=_diff(settings.check.projection, lang))
        blocks.append(Text(text, style="caption", key="concat_check"))
    return LessonSection(_("Concatenate the heads, then project"), blocks=tuple(blocks), key="concat")


def relevance_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    """K·Kᵀ next to Q·Kᵀ: why a token needs a query separate from its key; then every head's asymmetry."""
    return _relevance_section(ins, _only(settings, "sentence", "layer", "head", "lang"))


@functools.lru_cache(maxsize=16)
def _relevance_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    from retrieval_attention.charts import relevance as crel
    from retrieval_attention.charts import transformer as ct
    from retrieval_attention.i18n import fmt_number, number_signs

    _, lang = _gettext(settings.lang), settings.lang
    sentence, layer, head = settings.sentence, settings.layer, settings.head
    r = ins.relevance_matrices(sentence, layer, head)
    text = _chart_text(lang)
    n = min(len(r.tokens), MAX_TOKENS)
    side_by_side = n <= 24
    cell = ct.cell_size(n, target=250 if side_by_side else 640, lo=8 if side_by_side else 12, hi=26)
    charts = tuple(
        article_chart(
            crel.relevance_heatmap(
                A[:n, :n], r.tokens[:n], r.pair, title=title, asymmetry=asym, cell=cell, text=text,
                decimal=number_signs(lang)[0],
            ),
            lang,
            f"tr_relevance_{name}",
        )
        for name, title, A, asym in (
            ("kk", _("K·Kᵀ/√d: keys only (symmetric)"), r.kk, r.asymmetry_kk),
            ("qk", _("Q·Kᵀ/√d: queries against keys"), r.qk, r.asymmetry_qk),
        )
    )  # fmt: skip
    pictures: tuple[Block, ...] = (
        (Columns(((charts[0],), (charts[1],)), key="relevance_pair"),) if side_by_side else charts
    )
    s_ab, s_ba = r.pair_scores
    a, b = (md(t) for t in r.pair_tokens)
    pair = _(
        "**Most asymmetric pair (outlined):** “{a}” → “{b}” scores **{ab}**, but “{b}” → “{a}” only **{ba}**. "
        "Asymmetry ‖A − Aᵀ‖/‖A‖: K·Kᵀ **{kk}**, Q·Kᵀ **{qk}** (0 = symmetric)."
    ).format(
        a=a, b=b, ab=fmt_number(s_ab, lang, 2), ba=fmt_number(s_ba, lang, 2),
        kk=fmt_number(r.asymmetry_kk, lang, 2), qk=fmt_number(r.asymmetry_qk, lang, 2),
    )  # fmt: skip
    asym = crel.asymmetry_heads_chart(ins.asymmetry_by_head(sentence), layer, head, text=text)
    blocks = (
        Text(
            _(
                "If each token had only a key, relevance would be $k_a \\cdot k_b = k_b \\cdot k_a$: *she → riley* "
                "as strong as *riley → she*. Separate queries make it asymmetric: what a token looks for differs "
                "from what it offers."
            ),
            key="relevance_text",
        ),
        Formula(
            r"K K^\top = (K K^\top)^\top \qquad\text{%s}\qquad Q K^\top \neq (Q K^\top)^\top" % _latex_word(_("but")),
            key="relevance_formula",
        ),
        *pictures,
        Text(pair, key="relevance_pair_text"),
        article_chart(asym, lang, "tr_asymmetry_heads"),
        Text(
            _("Every head of every layer is asymmetric: the model uses its separate queries everywhere."),
            style="caption",
            key="relevance_everywhere",
        ),
    )
    return LessonSection(_("Why q·k must be asymmetric: K·Kᵀ vs Q·Kᵀ"), blocks=blocks, key="relevance")
