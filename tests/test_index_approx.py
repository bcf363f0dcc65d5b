"""Approximate indexes (HNSW, IVF) against brute force, the recall of the documented settings on
real-text keys, and the on-disk index cache's safety rules."""

from __future__ import annotations

import json
import logging
import os

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.encoders.base import normalize_rows
from retrieval_attention.index import IndexParams, VectorIndex, cached_index, recall_at_k

ADJECTIVES = ["easy", "quick", "ultimate", "beginner", "advanced", "relaxing", "funny", "honest", "budget", "classic"]
FORMATS = ["tutorial", "explained", "for beginners", "full course", "review", "compilation", "tips", "vlog"]


def exact_ids(q: np.ndarray, K: np.ndarray, k: int) -> np.ndarray:
    """Brute force: the k best keys of each query by numpy argsort."""
    return np.argsort(-(q @ K.T), axis=1, kind="stable")[:, :k]


@pytest.fixture(scope="module")
def text_keys(store):
    """Real-text keys and queries: the real model over bundled titles, descriptions and templated
    variants ("<adjective> <title> <format>"), plus 30k keys derived from them as the benchmarks
    derive 1M (near a real key, pulled towards another, jittered; see benchmarks/data.py)."""
    rng = np.random.default_rng(0)
    titles = [v.title for v in store.corpus]
    variants = sorted(
        {f"{a} {t} {f}" for t in titles for a, f in zip(rng.choice(ADJECTIVES, 8), rng.choice(FORMATS, 8))}
    )
    texts = titles + variants
    real = ra.encoders.embed_documents(store.encoder, texts, "approx-test", None, use_cache=False, batch_size=64)
    queries = store.encoder.encode_documents([v.description for v in store.corpus if v.description])  # (≈300, d)
    n, d = 30_000, real.shape[1]
    a, b = rng.integers(0, len(real), n), rng.integers(0, len(real), n)
    derived = real[a] + 0.3 * rng.random((n, 1)) * (real[b] - real[a]) + 0.3 * rng.standard_normal((n, d)) / np.sqrt(d)
    return normalize_rows(real), normalize_rows(derived), normalize_rows(queries)


@pytest.mark.slow
def test_hnsw_recall_at_documented_settings_on_real_text(text_keys):
    real, derived, Q = text_keys
    for K in (real, derived):
        index = VectorIndex(K, "hnsw")  # IndexParams() defaults: the documented settings
        _, I = index.search(Q, 10)
        recall = recall_at_k(I, exact_ids(Q, K, 10), 10)
        assert recall >= 0.95, (K.shape, recall)


@pytest.mark.slow
def test_ivf_recall_at_documented_settings_on_real_text(text_keys):
    _, derived, Q = text_keys
    _, I = VectorIndex(derived, "ivf").search(Q, 10)
    assert recall_at_k(I, exact_ids(Q, derived, 10), 10) >= 0.95


def test_approximate_results_are_real_scores_best_first():
    rng = np.random.default_rng(1)
    K, Q = normalize_rows(rng.standard_normal((2000, 16))), normalize_rows(rng.standard_normal((5, 16)))
    for kind in ("hnsw", "ivf"):
        index = VectorIndex(K, kind)
        assert index.kind == kind and not index.exact and len(index) == 2000
        D, I = index.search(Q, 300)  # k above efSearch (256): the beam is widened to k
        assert I.shape == D.shape and I.shape[1] > 0 and (I >= 0).all() and I.dtype == np.int64
        np.testing.assert_allclose(D, np.take_along_axis(Q @ K.T, I, axis=1), atol=1e-5)
        assert (np.diff(D, axis=1) <= 1e-6).all()
    D, I = VectorIndex(K, "hnsw").search(Q, 300)
    assert I.shape == (5, 300)


def test_auto_picks_flat_below_the_threshold_and_hnsw_above():
    K = normalize_rows(np.random.default_rng(2).standard_normal((100, 8)))
    assert VectorIndex(K, "auto").kind == "flat"
    assert VectorIndex(K, "auto", IndexParams(flat_max=50)).kind == "hnsw"
    assert VectorIndex(K).kind == "flat" and VectorIndex(K).exact
    with pytest.raises(ra.InvalidParameterError, match="index kind"):
        VectorIndex(K, "annoy")  # type: ignore[arg-type]
    assert IndexParams().nlist(1_000_000) == 4000 and IndexParams(ivf_nlist=7).nlist(100) == 7


def test_recall_at_k():
    assert recall_at_k(np.array([[1, 2, 3]]), np.array([[3, 2, 1]]), 3) == 1.0
    assert recall_at_k(np.array([[1, 2]]), np.array([[1, 5]]), 2) == 0.5
    assert recall_at_k(np.array([[1]]), np.array([[1, 2]]), 2) == 0.5  # a short row counts as a miss


# -- the index cache --------------------------------------------------------------------


@pytest.fixture
def keys():
    return normalize_rows(np.random.default_rng(3).standard_normal((500, 8)))


def files(folder):
    return sorted(p.name for p in (folder / "indexes").iterdir()) if (folder / "indexes").exists() else []


def test_cache_builds_once_then_loads(tmp_path, keys, monkeypatch):
    a = cached_index(keys, "hnsw", cache_dir=tmp_path)
    names = files(tmp_path)
    assert len(names) == 2 and {n.rsplit(".", 1)[1] for n in names} == {"faiss", "json"}
    built = []
    monkeypatch.setattr(VectorIndex, "_build", lambda self, K: built.append(1))
    b = cached_index(keys, "hnsw", cache_dir=tmp_path)
    assert built == [] and b.kind == "hnsw" and len(b) == 500
    assert b.faiss_index.hnsw.efSearch == IndexParams().hnsw_ef_search
    np.testing.assert_array_equal(a.search(keys[:5], 5)[1], b.search(keys[:5], 5)[1])


def test_cache_is_keyed_by_keys_and_settings(tmp_path, keys):
    cached_index(keys, "hnsw", cache_dir=tmp_path)
    cached_index(keys[:400], "hnsw", cache_dir=tmp_path)
    cached_index(keys, "hnsw", IndexParams(hnsw_m=8), cache_dir=tmp_path)
    cached_index(keys, "ivf", cache_dir=tmp_path)
    assert len(files(tmp_path)) == 8
    searched = cached_index(keys, "hnsw", IndexParams(hnsw_ef_search=16), cache_dir=tmp_path)  # same build
    assert len(files(tmp_path)) == 8 and searched.faiss_index.hnsw.efSearch == 16
    assert cached_index(keys, "flat", cache_dir=tmp_path).kind == "flat"  # flat: never cached
    cached_index(keys, "hnsw", cache_dir=tmp_path, use_cache=False)
    assert len(files(tmp_path)) == 8


@pytest.mark.parametrize("damage", ["truncate", "flip", "meta", "missing_meta"])
def test_damaged_cache_is_rebuilt_with_a_warning(tmp_path, keys, caplog, damage):
    cached_index(keys, "hnsw", cache_dir=tmp_path)
    folder = tmp_path / "indexes"
    path = next(folder.glob("*.faiss"))
    meta = path.with_suffix(".json")
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:100])
    elif damage == "flip":
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        path.write_bytes(bytes(raw))
    elif damage == "meta":
        doc = json.loads(meta.read_text())
        meta.write_text(json.dumps(dict(doc, n=1)))
    else:
        meta.unlink()
    with caplog.at_level(logging.WARNING, logger="retrieval_attention.index"):
        index = cached_index(keys, "hnsw", cache_dir=tmp_path)
    assert len(index) == 500 and index.search(keys[7], 1)[1][0, 0] == 7
    if damage != "missing_meta":
        assert "damaged" in caplog.text
    again = cached_index(keys, "hnsw", cache_dir=tmp_path)  # the rewritten pair verifies
    assert len(again) == 500
    assert not list(folder.glob("*.tmp"))


def test_cache_never_follows_a_symlink(tmp_path, keys, caplog):
    cached_index(keys, "hnsw", cache_dir=tmp_path)
    folder = tmp_path / "indexes"
    path = next(folder.glob("*.faiss"))
    elsewhere = tmp_path / "user_supplied.faiss"
    os.replace(path, elsewhere)
    path.symlink_to(elsewhere)
    index = cached_index(keys, "hnsw", cache_dir=tmp_path)  # rebuilt, the symlink replaced by a real file
    assert len(index) == 500 and not path.is_symlink()
