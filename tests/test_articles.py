"""The source articles' worked examples: article 001's hand calculation (112 and 96, ÷ 8, softmax),
Riley in three parts (article 004) on MiniLM's own q, k, v, and 我爱吃苹果 aligned (articles 000/001)
on multilingual-e5-small's word vectors."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tolerances import assert_f32_close

from retrieval_attention.articles import (
    ALIGN_EN,
    ALIGN_ES,
    ALIGN_ZH,
    ARTICLE_DK,
    ARTICLE_RATIO,
    ARTICLE_SCORES,
    EXAMPLE_VALUES,
    MAX_WORDS,
    RILEY_EN,
    RILEY_ES,
    align,
    mix_values,
    normalise_by_sum,
    pairwise_update,
    relevance_update,
    riley_parts,
    score_steps,
    split_words,
    unit_rows,
    values_mix,
)
from retrieval_attention.core.attention import softmax
from retrieval_attention.errors import InvalidParameterError, QueryError, UnknownTokenError
from retrieval_attention.inspector import TransformerInspector, load_inspector


@pytest.fixture(scope="module")
def ins() -> TransformerInspector:
    return load_inspector()


# ----------------------------------------------------------------------------- article 001 by hand


def test_the_articles_worked_example() -> None:
    """112 and 96, ÷ √64 = 8 -> 14 and 12, softmax -> 0.88 / 0.12, z = 0.88·v₁ + 0.12·v₂."""
    s = score_steps(ARTICLE_SCORES, ARTICLE_DK, EXAMPLE_VALUES)
    assert s.sqrt_dk == 8.0
    assert s.scaled.tolist() == [14.0, 12.0]
    assert [f"{w:.2f}" for w in s.weights] == ["0.88", "0.12"]
    e = math.exp(-2.0)  # e^12 / e^14: the stable numerators are 1 and e^-2
    assert s.shifted_exp.tolist() == pytest.approx([1.0, e])
    assert s.weights.tolist() == pytest.approx([1 / (1 + e), e / (1 + e)])  # 0.8808, 0.1192
    v1, v2 = np.array(EXAMPLE_VALUES)
    np.testing.assert_allclose(s.z, s.weights[0] * v1 + s.weights[1] * v2)
    np.testing.assert_allclose(s.z.round(2), (0.88 * v1 + 0.12 * v2).round(2))  # the article's z, to 2 decimals
    np.testing.assert_allclose(s.weighted.sum(axis=0), s.z)


def test_worked_example_equals_the_core_softmax_and_a_brute_force() -> None:
    rng = np.random.default_rng(1)
    scores, V = rng.normal(scale=30, size=3), rng.normal(size=(3, 4))
    s = score_steps(scores, 16, V)
    brute = [math.exp(x / 4) for x in scores]
    np.testing.assert_allclose(s.weights, [b / sum(brute) for b in brute])
    np.testing.assert_allclose(s.weights, softmax(scores / 4))
    np.testing.assert_allclose(s.z, s.weights @ V)


@pytest.mark.parametrize(
    ("scores", "d_k", "V", "match"),
    [
        ([1.0, 2.0], 0, [[1.0], [2.0]], "d_k must be"),
        ([1.0, 2.0], 2.5, [[1.0], [2.0]], "d_k must be"),
        ([1.0, float("nan")], 4, [[1.0], [2.0]], "finite"),
        ([1.0, 2.0], 4, [[1.0]], "one value vector per score"),
        ([], 4, [[1.0]], "non-empty"),
        ([1.0, 2.0], 4, [[1.0], ["x"]], "numbers"),
    ],
)
def test_worked_example_bad_input(scores, d_k, V, match) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        score_steps(scores, d_k, V)


# ----------------------------------------------------------------------------- Riley, part 1


@pytest.mark.parametrize("sentence", [RILEY_ES, RILEY_EN])
def test_values_only_weight_one_on_itself_returns_its_own_value(ins, sentence) -> None:
    r = riley_parts(ins, sentence, layer=0, head=2)
    i = r.index("riley")
    own = np.zeros(len(r.labels))
    own[i] = 1.0
    np.testing.assert_array_equal(mix_values(r.V, own), r.V[i])
    np.testing.assert_array_equal(r.mix(i, r.index("perro" if sentence == RILEY_ES else "dog"), ratio=1.0), r.V[i])


def test_values_only_mix_is_the_articles_formula(ins) -> None:
    r = riley_parts(ins)
    i, j = r.index("riley"), r.index("perro")
    np.testing.assert_allclose(r.mix(i, j), ARTICLE_RATIO * r.V[i] + (1 - ARTICLE_RATIO) * r.V[j], atol=1e-6)
    np.testing.assert_allclose(values_mix(r.V, i, j, 0.0), r.V[j], atol=1e-7)


def test_values_mix_bad_input() -> None:
    V = np.eye(3)
    for ratio in (-0.1, 1.5, math.nan, True, "half"):
        with pytest.raises(InvalidParameterError, match=r"ratio must be a number in \[0, 1\]"):
            values_mix(V, 0, 1, ratio)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"word must be an integer in 0\.\.2"):
        values_mix(V, 0, 3)
    with pytest.raises(InvalidParameterError, match="sum to 1"):
        mix_values(V, [0.5, 0.2, 0.2])
    with pytest.raises(InvalidParameterError, match=r"mix \(n,\)"):
        mix_values(V, [1.0, 0.0])


# ----------------------------------------------------------------------------- Riley, parts 2 and 3


@pytest.mark.parametrize(("sentence", "layer", "head"), [(RILEY_ES, 0, 0), (RILEY_ES, 3, 5), (RILEY_EN, 5, 11)])
def test_keys_only_is_symmetric_queries_against_keys_is_not(ins, sentence, layer, head) -> None:
    r = riley_parts(ins, sentence, layer, head)
    n = len(r.labels)
    assert r.kk.shape == r.qk.shape == (n, n) and r.Q.shape == r.K.shape == r.V.shape == (n, ins.head_dim)
    assert_f32_close(r.kk, r.kk.T)  # K·Kᵀ by BLAS is symmetric only up to the order of its sums
    assert r.asymmetry_kk < 1e-6
    assert r.asymmetry_qk > 0.3
    assert r.asymmetry_kk_weights > 0.01  # normalising rows breaks the symmetry of the weights


@pytest.mark.parametrize("words", [True, False])
def test_every_normalised_row_sums_to_one(ins, words) -> None:
    r = riley_parts(ins, RILEY_ES, 2, 7, words=words)
    for W in (r.kk_softmax, r.qk_softmax):
        np.testing.assert_allclose(W.sum(axis=1), 1.0, atol=1e-5)
        assert (W >= 0).all()
    for W, sums in ((r.kk_by_sum, r.kk_row_sums), (r.qk_by_sum, r.qk_row_sums)):
        ok = np.abs(sums) >= 1e-6
        np.testing.assert_allclose(W[ok].sum(axis=1), 1.0, atol=1e-4)
        assert np.isnan(W[~ok]).all()


def test_the_articles_sum_goes_wrong_where_softmax_does_not(ins) -> None:
    """With real vectors q·k is often negative: dividing by the row sum gives negative 'weights'."""
    r = riley_parts(ins)
    assert (r.qk < 0).any()
    assert (r.qk_by_sum < 0).any() and (r.qk_softmax > 0).all()


def test_riley_words_are_the_means_of_their_pieces(ins) -> None:
    r = riley_parts(ins, RILEY_ES, 1, 3)
    assert "[CLS]" not in r.labels and "[SEP]" not in r.labels
    assert r.labels[:6] == ("el", "perro", "de", "evan", ",", "riley") and "hiperactivo" in r.labels
    t = ins.trace(RILEY_ES).layers[1]
    g = r.groups[r.index("hiperactivo")]
    assert len(g) == 4
    assert_f32_close(r.K[r.index("hiperactivo")], t.k[0, 3, list(g)].mean(axis=0))


def test_per_token_with_specials_part_3_is_the_models_attention(ins) -> None:
    r = riley_parts(ins, RILEY_EN, 4, 6, words=False, keep_special=True)
    assert r.labels == tuple(ins.tokens(RILEY_EN))
    assert_f32_close(r.qk_softmax, ins.layer_attention(RILEY_EN, 4).weights[6])
    np.testing.assert_allclose(r.qk, ins.relevance_matrices(RILEY_EN, 4, 6).qk, atol=1e-5)


def test_pair_gives_both_directions(ins) -> None:
    r = riley_parts(ins, RILEY_ES, 0, 0)
    a, b = r.index("Riley"), r.index("perro")
    p = r.pair(a, b)
    assert p.labels == ("riley", "perro")
    assert p.kk == pytest.approx(float(r.kk[b, a]), abs=1e-6)  # keys only: one number both ways
    assert (p.qk_ab, p.qk_ba) == (pytest.approx(float(r.qk[a, b])), pytest.approx(float(r.qk[b, a])))
    assert p.qk_ab != pytest.approx(p.qk_ba, abs=1e-3)
    assert p.qk_weight_ab == pytest.approx(float(softmax(r.qk[a])[b]), abs=1e-6)
    assert p.kk_weight_ab != pytest.approx(p.kk_weight_ba, abs=1e-4)
    with pytest.raises(InvalidParameterError, match="no word 'gato'"):
        r.index("gato")
    with pytest.raises(InvalidParameterError, match="word must be an integer"):
        r.pair(0, len(r.labels))


def test_normalise_by_sum() -> None:
    w, s = normalise_by_sum([[3.0, 1.0], [2.0, -2.0], [-1.0, -3.0]])
    np.testing.assert_allclose(w[0], [0.75, 0.25])
    assert np.isnan(w[1]).all() and s[1] == 0.0
    np.testing.assert_allclose(w[2], [0.25, 0.75])  # a negative sum flips both signs back


def test_riley_bad_input(ins) -> None:
    with pytest.raises(InvalidParameterError, match="layer must be"):
        riley_parts(ins, RILEY_ES, layer=6)
    with pytest.raises(InvalidParameterError, match="head must be"):
        riley_parts(ins, RILEY_ES, head=-1)
    with pytest.raises(UnknownTokenError, match="multilingual"):
        riley_parts(ins, "我爱吃苹果")
    with pytest.raises(QueryError):
        riley_parts(ins, "  ")


# ----------------------------------------------------------------------------- Riley, carried to the end


def test_pairwise_update_by_hand() -> None:
    """Keys (1, 0) and (3, 4)/5: rel = 0.6; v_a' = 0.6 · (10, 0) + 0.4 · (0, 10) = (6, 4)."""
    rel, new = pairwise_update([[1.0, 0.0], [3.0, 4.0]], [[10.0, 0.0], [0.0, 10.0]], 0, 1)
    assert rel == pytest.approx(0.6)
    np.testing.assert_allclose(new, [6.0, 4.0], rtol=1e-6)
    rel, new = pairwise_update([[1.0, 0.0], [-1.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]], 0, 1)
    assert rel == pytest.approx(-math.sqrt(0.5)), "unit vectors at 135°: a negative relevance"
    np.testing.assert_allclose(new, [rel, 1 - rel], rtol=1e-6)  # more than all of v_a, less than none of v_b
    rel, new = pairwise_update([[1.0, 2.0], [2.0, 4.0]], [[1.0, 2.0], [5.0, 6.0]], 0, 1)
    assert rel == pytest.approx(1.0) and np.allclose(new, [1.0, 2.0]), "rel = 1 keeps v_a, by the formula"


def test_relevance_update_by_hand() -> None:
    w, new = relevance_update([2.0, 1.0, 1.0], [[4.0, 0.0], [0.0, 4.0], [4.0, 4.0]])
    np.testing.assert_allclose(w, [0.5, 0.25, 0.25])
    np.testing.assert_allclose(new, [3.0, 2.0])
    w, new = relevance_update([1.0, -1.0], [[1.0], [2.0]])
    assert np.isnan(w).all() and np.isnan(new).all(), "relevances summing to 0 cannot be divided by it"
    with pytest.raises(InvalidParameterError):
        relevance_update([1.0, 2.0], [[1.0]])
    with pytest.raises(InvalidParameterError, match="length 0"):
        unit_rows([[0.0, 0.0], [1.0, 0.0]])


@pytest.mark.parametrize(("sentence", "layer", "head", "other"), [(RILEY_ES, 2, 4, "perro"), (RILEY_EN, 4, 7, "dog")])
def test_riley_update_equals_a_hand_computation_on_the_models_vectors(ins, sentence, layer, head, other) -> None:
    r = riley_parts(ins, sentence, layer, head)
    a, b = r.index("riley"), r.index(other)
    u = r.update(a, b)
    K, V, Q = (np.asarray(x, dtype=np.float64) for x in (r.K, r.V, r.Q))
    ka, kb = K[a] / np.linalg.norm(K[a]), K[b] / np.linalg.norm(K[b])
    rel = float(ka @ kb)
    assert u.relevance == pytest.approx(rel, abs=1e-6)
    np.testing.assert_allclose(u.pair_value, rel * V[a] + (1 - rel) * V[b], rtol=1e-5, atol=1e-6)
    cos = [float(ka @ (k / np.linalg.norm(k))) for k in K]
    np.testing.assert_allclose(u.key_weights, [c / sum(cos) for c in cos], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(u.key_value, (np.array(cos) / sum(cos)) @ V, rtol=1e-4, atol=1e-5)
    qk = Q[a] @ K.T  # the √hd the model divides by cancels when a row is divided by its sum
    np.testing.assert_allclose(u.query_weights, qk / qk.sum(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(u.query_value, (qk / qk.sum()) @ V, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(u.softmax_value, softmax(qk / math.sqrt(K.shape[1])) @ V, rtol=1e-4, atol=1e-5)
    assert -1.0 <= r.cos_kk.min() and r.cos_kk.max() <= 1.0 + 1e-6
    np.testing.assert_allclose(np.diag(r.cos_kk), 1.0, atol=1e-6)


def test_the_articles_keys_can_have_a_negative_dot_product(ins) -> None:
    """The article says unit keys give relevances in [0, 1]; the model's unit keys go below 0."""
    r = riley_parts(ins, RILEY_ES, 2, 4)
    assert float(r.cos_kk.min()) < 0


# ----------------------------------------------------------------------------- alignment


def test_split_words() -> None:
    assert split_words(ALIGN_EN) == ("I", "love", "eating", "apples")
    assert split_words(ALIGN_ZH) == ("我", "爱", "吃", "苹果")
    assert split_words("我 / 爱 / 吃 / 苹果") == ("我", "爱", "吃", "苹果")
    assert split_words("我爱吃苹果。") == ("我", "爱", "吃", "苹", "果")  # article 001's h_1..h_5
    assert split_words("Evan's dog, Riley!") == ("Evan's", "dog", "Riley")
    assert split_words("¿Me encanta comer manzanas?") == ("Me", "encanta", "comer", "manzanas")
    for bad, match in (("", "empty"), ("?!  ...", "no words"), ("a " * 41, "41 words; the limit is 40")):
        with pytest.raises(QueryError, match=match):
            split_words(bad)
    assert MAX_WORDS == 40


def test_alignment_shapes_and_rows_with_a_fake_encoder(fake_encoder) -> None:
    a = align(ALIGN_EN, ALIGN_ZH, encoder=fake_encoder)
    assert a.weights.shape == a.scores.shape == (4, 4)
    assert a.queries.shape == (4, fake_encoder.dim) and a.contexts.shape == (4, fake_encoder.dim)
    np.testing.assert_allclose(a.weights.sum(axis=1), 1.0, atol=1e-6)
    assert_f32_close(a.contexts, a.weights @ a.keys, scale=float(np.abs(a.keys).max()))  # c_i = Σ_j α_ij h_j
    assert_f32_close(a.weights, softmax(a.scores / a.temperature))
    b = align(["I", "love"], ["我", "爱", "吃"], encoder=fake_encoder, temperature=1.0)
    assert b.weights.shape == (2, 3) and b.temperature == 1.0


def test_alignment_bad_input(fake_encoder) -> None:
    with pytest.raises(QueryError, match="query sentence has no words"):
        align("...", ALIGN_ZH, encoder=fake_encoder)
    with pytest.raises(QueryError, match="key sentence is empty"):
        align(ALIGN_EN, "", encoder=fake_encoder)
    with pytest.raises(QueryError, match="key sentence has no words"):
        align(ALIGN_EN, [], encoder=fake_encoder)
    with pytest.raises(QueryError, match="400"):
        align("a" * 401, ALIGN_ZH, encoder=fake_encoder)
    with pytest.raises(InvalidParameterError):
        align(ALIGN_EN, ALIGN_ZH, encoder=fake_encoder, temperature=0.0)
    with pytest.raises(InvalidParameterError, match="query word must be"):
        align(ALIGN_EN, ALIGN_ZH, encoder=fake_encoder).best(4)


@pytest.fixture(scope="module")
def apples():
    return align(ALIGN_EN, ALIGN_ZH)  # the real multilingual-e5-small


@pytest.mark.slow  # loads multilingual-e5-small
def test_apples_weighs_pingguo_highest(apples) -> None:
    assert apples.query_words == ("I", "love", "eating", "apples")
    assert apples.key_words == ("我", "爱", "吃", "苹果")
    assert apples.weights.shape == (4, 4) and apples.contexts.shape == (4, 384)
    np.testing.assert_allclose(apples.weights.sum(axis=1), 1.0, atol=1e-6)
    assert apples.key_words[apples.best(3)] == "苹果"
    assert [apples.key_words[apples.best(i)] for i in range(4)] == ["我", "爱", "吃", "苹果"]  # the diagonal
    terms = apples.context_terms(0)
    assert [w for _, w in terms] == list(ALIGN_ZH.split())
    c1 = sum(a * h for (a, _), h in zip(terms, apples.keys))
    np.testing.assert_allclose(c1, apples.contexts[0], atol=1e-6)


@pytest.mark.slow  # loads multilingual-e5-small
def test_alignment_with_spanish_and_unsegmented_chinese(apples) -> None:
    es = align(ALIGN_ES, ALIGN_ZH)
    assert es.weights.shape == (4, 4) and es.key_words[es.best(0)] == "我"  # "Me" -> 我
    chars = align(ALIGN_EN, "我爱吃苹果")
    assert chars.key_words == ("我", "爱", "吃", "苹", "果") and chars.weights.shape == (4, 5)
    np.testing.assert_allclose(chars.weights.sum(axis=1), 1.0, atol=1e-6)
