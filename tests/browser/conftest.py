"""What the browser tests share: one Chromium per test module (Debian's, driven by Playwright)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium with the project's flags; the module is skipped where it is missing."""
    from tests.browser.test_browser import CHROMIUM, FLAGS, playwright_api  # skips the module without chromium

    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()
