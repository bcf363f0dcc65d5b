"""Two app replicas behind real nginx (deploy/replicas.py): each browser stays on its replica.

Two Chromium contexts are pinned to different replicas by nginx's affinity cookie; both get correct
answers, and an upload made in one reaches that tab's own session (its replica), never the other.
"""

from __future__ import annotations

import shutil
import urllib.request
from pathlib import Path

import pytest

from deploy import replicas

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if replicas.nginx_binary() is None:
    pytest.skip(
        "REPLICA TEST SKIPPED: nginx is not installed (make test installs it with apt-get as root)",
        allow_module_level=True,
    )
if not Path(CHROMIUM).exists():
    pytest.skip("REPLICA TEST SKIPPED: Debian's chromium is not installed", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api", reason="REPLICA TEST SKIPPED: playwright is not installed")

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
UPLOAD = "title,category\nZebra crossing safety for kids,education\nHow zebras sleep,pets\nStriped horses explained,education\n"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    state = tmp_path_factory.mktemp("replicas")
    dep = replicas.start(replicas=2, state=state)
    yield dep
    replicas.stop(state)
    for pid in [dep.nginx_pid, *dep.replica_pids]:
        assert not replicas._alive(pid), f"process {pid} survived stop()"


def replica_for(url: str, cookie: str) -> str:
    req = urllib.request.Request(url, headers={"Cookie": f"ra_replica={cookie}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers["X-Replica"]


def test_new_browser_gets_an_affinity_cookie(deployment):
    with urllib.request.urlopen(deployment.url, timeout=10) as r:
        cookie = r.headers["Set-Cookie"]
        first = r.headers["X-Replica"]
    assert cookie.startswith("ra_replica=") and "HttpOnly" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert all(replica_for(deployment.url, value) == first for _ in range(5)), "one cookie, one replica"


def test_two_tabs_on_two_replicas_answer_and_keep_their_own_upload(deployment, tmp_path):
    import retrieval_attention as ra

    pinned: dict[str, str] = {}  # replica address -> a cookie value that nginx sends there
    for i in range(64):
        pinned.setdefault(replica_for(deployment.url, f"tab{i}"), f"tab{i}")
        if len(pinned) == 2:
            break
    assert len(pinned) == 2, f"the hash never reached both replicas: {pinned}"
    store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    queries = ["hilarious kitten videos", "homemade pizza recipe"]
    expected = [store.corpus.by_id(store.topk_search(q, k=5).ids[0]).title for q in queries]
    upload = tmp_path / "zebras.csv"
    upload.write_text(UPLOAD, encoding="utf-8")

    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages, seen = [], []
        for replica, cookie in pinned.items():
            ctx = browser.new_context(viewport={"width": 1500, "height": 1000})
            ctx.add_cookies([{"name": "ra_replica", "value": cookie, "url": deployment.url}])
            page = ctx.new_page()
            answered: set[str] = set()
            page.on("response", lambda r, a=answered: a.add(r.headers.get("x-replica", "")))
            page.goto(deployment.url)
            page.get_by_text("effective keys").first.wait_for(timeout=240_000)
            pages.append(page)
            seen.append((replica, answered))
        for page, query, title in zip(pages, queries, expected):
            box = page.get_by_label("Query")
            box.fill(query)
            box.press("Enter")
            page.get_by_text(title).first.wait_for(timeout=60_000)

        a, b = pages
        a.get_by_text("Use your own data").first.click()
        a.locator('input[type="file"]').first.set_input_files(str(upload))
        a.get_by_text("Using zebras.csv: 3 keys").first.wait_for(timeout=60_000)
        a.get_by_text("3 keys from zebras.csv").first.wait_for(state="attached", timeout=60_000)  # in the intro folded one click away
        b.reload()
        b.get_by_text("effective keys").first.wait_for(timeout=60_000)
        assert b.get_by_text("3 keys from zebras.csv").count() == 0, "an upload leaked into another tab"
        assert b.get_by_text("312 keys").count() >= 1
        browser.close()
    for replica, answered in seen:
        assert answered - {""} == {replica}, f"a tab pinned to {replica} was answered by {answered}"
