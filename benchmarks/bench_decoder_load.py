"""The decoders' first load, step by step: where the time goes and how often the progress bar moves.

Each run is a fresh process with an empty cache folder of its own (under ``.cache/benchmarks``, never
the user's cache), so every run is a true first load: the GGUF read (for Gemma 3, first assembled
from its four part packages), dequantised, the tokenizer built, the converted copy written and read
back. The steps are timed from the load's own progress reports (``load_decoder(name, progress=...)``,
the ones the app's progress bar shows): a step lasts from its first report to the next step's. The
longest gap between two reports says how long the bar stands still. Then one reload from the copy.
Medians over the runs; the load average is recorded beside them (the machine may be shared).

    python -m benchmarks.bench_decoder_load                     # both models, 3 runs each
    python -m benchmarks.bench_decoder_load --models gemma3 --runs 1 --no-wait
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

from benchmarks.common import ROOT, WORK, load_average, load_result, machine, rss_bytes, save_result, wait_for_quiet

NAME = "decoder_load"


def _worker(model: str) -> dict:
    """One first load (or reload) in this fresh process: the time of each step from its progress reports."""
    t0 = time.perf_counter()
    from retrieval_attention.decoder import load_decoder

    t1 = time.perf_counter()
    reports: list[tuple[float, str]] = []
    m = load_decoder(model, progress=lambda fraction, step: reports.append((time.perf_counter(), step)))
    t2 = time.perf_counter()
    steps: dict[str, float] = {}
    for i, (at, step) in enumerate(reports):
        if step not in steps:  # a step lasts from its first report to the next step's first report (or the end)
            following = next((a for a, s in reports[i:] if s != step), t2)
            steps[step] = following - at
    stamps = [t1] + [a for a, _ in reports] + [t2]
    return {
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "before_first_report_s": (reports[0][0] if reports else t2) - t1,
        "steps_s": steps,
        "reports": len(reports),
        "longest_gap_s": max(b - a for a, b in itertools.pairwise(stamps)),
        "rss_mb": rss_bytes() / 2**20,
        "vocabulary": m.config.vocab_size,
    }


def _run(model: str, cache: str) -> dict:
    env = {**os.environ, "RETRIEVAL_ATTENTION_CACHE": cache}
    cmd = [sys.executable, "-m", "benchmarks.bench_decoder_load", "--worker", "--models", model]
    load = load_average()
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=3600)
    result = dict(json.loads(out.stdout.strip().splitlines()[-1]), load_average_before=round(load, 2))
    shown = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in result.items() if k != "steps_s"}
    print(f"  {model}: {shown} steps { ({k: round(v, 2) for k, v in result['steps_s'].items()}) }", flush=True)
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["smollm2", "gemma3"])
    ap.add_argument("--runs", type=int, default=3, help="first loads per model (each in a fresh process)")
    ap.add_argument(
        "--no-wait", action="store_true", help="do not wait for a quiet machine (numbers then say the load)"
    )
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(_worker(args.models[0])))
        return
    previous = load_result(NAME) or {}
    kept = {m: r for m, r in previous.get("models", {}).items() if m not in args.models}  # models not re-measured now
    results: dict = {"machine": machine(), "models": kept}
    for model in args.models:
        if not args.no_wait:
            wait_for_quiet()
        cache = WORK / NAME / f"cache-{model}"
        runs = []
        for _ in range(args.runs):
            shutil.rmtree(cache, ignore_errors=True)  # a true first load every time
            runs.append(_run(model, str(cache)))
        reload = _run(model, str(cache))
        shutil.rmtree(cache, ignore_errors=True)  # a converted copy is 0.5-1.1 GB: not kept
        names = list(runs[0]["steps_s"])
        results["models"][model] = {
            "runs": runs,
            "reload": reload,
            "first_load_median_s": statistics.median(r["load_s"] for r in runs),
            "steps_median_s": {n: statistics.median(r["steps_s"].get(n, 0.0) for r in runs) for n in names},
            "longest_gap_median_s": statistics.median(r["longest_gap_s"] for r in runs),
            "load_averages": [r["load_average_before"] for r in runs],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        }
        save_result(NAME, results)
    print(json.dumps({m: {k: v for k, v in r.items() if k not in ("runs", "reload")} for m, r in results["models"].items()},
                     indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
