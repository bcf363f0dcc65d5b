"""How large an exported lesson is, and how long writing one takes.

The default query through the CLI as a user runs it (``retrieval-attention "funny cat videos" --html
FILE``, fresh processes, warm embedding cache): the file's bytes, what they are made of (the inlined
Vega/Vega-Lite/Vega-Embed JavaScript, the charts' JSON with their data, the rest: HTML, CSS, tables),
gzipped, and the process's wall time; then the same lesson in Chinese and Spanish and the other two
lessons (recommender, model), and ``export_html`` in one process, first call (which builds the
JavaScript bundle) and warm.

    python -m benchmarks.bench_export                # measure, store, print the docs section
    python -m benchmarks.bench_export --report-only  # print the section from the stored result
"""

from __future__ import annotations

import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import CACHE, ROOT, load_result, machine, save_result, time_call, wait_for_quiet

QUERY = "funny cat videos"
CLI_RUNS = 5
SENTENCE = "Evan's dog Riley is so hyperactive, she never stops moving"


def parts(html: str) -> dict[str, int]:
    """Bytes (UTF-8) of the inlined JavaScript, of the chart JSON blocks and of everything else."""
    total = len(html.encode("utf-8"))
    js = sum(len(m.encode("utf-8")) for m in re.findall(r"<script>(.*?)</script>", html, flags=re.S))
    charts = sum(
        len(m.encode("utf-8"))
        for m in re.findall(r'<script type="application/json" data-lesson-chart="\d+">(.*?)</script>', html, re.S)
    )
    return {"bytes": total, "javascript": js, "charts_json": charts, "rest": total - js - charts}


def cli_runs(out: Path, *extra: str) -> tuple[list[float], str]:
    env = {**os.environ, "RETRIEVAL_ATTENTION_CACHE": str(CACHE)}
    cmd = [sys.executable, "-m", "retrieval_attention", QUERY, "--html", str(out), *extra]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True, env=env)  # warms the embedding cache
    times = []
    for _ in range(CLI_RUNS):
        t = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - t)
    return times, out.read_text(encoding="utf-8")


def main() -> None:
    load = wait_for_quiet()
    tmp = Path(tempfile.mkdtemp())
    times, html = cli_runs(tmp / "en.html")
    result: dict[str, Any] = {
        "machine": machine(),
        "load_average_at_start": load,
        "query": QUERY,
        "cli_seconds_median": statistics.median(times),
        "cli_seconds": times,
        "default": {**parts(html), "gzip_bytes": len(gzip.compress(html.encode("utf-8"), 9))},
    }
    for lang in ("zh", "es"):
        _t, text = cli_runs(tmp / f"{lang}.html", "--lang", lang)
        result[lang] = parts(text)

    import retrieval_attention as ra

    store = ra.KeyValueStore.from_corpus(ra.load_corpus(), cache_dir=CACHE)
    lesson = ra.retrieval_lesson(store, QUERY)
    t = time.perf_counter()
    ra.export_html(lesson)
    result["export_html_first_call_ms"] = (time.perf_counter() - t) * 1000
    result["export_html_warm"] = time_call(lambda: ra.export_html(lesson), repeats=10, warmup=1).as_dict()
    result["build_retrieval_lesson"] = time_call(lambda: ra.retrieval_lesson(store, QUERY), 10, 1).as_dict()
    persona = ra.load_histories(corpus=store.corpus)[0]
    rec = ra.recommender_lesson(store, persona.history, "v252", compare_to="v010", history_name=persona.name)
    result["recommender"] = parts(ra.export_html(rec))
    result["model"] = parts(ra.export_html(ra.model_lesson(SENTENCE, layer=2, head=5)))
    path = save_result("export", result)
    print(f"wrote {path}")
    print(report_section(load_result("export")))


def report_section(r: dict[str, Any]) -> str:
    """The Markdown section of docs/benchmarks.md from the stored result."""
    d = r["default"]
    return "\n".join(
        [
            "## 9. A lesson saved as one HTML file",
            "",
            f"Measured {r['date']} by `python -m benchmarks.bench_export` (load average {r['load_average_at_start']:.1f} "
            f'at the start): `retrieval-attention "{r["query"]}" --html FILE` with the defaults (k = 5, T = 0.05, '
            "all-MiniLM-L6-v2, the 312 bundled videos), fresh processes, warm embedding cache.",
            "",
            "| lesson | bytes | of which JavaScript | charts' JSON (data inline) | HTML, CSS, tables |",
            "|---|---|---|---|---|",
            *(
                f"| {name} | {p['bytes']:,} | {p['javascript']:,} | {p['charts_json']:,} | {p['rest']:,} |"
                for name, p in (
                    ("main page, default query (en)", d),
                    ("the same in Chinese (`--lang zh`)", r["zh"]),
                    ("the same in Spanish (`--lang es`)", r["es"]),
                    ("recommender: 1 persona, 2 targets", r["recommender"]),
                    ("model: one head, 16 tokens", r["model"]),
                )
            ),
            "",
            f"Gzipped (level 9) the default lesson is {d['gzip_bytes']:,} bytes. The JavaScript is Vega, Vega-Lite "
            "and Vega-Embed from vl-convert-python's bundle, the same in every lesson.",
            f"The CLI run takes {r['cli_seconds_median']:.1f} s (median of {len(r['cli_seconds'])}, "
            f"{min(r['cli_seconds']):.1f}–{max(r['cli_seconds']):.1f} s, model load included; load average "
            f"{r['load_average_at_start']:.1f} → {r['load_average_at_end']:.1f}"
            + (
                ": other work shared the cores, so the times are rough, the sizes exact and the same on every run"
                if max(r["load_average_at_start"], r["load_average_at_end"]) > 1.0
                else ""
            )
            + "); in one process the first "
            f"`export_html` takes {r['export_html_first_call_ms']:,.0f} ms "
            f"(it builds the bundle once), later ones {r['export_html_warm']['median_ms']:.1f} ms, and "
            f"`retrieval_lesson` itself {r['build_retrieval_lesson']['median_ms']:.0f} ms.",
        ]
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["--report-only"]:  # print the section from the stored result
        print(report_section(load_result("export")))
    else:
        main()
