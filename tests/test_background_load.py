"""The model loads in the background after the first start; cached embeddings answer meanwhile.

The real default model throughout. A gate held in front of the real load stands for the seconds
of ``import sentence_transformers`` in a fresh process, so the "still loading" state is certain.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.config import CACHE_ENV_VAR, ENCODER_ENV_VAR
from retrieval_attention.encoders import cache, registry, sbert


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    """A private cache folder for model records and embeddings."""
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    return tmp_path


@pytest.fixture
def gate(monkeypatch):
    """Hold every model load until the test opens the gate (then the real load runs)."""
    opened = threading.Event()
    real = sbert.SentenceTransformerEncoder._load_model

    def held(self):
        if threading.current_thread() is not threading.main_thread():
            assert opened.wait(60), "the test never opened the gate"
        return real(self)

    monkeypatch.setattr(sbert.SentenceTransformerEncoder, "_load_model", held)
    return opened


def records(cache):
    return sorted((cache / "models").glob("*.json"))


def test_first_load_records_the_shape_then_later_loads_run_in_the_background(own_cache, gate):
    first = sbert.SentenceTransformerEncoder(background=True)  # nothing recorded: loads now
    assert first.ready and first.dim == 384
    [record] = records(own_cache)
    info = json.loads(record.read_text())
    assert (info["dim"], info["max_seq_length"]) == (384, first.max_seq_length)

    t0 = time.perf_counter()
    second = sbert.SentenceTransformerEncoder(background=True)
    assert time.perf_counter() - t0 < 1.0, "the constructor must not wait for the model"
    assert not second.ready
    assert (second.dim, second.cache_id) == (first.dim, first.cache_id), "same identity: same cache files"
    with pytest.raises(TimeoutError, match="still loading"):
        second.wait(timeout=0.05)
    gate.set()
    q = second.encode_queries(["funny cat videos"])  # waits for the load, then encodes
    assert second.ready
    np.testing.assert_array_equal(q, first.encode_queries(["funny cat videos"]))


def test_store_answers_its_remembered_queries_while_the_model_loads(own_cache, gate, corpus):
    warm = sbert.SentenceTransformerEncoder(background=True)
    remembered = ["funny cat videos", "python"]
    ra.KeyValueStore.from_corpus(corpus, warm, cache_dir=own_cache, remember_queries=remembered)  # fills the cache

    loading = sbert.SentenceTransformerEncoder(background=True)
    assert not loading.ready
    store = ra.KeyValueStore.from_corpus(corpus, loading, cache_dir=own_cache, remember_queries=remembered)
    assert not loading.ready, "keys, values and remembered queries came from the cache"
    assert store.query_ready("funny cat videos") and not store.query_ready("a query never seen")
    res = store.retrieve("funny cat videos", k=5, temperature=0.05)
    live = ra.KeyValueStore(corpus, warm, store.K, store.value_embeddings).retrieve("funny cat videos", 5, 0.05)
    for mode in ("hard", "topk", "soft"):
        np.testing.assert_array_equal(res[mode].weights, live[mode].weights)
    assert not loading.ready
    gate.set()
    assert store.embed_query("a query never seen").shape == (384,)
    assert store.query_ready("a query never seen")


def test_remembered_query_vectors_equal_live_ones(store, tmp_path):
    texts = ["funny cat videos", "股市新闻", "Learn Python in One Hour"]
    cached = cache.embed_queries(store.encoder, texts, cache_dir=tmp_path)
    again = cache.embed_queries(store.encoder, texts, cache_dir=tmp_path)  # read from disk
    for t, a, b in zip(texts, cached, again):
        live = store.encoder.encode_queries([t])[0]
        np.testing.assert_array_equal(a, live)
        np.testing.assert_array_equal(b, live)


def test_remembered_queries_hit_the_disk_cache_once(tiny_corpus, fake_encoder, tmp_path):
    queries = ["funny cats", "python", "funny cats"]  # duplicates are embedded once
    ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder, cache_dir=tmp_path, remember_queries=queries)
    calls = fake_encoder.calls
    store = ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder, cache_dir=tmp_path, remember_queries=queries)
    assert fake_encoder.calls == calls, "keys, values and queries all came from the cache"
    store.embed_query("python")
    assert fake_encoder.calls == calls
    with pytest.raises(ra.QueryError):
        ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder, cache_dir=tmp_path, remember_queries=["  "])


@pytest.mark.parametrize("damage", ["garbage", "not-a-dict", "wrong-type", "other-model"])
def test_damaged_model_record_means_a_load_before_answering(own_cache, gate, caplog, damage):
    sbert.SentenceTransformerEncoder()
    [record] = records(own_cache)
    info = json.loads(record.read_text())
    record.write_text(
        {
            "garbage": "\x00{{not json",
            "not-a-dict": "[1, 2]",
            "wrong-type": json.dumps({**info, "dim": "384"}),
            "other-model": json.dumps({**info, "fingerprint": "elsewhere"}),
        }[damage]
    )
    with caplog.at_level(logging.WARNING):
        enc = sbert.SentenceTransformerEncoder(background=True)  # main thread: the gate does not hold it
    assert enc.ready and enc.dim == 384
    assert "unusable" in caplog.text
    assert json.loads(record.read_text()) == info, "a good record is written again after the load"


@pytest.mark.parametrize("lie", ["dim", "max_seq_length"])
def test_a_record_that_lies_only_delays(own_cache, gate, caplog, lie):
    """The loaded model's shape wins over a wrong record: the run answers correctly, the record is
    rewritten, and nothing is cached under the wrong identity."""
    first = sbert.SentenceTransformerEncoder()
    [record] = records(own_cache)
    info = json.loads(record.read_text())
    record.write_text(json.dumps({**info, lie: 7}))
    enc = sbert.SentenceTransformerEncoder(background=True)
    assert getattr(enc, lie) == 7 and not enc.ready
    texts = ["cats", "dogs"]
    threading.Timer(0.2, gate.set).start()  # the load finishes while the cache lookup waits for it
    with caplog.at_level(logging.WARNING):
        x = cache.embed_documents(enc, texts, cache_dir=own_cache)
    assert "not the recorded" in caplog.text
    assert (enc.dim, enc.max_seq_length, enc.cache_id) == (first.dim, first.max_seq_length, first.cache_id)
    np.testing.assert_array_equal(x, first.encode_documents(texts))
    assert json.loads(record.read_text()) == info, "the record is rewritten with the loaded shape"
    [written] = (own_cache / "embeddings").glob("*.npz")
    assert written.name == f"{cache._cache_key(first, texts, 'key')}.npz", "cached under the true identity"


def test_get_encoder_loads_each_model_once_and_drops_a_failed_load(own_cache, gate, monkeypatch):
    sbert.SentenceTransformerEncoder()  # records the shape
    monkeypatch.setenv(ENCODER_ENV_VAR, "sentence-transformers")  # the default model runs on numpy otherwise
    monkeypatch.setattr(registry, "_ENCODERS", registry.OrderedDict())
    made = []
    real_init = sbert.SentenceTransformerEncoder.__init__

    def counting(self, *a, **k):
        made.append(1)
        real_init(self, *a, **k)

    monkeypatch.setattr(sbert.SentenceTransformerEncoder, "__init__", counting)
    with ThreadPoolExecutor(8) as pool:
        encs = list(pool.map(lambda _: ra.get_encoder(wait=False), range(8)))
    assert len(made) == 1 and all(e is encs[0] for e in encs)
    assert not ra.encoder_ready(encs[0])
    gate.set()
    assert ra.get_encoder() is encs[0] and ra.encoder_ready(encs[0])

    broken = sbert.SentenceTransformerEncoder.__new__(sbert.SentenceTransformerEncoder)
    broken.name, broken._loaded, broken._error = "broken", threading.Event(), ra.ModelNotFoundError("no weights")
    broken._loaded.set()
    registry._ENCODERS["sentence-transformers", "broken"] = broken
    with pytest.raises(ra.ModelNotFoundError, match="no weights"):
        ra.wait_for_encoder(broken)
    with pytest.raises(ra.ModelNotFoundError, match="'broken'"):  # a new load, not the kept failure
        ra.get_encoder("broken", wait=False)
    assert ("sentence-transformers", "broken") not in registry._ENCODERS


def test_app_renders_the_examples_while_the_model_loads_and_waits_only_for_a_new_query(tmp_path, monkeypatch):
    """The real app under AppTest, as after a server restart: record and embeddings cached, model loading."""
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parent.parent / "app.py")
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setenv(ENCODER_ENV_VAR, "sentence-transformers")  # the kind that loads in the background
    monkeypatch.setattr(registry, "_ENCODERS", registry.OrderedDict())
    st.cache_resource.clear()
    try:
        first = AppTest.from_file(app, default_timeout=180).run()  # first start: loads, embeds, records
        assert not first.exception and records(tmp_path)
        before = sorted(p.name for p in (tmp_path / "embeddings").glob("*.npz"))

        monkeypatch.setattr(registry, "_ENCODERS", registry.OrderedDict())  # a new server process
        st.cache_resource.clear()
        opened = threading.Event()
        real = sbert.SentenceTransformerEncoder._load_model
        monkeypatch.setattr(
            sbert.SentenceTransformerEncoder, "_load_model", lambda self: (opened.wait(60), real(self))[1]
        )
        at = AppTest.from_file(app, default_timeout=180).run()
        assert not at.exception, at.exception
        [encoder] = registry._ENCODERS.values()
        assert not encoder.ready, "the full first page came from the cache, without the model"
        assert float(next(m.value for m in at.metric if m.label == "effective keys")) > 1
        assert at.text_input(key="query").value == "funny cat videos"

        at.pills(key="example").set_value("exact title").run()  # a cached example: still no model needed
        assert not at.exception and not encoder.ready
        assert at.success[0].value.startswith("Hit")

        for page in ("ui/pages/recommender.py", "ui/pages/lesson_topk.py", "ui/pages/lesson_scoring.py"):
            at.switch_page(page).run()  # cached embeddings and the cached default query suffice
            assert not at.exception, (page, at.exception)
            assert not at.error, (page, [e.value for e in at.error])
            assert not encoder.ready, f"{page} waited for the model"
        at.switch_page("ui/pages/retrieval.py").run()

        threading.Timer(0.5, opened.set).start()  # the load finishes while the page waits for it
        at.text_input(key="query").set_value("Desk Stretches for Programmers").run()
        assert not at.exception, at.exception
        assert encoder.ready and at.success[0].value.startswith("Hit")
        assert sorted(p.name for p in (tmp_path / "embeddings").glob("*.npz")) == before, "nothing re-embedded"
    finally:
        st.cache_resource.clear()  # later tests build their stores in the usual cache


def test_a_failed_load_is_not_ready_for_new_queries(tiny_corpus, fake_encoder, tmp_path):
    """The page asks query_ready before it waits: a failed load must send it to the error path."""
    store = ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder, cache_dir=tmp_path, remember_queries=["cats"])
    assert store.query_ready("anything"), "an encoder without a background load is always ready"
    store.encoder = sbert.SentenceTransformerEncoder.__new__(sbert.SentenceTransformerEncoder)
    store.encoder._loaded, store.encoder._error = threading.Event(), None
    assert not store.query_ready("anything") and store.query_ready("cats"), "loading: only remembered queries"
    store.encoder._error = ra.ModelNotFoundError("no weights")
    store.encoder._loaded.set()
    assert not store.query_ready("anything") and store.query_ready("cats"), "failed: still only remembered ones"


def test_app_shows_a_failed_background_load_as_one_line_and_tries_again(tmp_path, monkeypatch):
    """After a restart the model's background load fails: cached examples still render, a new query
    shows the error (no traceback), and the next run starts a fresh load instead of repeating it."""
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parent.parent / "app.py")
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setenv(ENCODER_ENV_VAR, "sentence-transformers")  # the kind that loads in the background
    monkeypatch.setattr(registry, "_ENCODERS", registry.OrderedDict())
    st.cache_resource.clear()
    try:
        assert not AppTest.from_file(app, default_timeout=180).run().exception  # first start: records

        monkeypatch.setattr(registry, "_ENCODERS", registry.OrderedDict())  # a new server process
        st.cache_resource.clear()
        attempts = []

        def broken(self):
            attempts.append(self)
            raise OSError("model.safetensors: unexpected end of file")

        monkeypatch.setattr(sbert.SentenceTransformerEncoder, "_load_model", broken)
        at = AppTest.from_file(app, default_timeout=180).run()
        assert not at.exception and float(next(m.value for m in at.metric if m.label == "effective keys")) > 1
        at.text_input(key="query").set_value("Desk Stretches for Programmers").run()
        assert not at.exception, at.exception
        assert any("Could not load the encoder" in e.value and "unexpected end of file" in e.value for e in at.error)
        tries = len(attempts)
        at.run()
        assert len(attempts) > tries, "the next run loads again"
    finally:
        st.cache_resource.clear()
