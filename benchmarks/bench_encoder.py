"""Our numpy encoder against sentence-transformers, each measured in its own fresh process.

* The CLI's one-shot answer to a new query with a warm embedding cache (the numpy encoder, and the
  same CLI forced onto sentence-transformers), against ``python -c "import sentence_transformers"``,
  interleaved A B C A B C ...: wall time, CPU time and peak RSS of each finished process (os.wait4).
* Import + load of each encoder, one short query encoded (median of many calls after warm-up), and
  1,000 synthetic titles embedded (batch 64): ours against sentence-transformers, in alternating
  fresh processes, the ratio taken pair by pair.

    python -m benchmarks.bench_encoder
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from benchmarks.common import ROOT, WORK, machine, save_result, wait_for_quiet

CLI_ROUNDS = 7  # interleaved rounds of the three processes
ENCODE_ROUNDS = 5  # alternating (ours, sentence-transformers) worker processes
N_TITLES = 1000
QUERY = "funny cat videos"
QUERY_REPEATS = 300
FORCE_ST = {"RETRIEVAL_ATTENTION_ENCODER": "sentence-transformers"}


def run_process(cmd: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run ``cmd`` to the end; its wall time, CPU time and peak resident memory (from the kernel)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} exited {proc.returncode}: {err[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mb": usage.ru_maxrss / 1024}


def cli_rounds() -> dict:
    """The CLI on a new query (warm embedding cache), both encoders, next to importing sentence-transformers."""
    cache = WORK / "cli_cache"
    shutil.rmtree(cache, ignore_errors=True)
    base = {
        k: v for k, v in os.environ.items() if k not in ("RETRIEVAL_ATTENTION_ENCODER", "RETRIEVAL_ATTENTION_MODEL")
    }
    base["RETRIEVAL_ATTENTION_CACHE"] = str(cache)
    cli = [sys.executable, "-m", "retrieval_attention"]
    envs = {"cli_numpy": base, "cli_sentence_transformers": {**base, **FORCE_ST}}
    for env in envs.values():  # warm the embedding cache (corpus keys and values) for each encoder
        run_process([*cli, "warm-up query"], env)
    runs: dict[str, list[dict[str, float]]] = {
        "cli_numpy": [],
        "import_sentence_transformers": [],
        "cli_sentence_transformers": [],
    }
    for i in range(CLI_ROUNDS):
        query = f"a query never asked before, number {i}: dancing goats"  # never in the cache
        runs["cli_numpy"].append(run_process([*cli, query], envs["cli_numpy"]))
        runs["import_sentence_transformers"].append(
            run_process([sys.executable, "-c", "import sentence_transformers"], base)
        )
        runs["cli_sentence_transformers"].append(run_process([*cli, query], envs["cli_sentence_transformers"]))
        print(f"  round {i + 1}:", {k: round(v[-1]["wall_s"], 2) for k, v in runs.items()}, flush=True)
    medians = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in runs.items()}
    pairs = list(zip(runs["cli_numpy"], runs["import_sentence_transformers"], runs["cli_sentence_transformers"]))
    return {
        "runs": runs,
        "medians": medians,
        "ratio_cli_to_import_st": statistics.median(a["wall_s"] / b["wall_s"] for a, b, _ in pairs),
        "ratio_cli_numpy_to_cli_st": statistics.median(a["wall_s"] / c["wall_s"] for a, _, c in pairs),
    }


def worker(kind: str) -> None:
    """In a fresh process: load one encoder, time a short query and 1,000 titles; print JSON."""
    t0 = time.perf_counter()
    import numpy as np

    from benchmarks.data import synthetic_titles
    from retrieval_attention.encoders import NumpyBertEncoder, SentenceTransformerEncoder

    enc = NumpyBertEncoder() if kind == "numpy" else SentenceTransformerEncoder()
    load_s = time.perf_counter() - t0
    titles = synthetic_titles(N_TITLES)
    first = time.perf_counter()
    enc.encode_queries([QUERY])
    first_query_ms = (time.perf_counter() - first) * 1e3
    for _ in range(30):
        enc.encode_queries([QUERY])
    times = []
    for _ in range(QUERY_REPEATS):
        a = time.perf_counter_ns()
        enc.encode_queries([QUERY])
        times.append((time.perf_counter_ns() - a) / 1e6)
    enc.encode_documents(titles[:128], batch_size=64)  # warm-up
    t = time.perf_counter()
    x = enc.encode_documents(titles, batch_size=64)
    seconds = time.perf_counter() - t
    assert x.shape == (N_TITLES, 384) and np.isfinite(x).all()
    print(
        json.dumps(
            {
                "kind": kind,
                "import_and_load_s": load_s,
                "first_query_ms": first_query_ms,
                "query_ms": statistics.median(times),
                "titles_s": seconds,
                "titles_per_s": N_TITLES / seconds,
                "mean_words": statistics.mean(len(t.split()) for t in titles),
            }
        )
    )


def encode_rounds() -> dict:
    env = {k: v for k, v in os.environ.items() if k != "RETRIEVAL_ATTENTION_ENCODER"}
    rounds = []
    for i in range(ENCODE_ROUNDS):
        pair = {}
        for kind in ("numpy", "sentence-transformers"):
            cmd = [sys.executable, "-m", "benchmarks.bench_encoder", "--worker", kind]
            out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=1800)
            pair[kind] = json.loads(out.stdout.strip().splitlines()[-1])
        rounds.append(pair)
        print(
            f"  round {i + 1}: query {pair['numpy']['query_ms']:.2f} ms vs {pair['sentence-transformers']['query_ms']:.2f} ms, "
            f"{N_TITLES} titles {pair['numpy']['titles_s']:.2f} s vs {pair['sentence-transformers']['titles_s']:.2f} s",
            flush=True,
        )

    def med(kind: str, key: str) -> float:
        return statistics.median(r[kind][key] for r in rounds)

    keys = ("import_and_load_s", "first_query_ms", "query_ms", "titles_s", "titles_per_s")
    return {
        "rounds": rounds,
        "medians": {kind: {k: med(kind, k) for k in keys} for kind in ("numpy", "sentence-transformers")},
        "query_time_ratio": statistics.median(
            r["numpy"]["query_ms"] / r["sentence-transformers"]["query_ms"] for r in rounds
        ),
        "throughput_ratio": statistics.median(
            r["numpy"]["titles_per_s"] / r["sentence-transformers"]["titles_per_s"] for r in rounds
        ),
        "n_titles": N_TITLES,
        "batch_size": 64,
        "cpus": os.cpu_count(),
    }


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_encoder", description=__doc__.splitlines()[0])
    ap.add_argument("--worker", choices=["numpy", "sentence-transformers"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return
    load = wait_for_quiet()
    print("  CLI, a new query with a warm embedding cache:", flush=True)
    cli = cli_rounds()
    print("  encoders in fresh processes:", flush=True)
    enc = encode_rounds()
    save_result("encoder", {"machine": machine(), "load_average_at_start": load, "cli": cli, "encode": enc})
    print(
        f"  CLI {cli['medians']['cli_numpy']['wall_s']:.2f} s vs import sentence_transformers "
        f"{cli['medians']['import_sentence_transformers']['wall_s']:.2f} s (ratio {cli['ratio_cli_to_import_st']:.2f}); "
        f"query ratio {enc['query_time_ratio']:.2f}, throughput ratio {enc['throughput_ratio']:.2f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
