"""Does one student's generation slow the class? Main-page slider changes while others write with SmolLM2.

N sessions (``RA_GEN_SESSIONS``, 10 by default) move the k slider on the main page of ONE real
server (Streamlit's websocket protocol, as in :mod:`benchmarks.bench_server_load`: each change is
timed from the rerun request to ``script_finished``, every top-1 checked against the library).
The phases alternate in the same run (``RA_GEN_ROUNDS`` rounds of: nobody generating, 1 session
generating, 3 sessions generating), so a busy moment of the shared machine cannot favour one
condition. A generating session sits on "The next word" page with SmolLM2 and clicks "Write the
next word" up to the page's cap (``MAX_WRITTEN``), then types a new prompt (a prompt no run has
seen: the server really prefills and decodes) and goes on, until the phase ends and it leaves.

Bounding: generation runs inside the session's own script run, one model step per click (the
steps are pulled from a lazy generator kept in a store of at most ``RUNS`` runs). After the
generating sessions leave, the server's CPU time is sampled for a few seconds: if anything kept
generating without a session, it shows there. The server's RSS with SmolLM2 loaded is recorded.

    RA_GEN_SESSIONS=10 python -m benchmarks.bench_generation_load
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from pathlib import Path

from benchmarks.bench_server_load import (
    Session,
    button_state,
    connect,
    run_once,
    slider_state,
    text_state,
)
from benchmarks.common import WORK, machine, rss_bytes, save_result, wait_for_quiet

SESSIONS = int(os.environ.get("RA_GEN_SESSIONS", "10"))
ROUNDS = int(os.environ.get("RA_GEN_ROUNDS", "2"))
MOVES = int(os.environ.get("RA_GEN_MOVES", "6"))  # slider changes per session per phase
GENERATORS = (0, 1, 3)
PAGE = "decoder_next_word"  # the next-word page's url path (app.py: ui/pages/decoder_next_word.py)
QUERY = "homemade pizza recipe"
K_VALUES = (3, 8, 5, 10)


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(q * (len(xs) - 1)))]


def memory_mb(pid: int) -> dict[str, float]:
    """A process's resident memory now (anonymous and file-backed, e.g. a memory-mapped model) and its peak, MB."""
    keys = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in keys:
            out[keys[name]] = int(value.split()[0]) / 1024
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def page_run(s: Session, states: list) -> float:
    """One rerun of the next-word page (the page named in the request); seconds to ``script_finished``."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from benchmarks.bench_server_load import widget_ids

    back = BackMsg()
    back.rerun_script.query_string = ""
    back.rerun_script.page_name = PAGE
    back.rerun_script.widget_states.widgets.extend(states)
    t0 = time.perf_counter()
    await s.ws.send(back.SerializeToString())
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(await s.ws.recv())
        s.ids.update(widget_ids(msg))
        if msg.WhichOneof("type") == "script_finished":
            return time.perf_counter() - t0


async def generator(url: str, name: str, stop: asyncio.Event, log: list[dict]) -> None:
    """A student on "The next word": writes up to the cap, then a new prompt, until ``stop``; then leaves."""
    from retrieval_attention.views.next_word import MAX_WRITTEN

    async with connect(url, name) as ws:
        s = Session(ws)
        await page_run(s, [])
        prompt_id = s.ids["nw_prompt_en"]
        cycle = 0
        while not stop.is_set():
            prompt = f"Once upon a time, {name} saw {cycle} {time.time_ns()} cats and"  # new to the server
            cycle += 1
            await page_run(s, [text_state(prompt_id, prompt)])
            for _ in range(MAX_WRITTEN):
                if stop.is_set():
                    break
                dt = await page_run(s, [text_state(prompt_id, prompt), button_state(s.ids["nw_more"])])
                log.append({"who": name, "s": dt})


async def slider_user(url: str, user: int, tag: str, expected: str) -> list[dict]:
    async with connect(url, f"{user}-{tag}") as ws:
        s = Session(ws)
        await run_once(s, [])
        await run_once(s, [text_state(s.ids["query"], QUERY)])  # the query once; then only the slider moves
        acts = []
        for i in range(MOVES):
            k = K_VALUES[i % len(K_VALUES)]
            dt, top = await run_once(s, [text_state(s.ids["query"], QUERY), slider_state(s.ids["k"], k)])
            acts.append({"s": dt, "ok": top == expected})
        return acts


async def phase(url: str, generating: int, tag: str, expected: str, pid: int) -> dict:
    stop, log = asyncio.Event(), []
    gens = [asyncio.create_task(generator(url, f"gen{g}{tag}", stop, log)) for g in range(generating)]
    if gens:
        await asyncio.sleep(3.0)  # the generators are writing before the class acts
    t0 = time.perf_counter()
    results = await asyncio.gather(*(slider_user(url, u, tag, expected) for u in range(SESSIONS)))
    wall = time.perf_counter() - t0
    stop.set()
    await asyncio.gather(*gens)  # each finishes its click in flight, then closes its websocket
    cpu0 = cpu_seconds(pid)
    await asyncio.sleep(4.0)
    idle_cpu = (cpu_seconds(pid) - cpu0) / 4.0  # the server's CPU share once every session has left
    times = [a["s"] for r in results for a in r]
    return {
        "generating": generating,
        "tag": tag,
        "actions": len(times),
        "all_correct": all(a["ok"] for r in results for a in r),
        "p50_s": statistics.median(times),
        "p95_s": percentile(times, 0.95),
        "max_s": max(times),
        "times_s": times,
        "wall_s": wall,
        "clicks": len(log),
        "click_p50_s": statistics.median([c["s"] for c in log]) if log else None,
        "server_cpu_after_leave": idle_cpu,
        "rss_mb": rss_bytes(pid) / 2**20,
        "memory_mb": memory_mb(pid),
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    import retrieval_attention as ra
    from tests.browser.test_browser import start_server, stop_server

    load = wait_for_quiet(limit=3.0, max_wait_s=120, poll_s=30)
    store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    expected = store.corpus.by_id(store.topk_search(QUERY, k=5).ids[0]).title
    state = WORK / "generation_load"
    state.mkdir(parents=True, exist_ok=True)
    server = start_server(state, state)
    pid = server["proc"].pid
    try:
        url = server["url"].replace("http://", "ws://") + "/_stcore/stream"
        rss_start = rss_bytes(pid) / 2**20
        asyncio.run(slider_user(url, 99, "warm", expected))  # the encoder and store loaded, charts warm
        rss_encoder = rss_bytes(pid) / 2**20
        t0 = time.perf_counter()

        async def load_decoder() -> None:
            async with connect(url, "warm-gen") as ws:
                await page_run(Session(ws), [])

        asyncio.run(load_decoder())  # one run of the next-word page: SmolLM2 (its converted copy) loaded
        decoder_load_s = time.perf_counter() - t0
        rss_decoder = rss_bytes(pid) / 2**20
        print(f"  server memory with SmolLM2 loaded: {memory_mb(pid)}", flush=True)
        print(f"  server RSS {rss_start:.0f} MB at start, {rss_encoder:.0f} MB after the main page, "
              f"{rss_decoder:.0f} MB with SmolLM2 loaded ({decoder_load_s:.1f} s)", flush=True)  # fmt: skip
        rows = []
        for r in range(ROUNDS):
            for g in GENERATORS:
                row = asyncio.run(phase(url, g, f"r{r}g{g}", expected, pid))
                rows.append(row)
                click = f", their clicks p50 {row['click_p50_s'] * 1000:.0f} ms ({row['clicks']})" if g else ""
                print(
                    f"  round {r}, {g} generating: {SESSIONS} sessions' slider p50 {row['p50_s'] * 1000:.0f} ms, "
                    f"p95 {row['p95_s'] * 1000:.0f} ms, max {row['max_s'] * 1000:.0f} ms{click}; server CPU after "
                    f"they left {row['server_cpu_after_leave']:.2f} cores; memory {row['memory_mb']} MB; "
                    f"load {row['load_average']:.1f}",
                    flush=True,
                )
        summary = {}
        for g in GENERATORS:
            times = [t for row in rows if row["generating"] == g for t in row["times_s"]]
            summary[str(g)] = {"p50_s": statistics.median(times), "p95_s": percentile(times, 0.95), "n": len(times)}
        for g in GENERATORS[1:]:
            for q in ("p50_s", "p95_s"):
                summary[str(g)][f"{q[:3]}_ratio"] = summary[str(g)][q] / summary["0"][q]
        for g, s in summary.items():
            ratio = f" (x{s['p50_ratio']:.2f} p50, x{s['p95_ratio']:.2f} p95)" if g != "0" else ""
            print(f"  {g} generating: p50 {s['p50_s'] * 1000:.0f} ms, p95 {s['p95_s'] * 1000:.0f} ms, "
                  f"{s['n']} changes{ratio}")  # fmt: skip
        save_result(
            "generation_load",
            {
                "machine": machine(),
                "load_average_at_start": load,
                "sessions": SESSIONS,
                "moves_per_phase": MOVES,
                "rounds": ROUNDS,
                "rss_mb": {"start": rss_start, "main_page": rss_encoder, "with_smollm2": rss_decoder},
                "memory_mb_at_end": memory_mb(pid),
                "decoder_first_page_s": decoder_load_s,
                "summary": summary,
                "rows": rows,
            },
        )
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
