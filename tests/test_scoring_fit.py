"""The additive (Bahdanau) scorer trained to reproduce the cosine (issue 27, section 5): rank correlation
against scipy, a loss that falls, the same fit from the same seed, and a fit far better than random
weights, on synthetic keys and on the real default model's bundled corpus."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr
from threadpoolctl import threadpool_limits

from retrieval_attention.core.scoring import AdditiveScorer
from retrieval_attention.core.scoring_fit import fit_additive, median_spearman, spearman
from retrieval_attention.errors import InvalidParameterError


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


@pytest.fixture(scope="module")
def keys() -> tuple[np.ndarray, np.ndarray]:
    """60 unit keys in 5 clusters (d = 16), and a second, noisier text of each item: data with a ranking to learn."""
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(5, 16))
    K = unit(centres[np.arange(60) % 5] + 0.6 * rng.normal(size=(60, 16)))
    return K, unit(K + 0.3 * rng.normal(size=K.shape))


SMALL = {"hidden": 16, "steps": 300, "batch": 8, "keys_per_step": 30, "lr": 0.02}


@pytest.fixture(scope="module")
def small_fit(keys):
    with threadpool_limits(limits=1):
        return fit_additive(*keys, **SMALL)


def test_spearman_matches_scipy_with_and_without_ties():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 40)), rng.normal(size=(6, 40))
    b[:, :20] = np.round(b[:, :20])  # many ties
    a[0, :10] = 1.0
    ours = spearman(a, b)
    want = [spearmanr(x, y).statistic for x, y in zip(a, b)]
    np.testing.assert_allclose(ours, want, atol=1e-12)
    assert spearman(a[1], b[1]) == pytest.approx(want[1], abs=1e-12)
    assert spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    with pytest.raises(InvalidParameterError):
        spearman([1.0, 2.0], [1.0, 2.0, 3.0])


def test_the_loss_falls(small_fit):
    losses = small_fit.losses
    assert losses.shape == (SMALL["steps"],) and np.all(np.isfinite(losses))
    assert losses[-30:].mean() < 0.5 * losses[:30].mean()


def test_the_same_seed_gives_the_same_fit_and_another_seed_another(keys, small_fit):
    with threadpool_limits(limits=1):
        again = fit_additive(*keys, **SMALL)
        other = fit_additive(*keys, **SMALL, seed=1)
    for name in ("W", "U", "v"):
        np.testing.assert_array_equal(getattr(again.scorer, name), getattr(small_fit.scorer, name))
    np.testing.assert_array_equal(again.losses, small_fit.losses)
    assert again.spearman_trained == small_fit.spearman_trained
    assert not np.array_equal(other.scorer.W, small_fit.scorer.W)
    assert not np.array_equal(other.held_out_items, small_fit.held_out_items)


def test_the_trained_scorer_ranks_held_out_queries_like_the_cosine_and_random_weights_do_not(keys, small_fit):
    K = keys[0]
    f = small_fit
    assert set(f.train_items).isdisjoint(f.held_out_items)
    assert sorted([*f.train_items, *f.held_out_items]) == list(range(len(K)))
    assert len(f.held_out_items) == 12 and f.n_train_queries == 2 * 48  # titles and extra texts of 48 items
    assert f.spearman_trained > 0.6 and f.spearman_trained > f.spearman_initial + 0.4
    assert f.spearman_trained == pytest.approx(median_spearman(f.scorer, K[f.held_out_items], K))
    start = AdditiveScorer.random(K.shape[1], SMALL["hidden"], 0, weight_std=0.3)
    np.testing.assert_array_equal(f.initial.W, start.W)  # the random start is the seeded random scorer


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"K": np.ones((3, 4))}, "n >= 4"),
        ({"K": np.ones((8, 4)), "extra": np.ones((8, 5))}, "shape"),
        ({"K": np.ones((8, 4)), "held_out": 1.0}, "held_out"),
        ({"K": np.ones((8, 4)), "steps": 0}, "steps"),
    ],
)
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(InvalidParameterError, match=match):
        fit_additive(**kwargs)


@pytest.mark.slow
def test_on_the_real_model_the_trained_scorer_reproduces_the_cosine_ranking(store):
    """all-MiniLM-L6-v2 over the bundled corpus, the lesson's settings: titles and title + description as queries."""
    with threadpool_limits(limits=1):
        f = fit_additive(store.K, store.value_embeddings, hidden=64, steps=400, seed=0)
    assert f.n_train_queries == 2 * len(f.train_items) and len(f.held_out_items) == round(0.2 * len(store))
    assert f.spearman_initial < 0.2, "random weights rank keys almost arbitrarily"
    assert f.spearman_trained > 0.6, "trained, the ranking follows the cosine on titles it never saw"
    q = store.embed_query("funny cat videos")
    assert median_spearman(f.scorer, q[None, :], store.K) > 0.5
