"""One token, step by step (article 001, 注意力机制, "Self-Attention单字计算"): the page's document.

First the article's own numbers by hand (section ``hand``): q·k = 112 and 96, ÷ √64 = 8 gives 14
and 12, the softmax 0.88 and 0.12, z = 0.88·v₁ + 0.12·v₂, each step from
:func:`retrieval_attention.lessons.score_steps` with the numbers the page's boxes hold. Then the
same five steps on a trained model for one query token (sections ``model``, ``vectors``,
``scores``, ``sum``), every number from :func:`retrieval_attention.inspector.walkthrough`, which the
tests check against the model's own attention weights and head output; section ``scores`` also
answers the article's "the word weighs itself most" with the head's numbers and the head where it
holds (:func:`~retrieval_attention.inspector.strongest_self_head`). Last the matrix form, this
model's shapes beside the article's (section ``matrix``).

Example:
    >>> [s.key for s in walkthrough_lesson(None, WalkthroughSettings(sentence="")).sections]
    ['hand', 'model']
    >>> hand_section(WalkthroughSettings()).blocks[1].rows[0][1:3]
    ('112', '14')
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.export.blocks import Block, Controls, Formula, LessonSection, LessonTable, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.i18n import N_
from retrieval_attention.lessons import ARTICLE_DK, ARTICLE_SCORES, ARTICLE_WORDS, EXAMPLE_VALUES, RILEY_EN, RILEY_ES
from retrieval_attention.views.articles import article_chart, follows

if TYPE_CHECKING:
    from retrieval_attention.inspector import MatrixShapes, SelfHead, TransformerInspector, Walkthrough
    from retrieval_attention.lessons import ScoreSteps

__all__ = [
    "THINKING",
    "THIRD",
    "WalkthroughSettings",
    "default_token",
    "examples",
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

#: The article's own two words.
THINKING = "Thinking Machines"
#: A third word the student can add: its score and value (ours, like the other values).
THIRD = (100.0, (2.0, 2.0, 0.0))
#: How many of the head's numbers the vector views show (the length is always stated).
DIMS = 8
#: Decimals of the hand calculation's weights and sums.
DECIMALS = 4
#: The matrix form's stage names (:attr:`MatrixShapes.stages`) that have words in them, to translate.
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
    token: int | None = None  # the query token's position; None: :func:`default_token`
    words: bool = False  # also draw the row merged to words
    aside: bool = False  # also draw the row with [CLS] and [SEP] set aside
    lang: str = "en"  # the language of every text and number sign


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


def word_names(n: int, lang: str = "en") -> list[str]:
    """The calculator's rows: the article's two words, then the optional third."""
    return [*ARTICLE_WORDS, _gettext(lang)("a third word")][:n]


def v_name(j: int) -> str:
    """v₁, v₂, v₃: the article's names of the values (j from 0)."""
    return "v" + chr(0x2081 + j)


@functools.lru_cache(maxsize=64)
def steps(scores: tuple[float, ...], d_k: int, values: tuple[tuple[float, ...], ...]) -> ScoreSteps:
    """The calculator's steps (:func:`~retrieval_attention.lessons.score_steps`), once per input.

    Raises:
        ~retrieval_attention.errors.InvalidParameterError: numbers the steps cannot use.
    """
    from retrieval_attention.lessons import score_steps

    return score_steps(scores, d_k, values)


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


@functools.lru_cache(maxsize=32)
def self_head(ins: TransformerInspector, sentence: str, token: int) -> SelfHead | None:
    """:func:`~retrieval_attention.inspector.strongest_self_head` once per sentence and token."""
    from retrieval_attention.inspector import strongest_self_head

    return strongest_self_head(ins, sentence, token)


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
    from retrieval_attention.export.blocks import Columns

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
        charts[0],
        Columns(((charts[1],), (charts[2],)), key="vectors_kv"),
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
    blocks += _itself(ins, w, settings.aside, lang)
    return LessonSection(_("2 · Score every token: q·k_j"), blocks=tuple(blocks), key="scores")


def _words(ins: TransformerInspector, w: Walkthrough, lang: str) -> list[Block]:
    """The row merged to words, with the words the tokenizer split; only a line when none is split."""
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.inspector import word_attention, word_groups, word_labels

    _ = _gettext(lang)
    groups = word_groups(w.tokens)
    split = [(word, [w.tokens[i] for i in g]) for word, g in zip(word_labels(w.tokens, groups), groups) if len(g) > 1]
    if not split:
        text = _("No word of this sentence is split into pieces: the word view equals the token view.")
        return [Text(text, style="caption", key="words_none")]
    shown = "; ".join(f"{md(word)} = {' + '.join(md(p) for p in pieces)}" for word, pieces in split)
    wa = word_attention(ins, w.sentence, w.layer)
    a = next(i for i, g in enumerate(wa.groups) if w.token in g)
    chart = ca.steps_chart(
        wa.words, [(_("w per word"), wa.weights[w.head, a], False)],
        title=_("Merged to words: the row of “{word}”").format(word=wa.words[a]), row_title=_("key word"),
    )  # fmt: skip
    return [
        Text(_("Words split into pieces: {words}").format(words=shown), style="caption", key="words_split"),
        article_chart(chart, lang, "aw_words"),
    ]


def _itself(ins: TransformerInspector, w: Walkthrough, aside: bool, lang: str) -> list[Block]:
    """Does the word weigh itself most, as the article says? This head, [CLS]/[SEP] set aside, the head where it does."""
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.inspector import without_special

    _ = _gettext(lang)
    token, own = md(w.query_token), float(w.weights[w.token])
    best = int(w.weights.argmax())
    if best == w.token:
        verdict = _(
            "Article 001 says the word being encoded gets the highest softmax score. Here it does: "
            "“{token}” gives itself {own}, more than any other token."
        ).format(token=token, own=_fmt(own, lang, 2))
    else:
        verdict = _(
            "Article 001 says the word being encoded gets the highest softmax score. Here “{token}” gives itself "
            "{own} and its most, {top}, to “{best}”. Both are true to their source: the article's numbers are "
            "illustrative, made up to show the arithmetic; this head was trained."
        ).format(token=token, own=_fmt(own, lang, 2), top=_fmt(w.weights[best], lang, 2), best=md(w.tokens[best]))
    special, lengths = w.special, w.value_lengths
    resting = float(w.weights[special].sum())
    rest, words = float(lengths[special].mean()), float(lengths[~special].mean())
    if rest < words:
        parked = _(
            "A trained head often parks weight on [CLS] and [SEP]: a resting place. Here they take {share} of "
            "“{token}”'s weight, but their value vectors are shorter than the words' (‖v‖ {rest} against {words} "
            "on average), so they add less to z than their weight suggests."
        )
    else:
        parked = _(
            "A trained head often parks weight on [CLS] and [SEP]: a resting place. Here they take {share} of "
            "“{token}”'s weight; their value vectors are not shorter than the words' here (‖v‖ {rest} against "
            "{words} on average)."
        )
    parked = parked.format(
        share=_fmt(resting, lang, 2), token=token, rest=_fmt(rest, lang, 2), words=_fmt(words, lang, 2)
    )
    blocks: list[Block] = [
        Text(_("Does the word weigh itself most?"), style="subheader", key="itself_heading"),
        Text(verdict, key="itself_verdict"),
        Text(parked, key="itself_parked"),
        Controls(key="itself_aside"),
    ]
    if aside:
        hidden = without_special(w.weights, special)
        shown = np.where(special, np.nan, hidden)  # grey cells: set aside, not a weight of 0
        chart = ca.steps_chart(
            w.tokens, [(_("softmax → w_j"), w.weights, False), (_("without [CLS], [SEP]"), shown, False)],
            title=_row_title(w, lang), row_title=_("key token j"),
        )  # fmt: skip
        blocks.append(article_chart(chart, lang, "aw_hidden"))
        if np.isnan(hidden).all():
            text = _("This head gives all of “{token}”'s weight to [CLS] and [SEP]: nothing is left.").format(
                token=token
            )
            blocks.append(Text(text, style="caption", key="itself_nothing"))
        else:
            top = int(np.nanargmax(np.where(special, np.nan, hidden)))
            blocks.append(
                Text(
                    _("Among the words, “{token}” gives itself {own}; its most, {top}, goes to “{best}”.").format(
                        token=token,
                        own=_fmt(hidden[w.token], lang, 2) if not special[w.token] else "—",
                        top=_fmt(hidden[top], lang, 2),
                        best=md(w.tokens[top]),
                    ),
                    key="itself_words",
                )
            )
    found = self_head(ins, w.sentence, w.token)
    total = _fmt(ins.n_layers * ins.n_heads, lang)
    if found is None:
        text = _("Measured in all {total} heads: in none of them does “{token}” give itself its largest weight.")
        blocks.append(Text(text.format(total=total, token=token), key="itself_found"))
        return blocks
    text = _(
        "Measured in all {total} heads for this sentence: in {n} of them “{token}” gives itself its largest "
        "weight, as the article says. The strongest is layer {layer}, head {head}, with {weight}."
    ).format(
        total=total, n=_fmt(found.heads, lang), token=token, layer=found.layer, head=found.head,
        weight=_fmt(found.weight, lang, 2),
    )  # fmt: skip
    blocks += [Text(text, key="itself_found"), Controls(key="itself_go")]
    return blocks


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


def walkthrough_lesson(
    ins: TransformerInspector | None, settings: WalkthroughSettings = WalkthroughSettings(), model: str = DEFAULT_MODEL
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
