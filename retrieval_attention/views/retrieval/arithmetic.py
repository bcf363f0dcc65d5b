"""Section ``arithmetic``: the softmax of the best keys written out with the real numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from retrieval_attention.core.attention import softmax_breakdown
from retrieval_attention.export.blocks import Block, Formula, LessonSection, Text
from retrieval_attention.export.markup import md
from retrieval_attention.views.retrieval.settings import ARITHMETIC_KEYS, Results, RetrievalSettings, _gettext

if TYPE_CHECKING:
    from retrieval_attention.store import KeyValueStore

__all__ = ["arithmetic_section"]


def _tex(text: str) -> str:
    """A translated word for ``\\text{...}``: no backslash or brace of its own."""
    return text.replace("\\", "").replace("{", "").replace("}", "")


def arithmetic_section(store: KeyValueStore, results: Results, settings: RetrievalSettings) -> LessonSection:
    """The softmax of the best keys step by step, and the output's duration as Σ wᵢ vᵢ."""
    from retrieval_attention.i18n import fmt_number, fmt_setting, fmt_significant, tex_number

    lang, soft = settings.lang, results["soft"]
    _ = _gettext(lang)

    def num(value: float, decimals: int) -> str:
        return tex_number(fmt_number(value, lang, decimals))

    show = min(ARITHMETIC_KEYS, len(store))
    steps = softmax_breakdown(soft.all_scores, soft.positions[:show], scale=soft.scale, temperature=soft.temperature)
    scale_tex = r"\frac{1}{\sqrt{%d}}" % store.dim if soft.scale != 1.0 else "1"
    formula = (
        r"w_i = \frac{\exp\!\big(q\cdot k_i \times %s \,/\, T\big)}{\sum_{j=1}^{%d} \exp\!\big(q\cdot k_j \times %s \,/\, T\big)}"
        r"\qquad o = \sum_i w_i\, v_i" % (scale_tex, len(store), scale_tex)
    )
    rows = " ".join(
        r"k_{%d} & %s & %s & %s & %s \\"
        % (
            j + 1,
            num(steps.scores[j], 4),
            num(steps.logits[j], 3),
            tex_number(fmt_significant(steps.shifted_exp[j], lang, 4)),
            num(steps.weights[j], 4),
        )
        for j in range(show)
    )
    table = (
        r"\begin{array}{c|c|c|c|c} \text{%s} & q\cdot k_i & z_i = q\cdot k_i \times %s / %s & e^{z_i - \max z} & w_i = e^{z_i - \max z} / %s \\ \hline "
        % (
            _tex(_("key")),
            scale_tex,
            tex_number(fmt_setting(soft.temperature, lang)),
            num(steps.denominator, 4),
        )
        + rows
        + r"\end{array}"
    )
    keys = "; ".join(f"k{j + 1} = {md(store.corpus[p].title)}" for j, p in enumerate(soft.positions[:show]))
    blocks: list[Block] = [
        Formula(formula, key="arithmetic_formula"),
        Formula(table, key="arithmetic_table"),
        Text(
            _("Keys: {keys}. The denominator sums e^(z − max z) over all {n} keys, not only these.").format(
                keys=keys, n=fmt_number(len(store), lang)
            ),
            style="caption",
            key="arithmetic_keys",
        ),
    ]
    if store.corpus.has_numeric("duration_s"):
        lay = store.layout
        durs = store.V[soft.positions[:show], lay.duration_index]
        terms = " + ".join(r"%s \times %s" % (num(w, 3), num(d, 1)) for w, d in zip(steps.weights, durs))
        total = float(soft.output[lay.duration_index])
        blocks.append(
            Formula(
                r"o_{\text{%s}} = %s + \dots = %s" % (_tex(_("duration (min)")), terms, num(total, 2)),
                key="arithmetic_duration",
            )
        )
    return LessonSection(_("The arithmetic, with the real numbers"), blocks=tuple(blocks), key="arithmetic")
