"""Whose code a slider change runs: py-spy samples of each page's revisits, by owner of the frame.

``bench_reruns`` times a slider change (revisit) on every page against a three-line app. This says
what that time is made of: each target of :data:`benchmarks.bench_reruns.TARGETS` is revisited in a
loop in a child process (its values all set once first, so every rerun is a revisit) while py-spy
samples it from outside, at 250 Hz. A sampler adds no cost per call, where cProfile does: under cProfile
Streamlit's deep copies for a fragment took about ten times their unprofiled 0.3 ms. py-spy pauses the
process for each sample; without pausing (``--nonblocking``) it read torn stacks and put 16 % of the
main page in compiling, which takes about 4 % timed directly. Each sample of the script thread goes to
the owner of its innermost frame that is not the standard library's:

- ``streamlit``: Streamlit building, hashing and queueing the page's elements and widgets;
- ``ours``: the app (``ui/``, ``app.py``) and the library (``retrieval_attention/``);
- ``compile``: AppTest compiling the app and the page again on every rerun (a server compiles once);
- ``other``: pandas, pyarrow, numpy, protobuf...

Needs py-spy (``pip install py-spy``; it is not a test dependency) and permission to read another
process's memory (root, or ``ptrace_scope`` 0).

    python -m benchmarks.bench_revisit_owners                  # every target, 15 s each
    python -m benchmarks.bench_revisit_owners --only main_k --seconds 30
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, load_result, machine, save_result, wait_for_quiet

OURS = ("ui", "retrieval_attention", "app.py")
RATE_HZ = 250


def owner(frame: str) -> str | None:
    """The owner of one py-spy frame, ``"name (path:line)"``; None for the standard library's."""
    m = re.search(r"\((.*):\d+\)$", frame)
    path = m.group(1) if m else ""
    top = path.split("/")[0]
    if "get_bytecode" in frame:
        return "compile"
    if top == "streamlit":
        return "streamlit"
    if top in OURS:
        return "ours"
    if top == "benchmarks" or top.removesuffix(".py") in sys.stdlib_module_names or "/" not in path:
        return None
    return "other"


def shares(raw: str) -> tuple[dict[str, float], int]:
    """Owners' shares of the script thread's samples in py-spy's raw output, and that number of samples."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, n = line.rstrip().rpartition(" ")
        frames = stack.split(";")
        if not any(f.startswith("ScriptRunner._run_script ") for f in frames):
            continue  # AppTest's own thread, parsing the messages into its tree
        who = next((o for f in reversed(frames) if (o := owner(f))), "streamlit")  # Streamlit's thread entry
        counts[who] += int(n)
    total = sum(counts.values())
    return {k: round(counts[k] / total, 3) if total else 0.0 for k in ("streamlit", "ours", "compile", "other")}, total


def loop(name: str, seconds: float) -> None:
    """The child: revisit ``name``'s values for ``seconds`` (after setting each once), then exit."""
    from benchmarks import bench_reruns as br

    os.chdir(ROOT)  # AppTest reads .streamlit/config.toml from the working directory
    t = next(x for x in br.TARGETS if x.name == name)
    clock = br.ScriptClock()
    at = br.open_target(t)
    for v in t.values:
        br.change(at, t.widget, t.key, v, clock)
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for v in t.values:
            br.change(at, t.widget, t.key, v, clock)


def sample(name: str, seconds: float, spy: str) -> dict[str, Any]:
    """Run :func:`loop` for ``name`` in a child and py-spy it; its owners' shares."""
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.bench_revisit_owners", "--child", name, "--seconds", str(seconds + 30)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready", (
            f"{name}: the child did not start"
        )
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "raw.txt"
            cmd = [spy, "record", "-p", str(child.pid), "-o", str(out), "-f", "raw", "-r", str(RATE_HZ)]
            subprocess.run([*cmd, "-d", str(int(seconds))], check=True, capture_output=True)
            found, n = shares(out.read_text(encoding="utf-8"))
    finally:
        child.kill()
        child.wait()
    return {"name": name, "samples": n, "shares": found}


def report_section(res: dict | None) -> str:
    """The Markdown section for docs/benchmarks.md."""
    if not res:
        return ""
    from benchmarks import bench_reruns as br

    labels = {t.name: t.label for t in br.TARGETS}
    reruns = load_result("reruns") or {}
    lines = [
        "## 1c. Whose code a slider change runs",
        "",
        f"py-spy sampled each page's revisits at {RATE_HZ} Hz for {res['seconds']:.0f} s "
        f"(`bench_revisit_owners`, {res['date'][:10]}, load {res['load_average_at_start']:.2f} at the start). "
        "Each sample of the script thread goes to the owner of its innermost frame outside the standard "
        "library. *Compile*: AppTest compiling the app and the page again on every rerun, which a server does once.",
        "",
        "| page: widget | samples | Streamlit | ours | AppTest compile | other (pandas, pyarrow, protobuf…) |",
        "|---|---|---|---|---|---|",
    ]
    for row in res["rows"]:
        s = row["shares"]
        lines.append(
            f"| {labels.get(row['name'], row['name'])} | {row['samples']:,} | {s['streamlit']:.0%} | {s['ours']:.0%} "
            f"| {s['compile']:.0%} | {s['other']:.0%} |"
        )
    worst = max(res["rows"], key=lambda r: r["shares"]["ours"])
    main = next((r for r in res["rows"] if r["name"] == "main_k"), None)
    timed = next((r for r in reruns.get("rows", []) if r["name"] == "main_k"), None)
    bound = ""
    if main and timed and reruns.get("floor_ms"):
        ours_ms = main["shares"]["ours"] * timed["script_again_median_ms"]
        bound = (
            f" On the main page, our share of the k slider's revisit is about {ours_ms:.1f} ms of its "
            f"{timed['again_median_ms']:.0f} ms (section 1b): with our code taking no time at all it would still "
            f"rerun in {(timed['again_median_ms'] - ours_ms) / reruns['floor_ms']:.1f}× the three-line app."
        )
    lines += [
        "",
        f"Our code is at most {worst['shares']['ours']:.0%} of a revisit's script thread "
        f"({labels.get(worst['name'], worst['name'])}). The rest is Streamlit writing the page's elements and "
        "widgets, which a page with the same content pays whatever computes it." + bound,
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    from benchmarks import bench_reruns as br

    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_revisit_owners", description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="TARGET", help="these targets of bench_reruns.TARGETS only")
    ap.add_argument("--seconds", type=float, default=15.0, help="sampling time per target")
    ap.add_argument("--child", metavar="TARGET", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        loop(args.child, args.seconds)
        return
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        sys.exit("py-spy is not installed: pip install py-spy")
    load = wait_for_quiet()
    rows = []
    for t in br.TARGETS:
        if args.only and t.name not in args.only:
            continue
        rows.append(sample(t.name, args.seconds, spy))
        print(f"  {t.label}: {rows[-1]['samples']} samples, {rows[-1]['shares']}", flush=True)
    save_result(
        "revisit_owners",
        {
            "machine": machine(),
            "load_average_at_start": load,
            "seconds": args.seconds,
            "rate_hz": RATE_HZ,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
