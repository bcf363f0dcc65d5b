"""Seeing the projections (articles 002, 004): our PCA against an independent one, the q/k picture,
and self-attention without positions being permutation-equivariant (with them it is not)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from tolerances import assert_f32_close

from retrieval_attention.errors import InvalidParameterError, QueryError, UnknownTokenError
from retrieval_attention.inspector import TransformerInspector, load_inspector
from retrieval_attention.inspector.positions import layer_weights, permutation_check, shuffled_word_order
from retrieval_attention.inspector.projections import pca_2d, projection_picture

RILEY_EN = "Evan's dog Riley is so hyperactive, she never stops moving"
RILEY_ES = "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse"


@pytest.fixture(scope="module")
def ins() -> TransformerInspector:
    return load_inspector()


# ----------------------------------------------------------------------------- PCA


def test_pca_matches_the_covariance_eigenvectors() -> None:
    """Brute force: the top two eigenvectors of the covariance, and sklearn's PCA."""
    from sklearn.decomposition import PCA

    X = np.random.default_rng(0).standard_normal((30, 8)) @ np.diag([5, 3, 1, 1, 0.5, 0.5, 0.2, 0.1])
    p = pca_2d(X)
    C = np.cov(X, rowvar=False, bias=True)
    vals, vecs = np.linalg.eigh(C)  # ascending
    top = vecs[:, ::-1][:, :2].T  # (2, e)
    for k in range(2):  # same direction up to sign
        assert abs(float(top[k] @ p.components[k])) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_allclose(p.explained, vals[::-1][:2] / vals.sum(), atol=1e-6)
    ref = PCA(n_components=2).fit(X)
    np.testing.assert_allclose(np.abs(p.coords), np.abs(ref.transform(X)), atol=1e-4)
    np.testing.assert_allclose(p.explained, ref.explained_variance_ratio_, atol=1e-6)


def test_pca_degenerate_inputs() -> None:
    one = pca_2d([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(one.coords, [[0.0, 0.0]])
    np.testing.assert_array_equal(one.explained, [0.0, 0.0])
    line = pca_2d([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    assert line.explained[0] == pytest.approx(1.0) and line.explained[1] == 0.0
    np.testing.assert_array_equal(line.components[1], [0.0, 0.0])
    for bad in ([], [1.0, 2.0], [[np.nan, 1.0]], np.zeros((3, 0))):
        with pytest.raises(InvalidParameterError, match="finite"):
            pca_2d(bad)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(2, 6)), elements=st.floats(-100, 100)))
def test_pca_components_are_orthonormal_and_coords_are_projections(X: np.ndarray) -> None:
    p = pca_2d(X)
    G = p.components @ p.components.T
    for k in range(2):
        assert G[k, k] == pytest.approx(1.0, abs=1e-5) or G[k, k] == 0.0
    assert abs(G[0, 1]) < 1e-5
    np.testing.assert_allclose(p.coords, (X - X.mean(axis=0)) @ p.components.T.astype(np.float64), atol=1e-2)
    assert 0.0 <= p.explained.sum() <= 1.0 + 1e-5


def test_projection_picture_q_and_k_share_axes(ins) -> None:
    p = projection_picture(ins, RILEY_EN, 1, 4)
    T = len(p.tokens)
    assert p.x_2d.shape == p.q_2d.shape == p.k_2d.shape == (T, 2) and p.self_cosine.shape == (T,)
    t = ins.trace(RILEY_EN).layers[1]
    joint = pca_2d(np.concatenate([t.q[0, 4], t.k[0, 4]]))
    np.testing.assert_array_equal(p.q_2d, joint.coords[:T])
    np.testing.assert_array_equal(p.k_2d, joint.coords[T:])
    # W_Q and W_K send the same token to different places: no token's q is its own k
    assert (p.self_cosine < 0.99).all()
    assert np.linalg.norm(p.q_2d - p.k_2d, axis=1).min() > 0


def test_projection_picture_bad_input(ins) -> None:
    with pytest.raises(InvalidParameterError, match="head must be"):
        projection_picture(ins, RILEY_EN, 0, 12)
    with pytest.raises(UnknownTokenError):
        projection_picture(ins, "我爱吃苹果", 0, 0)
    with pytest.raises(QueryError):
        projection_picture(ins, "", 0, 0)


# ----------------------------------------------------------------------------- positions


@pytest.mark.parametrize("sentence", [RILEY_EN, RILEY_ES])
@pytest.mark.parametrize("layer", [0, 3, 5])
def test_without_positions_permuting_the_input_permutes_the_weights(ins, sentence, layer) -> None:
    c = permutation_check(ins, sentence, layer, seed=1)
    assert c.order != tuple(range(len(c.tokens)))
    assert sorted(c.order) == list(range(len(c.tokens)))
    assert c.max_diff_without < 1e-5, f"without positions: {c.max_diff_without:.2e}"
    np.testing.assert_allclose(c.without_positions_shuffled, c.permuted(c.without_positions), atol=1e-5)
    # with the model's position embeddings the weights change, not just move
    assert c.max_diff_with > 0.1, f"with positions: {c.max_diff_with:.2e}"


def test_shuffle_keeps_words_whole_and_specials_in_place(ins) -> None:
    c = permutation_check(ins, RILEY_ES, 0, seed=3)
    assert c.shuffled_tokens[0] == "[CLS]" and c.shuffled_tokens[-1] == "[SEP]"
    assert sorted(c.shuffled_tokens) == sorted(c.tokens)
    joined = " ".join(c.shuffled_tokens)
    assert "hip ##era ##ct ##ivo" in joined and "per ##ro" in joined
    assert_f32_close(c.with_positions, ins.layer_attention(RILEY_ES, 0).weights)  # two forward passes


def test_layer_weights_with_positions_is_the_models_forward_pass(ins) -> None:
    ids = np.asarray(ins.model.tokenize(RILEY_EN).ids)
    # two computations of one layer (layer_weights runs layers 0-2 on its own): float32 in another order
    assert_f32_close(layer_weights(ids, ins.model.weights, 2), ins.trace(RILEY_EN).layers[2].weights[0])


def test_explicit_word_order_and_its_checks(ins) -> None:
    sentence = "the dog chased the cat"  # words: [CLS] the dog chased the cat [SEP]
    c = permutation_check(ins, sentence, 0, word_order=[0, 5, 2, 3, 4, 1, 6])  # swap the first and last words
    assert c.shuffled_tokens == ("[CLS]", "cat", "dog", "chased", "the", "the", "[SEP]")
    assert c.max_diff_without < 1e-5
    with pytest.raises(InvalidParameterError, match=r"permutation of 0\.\.6"):
        permutation_check(ins, sentence, 0, word_order=[0, 1, 1, 3, 4, 5, 6])
    with pytest.raises(InvalidParameterError, match="word_order entry"):
        permutation_check(ins, sentence, 0, word_order=[0, 1, 2, 3, 4, 5, 7])
    with pytest.raises(InvalidParameterError, match="layer must be"):
        permutation_check(ins, sentence, 6)


def test_shuffled_word_order_is_never_the_identity() -> None:
    for n in range(4, 12):
        for seed in range(20):
            order = shuffled_word_order(n, seed)
            assert order[0] == 0 and order[-1] == n - 1 and sorted(order) == list(range(n))
            assert order != tuple(range(n))
    assert shuffled_word_order(3) == (0, 1, 2)  # one word: nothing to move
    with pytest.raises(InvalidParameterError):
        shuffled_word_order(1)
