"""One token, step by step (article 001, 注意力机制, "Self-Attention单字计算"): the page's document.

First the article's own numbers by hand (section ``hand``): q·k = 112 and 96, ÷ √64 = 8 gives 14
and 12, the softmax 0.88 and 0.12, z = 0.88·v₁ + 0.12·v₂, each step from
:func:`retrieval_attention.articles.score_steps` with the numbers the page's boxes hold. Then the
same five steps on a trained model for one query token (sections ``model``, ``vectors``,
``scores``, ``sum``), every number from :func:`retrieval_attention.inspector.walkthrough`, which the
tests check against the model's own attention weights and head output; section ``scores`` also
answers the article's "the word weighs itself most" with the head's numbers and the head where it
holds (:func:`~retrieval_attention.inspector.strongest_self_head`). Last the matrix form, this
model's shapes beside the article's (section ``matrix``). The article's own arithmetic (sections
``hand`` and ``matrix``) is built in :mod:`~retrieval_attention.views.walkthrough_article`, the
answer to "does the word weigh itself most?" in :mod:`~retrieval_attention.views.walkthrough_self`.

Example:
    >>> [s.key for s in walkthrough_lesson(None, WalkthroughSettings(sentence="")).sections]
    ['hand', 'model']
    >>> hand_section(WalkthroughSettings()).blocks[0].rows[0][1:3]
    ('112', '14')
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from retrieval_attention.articles import RILEY_EN, RILEY_ES
from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.export.blocks import Block, Controls, Formula, LessonSection, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart, follows, split_words
from retrieval_attention.views.walkthrough_article import (
    THINKING,
    THIRD,
    WalkthroughSettings,
    hand_head,
    hand_section,
    matrix_section,
    steps,
    word_names,
)
from retrieval_attention.views.walkthrough_self import itself, self_head

if TYPE_CHECKING:
    from retrieval_attention.inspector import TransformerInspector, Walkthrough

__all__ = [
    "THINKING",
    "THIRD",
    "WalkthroughSettings",
    "default_token",
    "examples",
    "hand_head",
    "hand_section",
    "matrix_section",
    "model_head",
    "model_section",
    "scores_section",
    "self_head",
    "steps",
    "sum_section",
    "vectors_section",
    "walk",
    "walkthrough_intro",
    "walkthrough_lesson",
    "walkthrough_title",
    "word_names",
]

#: How many of the head's numbers the vector views show (the length is always stated).
DIMS = 8


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def examples(lang: str = "en") -> dict[str, str]:
    """The example sentences: pill label -> sentence, the article's words first."""
    _ = _gettext(lang)
    return {
        _("Thinking Machines (article 001)"): THINKING,
        _("Riley (English)"): RILEY_EN,
        _("Riley (Spanish)"): RILEY_ES,
        _("“it” = the animal?"): "The animal didn't cross the street because it was too tired",
        "中文: 中国人": "中国人",
    }


def default_token(tokens: tuple[str, ...]) -> int:
    """The token picked first: "riley" when the sentence has it, else the first word after [CLS].

    Example:
        >>> default_token(("[CLS]", "thinking", "machines", "[SEP]")), default_token(("[CLS]", "a", "riley"))
        (1, 2)
    """
    return tokens.index("riley") if "riley" in tokens else min(1, len(tokens) - 1)


@functools.lru_cache(maxsize=32)
def walk(ins: TransformerInspector, sentence: str, layer: int, head: int, token: int | None) -> Walkthrough:
    """:func:`~retrieval_attention.inspector.walkthrough` once per input; ``token`` None: :func:`default_token`.

    Raises:
        ~retrieval_attention.errors.RetrievalAttentionError: a sentence, layer, head or token the model cannot use.
    """
    from retrieval_attention.inspector import walkthrough

    if token is None:
        token = default_token(tuple(ins.tokens(sentence)))
    return walkthrough(ins, sentence, layer, head, token)


def walkthrough_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("One token, step by step")


def walkthrough_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the page is about: the article it follows and what to notice, then one line of plan."""
    _ = _gettext(lang)
    notice = _(
        "Notice: one token's output is a weighted average of every token's value, and the weights come from "
        "its query against their keys."
    )
    plan = _(
        "Article 001 computes self-attention for one word in five steps. First its own numbers, by hand; then "
        "the same five steps inside a real model, for the token you click."
    )
    return (*follows(("001",), notice, lang, "walkthrough"), Text(plan, key="intro"))


def _fmt(value: float, lang: str, decimals: int | None = None) -> str:
    from retrieval_attention.i18n import fmt_number

    return fmt_number(float(value), lang, decimals)


def model_head(lang: str = "en") -> LessonSection:
    """The trained model's part with only its heading and its widgets' place (the page explains a refusal)."""
    return LessonSection(
        _gettext(lang)("The same steps in a trained model"), blocks=(Controls(key="model_controls"),), key="model"
    )


def model_section(lang: str = "en", problem: str = "", empty: bool = False) -> LessonSection:
    """The trained model's part: where its widgets go, what [CLS] and [SEP] are; or why there is nothing.

    Args:
        lang: the document's language.
        problem: the library's message for a sentence, layer or head it refused; "" for none.
        empty: no sentence was typed.
    """
    _ = _gettext(lang)
    head = Controls(key="model_controls")
    if empty:
        info = Text(_("Type a sentence to follow its steps."), style="info", key="model_empty")
        return LessonSection(_("The same steps in a trained model"), blocks=(head, info), key="model")
    if problem:
        reason = Text(_("The library says: {reason}").format(reason=md(problem)), style="warning", key="model_problem")
        return LessonSection(_("The same steps in a trained model"), blocks=(head, reason), key="model")
    cls = Text(
        _("[CLS] and [SEP] are tokens the model adds at the start and the end of every sentence."),
        style="caption",
        key="model_special",
    )
    return LessonSection(
        _("The same steps in a trained model"), blocks=(head, cls, Controls(key="model_token")), key="model"
    )


def _dims(w: Walkthrough) -> list[str]:
    return [str(i) for i in range(min(DIMS, w.head_dim))]


def vectors_section(w: Walkthrough, lang: str = "en") -> LessonSection:
    """Step 1: the token's query, and every token's key and value, for this head."""
    from retrieval_attention.charts import articles as ca

    _ = _gettext(lang)
    a, b = w.columns
    cols = _dims(w)
    n = len(cols)
    show = [
        (_("q of “{token}”").format(token=w.query_token), w.q[None, :n], [f"q · {w.query_token}"]),
        (_("k_j: every token's key"), w.K[:, :n], list(w.tokens)),
        (_("v_j: every token's value"), w.V[:, :n], list(w.tokens)),
    ]
    top = max(float(abs(w.K[:, :n]).max()), float(abs(w.q[:n]).max()), 1e-6)
    cell = ca.row_height(len(w.tokens), most=40, total=560)
    charts = [
        article_chart(
            ca.matrix_heatmap(
                M, rows, cols, title=title, col_title=_("dimension"), value_title=_("value"), signed=True,
                numbers=True, cell=max(cell, 36) if k == 0 else cell, cell_width=56, legend=False,
                limit=None if k == 2 else top,
            ),
            lang,
            f"aw_vec_{k}",
        )
        for k, (title, M, rows) in enumerate(show)
    ]  # fmt: skip
    blocks = (
        Text(
            _(
                "Each token enters layer {layer} as a vector x of {d} numbers. Multiplying it by the trained matrices "
                "W_Q, W_K and W_V gives its query, key and value; head {head} keeps {hd} numbers of each "
                "(columns {a}–{b} of the {d})."
            ).format(layer=w.layer, d=w.x.shape[1], head=w.head, hd=w.head_dim, a=a, b=b - 1),
            key="vectors_text",
        ),
        Formula(r"q_i = x_i W_Q,\quad k_j = x_j W_K,\quad v_j = x_j W_V", key="vectors_formula"),
        *charts,  # one under another: 8 numbers a row, side by side they ran 151 px past their column at 1280 wide
        Text(
            _("The first {n} of {hd} numbers of each vector (d_k = {hd} in this model; 64 in the article).").format(
                n=n, hd=w.head_dim
            ),
            style="caption",
            key="vectors_first",
        ),
    )
    return LessonSection(_("1 · A query, a key and a value for every token"), blocks=blocks, key="vectors")


def _row_title(w: Walkthrough, lang: str) -> str:
    _ = _gettext(lang)
    return _("Query “{token}”, layer {layer}, head {head}").format(token=w.query_token, layer=w.layer, head=w.head)


def scores_section(ins: TransformerInspector, w: Walkthrough, settings: WalkthroughSettings) -> LessonSection:
    """Steps 2 and 3 (q·k_j, ÷ √d_k, softmax), the row merged to words, and "does the word weigh itself most?".

    The section's two ``Controls`` mark the "set [CLS] and [SEP] aside" toggle and the button to the
    head where the word weighs itself most (drawn when that head is another one).
    """
    from retrieval_attention.charts import articles as ca

    _, lang = _gettext(settings.lang), settings.lang
    title, key_j = _row_title(w, lang), _("key token j")
    score = (_("q·k_j"), w.scores, True)
    steps_columns = [
        score,
        (_("÷ √{hd}").format(hd=w.head_dim), w.scaled, True),
        (_("softmax → w_j"), w.weights, False),
    ]
    best = int(w.weights.argmax())
    blocks: list[Block] = [
        Text(
            _(
                "The score of token j is the dot product of “{token}”'s query with token j's key: one number per token."
            ).format(token=md(w.query_token)),
            key="scores_text",
        ),
        article_chart(ca.steps_chart(w.tokens, [score], title=title, row_title=key_j), lang, "aw_scores"),
        Text(_("3 · Divide by √d_k, then softmax"), style="subheader", key="scale_heading"),
        Text(
            _(
                "Here d_k = {hd}, so the scores are divided by √{hd} ≈ {root}. The article divides by 8 because "
                "the original Transformer has d_k = 64 (√64 = 8). The softmax then turns the scaled scores into "
                "positive weights w_j that sum to 1."
            ).format(hd=w.head_dim, root=_fmt(w.sqrt_dk, lang, 2)),
            key="scale_text",
        ),
        Formula(
            r"w_j = \mathrm{softmax}_j\!\left(\frac{q \cdot k_j}{\sqrt{d_k}}\right),\quad \sum_j w_j = 1",
            key="scale_formula",
        ),
        article_chart(ca.steps_chart(w.tokens, steps_columns, title=title, row_title=key_j), lang, "aw_steps"),
        Text(
            _("“{token}” gives the most weight to “{best}”: {weight}. Σ w_j = {total}.").format(
                token=md(w.query_token),
                best=md(w.tokens[best]),
                weight=_fmt(w.weights[best], lang, 2),
                total=_fmt(w.weights.sum(), lang, 3),
            ),
            key="scale_best",
        ),
    ]
    if settings.words:
        blocks += _words(ins, w, lang)
    blocks += itself(ins, w, settings.aside, lang, _row_title(w, lang))
    return LessonSection(_("2 · Score every token: q·k_j"), blocks=tuple(blocks), key="scores")


def _words(ins: TransformerInspector, w: Walkthrough, lang: str) -> list[Block]:
    """The row merged to words, with the words the tokenizer split; only a line when none is split."""
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.inspector import word_attention

    _ = _gettext(lang)
    line, split = split_words(tuple(w.tokens), lang)
    if not split:
        return [line]
    wa = word_attention(ins, w.sentence, w.layer)
    a = next(i for i, g in enumerate(wa.groups) if w.token in g)
    chart = ca.steps_chart(
        wa.words, [(_("w per word"), wa.weights[w.head, a], False)],
        title=_("Merged to words: the row of “{word}”").format(word=wa.words[a]), row_title=_("key word"),
    )  # fmt: skip
    return [line, article_chart(chart, lang, "aw_words")]


def sum_section(w: Walkthrough, lang: str = "en") -> LessonSection:
    """Steps 4 and 5: every value times its weight, then the sum z."""
    from retrieval_attention.charts import articles as ca

    _ = _gettext(lang)
    cols = _dims(w)
    n = len(cols)
    a, b = w.columns
    chart = ca.vectors_and_sum_chart(
        w.weighted_values[:, :n], w.z[:n], w.tokens, cols,
        title=_("w_j · v_j (first {n} of {hd} numbers)").format(n=n, hd=w.head_dim),
        sum_label=_("z = Σ w_j·v_j"), sum_row="z", row_title=_("token j"), col_title=_("dimension"),
        value_title=_("value"),
    )  # fmt: skip
    blocks = (
        Text(
            _(
                "Each value vector v_j is multiplied by its weight w_j: tokens with a small weight almost vanish. "
                "Their sum z is what this head outputs for “{token}”."
            ).format(token=md(w.query_token)),
            key="sum_text",
        ),
        Formula(r"z = \sum_j w_j\, v_j", key="sum_formula"),
        article_chart(chart, lang, "aw_sum"),
        Text(
            _(
                "z has {hd} numbers; it becomes columns {a}–{b} of the layer's output before W_O. These are the model's "
                "own numbers: the tests check the weights against its attention and z against the head's output."
            ).format(hd=w.head_dim, a=a, b=b - 1),
            style="caption",
            key="sum_model",
        ),
    )
    return LessonSection(_("4 · Weigh each value, 5 · add them up"), blocks=blocks, key="sum")


#: The page as it opens (the frozen settings, shared).
_DEFAULTS = WalkthroughSettings()


def walkthrough_lesson(
    ins: TransformerInspector | None, settings: WalkthroughSettings = _DEFAULTS, model: str = DEFAULT_MODEL
) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, the calculator and the model's steps.

    Numbers the calculator cannot use, or a sentence, layer or head the model cannot, leave the
    library's reason in that section.

    Args:
        ins: the model's inspector (all-MiniLM-L6-v2 on the page); None only when the sentence is empty.
        settings: the page's widget values.
        model: the model's name, for the facts and the matrix form.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    try:
        sections = [hand_section(settings)]
    except RetrievalAttentionError as exc:
        sections = [hand_head(lang, str(exc))]
    token = ""
    if not settings.sentence or ins is None:
        sections.append(model_section(lang, empty=True))
    else:
        try:
            w = walk(ins, settings.sentence, settings.layer, settings.head, settings.token)
            sections += [
                model_section(lang),
                vectors_section(w, lang),
                scores_section(ins, w, settings),
                sum_section(w, lang),
                matrix_section(w.shapes, model, lang),
            ]
            token = w.query_token
        except RetrievalAttentionError as exc:
            sections.append(model_section(lang, str(exc)))
    facts = (
        (_("d_k (width of q and k)"), _fmt(settings.d_k, lang)),
        (_("Model"), model),
        (_("Sentence"), settings.sentence),
        (_("Layer"), str(settings.layer)),
        (_("Head"), str(settings.head)),
        (_("Query token"), token),
    )
    return Lesson(
        title=walkthrough_title(lang),
        facts=facts,
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        intro=walkthrough_intro(lang),
        **signs(lang),
    )
