"""The recommender page's own pieces: cached loaders and the ``*_ui()`` widget groups.

Widgets only; the page's content is built by :mod:`retrieval_attention.views.recommender`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import retrieval_attention as ra
from retrieval_attention import i18n
from retrieval_attention.views.recommender import personas_for
from ui.components.controls import (
    ENCODER_NAMES,
    ENCODERS,
    TEMPERATURES,
    encoder_temperature_ui,
    follow_encoder,
    temperature_caption,
)
from ui.components.i18n import _, current_lang, fmt_number, fmt_setting, setting_labels

CUSTOM = "__custom__"
HALF_LIVES = [1, 2, 3, 4, 6, 8, 12, 16]


@dataclass(frozen=True)
class RecSettings:
    """What the page's control row returns."""

    temperature: float  # softmax temperature T > 0 (unused when normalize is False)
    normalize: bool  # softmax weights (True) or DIN's raw q·k weights (False)
    half_life: float | None  # recency half-life in videos; None = recency off
    compare: bool = True  # two targets side by side (False: target A only)
    own: float = ra.RECOMMENDER_TEMPERATURE  # the encoder's own T for target attention
    why: str | None = None  # why that T (None: the model could not be loaded)


@st.cache_resource(show_spinner=False, max_entries=12)
def load_personas(_corpus: ra.Corpus, corpus_key: str, lang: str) -> tuple[ra.Persona, ...]:
    """The bundled watch histories with names and descriptions in ``lang``, once per server, corpus and
    language; () if they do not fit the corpus."""
    return personas_for(_corpus, lang)


@dataclass(frozen=True)
class _VideoLabels:
    corpus: weakref.ref[ra.Corpus]  # the corpus they label (a cache keyed by id() must check it is the same)
    by_id: Mapping[str, str]  # video id -> "title  ·  category", read-only


@st.cache_resource(show_spinner=False, max_entries=16)
def _video_labels(_corpus: ra.Corpus, corpus_id: int, lang: str) -> _VideoLabels:
    labels = {v.id: f"{v.title}  ·  {i18n.category_name(v.category, lang)}" for v in _corpus}
    return _VideoLabels(weakref.ref(_corpus), labels)


def video_labels(corpus: ra.Corpus) -> Mapping[str, str]:
    """Every video's picker label, ``title  ·  category`` in the session's language, built once per corpus and language.

    The pickers list every unseen video (~300) on every rerun; the labels are made once per server.

    Args:
        corpus: the page's corpus (the store's, one object per server and model).

    Returns:
        Video id -> label; shared, so read-only.
    """
    lang = current_lang()
    labels = _video_labels(corpus, id(corpus), lang)
    if labels.corpus() is not corpus:  # that corpus is gone and this one has its address: label this one
        _video_labels.clear()
        labels = _video_labels(corpus, id(corpus), lang)
    return labels.by_id


def encoder_ui() -> str:
    """The encoder, in the sidebar (the page's lesson controls stay in the main area)."""
    st.sidebar.header(_("Encoder"))
    label = st.sidebar.radio(
        _("Embeds titles into keys and values"),
        list(ENCODERS),
        index=0 if current_lang() == "en" else 1,
        key="rec_encoder",
        format_func={code: _(name) for code, name in ENCODER_NAMES.items()}.__getitem__,
        help=_("The multilingual one links Lucía's Chinese and Spanish titles to English ones."),
    )
    return ENCODERS[label]


def _persona_changed() -> None:
    """Switching to 'build your own' starts from the history that was on screen."""
    prev = st.session_state.get("rec_prev_history", [])
    if st.session_state.get("rec_persona") == CUSTOM and not st.session_state.get("rec_custom"):
        st.session_state["rec_custom"] = list(prev)


def history_ui(
    corpus: ra.Corpus, personas: Sequence[ra.Persona], where: DeltaGenerator, below: DeltaGenerator
) -> tuple[list[str], ra.Persona | None]:
    """Persona picker (in ``where``), or a video multiselect (in ``below``) for a history built by hand.

    Returns:
        The history's ids, oldest first, and its persona (None for one built by hand).
    """
    if not personas:
        below.info(_("The bundled personas do not fit this corpus: build a history from its videos instead."))
    by_id = {p.id: p for p in personas}
    options = [p.id for p in personas] + [CUSTOM]
    custom = "✏️ " + _("Build your own history…")
    pid = where.selectbox(
        _("Watch history (K, V)"),
        options,
        key="rec_persona",
        format_func={i: custom if i == CUSTOM else by_id[i].name for i in options}.__getitem__,
        on_change=_persona_changed,
        help=_("Whose watch history? (the keys and values)"),
    )
    if pid != CUSTOM:
        history, persona = list(by_id[pid].history), by_id[pid]
    else:
        history = below.multiselect(
            _("Watched videos, in the order watched (the last one is the most recent)"),
            corpus.ids,
            key="rec_custom",
            format_func=video_labels(corpus).__getitem__,
            placeholder=_("type to search the {n} titles…").format(n=fmt_number(len(corpus))),
        )
        persona = None
    st.session_state["rec_prev_history"] = list(history)
    return list(history), persona


def own_temperature(model: str) -> tuple[float, str | None]:
    """The encoder's own T for target attention, and why (None when the model cannot be loaded)."""
    info = encoder_temperature_ui(model)
    if info is None:
        return ra.RECOMMENDER_TEMPERATURE, None
    why = _(
        "T = {t} is twice this encoder's own retrieval T: two titles are compared here, and their cosines sit "
        "closer together than a query's."
    ).format(t=fmt_setting(info.recommender))
    return info.recommender, why + " " + info.reason(current_lang())


def controls_ui(model: str) -> RecSettings:
    """Temperature (log scale), softmax and recency toggles, half-life, two targets or one: one row.

    The temperature starts at ``model``'s own for target attention and follows an encoder switch
    unless the student moved it; :func:`temperature_note` says why, below the chart.
    """
    own, why = own_temperature(model)
    c1, c2, c3, c4 = st.columns([4, 3, 4, 3], vertical_alignment="center")
    normalize = c2.toggle(
        "softmax",
        value=True,
        key="rec_softmax",
        help=_(
            "On: weights = softmax(q·k / T), they sum to 1. Off: the DIN paper's choice, raw weights q·k with "
            "no softmax: they do not sum to 1, can be negative, and grow with the history's length, so the size of "
            "the interest vector says how strongly the history supports the target (five cat videos count more "
            "than one)."
        ),
    )
    recency = c2.toggle(
        _("recency"),
        value=False,
        key="rec_recency",
        help=_("Recency decay: older videos count less, by a factor 0.5^(age / half-life)."),
    )
    t = c1.select_slider(
        _("Temperature T"),
        options=TEMPERATURES,
        value=follow_encoder("rec_temperature", model, own),
        key="rec_temperature",
        format_func=setting_labels(TEMPERATURES),  # built in this run: see setting_labels
        disabled=not normalize,
        help=_(
            "On a log scale. Small T: the target reads one watched video. Large T: every watched video counts "
            "the same (attention becomes the mean baseline). Unused without the softmax."
        ),
    )
    half = c3.select_slider(
        _("half-life (videos)"),
        options=HALF_LIVES,
        value=4,
        key="rec_half_life",
        disabled=not recency,
        help=_("factor 0.5^(age / half-life); age 0 = the last video watched"),
    )
    compare = c4.toggle(_("A and B"), value=True, key="rec_compare", help=_("compare two targets side by side"))
    return RecSettings(
        temperature=float(t),
        normalize=bool(normalize),
        half_life=float(half) if recency else None,
        compare=bool(compare),
        own=own,
        why=why,
    )


def temperature_note(s: RecSettings) -> None:
    """Which T is the encoder's own and why, and whether the student moved it (nothing without the softmax)."""
    if s.why is not None and s.normalize:
        temperature_caption(st.container(), s.why, s.temperature, s.own)


def ensure_targets(candidates: Sequence[str], defaults: Callable[[], tuple[str, str]], history: Sequence[str]) -> None:
    """Reset the two target pickers to ``defaults()`` when the history changed or a pick became invalid.

    ``defaults`` ranks every video, so it is called only then, never on a slider move.
    """
    sig = tuple(history)
    ss = st.session_state
    fresh = ss.get("rec_history_sig") != sig
    allowed = set(candidates)
    keys = ("rec_target_a", "rec_target_b")
    if fresh or any(ss.get(k) not in allowed for k in keys):
        for key, default in zip(keys, defaults()):
            if fresh or ss.get(key) not in allowed:
                ss[key] = default
    ss["rec_history_sig"] = sig


def target_ui(corpus: ra.Corpus, candidates: Sequence[str], key: str, label: str) -> str:
    return st.selectbox(label, list(candidates), key=key, format_func=video_labels(corpus).__getitem__)
