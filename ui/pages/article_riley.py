"""Page: Riley in three parts (article 004, "Motivando la Autoatención").

The widgets here (in a box: the model, the sentence, layer, head, words and the word pair; part 1's
r); the content in :mod:`retrieval_attention.views.riley`: values only, keys only and queries against
keys, each on the model's own vectors of the sentence, parts 2 and 3 carried to the end with the
article's own formulas.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.articles import ARTICLE_RATIO
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.views import riley as view
from ui.components import articles as ui
from ui.components.document import draw_intro, draw_section, save_button
from ui.components.i18n import _, current_lang, setting_labels


def suggest(sentence: str) -> None:
    """Set the layer and head sliders to the suggested head of ``sentence`` (a button's callback)."""
    layer, head = view.SUGGESTED[sentence]
    st.session_state["ar_layer"], st.session_state["ar_head"] = layer, head


def sentence_ui(lang: str, n_layers: int, n_heads: int) -> tuple[str, int, int, bool]:
    """Sentence, layer, head and the word toggle: widget values only."""
    default = view.default_sentence(lang)
    sentence = ui.sentence_ui("ar_sentence", default, view.examples(lang))
    layer, head = ui.layer_head_ui("ar", n_layers, n_heads, *view.SUGGESTED[default])
    with st.container(horizontal=True, gap="medium", vertical_alignment="center"):
        words = ui.words_toggle("ar_words", value=True)
        if sentence in view.SUGGESTED:
            s_layer, s_head = view.SUGGESTED[sentence]
            st.button(
                _("Suggested for this sentence: layer {layer}, head {head}").format(layer=s_layer, head=s_head),
                key="ar_suggest",
                on_click=suggest,
                args=(sentence,),
                icon=":material/lightbulb:",
            )
    return sentence, layer, head, words


def pair_ui(labels: tuple[str, ...]) -> tuple[int, int]:
    """The word pair (a, b): a takes in b in part 1; parts 2 and 3 show both directions."""
    a0, b0 = view.default_pair(labels)
    key = f"{abs(hash(labels)) % 10**12}"  # a new sentence starts from the default pair again
    left, right = st.columns(2, gap="large")
    options = list(range(len(labels)))
    a = left.selectbox(
        _("Word a (it attends)"), options, index=a0, key=f"ar_a_{key}", format_func=lambda i: f"{i}: {labels[i]}"
    )
    b = right.selectbox(
        _("Word b (it is attended to)"), options, index=b0, key=f"ar_b_{key}", format_func=lambda i: f"{i}: {labels[i]}"
    )
    return int(a), int(b)


def main() -> None:
    lang = current_lang()
    draw_intro(view.riley_title(lang), view.riley_intro(lang))
    box = st.expander(view.sentence_heading(lang), icon=":material/tune:")
    with box:
        top = st.container()
        ins = ui.get_inspector()
        sentence, layer, head, words = sentence_ui(lang, ins.n_layers, ins.n_heads)
        middle = st.container()
    settings = view.RileySettings(sentence, layer, head, words, lang=lang)

    def save() -> None:
        save_button(lambda: view.riley_lesson(ins, settings, ins.name), "riley", model=ins.name)

    if not sentence:
        draw_section(view.sentence_section(lang, empty=True), heading=False, before=(top,))
        save()
        return
    try:
        r = view.parts(ins, sentence, layer, head, words)
    except RetrievalAttentionError as exc:
        draw_section(view.sentence_section(lang), heading=False, before=(top,))
        ui.problem(exc, sentence)
        save()
        return
    if len(r.labels) < 2:
        draw_section(view.sentence_section(lang, few=True), heading=False, before=(top,))
        save()
        return
    with box:
        a, b = pair_ui(r.labels)
    draw_section(view.sentence_section(lang, ins.tokens(sentence), words), heading=False, before=(top, middle))
    part1, part2, part3 = st.tabs(list(view.part_headings(lang)))
    with part1:
        above = st.container()
        st.session_state.setdefault("ar_ratio", ARTICLE_RATIO)
        ratio = st.select_slider(
            _("r: how much of its own value a keeps"),
            view.RATIOS,
            key="ar_ratio",
            format_func=setting_labels(view.RATIOS),  # r in the session's signs (0,75 in Spanish)
        )
        settings = view.RileySettings(sentence, layer, head, words, a, b, float(ratio), lang)
        draw_section(view.part1_section(r, settings), heading=False, before=above)
    with part2:
        draw_section(view.part2_section(r, settings), heading=False)
    with part3:
        draw_section(view.part3_section(r, settings), heading=False)
    save()


main()
