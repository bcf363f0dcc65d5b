"""Embedding throughput: a 100k-title corpus embedded in batches with a progress bar.

    python -m benchmarks.bench_embedding

The 100k titles are the synthetic ones of benchmarks/data.py (also the real keys of the scaling
runs), embedded by the default encoder (our numpy encoder: BLAS on one thread, batches spread over
one worker thread per core). The full run always embeds them again (to measure), and writes the
embedding cache only if it is missing. A short sweep over batch sizes runs on the first 4,096 titles.
"""

from __future__ import annotations

import os
import statistics
import time

from benchmarks.common import CACHE, machine, save_result, wait_for_quiet
from benchmarks.data import _bar, synthetic_titles

N = 100_000
SWEEP_N = 4096


def main() -> None:
    import retrieval_attention as ra
    from retrieval_attention.encoders.cache import _cache_key, embed_documents
    from retrieval_attention.infra.threads import configure_threads, recommended_threads

    load = wait_for_quiet()
    titles = synthetic_titles(N)
    enc = ra.get_encoder()
    sweep = []
    for bs in (16, 64, 256):
        enc.encode_documents(titles[:64], batch_size=bs)  # warm-up
        t0 = time.perf_counter()
        enc.encode_documents(titles[:SWEEP_N], batch_size=bs)
        dt = time.perf_counter() - t0
        sweep.append({"batch_size": bs, "titles_per_s": SWEEP_N / dt})
        print(f"  batch={bs:<4} {SWEEP_N / dt:7.0f} titles/s", flush=True)

    settings = recommended_threads("batch")
    configure_threads(settings)
    cached = (CACHE / "embeddings" / f"{_cache_key(enc, titles, 'bench-title-100k')}.npz").exists()
    t0 = time.perf_counter()
    embed_documents(enc, titles, "bench-title-100k", CACHE, not cached, 64, _bar(f"embedding {N:,} titles"))
    total = time.perf_counter() - t0
    print(f"  {N:,} titles in {total:.1f} s: {N / total:.0f} titles/s", flush=True)
    save_result(
        "embedding",
        {
            "machine": machine(),
            "load_average_at_start": load,
            "n": N,
            "encoder": type(enc).__name__,
            "workers": os.cpu_count(),
            "batch_size": 64,
            "threads": vars(settings),
            "seconds": total,
            "titles_per_s": N / total,
            "mean_words": statistics.mean(len(t.split()) for t in titles),
            "sweep": sweep,
            "sweep_n": SWEEP_N,
        },
    )


if __name__ == "__main__":
    main()
