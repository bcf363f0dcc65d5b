"""Run every benchmark, each in its own process, then write docs/benchmarks.md and the chart.

.venv/bin/python -m benchmarks                # everything (~20 min with cached indexes)
.venv/bin/python -m benchmarks --quick        # no 1M runs, no 100k embedding, no browser, no server load
.venv/bin/python -m benchmarks --only scaling_text_1000000 --report
.venv/bin/python -m benchmarks --report-only  # rewrite the page from the stored results
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from benchmarks.common import run_module, wait_for_quiet


def plan(quick: bool, embedding: bool, browser: bool) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = [
        ("threads", ["benchmarks.bench_threads"]),
        ("interactive", ["benchmarks.bench_interactive"]),
        ("reruns", ["benchmarks.bench_reruns"]),
    ]
    if shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent)):
        steps.append(("revisit_owners", ["benchmarks.bench_revisit_owners"]))  # pip install py-spy
    steps.append(("encoder", ["benchmarks.bench_encoder"]))
    steps.append(("decoder", ["benchmarks.bench_decoder"]))
    steps.append(("decoder_load", ["benchmarks.bench_decoder_load"]))
    if embedding and not quick:
        steps.append(("embedding", ["benchmarks.bench_embedding"]))
    sizes = (10_000, 100_000) if quick else (10_000, 100_000, 1_000_000)
    for n in sizes:
        steps.append((f"scaling_text_{n}", ["benchmarks.bench_scaling", "--kind", "text", "--n", str(n)]))
    steps.append(("scaling_derived_100000", ["benchmarks.bench_scaling", "--kind", "derived", "--n", "100000"]))
    for n in sizes:
        steps.append((f"scaling_gaussian_{n}", ["benchmarks.bench_scaling", "--kind", "gaussian", "--n", str(n)]))
    if browser and not quick:
        steps.append(("coldstart", ["benchmarks.bench_coldstart"]))
    if not quick:
        steps.append(("server_load", ["benchmarks.bench_server_load"]))
        steps.append(("server_cpu", ["benchmarks.bench_server_cpu"]))
        steps.append(("generation_load", ["benchmarks.bench_generation_load"]))
    if browser and not quick:
        steps.append(("browser_load", ["benchmarks.bench_browser_load"]))
    steps.append(("export", ["benchmarks.bench_export"]))
    return steps


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="skip the 1M runs, the 100k embedding, the browser and the server load"
    )
    ap.add_argument("--skip-embedding", action="store_true", help="keep the previous embedding-throughput result")
    ap.add_argument("--skip-browser", action="store_true", help="keep the previous cold-start result")
    ap.add_argument("--only", nargs="+", metavar="STEP", help="run only these steps (names as printed)")
    ap.add_argument("--report-only", action="store_true", help="only rewrite docs/benchmarks.md")
    args = ap.parse_args()

    t0 = time.perf_counter()
    if not args.report_only:
        for name, cmd in plan(args.quick, not args.skip_embedding, not args.skip_browser):
            if args.only and name not in args.only:
                continue
            print(f"== {name}", flush=True)
            wait_for_quiet()
            s = time.perf_counter()
            run_module(*cmd)
            print(f"== {name} done in {time.perf_counter() - s:.0f} s", flush=True)
    run_module("benchmarks.report")
    print(f"all done in {(time.perf_counter() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
