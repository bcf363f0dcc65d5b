"""Our numpy encoder against sentence-transformers (the reference), which models take the numpy path,
and that the default path never imports torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tolerances import assert_f32_close

import retrieval_attention as ra
from retrieval_attention.config import ENCODER_ENV_VAR
from retrieval_attention.encoders import bert, numpy_bert, registry
from retrieval_attention.encoders.numpy_bert import NumpyBertEncoder, pipeline_problem

ENGLISH = "Funny cats compilation: try not to laugh"
CHINESE = "我爱吃苹果，日本の首都は東京です"
SPANISH = "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse"
EMOJI = "I ❤️ my 🐶 and 🍕!! 😂😂"
LONG = "attention is a soft dictionary lookup " * 80  # far more than 256 tokens
TEXTS = [ENGLISH, CHINESE, SPANISH, EMOJI, LONG, "a", "  spaces   around  ", "Desk Stretches for Programmers"]


@pytest.fixture(scope="module")
def ours() -> NumpyBertEncoder:
    return NumpyBertEncoder()


@pytest.fixture(scope="module")
def reference(ours: NumpyBertEncoder):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(ours.path, device="cpu")


@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.setattr(registry, "_ENCODERS", registry.OrderedDict())


def model_copy(tmp_path: Path, src: str, name: str = "model") -> Path:
    """A copy of the default model folder with the weights linked, to edit its small files."""
    dst = tmp_path / name
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("model.safetensors"))
    (dst / "model.safetensors").symlink_to(Path(src) / "model.safetensors")
    return dst


# ----------------------------------------------------------------------------- equal to the reference


def test_embeddings_equal_sentence_transformers(ours: NumpyBertEncoder, reference) -> None:
    ref = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)  # (n, 384)
    batched = ours.encode_documents(TEXTS, batch_size=3)  # mixed lengths, padded batches
    alone = np.stack([ours.encode_queries([t])[0] for t in TEXTS])  # one by one, no padding
    assert batched.dtype == alone.dtype == np.float32 and batched.shape == ref.shape == (len(TEXTS), 384)
    for name, x in (("batched", batched), ("one by one", alone)):
        diff = np.abs(x - ref).max(axis=1)  # (n,)
        assert diff.max() < 1e-6, f"{name}: max |ours - sentence-transformers| per text {diff}"
    assert np.abs(batched - alone).max() < 1e-6, "a text's vector must not depend on its batch"
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-6)


def test_tokenizer_truncates_at_max_seq_length_and_never_pads_a_query(ours: NumpyBertEncoder, reference) -> None:
    model = ours.model
    assert ours.max_seq_length == reference.max_seq_length == 256
    long_tok = model.tokenize(LONG)
    assert len(long_tok.ids) == 256 and long_tok.tokens[-1] == "[SEP]"
    short = model.tokenize("funny cats")
    assert short.tokens == ("[CLS]", "funny", "cats", "[SEP]"), "tokenizer.json pads to 128: padding must be off"
    assert short.special == (True, False, False, True)
    ref_ids = reference.tokenize([CHINESE])["input_ids"][0].tolist()
    assert list(model.tokenize(CHINESE).ids) == ref_ids


def test_documents_come_back_in_input_order_with_progress(ours: NumpyBertEncoder) -> None:
    texts = [f"{'word ' * (i % 7)}title number {i}" for i in range(10)]
    seen = []
    x = ours.encode_documents(texts, batch_size=4, progress=lambda d, n: seen.append((d, n)))
    assert seen == [(4, 10), (8, 10), (10, 10)]
    for i in (0, 3, 9):
        assert_f32_close(x[i], ours.encode_queries([texts[i]])[0], scale=1.0)  # padded batch vs one row
    assert ours.encode_documents([]).shape == (0, 384)


def test_weights_are_read_only_and_laid_out_for_x_at_w(ours: NumpyBertEncoder) -> None:
    L = ours.model.weights.layers[0]
    assert L.W_1.shape == (384, 1536) and L.W_2.shape == (1536, 384)
    for w in (L.W_Q, L.W_1, L.W_2, ours.model.weights.word):
        assert w.dtype == np.float32 and w.flags.c_contiguous and not w.flags.writeable


def test_gelu_matches_the_exact_erf_form() -> None:
    import math

    x = np.linspace(-10, 10, 20001, dtype=np.float32)
    exact = np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x.astype(np.float64)])
    assert np.abs(bert.gelu(x) - exact).max() < 1e-6


# ----------------------------------------------------------------------------- which models take the numpy path


def test_default_model_takes_the_numpy_path_and_does_not_share_cache_entries(fresh_registry, monkeypatch) -> None:
    enc = ra.get_encoder()
    assert isinstance(enc, NumpyBertEncoder) and ra.encoder_ready(enc)
    assert enc.cache_id.startswith("numpy-bert:"), "equal to ~1e-7, not bit for bit: its own cache entries"
    monkeypatch.setenv(ENCODER_ENV_VAR, "sentence-transformers")
    forced = ra.get_encoder(wait=False)
    assert isinstance(forced, ra.SentenceTransformerEncoder)
    forced.wait()
    assert forced.cache_id != enc.cache_id
    monkeypatch.setenv(ENCODER_ENV_VAR, "tensorflow")
    with pytest.raises(ra.InvalidParameterError, match=ENCODER_ENV_VAR):
        ra.get_encoder()


@pytest.mark.slow
def test_another_pooling_goes_to_sentence_transformers(ours: NumpyBertEncoder, tmp_path, fresh_registry) -> None:
    folder = model_copy(tmp_path, ours.path)
    pooling = folder / "1_Pooling" / "config.json"
    cfg = json.loads(pooling.read_text())
    pooling.write_text(json.dumps({**cfg, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    assert pipeline_problem(folder) == "pooling is cls_token, not the mean of the tokens"
    enc = ra.get_encoder(str(folder))
    assert isinstance(enc, ra.SentenceTransformerEncoder)
    cls = enc.encode_queries([ENGLISH])[0]
    assert abs(float(cls @ ours.encode_queries([ENGLISH])[0])) < 0.999, "CLS pooling is not the mean"


def test_folders_the_numpy_path_does_not_implement(ours: NumpyBertEncoder, tmp_path, monkeypatch) -> None:
    no_weights = model_copy(tmp_path, ours.path, "no-weights")
    (no_weights / "model.safetensors").unlink()
    assert pipeline_problem(no_weights) == "no model.safetensors"
    relu = model_copy(tmp_path, ours.path, "relu")
    cfg = json.loads((relu / "config.json").read_text())
    (relu / "config.json").write_text(json.dumps({**cfg, "hidden_act": "relu"}))
    assert "hidden_act" in pipeline_problem(relu)
    no_norm = model_copy(tmp_path, ours.path, "no-normalize")
    modules = json.loads((no_norm / "modules.json").read_text())
    (no_norm / "modules.json").write_text(json.dumps(modules[:2]))
    assert "Normalize" in pipeline_problem(no_norm)
    monkeypatch.setenv(ENCODER_ENV_VAR, "numpy")  # forcing numpy on such a folder: one clear line
    monkeypatch.setattr(registry, "_ENCODERS", registry.OrderedDict())
    with pytest.raises(ra.ModelNotFoundError, match="cannot run on the numpy encoder") as info:
        ra.get_encoder(str(relu))
    assert "\n" not in str(info.value)


@pytest.mark.slow
def test_a_folder_without_weights_fails_in_one_line_through_sentence_transformers(ours, tmp_path, fresh_registry):
    folder = model_copy(tmp_path, ours.path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ra.ModelNotFoundError) as info:
        ra.get_encoder(str(folder))
    assert "\n" not in str(info.value) and str(folder) in str(info.value)


def test_damaged_weights_fail_in_one_line(ours: NumpyBertEncoder, tmp_path, fresh_registry) -> None:
    folder = model_copy(tmp_path, ours.path)
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    assert pipeline_problem(folder) is None, "the small files are fine: the numpy path takes it"
    with pytest.raises(ra.ModelNotFoundError) as info:
        ra.get_encoder(str(folder))
    assert "\n" not in str(info.value) and "could not be loaded" in str(info.value)
    numpy_bert.load_numpy_bert.cache_clear()  # nothing broken is kept


# ----------------------------------------------------------------------------- no torch on the default path

NO_TORCH = """
import sys
import retrieval_attention as ra
from retrieval_attention.inspector import load_inspector

store = ra.KeyValueStore.from_corpus(ra.load_corpus())
res = store.soft_attention("a query nobody typed before: cats on skateboards", temperature=0.05)
assert res.weights.shape == (len(store.corpus),)
ins = load_inspector()
ins.layer_attention("我爱吃苹果", 2, causal=True)
ins.cross_attention("my dog", "mi perro", 1)
ins.relevance_matrices("she never stops moving", 0, 0)
ins.asymmetry_by_head("she never stops moving")
print(sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules))
"""

CLI = """
import atexit, runpy, sys
atexit.register(lambda: print(sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules)))
sys.argv = ["retrieval_attention", "cats on skateboards, never seen before"]
runpy.run_module("retrieval_attention", run_name="__main__")
"""


@pytest.mark.parametrize("code", [NO_TORCH, CLI], ids=["library-and-inspector", "cli"])
def test_default_path_never_imports_torch(code: str, tmp_path) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k not in (ENCODER_ENV_VAR, "RETRIEVAL_ATTENTION_MODEL")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout


def test_loading_sets_numpy_blas_to_one_thread(ours: NumpyBertEncoder) -> None:
    """OpenBLAS's spinning threads slow the forward pass badly on a busy machine: one thread, and
    batches spread over worker threads instead (see numpy_bert's docstring)."""
    from retrieval_attention.encoders.numpy_bert import load_numpy_bert
    from retrieval_attention.infra.threads import _set_blas_threads, current_threads

    before = current_threads()["blas"]
    try:
        _set_blas_threads(2)  # as another part of the process (or an earlier test) may have left it
        load_numpy_bert.cache_clear()
        load_numpy_bert(ours.path)  # a load, as the first query of a process does
        assert current_threads()["blas"] == 1
    finally:
        _set_blas_threads(before)
