"""Thread settings on this machine: torch vs FAISS vs OpenBLAS threads, alone, interleaved and
next to a busy neighbour process. Decides what ``retrieval_attention.infra.threads`` recommends.

    python -m benchmarks.bench_threads
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from benchmarks.common import CACHE, machine, save_result, time_call, wait_for_quiet

QUERIES = ["funny cat videos", "how to bake sourdough bread", "python tutorial for beginners", "stock market news"]


def main() -> None:
    import retrieval_attention as ra
    from retrieval_attention.index import VectorIndex, cached_index, set_faiss_threads
    from retrieval_attention.infra.threads import ThreadSettings, configure_threads, recommended_threads
    from retrieval_attention.large import exact_attention, topk_attention

    load = wait_for_quiet()
    enc = ra.get_encoder()
    import torch

    rng = np.random.default_rng(0)
    n, d = 200_000, enc.dim
    K = ra.embedding.normalize_rows(rng.standard_normal((n, d), dtype=np.float32))  # (n, d) timing only
    V = K[rng.permutation(n)]  # (n, d)
    q1 = K[:1] * 0.5 + K[1:2] * 0.5  # (1, d)
    Q = K[rng.integers(0, n, 256)]  # (256, d)
    flat = VectorIndex(K[:20_000])
    hnsw = cached_index(K[:100_000], "hnsw", cache_dir=CACHE)
    texts = [f"{QUERIES[j % 4]} part {j}" for j in range(384)]
    rows: list[dict] = []

    def record(what: str, setting: str, t_ms: float, note: str = "") -> None:
        rows.append({"what": what, "setting": setting, "median_ms": round(t_ms, 3), "note": note})
        print(f"  {what:<44} {setting:<28} {t_ms:9.3f} ms {note}", flush=True)

    i = [0]

    def encode_one() -> None:
        i[0] += 1
        enc.encode_queries([f"{QUERIES[i[0] % 4]} {i[0]}"])  # a new text each time: no cache

    for busy in (0, 1, 2):
        # other processes keep 1 or 2 cores busy, as on a shared machine, a laptop, or a server with other users
        neighbours = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(busy)]
        tag = f" ({busy} busy neighbour{'s' if busy > 1 else ''})" if busy else ""
        try:
            for nt in (1, 2):
                configure_threads(ThreadSettings(torch=nt, faiss=1, blas=1))
                record("encode one query" + tag, f"torch={nt}", time_call(encode_one, 30, 5).median_ms)
            for nb in (1, 2):
                configure_threads(ThreadSettings(torch=1, faiss=1, blas=nb))
                t = time_call(lambda: exact_attention(q1, K, V, temperature=0.05), 15, 3).median_ms
                record(f"exact attention, 1 query, n={n:,}" + tag, f"blas={nb}", t)
        finally:
            for p in neighbours:
                p.kill()
                p.wait()

    for nt in (1, 2):
        configure_threads(ThreadSettings(torch=nt, faiss=1, blas=1))
        t = time_call(lambda: enc.encode_documents(texts, batch_size=64), 3, 1).median_ms
        record("encode 384 titles (batch 64)", f"torch={nt}", t, f"{len(texts) / t * 1e3:.0f} titles/s")
    for nf in (1, 2):
        set_faiss_threads(nf)
        record("HNSW search, 1 query, n=100k", f"faiss={nf}", time_call(lambda: hnsw.search(q1, 10), 200, 20).median_ms)
        t = time_call(lambda: hnsw.search(Q, 10), 20, 3).median_ms
        record("HNSW search, 256 queries, n=100k", f"faiss={nf}", t, f"{t / 256 * 1e3:.1f} µs a query")
        t = time_call(lambda: flat.search(Q, 10), 10, 2).median_ms
        record("flat search, 256 queries, n=20k", f"faiss={nf}", t)

    # the interactive path with every pool at 2 threads vs the recommendation, interleaved
    def interactive() -> None:
        encode_one()
        topk_attention(q1, flat, V[:20_000], k=8, temperature=0.05, K=K[:20_000])
        exact_attention(q1, K[:20_000], V[:20_000], temperature=0.05)

    for name, s in (
        ("all pools 2 threads", ThreadSettings(torch=2, faiss=2, blas=2)),
        ("torch 1, FAISS 1, BLAS 2", ThreadSettings(torch=1, faiss=1, blas=2)),
        ("recommended interactive: torch 2, FAISS 1, BLAS 1", recommended_threads("interactive")),
    ):
        configure_threads(s)
        record("encode + top-k + exact attention (n=20k)", name, time_call(interactive, 30, 5).median_ms)

    save_result(
        "threads",
        {
            "machine": machine(),
            "load_average_at_start": load,
            "rows": rows,
            "torch_interop_threads": torch.get_num_interop_threads(),
        },
    )


if __name__ == "__main__":
    main()
