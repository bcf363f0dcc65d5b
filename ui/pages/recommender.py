"""Page: target attention over a watch history (Deep Interest Network, Alibaba 2018).

The query is the candidate video, the keys and values are the user's history: the same user
reads differently for different targets. Widgets and rendering only; the maths is in
:mod:`retrieval_attention.recommender`, the charts in :mod:`retrieval_attention.charts.recommender`,
this page's widget groups in :mod:`ui.components.recommender`.
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import _, category_name, current_lang, fmt_number, fmt_percent, fmt_setting

st.title(_("Target attention: the query is the video"))
st.markdown(
    _(
        "**Q** = the target video (a candidate we might recommend) · **K** and **V** = the user's watch history "
        "· as in Alibaba's *Deep Interest Network* (DIN, 2018): the user's interest is not one vector, it depends "
        "on what is being recommended."
    )
)

import pandas as pd  # noqa: E402  (the imports follow the title, on purpose)

import retrieval_attention as ra  # noqa: E402
from retrieval_attention.charts import recommender as rc  # noqa: E402
from retrieval_attention.recommender import METHODS, Recommendations, TargetAttention  # noqa: E402
from ui.components import export  # noqa: E402
from ui.components.charts import show_chart  # noqa: E402
from ui.components.downloads import download_csv  # noqa: E402
from ui.components.recommender import (  # noqa: E402
    CUSTOM,
    METHOD_NAMES,
    RecSettings,
    chart_text,
    controls_ui,
    encoder_ui,
    ensure_targets,
    evaluation_section,
    history_ui,
    load_personas,
    odd_picks_note,
    ranked_column,
    target_metrics,
    target_ui,
)
from ui.components.store import get_store, shared_corpus_path  # noqa: E402
from ui.components.text import md  # noqa: E402

TOP = 10  # recommendations per method, rows of the heatmap, cut-off of the evaluation


def default_targets(store: ra.KeyValueStore, history: list[str], s: RecSettings) -> tuple[str, str]:
    """Target A: the top attention pick. Target B: the best pick from another category (the lesson)."""
    ranking = ra.recommend(
        store, history, k=len(store), temperature=s.temperature, normalize=s.normalize, half_life=s.half_life
    )
    corpus = store.corpus
    a = ranking.ids[0]
    cat = corpus.by_id(a).category
    b = next((i for i in ranking.ids if corpus.by_id(i).category != cat), ranking.ids[min(1, len(ranking.ids) - 1)])
    return a, b


def categories_of(corpus: ra.Corpus, ids: list[str]) -> list[str]:
    return [category_name(corpus.by_id(i).category) for i in ids]


def reading_line(ta: TargetAttention, frame: pd.DataFrame, slot: str, normalize: bool) -> None:
    """One sentence: what this target reads most in the history."""
    top = [(t, fmt_number(w, 2)) for _i, t, w in ta.top(2)]
    shown, raw = ", ".join(f"**{md(t)}** ({w})" for t, w in top), ", ".join(f"{t} ({w})" for t, w in top)
    if normalize:
        shares = rc.weight_by_category(frame)
        template = _("**{slot}** reads mostly {top}: **{share}** of its weight is on *{category}* videos.")
        values = {"slot": slot, "share": fmt_percent(shares.iloc[0])}
        st.markdown(template.format(**values, top=shown, category=md(shares.index[0])))
        export.note(export.plain(template).format(**values, top=raw, category=shares.index[0]), key=f"reads_{slot}")
    else:
        template = _("**{slot}**: largest raw weights {top}.")
        st.markdown(template.format(slot=slot, top=shown))
        export.note(export.plain(template).format(slot=slot, top=raw), key=f"reads_{slot}")


@st.cache_data(show_spinner=False, max_entries=256)
def ranked(
    _store: ra.KeyValueStore,
    cache_key: tuple[str, str],
    history: tuple[str, ...],
    method: str,
    temperature: float,
    normalize: bool,
    half_life: float | None,
) -> Recommendations:
    """One method's top :data:`TOP`, once per (model, corpus) ``cache_key``, history and settings."""
    return ra.recommend(
        _store, list(history), k=TOP, method=method, temperature=temperature, normalize=normalize, half_life=half_life
    )


@st.fragment
def compare_section(store: ra.KeyValueStore, history: list[str], candidates: list[str], s: RecSettings) -> None:
    """The centrepiece: one history, two targets, two sets of weights, and their CSV.

    A fragment: the compare toggle and the target pickers redraw only this section."""
    export.header(_("Same history, different targets, different weights"), key="compare")
    corpus = store.corpus
    compare = st.toggle(_("compare two targets side by side"), value=True, key="rec_compare")
    slots = {"A": "rec_target_a", "B": "rec_target_b"} if compare else {"A": "rec_target_a"}
    cols = st.columns(len(slots), gap="large")
    tas: dict[str, TargetAttention] = {}
    for col, (slot, key) in zip(cols, slots.items()):
        with col:
            label = _("Target {slot}: the query q, a video we might recommend").format(slot=slot)
            tid = target_ui(corpus, candidates, key, label)
        tas[slot] = ra.target_attention(
            store, history, tid, temperature=s.temperature, normalize=s.normalize, half_life=s.half_life
        )
    cats = categories_of(corpus, history)
    frames = {slot: rc.history_weights_frame(ta, cats, slot) for slot, ta in tas.items()}
    recency = s.half_life is not None
    width = (285 if recency else 360) if compare else (560 if recency else 680)
    show_chart(
        rc.history_weights_chart,
        list(frames.values()),
        list(dict.fromkeys(cats)),
        domain=rc.weight_domain(list(frames.values()), s.normalize),
        recency=recency,
        normalize=s.normalize,
        panel_width=width,
        half_life=s.half_life,
        text=chart_text(),
        key="rec_bars",
        height=len(history) * rc.BAR_STEP + 150,
    )
    mcols = st.columns(3 * len(tas))
    for i, (slot, ta) in enumerate(tas.items()):
        target_metrics(ta, slot, mcols[3 * i : 3 * i + 3])
    for col, (slot, ta) in zip(st.columns(len(tas), gap="large"), tas.items()):
        with col:
            reading_line(ta, frames[slot], slot, s.normalize)
    if recency:
        st.caption(
            _(
                "Recency on: grey = 0.5^(age / {h}), age 0 = the last video watched; dashed outline = the "
                "weight before recency; filled bar = relevance × recency"
            ).format(h=fmt_setting(s.half_life))
            + (_(", renormalised to sum to 1.") if s.normalize else _(" (no renormalising without the softmax)."))
        )
    if not s.normalize:
        st.info(
            _(
                "Softmax off: these are DIN's raw weights q·k (× recency). They do not sum to 1 and can be "
                "negative; their total grows with how much of the history supports the target. The temperature "
                "is unused."
            )
        )
    shown = pd.concat([f.assign(target_id=tas[slot].target_id) for slot, f in frames.items()], ignore_index=True)
    with st.expander(_("The numbers behind the bars")):
        cols_shown = ["slot", "pos", "title", "score", "relevance", "decay", "weight"]
        st.dataframe(shown[cols_shown].round(4), hide_index=True, key="rec_weights_table")
    export.record_table(shown[cols_shown], _("The numbers behind the bars"), key="rec_weights", decimals=4)
    download_csv(shown, "target_attention_weights.csv", "rec_dl_weights", label=_("Download these weights (CSV)"))


def heatmap_section(rec: Recommendations, s: RecSettings) -> None:
    export.header(_("Cross-attention: every recommendation reads the history its own way"))
    X = rec.attention
    if X is None or not X.candidate_ids:
        st.info(_("No recommendations to draw."))
        return
    st.markdown(
        _(
            "Rows: the top {n} attention recommendations (queries). Columns: the watch history "
            "(keys), numbered as in the bars above. Each row is one target's weights; the outlined cell is the "
            "*because you watched…* of that row. Hover a cell for the full titles."
        ).format(n=len(X.candidate_ids))
    )
    frame = rc.cross_attention_frame(X)
    height = len(X.candidate_ids) * 34 + 260
    show_chart(
        rc.cross_attention_heatmap, frame, normalize=s.normalize, text=chart_text(), key="rec_heatmap", height=height
    )
    matrix = pd.DataFrame(X.weights, index=list(X.candidate_titles), columns=list(X.history_titles))
    download_csv(
        matrix, "cross_attention.csv", "rec_dl_matrix", label=_("Download the cross-attention matrix (CSV)"), index=True
    )


def lists_section(recs: dict[str, Recommendations], corpus: ra.Corpus) -> None:
    export.header(_("Top {n}, three ways, same unseen candidates").format(n=TOP))
    cols = st.columns([4, 3, 3], gap="medium", border=True)
    for col, m in zip(cols, METHODS):
        with col:
            ranked_column(recs[m], corpus, recs["mean"] if m == "attention" else None)
    n = max(len(recs[m].titles) for m in METHODS)  # the three lists side by side, as the lesson's table
    lists = {_(METHOD_NAMES[m]): [*recs[m].titles, *[""] * (n - len(recs[m].titles))] for m in METHODS}
    export.record_table(pd.DataFrame({_("rank"): range(1, n + 1), **lists}))
    odd_picks_note(recs["attention"], corpus)


def main() -> None:
    view = export.begin_page("recommender")
    save = st.sidebar.container()  # "Save this view (HTML)", drawn once the page has drawn everything
    model = encoder_ui()
    store = get_store(model)  # the page uses the cached key and value embeddings only
    cache_key = (model, shared_corpus_path() or "bundled")
    personas = load_personas(store.corpus, cache_key[1], current_lang())
    history = history_ui(store.corpus, personas)
    s = controls_ui(model)
    if not history:
        st.info(_("This history is empty: pick at least one watched video above to see attention over it."))
        return
    seen = set(history)
    candidates = sorted((v for v in store.corpus if v.id not in seen), key=lambda v: (v.category, v.title.casefold()))
    if not candidates:
        st.warning(_("Nothing left to recommend: this history already contains every video in the corpus."))
        return
    try:
        recs = {
            m: ranked(store, cache_key, tuple(history), m, s.temperature, s.normalize, s.half_life) for m in METHODS
        }
        ensure_targets([v.id for v in candidates], lambda: default_targets(store, history, s), history)
    except ra.RetrievalAttentionError as exc:
        st.warning(_("Cannot rank videos for this history: {detail}").format(detail=md(str(exc))))
        return
    compare_section(store, history, [v.id for v in candidates], s)
    heatmap_section(recs["attention"], s)
    lists_section(recs, store.corpus)
    evaluation_section(store, cache_key, s, personas)
    pid = st.session_state.get("rec_persona")
    who = next((p.name for p in personas if p.id == pid), _("Build your own history…") if pid == CUSTOM else "")
    settings = [
        (_("Whose watch history? (the keys and values)"), who),
        (_("Temperature T (log scale)"), fmt_setting(s.temperature)),
    ]
    settings += [("softmax", _("on") if s.normalize else _("off"))]
    settings += [
        (_("recency"), _("off") if s.half_life is None else _("half-life {h}").format(h=fmt_setting(s.half_life)))
    ]
    corpus = cache_key[1]
    shown = _("bundled videos") if corpus == "bundled" else corpus
    export.download_button(
        view,
        title=_("Target attention: the query is the video"),
        model=model,
        corpus=shown,
        file_corpus="videos" if corpus == "bundled" else corpus,
        facts=settings,
        where=save,
    )


main()
