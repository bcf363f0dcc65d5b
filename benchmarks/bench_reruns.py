"""A slider change on every page, rerun under Streamlit's AppTest, against a three-line app in the same run.

    python -m benchmarks.bench_reruns                     # every page, saved as results/reruns.json
    python -m benchmarks.bench_reruns --before 1d9af7d    # the same for an older commit (its own copy of the
                                                          # tree, this script), saved as results/reruns_before.json
    python -m benchmarks.bench_reruns --commit HEAD       # the committed tree only, in a copy
    python -m benchmarks.bench_reruns --only main_k --profile main_k   # and a cProfile of those reruns

A three-line app (a slider and a metric) is the floor: AppTest's own overhead plus Streamlit's
rerun of almost nothing. Each target page is opened once (its model and store load, untimed),
then one widget takes a list of values; every change is one timed ``.run()``. Page and floor take
turns in rounds, so a change in the machine's load hits both, and every ratio is taken within one
run. A value's first visit in this process and its later visits are reported apart: the app
caches chart specifications per distinct input, shared by every session, so in a class the first
student to pick a setting pays the first-visit cost and the others the revisit cost.

The time at the server is estimated two ways: (a) the page's AppTest rerun minus the floor's (the
floor is AppTest's own overhead), and (b) the script thread's own run time (AppTest starts one
thread per run: the script with Streamlit's element marshalling, without AppTest parsing the
messages into its tree). Two things AppTest adds that a server does not: it compiles the page's
source again on every rerun (a server compiles it once), and it parses every element into its
tree. To show how much of a rerun is simply the page's size, the same rounds also time an app that
writes as many elements as the main page, with no computation at all, and what the pages' translation
helpers cost: an app that translates 300 strings and formats 60 numbers in Spanish.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, load_result, machine, save_result, wait_for_quiet

APP = str(ROOT / "app.py")
ROUNDS = 8
TIMEOUT_S = 300
#: The floor: what any Streamlit app costs to rerun under AppTest.
THREE_LINES = """
import streamlit as st
x = st.slider("x", 0, 20, 5, key="x")
st.metric("x", x)
"""
#: The size floor: as many elements as the main page draws (filled in when measured), nothing computed.
ELEMENTS_APP = (
    THREE_LINES
    + """
for i in range({n} - 2):
    st.markdown(f"line {{i}}: **{{x}}**")
"""
)

#: The language floor: a page's share of ``_()`` and ``fmt_number`` calls (the main page makes ~170 and
#: ~45 per rerun), in Spanish, and nothing else.
I18N_APP = (
    THREE_LINES
    + """
from ui.components.i18n import _, fmt_number, language_switch
language_switch()
texts = [_("Language") for i in range(300)]
numbers = [fmt_number(0.1 * i + x, 2) for i in range(60)]
"""
)


@dataclass(frozen=True)
class Target:
    """One widget on one page, and the values it takes in turn (each round visits them all)."""

    name: str  # short id, e.g. "main_k"
    page: str  # the page's file, as st.navigation knows it
    label: str  # what docs/benchmarks.md calls it
    widget: str  # AppTest accessor: "slider", "select_slider", "radio", "toggle"
    key: str  # the widget's key
    values: tuple[Any, ...]  # visited in this order every round; the first is not the page's default


TARGETS = (
    Target("main_k", "ui/pages/retrieval.py", "Three retrievals: k slider", "slider", "k", (8, 3, 12, 6, 15, 2, 10)),
    Target(
        "main_T",
        "ui/pages/retrieval.py",
        "Three retrievals: temperature",
        "select_slider",
        "temperature",
        (0.1, 0.02, 0.3, 0.03, 1.0, 0.075, 0.2),
    ),
    Target(
        "topk_k", "ui/pages/lesson_topk.py", "Top-k lesson: k slider", "slider", "topk_k", (8, 3, 20, 12, 40, 2, 25)
    ),
    Target(
        "rec_T",
        "ui/pages/recommender.py",
        "Recommender: temperature",
        "select_slider",
        "rec_temperature",
        (0.05, 0.2, 0.03, 0.5, 0.075, 1.0, 0.15),
    ),
    Target(
        "smooth_step",
        "ui/pages/lesson_smoothing.py",
        "Smoothing lesson: step t",
        "slider",
        "step",
        (40, 120, 10, 150, 90, 60, 180),
    ),
    Target(
        "smooth_sigma",
        "ui/pages/lesson_smoothing.py",
        "Smoothing lesson: kernel width σ",
        "select_slider",
        "kernel_width",
        (6.0, 1.5, 12.0, 2.0, 24.0, 4.0, 8.0),
    ),
    Target(
        "scoring_metric",
        "ui/pages/lesson_scoring.py",
        "Scoring lesson: peakiness measure",
        "radio",
        "peak_metric",
        ("entropy", "max_weight"),
    ),
    Target(
        "tr_head", "ui/pages/transformer.py", "Inside a transformer: head", "slider", "tr_head", (3, 7, 1, 11, 5, 9, 2)
    ),
    Target("tr_layer", "ui/pages/transformer.py", "Inside a transformer: layer", "slider", "tr_layer", (2, 5, 1, 4, 3)),
)


class ScriptClock:
    """Times every AppTest script thread (LocalScriptRunner runs each rerun on a fresh thread)."""

    def __init__(self) -> None:
        from streamlit.testing.v1.local_script_runner import LocalScriptRunner

        self.seconds: list[float] = []
        self.profiler: cProfile.Profile | None = None
        self._real = LocalScriptRunner._run_script_thread
        clock = self

        def timed(runner: Any) -> None:
            prof = clock.profiler
            start = time.perf_counter()
            if prof is not None:
                prof.enable()
            try:
                clock._real(runner)
            finally:
                if prof is not None:
                    prof.disable()
                clock.seconds.append(time.perf_counter() - start)

        LocalScriptRunner._run_script_thread = timed  # type: ignore[method-assign]


def open_target(t: Target) -> Any:  # -> AppTest
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    at.switch_page(t.page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_app(source: str, lang: str | None = None) -> Any:  # -> AppTest
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string(source, default_timeout=TIMEOUT_S)
    if lang:
        at.query_params["lang"] = lang
    return at.run()


def count_nodes(at: Any) -> int:
    """Elements and containers of the page AppTest holds (what a rerun sends, one message each)."""

    def walk(node: Any) -> int:
        children = getattr(node, "children", None)
        return 1 + (sum(walk(c) for c in children.values()) if isinstance(children, dict) else 0)

    return sum(walk(root) for root in at._tree.children.values()) - len(at._tree.children)


def change(at: Any, widget: str, key: str, value: Any, clock: ScriptClock) -> tuple[float, float]:
    """One widget change and its rerun: (AppTest wall seconds, script-thread seconds)."""
    w = getattr(at, widget)(key=key)
    n = len(clock.seconds)
    start = time.perf_counter()
    w.set_value(value).run()
    wall = time.perf_counter() - start
    if at.exception:
        raise RuntimeError(f"{key} = {value!r}: {[e.value for e in at.exception]}")
    return wall, sum(clock.seconds[n:])


def median_ms(xs: list[float]) -> float | None:
    return round(statistics.median(xs) * 1000, 2) if xs else None


def measure(targets: tuple[Target, ...], rounds: int, clock: ScriptClock, profile: str | None) -> dict[str, Any]:
    """Every target's reruns and the floors', interleaved over ``rounds``."""
    floor = open_app(THREE_LINES)
    floor_vals = [3, 9, 14, 1, 17, 6, 11]
    apps = {t.name: open_target(t) for t in targets}
    for t in targets:  # one untimed change each: the first change of a session warms Streamlit's own caches
        change(apps[t.name], t.widget, t.key, t.values[-1], clock)
    nodes = {t.name: count_nodes(apps[t.name]) for t in targets}
    main_nodes = nodes.get("main_k") or nodes.get("main_T") or max(nodes.values())
    sized = open_app(ELEMENTS_APP.format(n=main_nodes))
    lang_app = open_app(I18N_APP, lang="es")
    if lang_app.exception:  # a tree without these helpers
        lang_app = None
    floor_wall, floor_script, sized_wall, sized_script, lang_wall = [], [], [], [], []
    runs: dict[str, dict[str, list[float]]] = {
        t.name: {"first_wall": [], "first_script": [], "again_wall": [], "again_script": []} for t in targets
    }
    seen: dict[str, set[Any]] = {t.name: {t.values[-1]} for t in targets}
    stats: dict[str, str] = {}
    for r in range(rounds):
        for t in targets:
            for v in floor_vals:  # the floors just before each page, under the same load
                w, s = change(floor, "slider", "x", v, clock)
                floor_wall.append(w)
                floor_script.append(s)
            if t is targets[0]:
                for v in floor_vals:
                    w, s = change(sized, "slider", "x", v, clock)
                    sized_wall.append(w)
                    sized_script.append(s)
                    if lang_app is not None:
                        lang_wall.append(change(lang_app, "slider", "x", v, clock)[0])
            for v in t.values:
                w, s = change(apps[t.name], t.widget, t.key, v, clock)
                kind = "again" if v in seen[t.name] else "first"
                seen[t.name].add(v)
                runs[t.name][f"{kind}_wall"].append(w)
                runs[t.name][f"{kind}_script"].append(s)
        print(f"  round {r + 1}/{rounds} done", flush=True)
    for t in targets:  # profiled reruns come after the timed ones and are not counted
        if t.name == profile:
            clock.profiler = prof = cProfile.Profile()
            for v in t.values:
                change(apps[t.name], t.widget, t.key, v, clock)
            clock.profiler = None
            out = io.StringIO()
            pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(60)
            stats[t.name] = out.getvalue()
    floor_ms = median_ms(floor_wall) or 0.0
    rows = []
    for t in targets:
        x = runs[t.name]
        all_wall = x["first_wall"] + x["again_wall"]
        row = {
            "name": t.name,
            "page": t.page,
            "elements": nodes[t.name],
            "label": t.label,
            "key": t.key,
            "changes": len(all_wall),
            "first_changes": len(x["first_wall"]),
            "median_ms": median_ms(all_wall),
            "first_median_ms": median_ms(x["first_wall"]),
            "again_median_ms": median_ms(x["again_wall"]),
            "script_median_ms": median_ms(x["first_script"] + x["again_script"]),
            "script_first_median_ms": median_ms(x["first_script"]),
            "script_again_median_ms": median_ms(x["again_script"]),
        }
        row["ratio"] = round(row["median_ms"] / floor_ms, 1)
        row["first_ratio"] = round(row["first_median_ms"] / floor_ms, 1) if row["first_median_ms"] else None
        row["again_ratio"] = round(row["again_median_ms"] / floor_ms, 1) if row["again_median_ms"] else None
        row["server_estimate_ms"] = round(row["median_ms"] - floor_ms, 1)
        rows.append(row)
        print(
            f"  {t.label}: median {row['median_ms']} ms = {row['ratio']}x the floor "
            f"(first visit {row['first_median_ms']} ms, again {row['again_median_ms']} ms; "
            f"script thread {row['script_median_ms']} ms)",
            flush=True,
        )
    print(f"  three-line app: {floor_ms} ms (script thread {median_ms(floor_script)} ms)", flush=True)
    sized_ms = median_ms(sized_wall) or 0.0
    print(
        f"  an app of {main_nodes} elements that computes nothing: {sized_ms} ms = "
        f"{sized_ms / floor_ms:.1f}x the floor (script thread {median_ms(sized_script)} ms)",
        flush=True,
    )
    lang_ms = median_ms(lang_wall)
    if lang_ms is not None:
        print(f"  300 _() and 60 fmt_number in Spanish: {lang_ms} ms = {lang_ms / floor_ms:.1f}x the floor", flush=True)
    for name, text in stats.items():
        print(f"--- profile of {name} (last round)\n{text}", flush=True)
    return {
        "floor_ms": floor_ms,
        "floor_script_ms": median_ms(floor_script),
        "floor_changes": len(floor_wall),
        "sized_elements": main_nodes,
        "sized_ms": sized_ms,
        "sized_script_ms": median_ms(sized_script),
        "sized_ratio": round(sized_ms / floor_ms, 1),
        "i18n_ms": lang_ms,
        "rows": rows,
        "profiles": stats,
    }


#: The issue's targets for the main page's k and temperature sliders.
TARGET_RATIO = 6.0
TARGET_SERVER_MS = 30.0
#: What a revisit of a page still costs beyond its size (only the pages measured since their last change
#: are named; the charts, tables, sections and CSVs are cached on all). Section 1c splits every page's.
REVISIT_COST = {
    "main": "py-spy samples of its revisits (2026-12-07, `bench_revisit_owners`, section 1c) put 78% of the script "
    "thread in Streamlit writing elements and widgets and 7% in our code; the navigation's 17 `st.Page` objects, "
    "once made again on every run, are now made once per language",
}
#: What a first visit builds, per widget.
FIRST_VISIT_COST = {
    "main_k": "a new k changes two charts (the kept/dropped colours, the top-k output's category mix)",
    "main_T": "a new T changes four of the five charts (the weights, the continuum's marker, the output mix, the ÷√d "
    "comparison)",
    "topk_k": "a new k changes both charts (the kept weights, the marker on the curve)",
    "rec_T": "a new T ranks every candidate three ways and builds both charts",
    "smooth_step": "each of the four charts marks the step",
    "smooth_sigma": "a new σ computes the 200 × 200 position weights and builds four charts",
    "scoring_metric": "the peakiness chart for the other measure",
    "tr_head": "a new head is a new heatmap and two relevance heatmaps (48 × 48 cells at most)",
    "tr_layer": "a new layer is its attention (cached per sentence and layer), a heatmap and two relevance heatmaps",
}


def _x(ms: float | None, floor: float | None) -> str:
    if ms is None or not floor:
        return "–"
    return f"{ms:.0f} ms ({ms / floor:.1f}×)" if ms >= 10 else f"{ms:.1f} ms ({ms / floor:.1f}×)"


def report_section(after: dict | None, before: dict | None) -> str:
    """The docs/benchmarks.md section: every page's slider change before and after, how measured, what is slow.

    Args:
        after: ``results/reruns.json`` (this tree), or None.
        before: ``results/reruns_before.json`` (the commit before the cheap-rerun work), or None.

    Returns:
        Markdown.
    """
    if not after:
        return "_Not measured in this run._"
    from benchmarks.report import table

    old = {r["name"]: r for r in (before or {}).get("rows", [])}
    compiled = after.get("page_compile_ms", {})  # what AppTest repeats on every rerun and a server does once
    fb, fa = (before or {}).get("floor_ms"), after["floor_ms"]
    rows = []
    for r in after["rows"]:
        o = old.get(r["name"])
        rows.append(
            [
                r["label"],
                r.get("elements", "–"),
                _x(o["median_ms"], fb) if o else "–",
                _x(r["first_median_ms"], fa),
                _x(r["again_median_ms"], fa),
                f"{max(r['again_median_ms'] - fa - compiled.get(r['page'], 0.0), 0):.0f} ms"
                f" / {r['script_again_median_ms']:.0f} ms",
            ]
        )
    by = {r["name"]: r for r in after["rows"]}
    main = [by[n] for n in ("main_k", "main_T") if n in by]
    verdict = ""
    if main:
        worst = max(main, key=lambda r: r["again_median_ms"])
        worst_first = max(main, key=lambda r: r["first_median_ms"])
        compiled = after.get("page_compile_ms", {}).get("ui/pages/retrieval.py") or 0.0
        server = max(worst["again_median_ms"] - fa - compiled, 0)  # AppTest's overhead: the floor and the compile
        ok_ratio = worst["again_median_ms"] / fa <= TARGET_RATIO
        measured = (load_result("server_cpu") or {}).get("median_ms", {}).get("k_revisit")
        ok_server = (measured if measured is not None else server) < TARGET_SERVER_MS
        at_server = (
            f"; measured at a real server instead (section 3, `bench_server_cpu`), a k revisit takes {measured:.0f} ms "
            "of the server's CPU, with the serialising and sending of every element that this estimate leaves out"
            if measured is not None
            else ""
        )
        was = ", ".join(f"{old[r['name']]['ratio']:.0f}×" for r in main if r["name"] in old)
        verdict = (
            f"\n\n**Main page, k and T (targets: at most {TARGET_RATIO:.0f}× the three-line app under AppTest, under "
            f"{TARGET_SERVER_MS:.0f} ms at the server).** A revisited setting reruns in "
            f"{worst['again_median_ms'] / fa:.1f}× the floor at worst ({worst['label']}; "
            f"{'met' if ok_ratio else '**not met**'}), an estimated {server:.0f} ms at the server: the revisit minus "
            f"the floor and minus the {compiled:.1f} ms AppTest spends compiling the page again, which a server does "
            f"once{at_server} ({'met' if ok_server else '**not met**'})"
            + (f"; before the change {was}" if was else "")
            + f". A setting no session has drawn yet builds its charts: {worst_first['first_median_ms'] / fa:.0f}× "
            f"({worst_first['label']}, {worst_first['first_median_ms']:.0f} ms)."
        )
    sized = after.get("sized_ms")
    compile_main = after.get("page_compile_ms", {}).get("ui/pages/retrieval.py")
    slow = [r for r in after["rows"] if r["again_median_ms"] / fa > TARGET_RATIO]
    still = ""
    if slow:
        worst = {r["name"][: r["name"].index("_")]: r for r in slow}
        extra = [
            f"*{r['label'].split(':')[0]}* ({r['again_median_ms'] / fa:.0f}×): {REVISIT_COST[p]}"
            for p, r in worst.items()
            if p in REVISIT_COST
        ]
        still = (
            f"\n\n**Still slow, and why.** A revisit builds nothing; what is left is the page itself. Its size: "
            f"{_x(sized, fa)} for {after.get('sized_elements')} plain elements. Compiling the page again: "
            + (f"{compile_main:.1f} ms for the main page, " if compile_main else "")
            + "under AppTest only. "
            + (
                f"Translating: an app that translates 300 strings and formats 60 numbers (Spanish) reruns in "
                f"{_x(after['i18n_ms'], fa)}"
                + (f", {_x(before['i18n_ms'], fb)} before" if (before or {}).get("i18n_ms") else "")
                + "; the main page makes ~170 `_()` calls and ~45 number formats a rerun. "
                if after.get("i18n_ms")
                else ""
            )
            + "And per page: "
            + "; ".join(extra)
            + ". A first visit also builds the charts its widget changed: "
            + "; ".join(
                f"{r['label']}: {FIRST_VISIT_COST[r['name']]}" for r in after["rows"] if r["name"] in FIRST_VISIT_COST
            )
            + ". Fragments (a section whose widgets feed nothing else reruns alone) do not show here: AppTest "
            "reruns the whole script for every widget; a server reruns the fragment."
        )
    compile_ms = after.get("page_compile_ms", {})
    return (
        "Each page is opened under Streamlit's `AppTest` (model and store loaded, untimed), then one widget takes "
        "a list of values; every change is one timed rerun. The floor is a three-line app (a slider and a metric) "
        "changed just before each page in the same rounds, so every ratio is within one run and one load. A "
        "*first visit* is a value no session of this process has drawn yet: its charts are built and cached. "
        "A *revisit* is one some session has drawn: the server-wide caches answer (in a class, the first student "
        "to pick a setting pays the first visit, the other 29 the revisit). Medians over "
        f"{after['rounds']} rounds. At the server (estimate): the revisit minus the floor (AppTest's own overhead) "
        "and minus compiling the page, which AppTest does on every rerun and a server once; next to it the script "
        "thread's own time under AppTest, compile included. Compiling each page: "
        + ", ".join(f"{p.rsplit('/', 1)[-1]} {v:.1f} ms" for p, v in compile_ms.items())
        + ". AppTest also parses every element into its tree, which the estimate still counts.\n\n"
        + table(
            [
                "page: widget",
                "elements",
                f"before: rerun (× floor {fb:.1f} ms)" if fb else "before",
                f"after: first visit (× floor {fa:.1f} ms)",
                "after: revisit",
                "after, at the server: estimate / AppTest's script thread",
            ],
            rows,
        )
        + (
            f"\n\nBefore: {before['label'].split(': ', 1)[-1]}, measured {before['date']} (load average "
            f"{before['load_average_at_start']:.2f} at the start). "
            if before
            else "\n\nBefore: not measured in this run. "
        )
        + f"After: {after.get('label', 'this tree').split(': ', 1)[-1]}, measured {after['date']} (load average "
        f"{after['load_average_at_start']:.2f}). An app that draws {after.get('sized_elements')} "
        f"elements (as many as the main page) and computes nothing reruns in {_x(sized, fa)}: that much of "
        "any page is the cost of its size under AppTest." + verdict + still
    )


def page_compile_ms(page: str, repeats: int = 20) -> float:
    """What AppTest pays on every rerun and a server once: compiling the page's source (median ms)."""
    source = (ROOT / page).read_text(encoding="utf-8")
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        compile(source, page, "exec")
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def measure_commit(commit: str, save_as: str, label: str, argv: list[str]) -> None:
    """This script, run over a commit's tree (``git archive``, no uncommitted work), saved here as ``save_as``."""
    from benchmarks.common import RESULTS

    sha = subprocess.run(["git", "rev-parse", "--short", commit], cwd=ROOT, capture_output=True, text=True, check=True)
    with tempfile.TemporaryDirectory(prefix="bench_reruns_") as tmp:
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        shutil.copy(Path(__file__), Path(tmp) / "benchmarks" / "bench_reruns.py")
        label = f"{label}: commit {sha.stdout.strip()}"
        cmd = [sys.executable, "-m", "benchmarks.bench_reruns", "--save-as", save_as, "--label", label, *argv]
        print("$", " ".join(cmd[1:]), f"(in a copy of {commit})", flush=True)
        subprocess.run(cmd, cwd=tmp, check=True, timeout=3600)  # its own package and pages come first on sys.path
        RESULTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(Path(tmp) / ".cache" / "benchmarks" / "results" / f"{save_as}.json", RESULTS)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_reruns", description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", metavar="TARGET", help="measure only these targets (names as in TARGETS)")
    ap.add_argument("--profile", metavar="TARGET", help="also cProfile this target's reruns (after the timed ones)")
    ap.add_argument("--rounds", type=int, default=ROUNDS)
    ap.add_argument("--save-as", default="reruns", help="result name under .cache/benchmarks/results/")
    ap.add_argument("--label", default="", help="what this run measures, e.g. 'before: commit 1d9af7d'")
    ap.add_argument("--before", metavar="COMMIT", help="measure COMMIT's pages instead, saved as reruns_before")
    ap.add_argument("--commit", metavar="COMMIT", help="measure COMMIT's tree (e.g. HEAD, without uncommitted work)")
    args = ap.parse_args(argv)
    if args.before or args.commit:
        rest = ["--rounds", str(args.rounds)] + (["--only", *args.only] if args.only else [])
        if args.before:
            measure_commit(args.before, "reruns_before", "before", rest)
        else:
            measure_commit(args.commit, args.save_as, args.label or "after", rest)
        return
    os.chdir(ROOT)  # AppTest reads .streamlit/config.toml from the working directory, as `streamlit run` does
    from streamlit import config

    targets = tuple(t for t in TARGETS if not args.only or t.name in args.only)
    load = wait_for_quiet()
    clock = ScriptClock()
    t0 = time.perf_counter()
    res = measure(targets, args.rounds, clock, args.profile)
    save_result(
        args.save_as,
        {
            "machine": machine(),
            "load_average_at_start": load,
            "git_head": _git_head(),
            "label": args.label or "this tree",
            "post_script_gc": bool(config.get_option("runner.postScriptGC")),
            "magic": bool(config.get_option("runner.magicEnabled")),
            "page_compile_ms": {p: page_compile_ms(p) for p in dict.fromkeys(t.page for t in targets)},
            "rounds": args.rounds,
            "wall_s": round(time.perf_counter() - t0, 1),
            **res,
        },
    )


def _git_head() -> str:
    """The commit measured, with a note when the UI has uncommitted changes; "" outside a git tree."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "ui", "retrieval_attention/charts", "app.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return ""
    if out.returncode != 0:
        return ""
    return out.stdout.strip() + (" (+ uncommitted UI changes)" if dirty else "")


if __name__ == "__main__":
    main()
