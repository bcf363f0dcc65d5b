"""What a class sees: 20 real Chromium sessions against one server, stored beside the websocket figures.

The measurement itself is ``tests/browser/test_load.py`` (20 browsers, each types 3 queries and moves
the temperature slider twice; every top-1 checked against the library; bounded to 300 s). Inside
``make test`` it shares the 2 cores with the rest of the suite, so its figures say little; this script
waits for a quiet machine, runs that one test alone and stores what it wrote (``load_test.json``) as
the ``browser_load`` result that ``benchmarks/report.py`` puts in section 3. Only 127.0.0.1 is touched.

    .venv/bin/python -m benchmarks.bench_browser_load
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.common import ROOT, machine, save_result, wait_for_quiet

TEST = "tests/browser/test_load.py"
ARTIFACT = ROOT / "tests" / "artifacts" / "load_test.json"


def main() -> None:
    load = wait_for_quiet()
    ARTIFACT.unlink(missing_ok=True)  # a figure from an earlier run must not pass for this one's
    env = {**os.environ, "RA_LOAD_SESSIONS": "20"}  # a class; the suite runs 8
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST], cwd=ROOT, check=False, env=env
    )
    if done.returncode != 0 or not ARTIFACT.exists():
        raise SystemExit(f"{TEST} did not pass (exit {done.returncode}): nothing stored")
    figures = json.loads(ARTIFACT.read_text())
    save_result("browser_load", {"machine": machine(), "load_average_at_start": load, **figures})
    print(
        f"  {figures['sessions']} Chromium sessions, {figures['actions']} actions: p50 {figures['p50_s']:.2f} s, "
        f"p95 {figures['p95_s']:.2f} s, max {figures['max_s']:.2f} s, server RSS {figures['server_rss_mb_after']} MB"
    )


if __name__ == "__main__":
    main()
