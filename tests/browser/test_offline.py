"""Zero requests off the machine: a real browser visits every page of the navigation and records every
request (HTTP and WebSocket); each must go to the app's own 127.0.0.1 origin. Requests anywhere else
are also refused, so the tour runs as it would in a classroom without internet."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from .test_browser import CHROMIUM, FLAGS, start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
playwright_api = pytest.importorskip("playwright.sync_api", reason="BROWSER TEST SKIPPED: playwright is not installed")

#: The navigation's links, in order, and the title each page shows once it has run.
PAGES = {
    "Three retrievals": "Attention is soft retrieval",
    "The analogy in 60 seconds": "The analogy in 60 seconds",
    "Target attention (DIN)": "Target attention (DIN)",
    "From RNN to Transformer": "The frame: from RNN to Transformer",
    "Self, cross and causal attention": "Inside a real transformer",
    "Scoring functions": "Scoring functions: how a query is compared with a key",
    "Attention as smoothing": "Attention as smoothing",
    "Top-k as efficient attention": "Top-k retrieval as efficient attention",
    "The next word": "The next word",
    "The KV cache": "The KV cache is a key-value store",
    "Causal vs bidirectional": "Causal vs bidirectional",
    "Translation and alignment": "我爱吃苹果, translated and aligned",
    "One token, step by step": "One token, step by step",
    "Riley in three parts": "Riley in three parts",
    "Bahdanau aligns 我爱吃苹果": "Bahdanau, and 我爱吃苹果 aligned",
    "Why three vectors per word": "Why three vectors per word",
    "Glossary": "Glossary",
}
#: Schemes that never leave the browser (an inlined icon, a chart exported to a blob).
LOCAL_SCHEMES = {"data", "blob", "about"}

#: The navigation's link labels (each link's text is its icon's name, then the label).
NAV_LINKS_JS = """() => [...document.querySelectorAll('[data-testid="stSidebarNavLink"]')]
    .map(a => a.innerText.trim().split('\\n').pop().trim())"""

#: True once the page's script has finished: its title drawn, the app not running, no spinner left.
IDLE_JS = """(title) => {
    const h1 = [...document.querySelectorAll('h1')].some(h => h.innerText.trim().startsWith(title));
    const app = document.querySelector('[data-testid="stApp"]');
    const done = app && app.dataset.testScriptState === 'notRunning';
    return h1 && done && !document.querySelector('[data-testid="stSpinner"]');
}"""


def off_machine(url: str, origin: str) -> bool:
    """True if ``url`` leaves the browser for anything but the app's own origin."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return False
    own = urlsplit(origin)
    same_port = (parts.port or {"http": 80, "ws": 80, "https": 443, "wss": 443}.get(parts.scheme)) == own.port
    return not (parts.hostname in {"127.0.0.1", "localhost"} and same_port)


def test_off_machine_rule():
    origin = "http://127.0.0.1:8501"
    assert not off_machine("http://127.0.0.1:8501/_stcore/health", origin)
    assert not off_machine("ws://127.0.0.1:8501/_stcore/stream", origin)
    assert not off_machine("data:image/svg+xml;base64,PHN2Zz4=", origin)
    assert off_machine(
        "https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/search/default/24px.svg", origin
    )
    assert off_machine("http://127.0.0.1:9999/", origin), "another local server is not the app"
    assert off_machine("https://data.streamlit.io/metrics.json", origin)


def test_a_tour_of_every_page_stays_on_the_machine(tmp_path, artifacts):
    server = start_server(tmp_path, artifacts)
    origin = server["url"]
    seen: list[str] = []
    try:
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            context = browser.new_context(viewport={"width": 1600, "height": 1100})
            context.route(  # refuse (and so record) anything off the machine instead of waiting for it
                "**/*", lambda route: route.abort() if off_machine(route.request.url, origin) else route.continue_()
            )
            page = context.new_page()
            page.on("request", lambda r: seen.append(r.url))
            page.on("websocket", lambda ws: seen.append(ws.url))
            page.goto(origin)
            page.wait_for_function(IDLE_JS, arg=PAGES["Three retrievals"], timeout=180_000, polling=250)
            assert page.evaluate(NAV_LINKS_JS) == list(PAGES), "the tour must cover every page of the navigation"
            icon = page.evaluate("() => document.querySelector(\"link[rel='shortcut icon']\").href")
            assert icon.startswith("data:image/svg+xml"), f"the tab's icon ships with the app, got {icon[:80]}"
            for link, title in PAGES.items():
                page.locator('[data-testid="stSidebarNavLink"]', has_text=link).first.click()
                page.wait_for_function(IDLE_JS, arg=title, timeout=180_000, polling=250)
                page.wait_for_timeout(1500)  # charts, fonts and icons finish loading
                assert page.locator('[data-testid="stException"]').count() == 0, f"{link} shows an exception"
            browser.close()
    finally:
        stop_server(server)
    outside = sorted({u for u in seen if off_machine(u, origin)})
    assert seen, "no request was recorded at all"
    assert outside == [], f"requests left the machine: {outside}"
