"""The query box and its one-click example pills: one default query for every page."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from ui.components.i18n import N_, _, current_lang

#: The first query of every page and the main page's one-click examples. They are embedded with
#: the corpus and cached on disk, so a restarted server shows them before the model has loaded.
DEFAULT_QUERY = "funny cat videos"
EXAMPLES = {
    "exact title": "Learn Python in One Hour",
    "paraphrase": "hilarious kitten videos",
    "ambiguous": "python",
    "中文": "股市新闻",
    "español": "recetas fáciles de cocina",
    "nonsense": "zxqv blorptastic",
}
#: The same examples in Chinese and Spanish (same pill codes): the first query, and what each pill
#: types. The exact title stays a title of the (English) corpus: a dict only finds what is there.
DEFAULT_QUERIES = {"en": DEFAULT_QUERY, "zh": "搞笑的猫咪视频", "es": "vídeos graciosos de gatos"}
EXAMPLES_BY_LANG = {
    "en": EXAMPLES,
    "zh": {**EXAMPLES, "paraphrase": "超级好笑的小猫视频", "ambiguous": "苹果", "nonsense": "咕噜叽哩呱啦"},
    "es": {**EXAMPLES, "paraphrase": "vídeos divertidísimos de gatitos", "ambiguous": "pitón"},
}
#: The pills' labels, by code (the code is the widget's value and stays the same in every language).
PILL_LABELS = {
    "exact title": N_("exact title"),
    "paraphrase": N_("paraphrase"),
    "ambiguous": N_("ambiguous"),
    "中文": "中文",
    "español": "español",
    "nonsense": N_("nonsense"),
}
#: Every example of every language: the store embeds and caches them all with the corpus.
ALL_EXAMPLE_QUERIES = tuple(
    dict.fromkeys([*DEFAULT_QUERIES.values(), *(q for e in EXAMPLES_BY_LANG.values() for q in e.values())])
)
#: The main page's query box; another page's box starts from what was typed there.
MAIN_KEY = "query"


def example_pills(
    examples: Mapping[str, str | tuple[str, ...]],
    box_key: str | tuple[str, ...],
    pills_key: str,
    labels: Mapping[str, str] | None = None,
) -> None:
    """One-click examples under one or more text boxes: picking one fills every box.

    Args:
        examples: pill code (the widget's value) -> the text it puts in the box, or one text per box.
        box_key: the text box's widget key, or the boxes' keys in the order of the texts.
        pills_key: the pills' own widget key.
        labels: code -> English msgid of its label, shown translated; a code not in it is its own label
            (a label already translated, or data such as a Chinese sentence). None: the main page's
            :data:`PILL_LABELS`.
    """
    names = PILL_LABELS if labels is None else labels
    boxes = (box_key,) if isinstance(box_key, str) else tuple(box_key)

    def fill() -> None:
        choice = st.session_state.get(pills_key)
        if choice:
            texts = examples[choice]
            for box, text in zip(boxes, (texts,) if isinstance(texts, str) else texts):
                st.session_state[box] = text

    st.pills(
        _("Try an example"),
        list(examples),
        key=pills_key,
        on_change=fill,
        format_func={code: _(names[code]) if code in names else code for code in examples}.__getitem__,
        help=_("One click fills the box."),
    )


def query_ui(key: str = MAIN_KEY, pills_key: str | None = None) -> str:
    """The query box, starting from the main page's query (else :data:`DEFAULT_QUERY`).

    Args:
        key: the box's widget key, one per page so each page keeps its own query.
        pills_key: the key of the example pills under the box; None draws no pills.

    Returns:
        The query as typed (not stripped: the library says what is wrong with an empty one).
    """
    lang = current_lang()
    st.session_state.setdefault(key, st.session_state.get(MAIN_KEY) or DEFAULT_QUERIES[lang])
    query = st.text_input(
        _("Query"), key=key, placeholder=_("type a search, e.g. {example}").format(example=DEFAULT_QUERIES[lang])
    )
    if pills_key is not None:
        example_pills(EXAMPLES_BY_LANG[lang], box_key=key, pills_key=pills_key)
    return query
