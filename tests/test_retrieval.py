"""The three retrievals on a tiny corpus with a deterministic fake encoder."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tolerances import assert_f32_close

import retrieval_attention as ra


def test_hard_hit_is_one_hot(tiny_store):
    res = tiny_store.hard_lookup("  learn PYTHON in one hour ")
    assert res.mode == "hard" and res.hit
    assert res.ids == ("a3",) and res.lookup_key == "learn python in one hour"
    w = np.zeros(len(tiny_store), np.float32)
    w[2] = 1
    np.testing.assert_array_equal(res.weights, w)
    np.testing.assert_array_equal(res.output, tiny_store.V[2])
    assert res.entropy == 0.0 and res.effective_num_keys == 1.0


def test_hard_miss_is_all_zero(tiny_store):
    res = tiny_store.hard_lookup("learn python in an hour")
    assert not res.hit and res.ids == ()
    assert res.lookup_key == "learn python in an hour"
    assert not res.weights.any() and not res.output.any()
    assert res.effective_num_keys == 0.0


def test_soft_attention_is_the_softmax_of_cosines(tiny_store):
    q = tiny_store.embed_query("funny cats")
    res = tiny_store.soft_attention("funny cats", temperature=0.2)
    expected = np.exp((tiny_store.K @ q) / 0.2)
    expected /= expected.sum()
    np.testing.assert_allclose(res.weights, expected, rtol=1e-5)
    np.testing.assert_allclose(res.output, expected @ tiny_store.V, rtol=1e-4, atol=1e-6)
    assert list(res.positions) == list(np.argsort(-expected, kind="stable"))
    assert res.ids[0] == "a1"


def test_sqrt_d_scaling_flattens(tiny_store):
    plain = tiny_store.soft_attention("funny cats", temperature=1.0, scale="none")
    scaled = tiny_store.soft_attention("funny cats", temperature=1.0, scale="sqrt_d")
    assert math.isclose(scaled.scale, 1 / math.sqrt(tiny_store.dim))
    assert scaled.entropy > plain.entropy
    assert scaled.effective_num_keys > plain.effective_num_keys


def test_topk_weights_are_renormalised_softmax_over_k(tiny_store):
    res = tiny_store.topk_search("python", k=2, temperature=0.1)
    assert res.mode == "topk" and len(res.ids) == 2
    assert math.isclose(float(res.weights.sum()), 1.0, rel_tol=1e-6)
    assert np.count_nonzero(res.weights) == 2
    scores = tiny_store.scores("python")
    assert set(res.positions) == set(np.argsort(-scores)[:2])
    np.testing.assert_allclose(res.scores, np.sort(scores)[::-1][:2], rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["funny cats", "python", "pizza dough", "kitten"]), st.floats(0.01, 5.0))
def test_topk_with_k_n_equals_full_attention(tiny_store_module, query, t):
    n = len(tiny_store_module)
    full = tiny_store_module.soft_attention(query, temperature=t)
    top = tiny_store_module.topk_search(query, k=n, temperature=t)
    np.testing.assert_allclose(top.weights, full.weights, atol=1e-6)
    np.testing.assert_allclose(top.output, full.output, atol=1e-5)


def test_k_larger_than_corpus_is_capped(tiny_store):
    assert len(tiny_store.topk_search("cats", k=50).ids) == len(tiny_store)


def test_temperature_extremes(tiny_store):
    cold = tiny_store.soft_attention("funny cats compilation", temperature=1e-4)
    hot = tiny_store.soft_attention("funny cats compilation", temperature=1e4)
    assert cold.weights[0] > 0.999 and cold.effective_num_keys < 1.01
    np.testing.assert_allclose(hot.weights, 1 / len(tiny_store), rtol=1e-3)


def test_output_reads_back(tiny_store):
    res = tiny_store.hard_lookup("Funny cats compilation")
    s = tiny_store.describe_output(res.output)
    assert {c: x for c, x in s.category_mix.items() if x > 0} == {"pets": 1.0}
    assert math.isclose(s.duration_s, 300, rel_tol=1e-5)
    assert math.isclose(s.views, 1_000_000, rel_tol=1e-4)
    assert s.nearest[0][0] == "a1"
    blend = tiny_store.soft_attention("funny cats", temperature=1e4)
    mix = tiny_store.describe_output(blend.output).category_mix
    assert math.isclose(sum(mix.values()), 1.0, rel_tol=1e-5) and math.isclose(mix["pets"], 0.4, rel_tol=1e-3)


def test_missing_views_are_filled_with_the_mean(tiny_store):
    lay = tiny_store.layout
    known = [math.log10(v + 1) for v in (1_000_000, 50_000, 200_000, 30_000)]
    assert math.isclose(float(tiny_store.V[4, lay.log_views_index]), sum(known) / 4, rel_tol=1e-6)


def test_all_three_share_one_embedding(tiny_store, fake_encoder):
    before = fake_encoder.calls
    out = tiny_store.retrieve("kitten moments", k=3)
    assert set(out) == {"hard", "topk", "soft"}
    assert fake_encoder.calls == before + 1


@pytest.mark.parametrize("q", ["", "   ", "\n\t", "\x00\x01", "x" * 10_001, None, 3])
def test_bad_queries_get_a_query_error(tiny_store, q):
    for call in (tiny_store.hard_lookup, tiny_store.topk_search, tiny_store.soft_attention):
        with pytest.raises(ra.QueryError):
            call(q)


@pytest.mark.parametrize("t", [0, -0.5, float("nan")])
def test_bad_temperature_in_store(tiny_store, t):
    with pytest.raises(ra.InvalidParameterError, match="temperature"):
        tiny_store.soft_attention("cats", temperature=t)
    with pytest.raises(ra.InvalidParameterError, match="temperature"):
        tiny_store.topk_search("cats", temperature=t)


def test_bad_k_and_scale(tiny_store):
    with pytest.raises(ra.InvalidParameterError, match="k must be >= 1"):
        tiny_store.topk_search("cats", k=0)
    with pytest.raises(ra.InvalidParameterError, match="scale"):
        tiny_store.soft_attention("cats", scale="cube")


def test_unicode_queries_work(tiny_store):
    for q in ("猫 视频", "مرحبا بالعالم", "🐱🐱", "gatos graciosos"):
        assert math.isclose(float(tiny_store.soft_attention(q).weights.sum()), 1.0, rel_tol=1e-5)


@pytest.fixture(scope="module")
def tiny_store_module(tmp_path_factory):
    from conftest import TINY_CSV, FakeEncoder

    corpus = ra.parse_corpus(TINY_CSV.encode(), "tiny.csv")
    return ra.KeyValueStore.from_corpus(corpus, FakeEncoder(), cache_dir=tmp_path_factory.mktemp("c"))


# -- one query, one q·K: what every view draws from (issue 12 item 3) -------------------------------


class _CountingKeys(np.ndarray):
    """K that counts its ``K @ q`` products (the store's only q·K), to show retrieve() does one."""

    products = 0

    def __matmul__(self, other):
        type(self).products += 1
        return np.asarray(self) @ other


def test_retrieve_embeds_once_and_computes_q_dot_k_once(tiny_store, fake_encoder):
    tiny_store.K = tiny_store.K.view(_CountingKeys)
    _CountingKeys.products = 0
    calls = fake_encoder.calls
    out = tiny_store.retrieve("funny kitten videos", k=3, temperature=0.1)
    assert fake_encoder.calls == calls + 1  # one embedding
    assert _CountingKeys.products == 1  # one q·K for all three
    scores = out["soft"].all_scores
    assert scores.shape == (len(tiny_store),) and scores.dtype == np.float32
    assert out["hard"].all_scores is scores and out["topk"].all_scores is scores


def _assert_same_result(a: ra.RetrievalResult, b: ra.RetrievalResult) -> None:
    """Bit for bit: every array equal, every setting equal."""
    assert (a.mode, a.query, a.ids, a.temperature, a.scale) == (b.mode, b.query, b.ids, b.temperature, b.scale)
    for name in ("positions", "scores", "weights", "output", "all_scores"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)


@pytest.mark.parametrize("scale", ["none", "sqrt_d", 0.5])
def test_retrieve_equals_the_single_calls_bit_for_bit(tiny_store, scale):
    out = tiny_store.retrieve("python crash course", k=2, temperature=0.2, scale=scale)
    _assert_same_result(out["soft"], tiny_store.soft_attention("python crash course", 0.2, scale))
    _assert_same_result(out["topk"], tiny_store.topk_search("python crash course", 2, 0.2, scale))
    hard = tiny_store.hard_lookup("python crash course")
    assert (out["hard"].ids, out["hard"].lookup_key) == (hard.ids, hard.lookup_key)
    np.testing.assert_array_equal(out["hard"].weights, hard.weights)


def test_topk_scores_are_the_all_scores_of_its_keys(tiny_store):
    top = tiny_store.retrieve("hilarious cats", k=3)["topk"]
    np.testing.assert_array_equal(top.scores, top.all_scores[top.positions])  # D = all_scores[I]
    D, I = tiny_store.index.search(tiny_store.embed_query("hilarious cats"), 3)
    np.testing.assert_array_equal(I[0], top.positions)  # FAISS picked the keys
    assert_f32_close(D[0], top.scores, scale=1.0)  # and agrees on their scores (its own float32 kernel)
    assert list(top.scores) == sorted(top.scores, reverse=True)


def test_soft_attention_from_scores_is_soft_attention(tiny_store):
    res = tiny_store.retrieve("pizza from scratch", temperature=0.05)["soft"]
    from_scores = tiny_store.soft_attention_from_scores("pizza from scratch", res.all_scores, 1.0, "sqrt_d")
    _assert_same_result(from_scores, tiny_store.soft_attention("pizza from scratch", 1.0, "sqrt_d"))
    assert from_scores.scale == 1 / math.sqrt(tiny_store.dim)


def test_soft_attention_from_scores_refuses_bad_scores(tiny_store):
    with pytest.raises(ra.InvalidParameterError, match="shape"):
        tiny_store.soft_attention_from_scores("cats", np.zeros(3, np.float32))
    bad = np.zeros(len(tiny_store), np.float32)
    bad[1] = np.nan
    with pytest.raises(ra.InvalidParameterError, match="finite"):
        tiny_store.soft_attention_from_scores("cats", bad)


@pytest.mark.slow
def test_one_q_dot_k_with_the_real_model(store):
    query = "funny cat videos"
    out = store.retrieve(query, k=5)
    scores = out["soft"].all_scores
    assert out["hard"].all_scores is scores and out["topk"].all_scores is scores
    np.testing.assert_allclose(scores, store.K @ store.embed_query(query), rtol=0, atol=0)
    _assert_same_result(out["soft"], store.soft_attention(query))
    _assert_same_result(out["topk"], store.topk_search(query, k=5))
    np.testing.assert_array_equal(out["topk"].scores, scores[out["topk"].positions])
    plain = store.soft_attention_from_scores(query, scores, 1.0, "sqrt_d")
    _assert_same_result(plain, store.soft_attention(query, 1.0, "sqrt_d"))
    assert store.corpus.by_id(out["soft"].ids[0]).category == "pets"
