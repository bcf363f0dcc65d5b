"""What the "The articles, step by step" pages share: the article each view follows, the model, the
sentence box (with :func:`ui.components.query.example_pills`, the app's one home for examples),
token chips, the word toggle and a clear message for bad input. Widgets only; the content is built
in ``retrieval_attention.views`` and drawn by ``ui.components.document``.

Every string a student reads goes through ``_()``; the articles' own titles are data, shown in
their own language (Chinese or Spanish) whatever the session's language is.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.core.validate import MAX_SENTENCE_CHARS
from retrieval_attention.errors import (
    InvalidParameterError,
    ModelNotFoundError,
    QueryError,
    RetrievalAttentionError,
    UnknownTokenError,
)
from retrieval_attention.inspector import TransformerInspector, load_inspector
from retrieval_attention.inspector.walkthrough import is_cjk
from retrieval_attention.views import articles as article_view
from retrieval_attention.views.articles import ARTICLES
from ui.components.controls import inspector_model_ui, model_line
from ui.components.document import draw_blocks
from ui.components.i18n import _, current_lang, fmt_number
from ui.components.navigation import ARTICLE_PAGES as PAGES
from ui.components.query import example_pills
from ui.components.text import md

__all__ = [
    "ARTICLES",
    "fmt_small",
    "follows",
    "get_inspector",
    "layer_head_ui",
    "problem",
    "sentence_ui",
    "token_chips",
    "words_toggle",
]


def follows(numbers: tuple[str, ...], notice: str) -> None:
    """The article(s) a view follows, by number and original title, and the one thing to notice.

    Args:
        numbers: article numbers, e.g. ("001",).
        notice: one translated line: what the student should notice.
    """
    draw_blocks(article_view.follows(numbers, notice, current_lang()))


def get_inspector() -> TransformerInspector:
    """The inspector of the model picked in the sidebar (loaded once per process), or a message and the end of the run."""
    name = inspector_model_ui()
    try:
        with st.spinner(_("Loading {model} (first time only)…").format(model=name)):
            ins = load_inspector(name)
        model_line(name, ins)
        return ins
    except RetrievalAttentionError as exc:
        st.error(_("Could not load the model: {reason}").format(reason=md(str(exc))))
        st.stop()
        raise  # unreachable: st.stop() ends the run


def problem(exc: RetrievalAttentionError, text: str | None = None) -> None:
    """A clear message for input the library refused, never a traceback.

    The headline is in the session's language; the library's own reason follows in a caption.

    Args:
        exc: what the library raised.
        text: the sentence the student typed, if the error is about it.
    """
    if isinstance(exc, UnknownTokenError):
        st.warning(
            _(
                "The model cannot read part of this text: it turns it into [UNK] (unknown), and every [UNK] "
                "is the same token, so its attention says nothing. Replace those characters."
            ),
            icon=":material/help:",
        )
        if text is not None and any(is_cjk(ch) for ch in text):
            st.page_link(
                PAGES["alignment"],
                label=_("Chinese text: the alignment page reads it with a multilingual encoder"),
                icon=":material/translate:",
            )
    elif isinstance(exc, QueryError) and text is not None and len(text) > MAX_SENTENCE_CHARS:
        st.warning(
            _("This sentence has {n} characters; these pages read one sentence of at most {limit}.").format(
                n=fmt_number(len(text)), limit=fmt_number(MAX_SENTENCE_CHARS)
            ),
            icon=":material/content_cut:",
        )
    elif isinstance(exc, QueryError):
        st.warning(_("This text cannot be used here."), icon=":material/edit:")
    elif isinstance(exc, ModelNotFoundError):
        st.warning(_("The model this view needs is not installed."), icon=":material/download:")
    elif isinstance(exc, InvalidParameterError):
        st.warning(_("A setting is out of range."), icon=":material/tune:")
    else:
        st.warning(_("This cannot be computed."), icon=":material/error:")
    st.caption(_("The library says: {reason}").format(reason=md(str(exc))))


def sentence_ui(key: str, default: str, examples: dict[str, str], label: str | None = None) -> str:
    """A sentence box (its own key per page) with one-click examples.

    Args:
        key: the box's widget key.
        default: its first value.
        examples: pill label -> sentence.
        label: the box's label; default "Sentence".

    Returns:
        The sentence, stripped ("" when the box is empty).
    """
    st.session_state.setdefault(key, default)
    st.text_input(
        label or _("Sentence"),
        key=key,
        max_chars=MAX_SENTENCE_CHARS,
        placeholder=_("type a sentence"),
    )
    example_pills(examples, key, f"{key}_examples", labels={})
    return str(st.session_state[key]).strip()


def layer_head_ui(prefix: str, n_layers: int, n_heads: int, layer: int = 0, head: int = 0) -> tuple[int, int]:
    """Layer and head sliders (0-based), side by side.

    Args:
        prefix: the page's widget-key prefix.
        n_layers: layers of the model.
        n_heads: heads per layer.
        layer: the first value of the layer slider.
        head: the first value of the head slider.

    Returns:
        (layer, head).
    """
    for key, value, upto, name in (
        (f"{prefix}_layer", layer, n_layers, _("Layer")),
        (f"{prefix}_head", head, n_heads, _("Head")),
    ):
        kept = st.session_state.setdefault(key, value)
        if (
            not isinstance(kept, int) or not 0 <= kept < upto
        ):  # a link or an old session asked for one that is not there
            st.warning(
                _("{name} {value} does not exist: this model has 0 to {last}. Showing {name} {shown}.").format(
                    name=name, value=kept, last=upto - 1, shown=value
                ),
                icon=":material/tune:",
            )
            st.session_state[key] = value
    a, b = st.columns(2, gap="large")
    chosen_layer = a.slider(
        _("Layer"), 0, n_layers - 1, key=f"{prefix}_layer", help=_("0 = the first layer, next to the word embeddings")
    )
    chosen_head = b.slider(_("Head"), 0, n_heads - 1, key=f"{prefix}_head")
    return int(chosen_layer), int(chosen_head)


def token_chips(tokens: tuple[str, ...], key: str, default: int, label: str | None = None) -> int:
    """The tokens as chips; click one to pick it.

    The widget's key includes the tokens, so a new sentence starts from ``default`` again.

    Args:
        tokens: the tokens to pick from.
        key: the chips' key prefix.
        default: the position picked until the student clicks another.
        label: the chips' label; default "Click a token".

    Returns:
        The picked position, 0..len(tokens)-1.
    """
    chip_key = f"{key}_{abs(hash(tokens)) % 10**12}"
    default = min(max(default, 0), len(tokens) - 1)
    st.session_state.setdefault(chip_key, default)
    picked = st.pills(
        label or _("Click a token"),
        list(range(len(tokens))),
        key=chip_key,
        format_func=lambda i: tokens[i],
        selection_mode="single",
        required=True,
    )
    return default if picked is None else int(picked)


def words_toggle(key: str, value: bool = False) -> bool:
    """The toggle that merges WordPiece pieces back into words, with the rule in its help text."""
    return st.toggle(
        _("Words, not pieces"),
        value=value,
        key=key,
        help=_(
            "A word the tokenizer splits (hiperactivo → hip ##era ##ct ##ivo) counts once: its weight as a key "
            "is the sum over its pieces, its row as a query the mean of its pieces' rows, so rows still sum to 1."
        ),
    )


def fmt_small(value: float, decimals: int = 3) -> str:
    """A number in the session's format, in scientific notation when it would round to 0 (a tiny weight).

    Args:
        value: the number.
        decimals: decimals of the fixed format.

    Returns:
        ``0.013``, ``1.5e-07`` (``1,5e-07`` in Spanish).
    """
    return article_view.fmt_small(value, current_lang(), decimals)
