"""The main page's document for a new query: every chart built fresh (before) vs filled from its template (after).

``views.retrieval.retrieval_document`` on the bundled corpus with the default model, for queries it
has not drawn yet (the page's per-data chart cache is emptied before each build, so every chart is
made). The store's answer (``ask``) is computed outside the timing: what is timed is the document,
mostly its five charts. Two ways in the same process, interleaved query by query so both see the
same machine load:

* before: each chart's specification is a fresh Altair build, ``inline_spec(view(rows, options))``
  (what the page did before the templates);
* after: :func:`~retrieval_attention.export.specs.filled_spec`: the kind's template (built once per
  options and language, warm from the earlier queries) filled with the query's rows.

Wall and CPU time per document, medians over the queries, and their ratio; the first document of a
cold process (templates empty) apart. Then the recommender's bars for a new temperature (two
targets over six watched videos), both ways. Results: ``.cache/benchmarks/results/chart_templates.json``.

    python -m benchmarks.bench_chart_templates           # measure, store, print
    python -m benchmarks.bench_chart_templates --quiet   # first wait for a quiet machine
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from benchmarks.common import CACHE, load_average, machine, save_result, wait_for_quiet

#: Queries a student might type; each document is built for one the page has not drawn yet.
QUERIES = (
    "funny cat videos",
    "how to cook pasta",
    "football highlights",
    "learn the guitar",
    "space documentary",
    "yoga for beginners",
    "stock market news",
    "cheap travel tips",
    "baking bread at home",
    "fix a flat bike tire",
    "chess openings explained",
    "relaxing piano music",
    "history of rome",
    "home workout no equipment",
    "learn python programming",
    "makeup tutorial",
    "dog training tips",
    "electric cars review",
    "world cup goals",
    "how volcanoes work",
    "healthy breakfast ideas",
    "stand up comedy",
    "minecraft building",
    "photography basics",
)
LANGS = ("en", "es")


@contextmanager
def fresh_builds():
    """``filled_spec`` replaced by a fresh Altair build of the same view and rows (the page before the templates)."""
    from retrieval_attention.export import specs

    def fresh(view, parts, /, decimal=".", thousands=",", *, container_width=True):
        chart = view(parts.frames(), **parts.options)
        return specs.inline_spec(chart, decimal, thousands, validate=False, container_width=container_width)

    saved = specs.filled_spec
    specs.filled_spec = fresh
    try:
        yield
    finally:
        specs.filled_spec = saved


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, float]:
    """Wall and CPU milliseconds of one ``fn(*args)``."""
    w, c = time.perf_counter(), time.process_time()
    fn(*args)
    return (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000


def recommender_bars(store: Any) -> dict[str, Any]:
    """The recommender's bars for a temperature the page has not drawn (its per-input cache bypassed), both ways.

    Timed: the page's ``_bars_spec`` whole, the targets' attention over the history included.
    """
    from retrieval_attention.views.recommender import results as vrec

    build = vrec._bars_spec.__wrapped__  # the page's builder without its lru_cache
    history, targets = ("v270", "v010", "v028", "v101", "v150", "v200"), ("v252", "v030")
    temperatures = [round(0.03 + 0.01 * i, 2) for i in range(24)]
    build(store, history, targets, 0.02, True, None, "en")  # the template
    before, after = [], []
    for i, t in enumerate(temperatures):
        for way in ("before", "after") if i % 2 == 0 else ("after", "before"):
            if way == "before":
                with fresh_builds():
                    before.append(timed(build, store, history, targets, t, True, None, "en")[0])
            else:
                after.append(timed(build, store, history, targets, t, True, None, "en")[0])
    b, a = statistics.median(before), statistics.median(after)
    return {
        "charts_per_way": len(before),
        "before_wall_ms_median": b,
        "after_wall_ms_median": a,
        "ratio_before_over_after_wall": b / a,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quiet", action="store_true", help="wait for the load average to fall to 2.5 first")
    args = ap.parse_args()
    load = wait_for_quiet() if args.quiet else load_average()

    import retrieval_attention as ra
    from retrieval_attention.charts.template import TEMPLATES
    from retrieval_attention.views import retrieval as vr

    store = ra.KeyValueStore.from_corpus(ra.load_corpus(), cache_dir=CACHE)
    result: dict[str, Any] = {"machine": machine(), "load_average_at_start": load, "queries": len(QUERIES)}
    for lang in LANGS:
        asked = [(q, vr.RetrievalSettings(query=q, lang=lang)) for q in QUERIES]
        answers = [vr.ask(store, s) for _, s in asked]  # outside the timing
        TEMPLATES.clear()
        vr.chart_cache().clear()
        first = timed(vr.retrieval_document, store, asked[0][1], answers[0])  # templates built here
        before: list[tuple[float, float]] = []
        after: list[tuple[float, float]] = []
        for i, ((_, s), res) in enumerate(zip(asked[1:], answers[1:])):
            order = ("before", "after") if i % 2 == 0 else ("after", "before")
            for way in order:
                vr.chart_cache().clear()  # the page has not drawn this query's charts
                if way == "before":
                    with fresh_builds():
                        before.append(timed(vr.retrieval_document, store, s, res))
                else:
                    after.append(timed(vr.retrieval_document, store, s, res))
        b_wall, a_wall = statistics.median(t[0] for t in before), statistics.median(t[0] for t in after)
        b_cpu, a_cpu = statistics.median(t[1] for t in before), statistics.median(t[1] for t in after)
        result[lang] = {
            "documents_per_way": len(before),
            "first_document_cold_templates": {"wall_ms": first[0], "cpu_ms": first[1]},
            "before_fresh_builds": {
                "wall_ms_median": b_wall,
                "cpu_ms_median": b_cpu,
                "wall_ms": [t[0] for t in before],
            },
            "after_templates": {"wall_ms_median": a_wall, "cpu_ms_median": a_cpu, "wall_ms": [t[0] for t in after]},
            "ratio_before_over_after_wall": b_wall / a_wall,
            "ratio_before_over_after_cpu": b_cpu / a_cpu,
            "templates": len(TEMPLATES),
        }
    result["recommender_bars_new_temperature"] = recommender_bars(store)
    path = save_result("chart_templates", result)
    print(f"main page's document, new query ({len(QUERIES) - 1} per way, load {load:.2f}); results in {path}")
    r = result["recommender_bars_new_temperature"]
    print(
        f"  recommender bars, new T ({r['charts_per_way']} per way): before {r['before_wall_ms_median']:.1f} ms, "
        f"after {r['after_wall_ms_median']:.1f} ms: {r['ratio_before_over_after_wall']:.1f}x"
    )
    for lang in LANGS:
        r = result[lang]
        b, a = r["before_fresh_builds"], r["after_templates"]
        print(
            f"  {lang}: before {b['wall_ms_median']:.1f} ms wall / {b['cpu_ms_median']:.1f} ms CPU, "
            f"after {a['wall_ms_median']:.1f} / {a['cpu_ms_median']:.1f} ms: "
            f"{r['ratio_before_over_after_wall']:.2f}x wall, {r['ratio_before_over_after_cpu']:.2f}x CPU; "
            f"first (cold templates) {r['first_document_cold_templates']['wall_ms']:.1f} ms; "
            f"{r['templates']} templates"
        )


if __name__ == "__main__":
    main()
