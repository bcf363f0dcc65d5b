"""The store a page reads, for this session: one model and index per server, plus an upload.

Pages get their store in one way, :func:`get_store`. The shared corpus is embedded and indexed
once per server and model (``st.cache_resource``); a corpus uploaded in this browser session
(:mod:`ui.components.upload`) lives in ``st.session_state`` and never changes the shared one.
"""

from __future__ import annotations

import os

import streamlit as st

import retrieval_attention as ra
from retrieval_attention import i18n
from retrieval_attention.config import CORPUS_ENV_VAR, DEFAULT_MODEL, MULTILINGUAL_MODEL, UPLOAD_NICE_ENV_VAR
from retrieval_attention.infra.threads import configure_threads, lower_priority
from ui.components.i18n import _, current_lang, fmt_number
from ui.components.query import ALL_EXAMPLE_QUERIES
from ui.components.text import md

_CORPUS, _STORES = "own_corpus", "own_stores"  # session state: the upload, and its stores per model
#: The upload's stores one session keeps (the last used, one per model): each holds the corpus again
#: with its vectors, so a reader trying models one after another must not pile up copies.
MAX_SESSION_STORES = 3


@st.cache_resource(show_spinner=False, max_entries=4)
def load_store(model: str, corpus_path: str | None) -> ra.KeyValueStore:
    """The shared corpus embedded with ``model`` and indexed: once per server, model and corpus.

    The model may still be loading when this returns (after the first start, ``dim`` and the
    cached embeddings are known without it): :func:`wait_for_model` before encoding new text.
    """
    configure_threads("interactive")  # numpy's BLAS on one thread: its spinning workers slow the encoder
    encoder = ra.get_encoder(model, wait=False)
    queries = list(ALL_EXAMPLE_QUERIES)
    return ra.KeyValueStore.from_corpus(ra.load_corpus(corpus_path), encoder, remember_queries=queries)


def shared_corpus_path() -> str | None:
    """The server's corpus: ``$RETRIEVAL_ATTENTION_CORPUS`` if set, else None (the bundled one)."""
    return os.environ.get(CORPUS_ENV_VAR) or None


def session_corpus() -> ra.Corpus | None:
    """The corpus this browser session uploaded, or None for the shared one."""
    return st.session_state.get(_CORPUS)


def set_session_corpus(corpus: ra.Corpus | None) -> None:
    """Use ``corpus`` in this session from now on (None: back to the shared one)."""
    if corpus is None:
        for key in (_CORPUS, _STORES):
            st.session_state.pop(key, None)
    else:
        st.session_state[_CORPUS] = corpus
        st.session_state[_STORES] = {}


def _stop_with(exc: ra.RetrievalAttentionError) -> None:
    if isinstance(exc, ra.CorpusError):  # the server's corpus file ($RETRIEVAL_ATTENTION_CORPUS), not the model
        headline = _("Could not load the server's corpus ({var}): {detail}").format(
            var=md(f"${CORPUS_ENV_VAR}"), detail=md(str(exc))
        )
    else:
        headline = _("Could not load the encoder: {detail}").format(detail=md(str(exc)))
    st.error(headline)
    st.stop()


@st.cache_resource(show_spinner=False)
def _loaded() -> set[tuple[str, str | None]]:
    """The (model, corpus) pairs :func:`load_store` has returned on this server (no spinner needed)."""
    return set()


def _shared_store(model: str) -> ra.KeyValueStore:
    key = (model, shared_corpus_path())
    try:
        if key in _loaded():  # a cache hit: no spinner (each one starts a thread, on every rerun)
            return load_store(*key)
        with st.spinner(
            _("Loading the model {model} and embedding the corpus (first time only)…").format(model=md(model))
        ):
            store = load_store(*key)
    except ra.RetrievalAttentionError as exc:
        _stop_with(exc)
        raise  # unreachable: st.stop() ends the run
    _loaded().add(key)
    return store


def upload_nice() -> int:
    """``$RETRIEVAL_ATTENTION_UPLOAD_NICE`` as a nice increment 0..19 (unset or not a number: 0)."""
    raw = os.environ.get(UPLOAD_NICE_ENV_VAR, "").strip()
    return min(19, max(0, int(raw))) if raw.isdecimal() else 0


def get_store(model: str, own_data: bool = False) -> ra.KeyValueStore:
    """The store a page reads, with a visible loading state and a one-line error, never a traceback.

    It returns while the model may still be loading: call :func:`ensure_query` before a new query.

    Args:
        model: the encoder's name or folder (any spelling: one store per model). With
            ``$RETRIEVAL_ATTENTION_MODELS`` set, a model not in the list stops the page.
        own_data: True on a page that offers the upload: this session's own corpus (embedded with
            ``model`` once, with a progress bar) if it has one. False: always the shared corpus.

    Returns:
        The :class:`~retrieval_attention.KeyValueStore`.
    """
    model = ra.canonical_model(model)  # one store per model, however its name was spelt
    offered = ra.offered_models()
    if offered is not None and model not in (DEFAULT_MODEL, MULTILINGUAL_MODEL, *offered):
        st.error(_("This server offers only the models in its list."))  # nothing about the name: no probing
        st.stop()
    shared = _shared_store(model)
    corpus = session_corpus() if own_data else None
    if corpus is None:
        return shared
    stores = st.session_state.setdefault(_STORES, {})
    if model in stores:
        stores[model] = stores.pop(model)  # the most recently used goes last
    else:
        wait_for_model(shared)
        bar = st.progress(
            0.0, text=_("Embedding {n} titles with {model}…").format(n=fmt_number(len(corpus)), model=md(model))
        )

        template, lang = (
            _("Embedding your corpus: {done} / {total} texts"),
            current_lang(),
        )  # the callback may run off the script thread

        def progress(done: int, total: int) -> None:
            text = template.format(done=i18n.fmt_number(done, lang), total=i18n.fmt_number(total, lang))
            bar.progress(done / total, text=text)

        with lower_priority(upload_nice()):  # behind replicas: one upload must not take a core from the class
            stores[model] = ra.KeyValueStore.from_corpus(corpus, shared.encoder, progress=progress)
        bar.empty()
        while len(stores) > MAX_SESSION_STORES:
            del stores[next(iter(stores))]  # the least recently used
    return stores[model]


def wait_for_model(store: ra.KeyValueStore) -> None:
    """Wait, with a spinner, until the store's model has loaded; a failed load stops the page."""
    try:
        if ra.encoder_ready(store.encoder):
            ra.wait_for_encoder(store.encoder)  # at once; raises if the background load failed
        else:
            with st.spinner(
                _("Loading the model {model} (a few seconds after the server starts)…").format(
                    model=md(store.encoder.name)
                )
            ):
                ra.wait_for_encoder(store.encoder)
    except ra.RetrievalAttentionError as exc:
        load_store.clear()  # the next run tries the load again (with its spinner)
        _loaded().clear()
        _stop_with(exc)


def ensure_query(store: ra.KeyValueStore, query: object) -> None:
    """Wait for the model (with a spinner) only if embedding ``query`` needs it; cached queries never wait."""
    if isinstance(query, str) and query.strip() and not store.query_ready(query):
        wait_for_model(store)
