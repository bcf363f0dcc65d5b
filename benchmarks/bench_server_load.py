"""Many users at once, measured at the server: Streamlit's own websocket protocol, no browser.

tests/browser/test_load.py drives 20 real Chromium sessions, and on 2 cores the 20 renderers,
not the server, dominate its latencies. This client speaks the protocol the browser speaks
(protobuf ``BackMsg`` / ``ForwardMsg`` over ``/_stcore/stream``): it asks for a rerun with new
widget values and times the reply up to ``script_finished``, so the figures are the server's work
(script run + serialising every element), not the rendering. Each session types queries it alone
uses (no shared query-cache hit) and moves the k slider; every answer's top-1 title is checked
against the library run directly. The app as shipped and with Streamlit's default of a full
``gc.collect(2)`` after every rerun (``runner.postScriptGC``), which .streamlit/config.toml turns off.

    python -m benchmarks.bench_server_load
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

from benchmarks.common import WORK, machine, rss_bytes, save_result, wait_for_quiet

SESSIONS = (1, 5, 20)
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


async def one_user(url: str, user: int, expected: dict[str, str]) -> dict:
    import websockets

    async with websockets.connect(url, subprotocols=["streamlit"], max_size=2**27) as ws:
        s = Session(ws)
        first_s, _ = await run_once(s, [])
        actions = []
        query = QUERIES[0]
        for i, q in enumerate(QUERIES[1:]):
            query = f"{q} {user}"  # this session's own text: no shared query-cache hit
            dt, top = await run_once(s, [text_state(s.ids["query"], query)])
            actions.append({"kind": "query", "s": dt, "ok": top == expected[query]})
            if i < len(K_MOVES):
                states = [text_state(s.ids["query"], query), slider_state(s.ids["k"], K_MOVES[i])]
                dt, top = await run_once(s, states)
                actions.append({"kind": "k slider", "s": dt, "ok": top == expected[query]})
        return {"first_run_s": first_s, "actions": actions}


async def wave(url: str, users: int, expected: dict[str, str]) -> list[dict]:
    return list(await asyncio.gather(*(one_user(url, u, expected) for u in range(users))))


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


CONFIGS = {
    "as shipped (runner.postScriptGC = false)": {},
    "Streamlit's default (runner.postScriptGC = true)": {"STREAMLIT_RUNNER_POST_SCRIPT_GC": "true"},
}


def main() -> None:
    import retrieval_attention as ra
    from tests.browser.test_browser import start_server, stop_server

    load = wait_for_quiet()
    store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    expected = {}
    for u in range(max(SESSIONS)):
        for q in QUERIES[1:]:
            text = f"{q} {u}"
            expected[text] = store.corpus.by_id(store.topk_search(text, k=5).ids[0]).title
    artifacts = WORK / "server_load"
    artifacts.mkdir(parents=True, exist_ok=True)
    rows = []
    for config, env in CONFIGS.items():
        server = start_server(artifacts, artifacts, env)
        try:
            url = server["url"].replace("http://", "ws://") + "/_stcore/stream"
            pid = server["proc"].pid
            asyncio.run(wave(url, 1, expected))  # warm-up: the model and store load once
            for users in SESSIONS:
                before = rss_bytes(pid) / 2**20
                t0 = time.perf_counter()
                results = asyncio.run(wave(url, users, expected))
                row = {**summary(results), "config": config, "wall_s": time.perf_counter() - t0}
                row.update(rss_before_mb=before, rss_after_mb=rss_bytes(pid) / 2**20)
                print(
                    f"  {config}, {users:>2} sessions: action p50 {row['action_p50_s'] * 1000:.0f} ms, "
                    f"p95 {row['action_p95_s'] * 1000:.0f} ms, all correct {row['all_correct']}, "
                    f"RSS {row['rss_before_mb']:.0f} -> {row['rss_after_mb']:.0f} MB",
                    flush=True,
                )
                rows.append(row)
        finally:
            stop_server(server)
    save_result("server_load", {"machine": machine(), "load_average_at_start": load, "rows": rows})


if __name__ == "__main__":
    main()
