"""Turn .cache/benchmarks/results/*.json into docs/benchmarks.md and docs/benchmark_scaling.svg.

python -m benchmarks.report
"""

from __future__ import annotations

from typing import Any

from benchmarks.bench_export import report_section as export_section
from benchmarks.bench_reruns import report_section as reruns_section
from benchmarks.bench_revisit_owners import report_section as owners_section
from benchmarks.bench_server_cpu import report_section as server_cpu_section
from benchmarks.common import DOCS, load_result
from benchmarks.svg import loglog_chart

NS = (10_000, 100_000, 1_000_000)
DOC_EF = 256  # IndexParams().hnsw_ef_search, the documented setting
CHART = "benchmark_scaling.svg"
CHART_METHODS = {
    "numpy, the obvious way": "numpy, the obvious way (exact)",
    "ours: exact_attention": "ours: exact_attention",
    "torch SDPA (CPU)": "torch SDPA on CPU (exact)",
    "top-k attention, flat (k=32)": "top-k attention, FAISS flat",
    "top-k attention, HNSW (k=32)": "top-k attention, HNSW",
}


def ms(x: float | None) -> str:
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:,.0f} ms"
    if x >= 1:
        return f"{x:.1f} ms"
    return f"{x * 1000:.0f} µs" if x < 0.1 else f"{x:.2f} ms"


def pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def ratio(a: float | None, b: float | None) -> str:
    return "–" if not a or not b else f"{a / b:.1f}×"


def versus(v: float, ours: float | None) -> str:
    """How v compares with ours: "(3.2× slower)", "(220× faster)" or "(same)" within 5%."""
    if not ours:
        return ""
    r = v / ours
    if 0.95 <= r <= 1.05:
        return "(same)"
    if r > 1:
        return f"({r:.1f}× slower)"
    return f"({1 / r:,.0f}× faster)" if r < 0.1 else f"({1 / r:.1f}× faster)"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def row_ms(res: dict | None, group: str, method: str, per_query: bool = False) -> float | None:
    if not res:
        return None
    for r in res["rows"]:
        if r["group"] == group and r["method"] == method:
            return r["per_query_ms"] if per_query else r["median_ms"]
    return None


def scaling(kind: str) -> dict[int, dict]:
    return {n: r for n in NS if (r := load_result(f"scaling_{kind}_{n}"))}


def accuracy_row(res: dict, t: float, k: int, index: str) -> dict | None:
    for a in res.get("accuracy", []):
        if a["temperature"] == t and a["k"] == k and a["index"] == index:
            return a
    return None


def machine_section(results: list[dict]) -> str:
    m = next((r["machine"] for r in results if r and "machine" in r), None)
    if m is None:
        return "Machine: not recorded."
    v = m["versions"]
    return "\n".join(
        [
            f"- CPU: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, {m['os']}",
            f"- Python {v.get('python')}, numpy {v.get('numpy')}, FAISS {v.get('faiss')}, torch {v.get('torch')}, "
            f"sentence-transformers {v.get('sentence_transformers')}, streamlit {v.get('streamlit')}",
            f"- Thread pools in the process: {m['thread_pools']}",
        ]
    )


def headline(
    inter: dict | None, cold: dict | None, text: dict[int, dict], emb: dict | None, srv: dict | None = None
) -> str:
    rows: list[list[str]] = []
    if inter:
        r = inter["rows"][0]
        rows.append(
            [
                "one new query end to end (embed + 3 retrievals + output), p50",
                ms(r["end_to_end_new_query_ms"]),
                "< 15 ms",
            ]
        )
        rows.append(["… of which our code (everything but the forward pass)", ms(r["ours_query_total_ms"]), "< 1 ms"])
        rows.append(
            [
                "slider change without a new embedding: temperature / k (our code)",
                f"{ms(r['ours_temperature_change_ms'])} / {ms(r['ours_k_change_ms'])}",
                "< 2 ms",
            ]
        )
    if cold:
        w = cold["warm_medians"]
        rows.append(
            [
                "app cold start to first full render (warm embedding cache)",
                f"{w['full_render_from_process_start_s']:.1f} s",
                "< 8 s",
            ]
        )
        floors = [
            (name, f)
            for name, f in (
                ("a three-line app", cold.get("floor_app_medians")),
                ("three-line pages under our navigation", cold.get("floor_navigation_app_medians")),
            )
            if f
        ]
        rows.append(
            [
                "page layout visible (from page load / from process start)",
                f"{w['layout_from_page_load_s']:.2f} s / {w['layout_from_process_start_s']:.1f} s"
                + "".join(
                    f" ({name}: {f['layout_from_page_load_s']:.2f} s / {f['layout_from_process_start_s']:.1f} s)"
                    for name, f in floors
                ),
                "< 1 s",
            ]
        )
        if "new_query_answered_from_process_start_s" in w:
            st_w = (cold.get("sentence_transformers") or {}).get("warm_medians", {})
            rows.append(
                [
                    "a new typed query answered after a start (from process start)",
                    f"{w['new_query_answered_from_process_start_s']:.1f} s"
                    + (
                        f" (sentence-transformers encoder: {st_w['new_query_answered_from_process_start_s']:.1f} s)"
                        if "new_query_answered_from_process_start_s" in st_w
                        else ""
                    ),
                    "< 2 s",
                ]
            )
            if "rss_after_new_query_mb" in w:
                rows.append(
                    [
                        "server resident memory after that query: numpy encoder / sentence-transformers",
                        f"{w['rss_after_new_query_mb']:.0f} MB / {st_w.get('rss_after_new_query_mb', float('nan')):.0f} MB",
                        "report",
                    ]
                )
        rows.append(["second start re-embeds the corpus", "yes" if cold["warm_start_re_embedded"] else "no", "never"])
    rows += encoder_headline_rows(load_result("encoder"))
    by = {(r.get("config"), r["sessions"]): r for r in (srv or {}).get("rows", []) if not r.get("upload")}
    one_proc, two = by.get(("1 app process", 30)), by.get(("2 replicas behind nginx", 30))
    if one_proc and two:
        rows.append(
            [
                "30 sessions at once, p50 / p95 per action at the server: one app process; 2 replicas behind nginx",
                f"{one_proc['action_p50_s']:.2f} s / {one_proc['action_p95_s']:.2f} s; "
                f"{two['action_p50_s']:.2f} s / {two['action_p95_s']:.2f} s",
                "p95 < 1 s",
            ]
        )
    big = text.get(1_000_000)
    if big:
        ours = row_ms(big, "single", "ours: exact_attention")
        torch = row_ms(big, "single", "torch SDPA (CPU)")
        naive = row_ms(big, "single", "numpy, the obvious way")
        flat = row_ms(big, "single", "FAISS flat search (k=32, no attention)")
        hnsw = row_ms(big, "single", "top-k attention, HNSW (k=32)")
        rows.append(["exact attention, 1 query over 1M × 384 keys: ours", ms(ours), "memory speed"])
        rows.append(
            [
                "… torch SDPA / numpy the obvious way / FAISS flat search alone",
                f"{ms(torch)} / {ms(naive)} / {ms(flat)}",
                "–",
            ]
        )
        rows.append(["ours vs torch SDPA (speed-up)", ratio(torch, ours), "–"])
        rows.append(
            [
                "top-k attention via HNSW (k = 32, with its tail estimate) at 1M",
                f"{ms(hnsw)}: {ratio(ours, hnsw)} faster than exact",
                "≥ 10× faster",
            ]
        )
        for t in (0.01, 0.05):
            acc = accuracy_row(big, t, 32, "HNSW")
            if acc:
                rows.append(
                    [
                        f"… what it drops at T = {t} (median over 256 queries)",
                        f"{pct(acc['tail_median'])} of the weight (estimated {pct(acc['tail_estimate_median'])}); "
                        f"output error ‖o − o_k‖ {acc['output_error_median']:.3f} ({pct(acc['relative_error_median'])} of ‖o‖)",
                        "report",
                    ]
                )
        batch = row_ms(big, "batch64", "ours: exact_attention", per_query=True)
        rows.append(
            [
                "exact attention at 1M, 64 queries per call (per query)",
                f"{ms(batch)} ({ratio(ours, batch)} less than one at a time)",
                "amortises",
            ]
        )
        mem = big["memory"]
        rows.append(
            [
                "peak memory at 1M keys (process, VmHWM) / size of K and V",
                f"{mem['peak_rss_bytes'] / 1e9:.2f} GB / {mem['kv_bytes'] / 1e9:.2f} GB = {mem['peak_over_kv']:.2f}×",
                "≤ 2.5×",
            ]
        )
        rec = next((r for r in big.get("recall", []) if r["ef_search"] == DOC_EF), None)
        if rec:
            rows.append(
                [
                    "HNSW recall@10 at the documented settings (1M real-text-derived keys)",
                    f"{rec['recall_at_10']:.3f}",
                    "≥ 0.95",
                ]
            )
    if emb:
        rows.append(
            [
                f"embedding throughput ({emb['n']:,} titles, batch {emb['batch_size']})",
                f"{emb['titles_per_s']:.0f} titles/s ({emb['seconds'] / 60:.1f} min)",
                "report",
            ]
        )
    return table(["what", "measured (median)", "target"], rows)


def encoder_headline_rows(enc: dict | None) -> list[list[str]]:
    """The encoder targets of issue 17: the CLI against importing sentence-transformers, one query, 1,000 titles."""
    if not enc:
        return []
    m, e = enc["cli"]["medians"], enc["encode"]
    ours, st = e["medians"]["numpy"], e["medians"]["sentence-transformers"]
    return [
        [
            "CLI one-shot answer to a new query, warm embedding cache / `import sentence_transformers`",
            f"{m['cli_numpy']['wall_s']:.2f} s / {m['import_sentence_transformers']['wall_s']:.2f} s "
            f"({enc['cli']['ratio_cli_to_import_st']:.2f}×)",
            "≤ 0.25× and < 2 s",
        ],
        [
            "one short query encoded: numpy encoder / sentence-transformers",
            f"{ours['query_ms']:.1f} ms / {st['query_ms']:.1f} ms ({e['query_time_ratio']:.2f}×)",
            "≤ 1.5×",
        ],
        [
            f"{e['n_titles']:,} titles embedded: numpy encoder / sentence-transformers",
            f"{ours['titles_per_s']:.0f} / {st['titles_per_s']:.0f} titles/s ({e['throughput_ratio']:.2f}×)",
            "≥ 0.7×",
        ],
    ]


def decoder_section(dec: dict | None) -> str:
    """The numpy decoders (issue 23): first load, reload, time per token against transformers, memory."""
    if not dec:
        return "_Not measured in this run._"
    rows = []
    for name, r in dec["models"].items():
        for key in sorted(k for k in r if k.startswith("threads_")):
            t = r[key]
            rows.append(
                [
                    name,
                    key.removeprefix("threads_"),
                    f"{r['first_load']['load_s']:.1f} s",
                    f"{r['reload_median_s']:.2f} s",
                    ms(t["transformers"]["ours_per_token_ms"]),
                    ms(t["ours"]["generate_step_ms"]),
                    ms(t["transformers"]["per_token_ms"]),
                    f"**{t['ratio']:.2f}×**",
                    f"{t['ours']['rss_mb']:.0f} MB / +{t['transformers']['rss_mb']:.0f} MB",
                    f"{r['load_average_at_start']} → {r['load_average_at_end']}",
                ]
            )
    return (
        f"Measured {dec['date']}, each figure in a fresh process (`benchmarks/bench_decoder.py`). First load: the GGUF "
        "read and dequantised, the tokenizer built, the converted copy written; reload: the copy checked and memory-mapped "
        f"(median of 3). Per token: greedy, with the KV cache, after the prompt “{dec['prompt']}”, median over "
        f"{dec['new_tokens'] - 1} steps; transformers loads the same GGUF (eager attention, float32) in the same process "
        "with the same number of threads, and the two take turns token by token, so a busy machine slows both alike. "
        "“Generation step” (its own process) adds what a page gets each step (the probabilities over the vocabulary, "
        "every layer's attention row, the text so far). Memory: ours resident after a generation / what loading "
        "transformers' model added.\n\n"
        + table(
            [
                "model",
                "threads",
                "first load",
                "reload",
                "ours per token",
                "ours, generation step",
                "transformers per token",
                "ours / transformers",
                "memory",
                "load average",
            ],
            rows,
        )
    )


def decoder_load_section(res: dict | None) -> str:
    """The decoders' first load step by step (``benchmarks/bench_decoder_load.py``), or a line saying it was not run."""
    if not res:
        return "_First loads step by step: not measured in this run (`python -m benchmarks.bench_decoder_load`)._"
    names = list(res["models"])
    most = max(res["models"].values(), key=lambda m: len(m["steps_median_s"]))  # Gemma: joining its parts first
    steps = list(
        dict.fromkeys([*most["steps_median_s"], *(k for m in res["models"].values() for k in m["steps_median_s"])])
    )
    rows = [[step, *(f"{m['steps_median_s'][step]:.1f} s" if step in m["steps_median_s"] else "–"
                     for m in res["models"].values())] for step in steps]  # fmt: skip
    rows.append(["**whole first load**", *(f"**{m['first_load_median_s']:.1f} s**" for m in res["models"].values())])
    rows.append(
        [
            "longest time the progress bar stood still",
            *(f"{m['longest_gap_median_s']:.1f} s" for m in res["models"].values()),
        ]
    )
    rows.append(["one reload after it (one run)", *(f"{m['reload']['load_s']:.1f} s" for m in res["models"].values())])
    loads = "; ".join(f"{n} {min(m['load_averages'])}–{max(m['load_averages'])}" for n, m in res["models"].items())
    return (
        f"First loads step by step, measured {res['date']} by `benchmarks/bench_decoder_load.py`: median of "
        f"{len(res['models'][names[0]]['runs'])} fresh processes, each with an empty cache of its own, the steps timed "
        f"from the load's own progress reports (load average {loads}: other work shared the two cores).\n\n"
        + table(["step", *names], rows)
    )


def generation_load_section(res: dict | None) -> str:
    """Slider changes while other sessions write with a decoder (``benchmarks/bench_generation_load.py``)."""
    if not res:
        return "_Slider changes while others generate: not measured in this run (`python -m benchmarks.bench_generation_load`)._"
    rows = []
    for g, r in sorted(res["summary"].items(), key=lambda kv: int(kv[0])):
        ratio = f"{r['p50_ratio']:.2f}× / {r['p95_ratio']:.2f}×" if "p50_ratio" in r else "–"
        rows.append([g, r["n"], f"{r['p50_s'] * 1000:,.0f} ms", f"{r['p95_s'] * 1000:,.0f} ms", ratio])
    mem = res["memory_mb_at_end"]
    return (
        f"Measured {res['date']} by `benchmarks/bench_generation_load.py` (load average {res['load_average_at_start']:.1f} "
        f"at the start, {res['load_average_at_end']:.1f} at the end: a busy machine, so the absolute times are "
        f"inflated; the ratios are taken within the run, rounds alternating): {res['sessions']} sessions move the main "
        f"page's k slider over Streamlit's websocket against one server while 0, 1 or 3 other sessions click “Write the "
        f"next word” with SmolLM2 up to the 24-token cap, {res['rounds']} rounds. Every answer was right. Server memory: "
        f"{res['rss_mb']['main_page']:.0f} MB after the main page, {res['rss_mb']['with_smollm2']:.0f} MB just after "
        f"SmolLM2 loaded, {mem['rss']:.0f} MB at the end ({mem['anon']:.0f} MB of the process's own, {mem['file']:.0f} MB "
        "of the model's memory-mapped copy, shared by every process). After the generating sessions left, the "
        "server's CPU fell to 0.00–0.01 cores within 4 s.\n\n"
        + table(["sessions writing", "slider changes", "p50", "p95", "p50 / p95 against none"], rows)
    )


def encoder_section(enc: dict | None) -> str:
    if not enc:
        return "_Not measured in this run._"
    cli, e = enc["cli"], enc["encode"]
    names = {
        "cli_numpy": "`python -m retrieval_attention QUERY` (numpy encoder, the default)",
        "cli_sentence_transformers": "the same, `RETRIEVAL_ATTENTION_ENCODER=sentence-transformers`",
        "import_sentence_transformers": '`python -c "import sentence_transformers"`',
    }
    procs = table(
        ["process", "wall", "CPU", "peak RSS"],
        [
            [names[k], f"{v['wall_s']:.2f} s", f"{v['cpu_s']:.2f} s", f"{v['peak_rss_mb']:.0f} MB"]
            for k, v in ((k, cli["medians"][k]) for k in names)
        ],
    )
    ours, st = e["medians"]["numpy"], e["medians"]["sentence-transformers"]
    rows = [
        ["import + load the encoder", f"{ours['import_and_load_s']:.2f} s", f"{st['import_and_load_s']:.2f} s"],
        ["first query after the load", ms(ours["first_query_ms"]), ms(st["first_query_ms"])],
        ["one short query (median)", ms(ours["query_ms"]), ms(st["query_ms"])],
        [
            f"{e['n_titles']:,} titles, batch {e['batch_size']}",
            f"{ours['titles_s']:.2f} s ({ours['titles_per_s']:.0f}/s)",
            f"{st['titles_s']:.2f} s ({st['titles_per_s']:.0f}/s)",
        ],
    ]
    return (
        f"Every figure from fresh processes, measured {enc['date']}. The CLI answers a query it has never seen "
        "(the corpus's keys and values come from a warm embedding cache, the query is encoded live); "
        f"{len(cli['runs']['cli_numpy'])} rounds of the three processes in turn, wall and CPU time and peak "
        "resident memory from the kernel's accounting of each finished process (`os.wait4`), medians:\n\n"
        + procs
        + f"\n\nRatio, round by round (median): the CLI over `import sentence_transformers` "
        f"**{cli['ratio_cli_to_import_st']:.2f}×**; the CLI on the numpy encoder over the CLI on sentence-transformers "
        f"{cli['ratio_cli_numpy_to_cli_st']:.2f}×.\n\n"
        f"The encoders alone, in {len(e['rounds'])} alternating pairs of fresh processes (our numpy encoder: numpy's "
        f"BLAS on one thread, batches over {e['cpus']} worker threads; sentence-transformers: torch's default "
        f"{e['cpus']} threads), medians:\n\n"
        + table(["", "numpy encoder", "sentence-transformers"], rows)
        + f"\n\nRatios, pair by pair (median): query time **{e['query_time_ratio']:.2f}×**, throughput "
        f"**{e['throughput_ratio']:.2f}×**."
    )


def interactive_section(inter: dict | None) -> str:
    if not inter:
        return "_Not measured in this run._"
    keys = [
        (
            "end_to_end_new_query_ms",
            "one new query, end to end (embed + hard + top-k + soft + outputs + describe_output)",
        ),
        ("encoder_forward_ms", "the encoder alone (one new query)"),
        ("ours_query_total_ms", "our code for one query: retrieve() (3 modes) + describe_output, embedding cached"),
        ("ours_embed_query_cached_ms", "… embed_query on a cached query (LRU)"),
        ("ours_hard_lookup_ms", "… hard_lookup"),
        ("ours_topk_search_ms", "… topk_search (FAISS flat, k = 5)"),
        ("ours_soft_attention_ms", "… soft_attention (all keys)"),
        ("ours_temperature_change_ms", "temperature slider change (retrieve, no new embedding)"),
        ("ours_k_change_ms", "k slider change (retrieve, no new embedding)"),
    ]
    names = [r["setting"] for r in inter["rows"]]
    rows = [[label] + [ms(r[key]) for r in inter["rows"]] for key, label in keys]
    threads = ", ".join(f"{r['setting']}: {r['threads']}" for r in inter["rows"])
    return (
        f"{inter['n_keys']} keys (the bundled corpus), all-MiniLM-L6-v2 loaded, T = {inter['temperature']}, k = {inter['k']}; "
        f"medians of 100 calls in each of 3 rounds in which the settings take turns (the median of the 3 medians), each new query a text never seen before (no cache hit). Measured {inter['date']}, "
        f"load average {inter['load_average_at_start']:.2f} at the start.\n\n"
        + table(["step"] + names, rows)
        + f"\n\nThreads in effect per setting (as read back, not as requested): {threads}. Torch is imported before "
        "FAISS in this process, so FAISS's OpenMP calls bind to torch's runtime and the two share one count "
        "(`retrieval_attention.infra.threads` explains); a single query's FAISS search runs on one thread either way."
    )


def coldstart_section(cold: dict | None) -> str:
    if not cold:
        return "_Not measured in this run._"
    rows = []
    for s in cold["starts"]:
        rows.append(
            [
                s["cache"],
                f"{s['health_s']:.2f} s",
                f"{s['layout_from_page_load_s']:.2f} s",
                f"{s['layout_from_process_start_s']:.2f} s",
                f"{s['full_render_from_page_load_s']:.2f} s",
                f"{s['full_render_from_process_start_s']:.2f} s",
                f"{s['new_query_answered_from_process_start_s']:.2f} s"
                if "new_query_answered_from_process_start_s" in s
                else "–",
                f"{s['rss_after_new_query_mb']:.0f} MB" if "rss_after_new_query_mb" in s else "–",
                "yes" if s.get("re_embedded") else ("–" if s["cache"] != "warm" else "no"),
            ]
        )
    imports = ", ".join(f"`import {m}` {t:.2f} s" for m, t in cold["imports_s"].items())
    floor = cold.get("floor_app_medians")
    nav = cold.get("floor_navigation_app_medians")
    nav_text = (
        f" The same three lines as every page under our own `app.py` (page config and `st.navigation` over seven "
        f"pages): {nav['layout_from_page_load_s']:.2f} s after page load ({nav['layout_from_process_start_s']:.2f} s "
        "after process start), the floor for a multipage app like ours."
        if nav
        else ""
    )
    floor_text = (
        f" For scale, a three-line Streamlit app (`st.title` and one `st.metric`, started right after each warm start of ours, median) shows its title "
        f"{floor['layout_from_page_load_s']:.2f} s after page load ({floor['layout_from_process_start_s']:.2f} s after "
        "process start) on this machine: that is the floor Streamlit and Chromium set."
        if floor
        else ""
    )
    return (
        "The real server (`streamlit run app.py`) and Debian's Chromium through Playwright, with the harness of "
        "`tests/browser/test_browser.py`: layout = the title text visible, full render = the soft-attention panel's "
        '"effective keys" visible, new query answered = a title typed into the query box (not one of the cached '
        f"examples, so it needs the model) shown as a hard-lookup hit. Measured {cold['date']}.\n\n"
        + table(
            [
                "embedding cache",
                "server healthy",
                "layout (page load)",
                "layout (process start)",
                "full render (page load)",
                "full render (process start)",
                "new query answered (process start)",
                "server RSS after it",
                "re-embedded",
            ],
            rows,
        )
        + _st_coldstart(cold)
        + f"\n\nImport times in a fresh interpreter (median of 3): {imports}. The default model runs on our numpy "
        "encoder (`tokenizers` and `safetensors`, no torch), which loads in a fraction of a second; after the first "
        "start the corpus and the example queries come from the embedding cache. A model on sentence-transformers "
        "loads in a background thread instead (its shape recorded in the cache folder), and only a new query waits "
        "for it." + floor_text + nav_text
    )


def _st_coldstart(cold: dict) -> str:
    """The same starts with the default model forced onto sentence-transformers, for comparison."""
    st = cold.get("sentence_transformers")
    if not st:
        return ""
    w, ours = st["warm_medians"], cold["warm_medians"]
    return (
        "\n\nThe same warm starts with `RETRIEVAL_ATTENTION_ENCODER=sentence-transformers` (how every start ran "
        "before the numpy encoder; medians of the warm starts, ours in brackets): full render "
        f"{w['full_render_from_process_start_s']:.2f} s ({ours['full_render_from_process_start_s']:.2f} s), new query "
        f"answered {w['new_query_answered_from_process_start_s']:.2f} s "
        f"({ours['new_query_answered_from_process_start_s']:.2f} s), server RSS after it "
        f"{w['rss_after_new_query_mb']:.0f} MB ({ours['rss_after_new_query_mb']:.0f} MB)."
    )


def single_table(res: dict[int, dict], group: str) -> str:
    methods: list[str] = []
    for r in res.values():
        for row in r["rows"]:
            if row["group"] == group and row["method"] not in methods:
                methods.append(row["method"])
    per = group != "single"
    rows = []
    for m in methods:
        cells = [m]
        for n in NS:
            v = row_ms(res.get(n), group, m, per_query=per)
            ours = row_ms(res.get(n), group, "ours: exact_attention", per_query=per)
            if v is None:
                cells.append("–")
            else:
                cells.append(f"**{ms(v)}**" if m == "ours: exact_attention" else f"{ms(v)} {versus(v, ours)}")
        rows.append(cells)
    return table(["method"] + [f"n = {n:,}" for n in NS], rows)


def threads_of(res: dict[int, dict], group: str) -> str:
    seen: dict[str, set[str]] = {}
    for r in res.values():
        for row in r["rows"]:
            if row["group"] == group:
                seen.setdefault(row["threads"], set()).add(row["method"])
    if not seen:
        return "–"
    common = max(seen, key=lambda t: len(seen[t]))
    others = "; ".join(f"{t} for {', '.join(sorted(names))}" for t, names in seen.items() if t != common)
    return common + (f", except {others}" if others else "")


def accuracy_table(r: dict) -> str:
    rows = []
    for a in r.get("accuracy", []):
        rows.append(
            [
                a["temperature"],
                a["k"],
                a["index"],
                pct(a["kept_median"]),
                pct(a["tail_p90"]),
                f"{pct(a['tail_estimate_median'])} (±{pct(a['tail_estimate_abs_err_median'])})",
                f"{a['output_error_median']:.4f}",
                f"{a['output_error_p90']:.4f}",
                pct(a["relative_error_median"]),
                f"{a['error_estimate_median']:.4f}",
            ]
        )
    return table(
        [
            "T",
            "k",
            "index",
            "weight kept (median)",
            "tail mass p90",
            "tail estimate (median, ± abs. error)",
            "‖o − o_k‖ median",
            "p90",
            "relative",
            "error estimate",
        ],
        rows,
    )


def recall_table(res: dict[int, dict]) -> str:
    rows = []
    for n, r in res.items():
        if r.get("recall"):
            idx = r.get("index", {})
            build = f"{idx.get('build_or_load_s', 0):.0f} s"
            rows.append([f"{n:,}", build] + [f"{x['recall_at_10']:.3f} ({ms(x['search_ms'])})" for x in r["recall"]])
    any_r = next((r for r in res.values() if r.get("recall")), None)
    if any_r is None:
        return "_No approximate index at these sizes._"
    return table(["n", "index build (or cache read)"] + [f"efSearch {x['ef_search']}" for x in any_r["recall"]], rows)


def memory_table(res: dict[int, dict]) -> str:
    rows = []
    for n, r in res.items():
        m = r["memory"]
        rows.append(
            [
                f"{n:,}",
                f"{m['kv_bytes'] / 1e9:.2f} GB",
                f"{m['rss_ready_bytes'] / 1e9:.2f} GB",
                f"{m['peak_rss_bytes'] / 1e9:.2f} GB",
                f"{m['peak_over_kv']:.2f}×",
            ]
        )
    return table(
        ["n", "K + V (float32)", "RSS with data and indexes ready", "peak RSS (VmHWM)", "peak / (K + V)"], rows
    )


def chart(text: dict[int, dict], gauss: dict[int, dict]) -> str | None:
    series: dict[str, list[tuple[float, float]]] = {}
    for method, label in CHART_METHODS.items():
        pts = [(float(n), v) for n, r in text.items() if (v := row_ms(r, "single", method)) is not None]
        if pts:
            series[label] = pts
    g = [
        (float(n), v)
        for n, r in gauss.items()
        if (v := row_ms(r, "single", "top-k attention, HNSW (k=32)")) is not None
    ]
    if g:
        series["top-k attention, HNSW, Gaussian keys"] = g
    if not series:
        return None
    svg = loglog_chart(
        series,
        "One query, d = 384: latency vs number of keys (log-log)",
        "number of keys n",
        "median latency per query",
        dashed=frozenset({"top-k attention, HNSW, Gaussian keys"}),
    )
    (DOCS / CHART).write_text(svg, encoding="utf-8")
    return CHART


def embedding_section(emb: dict | None) -> str:
    if not emb:
        return "_Not measured in this run._"
    if "encoder" not in emb:  # a result from before the numpy encoder: torch threads swept too
        sweep = table(
            ["torch threads", "batch size", "titles/s"],
            [[s["torch_threads"], s["batch_size"], f"{s['titles_per_s']:.0f}"] for s in emb["sweep"]],
        )
        how = f"sentence-transformers, torch threads {emb['threads']['torch']}"
    else:
        sweep = table(["batch size", "titles/s"], [[s["batch_size"], f"{s['titles_per_s']:.0f}"] for s in emb["sweep"]])
        how = f"{emb['encoder']} (BLAS on one thread, {emb['workers']} worker threads)"
    return (
        f"{emb['n']:,} synthetic titles (mean {emb['mean_words']:.1f} words), all-MiniLM-L6-v2 on {how}, batch "
        f"{emb['batch_size']}, with a tqdm progress bar: **{emb['seconds']:.0f} s, "
        f"{emb['titles_per_s']:.0f} titles/s** (measured {emb['date']}, load average {emb['load_average_at_start']:.1f} "
        f"at the start and {emb['load_average_at_end']:.1f} at the end: other work shares these 2 cores).\n\n"
        f"Batch sizes on the first {emb['sweep_n']:,} titles:\n\n{sweep}"
    )


def threads_section(thr: dict | None) -> str:
    if not thr:
        return "_Not measured in this run._"
    rows = [[r["what"], r["setting"], ms(r["median_ms"]), r.get("note", "")] for r in thr["rows"]]
    return table(["what", "setting", "median", "note"], rows)


def browser_load_text(browser: dict | None) -> str:
    """Section 3's sentence on the 20-Chromium run (``benchmarks/bench_browser_load.py``), or ""."""
    if not browser:
        return ""
    return (
        f"\n\nIn real browsers (`benchmarks/bench_browser_load.py` runs `tests/browser/test_load.py` alone, measured "
        f"{browser['date']}, load average {browser['load_average_at_start']:.2f} at the start): {browser['sessions']} "
        f"Chromium sessions against one app process, {browser['actions']} actions (3 new queries and 2 temperature "
        f"steps each, every top-1 right), p50 {browser['p50_s']:.2f} s, p95 {browser['p95_s']:.2f} s, max "
        f"{browser['max_s']:.2f} s from the key press to the new answer on screen, server memory "
        f"{browser['server_rss_mb_after']} MB after. Here the 20 browsers' rendering shares the same "
        f"{browser['cpu_cores']} cores as the server, so these times are the class's, not the server's alone."
    )


def server_load_section(srv: dict | None, browser: dict | None = None) -> str:
    if not srv:
        return "_Not measured in this run._" + browser_load_text(browser)
    rows = []
    for r in srv["rows"]:
        up = r.get("upload")
        rows.append(
            [
                r.get("config", "as shipped"),
                r["sessions"],
                r["actions"],
                f"{r['action_p50_s'] * 1000:.0f} ms",
                f"{r['action_p95_s'] * 1000:.0f} ms",
                f"{r['action_max_s'] * 1000:.0f} ms",
                f"{r['wall_s']:.1f} s",
                f"{r['server_cpu_s']:.1f} s / {r['client_cpu_s']:.1f} s "
                f"({r['server_cpu_s'] * 1000 / (r['sessions'] + r['actions']):.0f} ms a run)"
                if "server_cpu_s" in r
                else "–",
                "yes" if r["all_correct"] else "**no**",
                " + ".join(f"{m:.0f}" for m in r.get("rss_per_replica_mb", [r["rss_after_mb"]])) + " MB",
                f"{up['rows']:,} rows in {up['embed_rerun_s']:.1f} s" if up else "",
            ]
        )
    by = {(r.get("config", ""), r["sessions"], bool(r.get("upload"))): r for r in srv["rows"]}
    configs = list(dict.fromkeys(r.get("config", "") for r in srv["rows"]))
    text = ""
    if len(configs) == 2 and all((c, 30, False) in by for c in configs):
        one, two = (by[(c, 30, False)] for c in configs)
        text = (
            f"\n\nWith 30 sessions acting at once, one app process answers with p50 {one['action_p50_s'] * 1000:.0f} ms / "
            f"p95 {one['action_p95_s'] * 1000:.0f} ms; two replicas behind nginx with p50 {two['action_p50_s'] * 1000:.0f} ms / "
            f"p95 {two['action_p95_s'] * 1000:.0f} ms ({one['action_p95_s'] / two['action_p95_s']:.1f}× at the p95). One "
            "Python process runs every session's script under one interpreter lock, so a second process uses the "
            "second core; each replica holds its own model (the memory column, one figure per replica)."
        )
        ups = [r for r in srv["rows"] if r.get("upload")]
        for u in ups:
            base = by.get((u["config"], u["sessions"], False))
            if base:
                text += (
                    f" During a {u['upload']['rows']:,}-row paste being embedded ({u['config']}), the other "
                    f"{u['sessions']} sessions' p95 was {u['action_p95_s'] * 1000:.0f} ms against "
                    f"{base['action_p95_s'] * 1000:.0f} ms without it."
                )
    return (
        "`tests/browser/test_load.py` drives 20 real Chromium sessions: what a class sees, but on 2 cores the "
        "browsers and the server share the CPU. `benchmarks/bench_server_load.py` speaks Streamlit's own websocket "
        "protocol instead (protobuf `BackMsg` / `ForwardMsg` on `/_stcore/stream`, what the browser sends and "
        "receives) and times each rerun from the request to `script_finished`: the server's work, without any "
        "rendering. Each session types 3 queries of its own, new to the server (no session of this or an earlier wave "
        "typed them, so no cache answers), and moves the k slider twice; every "
        "answer's top-1 title is checked against the library. All sessions start together; each carries its own "
        "affinity cookie, as a browser does, so behind nginx the sessions spread over the replicas. The CPU column is "
        "the app processes' CPU time during the wave beside this client's own (it runs on the same 2 cores), and the "
        "app's CPU per script run (each session's first run and its actions, uploads included). Measured "
        f"{srv['date']}, load average {srv['load_average_at_start']:.2f} at the start.\n\n"
        + table(
            [
                "deployment",
                "sessions",
                "actions",
                "p50",
                "p95",
                "max",
                "wall time",
                "CPU: app / this client",
                "every top-1 right",
                "resident memory",
                "paste during the wave",
            ],
            rows,
        )
        + text
        + browser_load_text(browser)
    )


def main() -> None:
    inter, cold, emb, thr = (load_result(n) for n in ("interactive", "coldstart", "embedding", "threads"))
    srv = load_result("server_load")
    reruns, reruns_before = load_result("reruns"), load_result("reruns_before")
    text, gauss, derived = scaling("text"), scaling("gaussian"), scaling("derived")
    chart_file = chart(text, gauss)
    enc = load_result("encoder")
    all_results = [inter, cold, emb, thr, srv, enc, *text.values(), *gauss.values()]
    dates = sorted(r["date"] for r in all_results if r)
    big = text.get(1_000_000) or {}
    real100, der100 = text.get(100_000), derived.get(100_000)
    parts = [
        "# Benchmarks",
        "",
        "Generated by `benchmarks/report.py` from the raw results in `.cache/benchmarks/results/`; do not edit by hand. "
        "Regenerate everything with one command (from the project root):",
        "",
        "```",
        ".venv/bin/python -m benchmarks        # or: make bench",
        "```",
        "",
        "About 20 minutes when the HNSW indexes are cached, most of it embedding 100k titles and the 1M-key runs; the first "
        "run also builds the HNSW indexes (about 6 min for 1M real-text-derived keys, 37 min for 1M Gaussian keys, as measured on 2026-11-21: graph search struggles without structure) and caches "
        "them under `.cache/benchmarks/cache/indexes/`. It waits for the 1-minute load average to drop to 2.5 before each part. "
        "`--quick` skips the 1M runs, the embedding run, the browser and the server load.",
        "",
        f"Run between {dates[0]} and {dates[-1]}." if dates else "",
        "",
        machine_section(all_results),
        "",
        "## Headline",
        "",
        headline(inter, cold, text, emb, srv),
        "",
        "All timings are medians of repeated calls after warm-up; every ratio compares numbers from the same process and run.",
        "",
        "## 1. Interactive path (the app)",
        "",
        interactive_section(inter),
        "",
        "## 1b. A slider change, page by page (AppTest)",
        "",
        reruns_section(reruns, reruns_before),
        "",
        owners_section(load_result("revisit_owners")),
        "",
        "## 2. App cold start",
        "",
        coldstart_section(cold),
        "",
        "### The encoder: our numpy forward pass against sentence-transformers",
        "",
        encoder_section(enc),
        "",
        "### The decoders: our numpy SmolLM2 and Gemma 3 against transformers",
        "",
        decoder_section(load_result("decoder")),
        "",
        decoder_load_section(load_result("decoder_load")),
        "",
        "### Slider changes while other sessions write with a decoder",
        "",
        generation_load_section(load_result("generation_load")),
        "",
        "## 3. Many users at once (the server alone)",
        "",
        server_load_section(srv, load_result("browser_load")),
        "",
        server_cpu_section(load_result("server_cpu")),
        "",
        "## 4. Attention over many keys (d = 384)",
        "",
        "Exact attention `softmax(q·Kᵀ / T) V` against top-k attention (FAISS top-k, softmax over those k, tail mass "
        "estimated from 1,024 sampled keys), at T = 0.05 (the app's default) and k = 32. Keys: real embeddings of "
        "synthetic titles up to 100k, derived from them at 1M (section 8). Each n runs in its own process.",
        "",
        f"![latency vs n]({chart_file})" if chart_file else "",
        "",
        "### One query at a time (compared with ours: exact_attention)",
        "",
        single_table(text, "single"),
        "",
        f"Threads: {threads_of(text, 'single')}.",
        "",
        f"### A batch of {big.get('batch', 64)} queries per call (time per query, compared with ours: exact_attention)",
        "",
        single_table(text, f"batch{big.get('batch', 64)}"),
        "",
        f"Threads: {threads_of(text, 'batch' + str(big.get('batch', 64)))}.",
        "",
        "### What top-k drops, at the app's temperatures",
        "",
        "Over 256 real queries (bundled descriptions and search-box queries), values are unit vectors. Tail mass = the "
        "full-softmax weight of the dropped keys (exact, from the exact log-partition); the estimate is what "
        "`topk_attention` reports without reading every key (the keys right after the k kept, up to 128 or 4·k searched, "
        "measured exactly; 1,024 uniformly sampled keys for the rest). Relative = ‖o − o_k‖ / ‖o‖: at high T the exact "
        "output averages many unit vectors and is short, so the relative error can pass 100%. "
        "More keys at the same temperature means more tail: at T = 0.05 a key at cosine 0.3 weighs e^-6 of one at 0.6, "
        "and a million of them outweigh it, so top-k approximates full attention over 1M keys well only at low T.",
        "",
    ]
    for n in (1_000_000, 100_000):
        if n in text:
            parts += [f"**n = {n:,}** ({text[n]['keys']})", "", accuracy_table(text[n]), ""]
    parts += [
        "### HNSW recall@10 and single-query search time vs efSearch",
        "",
        'Documented settings (`IndexParams()`): M = 32, efConstruction = 200, efSearch = 256; `kind="auto"` uses a flat '
        "index below 50,000 keys. Recall against the exact flat search over the same queries.",
        "",
        "Real-text keys:",
        "",
        recall_table(text),
        "",
    ]
    if real100 and der100:
        a_r, a_d = accuracy_row(real100, 0.05, 32, "flat"), accuracy_row(der100, 0.05, 32, "flat")
        rr = next((r for r in real100["recall"] if r["ef_search"] == DOC_EF), None)
        rd = next((r for r in der100["recall"] if r["ef_search"] == DOC_EF), None)
        parts += [
            "### Is the derivation faithful? 100k real vs 100k derived from 10k real",
            "",
            table(
                [
                    "100k keys",
                    "top-32 weight kept at T = 0.05",
                    f"HNSW recall@10 (efSearch {DOC_EF})",
                    "exact attention, 1 query",
                ],
                [
                    [
                        "real embeddings",
                        pct(a_r and a_r["kept_median"]),
                        f"{rr['recall_at_10']:.3f}" if rr else "–",
                        ms(row_ms(real100, "single", "ours: exact_attention")),
                    ],
                    [
                        "derived from 10k real",
                        pct(a_d and a_d["kept_median"]),
                        f"{rd['recall_at_10']:.3f}" if rd else "–",
                        ms(row_ms(der100, "single", "ours: exact_attention")),
                    ],
                ],
            ),
            "",
        ]
    if gauss:
        parts += [
            "### Worst case: Gaussian-random keys (reported apart, not the headline)",
            "",
            "Unit vectors with no structure: every key is about equally far from every query, which defeats graph "
            "search (and makes the softmax nearly uniform, so top-k drops almost everything).",
            "",
            single_table(gauss, "single"),
            "",
            recall_table(gauss),
            "",
        ]
    parts += [
        "### Memory",
        "",
        "Peak resident memory of each run's process (VmHWM), one process per n so peaks do not mix. At 1M the process "
        "holds one copy of the keys: numpy reads the HNSW index's own storage (`VectorIndex.vectors()`), and the exact "
        "flat search runs over that same memory (`VectorIndex.flat_view()`).",
        "",
        memory_table(text),
        "",
        "## 5. Embedding throughput",
        "",
        embedding_section(emb),
        "",
        "## 6. Thread settings",
        "",
        "torch, FAISS and numpy's OpenBLAS each bring a thread pool sized to every core. On 2 cores, a pool whose threads "
        "spin while another pool works, or whose second thread shares a core with another process, turns milliseconds "
        "into tens of milliseconds. `retrieval_attention.infra.threads.recommended_threads()` encodes the choice; "
        "`configure_threads()` applies it (the app calls it when it loads a store; the CLI, one query per process, keeps the defaults):",
        "",
        "- **interactive** (one query at a time): torch = all cores, FAISS = 1, BLAS = 1. The forward pass is the "
        "largest cost and splits well; FAISS answers one query on one thread anyway; the app's numpy products "
        "(at most 20k keys) are small, and two BLAS threads left spinning slow the next forward pass.",
        "- **batch** (embedding a corpus, building an index, many queries per call): torch = FAISS = all cores, "
        "BLAS = 1; exact attention over a batch of queries (one dense product) is the exception: BLAS = all cores.",
        "- Not done: `OMP_WAIT_POLICY=PASSIVE` (stops OpenMP workers spinning) only works if set before torch and FAISS "
        "load; it helped a little in a quick test and is left to the launch environment.",
        "",
        "Measured (medians):",
        "",
        threads_section(thr),
        "",
        "## 7. What a user would pick instead",
        "",
        "- *numpy, the obvious way*: `scores = q @ K.T / T; w = np.exp(scores - scores.max()); w /= w.sum(); out = w @ V`.",
        "- *torch SDPA*: `torch.nn.functional.scaled_dot_product_attention(q, K, V, scale=1/T)` on CPU, tensors made with "
        "`torch.from_numpy` (no copy).",
        "- *FAISS flat search*: `IndexFlatIP.search(q, k)`, retrieval only, no attention.",
        "- *ours*: `retrieval_attention.large.exact_attention` (float32, BLAS gemv for one query, gemm over key blocks "
        "with an online softmax for batches) and `topk_attention` (FAISS top-k, softmax over k, sampled tail estimate).",
        "",
        "## 8. How the key sets are made",
        "",
        "- **Real (10k, 100k)**: synthetic video titles (the 312 bundled ones, then templates per category such as "
        '"<adjective> <topic> <format>", "How to Get Started With <topic>", "<topic> vs <topic>", and word-level mixes '
        "of two bundled titles of one category), embedded with all-MiniLM-L6-v2. 100k titles take a few minutes (section 5); "
        "1M would take about an hour, hence:",
        "- **Derived (1M)**: key = normalise(e_a + 0.3·u·(e_b − e_a) + 0.3·g/√d) with e_a, e_b random real embeddings, "
        "u ~ U(0, 1) and g ~ N(0, I): near a real key, pulled part of the way towards another, jittered. It keeps the "
        "topic clusters that graph search relies on; the 100k comparison above checks it against real keys.",
        "- **Values**: v_i = normalise(k_i + 0.75·g_i/√d), cos(k_i, v_i) ≈ 0.8, so output errors are in units of a unit vector.",
        "- **Queries**: the bundled descriptions and 40 search-box queries, embedded with the same model; never keys.",
        "- **Gaussian**: N(0, I) rows normalised; Gaussian queries.",
        "",
    ]
    if exported := load_result("export"):
        parts += [export_section(exported), ""]
    DOCS.mkdir(exist_ok=True)
    (DOCS / "benchmarks.md").write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {DOCS / 'benchmarks.md'}" + (f" and {DOCS / chart_file}" if chart_file else ""))


if __name__ == "__main__":
    main()
