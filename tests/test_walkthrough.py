"""One token's steps (article 001) against transformers' own model, and attention merged to words.

The reference is transformers' BertModel with eager attention on the same folder: its
``output_attentions`` row and its ``attention.self`` output (the heads side by side, before W_O)
for the token. The model loads once for the module.
"""

from __future__ import annotations

import importlib
import math
import types

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval_attention.core.attention import softmax
from retrieval_attention.core.validate import MAX_SENTENCE_CHARS
from retrieval_attention.errors import InvalidParameterError, QueryError, RetrievalAttentionError, UnknownTokenError
from retrieval_attention.inspector import (
    ORIGINAL_TRANSFORMER,
    TransformerInspector,
    load_inspector,
    merge_vectors,
    merge_weights,
    special_mask,
    strongest_self_head,
    walkthrough,
    without_special,
    word_attention,
    word_groups,
    word_labels,
)

RILEY_EN = "Evan's dog Riley is so hyperactive, she never stops moving"
RILEY_ES = "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse"
THINKING = "Thinking Machines"


@pytest.fixture(scope="module")
def ins() -> TransformerInspector:
    return load_inspector()


@pytest.fixture(scope="module")
def reference(ins: TransformerInspector):
    """sentence -> (attentions (n_layers, h, T, T), per-layer attention.self outputs (n_layers, T, d))."""
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(ins.path)
    model = transformers.AutoModel.from_pretrained(ins.path, attn_implementation="eager", dtype=torch.float32).eval()
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def run(sentence: str) -> tuple[np.ndarray, np.ndarray]:
        if sentence not in cache:
            contexts: list[np.ndarray] = []
            hooks = [
                layer.attention.self.register_forward_hook(lambda _m, _i, out: contexts.append(out[0][0].numpy()))
                for layer in model.encoder.layer
            ]
            try:
                with torch.inference_mode():
                    out = model(**tokenizer(sentence, return_tensors="pt"), output_attentions=True)
            finally:
                for h in hooks:
                    h.remove()
            cache[sentence] = (np.stack([a[0].numpy() for a in out.attentions]), np.stack(contexts))
        return cache[sentence]

    return run


CASES = [  # (sentence, layer, head, token)
    (RILEY_EN, 0, 0, 4),
    (RILEY_EN, 3, 7, 1),
    (RILEY_EN, 5, 11, 11),
    (RILEY_ES, 0, 5, 7),  # 'riley'
    (RILEY_ES, 2, 3, 12),  # '##era' inside 'hiperactivo'
    (RILEY_ES, 5, 0, 0),  # [CLS]
    (THINKING, 4, 9, 2),
]


@pytest.mark.slow  # loads torch and transformers' model
@pytest.mark.parametrize(("sentence", "layer", "head", "token"), CASES)
def test_weights_and_z_equal_the_models_own(ins, reference, sentence, layer, head, token) -> None:
    w = walkthrough(ins, sentence, layer, head, token)
    attentions, contexts = reference(sentence)
    a, b = w.columns
    diff_w = float(np.abs(w.weights - attentions[layer, head, token]).max())
    diff_z = float(np.abs(w.z - contexts[layer, token, a:b]).max())
    assert diff_w < 1e-5, f"weights vs output_attentions: {diff_w:.2e}"
    assert diff_z < 1e-5, f"z vs the head's output: {diff_z:.2e}"


def test_steps_are_consistent_with_each_other(ins) -> None:
    w = walkthrough(ins, RILEY_ES, 1, 4, 7)
    T, hd = len(w.tokens), ins.head_dim
    assert w.x.shape == (T, ins.d_model) and w.q.shape == (hd,) and w.K.shape == w.V.shape == (T, hd)
    assert w.scores.shape == w.scaled.shape == w.weights.shape == (T,)
    np.testing.assert_array_equal(w.scores, w.K @ w.q)
    np.testing.assert_array_equal(w.scaled, w.scores / np.float32(math.sqrt(hd)))
    np.testing.assert_array_equal(w.weights, softmax(w.scaled))
    np.testing.assert_array_equal(w.z, w.weights @ w.V)
    np.testing.assert_allclose(w.weighted_values.sum(axis=0), w.z, atol=1e-6)
    assert w.weights.sum() == pytest.approx(1.0, abs=1e-6)
    assert w.query_token == "riley" and w.sqrt_dk == pytest.approx(5.657, abs=1e-3)


def test_q_k_v_are_x_times_the_heads_columns(ins) -> None:
    w = walkthrough(ins, RILEY_EN, 2, 6, 3)
    P = ins.projections(2)
    a, b = w.columns
    np.testing.assert_allclose(w.q, w.x[3] @ P.W_Q[:, a:b] + P.b_Q[a:b], atol=1e-5)
    np.testing.assert_allclose(w.K, w.x @ P.W_K[:, a:b] + P.b_K[a:b], atol=1e-5)
    np.testing.assert_allclose(w.V, w.x @ P.W_V[:, a:b] + P.b_V[a:b], atol=1e-5)
    np.testing.assert_array_equal(w.x, ins.hidden_states(RILEY_EN, 2))


def test_matrix_shapes_beside_the_articles(ins) -> None:
    w = walkthrough(ins, THINKING, 0, 0, 1)
    ours = dict(w.shapes.stages)
    assert ours["X"] == (4, 384) and ours["Q, K, V (per head)"] == (12, 4, 32)
    assert ours["concat(heads)"] == (4, 384) and ours["W_O"] == (384, 384)
    article = dict(ORIGINAL_TRANSFORMER.stages)
    assert article["X"] == (2, 512) and article["Q, K, V (per head)"] == (8, 2, 64)
    assert math.sqrt(ORIGINAL_TRANSFORMER.head_dim) == 8


def test_results_are_read_only(ins) -> None:
    w = walkthrough(ins, RILEY_EN, 0, 0, 1)
    for arr in (w.x, w.q, w.K, w.V, w.scores, w.scaled, w.weights, w.weighted_values, w.z):
        assert not arr.flags.writeable


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "match"),
    [
        ((RILEY_EN, 6, 0, 0), r"layer must be an integer in 0\.\.5, got 6"),
        ((RILEY_EN, 0, 12, 0), r"head must be an integer in 0\.\.11, got 12"),
        ((RILEY_EN, 0, 0, 16), r"token must be an integer in 0\.\.15, got 16"),
        ((RILEY_EN, 0, 0, -1), r"token must be an integer"),
        ((RILEY_EN, 0, True, 0), r"head must be an integer"),
    ],
)
def test_indices_out_of_range(ins, args, match) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        walkthrough(ins, *args)


@pytest.mark.parametrize(
    ("sentence", "error", "match"),
    [
        ("", QueryError, "the sentence is empty"),
        ("   ", QueryError, "the sentence is empty"),
        (None, QueryError, "the sentence must be text"),
        ("a" * (MAX_SENTENCE_CHARS + 1), QueryError, "401 characters; the limit is 400"),
        ("!" * 300, QueryError, "longer than the 256 tokens"),
        ("我爱吃苹果", UnknownTokenError, "'爱', '吃', '苹', '果' as \\[UNK\\].*multilingual"),
        ("my dog 🐕 runs", UnknownTokenError, "'🐕' as \\[UNK\\].*remove or replace"),
    ],
)
def test_bad_sentences(ins, sentence, error, match) -> None:
    with pytest.raises(error, match=match):
        walkthrough(ins, sentence, 0, 0, 0)
    with pytest.raises(RetrievalAttentionError):
        word_attention(ins, sentence, 0)


def test_a_400_character_sentence_is_accepted(ins) -> None:
    sentence = ("the dog runs " * 40)[:MAX_SENTENCE_CHARS]
    assert walkthrough(ins, sentence, 0, 0, 1).weights.shape == (len(ins.tokens(sentence)),)


# ----------------------------------------------------------------------------- words


def test_word_groups_and_labels_of_the_spanish_sentence(ins) -> None:
    tokens = ins.tokens(RILEY_ES)
    groups = word_groups(tokens)
    words = word_labels(tokens, groups)
    assert "hiperactivo" in words and "perro" in words and "moverse" in words
    assert len(groups[words.index("hiperactivo")]) == 4  # hip ##era ##ct ##ivo
    assert [i for g in groups for i in g] == list(range(len(tokens)))


def test_merged_rows_sum_to_one(ins) -> None:
    wa = word_attention(ins, RILEY_ES, 2)
    assert wa.has_split_words
    assert wa.weights.shape == (ins.n_heads, len(wa.words), len(wa.words))
    np.testing.assert_allclose(wa.weights.sum(axis=-1), 1.0, atol=1e-5)
    assert (wa.weights >= 0).all()


def test_merge_is_sum_over_key_pieces_mean_over_query_pieces(ins) -> None:
    wa = word_attention(ins, RILEY_ES, 0)
    tok = ins.layer_attention(RILEY_ES, 0).weights[3]  # head 3, (T, T)
    a = wa.words.index("hiperactivo")
    b = wa.words.index("perro")
    ga, gb = wa.groups[a], wa.groups[b]
    expected = np.mean([tok[i, list(gb)].sum() for i in ga])
    assert wa.weights[3, a, b] == pytest.approx(expected, abs=1e-6)


def test_a_sentence_without_split_words_is_unchanged(ins) -> None:
    sentence = "the dog never stops moving"
    tokens = ins.tokens(sentence)
    assert not any(t.startswith("##") for t in tokens)
    wa = word_attention(ins, sentence, 1)
    assert wa.words == tuple(tokens) and not wa.has_split_words
    np.testing.assert_array_equal(wa.weights, ins.layer_attention(sentence, 1).weights)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(1, 4), min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_merge_weights_rows_sum_to_one_for_any_grouping(sizes: list[int], seed: int) -> None:
    T = sum(sizes)
    starts = np.cumsum([0, *sizes[:-1]])
    groups = tuple(tuple(range(s, s + n)) for s, n in zip(starts, sizes))
    w = softmax(np.random.default_rng(seed).standard_normal((2, T, T)))
    merged = merge_weights(w, groups)
    assert merged.shape == (2, len(sizes), len(sizes))
    np.testing.assert_allclose(merged.sum(axis=-1), 1.0, atol=1e-5)


def test_merge_refuses_bad_groups() -> None:
    with pytest.raises(InvalidParameterError, match=r"cover tokens 0\.\.2"):
        merge_weights(np.eye(3), ((0,), (1,)))
    with pytest.raises(InvalidParameterError, match=r"\(\.\.\., T, T\)"):
        merge_weights(np.ones((2, 3)), ((0,), (1,), (2,)))
    with pytest.raises(InvalidParameterError, match=r"\(T, e\)"):
        merge_vectors(np.ones(3), ((0, 1, 2),))


# ----------------------------------------------------------------------------- [CLS] and [SEP] set aside


def _brute_without_special(row: list[float], special: list[bool]) -> list[float]:
    """The renormalisation written out as a loop, one weight at a time."""
    left = sum(w for w, s in zip(row, special) if not s)
    return [0.0 if s else w / left for w, s in zip(row, special)]


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 12), st.integers(0, 2**32 - 1))
def test_without_special_sums_to_one_and_equals_brute_force(T: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    W = softmax(rng.normal(scale=3.0, size=(4, T)))  # (4, T) rows summing to 1
    special = np.zeros(T, dtype=bool)
    special[[0, -1]] = True
    got = without_special(W, special)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, atol=1e-5)
    assert (got[:, special] == 0).all()
    np.testing.assert_allclose(got, [_brute_without_special(list(r), list(special)) for r in W], rtol=1e-5, atol=1e-7)


def test_without_special_on_the_walkthroughs_default(ins) -> None:
    """ "thinking" at layer 0, head 0: 0.39 on [SEP], 0.15 on itself; set aside, machines leads."""
    w = walkthrough(ins, THINKING, 0, 0, 1)
    assert w.tokens[int(w.weights.argmax())] == "[SEP]"
    assert round(float(w.weights[3]), 2) == 0.39 and round(float(w.weights[1]), 2) == 0.15
    hidden = without_special(w.weights, special_mask(w.tokens))
    np.testing.assert_allclose(hidden[1:3], w.weights[1:3] / w.weights[1:3].sum(), rtol=1e-6)
    assert hidden[0] == hidden[3] == 0 and abs(float(hidden.sum()) - 1) < 1e-6


def test_without_special_edge_cases() -> None:
    assert np.isnan(without_special([1.0, 0.0, 0.0], [True, False, False])).all(), "nothing left: NaN, not 0/0 noise"
    with pytest.raises(InvalidParameterError, match="every token is special"):
        without_special([0.5, 0.5], [True, True])
    with pytest.raises(InvalidParameterError, match="mask"):
        without_special([0.5, 0.5], [True, False, False])


def test_special_mask_marks_cls_and_sep(ins) -> None:
    tokens = tuple(ins.tokens(RILEY_EN))
    mask = special_mask(tokens)
    assert [t for t, m in zip(tokens, mask) if m] == ["[CLS]", "[SEP]"]


def test_strongest_self_head_is_found_by_scanning_every_head(ins) -> None:
    best = strongest_self_head(ins, THINKING, 1)
    assert best is not None
    rows = np.stack([walkthrough(ins, THINKING, l, h, 1).weights for l in range(6) for h in range(12)]).reshape(
        6, 12, -1
    )
    wins = rows.argmax(axis=-1) == 1
    assert best.heads == int(wins.sum()) >= 1
    assert wins[best.layer, best.head], "there, the token's largest weight is on itself"
    assert best.weight == pytest.approx(float(rows[..., 1][wins].max()), abs=1e-6)
    assert best.weight > 0.5


def test_strongest_self_head_none_when_no_head_does(monkeypatch) -> None:
    """A model whose every head rests on [CLS]: no head gives "a" its own largest weight."""
    wt = importlib.import_module("retrieval_attention.inspector.walkthrough")  # the module, not its function

    layer = types.SimpleNamespace(weights=np.tile(np.float32([0.7, 0.1, 0.1, 0.1]), (1, 3, 4, 1)))  # (1, h, T, T)
    fake = types.SimpleNamespace(trace=lambda _s: types.SimpleNamespace(layers=(layer, layer)))
    monkeypatch.setattr(wt, "check_model_sentence", lambda _i, _s: ("[CLS]", "a", "b", "[SEP]"))
    assert strongest_self_head(fake, "a b", 1) is None
