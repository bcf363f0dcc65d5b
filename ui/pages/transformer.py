"""Page: inside a real transformer. Self, cross and causal attention, multi-head, and why q·k is asymmetric,
computed by our numpy code from all-MiniLM-L6-v2's weights and checked against the model.

Nothing loads at import: the model loads on first use of this page (once per server) and every
sentence is computed on demand and cached. This page's sections are in :mod:`ui.components.transformer`.
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import N_, _, current_lang

st.title(_("Inside a real transformer"))
st.page_link("ui/pages/frame.py", label=_("See first: the frame the articles assume"), icon=":material/account_tree:")
st.markdown(
    _(
        "The same soft retrieval, inside a real trained model: every token is a query, a key and a value at once. "
        "We read the model's weights and recompute its attention with our own numpy code."
    )
)

from retrieval_attention.errors import RetrievalAttentionError  # noqa: E402  (the imports follow the title, on purpose)
from ui.components import export  # noqa: E402
from ui.components import heads as head_parts  # noqa: E402
from ui.components import transformer as parts  # noqa: E402
from ui.components.controls import inspector_model_ui  # noqa: E402
from ui.components.query import example_pills  # noqa: E402

RILEY = "Evan's dog Riley is so hyperactive, she never stops moving"
SPANISH = "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse"
EXAMPLES = {
    "Riley (English)": RILEY,
    "Riley (español)": SPANISH,
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
FIRST_SENTENCE = {"en": RILEY, "zh": RILEY, "es": SPANISH}


def sentence_ui() -> str:
    """The sentence box and its example pills; returns the sentence, stripped."""
    st.session_state.setdefault("tr_sentence", FIRST_SENTENCE[current_lang()])
    st.text_input(_("Sentence"), key="tr_sentence", max_chars=400, placeholder=_("type a sentence in any language"))
    example_pills(EXAMPLES, box_key="tr_sentence", pills_key="tr_example", labels=PILL_LABELS)
    return str(st.session_state["tr_sentence"]).strip()


def view_ui(n_layers: int, n_heads: int) -> dict[str, int | bool]:
    """Layer, head and the view toggles: widget values only."""
    a, b = st.columns(2, gap="large")
    layer = a.slider(
        _("Layer"), 0, n_layers - 1, 0, key="tr_layer", help=_("0 = first layer, next to the word embeddings")
    )
    head = b.slider(_("Head"), 0, n_heads - 1, 0, key="tr_head")
    row = st.container(horizontal=True, gap="medium")  # wraps on narrow screens
    return {
        "layer": int(layer),
        "head": int(head),
        "causal": row.toggle(_("Causal mask"), key="tr_causal", help=_("What a decoder allows: no peeking ahead.")),
        "cross": row.toggle(
            _("Cross-attention"), key="tr_cross", help=_("Queries from this sentence, keys from another.")
        ),
        "grid": row.toggle(
            _("All {n} heads").format(n=n_heads), key="tr_grid", help=_("Every head of the layer as small multiples.")
        ),
        "concat": row.toggle(_("Concat + W_O"), key="tr_concat", help=_("How the heads are combined into one output.")),
        "relevance": row.toggle(_("K·Kᵀ vs Q·Kᵀ"), value=True, key="tr_relevance_on", help=_("Why q and k differ.")),
    }


def main() -> None:
    view = export.begin_page("model")
    save = st.sidebar.container()  # "Save this view (HTML)", drawn once the page has drawn everything
    sentence = sentence_ui()
    if not sentence:
        st.info(_("Type a sentence to see its attention."))
        return
    model = inspector_model_ui()
    ins = parts.get_inspector(model)
    try:
        with st.spinner(_("Running the model on this sentence…")):
            tokens = ins.tokens(sentence)
    except RetrievalAttentionError as exc:
        st.info(_("The model cannot read this sentence: {detail}").format(detail=exc))
        return
    parts.tokens_line(tokens)
    export.section(export.plain(_("**Tokens the model sees ({n}):**")).format(n=len(tokens)).rstrip(":："))
    export.note(" · ".join(tokens))
    check = parts.check_ui(sentence, ins.n_layers, ins.n_heads, model)
    if check is not None:
        export.note(f"{_('Check against the model (transformers)')}: max |Δ| = {check.max_diff:.1e}")
    v = view_ui(ins.n_layers, ins.n_heads)
    layer, head = int(v["layer"]), int(v["head"])
    att = ins.layer_attention(sentence, layer, causal=bool(v["causal"]))
    kind = (
        _("Causal attention · layer {layer}, head {head}")
        if v["causal"]
        else _("Self-attention · layer {layer}, head {head}")
    )
    export.section(kind.format(layer=layer, head=head))
    parts.main_heatmap(att, head)
    if v["cross"]:
        export.header(_("Cross-attention: one sentence reads another"))
        st.session_state.setdefault("tr_second", SPANISH if sentence != SPANISH else RILEY)
        second = st.text_input(_("Sentence B (gives the keys and values)"), key="tr_second", max_chars=400).strip()
        if second:
            export.note(f"{_('Sentence B (gives the keys and values)')}: {second}")
            parts.cross_section(ins.cross_attention(sentence, second, layer), head)
        else:
            st.info(_("Type a second sentence."))
    if v["grid"]:
        export.header(_("Multi-head: all {n} heads of layer {layer}").format(n=ins.n_heads, layer=layer))
        head_parts.heads_section(ins, sentence, att, head)
    if v["concat"]:
        export.header(_("Concatenate the heads, then project"))
        parts.concat_section(att, check)
    if v["relevance"]:
        export.header(_("Why q·k must be asymmetric: K·Kᵀ vs Q·Kᵀ"))
        parts.relevance_section(ins, sentence, layer, head)
    on, off = _("on"), _("off")
    settings = [(_("Sentence"), sentence), (_("Layer"), str(layer)), (_("Head"), str(head))]
    settings.append((_("Causal mask"), on if v["causal"] else off))
    title = _("Inside a real transformer")
    export.download_button(
        view, title=title, model=model, corpus="", file_corpus="sentence", facts=settings, where=save
    )


main()
