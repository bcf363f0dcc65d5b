"""Recommender mode: target attention over a watch history, ranking, baselines, leave-last-out.

Unit tests use a hand-made store (3-d unit vectors chosen so the scores are round numbers); the
persona tests run the real default model over the bundled corpus and histories.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import retrieval_attention as ra
from retrieval_attention.recommender import (
    METHODS,
    RECOMMENDER_TEMPERATURE,
    RecommenderError,
    cross_attention_matrix,
    evaluate_leave_last_out,
    history_attention,
    recency_decay,
    recommend,
    target_attention,
)

# -- a hand-made store ----------------------------------------------------------------------------

HAND_CSV = """id,title,category,views
h1,Pizza dough,cooking,100
h2,Pizza oven,cooking,5000
h3,Python basics,programming,20
t1,Neapolitan pizza,cooking,300
t2,Python loops,programming,
x1,Cat video,pets,90000
"""

# keys: t1 = e1, so its scores against h1, h2, h3 are 1.0, 0.6 and 0.0
HAND_K = np.array(
    [
        [1.0, 0.0, 0.0],  # h1
        [0.6, 0.8, 0.0],  # h2
        [0.0, 1.0, 0.0],  # h3
        [1.0, 0.0, 0.0],  # t1
        [0.0, 0.6, 0.8],  # t2
        [0.0, 0.0, 1.0],  # x1
    ],
    dtype=np.float32,
)
HAND_V = np.array(
    [
        [0.0, 1.0, 0.0],  # h1
        [0.0, 0.0, 1.0],  # h2
        [1.0, 0.0, 0.0],  # h3
        [1.0, 0.0, 0.0],  # t1
        [0.0, 1.0, 0.0],  # t2
        [0.0, 0.0, 1.0],  # x1
    ],
    dtype=np.float32,
)
HISTORY = ["h1", "h2", "h3"]


class HandEncoder:
    """Only what KeyValueStore needs to hold hand-made vectors: a name and a dimension."""

    name = "hand"
    cache_id = "hand-v1"
    dim = 3
    max_seq_length = 0


@pytest.fixture
def hand_store() -> ra.KeyValueStore:
    corpus = ra.parse_corpus(HAND_CSV.encode(), "hand.csv")
    return ra.KeyValueStore(corpus, HandEncoder(), HAND_K, HAND_V)


def _softmax_by_hand(scores: list[float], T: float) -> np.ndarray:
    e = [math.exp(s / T) for s in scores]
    return np.array([x / sum(e) for x in e])


def test_weights_are_the_hand_computed_softmax(hand_store):
    ta = target_attention(hand_store, HISTORY, "t1", temperature=0.5)
    expected = _softmax_by_hand([1.0, 0.6, 0.0], 0.5)  # e^2, e^1.2, e^0 normalised
    np.testing.assert_allclose(ta.scores, [1.0, 0.6, 0.0], atol=1e-7)
    np.testing.assert_allclose(ta.weights, expected, rtol=1e-6)
    np.testing.assert_allclose(ta.weights, [0.6310, 0.2835, 0.0854], atol=1e-4)
    assert math.isclose(float(ta.weights.sum()), 1.0, rel_tol=1e-12)
    # interest = Σ wᵢ vᵢ, score = interest · q
    np.testing.assert_allclose(ta.interest, expected @ HAND_V[:3], rtol=1e-6)
    assert math.isclose(ta.score, float(expected @ HAND_V[:3] @ HAND_K[3]), rel_tol=1e-6)
    assert ta.history_titles == ("Pizza dough", "Pizza oven", "Python basics")
    assert ta.target_title == "Neapolitan pizza" and not ta.masked.any()
    assert ta.top(1)[0][:2] == ("h1", "Pizza dough")
    np.testing.assert_allclose(ta.decay, 1.0)
    np.testing.assert_allclose(ta.relevance, ta.weights)


def test_unnormalised_switch_gives_raw_scores(hand_store):
    ta = target_attention(hand_store, HISTORY, "t1", normalize=False)
    np.testing.assert_allclose(ta.weights, [1.0, 0.6, 0.0], atol=1e-7)  # DIN: no softmax
    assert not math.isclose(float(ta.weights.sum()), 1.0)
    np.testing.assert_allclose(ta.interest, 1.0 * HAND_V[0] + 0.6 * HAND_V[1], atol=1e-7)
    assert math.isclose(ta.score, 0.0, abs_tol=1e-7)  # e1·(0, 1, 0.6) = 0
    # the temperature plays no part without the softmax
    other = target_attention(hand_store, HISTORY, "t1", normalize=False, temperature=7.0)
    np.testing.assert_array_equal(other.weights, ta.weights)


def test_recency_is_its_own_factor(hand_store):
    np.testing.assert_allclose(recency_decay(3, half_life=1.0), [0.25, 0.5, 1.0])
    np.testing.assert_array_equal(recency_decay(3, None), [1.0, 1.0, 1.0])
    ta = target_attention(hand_store, HISTORY, "t1", temperature=0.5, half_life=1.0)
    relevance = _softmax_by_hand([1.0, 0.6, 0.0], 0.5)
    np.testing.assert_allclose(ta.relevance, relevance, rtol=1e-6)
    np.testing.assert_allclose(ta.decay, [0.25, 0.5, 1.0])
    product = relevance * [0.25, 0.5, 1.0]
    np.testing.assert_allclose(ta.weights, product / product.sum(), rtol=1e-6)
    # the same as adding log-decay to the logits
    np.testing.assert_allclose(ta.weights, _softmax_by_hand([2 + math.log(0.25), 1.2 + math.log(0.5), 0.0], 1.0))
    raw = target_attention(hand_store, HISTORY, "t1", normalize=False, half_life=1.0)
    np.testing.assert_allclose(raw.weights, [0.25, 0.3, 0.0], atol=1e-7)


def test_target_in_history_is_masked_not_self_explained(hand_store):
    ta = target_attention(hand_store, [*HISTORY, "t1"], "t1", temperature=0.5)
    assert ta.masked.tolist() == [False, False, False, True]
    assert ta.weights[3] == 0.0
    np.testing.assert_allclose(ta.weights[:3], _softmax_by_hand([1.0, 0.6, 0.0], 0.5), rtol=1e-6)
    alone = target_attention(hand_store, ["t1"], "t1")
    for a in (alone.weights, alone.interest, alone.output):
        assert not a.any() and np.isfinite(a).all()
    assert alone.score == 0.0 and alone.effective_num_keys == 0.0


def test_bad_input_raises_clear_errors(hand_store):
    with pytest.raises(RecommenderError, match="empty"):
        target_attention(hand_store, [], "t1")
    with pytest.raises(RecommenderError, match="empty"):
        recommend(hand_store, [])
    with pytest.raises(RecommenderError, match="'nope'"):
        target_attention(hand_store, ["h1", "nope"], "t1")
    with pytest.raises(RecommenderError, match="'zzz'"):
        target_attention(hand_store, HISTORY, "zzz")
    with pytest.raises(RecommenderError, match="one string"):
        recommend(hand_store, "h1")
    with pytest.raises(RecommenderError):
        target_attention(hand_store, HISTORY, ["t1"])
    with pytest.raises(RecommenderError, match="unknown"):
        cross_attention_matrix(hand_store, HISTORY, ["t1", "bad"])
    for T in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ra.InvalidParameterError):
            target_attention(hand_store, HISTORY, "t1", temperature=T)
    for hl in (0, -2, float("nan"), "x"):
        with pytest.raises(ra.InvalidParameterError):
            recommend(hand_store, HISTORY, half_life=hl)
    with pytest.raises(ra.InvalidParameterError, match="method"):
        recommend(hand_store, HISTORY, method="random")
    with pytest.raises(ra.InvalidParameterError):
        recommend(hand_store, HISTORY, k=0)
    assert issubclass(RecommenderError, ra.RetrievalAttentionError) and issubclass(RecommenderError, ValueError)


def test_cross_attention_matrix_equals_one_target_at_a_time(hand_store):
    X = cross_attention_matrix(hand_store, HISTORY, temperature=0.3, half_life=2.0)
    assert X.candidate_ids == ("t1", "t2", "x1") and X.weights.shape == (3, 3) and X.interest.shape == (3, 3)
    for r, cid in enumerate(X.candidate_ids):
        ta = target_attention(hand_store, HISTORY, cid, temperature=0.3, half_life=2.0)
        np.testing.assert_allclose(X.weights[r], ta.weights, rtol=1e-9)
        np.testing.assert_allclose(X.interest[r], ta.interest, rtol=1e-9, atol=1e-12)
        assert math.isclose(X.target_scores[r], ta.score, rel_tol=1e-9, abs_tol=1e-12)


def test_recommend_on_hand_store(hand_store):
    for method in METHODS:
        rec = recommend(hand_store, HISTORY, k=10, method=method)
        assert rec.n_candidates == 3 and len(rec.ids) == 3  # k capped at the unseen videos
        assert not set(rec.ids) & set(HISTORY)
        assert np.isfinite(rec.scores).all()
        assert list(rec.scores) == sorted(rec.scores, reverse=True)
    # brute force, one candidate at a time: w = softmax(K_h k_c / T), score = (w V_h)·k_c
    brute = {}
    for c, kc in zip(("t1", "t2", "x1"), HAND_K[3:]):
        w = _softmax_by_hand(list(HAND_K[:3] @ kc), RECOMMENDER_TEMPERATURE)
        brute[c] = float(w @ HAND_V[:3] @ kc)
    rec = recommend(hand_store, HISTORY, k=2)
    assert rec.ids == tuple(sorted(brute, key=lambda c: -brute[c]))[:2]
    np.testing.assert_allclose(rec.scores, sorted(brute.values(), reverse=True)[:2], rtol=1e-6)
    pop = recommend(hand_store, HISTORY, k=3, method="popular")
    assert pop.ids == ("x1", "t1", "t2")  # t2 has no view count: counts as 0
    np.testing.assert_array_equal(pop.scores, [90000, 300, 0])
    # everything seen, nothing to recommend: an empty ranking, not an error
    everything = recommend(hand_store, ["h1", "h2", "h3", "t1", "t2", "x1"], k=5)
    assert everything.ids == () and everything.n_candidates == 0
    # exclude_seen=False ranks seen videos too, but none of them attends to itself
    allv = recommend(hand_store, HISTORY, k=6, exclude_seen=False)
    assert set(allv.ids) == {"h1", "h2", "h3", "t1", "t2", "x1"} and np.isfinite(allv.scores).all()
    for cid, mask in zip(allv.attention.candidate_ids, allv.attention.mask):
        assert [h != cid for h in HISTORY] == mask.tolist()


def test_mean_baseline_is_attention_with_equal_weights(hand_store):
    mean = recommend(hand_store, HISTORY, k=3, method="mean")
    expected = HAND_V[:3].mean(axis=0) @ HAND_K[[3, 4, 5]].T  # (3,) mean · k_c
    by_id = dict(zip(mean.ids, mean.scores))
    np.testing.assert_allclose([by_id[c] for c in ("t1", "t2", "x1")], expected, rtol=1e-6)
    hot = recommend(hand_store, HISTORY, k=3, temperature=1e6)  # T -> ∞: uniform weights
    hot_by_id = dict(zip(hot.ids, hot.scores))
    np.testing.assert_allclose([hot_by_id[c] for c in by_id], list(by_id.values()), rtol=1e-5)
    assert mean.attention is None and mean.explanations == ()


def test_explanations_name_the_heaviest_history_item(hand_store):
    rec = recommend(hand_store, HISTORY, k=3, temperature=0.5)
    assert rec.attention.weights.shape == (3, 3)
    assert rec.attention.candidate_ids == rec.ids
    for e, w in zip(rec.explanations, rec.attention.weights):
        assert e.because_id == HISTORY[int(np.argmax(w))] and math.isclose(e.weight, float(w.max()))
    pizza = next(e for e in rec.explanations if e.video_id == "t1")
    assert pizza.because_title == "Pizza dough" and math.isclose(pizza.similarity, 1.0, rel_tol=1e-6)
    assert math.isclose(pizza.weight, _softmax_by_hand([1.0, 0.6, 0.0], 0.5)[0], rel_tol=1e-6)
    assert pizza.text == "because you watched 'Pizza dough' (weight 0.63)"


@settings(max_examples=60, deadline=None)
@given(
    S=arrays(np.float64, (4, 5), elements=st.floats(-1, 1)),
    T=st.floats(0.01, 10),
    half_life=st.one_of(st.none(), st.floats(0.1, 20)),
)
def test_history_attention_weights_are_a_distribution(S, T, half_life):
    q = np.eye(4)  # (4, 4): row c of q Kᵀ is then row c of S
    K = S.T  # (5, 4)
    V = np.arange(10.0).reshape(5, 2)
    out, w = history_attention(q, K, V, temperature=T, decay=recency_decay(5, half_life))
    assert np.isfinite(w).all() and (w >= 0).all()
    np.testing.assert_allclose(w.sum(axis=1), 1.0, rtol=1e-9)
    np.testing.assert_allclose(out, w @ V)
    assert (out >= V.min(axis=0) - 1e-9).all() and (out <= V.max(axis=0) + 1e-9).all()


def test_temperature_limits():
    q = np.array([[1.0, 0.0]])
    K = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9]])
    V = np.eye(3)
    _, cold = history_attention(q, K, V, temperature=1e-4)
    _, hot = history_attention(q, K, V, temperature=1e6)
    np.testing.assert_allclose(cold, [[1, 0, 0]], atol=1e-9)
    np.testing.assert_allclose(hot, np.full((1, 3), 1 / 3), atol=1e-6)


# -- the real default model over the bundled personas ---------------------------------------------


@pytest.fixture(scope="session")
def personas(store) -> dict[str, ra.Persona]:
    return {p.id: p for p in ra.load_histories(corpus=store.corpus)}


def _category_mass(store, ta) -> dict[str, float]:
    cats = np.array([store.corpus.by_id(h).category for h in ta.history_ids])
    return {c: float(ta.weights[cats == c].sum()) for c in set(cats)}


def test_two_targets_read_a_mixed_history_differently(store, personas):
    """Mei alternates recipes and Python tutorials; a pizza and a Python video attend to different halves."""
    history = personas["p1_home_cook_coder"].history
    pizza = target_attention(store, history, "v141")  # Neapolitan-Style Pizza in a Home Oven (cooking)
    python = target_attention(store, history, "v204")  # Your First Python Program (programming)
    assert store.corpus.by_id(pizza.top(1)[0][0]).category == "cooking"
    assert store.corpus.by_id(python.top(1)[0][0]).category == "programming"
    assert _category_mass(store, pizza)["cooking"] > 0.8
    assert _category_mass(store, python)["cooking"] < 0.2
    assert np.abs(pizza.weights - python.weights).sum() > 1.0  # total variation > 0.5
    for ta in (pizza, python):
        assert math.isclose(float(ta.weights.sum()), 1.0, rel_tol=1e-9)
        assert 1.0 < ta.effective_num_keys < len(history)  # soft, not a hard lookup, not uniform
        assert ta.temperature == RECOMMENDER_TEMPERATURE
    # the output vector reads back through the store: the category mix follows the weights
    assert next(iter(store.describe_output(pizza.output).category_mix)) == "cooking"
    assert next(iter(store.describe_output(python.output).category_mix)) == "programming"


def test_recommend_on_bundled_personas(store, personas):
    differs = {"mean": False, "popular": False}
    for p in personas.values():
        recs = {m: recommend(store, p.history, k=10, method=m) for m in METHODS}
        for m, rec in recs.items():
            assert len(rec.ids) == 10 and len(set(rec.ids)) == 10
            assert not set(rec.ids) & set(p.history), (p.id, m)
            assert np.isfinite(rec.scores).all()
            assert rec.n_candidates == len(store) - len(p.history)
        for base in differs:
            differs[base] |= recs[base].ids != recs["attention"].ids
        att = recs["attention"]
        assert att.attention.weights.shape == (10, len(p.history))
        np.testing.assert_allclose(att.attention.weights.sum(axis=1), 1.0, rtol=1e-9)
        for e in att.explanations:
            assert e.because_id in p.history and 0 < e.weight <= 1
    assert differs == {"mean": True, "popular": True}


def test_unnormalised_and_recency_modes_stay_finite(store, personas):
    history = personas["p5_fitness_to_finance_drift"].history
    X = cross_attention_matrix(store, history, normalize=False, half_life=3.0)
    for a in (X.scores, X.relevance, X.decay, X.weights, X.interest, X.target_scores):
        assert np.isfinite(a).all()
    np.testing.assert_allclose(X.weights, np.where(X.mask, X.scores * X.decay, 0.0), rtol=1e-6)
    assert X.decay[-1] == 1.0 and X.decay[0] < 0.01  # 21 videos ago, half-life 3
    rec = recommend(store, history, k=10, normalize=False, half_life=3.0)
    assert len(rec.ids) == 10 and not set(rec.ids) & set(history)


def test_leave_last_out_numbers_are_computed(store, personas):
    ev = evaluate_leave_last_out(store, list(personas.values()), k=10)
    assert ev.skipped == () and set(ev.held_out) == set(personas)
    for p in personas.values():
        assert ev.held_out[p.id] == p.history[-1]
        assert ev.n_candidates[p.id] == len(store) - len(p.history) + 1
    for m, s in ev.scores.items():
        ranks = list(s.ranks.values())
        assert 0.0 <= s.hit_rate <= 1.0 and 0.0 < s.mrr <= 1.0
        assert s.hit_rate == pytest.approx(np.mean([r <= 10 for r in ranks]))
        assert s.mrr == pytest.approx(np.mean([1 / r for r in ranks]))
        assert all(1 <= r <= len(store) for r in ranks)
        assert len(set(ranks)) > 1, m  # ranks vary across personas: not a constant
    # the methods give different numbers, and the title embedding beats popularity on these personas
    assert len({(s.hit_rate, s.mrr) for s in ev.scores.values()}) == 3
    assert ev.scores["attention"].mrr > ev.scores["popular"].mrr
    assert ev.scores["mean"].hit_rate > ev.scores["popular"].hit_rate
    # a stricter cut-off can only lower the hit rate; the ranks (and MRR) do not depend on k
    strict = evaluate_leave_last_out(store, list(personas.values()), k=1, methods=["attention"])
    assert strict.scores["attention"].hit_rate < ev.scores["attention"].hit_rate
    assert strict.scores["attention"].ranks == ev.scores["attention"].ranks


def test_leave_last_out_skips_short_histories(store):
    one = ra.Persona(id="one", name="One", description="", history=("v001",))
    two = ra.Persona(id="two", name="Two", description="", history=("v270", "v252"))
    ev = evaluate_leave_last_out(store, [one, two], methods=["mean"])
    assert ev.skipped == ("one",) and list(ev.scores["mean"].ranks) == ["two"]
    with pytest.raises(RecommenderError, match="nothing to leave out"):
        evaluate_leave_last_out(store, [one])


def test_history_attention_refuses_shapes_that_do_not_fit():
    q, K, V = np.ones((1, 3)), np.ones((4, 3)), np.ones((4, 2))
    for args, kw in (
        ((np.ones(3), K, V), {}),  # a 1-D target
        ((q, np.ones((4, 2)), V), {}),  # d differs
        ((q, K, np.ones((5, 2))), {}),  # H differs
        ((q, K, V), {"decay": np.ones(3)}),
        ((q, K, V), {"mask": np.ones((2, 4), bool)}),
    ):
        with pytest.raises(ra.InvalidParameterError):
            history_attention(*args, **kw)


def test_personas_are_read_per_language() -> None:
    """The bundled personas carry their names and descriptions in Chinese and Spanish; the ids and histories stay."""
    en, zh, es = (ra.load_histories(lang=lang) for lang in ("en", "zh", "es"))
    assert [p.id for p in en] == [p.id for p in zh] == [p.id for p in es]
    assert [p.history for p in en] == [p.history for p in es]
    for p_en, p_zh, p_es in zip(en, zh, es):
        assert p_zh.name != p_en.name and p_zh.description != p_en.description
        assert any("\u4e00" <= ch <= "\u9fff" for ch in p_zh.name + p_zh.description)
        assert p_es.name != p_en.name or p_es.description != p_en.description
    priya = {p.id: p for p in es}["p8_snake_keeper_pythonista"]
    assert priya.name == "Priya, cuidadora de serpientes que aprende Python"
    assert ra.load_histories()[0].name == "Mei, home cook who codes"  # no language: as written


def test_persona_translations_must_be_objects(tmp_path) -> None:
    bad = tmp_path / "h.json"
    bad.write_text('{"personas": [{"id": "a", "history": ["v001"], "translations": {"zh": "梅"}}]}', encoding="utf-8")
    with pytest.raises(ra.CorpusError, match="translations"):
        ra.load_histories(bad)
