"""Attention for one query (and batches) over n keys of d = 384: exact vs top-k, ours vs what a user
would pick instead, with accuracy and memory. One key set and one n per process:

    python -m benchmarks.bench_scaling --kind text --n 1000000

Compared in the same process and run, each timed in its own warm loop, every library allowed both
cores for its heavy part (the thread setting is stored with each row; see bench_threads for why
numpy's BLAS gets 1 thread next to FAISS in batches):

* ``numpy, the obvious way``: scores = q @ K.T / T; w = exp(scores - max); w /= sum; out = w @ V
* ``ours: exact_attention``: retrieval_attention.large (float32, gemv, in place, blocked for batches)
* ``ours: scaled_dot_product_attention``: the general (..., L, S) function of attention.py
* ``torch SDPA``: torch.nn.functional.scaled_dot_product_attention on CPU (zero-copy tensors)
* ``FAISS flat search``: IndexFlatIP.search alone (top-k retrieval, no attention)
* ``top-k attention, flat``: topk_attention over the exact flat index
* ``top-k attention, HNSW`` (n >= 50k) and the HNSW search alone

Accuracy (real-text keys): over 256 queries at T in {0.01, 0.05, 0.1} and k in {8, 32, 128}: the
true tail mass (from the exact log-partition), its sampled estimate, and the output error
‖o_exact − o_topk‖ (values are unit vectors), for flat and HNSW top-k; recall@10 of HNSW for
several efSearch values. Peak RSS (VmHWM) against the bytes of K and V.
"""

from __future__ import annotations

import argparse
import gc
import time
import warnings

import numpy as np

from benchmarks.common import CACHE, Timing, peak_rss_bytes, rss_bytes, save_result, time_call, wait_for_quiet

D_MODEL = 384
K_TOPS = (8, 32, 128)
TEMPERATURES = (0.01, 0.05, 0.1)
EF_SWEEP = (16, 32, 64, 128, 256)
T_TIMING = 0.05  # the app's default temperature
EXACT_METHODS = {"numpy, the obvious way", "ours: exact_attention", "torch SDPA (CPU)"}
K_TIMING = 32


def _repeats(n: int) -> int:
    return 40 if n <= 10_000 else 20 if n <= 100_000 else 10


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kind", choices=("text", "derived", "gaussian"), default="text")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--batch", type=int, default=64, help="queries per call in the batch timings")
    ap.add_argument("--accuracy-queries", type=int, default=256)
    args = ap.parse_args(argv)

    from benchmarks.data import key_set, values_for
    from retrieval_attention.core.attention import scaled_dot_product_attention
    from retrieval_attention.index import IndexParams, cached_index, recall_at_k
    from retrieval_attention.infra.threads import ThreadSettings, configure_threads
    from retrieval_attention.large import exact_attention, kept_mass, sample_tail, topk_attention

    n, kind = args.n, args.kind
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    K, Q, how = key_set(kind, n)  # (n, d), (m, d)
    V = values_for(K)  # (n, d)
    data_s = time.perf_counter() - t0
    kv_bytes = K.nbytes + V.nbytes
    print(f"[{kind} n={n:,}] keys: {how}; K+V = {kv_bytes / 1e9:.2f} GB, made in {data_s:.1f} s", flush=True)

    SINGLE = ThreadSettings(torch=2, faiss=1, blas=2)  # one query: torch and BLAS split it, FAISS answers on one thread
    BATCH_EXACT = ThreadSettings(torch=2, faiss=2, blas=2)  # many queries, dense products: every pool both cores
    BATCH_FAISS = ThreadSettings(torch=2, faiss=2, blas=1)  # FAISS + small numpy products: BLAS must not spin
    configure_threads(BATCH_EXACT)  # builds: both cores
    params = IndexParams()
    approx = None
    index_info: dict = {}
    if n >= params.flat_max:
        t0 = time.perf_counter()
        approx = cached_index(K, "auto", params, cache_dir=CACHE)
        index_info = {
            "kind": approx.kind,
            "build_or_load_s": round(time.perf_counter() - t0, 2),
            "params": vars(params),
        }
        print(f"  {approx!r} ready in {index_info['build_or_load_s']} s (built, or read from the cache)", flush=True)
        # one copy of the keys: numpy reads HNSW's storage, the flat index searches the same memory
        K = approx.vectors()
        flat = approx.flat_view()
        gc.collect()
    else:
        from retrieval_attention.index import VectorIndex

        flat = VectorIndex(K)
    rss_ready = rss_bytes()
    load_at_timing = wait_for_quiet()  # an index build can take minutes: the machine may have got busy

    import torch

    sdpa = torch.nn.functional.scaled_dot_product_attention
    with warnings.catch_warnings():  # K may be a read-only view of the index: torch only reads it
        warnings.simplefilter("ignore", UserWarning)
        tK, tV = torch.from_numpy(np.asarray(K))[None], torch.from_numpy(V)[None]  # (1, n, d) no copy
    tail = sample_tail(K, V, 1024)  # drawn once per key set, as an app would
    reps = _repeats(n)
    Qt = Q[: max(args.batch, 32)]
    rows: list[dict] = []

    def record(group: str, method: str, t: Timing, threads: ThreadSettings, per: int = 1) -> None:
        label = f"torch={threads.torch}, faiss={threads.faiss}, blas={threads.blas}"
        rows.append(
            {"group": group, "method": method, **t.as_dict(), "per_query_ms": t.median_ms / per, "threads": label}
        )
        print(
            f"  {group:<7} {method:<42} {t.median_ms:10.3f} ms ({t.median_ms / per:.4f} ms a query) [{label}]",
            flush=True,
        )

    # -- one query at a time --------------------------------------------------------------------
    i = [0]

    def nxt() -> np.ndarray:
        i[0] += 1
        return Qt[i[0] % len(Qt)]

    T = T_TIMING

    def numpy_obvious(q: np.ndarray) -> np.ndarray:
        scores = q @ K.T / T  # (1, n) or (m, n)
        w = np.exp(scores - scores.max(axis=-1, keepdims=True))
        w /= w.sum(axis=-1, keepdims=True)
        return w @ V

    def torch_sdpa(q: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return sdpa(torch.from_numpy(np.atleast_2d(q))[None], tK, tV, scale=1.0 / T)[0].numpy()

    single = [
        ("numpy, the obvious way", lambda: numpy_obvious(nxt()[None])),
        ("ours: exact_attention", lambda: exact_attention(nxt(), K, V, temperature=T)),
        ("torch SDPA (CPU)", lambda: torch_sdpa(nxt())),
        ("FAISS flat search (k=32, no attention)", lambda: flat.search(nxt(), K_TIMING)),
        ("top-k attention, flat (k=32)", lambda: topk_attention(nxt(), flat, V, K_TIMING, T, sample=tail)),
    ]
    if n <= 100_000:  # the general function materialises float scores of shape (1, n): fine up to 100k
        single.insert(
            2,
            (
                "ours: scaled_dot_product_attention",
                lambda: scaled_dot_product_attention(nxt()[None], K, V, scale=1 / T),
            ),
        )
    if approx is not None:
        single += [
            ("HNSW search (k=32, no attention)", lambda: approx.search(nxt(), K_TIMING)),
            ("top-k attention, HNSW (k=32)", lambda: topk_attention(nxt(), approx, V, K_TIMING, T, sample=tail)),
            (
                "top-k attention, HNSW (k=32, sampling per call)",
                lambda: topk_attention(nxt(), approx, V, K_TIMING, T, K=K),
            ),
            ("top-k attention, HNSW (k=32, no estimate)", lambda: topk_attention(nxt(), approx, V, K_TIMING, T)),
        ]
    configure_threads(SINGLE)
    for name, fn in single:
        record("single", name, time_call(fn, reps, 3, min_time_s=0.5), threads=SINGLE)
    configure_threads(ThreadSettings(torch=2, faiss=1, blas=1))
    fn = lambda: exact_attention(nxt(), K, V, temperature=T)  # noqa: E731
    record("single", "ours: exact_attention, 1 BLAS thread", time_call(fn, reps, 3), threads=ThreadSettings(2, 1, 1))

    # -- a batch of queries per call ------------------------------------------------------------
    m = args.batch
    Qb = np.ascontiguousarray(Q[:m])  # (m, d)
    breps = max(3, reps // 3)
    batch = [
        ("numpy, the obvious way", lambda: numpy_obvious(Qb)),
        ("ours: exact_attention", lambda: exact_attention(Qb, K, V, temperature=T)),
        ("torch SDPA (CPU)", lambda: torch_sdpa(Qb)),
        ("FAISS flat search (k=32, no attention)", lambda: flat.search(Qb, K_TIMING)),
        ("top-k attention, flat (k=32)", lambda: topk_attention(Qb, flat, V, K_TIMING, T, sample=tail)),
    ]
    if approx is not None:
        batch.append(("top-k attention, HNSW (k=32)", lambda: topk_attention(Qb, approx, V, K_TIMING, T, sample=tail)))
    for name, fn in batch:
        setting = BATCH_EXACT if name in EXACT_METHODS else BATCH_FAISS
        configure_threads(setting)
        record(f"batch{m}", name, time_call(fn, breps, 1), threads=setting, per=m)
    gc.collect()
    configure_threads(BATCH_EXACT)

    # -- accuracy: tail mass, its estimate, output error, recall ----------------------------------
    Qa = np.ascontiguousarray(Q[: args.accuracy_queries])
    accuracy: list[dict] = []
    for temp in TEMPERATURES:
        exact, lse = exact_attention(Qa, K, V, temperature=temp)  # (m, d), (m,)
        norm = np.linalg.norm(exact, axis=1)
        for k in K_TOPS:
            for label, index in (("flat", flat), ("HNSW", approx)):
                if index is None:
                    continue
                r = topk_attention(Qa, index, V, k, temp, sample=tail)
                tau = 1.0 - kept_mass(r.D, lse, temperature=temp)
                err = np.linalg.norm(exact - r.output, axis=1)
                accuracy.append(
                    {
                        "temperature": temp,
                        "k": k,
                        "index": label,
                        "kept_median": float(np.median(1 - tau)),
                        "tail_median": float(np.median(tau)),
                        "tail_p90": float(np.quantile(tau, 0.9)),
                        "tail_estimate_median": float(np.median(r.tail_mass)),
                        "tail_estimate_abs_err_median": float(np.median(np.abs(r.tail_mass - tau))),
                        "output_error_median": float(np.median(err)),
                        "output_error_p90": float(np.quantile(err, 0.9)),
                        "relative_error_median": float(np.median(err / norm)),
                        "error_estimate_median": float(np.median(r.output_error)),
                    }
                )
        del exact
    recall: list[dict] = []
    _, I_true = flat.search(Qa, 10)
    if approx is not None:
        for ef in EF_SWEEP:
            approx.faiss_index.hnsw.efSearch = ef
            _, I = approx.search(Qa, 10)
            configure_threads(SINGLE)
            t = time_call(lambda: approx.search(nxt(), 10), reps * 5, 5, 0.3)
            configure_threads(BATCH_EXACT)
            recall.append({"ef_search": ef, "recall_at_10": recall_at_k(I, I_true, 10), "search_ms": t.median_ms})
            print(
                f"  HNSW efSearch={ef:<4} recall@10 {recall[-1]['recall_at_10']:.3f}  {t.median_ms:.3f} ms", flush=True
            )
        approx.faiss_index.hnsw.efSearch = params.hnsw_ef_search

    peak = peak_rss_bytes()
    save_result(
        f"scaling_{kind}_{n}",
        {
            "kind": kind,
            "n": n,
            "d": D_MODEL,
            "keys": how,
            "data_s": round(data_s, 2),
            "index": index_info,
            "rows": rows,
            "accuracy": accuracy,
            "recall": recall,
            "memory": {
                "kv_bytes": kv_bytes,
                "peak_rss_bytes": peak,
                "rss_at_start_bytes": rss0,
                "rss_ready_bytes": rss_ready,
                "peak_over_kv": peak / kv_bytes,
            },
            "temperature_timing": T_TIMING,
            "k_timing": K_TIMING,
            "batch": m,
            "load_average_at_timing": load_at_timing,
        },
    )
    print(
        f"  peak RSS {peak / 1e9:.2f} GB = {peak / kv_bytes:.2f} × the {kv_bytes / 1e9:.2f} GB of K and V", flush=True
    )


if __name__ == "__main__":
    main()
