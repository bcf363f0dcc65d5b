"""Page: inside a real transformer. Self, cross and causal attention, multi-head, and why q·k is asymmetric,
computed by our numpy code from all-MiniLM-L6-v2's weights and checked against the model.

The widgets here; the content in :mod:`retrieval_attention.views.model`. Nothing loads at import: the
model loads on first use of this page (once per server) and every sentence is computed on demand and cached.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views import model as view
from ui.components import transformer as parts
from ui.components.controls import inspector_model_ui, model_line
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import N_, _, current_lang
from ui.components.query import example_pills

EXAMPLES = {
    "Riley (English)": view.RILEY,
    "Riley (español)": view.SPANISH,
    "中文: 我爱吃苹果": "我爱吃苹果",
    "日本語: 日本の首都は東京です": "日本の首都は東京です",
    "it = animal?": "The animal didn't cross the street because it was too tired",
}
#: The pills' labels by code (the code is the widget's value); the sentences are data, not translated.
PILL_LABELS = {
    "Riley (English)": N_("Riley (English)"),
    "Riley (español)": N_("Riley (Spanish)"),
    "it = animal?": N_("it = animal?"),
}
#: The first sentence per language: the article's Spanish Riley under Español. Under 中文 the English
#: Riley stays first: all-MiniLM-L6-v2 reads most Chinese characters as [UNK] (the pills offer 我爱吃苹果).
FIRST_SENTENCE = {"en": view.RILEY, "zh": view.RILEY, "es": view.SPANISH}


def sentence_ui(lang: str) -> str:
    """The sentence box and its example pills; returns the sentence, stripped."""
    st.session_state.setdefault("tr_sentence", FIRST_SENTENCE[lang])
    st.text_input(_("Sentence"), key="tr_sentence", max_chars=400, placeholder=_("type a sentence in any language"))
    example_pills(EXAMPLES, box_key="tr_sentence", pills_key="tr_example", labels=PILL_LABELS)
    return str(st.session_state["tr_sentence"]).strip()


def view_ui(n_layers: int, n_heads: int) -> dict[str, int | bool]:
    """Layer, head and the view toggles (beside the picture): widget values only."""
    layer = st.slider(
        _("Layer"), 0, n_layers - 1, 0, key="tr_layer", help=_("0 = first layer, next to the word embeddings")
    )
    head = st.slider(_("Head"), 0, n_heads - 1, 0, key="tr_head")
    return {
        "layer": int(layer),
        "head": int(head),
        "causal": st.toggle(_("Causal mask"), key="tr_causal", help=_("What a decoder allows: no peeking ahead.")),
        "cross": st.toggle(
            _("Cross-attention"), key="tr_cross", help=_("Queries from this sentence, keys from another.")
        ),
        "grid": st.toggle(
            _("All {n} heads").format(n=n_heads), key="tr_grid", help=_("Every head of the layer as small multiples.")
        ),
        "concat": st.toggle(_("Concat + W_O"), key="tr_concat", help=_("How the heads are combined into one output.")),
        "relevance": st.toggle(_("K·Kᵀ vs Q·Kᵀ"), value=True, key="tr_relevance_on", help=_("Why q and k differ.")),
    }


def main() -> None:
    lang = current_lang()
    draw_intro(view.model_title(lang), view.model_intro(lang))
    sentence = sentence_ui(lang)
    if not sentence:
        st.info(_("Type a sentence to see its attention."))
        return
    model = inspector_model_ui()
    ins = parts.get_inspector(model)
    try:
        with st.spinner(_("Running the model on this sentence…")):
            ins.tokens(sentence)
    except RetrievalAttentionError as exc:
        st.info(_("The model cannot read this sentence: {detail}").format(detail=exc))
        return
    heading = st.container()
    picture, controls = st.columns([5, 4], gap="medium")
    with controls:
        v = view_ui(ins.n_layers, ins.n_heads)
        check = parts.check_ui(sentence, model)
        settings = view.ModelSettings(
            sentence, int(v["layer"]), int(v["head"]), bool(v["causal"]), check=check, model=model, lang=lang
        )
        draw_section(view.attention_section(ins, settings), before=(heading, picture))
    with picture:
        model_line(model, ins)
        st.page_link(
            "ui/pages/frame.py", label=_("See first: the frame the articles assume"), icon=":material/account_tree:"
        )
    if v["cross"]:
        top = st.container()
        st.session_state.setdefault("tr_second", view.SPANISH if sentence != view.SPANISH else view.RILEY)
        second = st.text_input(_("Sentence B (gives the keys and values)"), key="tr_second", max_chars=400)
        settings = replace(settings, cross=second.strip())
        draw_section(view.cross_section(ins, settings), before=top)
    if v["grid"]:
        top = st.container()
        link = parts.link_ui(ins, sentence)
        middle = st.container()
        settings = replace(settings, grid=True, link=link)
        draw_section(view.heads_section(ins, settings), before=(top, middle), on_select={parts.GRID_KEY: parts.picked})
        if link is not None:
            parts.jump_buttons(ins, sentence, link, settings.layer, settings.head)
    if v["concat"]:
        top = st.container()
        tokens = ins.tokens(sentence)
        token = st.columns([1, 3])[0].selectbox(
            _("Token"),
            list(range(len(tokens))),
            index=view.concat_token(tokens),
            key="tr_concat_token",
            format_func=lambda i: f"{i}: {tokens[i]}",
        )
        settings = replace(settings, concat=True, token=int(token))
        draw_section(view.concat_section(ins, settings), before=top)
    settings = replace(settings, relevance=bool(v["relevance"]))
    if settings.relevance:
        draw_section(view.relevance_section(ins, settings))
    save_button(lambda: view.transformer_lesson(ins, settings), "model", model=model, corpus="sentence")


main()
