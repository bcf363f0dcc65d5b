"""Why three vectors per word (articles 002 and 004): the page's document, built once for the app, a file and a notebook.

Two pictures: the tokens' x, q and k in 2-D (our own PCA, :func:`~retrieval_attention.inspector.projection_picture`),
showing that W_Q and W_K send the same word to different places (section ``projections``); and
self-attention as a set operation (:func:`~retrieval_attention.inspector.permutation_check`): without
the position embeddings, shuffling the words only shuffles the weights; with them, the weights
change (section ``shuffle``). A sentence the model cannot read raises the library's error; the page
shows it in words, the document (:func:`projections_lesson`) as a warning in that section.

Example:
    >>> from retrieval_attention.inspector import load_inspector
    >>> lesson = projections_lesson(load_inspector(), ProjectionSettings())  # doctest: +SKIP
    >>> [s.key for s in lesson.sections]  # doctest: +SKIP
    ['projections', 'shuffle']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from retrieval_attention.articles import RILEY_EN, RILEY_ES
from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.export.blocks import Block, Columns, Controls, LessonSection, Metric, Metrics, Text
from retrieval_attention.export.document import Lesson
from retrieval_attention.export.markup import md
from retrieval_attention.views.articles import article_chart, fmt_small, follows

if TYPE_CHECKING:
    from retrieval_attention.inspector import PermutationCheck, TransformerInspector

__all__ = [
    "SHORT",
    "ProjectionSettings",
    "examples",
    "projections_intro",
    "projections_lesson",
    "projections_section",
    "projections_title",
    "section_head",
    "shuffle_section",
]

#: The short sentence the shuffle starts from, per language (English for Chinese).
SHORT = {"en": "the dog chased the cat", "es": "el perro persigue al gato"}


@dataclass(frozen=True)
class ProjectionSettings:
    """The page's widget values."""

    sentence: str = RILEY_EN  # the sentence whose x, q and k are drawn ("" for none)
    layer: int = 0  # the layer, 0-based (both sections)
    head: int = 0  # the head, 0-based (both sections)
    shuffle_sentence: str = SHORT["en"]  # the sentence to shuffle ("" for none)
    words: bool = False  # merge WordPiece pieces back into words in the shuffle's heatmaps
    seed: int = 0  # the shuffle's seed ("Shuffle again" adds one)
    lang: str = "en"  # the language of every text and number sign

    @classmethod
    def first(cls, lang: str) -> ProjectionSettings:
        """The page's first settings in ``lang``: its own sentences (Spanish ones in Spanish)."""
        return cls(RILEY_ES if lang == "es" else RILEY_EN, 0, 0, SHORT.get(lang, SHORT["en"]), False, 0, lang)


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def examples(lang: str = "en") -> dict[str, str]:
    """Example sentences for both sections: pill label -> sentence."""
    _ = _gettext(lang)
    return {
        _("Riley (English)"): RILEY_EN,
        _("Riley (Spanish)"): RILEY_ES,
        SHORT["en"]: SHORT["en"],
        SHORT["es"]: SHORT["es"],
    }


#: The shuffle section's three maps side by side: their cells' width (px), and their titles' lines'.
SHUFFLE_MAP_PX, SHUFFLE_TITLE_PX = 130, 220


def _lines(title: str) -> list[str]:
    """A map's title in lines that fit a third of the page at 1280 wide."""
    from retrieval_attention.charts.theme import PROJECTOR_CONFIG, wrap_lines

    return wrap_lines(title, SHUFFLE_TITLE_PX, PROJECTOR_CONFIG["title"]["fontSize"])


def projections_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("Why three vectors per word")


def projections_intro(lang: str = "en") -> tuple[Text, ...]:
    """What the page is about."""
    _ = _gettext(lang)
    return (
        Text(
            _(
                "Articles 002 and 004 explain why each word gets a query, a key and a value, and why word order "
                "has to be added. Here are the model's own projections, and the same sentence shuffled."
            ),
            key="intro",
        ),
    )


def _head(key: str, lang: str) -> tuple[str, tuple[Block, ...]]:
    """A section's heading and what comes before its widgets (the article it follows, what to notice)."""
    _ = _gettext(lang)
    if key == "projections":
        notice = _(
            "Notice: W_Q and W_K send the same word to different places: what a word looks for is not what it offers."
        )
        return _("The same word, sent to two places"), follows(("002", "004"), notice, lang, key)
    notice = _(
        "Notice: without position embeddings, shuffling the words only shuffles the weights (self-attention "
        "is a set operation); with them, the weights change."
    )
    return _("Shuffle the words"), follows(("004",), notice, lang, key)


def section_head(key: str, lang: str = "en", problem: str = "") -> LessonSection:
    """A section with only its heading, its lead and its widgets' place (and the library's reason, if any).

    Args:
        key: ``"projections"`` or ``"shuffle"``.
        lang: the document's language.
        problem: the library's message for input it refused; "" for none.
    """
    heading, lead = _head(key, lang)
    reason = ()
    if problem:
        text = _gettext(lang)("The library says: {reason}").format(reason=md(problem))
        reason = (Text(text, style="warning", key=f"{key}_problem"),)
    return LessonSection(heading, blocks=(*lead, Controls(key=f"{key}_controls"), *reason), key=key)


def projections_section(ins: TransformerInspector, settings: ProjectionSettings) -> LessonSection:
    """Section 1: x on its own PCA; one head's q and k on one shared PCA (the shuffle's settings play no part).

    Raises:
        ~retrieval_attention.errors.RetrievalAttentionError: a sentence, layer or head the model cannot use.
    """
    return _projections(ins, settings.sentence, settings.layer, settings.head, settings.lang)


@functools.lru_cache(maxsize=32)
def _projections(ins: TransformerInspector, sentence: str, layer: int, head: int, lang: str) -> LessonSection:
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.i18n import fmt_number, fmt_percent
    from retrieval_attention.inspector import projection_picture

    _ = _gettext(lang)
    heading, lead = _head("projections", lang)
    if not sentence:
        body: tuple[Block, ...] = (
            Text(_("Type a sentence to see its vectors."), style="info", key="projections_empty"),
        )
        return LessonSection(heading, blocks=(*lead, Controls(key="projections_controls"), *body), key="projections")
    p = projection_picture(ins, sentence, layer, head)
    chart = ca.projection_chart(
        p.tokens, p.x_2d, p.q_2d, p.k_2d,
        x_title=(  # two lines: each fits its panel at 1280 wide in every language
            _("x entering layer {layer} ({d} numbers)").format(layer=layer, d=ins.d_model),
            _("{share} of the spread").format(share=fmt_percent(float(p.x_explained.sum()), lang)),
        ),
        qk_title=(  # "one shared picture" is the caption's: "q and k share theirs [axes]"
            _("q and k of head {head} ({hd} numbers)").format(head=head, hd=ins.head_dim),
            _("{share} of the spread").format(share=fmt_percent(float(p.qk_explained.sum()), lang)),
        ),
        x_name="x", q_name=_("q (query)"), k_name=_("k (key)"), series_title=_("vector"),
        axis_titles=(_("component 1"), _("component 2")),
    )  # fmt: skip
    body = (
        Text(
            _(
                "A 2-D PCA of our own (numpy SVD): x lives in {d} dimensions and q, k in {hd}, so x has its own "
                "axes; q and k share theirs, and a dashed line joins each token's q to its k."
            ).format(d=ins.d_model, hd=ins.head_dim),
            style="caption",
            key="projections_pca",
        ),
        Text(
            _("Cosine of a token's own q and k, on average: {cos} (1 would mean W_Q and W_K agree on it).").format(
                cos=fmt_number(float(np.mean(p.self_cosine)), lang, 2)
            ),
            key="projections_cosine",
        ),
        Text(
            _(
                "And v? A third projection, W_V: what a token hands back once it is matched. What you match on "
                "(the key, like a video's title) need not be what you return (the value, the video)."
            ),
            key="projections_values",
        ),
    )
    picture = article_chart(chart, lang, "ap_pca")  # the picture first (issue 25), its widgets under it
    return LessonSection(
        heading, blocks=(*lead, picture, Controls(key="projections_controls"), *body), key="projections"
    )


def _merged(
    c: PermutationCheck, weights: NDArray[np.float64], words: bool
) -> tuple[NDArray[np.float64], tuple[str, ...]]:
    """(T, T) weights in the shuffled order and their labels, merged to words when asked."""
    from retrieval_attention.inspector import merge_weights, word_groups, word_labels

    if not words:
        return weights, c.shuffled_tokens
    groups = word_groups(c.shuffled_tokens)
    return merge_weights(weights, groups), word_labels(c.shuffled_tokens, groups)


@functools.lru_cache(maxsize=32)
def shuffle_section(ins: TransformerInspector, settings: ProjectionSettings) -> LessonSection:
    """Section 2: the same sentence with its words shuffled, without and with the position embeddings.

    Raises:
        ~retrieval_attention.errors.RetrievalAttentionError: a sentence or layer the model cannot use.
    """
    from retrieval_attention.charts import articles as ca
    from retrieval_attention.charts.theme import level_lines
    from retrieval_attention.i18n import fmt_number
    from retrieval_attention.inspector import permutation_check

    _, lang = _gettext(settings.lang), settings.lang
    heading, lead = _head("shuffle", lang)
    top = (*lead, Controls(key="shuffle_controls"))
    if not settings.shuffle_sentence:
        return LessonSection(heading, blocks=(*top, Text(_("Type a sentence to shuffle."), style="info", key="shuffle_empty")), key="shuffle")  # fmt: skip
    layer, head = settings.layer, settings.head
    c = permutation_check(ins, settings.shuffle_sentence, layer, seed=settings.seed)
    if len(c.words) < 4:
        few = Text(_("Type at least two words to shuffle."), style="info", key="shuffle_few")
        return LessonSection(heading, blocks=(*top, few), key="shuffle")
    shuffled = " ".join(md(c.words[i]) for i in c.word_order)
    blocks: list[Block] = [
        *top,
        Text(_("**Shuffled:** {words}").format(words=shuffled), key="shuffle_words"),
        Text(
            _("Layer {layer}, head {head} (the sliders above).").format(layer=layer, head=head),
            style="caption",
            key="shuffle_where",
        ),
        Metrics(
            (
                Metric(
                    _("without positions: largest difference"),
                    fmt_small(c.max_diff_without, lang, 2),
                    _("max |shuffled sentence's weights − the original's, rearranged| over every head"),
                ),
                Metric(
                    _("with positions: largest difference"),
                    fmt_number(c.max_diff_with, lang, 2),
                    _("the same, with the position embeddings; over every head of the layer"),
                ),
            ),
            key="shuffle_metrics",
        ),
    ]
    rows = []
    for title, original, shuffled_w, key in (
        (_("Without position embeddings"), c.without_positions, c.without_positions_shuffled, "nopos"),
        (_("With position embeddings (as the model runs)"), c.with_positions, c.with_positions_shuffled, "pos"),
    ):
        M1, labels = _merged(c, c.permuted(original)[head], settings.words)
        M2, _labels = _merged(c, shuffled_w[head], settings.words)
        rows.append((title, key, labels, M1, M2, M2 - M1))
    limit = max(float(np.abs(rows[1][5]).max()), 1e-6)  # this head's largest change with positions
    for title, key, labels, M1, M2, diff in rows:
        # three maps side by side, each in a third of the page (~250 px at 1280 wide): the cells take
        # SHUFFLE_MAP_PX, the legend as long; the rows are the same words in all three, so only the first
        # map names them; the titles in lines that fit, as many in each, so the three maps' rows align
        cell = ca.row_height(len(labels), most=36, least=8, total=SHUFFLE_MAP_PX)
        charts = (
            (_("the original's weights, rearranged"), M1, False),
            (_("the shuffled sentence's weights"), M2, False),
            (_("difference: shuffled − rearranged"), diff, True),
        )
        heads = level_lines([_lines(name) for name, _m, _s in charts])
        depth = len(heads[0])
        columns = tuple(
            (
                article_chart(
                    ca.matrix_heatmap(
                        M, labels, labels, title=heads[k] if depth > 1 else heads[k][0],
                        row_title=_("query") if k == 0 else None, col_title=_("key"), value_title=_("weight"),
                        cell=cell, signed=signed, limit=limit if signed else None, legend_length=SHUFFLE_MAP_PX,
                        row_axis=k == 0,
                    ),
                    lang,
                    f"ap_{key}_{k}",
                ),
            )
            for k, (name, M, signed) in enumerate(charts)
        )  # fmt: skip
        blocks += [Text(title, style="subheader", key=f"shuffle_{key}"), Columns(columns, key=f"shuffle_{key}_charts")]
    blocks.append(
        Text(
            _(
                "Without positions the two pictures are the same and the difference is blank: each word sees the "
                "same words, wherever they stand. The model adds a position vector to each token at the start; that "
                "is its only sense of order. Both differences share one colour scale; try other heads, some change "
                "much more."
            ),
            key="shuffle_lesson",
        )
    )
    return LessonSection(heading, blocks=tuple(blocks), key="shuffle")


def projections_lesson(ins: TransformerInspector, settings: ProjectionSettings, model: str = DEFAULT_MODEL) -> Lesson:
    """The whole page as one document: title, intro, the settings as facts, and both sections.

    A section whose input the library refuses holds the library's reason instead of its pictures.

    Args:
        ins: the model's inspector (all-MiniLM-L6-v2 on the page).
        settings: the page's widget values.
        model: the model's name, for the facts.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.
    """
    from retrieval_attention.export.specs import made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    sections = []
    for key, build in (("projections", projections_section), ("shuffle", shuffle_section)):
        try:
            sections.append(build(ins, settings))
        except RetrievalAttentionError as exc:
            sections.append(section_head(key, lang, str(exc)))
    facts = (
        (_("Model"), model),
        (_("Sentence"), settings.sentence),
        (_("Layer"), str(settings.layer)),
        (_("Head"), str(settings.head)),
        (_("Sentence to shuffle"), settings.shuffle_sentence),
        (_("Words, not pieces"), _("yes") if settings.words else _("no")),
    )
    return Lesson(
        title=projections_title(lang),
        facts=facts,
        sections=tuple(sections),
        lang=lang,
        footer=made_with(lang),
        intro=projections_intro(lang),
        **signs(lang),
    )
