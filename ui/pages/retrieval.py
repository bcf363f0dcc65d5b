"""Page 1: one query, three retrievals side by side, the temperature continuum and the arithmetic.

The page asks the library once per query (``store.retrieve``) and draws everything from the three
results it gets back. The title and introduction go out before the heavy imports (pandas, Altair
and the charts, a noticeable wait on the first run after a server start), so the layout shows at once.
"""

from __future__ import annotations

import streamlit as st

from ui.components.i18n import _

st.title(_("Attention is soft retrieval"))
st.markdown(
    _(
        "A **query** is compared with every **key** (a video title); the comparison becomes **weights**; "
        "the weights pick out **values** (the videos). Three ways to do it, same query, same keys:"
    )
)

import math  # noqa: E402  (the imports follow the title, on purpose)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import retrieval_attention as ra  # noqa: E402
from retrieval_attention.charts import retrieval as charts  # noqa: E402
from retrieval_attention.charts.spec import Lazy  # noqa: E402
from retrieval_attention.core.attention import softmax_breakdown, temperature_sweep  # noqa: E402
from retrieval_attention.core.topk import kept_weight  # noqa: E402
from ui.components import export  # noqa: E402
from ui.components.charts import show_chart  # noqa: E402
from ui.components.controls import SCALES, sidebar_controls  # noqa: E402
from ui.components.downloads import download_csv  # noqa: E402
from ui.components.i18n import (  # noqa: E402
    category_name,
    chart_labels,
    fmt_compact,
    fmt_number,
    fmt_percent,
    fmt_setting,
    fmt_tex,
)
from ui.components.query import query_ui  # noqa: E402
from ui.components.store import ensure_query, get_store  # noqa: E402
from ui.components.text import md  # noqa: E402
from ui.components.upload import own_data_controls  # noqa: E402


def payload_lines(v: ra.Video) -> str:
    """A record's payload on one line: category · channel · minutes · views."""
    parts = [md(category_name(v.category)), md(v.channel)]
    if v.duration_s is not None:
        parts.append(_("{n} min").format(n=fmt_number(v.duration_s / 60, 1)))
    if v.views is not None:
        parts.append(_("{n} views").format(n=fmt_number(v.views)))
    return " · ".join(p for p in parts if p)


def output_summary(store: ra.KeyValueStore, res: ra.RetrievalResult, key: str) -> None:
    """The blended value read at a glance: category mix bar, duration / views, nearest videos."""
    s = store.describe_output(res.output)
    mix = {category_name(c): share for c, share in s.category_mix.items()}
    show_chart(
        charts.category_mix_chart,
        mix,
        title=_("Output: category mix"),
        x_title=_("share of the output"),
        key=f"mix_{key}",
    )
    a, b = st.columns(2)
    if s.duration_s is not None:
        minutes = _("{n} min")
        export.metric(
            a,
            _("weighted duration"),
            minutes.format(n=fmt_number(s.duration_s / 60, 0)),
            help=_("Σ wᵢ · durationᵢ = {value}").format(value=minutes.format(n=fmt_number(s.duration_s / 60, 2))),
        )
    if s.views is not None:
        export.metric(
            b,
            _("weighted views"),
            fmt_compact(s.views),
            help=_("10^(Σ wᵢ · log10(viewsᵢ + 1)) − 1: a geometric mean"),
        )
    if s.nearest:
        near = [(store.corpus.by_id(i).title, fmt_number(c, 2)) for i, c in s.nearest]
        head = _("**Nearest videos to the output:**")
        st.markdown(head + "  \n" + "  \n".join(f"{md(t)} ({c})" for t, c in near))
        export.note(export.plain(head) + " " + "; ".join(f"{t} ({c})" for t, c in near))


def hard_column(store: ra.KeyValueStore, res: ra.RetrievalResult) -> None:
    """The dict: a hit shows its record, a miss the key it tried."""
    export.subheader(_("1 · Hard lookup"))
    st.caption(_("A Python dict: `corpus[key]`"))
    if res.hit:
        v = store.corpus.by_id(res.ids[0])
        st.success(hit := _("Hit: the key exists, one weight is 1, all others 0."))
        st.markdown(f"### {md(v.title)}")
        export.note(f"{hit} {v.title}")
        st.markdown(payload_lines(v))
        st.markdown(md(v.description))
    else:
        st.warning(miss := _("Miss: no key equals the query."))
        st.markdown(tried := _("The dict tried exactly this key (after NFKC, lower-casing and whitespace clean-up):"))
        export.note(f"{miss} {tried} {res.lookup_key}")
        st.code(res.lookup_key, language=None)
        st.markdown(_("A dict has **no notion of close**: every weight is 0 and the output is empty."))
    export.metric(st, _("keys used"), "1" if res.hit else "0")


def topk_column(store: ra.KeyValueStore, res: ra.RetrievalResult, soft: ra.RetrievalResult) -> None:
    """The k nearest keys, and how much of the full softmax weight they hold."""
    k = len(res.ids)
    export.subheader(_("2 · Top-{k} search").format(k=k), key="topk")
    st.caption(_("FAISS inner-product index: the k nearest keys"))
    c = store.corpus
    frame = pd.DataFrame(
        {
            _("rank"): range(1, k + 1),
            "q·k": [fmt_number(s, 3) for s in res.scores],
            _("weight"): [fmt_percent(res.weights[p], 1) for p in res.positions],
            _("title"): [c[p].title for p in res.positions],
        }
    )
    export.table(frame)
    kept = kept_weight(soft.weights, res.positions)
    export.metric(
        st,
        _("full-attention weight held by these {k}").format(k=k),
        fmt_percent(kept),
        help=_("The rest is the tail that top-k throws away."),
    )
    st.caption(
        _("Top-{k} throws away the tail: {share} of the full softmax weight.").format(
            k=k, share=fmt_percent(1 - kept, 1)
        )
    )
    output_summary(store, res, "topk")


def soft_column(store: ra.KeyValueStore, res: ra.RetrievalResult, k: int) -> None:
    """Every key's weight, its spread (entropy, effective keys) and the blended output."""
    export.subheader(_("3 · Soft attention"))
    st.caption(_("softmax over every key, output = Σ wᵢ vᵢ"))
    a, b = st.columns(2)
    export.metric(
        a,
        _("entropy (nats)"),
        fmt_number(res.entropy, 2),
        help=_("0 = one key; log n = {value} = uniform").format(value=fmt_number(math.log(len(store)), 2)),
    )
    export.metric(
        b,
        _("effective keys"),
        fmt_number(res.effective_num_keys, 1),
        help=_("1 / Σ w²: how many keys share the weight"),
    )
    c = store.corpus
    cats = [c[p].category for p in res.positions]
    shown = {cat: category_name(cat) for cat in set(cats)}  # a few categories: translated once each, not per key
    frame = Lazy(  # made only when this chart is not cached yet
        pd.DataFrame,
        {
            "rank": np.arange(1, len(store) + 1),
            "weight": res.weights[res.positions],
            "score": res.scores,
            "title": [c[p].title for p in res.positions],
            "category": [shown[cat] for cat in cats],
        },
    )
    weights_chart(frame, k)
    top, template = [(c[p].title, fmt_percent(res.weights[p])) for p in res.positions[:3]], _("**Top weights:** {top}")
    st.markdown(template.format(top=", ".join(f"{md(t)} {w}" for t, w in top)))
    export.note(export.plain(template).format(top=", ".join(f"{t} {w}" for t, w in top)))
    output_summary(store, res, "soft")


@st.fragment
def weights_chart(frame: Lazy, k: int) -> None:
    """The sorted weights and their log-scale toggle: a fragment, so the toggle redraws only this chart."""
    log = st.toggle(_("log scale (see the long tail)"), value=True, key="log_weights")
    text = chart_labels(charts.WEIGHTS_LABELS)
    title = _("Weight of every key, sorted")
    show_chart(charts.weights_bar, frame, k, log=log, title=title, text=text, key="weights_bar", height=420)


def continuum_section(store: ra.KeyValueStore, soft: ra.RetrievalResult, topk: ra.RetrievalResult, k: int) -> None:
    """The weights of every key as T sweeps from lookup to average, from the scores ``soft`` holds."""
    export.header(_("The continuum: one knob from lookup to average"))
    logits = soft.scores * soft.scale  # best key first
    W = temperature_sweep(logits, charts.CONTINUUM_TEMPERATURES)  # (m, n), columns best first
    labels = [store.corpus[p].title for p in soft.positions]
    text = chart_labels(charts.CONTINUUM_LABELS)
    show_chart(
        charts.continuum_chart,
        charts.CONTINUUM_TEMPERATURES,
        W,
        labels,
        soft.temperature,
        text=text,
        key="continuum",
        height=440,
    )
    kept = kept_weight(soft.weights, topk.positions)
    template = _(
        "At **T = {t}** the top-{k} keys hold **{kept}** of the weight; "
        "a top-{k} retrieval throws away the other **{tail}** (the tail). "
        "Turn T down and soft attention becomes the hard top-1; turn it up and every key gets 1/n."
    )
    values = {"t": fmt_setting(soft.temperature), "k": len(topk.ids), "kept": fmt_percent(kept, 1)}
    st.markdown(template.format(**values, tail=fmt_percent(1 - kept, 1)))
    export.note(export.plain(template).format(**values, tail=fmt_percent(1 - kept, 1)))


def arithmetic_section(store: ra.KeyValueStore, soft: ra.RetrievalResult) -> None:
    """The softmax of the best keys step by step, and the output's duration as Σ wᵢ vᵢ."""
    export.header(_("The arithmetic, with the real numbers"))
    show = min(4, len(store))
    steps = softmax_breakdown(soft.all_scores, soft.positions[:show], scale=soft.scale, temperature=soft.temperature)
    scale_tex = r"\frac{1}{\sqrt{%d}}" % store.dim if soft.scale != 1.0 else "1"
    st.latex(
        r"w_i = \frac{\exp\!\big(q\cdot k_i \times %s \,/\, T\big)}{\sum_{j=1}^{%d} \exp\!\big(q\cdot k_j \times %s \,/\, T\big)}"
        r"\qquad o = \sum_i w_i\, v_i" % (scale_tex, len(store), scale_tex)
    )
    rows = []
    for j in range(show):
        rows.append(
            r"k_{%d} & %s & %s & %s & %s \\"
            % (
                j + 1,
                fmt_tex(steps.scores[j], 4),
                fmt_tex(steps.logits[j], 3),
                fmt_tex(steps.shifted_exp[j], significant=4),
                fmt_tex(steps.weights[j], 4),
            )
        )
    key_header = _("key").replace("\\", "").replace("{", "").replace("}", "")  # text inside \text{}
    table = (
        r"\begin{array}{c|c|c|c|c} \text{%s} & q\cdot k_i & z_i = q\cdot k_i \times %s / %s & e^{z_i - \max z} & w_i = e^{z_i - \max z} / %s \\ \hline "
        % (key_header, scale_tex, fmt_tex(soft.temperature, setting=True), fmt_tex(steps.denominator, 4))
        + " ".join(rows)
        + r"\end{array}"
    )
    st.latex(table)
    titles = [store.corpus[p].title for p in soft.positions[:show]]
    template = _("Keys: {keys}. The denominator sums e^(z − max z) over all {n} keys, not only these.")
    st.caption(
        template.format(keys="; ".join(f"k{j + 1} = {md(t)}" for j, t in enumerate(titles)), n=fmt_number(len(store)))
    )
    export.softmax_steps_table(steps, titles, soft.scale, soft.temperature, len(store))
    export.note(
        template.format(keys="; ".join(f"k{j + 1} = {t}" for j, t in enumerate(titles)), n=fmt_number(len(store)))
    )
    if not store.corpus.has_numeric("duration_s"):
        return
    lay = store.layout
    durs = store.V[soft.positions[:show], lay.duration_index]
    terms = " + ".join(r"%s \times %s" % (fmt_tex(w, 3), fmt_tex(d, 1)) for w, d in zip(steps.weights, durs))
    total = float(soft.output[lay.duration_index])
    duration = _("duration (min)").replace("\\", "").replace("{", "").replace("}", "")
    st.latex(r"o_{\text{%s}} = %s + \dots = %s" % (duration, terms, fmt_tex(total, 2)))
    export.note(
        "o_%s = %s + … = %s" % (duration, terms.replace(r"\times", "×").replace("{,}", ","), fmt_number(total, 2))
    )


def scaling_frame(settings: dict[str, np.ndarray]) -> pd.DataFrame:
    """Each setting's sorted weights (n,), one row per (setting, rank); floored at 1e-12 for the log axis."""
    rows = [
        pd.DataFrame({"rank": np.arange(1, len(w) + 1), "weight": np.maximum(w, 1e-12), "setting": name})
        for name, w in settings.items()
    ]
    return pd.concat(rows)


def scaling_section(store: ra.KeyValueStore, soft: ra.RetrievalResult, controls_t: float) -> None:
    """÷√d at T = 1 against cosine at the reader's T, both from the scores ``soft`` already holds."""
    with st.expander(heading := _("Why not ÷√d here? (what transformers do, on unit vectors)"), expanded=False):
        export.section(heading)
        trans = store.soft_attention_from_scores(soft.query, soft.all_scores, 1.0, "sqrt_d")
        ours = store.soft_attention_from_scores(soft.query, soft.all_scores, controls_t, "none")
        n = len(store)
        settings = {
            _("÷√{d}, T = 1 (transformer default)").format(d=store.dim): trans.weights[trans.positions],
            _("cosine, T = {t}").format(t=fmt_setting(controls_t)): ours.weights[ours.positions],
        }
        text = {
            "title": _("Same scores, two scalings"),
            "x": _("key rank"),
            "y": _("weight (log scale)"),
            "rank": _("rank"),
            "weight": _("weight"),
        }
        show_chart(charts.scaling_chart, Lazy(scaling_frame, settings), text=text, key="scaling", height=400)
        a, b = st.columns(2)
        of_n = _("{value} of {n}")
        export.metric(
            a,
            _("effective keys with ÷√d, T = 1"),
            of_n.format(value=fmt_number(trans.effective_num_keys, 0), n=fmt_number(n)),
        )
        export.metric(
            b,
            _("effective keys with T = {t}").format(t=fmt_setting(controls_t)),
            of_n.format(value=fmt_number(ours.effective_num_keys, 1), n=fmt_number(n)),
        )
        template = _(
            "Our keys and queries are **unit vectors**, so q·k lies in [−1, 1]. Divided by √{d} ≈ "
            "{root}, scores differ by at most ≈ {gap}, so every exp() is "
            "nearly the same number and the weights are almost uniform. Transformers divide by √d because their "
            "q and k are *not* unit vectors: with unit-variance components q·k grows like √d, and the division "
            "keeps the softmax from saturating. For cosine scores the knob that matters is the temperature: "
            "at this encoder's own T = {own}, a gap of {own_gap} in cosine is a factor e² ≈ 7.4 in weight."
        )
        own = store.default_temperature
        values = {
            "d": store.dim,
            "root": fmt_number(math.sqrt(store.dim), 1),
            "gap": fmt_number(2 / math.sqrt(store.dim), 2),
            "own": fmt_setting(own),
            "own_gap": fmt_setting(2 * own),
        }
        st.markdown(template.format(**values))
        export.note(export.plain(template).format(**values))


def unread_note(store: ra.KeyValueStore, query: object) -> None:
    """One line when the encoder's tokenizer reads most of the query as [UNK] (measured, not guessed)."""
    share = ra.unknown_token_share(store.encoder, query) if isinstance(query, str) and query.strip() else None
    if share is not None and share >= ra.UNREADABLE_SHARE:
        st.info(
            _(
                "{model} reads {share} of this query's tokens as [UNK] (not in its vocabulary), so its weights say "
                "little about the query: pick the multilingual encoder in the sidebar."
            ).format(model=md(store.encoder.name), share=fmt_percent(share))
        )


def weights_frame(store: ra.KeyValueStore, soft: ra.RetrievalResult) -> Lazy:
    """Every key's id, title, score and weight, best first: the data of the soft column (a frame made
    only when its CSV is not cached yet)."""
    order = soft.positions  # (n,) corpus positions, largest weight first
    c = store.corpus
    return Lazy(
        pd.DataFrame,
        {
            "rank": np.arange(1, len(order) + 1),
            "id": [c[i].id for i in order],
            "title": [c[i].title for i in order],
            "category": [c[i].category for i in order],
            "score_q_dot_k": soft.all_scores[order],
            "weight": soft.weights[order],
        },
    )


def downloads(store: ra.KeyValueStore, soft: ra.RetrievalResult) -> None:
    """Every key's weight as CSV."""
    label = _("Download all weights (CSV)")
    download_csv(weights_frame(store, soft), "attention_weights.csv", "dl_weights", label=label)
    st.caption(_("Every chart has a ⋯ menu (top right of the chart) to save it as SVG or PNG for slides."))


def main() -> None:
    view = export.begin_page("retrieval")
    save = st.sidebar.container()  # "Save this view (HTML)", drawn once the page has drawn everything
    controls = sidebar_controls()
    own_data_controls()
    query = query_ui(pills_key="example")
    store = get_store(controls.model, own_data=True)
    source = _("bundled videos") if store.corpus.source == "bundled" else store.corpus.source
    st.caption(
        _("{n} keys from {source} · encoder {model} · d = {d}").format(
            n=fmt_number(len(store)), source=md(source), model=md(controls.model), d=store.dim
        )
    )
    unread_note(store, query)
    ensure_query(store, query)  # a new query needs the model; the examples are cached
    try:  # the page's one retrieval: the query is embedded once and q·K computed once
        results = store.retrieve(query, k=controls.k, temperature=controls.temperature, scale=controls.scale)
    except ra.QueryError as exc:
        if isinstance(query, str) and not query.strip():
            st.info(_("The query is empty: type a few words, or pick an example."))
        else:
            st.info(_("This query cannot be used: {detail}").format(detail=md(str(exc))))
        return
    except ra.RetrievalAttentionError as exc:
        st.info(md(str(exc)))
        return
    hard, topk, soft = results["hard"], results["topk"], results["soft"]
    c1, c2, c3 = st.columns(3, gap="medium", border=True)
    with c1:
        hard_column(store, hard)
    with c2:
        topk_column(store, topk, soft)
    with c3:
        soft_column(store, soft, controls.k)
    continuum_section(store, soft, topk, controls.k)
    arithmetic_section(store, soft)
    scaling_section(store, soft, controls.temperature)
    downloads(store, soft)
    scale = next(code for code, value in SCALES.items() if value == controls.scale)
    settings = [(_("Query"), query), ("k", str(controls.k)), (_("Temperature T"), fmt_setting(controls.temperature))]
    title, settings = _("Attention is soft retrieval"), [*settings, (_("Scale q·k by"), _(scale))]
    corpus = "videos" if store.corpus.source == "bundled" else store.corpus.source
    export.download_button(
        view, title=title, model=controls.model, corpus=source, file_corpus=corpus, facts=settings, where=save
    )


main()
