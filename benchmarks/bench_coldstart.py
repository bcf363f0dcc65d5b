"""App cold start with the real server and a real browser (the harness of tests/browser):
process start -> page layout visible -> first full render -> a new typed query answered (the
model loaded), with an empty and then a warm embedding cache, and the server's resident memory
after that answer; for the default model on our numpy encoder and, as the comparison, forced onto
sentence-transformers (``RETRIEVAL_ATTENTION_ENCODER=sentence-transformers``). Checks that a
second start never re-embeds the corpus, and measures a three-line Streamlit app for the floor.

    python -m benchmarks.bench_coldstart
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import ROOT, WORK, machine, rss_bytes, save_result, wait_for_quiet

WARM_STARTS = 5  # each followed by a start of the three-line app, so both see the same background load
ENCODERS = {  # the default model on each implementation
    "numpy": {},
    "sentence-transformers": {"RETRIEVAL_ATTENTION_ENCODER": "sentence-transformers"},
}
TITLE = "Attention is soft retrieval"
FULL = "effective keys"
NEW_QUERY = "Desk Stretches for Programmers"  # an exact title: not among the cached examples
ANSWERED = "Hit: the key exists"


def import_seconds(module: str, repeats: int = 3) -> float:
    """Median wall time of ``import module`` in a fresh interpreter (the OS file cache warm)."""
    code = f"import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"
    times = []
    for _ in range(repeats + 1):
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times[1:])  # the first run warms the file cache


def snapshot(folder: Path) -> dict[str, float]:
    """Embedding cache files and their modification times."""
    emb = folder / "embeddings"
    return {p.name: p.stat().st_mtime for p in sorted(emb.glob("*.npz"))} if emb.exists() else {}


def one_start(browser, artifacts: Path, cache: Path, env: dict[str, str]) -> dict:  # browser: a Playwright Browser
    from tests.browser.test_browser import start_server, stop_server

    server = start_server(artifacts, artifacts, {"RETRIEVAL_ATTENTION_CACHE": str(cache), **env})
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        g0 = time.perf_counter()
        page.goto(server["url"])
        page.get_by_text(TITLE).first.wait_for(timeout=60_000)
        layout = time.perf_counter()
        page.get_by_text(FULL).first.wait_for(timeout=300_000)
        full = time.perf_counter()
        rss_full = rss_bytes(server["pid"])
        box = page.get_by_label("Query")
        box.fill(NEW_QUERY)
        box.press("Enter")  # needs the model: the examples were cached, this query is not
        page.get_by_text(ANSWERED).first.wait_for(timeout=300_000)
        answered = time.perf_counter()
        rss_answered = rss_bytes(server["pid"])
        page.close()
    finally:
        stop_server(server)
    t0 = server["t0"]
    return {
        "health_s": server["health_s"],
        "layout_from_process_start_s": layout - t0,
        "layout_from_page_load_s": layout - g0,
        "full_render_from_process_start_s": full - t0,
        "full_render_from_page_load_s": full - g0,
        "new_query_answered_from_process_start_s": answered - t0,
        "rss_after_full_render_mb": rss_full / 2**20,
        "rss_after_new_query_mb": rss_answered / 2**20,
    }


FLOOR_APP = """import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
st.title("Attention is soft retrieval")
st.metric("effective keys", "1")
"""
FLOOR_PAGE = """import streamlit as st

st.title("Attention is soft retrieval")
st.metric("effective keys", "1")
"""


def floor_start(browser, artifacts: Path, navigation: bool = False) -> dict:  # browser: a Playwright Browser
    """The same measurement for a three-line Streamlit app: the floor set by Streamlit and Chromium.

    With ``navigation``, our own app.py (page config and st.navigation over its seven pages) with
    every page replaced by the three lines: the floor for a multipage app like ours.
    """
    import os
    import signal
    import urllib.request

    from tests.browser.test_browser import free_port

    folder = artifacts / ("floor_nav_app" if navigation else "floor_app")
    folder.mkdir(exist_ok=True)
    shutil.copytree(ROOT / ".streamlit", folder / ".streamlit", dirs_exist_ok=True)
    if navigation:
        app = (ROOT / "app.py").read_text(encoding="utf-8")
        shutil.copy(ROOT / "app.py", folder / "app.py")
        shutil.copytree(ROOT / "ui", folder / "ui", dirs_exist_ok=True)  # app.py imports its navigation helpers
        for page in re.findall(r'st\.Page\("([^"]+)"', app):
            (folder / page).parent.mkdir(parents=True, exist_ok=True)
            (folder / page).write_text(FLOOR_PAGE, encoding="utf-8")
    else:
        (folder / "app.py").write_text(FLOOR_APP, encoding="utf-8")
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while True:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                if time.perf_counter() - t0 > 60:
                    raise
                time.sleep(0.1)
        page = browser.new_page(viewport={"width": 1600, "height": 1100})
        g0 = time.perf_counter()
        page.goto(f"http://127.0.0.1:{port}")
        page.get_by_text(TITLE).first.wait_for(timeout=60_000)
        layout = time.perf_counter()
        page.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    return {"layout_from_process_start_s": layout - t0, "layout_from_page_load_s": layout - g0}


def starts_of(browser, artifacts: Path, encoder: str, floors: list, nav_floors: list) -> tuple[list[dict], int]:
    """One start with an empty embedding cache, then WARM_STARTS with it warm (floors measured after
    each warm start of the default encoder); returns the starts and the number of cache files."""
    cache = artifacts / f"cache_{encoder}"
    env = ENCODERS[encoder]
    first = one_start(browser, artifacts, cache, env)
    first["cache"] = "empty (embeds the corpus)"
    after_first = snapshot(cache)
    starts = [first]
    print(
        f"  {encoder} first start:",
        {k: round(v, 2) if isinstance(v, float) else v for k, v in first.items()},
        flush=True,
    )
    for i in range(WARM_STARTS):
        s = one_start(browser, artifacts, cache, env)
        s["cache"] = "warm"
        s["re_embedded"] = snapshot(cache) != after_first
        starts.append(s)
        print(
            f"  {encoder} warm start {i + 1}:",
            {k: round(v, 2) if isinstance(v, float) else v for k, v in s.items()},
            flush=True,
        )
        if encoder == "numpy":
            floors.append(floor_start(browser, artifacts))
            nav_floors.append(floor_start(browser, artifacts, navigation=True))
    return starts, len(after_first)


def warm_medians(starts: list[dict]) -> dict[str, float]:
    warm = [s for s in starts if s["cache"] == "warm"]
    return {key: statistics.median(s[key] for s in warm) for key in warm[0] if key.endswith(("_s", "_mb"))}


def main() -> None:
    from playwright.sync_api import sync_playwright

    from tests.browser.test_browser import CHROMIUM, FLAGS

    load = wait_for_quiet()
    modules = ("retrieval_attention", "streamlit", "tokenizers", "safetensors.numpy", "torch", "sentence_transformers")
    imports = {m: import_seconds(m) for m in modules}
    print("  import times (s):", {m: round(t, 2) for m, t in imports.items()}, flush=True)
    artifacts = WORK / "coldstart"
    shutil.rmtree(artifacts, ignore_errors=True)
    artifacts.mkdir(parents=True)
    floors: list[dict] = []
    nav_floors: list[dict] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            runs = {name: starts_of(browser, artifacts, name, floors, nav_floors) for name in ENCODERS}
        finally:
            browser.close()
    floor = {key: statistics.median(f[key] for f in floors) for key in floors[0]}
    nav_floor = {key: statistics.median(f[key] for f in nav_floors) for key in nav_floors[0]}
    print("  three-line app:", {k: round(v, 2) for k, v in floor.items()}, flush=True)
    print("  three-line pages under our navigation:", {k: round(v, 2) for k, v in nav_floor.items()}, flush=True)
    starts, files = runs["numpy"]
    st_starts, _ = runs["sentence-transformers"]
    save_result(
        "coldstart",
        {
            "machine": machine(),
            "load_average_at_start": load,
            "imports_s": imports,
            "encoder": "numpy",
            "starts": starts,
            "warm_medians": warm_medians(starts),
            "sentence_transformers": {"starts": st_starts, "warm_medians": warm_medians(st_starts)},
            "floor_app_medians": floor,
            "floor_navigation_app_medians": nav_floor,
            "embedding_cache_files": files,
            "warm_start_re_embedded": any(s.get("re_embedded") for s in starts + st_starts),
        },
    )


if __name__ == "__main__":
    main()
