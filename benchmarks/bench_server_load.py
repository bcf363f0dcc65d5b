"""Many users at once, measured at the server: Streamlit's own websocket protocol, no browser.

tests/browser/test_load.py drives 20 real Chromium sessions, and on 2 cores the 20 renderers,
not the server, dominate its latencies. This client speaks the protocol the browser speaks
(protobuf ``BackMsg`` / ``ForwardMsg`` over ``/_stcore/stream``): it asks for a rerun with new
widget values and times the reply up to ``script_finished``, so the figures are the server's work
(script run + serialising every element), not the rendering. Each session types queries it alone
uses (no shared query-cache hit, none from an earlier wave either) and moves the k slider; every answer's top-1 title is checked
against the library run directly.

Two deployments, each with 1, 10, 30 and 60 sessions: one app process, and two replicas behind
nginx (deploy/replicas.py; every session carries its own affinity cookie, as every browser does).
During a second 30-session wave, one more session pastes 20,000 titles into "Use your own data"
and waits for them to be embedded: the others' latencies show whether one student's upload slows
the class.

    python -m benchmarks.bench_server_load
    python -m benchmarks.bench_server_load --replicas 2 --sessions 30 --no-paste   # one wave only, saved apart
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.common import WORK, cpu_seconds, machine, rss_bytes, save_result, wait_for_quiet

SESSIONS = (1, 10, 30, 60)
UPLOAD_SESSIONS = 30  # the wave during which one more session embeds a big paste
UPLOAD_ROWS = 20_000
QUERIES = ["hilarious kitten videos", "homemade pizza recipe", "what is a black hole", "today's stock market update"]
K_MOVES = (3, 8)


@dataclass
class Session:
    """One websocket session and the widget ids its first run announced."""

    ws: object  # websockets ClientConnection
    ids: dict[str, str] = field(default_factory=dict)  # user key -> widget id
    page_hash: str = ""


def widget_ids(msg) -> dict[str, str]:  # msg: ForwardMsg
    """User key -> widget id, for the widgets in one delta message."""
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return {}
    el = msg.delta.new_element
    sub = getattr(el, el.WhichOneof("type"))
    wid = getattr(sub, "id", "")
    return {wid.rsplit("-", 1)[-1]: wid} if wid.startswith("$$ID-") else {}


def first_title(msg) -> str | None:  # msg: ForwardMsg
    """The first row's title of a table element (the top-k table is the page's first table)."""
    import pyarrow as pa

    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return None
    el = msg.delta.new_element
    if el.WhichOneof("type") != "table":  # st.table: Arrow IPC bytes
        return None
    table = pa.ipc.open_stream(el.table.arrow_data.data).read_all()
    if "title" not in table.column_names or table.num_rows == 0:
        return None
    return str(table.column("title")[0])


async def run_once(s: Session, states: list) -> tuple[float, str | None]:
    """Send one rerun with these widget states; seconds to ``script_finished`` and the top-1 title."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    back = BackMsg()
    back.rerun_script.query_string = ""
    back.rerun_script.page_script_hash = s.page_hash
    back.rerun_script.widget_states.widgets.extend(states)
    t0 = time.perf_counter()
    await s.ws.send(back.SerializeToString())
    top = None
    while True:
        msg = ForwardMsg()
        msg.ParseFromString(await s.ws.recv())
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            s.page_hash = msg.new_session.page_script_hash
        s.ids.update(widget_ids(msg))
        top = top or first_title(msg)
        if kind == "script_finished":
            return time.perf_counter() - t0, top


def text_state(wid: str, text: str):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    w = WidgetState(id=wid)
    w.string_value = text
    return w


def slider_state(wid: str, value: float):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    w = WidgetState(id=wid)
    w.double_array_value.data.append(value)
    return w


def button_state(wid: str):
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    w = WidgetState(id=wid)
    w.trigger_value = True
    return w


def connect(url: str, user: int | str):
    """A websocket session with its own affinity cookie (nginx pins each cookie to one replica)."""
    import websockets

    return websockets.connect(
        url, subprotocols=["streamlit"], max_size=2**27, additional_headers={"Cookie": f"ra_replica=bench{user}"}
    )


def user_queries(user: int, tag: str) -> list[str]:
    """The 3 queries session ``user`` of wave ``tag`` types: no other session of any wave types them, so
    no answer comes from a cache an earlier wave filled (the k moves then reuse the session's own query)."""
    return [f"{q} {user} {tag}" for q in QUERIES[1:]]


def expected_top1(store: object, users: int, tag: str) -> dict[str, str]:
    """The library's top-1 title for every query of a wave, computed in this process."""
    return {
        q: store.corpus.by_id(store.topk_search(q, k=5).ids[0]).title
        for u in range(users)
        for q in user_queries(u, tag)
    }


async def one_user(url: str, user: int, expected: dict[str, str], tag: str) -> dict:
    async with connect(url, f"{user}-{tag}") as ws:
        s = Session(ws)
        first_s, _ = await run_once(s, [])
        actions = []
        for i, query in enumerate(user_queries(user, tag)):
            dt, top = await run_once(s, [text_state(s.ids["query"], query)])
            actions.append({"kind": "query", "s": dt, "ok": top == expected[query]})
            if i < len(K_MOVES):
                states = [text_state(s.ids["query"], query), slider_state(s.ids["k"], K_MOVES[i])]
                dt, top = await run_once(s, states)
                actions.append({"kind": "k slider", "s": dt, "ok": top == expected[query]})
        return {"first_run_s": first_s, "actions": actions}


async def paste_user(url: str, titles: list[str], started: asyncio.Event) -> dict:
    """One session pastes ``titles`` into "Use your own data" and waits until they are embedded."""
    async with connect(url, "paste") as ws:
        s = Session(ws)
        await run_once(s, [])
        started.set()
        states = [text_state(s.ids["own_paste"], "\n".join(titles)), button_state(s.ids["own_use_paste"])]
        dt, _ = await run_once(s, states)
        return {"rows": len(titles), "embed_rerun_s": dt}


async def wave(
    url: str, users: int, expected: dict[str, str], tag: str, paste: list[str] | None = None
) -> tuple[list[dict], dict]:
    if paste is None:
        return list(await asyncio.gather(*(one_user(url, u, expected, tag) for u in range(users)))), {}
    started = asyncio.Event()
    upload = asyncio.create_task(paste_user(url, paste, started))
    await started.wait()  # the paste's rerun is sent first; the class acts while it embeds
    await asyncio.sleep(0.5)
    results = list(await asyncio.gather(*(one_user(url, u, expected, tag) for u in range(users))))
    return results, await upload


def summary(results: list[dict]) -> dict:
    acts = [a for r in results for a in r["actions"]]
    times = sorted(a["s"] for a in acts)
    firsts = sorted(r["first_run_s"] for r in results)
    return {
        "sessions": len(results),
        "actions": len(acts),
        "all_correct": all(a["ok"] for a in acts),
        "action_p50_s": statistics.median(times),
        "action_p95_s": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
        "action_max_s": times[-1],
        "first_run_p50_s": statistics.median(firsts),
        "first_run_max_s": firsts[-1],
    }


DEPLOYMENTS = ("1 app process", "2 replicas behind nginx")


def start(deployment: str, state: Path) -> tuple[str, list[int], object]:
    """(websocket URL, app pids, a stop function) for one deployment on loopback."""
    from deploy import replicas
    from tests.browser.test_browser import start_server, stop_server

    if deployment == "1 app process":
        server = start_server(state, state)
        return server["url"], [server["proc"].pid], lambda: stop_server(server)
    dep = replicas.start(replicas=2, state=state)
    return dep.url, dep.replica_pids, lambda: replicas.stop(state)


def main(argv: list[str] | None = None) -> None:
    import argparse

    import retrieval_attention as ra
    from benchmarks.data import synthetic_titles

    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_server_load", description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, choices=(1, 2), help="only this deployment (default: both)")
    ap.add_argument("--sessions", type=int, nargs="+", help=f"only these waves (default: {SESSIONS})")
    ap.add_argument("--no-paste", action="store_true", help="without the wave during a big paste")
    args = ap.parse_args(argv)
    partial = bool(args.replicas or args.sessions or args.no_paste)  # saved apart: report.py reads the full run
    deployments = DEPLOYMENTS if not args.replicas else (DEPLOYMENTS[args.replicas - 1],)
    sessions = tuple(args.sessions or SESSIONS)

    load = wait_for_quiet()
    store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    titles = synthetic_titles(UPLOAD_ROWS)
    rows = []
    for deployment in deployments:
        # texts no earlier run has embedded: the on-disk embedding cache must not answer the paste
        paste = [f"{t} #{i} {deployment} {time.time_ns()}" for i, t in enumerate(titles)]
        state = WORK / "server_load" / deployment.replace(" ", "_")
        state.mkdir(parents=True, exist_ok=True)
        url, pids, stop = start(deployment, state)
        try:
            ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
            d = DEPLOYMENTS.index(deployment)
            warm = expected_top1(store, 4, f"d{d}warm")
            asyncio.run(wave(ws_url, 4, warm, f"d{d}warm"))  # warm-up: every replica loads its model and store once
            plan = [(n, False) for n in sessions] + ([] if args.no_paste else [(UPLOAD_SESSIONS, True)])
            for w, (users, with_paste) in enumerate(plan):
                tag = f"d{d}w{w}"  # every wave's queries are new to the server
                expected = expected_top1(store, users, tag)
                wait_for_quiet(limit=3.0, max_wait_s=300, poll_s=20)
                before = sum(rss_bytes(p) for p in pids) / 2**20
                server_cpu, client_cpu = sum(cpu_seconds(p) for p in pids), cpu_seconds()
                t0 = time.perf_counter()
                results, upload = asyncio.run(wave(ws_url, users, expected, tag, paste if with_paste else None))
                row = {**summary(results), "config": deployment, "wall_s": time.perf_counter() - t0}
                # the 2 cores are shared by the app processes and this client (it parses every message)
                row["server_cpu_s"] = sum(cpu_seconds(p) for p in pids) - server_cpu
                row["client_cpu_s"] = cpu_seconds() - client_cpu
                row.update(
                    replicas=len(pids),
                    rss_before_mb=before,
                    rss_after_mb=sum(rss_bytes(p) for p in pids) / 2**20,
                    rss_per_replica_mb=[rss_bytes(p) / 2**20 for p in pids],
                    upload=upload or None,
                )
                extra = f", paste of {UPLOAD_ROWS:,} rows embedded in {upload['embed_rerun_s']:.1f} s" if upload else ""
                print(
                    f"  {deployment}, {users:>2} sessions: action p50 {row['action_p50_s'] * 1000:.0f} ms, "
                    f"p95 {row['action_p95_s'] * 1000:.0f} ms, max {row['action_max_s'] * 1000:.0f} ms, "
                    f"all correct {row['all_correct']}, RSS {row['rss_after_mb']:.0f} MB, CPU: app "
                    f"{row['server_cpu_s']:.1f} s, this client {row['client_cpu_s']:.1f} s in {row['wall_s']:.1f} s{extra}",
                    flush=True,
                )
                rows.append(row)
        finally:
            stop()
    save_result(
        "server_load_partial" if partial else "server_load",
        {"machine": machine(), "load_average_at_start": load, "rows": rows},
    )


if __name__ == "__main__":
    main()
