"""The frame articles 001 and 003 assume: the page's document, built once for the app, a saved file and a notebook.

Three diagrams of article 001's example, 我爱吃苹果 → "I love eating apples" (drawn by
:mod:`retrieval_attention.charts.frame` as Vega-Lite charts): an RNN encoder–decoder and its
bottleneck (section ``rnn``); attention, where every decoder step reads every encoder state (section
``attention``, for the chosen step); where self, causal and cross attention sit in the Transformer,
with the feed-forward layer and the stacking in one sentence each (section ``transformer``). No
model runs here.

Example:
    >>> lesson = frame_lesson(FrameSettings(step=3))
    >>> [s.key for s in lesson.sections]
    ['rnn', 'attention', 'transformer']
    >>> [b.key for s in lesson.sections for b in s.blocks if b.kind == "chart"]
    ['rnn_diagram', 'attention_diagram', 'transformer_diagram']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from retrieval_attention.core.validate import check_whole
from retrieval_attention.export.blocks import Controls, LessonChart, LessonSection, Text
from retrieval_attention.export.document import Lesson

if TYPE_CHECKING:
    from retrieval_attention.charts.diagram import Diagram

__all__ = [
    "FrameSettings",
    "attention_section",
    "diagrams",
    "frame_intro",
    "frame_lesson",
    "frame_title",
    "rnn_section",
    "steps",
    "transformer_section",
]


@dataclass(frozen=True)
class FrameSettings:
    """The page's widget values."""

    step: int = 1  # the decoder step of the attention diagram, 1 = the first target word
    lang: str = "en"  # the language of every text


def _gettext(lang: str):
    from retrieval_attention.i18n import load_translations

    return load_translations(lang).gettext


def steps() -> tuple[str, ...]:
    """The words the decoder writes, one per step (the page's step control)."""
    from retrieval_attention.charts.frame import TARGET_TOKENS

    return TARGET_TOKENS


def diagrams(settings: FrameSettings = FrameSettings()) -> dict[str, Diagram]:
    """The three laid-out diagrams in the settings' language, by section key.

    Raises:
        ~retrieval_attention.errors.InvalidParameterError: a step outside the target words.
    """
    from retrieval_attention.charts.frame import FRAME_TEXT, attention_diagram, rnn_diagram, transformer_diagram
    from retrieval_attention.i18n import translated

    check_whole(settings.step, "step", 1, len(steps()))
    text = translated(FRAME_TEXT, settings.lang)
    return {
        "rnn": rnn_diagram(text),
        "attention": attention_diagram(int(settings.step), text),
        "transformer": transformer_diagram(text),
    }


def _chart(diagram: Diagram, title: str, key: str) -> LessonChart:
    from retrieval_attention.charts.diagram import diagram_chart
    from retrieval_attention.export.specs import inline_spec

    spec = inline_spec(diagram_chart(diagram, title), validate=False, container_width=False)
    # the section's heading says what the diagram is (the spec's description carries it for a screen
    # reader): no title above the chart in a saved file, as on the page
    return LessonChart(spec, key=key, height=int(round(diagram.height)) + 10, width="content")


def frame_title(lang: str = "en") -> str:
    """The page's title."""
    _ = _gettext(lang)
    return _("The frame: from RNN to Transformer")


def frame_intro(lang: str = "en") -> tuple[Text, ...]:
    """One line: what the page shows."""
    _ = _gettext(lang)
    text = _(
        "Articles 001 and 003 assume this picture. Three diagrams of article 001's example, "
        "我爱吃苹果 → “I love eating apples”: where attention came from, and where it sits in a Transformer."
    )
    return (Text(text, key="intro"),)


def rnn_section(settings: FrameSettings = FrameSettings()) -> LessonSection:
    """Section 1: an RNN squeezes the sentence into one vector, c."""
    _ = _gettext(settings.lang)
    heading = _("1 · An RNN squeezes the sentence into one vector")
    blocks = (
        _chart(diagrams(settings)["rnn"], heading, "rnn_diagram"),
        Text(
            _(
                "The encoder reads 我, 爱, 吃, 苹, 果 one at a time, each state h built from the one before. Its last "
                "state, c, is all the decoder gets: every English word is written from that one vector. The longer "
                "the sentence, the more c must hold. Article 001 calls this the bottleneck."
            ),
            key="rnn_text",
        ),
    )
    return LessonSection(heading, blocks=blocks, key="rnn")


def attention_section(settings: FrameSettings = FrameSettings()) -> LessonSection:
    """Section 2: at the chosen step, the decoder's state is the query and every encoder state a key and a value."""
    from retrieval_attention.charts.frame import subscript

    _, step = _gettext(settings.lang), int(settings.step)
    heading = _("2 · Attention: every decoder step reads every encoder state")
    blocks = (
        Controls(key="attention_controls"),
        _chart(diagrams(settings)["attention"], heading, "attention_diagram"),
        Text(
            _(
                "At step {i} the decoder's state s{prev} is the **query**. Every encoder state hⱼ is a **key**: it is "
                "scored against the query, and a softmax turns the scores into weights α{i_sub}ⱼ. The same hⱼ are the "
                "**values**: c{i_sub} = Σⱼ α{i_sub}ⱼ hⱼ. Each step gets its own c, so no single vector has to hold the "
                "whole sentence."
            ).format(i=step, i_sub=subscript("", step), prev=subscript("", step - 1)),
            key="attention_text",
        ),
    )
    return LessonSection(heading, blocks=blocks, key="attention")


def transformer_section(settings: FrameSettings = FrameSettings()) -> LessonSection:
    """Section 3: the three attentions of a Transformer, its feed-forward layer and its stacking."""
    _ = _gettext(settings.lang)
    heading = _("3 · The Transformer: three attentions in one model")
    items = [
        _(
            "**Self-attention** (encoder): queries, keys and values all come from the same sentence, so "
            "each of 我, 爱, 吃, 苹, 果 reads all five, itself included."
        ),
        _(
            "**Causal (masked) self-attention** (decoder): the words written so far read one another, but "
            "no position reads the ones after it; their scores are set to −∞ before the softmax."
        ),
        _(
            "**Cross-attention** (decoder): the queries come from the decoder, the keys and values from "
            "the encoder's output: section 2's attention, scored with a scaled dot product instead of "
            "Bahdanau's small network."
        ),
        _(
            "**Feed-forward**: after attention, every position goes through the same small two-layer "
            "network on its own; attention mixes positions, the feed-forward layer transforms each one."
        ),
        _(
            "**Stacking**: the block is repeated N times, each layer reading the previous layer's output "
            "(N = 6 in the original Transformer; all-MiniLM-L6-v2, the model on the next pages, is an "
            "encoder of 6 layers with no decoder)."
        ),
    ]
    blocks = (
        _chart(diagrams(settings)["transformer"], heading, "transformer_diagram"),
        Text("\n".join("- " + item for item in items), key="transformer_text"),
    )
    return LessonSection(heading, blocks=blocks, key="transformer")


def frame_lesson(settings: FrameSettings = FrameSettings()) -> Lesson:
    """The whole page as one document: title, intro, the chosen step as a fact, and the three sections.

    Args:
        settings: the page's widget values.

    Returns:
        The :class:`~retrieval_attention.export.document.Lesson` the page draws and saves.

    Raises:
        ~retrieval_attention.errors.InvalidParameterError: a step outside the target words.
    """
    from retrieval_attention.export.specs import made_with, signs

    _, lang = _gettext(settings.lang), settings.lang
    check_whole(settings.step, "step", 1, len(steps()))
    facts = ((_("Decoder step: the word being written"), steps()[int(settings.step) - 1]),)
    return Lesson(
        title=frame_title(lang),
        facts=facts,
        sections=(rnn_section(settings), attention_section(settings), transformer_section(settings)),
        lang=lang,
        footer=made_with(lang),
        intro=frame_intro(lang),
        **signs(lang),
    )
