"""End to end with the real default model (all-MiniLM-L6-v2, offline) over the bundled corpus."""

from __future__ import annotations

import math

import numpy as np
import pytest

import retrieval_attention as ra


def test_store_shapes_and_unit_keys(store, corpus):
    n, d = len(corpus), 384
    assert store.K.shape == (n, d) and store.K.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(store.K, axis=1), 1.0, atol=1e-5)
    assert store.V.shape == (n, len(corpus.categories) + 2 + d)


@pytest.mark.parametrize(
    "title", ["Learn Python in One Hour", "Funny Cats Compilation 2024", "How to Make Pizza From Scratch"]
)
def test_exact_title_hits_and_is_its_own_top1(store, title):
    hard = store.hard_lookup(title.upper() + "  ")
    assert hard.hit and store.corpus.by_id(hard.ids[0]).title == title
    top = store.topk_search(title, k=3)
    assert store.corpus.by_id(top.ids[0]).title == title


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("hilarious kitten videos", "Hilarious Kitten Moments That Will Make You Laugh"),
        ("homemade pizza recipe", "How to Make Pizza From Scratch"),
        ("today's stock market update", "Stock Market News Today"),
        ("what is a black hole", "Black Holes Explained Simply"),
    ],
)
def test_paraphrase_misses_the_dict_but_is_top1_in_topk(store, query, expected):
    assert not store.hard_lookup(query).hit
    top = store.topk_search(query, k=5)
    assert store.corpus.by_id(top.ids[0]).title == expected
    soft = store.soft_attention(query)
    assert soft.ids[0] == top.ids[0]


def test_python_tutorial_and_python_snake_land_in_different_categories(store):
    tut = store.soft_attention("python tutorial")
    snake = store.soft_attention("python snake")
    cat_tut = store.corpus.by_id(tut.ids[0]).category
    cat_snake = store.corpus.by_id(snake.ids[0]).category
    assert cat_tut == "programming"
    assert cat_snake != cat_tut and cat_snake in {"nature", "pets"}
    mix_tut = store.describe_output(tut.output).category_mix
    mix_snake = store.describe_output(snake.output).category_mix
    assert max(mix_tut, key=mix_tut.get) == "programming"
    assert max(mix_snake, key=mix_snake.get) in {"nature", "pets"}


def test_default_temperature_gives_a_readable_distribution(store):
    """T = 0.05 concentrates weight on a handful of keys; ÷√d at T = 1 is almost uniform."""
    res = store.soft_attention("funny cat videos")
    assert 1.5 < res.effective_num_keys < 40
    flat = store.soft_attention("funny cat videos", temperature=1.0, scale="sqrt_d")
    assert flat.effective_num_keys > 0.99 * len(store)
    top8 = np.sort(flat.weights)[::-1][:8].sum()
    assert top8 < 8 / len(store) * 1.1


def test_temperature_moves_weights_in_the_right_direction(store):
    effs = [store.soft_attention("funny cat videos", temperature=t).effective_num_keys for t in (0.005, 0.05, 0.5, 5)]
    assert effs == sorted(effs) and effs[0] < 1.5 and effs[-1] > 0.95 * len(store)


def test_multilingual_encoder_finds_english_title_for_chinese_query(corpus, cache_dir):
    e5 = ra.KeyValueStore.from_corpus(corpus, ra.MULTILINGUAL_MODEL, cache_dir=cache_dir)
    res = e5.topk_search("股市新闻", k=3)
    titles = [corpus.by_id(i).title for i in res.ids]
    assert "Stock Market News Today" in titles[:1] or corpus.by_id(res.ids[0]).category in {"finance", "news"}, titles


def test_embedding_cache_is_reused_across_stores(corpus, cache_dir, store):
    import time

    t0 = time.perf_counter()
    again = ra.KeyValueStore.from_corpus(corpus, store.encoder, cache_dir=cache_dir)
    assert time.perf_counter() - t0 < 2.0, "second build must come from the cache, not re-embed"
    np.testing.assert_array_equal(again.K, store.K)


def test_weights_sum_to_one_for_many_queries(store):
    for q in ("cats", "python", "苹果", "música", "🙂", "x" * 5000):
        w = store.soft_attention(q).weights
        assert math.isclose(float(w.sum()), 1.0, rel_tol=1e-5) and np.isfinite(w).all()
