"""The recommender page's own pieces: cached loaders, the ``*_ui()`` widget groups and small renderers.

Widgets and rendering only; every number comes from :mod:`retrieval_attention.recommender`.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

import retrieval_attention as ra
from retrieval_attention import i18n
from retrieval_attention.charts.recommender import REC_TEXT
from retrieval_attention.recommender import LeaveLastOut, Recommendations, TargetAttention, cross_topic_picks
from ui.components import export
from ui.components.controls import (
    ENCODER_NAMES,
    ENCODERS,
    TEMPERATURES,
    encoder_temperature_ui,
    follow_encoder,
    temperature_caption,
)
from ui.components.i18n import (
    N_,
    _,
    category_name,
    chart_labels,
    current_lang,
    fmt_number,
    fmt_percent,
    fmt_setting,
    setting_labels,
)
from ui.components.text import md

CUSTOM = "__custom__"
HALF_LIVES = [1, 2, 3, 4, 6, 8, 12, 16]
#: Each method's name (an English msgid: show it with ``_()``).
METHOD_NAMES = {
    "attention": N_("Target attention (DIN)"),
    "mean": N_("Mean of the history"),
    "popular": N_("Most popular"),
}


def chart_text() -> dict[str, str]:
    """The recommender charts' text (:data:`retrieval_attention.charts.recommender.REC_TEXT`), translated."""
    return chart_labels(REC_TEXT)


@dataclass(frozen=True)
class RecSettings:
    """What the page's control row returns."""

    temperature: float  # softmax temperature T > 0 (unused when normalize is False)
    normalize: bool  # softmax weights (True) or DIN's raw q·k weights (False)
    half_life: float | None  # recency half-life in videos; None = recency off


@st.cache_resource(show_spinner=False, max_entries=12)
def load_personas(_corpus: ra.Corpus, corpus_key: str, lang: str) -> tuple[ra.Persona, ...]:
    """The bundled watch histories with names and descriptions in ``lang``, once per server, corpus and
    language; () if they do not fit the corpus."""
    try:
        return ra.load_histories(corpus=_corpus, lang=lang)
    except ra.CorpusError:
        return ()


@st.cache_data(show_spinner=False, max_entries=64)
def evaluate(
    _store: ra.KeyValueStore,
    _personas: tuple[ra.Persona, ...],
    cache_key: tuple[str, str],
    temperature: float,
    normalize: bool,
    half_life: float | None,
) -> LeaveLastOut:
    """Leave-last-out over the personas, once per (model, corpus) ``cache_key`` and settings per server."""
    return ra.evaluate_leave_last_out(
        _store, _personas, k=10, temperature=temperature, normalize=normalize, half_life=half_life
    )


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


def history_ui(corpus: ra.Corpus, personas: Sequence[ra.Persona]) -> list[str]:
    """Persona picker, or a video multiselect for a custom history. Returns the history ids, oldest first."""
    if not personas:
        st.info(_("The bundled personas do not fit this corpus: build a history from its videos instead."))
    by_id = {p.id: p for p in personas}
    options = [p.id for p in personas] + [CUSTOM]
    left, right = st.columns([2, 3], gap="large", vertical_alignment="bottom")
    custom = "✏️ " + _("Build your own history…")
    pid = left.selectbox(
        _("Whose watch history? (the keys and values)"),
        options,
        key="rec_persona",
        format_func={i: custom if i == CUSTOM else by_id[i].name for i in options}.__getitem__,
        on_change=_persona_changed,
    )
    if pid != CUSTOM:
        p = by_id[pid]
        watched = _("{n} videos watched, oldest first.").format(n=len(p.history))
        right.markdown(f"{md(p.description)}  \n{watched}")
        history = list(p.history)
    else:
        history = st.multiselect(
            _("Watched videos, in the order watched (the last one is the most recent)"),
            corpus.ids,
            key="rec_custom",
            format_func=video_labels(corpus).__getitem__,
            placeholder=_("type to search the {n} titles…").format(n=fmt_number(len(corpus))),
        )
    st.session_state["rec_prev_history"] = list(history)
    return list(history)


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
    """Temperature (log scale), softmax on/off, recency on/off + half-life: one row, big enough to project.

    The temperature starts at ``model``'s own for target attention and follows an encoder switch
    unless the student moved it.
    """
    own, why = own_temperature(model)
    c1, c2, c3, c4 = st.columns([3, 2, 2, 3], gap="large", vertical_alignment="center")
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
    t = c1.select_slider(
        _("Temperature T (log scale)"),
        options=TEMPERATURES,
        value=follow_encoder("rec_temperature", model, own),
        key="rec_temperature",
        format_func=setting_labels(TEMPERATURES),  # built in this run: see setting_labels
        disabled=not normalize,
        help=_(
            "Small T: the target reads one watched video. Large T: every watched video counts the same "
            "(attention becomes the mean baseline). Unused without the softmax."
        ),
    )
    recency = c3.toggle(
        _("recency"),
        value=False,
        key="rec_recency",
        help=_("Recency decay: older videos count less, by a factor 0.5^(age / half-life)."),
    )
    half = c4.select_slider(
        _("half-life (videos)"),
        options=HALF_LIVES,
        value=4,
        key="rec_half_life",
        disabled=not recency,
        help=_("factor 0.5^(age / half-life); age 0 = the last video watched"),
    )
    if why is not None and normalize:
        temperature_caption(st.container(), why, float(t), own)  # below the row: in c1 it pushes the toggles down
    return RecSettings(temperature=float(t), normalize=bool(normalize), half_life=float(half) if recency else None)


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


def target_metrics(ta: TargetAttention, slot: str, cols: Sequence[DeltaGenerator]) -> None:
    """Three numbers for one target: its largest weight, Σ weights, and the score interest·q."""
    top = ta.top(1)[0]
    cols[0].metric(
        _("{slot}: top weight").format(slot=slot),
        fmt_number(top[2], 2),
        help=_("on: {title}").format(title=md(top[1])),
        border=True,
    )
    cols[1].metric(
        _("{slot}: Σ weights").format(slot=slot),
        fmt_number(float(ta.weights.sum()), 2),
        help=_("1 with the softmax; DIN's raw weights do not sum to 1"),
        border=True,
    )
    cols[2].metric(
        _("{slot}: score").format(slot=slot),
        fmt_number(ta.score, 3),
        help=_("interest = Σ wᵢ vᵢ; the target's score is interest · q, which ranks it"),
        border=True,
    )


def ranked_column(rec: Recommendations, corpus: ra.Corpus, other: Recommendations | None) -> None:
    """One method's top list as a table; attention rows carry their explanation."""
    st.subheader(_(METHOD_NAMES[rec.method]))
    rank, recommended = _("rank"), _("recommended")
    if rec.method == "attention":
        st.caption(_("score = (Σ wᵢ vᵢ) · q: each candidate builds its own interest from the history"))
        because = _("because you watched “{title}”, weight {weight}")
        frame = pd.DataFrame(
            {
                rank: range(1, len(rec.ids) + 1),
                recommended: list(rec.titles),
                _("why"): [
                    _("no watched video to attend to")
                    if e.because_title is None
                    else because.format(title=e.because_title, weight=fmt_number(e.weight, 2))
                    for e in rec.explanations
                ],
            }
        )
    elif rec.method == "mean":
        st.caption(_("score = mean(vᵢ) · q: one interest vector for every candidate (equal weights, T = ∞)"))
        frame = pd.DataFrame(
            {
                rank: range(1, len(rec.ids) + 1),
                recommended: list(rec.titles),
                _("score"): [fmt_number(x, 3) for x in rec.scores],
            }
        )
    else:
        st.caption(_("by view count: ignores the history except to skip what was seen (views are made up)"))
        frame = pd.DataFrame(
            {
                rank: range(1, len(rec.ids) + 1),
                recommended: list(rec.titles),
                _("views"): [fmt_number(corpus.by_id(i).views or 0) for i in rec.ids],
            }
        )
    st.table(frame, hide_index=True)
    if other is not None:
        same = len(set(rec.ids) & set(other.ids))
        st.caption(_("{new} of these {n} are not in the mean list.").format(new=len(rec.ids) - same, n=len(rec.ids)))


#: Odd picks explained under the lists, at most this many.
ODD_SHOWN = 3


def odd_picks_note(rec: Recommendations, corpus: ra.Corpus) -> None:
    """Why a pick from another topic: the watched video it reads most, and the words their titles share."""
    odd = cross_topic_picks(rec, corpus)
    if not odd:
        return
    heading = _("Why an odd pick?")
    st.markdown(f"**{heading}**")
    export.section(heading, key="odd_picks")
    shared_line = _(
        "“{pick}” (*{category}*) comes from “{because}” (*{because_category}*, weight {weight}): "
        "the two titles share “{words}”."
    )
    unshared_line = _(
        "“{pick}” (*{category}*) comes from “{because}” (*{because_category}*, weight {weight}): the titles share "
        "no word, yet the encoder puts them close (cosine {similarity})."
    )
    for o in odd[:ODD_SHOWN]:
        values = {
            "category": category_name(o.category),
            "because_category": category_name(o.because_category),
            "weight": fmt_number(o.weight, 2),
            "similarity": fmt_number(o.similarity, 2),
        }
        line = shared_line if o.shared else unshared_line
        words = "”, “".join(o.shared)
        st.markdown("- " + line.format(pick=md(o.title), because=md(o.because_title), words=md(words), **values))
        export.note(
            export.plain(line).format(pick=o.title, because=o.because_title, words=words, **values),
            key=f"odd_{o.video_id}",
        )
    why = _(
        "A text encoder reads the words, not what they mean in this title: titles that share a word sit close "
        "together even when the word names two things (Python the snake and Python the language, bass the fish "
        "and the bass guitar). The keys here are title embeddings and the values title + description "
        "embeddings; the category is in neither, so nothing tells attention that the topics differ. "
        "{n} of these {k} picks come from a watched video of another category."
    ).format(n=len(odd), k=len(rec.ids))
    st.caption(why)
    export.note(why, key="odd_picks_why")


@st.fragment
def evaluation_section(
    store: ra.KeyValueStore, cache_key: tuple[str, str], settings: RecSettings, personas: tuple[ra.Persona, ...]
) -> None:
    """Leave-last-out over the personas; a fragment, so its toggle recomputes only this section."""
    own = store.temperature_info.recommender
    export.header(_("Does attention help? Leave-last-out on the bundled personas"), key="evaluation")
    if not personas:
        st.info(_("The bundled personas do not match this corpus, so there is nothing to evaluate."))
        return
    corpus = store.corpus
    live = st.toggle(
        _("evaluate at the settings above (each new setting is computed once, ~2 s)"),
        value=False,
        key="rec_eval_live",
        help=_(
            "Off: the package defaults (softmax, the encoder's own T = {t}, no recency), computed once per server."
        ).format(t=fmt_setting(own)),
    )
    s = settings if live else RecSettings(own, True, None)
    with st.spinner(_("Ranking every video for every persona, three ways…")):
        ev = evaluate(store, personas, cache_key, s.temperature, s.normalize, s.half_life)
    n = len(ev.held_out)
    rows = [
        {
            _("method"): _(METHOD_NAMES[m]),
            _("hit rate@{k}").format(k=ev.k): fmt_percent(sc.hit_rate),
            _("hits"): f"{sum(r <= ev.k for r in sc.ranks.values())} / {n}",
            "MRR": fmt_number(sc.mrr, 3),
        }
        for m, sc in ev.scores.items()
    ]
    where = "softmax" if s.normalize else _("DIN raw weights")
    rec = _("no recency") if s.half_life is None else _("half-life {h}").format(h=fmt_setting(s.half_life))
    said = _("Settings: {where}, T = {t}, {recency}; {n} personas; k = {k}.").format(
        where=where, t=fmt_setting(s.temperature), recency=rec, n=n, k=ev.k
    )
    st.caption(said)
    export.note(said, key="evaluation_settings")
    export.table(pd.DataFrame(rows), key="evaluation_scores")
    honest = _(
        "**What this measures, honestly.** Each persona's last watched video is hidden; every other unseen video "
        "is ranked; a *hit* means the hidden one lands in the top 10, *MRR* is the mean of 1/rank. "
        "The {n} personas and the ~310 titles are **hand-written**, and the hidden videos were picked by the "
        "same author to fit each persona's topics, so a hit says *the title embeddings put the hidden title near "
        "the persona's other titles*: a check of the embedding and of the topic design, not of real users. "
        "There are no clicks; the view counts are made up, so *popular* is a sanity floor. With {n} personas "
        "one persona moves the hit rate by {share}: a difference of one or two hits is noise. "
        "The default temperature was chosen for readable bars, not tuned on these numbers."
    )
    st.markdown(honest.format(n=n, share=fmt_percent(1 / n)))
    export.note(export.plain(honest).format(n=n, share=fmt_percent(1 / n)), key="evaluation_honest")
    names = {p.id: p.name for p in personas}
    with st.expander(_("Rank of the hidden video, per persona")):
        frame = pd.DataFrame(
            {
                _("persona"): [names.get(pid, pid) for pid in ev.held_out],
                _("hidden (last watched)"): [corpus.by_id(v).title for v in ev.held_out.values()],
                **{_(METHOD_NAMES[m]): [sc.ranks[pid] for pid in ev.held_out] for m, sc in ev.scores.items()},
            }
        )
        st.dataframe(frame, hide_index=True, key="rec_eval_ranks")
        export.record_table(frame, _("Rank of the hidden video, per persona"), key="evaluation_ranks")
