"""The app's hot path on the bundled corpus, model loaded: one new query end to end, and a slider
change (temperature or k) that needs no new embedding.

    python -m benchmarks.bench_interactive

"Our code" is everything but the encoder's forward pass: the query cache, the dict lookup, the
FAISS top-k, the full softmax attention, the outputs, and reading the output back
(``describe_output``). The Streamlit page around it (tables, charts) is UI and not counted.
"""

from __future__ import annotations

import itertools
import statistics
import time
from collections.abc import Iterator

from benchmarks.common import CACHE, machine, save_result, time_call, wait_for_quiet
from benchmarks.data import SEARCH_QUERIES

REPEATS = 100
ROUNDS = 3  # medians of REPEATS calls, then the median over the rounds
T, K_TOP = 0.05, 5


def measure(store, fresh: Iterator[str]) -> dict[str, float]:  # store: a KeyValueStore
    """Medians (ms) of every step of the hot path under the current thread settings."""
    enc = store.encoder
    r: dict[str, float] = {}

    def end_to_end() -> None:
        res = store.retrieve(next(fresh), k=K_TOP, temperature=T)
        store.describe_output(res["soft"].output)

    r["end_to_end_new_query_ms"] = time_call(end_to_end, REPEATS, 10).median_ms
    r["encoder_forward_ms"] = time_call(lambda: enc.encode_queries([next(fresh)]), REPEATS, 10).median_ms
    q = SEARCH_QUERIES[0]
    store.embed_query(q)
    r["ours_embed_query_cached_ms"] = time_call(lambda: store.embed_query(q), REPEATS, 10, 0.2).median_ms
    r["ours_hard_lookup_ms"] = time_call(lambda: store.hard_lookup(q), REPEATS, 10, 0.2).median_ms
    r["ours_topk_search_ms"] = time_call(lambda: store.topk_search(q, K_TOP, T), REPEATS, 10, 0.2).median_ms
    r["ours_soft_attention_ms"] = time_call(lambda: store.soft_attention(q, T), REPEATS, 10, 0.2).median_ms

    def ours() -> None:
        res = store.retrieve(q, k=K_TOP, temperature=T)
        store.describe_output(res["soft"].output)

    r["ours_query_total_ms"] = time_call(ours, REPEATS, 10, 0.5).median_ms
    temps = itertools.cycle([0.01, 0.02, 0.05, 0.1, 0.2, 0.5])
    ks = itertools.cycle([1, 3, 5, 10, 20])
    change_t = time_call(lambda: store.retrieve(q, k=K_TOP, temperature=next(temps)), REPEATS, 10, 0.5)
    change_k = time_call(lambda: store.retrieve(q, k=next(ks), temperature=T), REPEATS, 10, 0.5)
    r["ours_temperature_change_ms"] = change_t.median_ms
    r["ours_k_change_ms"] = change_k.median_ms
    return r


def main() -> None:
    import retrieval_attention as ra
    from retrieval_attention.infra.threads import (
        ThreadSettings,
        configure_threads,
        current_threads,
        recommended_threads,
    )

    load = wait_for_quiet()
    t0 = time.perf_counter()
    store = ra.KeyValueStore.from_corpus(ra.load_corpus(), cache_dir=CACHE)
    load_s = time.perf_counter() - t0
    fresh = (f"{q} {i}" for i in itertools.count() for q in SEARCH_QUERIES)  # never seen: no query cache hit
    settings = {
        "recommended: torch 2, FAISS 1, BLAS 1": recommended_threads("interactive"),
        "torch 1, FAISS 1, BLAS 2": ThreadSettings(torch=1, faiss=1, blas=2),
        "all pools 2 threads": ThreadSettings(torch=2, faiss=2, blas=2),
    }
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in settings}
    threads: dict[str, dict[str, int]] = {}
    for _ in range(ROUNDS):  # settings take turns, so a change in background load hits all of them
        for name, setting in settings.items():
            configure_threads(setting)
            runs[name].append(measure(store, fresh))
            threads[name] = current_threads()
    rows: list[dict] = []
    for name, rs in runs.items():
        r = {key: statistics.median(x[key] for x in rs) for key in rs[0]}
        print(f"  {name}: " + ", ".join(f"{key} {v:.3f}" for key, v in r.items()), flush=True)
        rows.append({"setting": name, **r, "threads": threads[name], "rounds": ROUNDS})
    save_result(
        "interactive",
        {
            "machine": machine(),
            "load_average_at_start": load,
            "n_keys": len(store),
            "store_load_s": round(load_s, 2),
            "temperature": T,
            "k": K_TOP,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
