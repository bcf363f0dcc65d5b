"""Shared UI pieces: cached loaders (one model and index per server), sidebar controls, text helpers."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import streamlit as st

import retrieval_attention as ra
from retrieval_attention.config import CORPUS_ENV_VAR, DEFAULT_MODEL, DEFAULT_TEMPERATURE, MULTILINGUAL_MODEL
from retrieval_attention.infra.threads import configure_threads

ENCODERS = {
    "English · all-MiniLM-L6-v2": DEFAULT_MODEL,
    "Multilingual · multilingual-e5-small": MULTILINGUAL_MODEL,
}
#: Temperature choices on a log scale, strictly above 0.
# fmt: off
TEMPERATURES = [0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
                1.0, 1.5, 2.0, 3.0, 5.0, 7.5, 10.0]
# fmt: on
SCALES = {"none: q·k (cosine)": "none", "÷√d, as transformers do": "sqrt_d"}

#: The main page's first query and one-click examples. They are embedded with the corpus and
#: cached on disk, so a restarted server shows them before the model has finished loading.
DEFAULT_QUERY = "funny cat videos"
EXAMPLES = {
    "exact title": "Learn Python in One Hour",
    "paraphrase": "hilarious kitten videos",
    "ambiguous": "python",
    "中文": "股市新闻",
    "español": "recetas fáciles de cocina",
    "nonsense": "zxqv blorptastic",
}

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$&:])")


def md(text: str) -> str:
    """Escape user data for st.markdown: it shows literally, never as markdown or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


@dataclass(frozen=True)
class Controls:
    """What the sidebar returns."""

    model: str
    k: int
    temperature: float
    scale: str


@st.cache_resource(show_spinner=False, max_entries=4)
def load_store(model: str, corpus_path: str | None) -> ra.KeyValueStore:
    """The shared corpus embedded with ``model`` and indexed: once per server, model and corpus.

    The model may still be loading when this returns (after the first start, ``dim`` and the
    cached embeddings are known without it): :func:`wait_for_model` before encoding new text.
    """
    configure_threads("interactive")  # numpy's BLAS on one thread: its spinning workers slow the encoder
    encoder = ra.get_encoder(model, wait=False)
    queries = [DEFAULT_QUERY, *EXAMPLES.values()]
    return ra.KeyValueStore.from_corpus(ra.load_corpus(corpus_path), encoder, remember_queries=queries)


def shared_corpus_path() -> str | None:
    """The server's corpus: ``$RETRIEVAL_ATTENTION_CORPUS`` if set, else None (the bundled one)."""
    return os.environ.get(CORPUS_ENV_VAR) or None


def _stop_with(exc: ra.RetrievalAttentionError) -> None:
    st.error(f"Could not load the encoder: {md(str(exc))}")
    st.stop()


def get_store(model: str, wait: bool = True) -> ra.KeyValueStore:
    """``load_store`` with a visible loading state and a one-line error instead of a traceback.

    Args:
        model: the encoder's name or folder.
        wait: False to return while the model is still loading (the page then calls
            :func:`wait_for_model` only if it needs a new embedding).
    """
    try:
        with st.spinner(f"Loading the model {md(model)} and embedding the corpus (first time only)…"):
            store = load_store(model, shared_corpus_path())
    except ra.RetrievalAttentionError as exc:
        _stop_with(exc)
        raise  # unreachable: st.stop() ends the run
    if wait:
        wait_for_model(store)
    return store


def wait_for_model(store: ra.KeyValueStore) -> None:
    """Wait, with a spinner, until the store's model has loaded; a failed load stops the page."""
    try:
        if ra.encoder_ready(store.encoder):
            ra.wait_for_encoder(store.encoder)  # at once; raises if the background load failed
        else:
            with st.spinner(f"Loading the model {md(store.encoder.name)} (a few seconds after the server starts)…"):
                ra.wait_for_encoder(store.encoder)
    except ra.RetrievalAttentionError as exc:
        load_store.clear()  # the next run tries the load again
        _stop_with(exc)


def ensure_query(store: ra.KeyValueStore, query: object) -> None:
    """Wait for the model (with a spinner) only if embedding ``query`` needs it; cached queries never wait."""
    if isinstance(query, str) and query.strip() and not store.query_ready(query):
        wait_for_model(store)


def example_pills(examples: dict[str, str], box_key: str, pills_key: str) -> None:
    """One-click examples under a text box: picking one fills the box (the widget at ``box_key``)."""

    def fill() -> None:
        choice = st.session_state.get(pills_key)
        if choice:
            st.session_state[box_key] = examples[choice]

    st.pills("Try an example", list(examples), key=pills_key, on_change=fill, help="One click fills the box.")


def sidebar_controls(show_k: bool = True) -> Controls:
    """Encoder, k, temperature and scaling: the widgets only, values returned."""
    sb = st.sidebar
    sb.header("Controls")
    label = sb.radio(
        "Encoder",
        list(ENCODERS),
        key="encoder",
        help="The multilingual one finds English titles for Chinese or Spanish queries.",
    )
    custom = sb.text_input(
        "…or another sentence-transformers model (name or folder)",
        key="custom_model",
        help="Offline by default: a local folder, or a name in your Hugging Face cache. "
        "Set RETRIEVAL_ATTENTION_ALLOW_DOWNLOAD=1 before starting to allow downloads.",
    ).strip()
    k = sb.slider("k (top-k search)", 1, 20, 5, key="k") if show_k else 5
    t = sb.select_slider(
        "Temperature T (log scale)",
        options=TEMPERATURES,
        value=DEFAULT_TEMPERATURE,
        key="temperature",
        format_func=lambda x: f"{x:g}",
        help="softmax(q·k · scale / T). Small T: one key takes all (a lookup). Large T: all keys equal (average pooling).",
    )
    scale_label = sb.radio("Scale q·k by", list(SCALES), key="scale")
    return Controls(model=custom or ENCODERS[label], k=int(k), temperature=float(t), scale=SCALES[scale_label])


def download_csv(frame: pd.DataFrame, name: str, key: str) -> None:
    """A button that downloads ``frame`` as ``name`` (CSV, UTF-8), for slides and spreadsheets."""
    st.download_button(
        f"Download the data (CSV): {name}",
        frame.to_csv(index=False).encode("utf-8"),
        file_name=name,
        mime="text/csv",
        key=key,
        on_click="ignore",
    )


def weights_csv(store: ra.KeyValueStore, weights: np.ndarray, scores: np.ndarray) -> bytes:
    """Every key's id, title, score and weight as CSV, best first."""
    order = np.argsort(-weights, kind="stable")
    c = store.corpus
    frame = pd.DataFrame(
        {
            "rank": np.arange(1, len(order) + 1),
            "id": [c[i].id for i in order],
            "title": [c[i].title for i in order],
            "category": [c[i].category for i in order],
            "score_q_dot_k": scores[order],
            "weight": weights[order],
        }
    )
    return frame.to_csv(index=False).encode("utf-8")
