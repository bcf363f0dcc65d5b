"""Cheap reruns stay correct: a cache never serves a stale picture, and a page rerun after a slider
change shows what a cold run with that setting shows.

Three layers. The fingerprint and the render cache on their own (every kind of input change gives a
new key; the cache is bounded). Every chart builder: its output passes the Vega-Lite schema (the
pages build with ``validate=False``, trusting this test) and a changed input changes the chart; a
drawn specification is not changed by drawing it (Streamlit pops what it is given, and the pages
draw shared, cached specifications). Then the pages under AppTest: a session that moved a slider
(served from the caches) against a new session with every rendering cache emptied (the page
builders' caches in :mod:`retrieval_attention.views`, the chart templates, the CSV cache), element
by element (metrics, tables, chart specifications and data); and a second session served from the
first one's caches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import retrieval_attention as ra
from retrieval_attention.charts import articles as ca
from retrieval_attention.charts import continuum as cc
from retrieval_attention.charts import recommender as rc
from retrieval_attention.charts import recommender_cross as rx
from retrieval_attention.charts import relevance as crel
from retrieval_attention.charts import retrieval as cr
from retrieval_attention.charts import scoring as cs
from retrieval_attention.charts import smoothing as csm
from retrieval_attention.charts import topk as ck
from retrieval_attention.charts import transformer as ct
from retrieval_attention.charts.spec import Lazy, RenderCache, fingerprint, render_nbytes, resolve
from retrieval_attention.charts.theme import projector, projector_spec
from retrieval_attention.core.scoring import peakiness_vs_dim
from retrieval_attention.core.scoring_cost import CostResult
from retrieval_attention.core.smoothing import gaussian_smoothing_attention, noisy_series
from retrieval_attention.core.topk import TopKCurve, TopKError
from retrieval_attention.export.blocks import LessonChart
from retrieval_attention.export.specs import inline_spec
from ui.components.document import drawn_charts, drawn_tables
from ui.components.downloads import csv_by_object, csv_cache

APP = str(Path(__file__).resolve().parents[1] / "app.py")
RNG = np.random.default_rng(0)

# -- the fingerprint ---------------------------------------------------------------------------------


def test_fingerprint_is_stable_and_sees_every_kind_of_change():
    frame = pd.DataFrame({"rank": [1, 2], "w": [0.5, 0.25], "title": ["a", "b"]})
    base = (np.arange(3.0), frame, ["x", "y"], {"a": 1.0, "b": 2.0}, 5, "t", None)
    assert fingerprint(*base) == fingerprint(*base)
    assert fingerprint(*base) == fingerprint(
        np.arange(3.0), frame.copy(), ["x", "y"], {"a": 1.0, "b": 2.0}, 5, "t", None
    )
    changed = [
        (np.arange(3.0) + 1e-12, *base[1:]),  # one array value
        (np.arange(3, dtype=np.float32), *base[1:]),  # dtype
        (np.arange(3.0).reshape(3, 1), *base[1:]),  # shape
        (base[0], frame.assign(w=[0.5, 0.26]), *base[2:]),  # one cell
        (base[0], frame.rename(columns={"w": "weight"}), *base[2:]),  # a column name
        (base[0], frame.set_index(pd.Index([5, 6])), *base[2:]),  # the index (Arrow writes it)
        (base[0], frame.astype({"rank": float}), *base[2:]),  # a column's dtype
        (base[0], frame[["w", "rank", "title"]], *base[2:]),  # column order
        (*base[:2], ["y", "x"], *base[3:]),  # list order
        (*base[:2], ["xy", ""], *base[3:]),  # same characters, other strings
        (*base[:3], {"b": 2.0, "a": 1.0}, *base[4:]),  # dict order (the order of the bars)
        (*base[:4], 5.0, *base[5:]),  # int vs float
        (*base[:4], True, *base[5:]),  # int vs bool
        (*base[:6], "None"),  # None vs its name
    ]
    keys = {fingerprint(*c) for c in changed}
    assert len(keys) == len(changed) and fingerprint(*base) not in keys
    cats = pd.DataFrame({"c": pd.Categorical(["a", "b"], categories=["a", "b"])})
    assert fingerprint(cats) != fingerprint(pd.DataFrame({"c": pd.Categorical(["a", "b"], categories=["b", "a"])}))


def test_fingerprint_hashes_dataclasses_by_field_and_refuses_opaque_objects():
    @dataclass(frozen=True)
    class Settings:
        temperature: float
        half_life: float | None

    assert fingerprint(Settings(0.1, None)) == fingerprint(Settings(0.1, None))
    assert fingerprint(Settings(0.1, None)) != fingerprint(Settings(0.1, 4.0))
    with pytest.raises(ra.InvalidParameterError, match="cannot hash a object"):
        fingerprint(object())
    with pytest.raises(ra.InvalidParameterError, match="cannot hash a set"):
        fingerprint({1, 2})


def test_a_lazy_input_is_hashed_by_what_it_is_made_from_and_made_only_when_asked():
    made: list[int] = []

    def frame_of(w: np.ndarray) -> pd.DataFrame:
        made.append(1)
        return pd.DataFrame({"w": w})

    w = np.array([0.25, 0.75])
    assert fingerprint(Lazy(pd.DataFrame, {"w": w})) == fingerprint(Lazy(pd.DataFrame, {"w": w.copy()}))
    assert fingerprint(Lazy(pd.DataFrame, {"w": w})) != fingerprint(Lazy(pd.DataFrame, {"w": w[::-1]}))
    assert fingerprint(Lazy(pd.DataFrame, {"w": w})) != fingerprint(Lazy(pd.Series, {"w": w}))
    with pytest.raises(ra.InvalidParameterError, match="named module-level function"):
        Lazy(lambda x: x, 1)
    with pytest.raises(ra.InvalidParameterError, match="named module-level function"):
        Lazy(frame_of, w)  # defined inside this test: "<locals>" in its name
    assert resolve(5) == 5 and made == []


def test_projector_spec_is_projector_on_the_dictionary():
    chart = cr.category_mix_chart({"pets": 0.6, "news": 0.4})
    assert projector_spec(chart.to_dict()) == projector(chart).to_dict()
    assert "axis" not in chart.to_dict().get("config", {}), "the builder's own chart is left unthemed"


# -- the cache ---------------------------------------------------------------------------------------


def test_render_cache_builds_once_and_drops_the_least_recently_used():
    cache = RenderCache(max_entries=2)
    built: list[str] = []

    def make(name: str) -> dict:
        built.append(name)
        return {"mark": name}

    a = cache.get("a", lambda: make("a"))
    assert cache.get("a", lambda: make("again")) is a
    cache.get("b", lambda: make("b"))
    cache.get("a", lambda: make("again"))  # a is now the most recent
    cache.get("c", lambda: make("c"))  # drops b
    assert built == ["a", "b", "c"] and len(cache) == 2
    cache.get("b", lambda: make("b"))
    assert built == ["a", "b", "c", "b"]
    assert (cache.hits, cache.misses) == (2, 4)


def test_render_cache_bounds_its_bytes():
    cache = RenderCache(max_entries=100, max_bytes=10_000)
    for i in range(5):
        cache.get(i, lambda: b"x" * 3_000)
    assert len(cache) == 3 and cache.nbytes == 9_000
    assert render_nbytes({"mark": "bar", "datasets": {"d": b"x" * 100}}) == 4096 + 100
    with pytest.raises(ra.InvalidParameterError, match="room for one entry"):
        RenderCache(max_entries=0)


# -- every chart builder: a valid specification, and a changed input changes it ----------------------


def _weights_frame(n: int = 40) -> pd.DataFrame:
    w = np.sort(RNG.dirichlet(np.ones(n)))[::-1]
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "weight": w,
            "score": np.sort(RNG.uniform(-1, 1, n))[::-1],
            "title": [f"video {i}" for i in range(n)],
            "category": [("pets", "cooking", "news")[i % 3] for i in range(n)],
        }
    )


def _continuum(current: float) -> tuple:
    temps = np.geomspace(0.002, 20.0, 30)
    logits = np.sort(RNG.normal(size=12))[::-1]
    W = np.exp(logits[None, :] / temps[:, None] - (logits.max() / temps)[:, None])  # (m, n)
    return temps, W / W.sum(axis=1, keepdims=True), [f"key {j}" for j in range(12)], current


def _scaling() -> pd.DataFrame:
    rows = [
        pd.DataFrame({"rank": np.arange(1, 21), "weight": np.sort(RNG.dirichlet(np.ones(20)))[::-1], "setting": s})
        for s in ("÷√d, T = 1", "cosine, T = 0.05")
    ]
    return pd.concat(rows)


def _topk(T: float) -> tuple[TopKCurve, TopKError]:
    logits, V = RNG.normal(size=30), RNG.normal(size=(30, 4))
    return ra.topk_error_curve(logits, V, temperature=T), ra.topk_attention_error(logits, V, 5, temperature=T)


def _smoothing(sigma: float) -> pd.DataFrame:
    s = noisy_series(n=60)
    ys, W = gaussian_smoothing_attention(s.t, s.y, sigma)
    return csm.smoothing_frame(s.t, s.y, s.signal, {"by position": ys}, {"by position": W[20]})


def _cost(ratio: float) -> pd.DataFrame:
    r = CostResult(10, 50, 8, 4, 3, 2e-3 * ratio, 3e-4, 2e-5, 1e-5, 10_000, 500)
    return cs.cost_frame({"the bundled corpus": r})


def _history(store: ra.KeyValueStore, T: float) -> tuple:
    history = list(store.corpus.ids[:3])
    target = store.corpus.ids[4]
    ta = ra.target_attention(store, history, target, temperature=T)
    cats = [store.corpus.by_id(i).category for i in history]
    return [rc.history_weights_frame(ta, cats, "A")], list(dict.fromkeys(cats))


def _cross(store: ra.KeyValueStore, T: float) -> pd.DataFrame:
    rec = ra.recommend(store, list(store.corpus.ids[:2]), k=3, temperature=T)
    return rx.cross_attention_frame(rec.attention)


TOKENS = ["[CLS]", "evan", "'", "s", "dog", "[SEP]"]


def _attention(seed: int, heads: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).random((heads or 1, 6, 6))
    x /= x.sum(axis=-1, keepdims=True)
    return x if heads else x[0]


def _article_cases() -> list[tuple]:
    """The four article pages' builders, with the kind of inputs those pages pass."""
    M = _attention(4) - 1 / 6  # (6, 6), signed
    text = {"row_title": "query word i", "col_title": "key word j", "value_title": "α"}
    steps = [("q·k_j", RNG.normal(size=6), True), ("softmax → w_j", _attention(5)[0], False)]
    weighted, dims = RNG.normal(size=(6, 8)), [f"d{i}" for i in range(8)]
    sums = {"title": "w_j · v_j", "sum_label": "z", "sum_row": "z", "row_title": "token j", "col_title": "dim"}
    lines = {"title": "values", "x_title": "dimension", "y_title": "value", "series_title": "vector"}
    v = RNG.normal(size=(3, 16))
    pca = {
        "x_title": "x",
        "qk_title": "q and k",
        "x_name": "x",
        "q_name": "q",
        "k_name": "k",
        "series_title": "vector",
        "axis_titles": ("component 1", "component 2"),
    }
    x2, q2, k2 = (RNG.normal(size=(6, 2)) for _ in range(3))
    return [
        (
            ca.matrix_heatmap,
            ((_attention(4), TOKENS, TOKENS), {"title": "α", **text, "cell": 40, "highlight": [(1, 4)]}),
            ((_attention(4), TOKENS, TOKENS), {"title": "α", **text, "cell": 40, "highlight": [(2, 4)]}),
        ),
        (
            ca.matrix_heatmap,
            ((M, TOKENS, TOKENS), {"title": "diff", **text, "signed": True, "limit": 0.5}),
            ((M, TOKENS, TOKENS), {"title": "diff", **text, "signed": True, "limit": 0.8}),
        ),
        (
            ca.steps_chart,
            ((TOKENS, steps), {"title": "head 0", "row_title": "key token j"}),
            ((TOKENS, steps[:1]), {"title": "head 0", "row_title": "key token j"}),
        ),
        (
            ca.vectors_and_sum_chart,
            ((weighted, weighted.sum(axis=0), TOKENS, dims), {**sums, "value_title": "value"}),
            ((weighted / 2, weighted.sum(axis=0) / 2, TOKENS, dims), {**sums, "value_title": "value"}),
        ),
        (
            ca.mix_chart,
            (([("v · a", v[0]), ("v · b", v[1]), ("new", 0.75 * v[0] + 0.25 * v[1])],), lines),
            (([("v · a", v[0]), ("v · b", v[1]), ("new", 0.5 * v[0] + 0.5 * v[1])],), lines),
        ),
        (ca.projection_chart, ((TOKENS, x2, q2, k2), pca), ((TOKENS, x2, k2, q2), pca)),
    ]


def builder_cases(store: ra.KeyValueStore) -> list[tuple]:
    """(builder, args and kwargs A, args and kwargs B): B differs from A in one input."""
    curve_a, err_a = _topk(0.05)
    curve_b, err_b = _topk(0.5)
    titles = [f"video {i}" for i in range(30)]
    scores = {"cosine": RNG.normal(size=30), "additive": RNG.normal(size=30)}
    peak = cs.peakiness_frame(peakiness_vs_dim(dims=(2, 8, 32), n_keys=8, trials=5))
    causal = np.triu(np.full((6, 6), -np.inf), k=1)
    return [
        (cr.weights_bar, ((_weights_frame(), 5), {"log": True}), ((_weights_frame(), 5), {"log": False})),
        (cr.weights_bar, ((_weights_frame(), 5), {}), ((_weights_frame(), 8), {})),
        (cc.continuum_chart, (_continuum(0.05), {}), (_continuum(0.3), {})),
        (cr.category_mix_chart, (({"pets": 0.7, "news": 0.3},), {}), (({"pets": 0.6, "news": 0.4},), {})),
        (cr.scaling_chart, ((_scaling(),), {}), ((_scaling(),), {})),
        (ck.topk_curve_chart, ((ck.topk_curve_frame(curve_a), 5), {}), ((ck.topk_curve_frame(curve_a), 9), {})),
        (ck.topk_curve_chart, ((ck.topk_curve_frame(curve_a), 5), {}), ((ck.topk_curve_frame(curve_b), 5), {})),
        (
            ck.topk_weights_chart,
            ((ck.topk_weights_frame(err_a, titles),), {}),
            ((ck.topk_weights_frame(err_b, titles),), {}),
        ),
        (csm.series_chart, ((_smoothing(3.0), 20, "σ = 3"), {}), ((_smoothing(3.0), 30, "σ = 3"), {})),
        (csm.weight_row_chart, ((_smoothing(3.0), 20), {}), ((_smoothing(12.0), 20), {})),
        (
            cs.scores_strip_chart,
            ((cs.scores_frame(scores, titles),), {}),
            ((cs.scores_frame(scores, titles, top=3),), {}),
        ),
        (cs.cost_chart, ((_cost(10.0),), {}), ((_cost(100.0),), {})),
        (cs.peakiness_chart, ((peak, "max_weight"), {}), ((peak, "entropy"), {})),
        (
            rc.history_weights_chart,
            (_history(store, 0.1), {}),
            (_history(store, 0.5), {"recency": True, "half_life": 2}),
        ),
        (rx.cross_attention_heatmap, ((_cross(store, 0.1),), {}), ((_cross(store, 0.1),), {"normalize": False})),
        (
            ct.attention_heatmap,
            ((_attention(1), TOKENS, TOKENS), {"title": "head 0"}),
            ((_attention(1), TOKENS, TOKENS), {"title": "head 0", "mask": causal}),
        ),
        (
            ct.heads_grid,
            ((_attention(2, heads=4), TOKENS, TOKENS), {"selected": 0}),
            ((_attention(2, heads=4), TOKENS, TOKENS), {"selected": 2}),
        ),
        (
            crel.relevance_heatmap,
            ((_attention(3) - 0.2, TOKENS, (1, 4)), {"title": "Q·Kᵀ", "asymmetry": 0.4}),
            ((_attention(3) - 0.2, TOKENS, (2, 4)), {"title": "Q·Kᵀ", "asymmetry": 0.4}),
        ),
        (crel.asymmetry_heads_chart, ((RNG.random((6, 12)), 0, 0), {}), ((RNG.random((6, 12)), 0, 3), {})),
        (
            ct.concat_projection_chart,
            ((RNG.normal(size=(12, 32)), RNG.normal(size=384), "she"), {}),
            ((RNG.normal(size=(12, 32)), RNG.normal(size=384), "dog"), {}),
        ),
        *_article_cases(),
    ]


#: Every public chart builder (Altair out) by module: one case each in :func:`builder_cases`.
CHART_BUILDERS = {
    "retrieval": ("category_mix_chart", "scaling_chart", "weights_bar"),
    "continuum": ("continuum_chart",),
    "topk": ("topk_curve_chart", "topk_weights_chart"),
    "smoothing": ("series_chart", "weight_row_chart"),
    "scoring": ("cost_chart", "peakiness_chart", "scores_strip_chart"),
    "recommender": ("history_weights_chart",),
    "recommender_cross": ("cross_attention_heatmap",),
    "transformer": ("attention_heatmap", "concat_projection_chart", "heads_grid"),
    "relevance": ("asymmetry_heads_chart", "relevance_heatmap"),
    "articles": ("matrix_heatmap", "mix_chart", "projection_chart", "steps_chart", "vectors_and_sum_chart"),
}


def test_every_chart_builder_passes_the_schema_and_draws_a_changed_input(tiny_store):
    """The page builders convert with ``validate=False`` (a chart's structure does not depend on its numbers):
    this is where each builder's output meets the Vega-Lite schema, for both of its inputs."""
    cases = builder_cases(tiny_store)
    covered = {(b.__module__.rsplit(".", 1)[-1], b.__name__) for b, *_ in cases}
    assert covered == {(m, n) for m, names in CHART_BUILDERS.items() for n in names}, "one case per builder"
    for build, (args_a, kw_a), (args_b, kw_b) in cases:
        name = build.__name__
        a = inline_spec(build(*args_a, **kw_a), validate=True)  # raises on a specification the schema refuses
        b = inline_spec(build(*args_b, **kw_b), validate=True)
        assert b != a, f"{name}: the changed input changes the chart"
        assert inline_spec(build(*args_a, **kw_a), validate=True) == a, f"{name}: the same input, the same chart"
        assert a["config"]["axis"]["labelFontSize"] == 15, f"{name}: projector theme kept"


def test_a_drawn_spec_is_not_changed_by_drawing_it():
    """Streamlit pops the datasets from what it is given; the renderer hands it a copy, so a cached
    specification (shared by every session) stays whole, and a second draw sends what the first sent."""
    spec = inline_spec(cr.weights_bar(_weights_frame(), 5))
    assert spec["encoding"]["color"]["title"] is None, "a null legend title: Streamlit writes a space over it"
    before = json.dumps(spec, sort_keys=True)
    blocks = (LessonChart(spec, key="a"), LessonChart(spec, key="b"))

    def page(blocks) -> None:  # no annotation: AppTest runs this source alone, without the module's imports
        from ui.components.document import draw_blocks

        draw_blocks(blocks)

    at = AppTest.from_function(page, args=(blocks,)).run()
    assert not at.exception, at.exception
    assert spec["datasets"] and json.dumps(spec, sort_keys=True) == before, "the cached spec still carries its data"
    a, b = at.get("vega_lite_chart")
    assert a.proto.spec == b.proto.spec and a.proto.datasets == b.proto.datasets
    assert len(a.proto.datasets) == len(spec["datasets"]), "the chart reached the browser with its rows"


# -- the pages: a rerun after a slider change shows what a cold run shows ---------------------------


def leaves(at: AppTest, widgets: bool = True) -> list[tuple]:
    """Every element of the page in order, by content: protos, chart specs (parsed) and their data.

    Containers are left out (a fragment adds one around its elements; it draws nothing itself).
    ``widgets=False`` keeps only a widget's id: its proto also says whether this run set its value.
    """
    out: list[tuple] = []

    def walk(node) -> None:
        children = getattr(node, "children", None)
        if isinstance(children, dict) and children:
            for k in sorted(children):
                walk(children[k])
            return
        proto = getattr(node, "proto", None)
        if proto is None:
            return
        if hasattr(proto, "spec") and hasattr(proto, "datasets"):
            out.append(("chart", json.loads(proto.spec), [(d.name, d.data.data) for d in proto.datasets]))
        elif not widgets and str(getattr(proto, "id", "")).startswith("$$ID"):
            out.append((type(node).__name__, proto.id))
        else:
            if getattr(proto, "deferred_file_id", ""):  # a download built on click: its id is per session
                proto = type(proto).FromString(proto.SerializeToString())
                proto.deferred_file_id = "deferred"
            out.append((type(node).__name__, proto.SerializeToString(deterministic=True)))

    walk(at._tree)
    return out


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300).run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def set_widget(at: AppTest, widget: str, key: str, value) -> None:
    getattr(at, widget)(key=key).set_value(value).run()
    assert not at.exception, [e.value for e in at.exception]


def view_caches() -> list:
    """Every ``functools`` cache of the page builders (:mod:`retrieval_attention.views` and its subpackages)."""
    import importlib
    import pkgutil

    import retrieval_attention.views as views

    found = []
    for info in pkgutil.walk_packages(views.__path__, "retrieval_attention.views."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", "") == info.name:
                found.append(value)
    return found


def empty_rendering_caches() -> None:
    """Every cache between a page's widgets and what it draws: the builders', the chart templates', the CSVs',
    the renderer's Arrow bytes and table cells."""
    from retrieval_attention.charts.template import TEMPLATES
    from retrieval_attention.views import topk

    caches = view_caches()
    assert len(caches) > 15, "the walk finds the builders' caches (a broken walk would empty nothing)"
    for cached in caches:
        cached.cache_clear()  # views.retrieval.chart_cache too: the next call makes a new, empty one
    with topk._CURVES_LOCK:
        topk._CURVES.clear()  # the top-k page's curves (a bounded dict, not a functools cache)
    TEMPLATES.clear()
    csv_cache().clear()
    csv_by_object().clear()
    drawn_charts().clear()
    drawn_tables().clear()


#: (page, widget, key, default value, new value): the slider targets of issue 14, the fragment, and a slider
#: of each other page whose builder caches its numbers (the model page's layer and head, the smoothing width,
#: the scoring page's peakiness measure and number of timed queries).
CHANGES = [
    ("ui/pages/retrieval.py", "slider", "k", 5, 12),
    ("ui/pages/retrieval.py", "select_slider", "temperature", 0.05, 0.3),
    ("ui/pages/retrieval.py", "toggle", "log_weights", True, False),
    ("ui/pages/lesson_topk.py", "slider", "topk_k", 5, 20),
    ("ui/pages/recommender.py", "select_slider", "rec_temperature", ra.RECOMMENDER_TEMPERATURE, 0.5),
    ("ui/pages/transformer.py", "slider", "tr_layer", 0, 3),
    ("ui/pages/transformer.py", "slider", "tr_head", 0, 5),
    ("ui/pages/lesson_smoothing.py", "select_slider", "kernel_width", 3.0, 12.0),
    ("ui/pages/lesson_smoothing.py", "slider", "step", 70, 120),
    ("ui/pages/lesson_scoring.py", "radio", "peak_metric", "max_weight", "entropy"),
    ("ui/pages/lesson_scoring.py", "select_slider", "cost_m", 10, 1),
]


#: Pages whose first visit in a process draws one more element: the scoring page trains its additive scorer.
TRAINS_ON_FIRST_VISIT = {"ui/pages/lesson_scoring.py"}


@pytest.mark.parametrize(("page", "widget", "key", "default", "value"), CHANGES, ids=[c[2] for c in CHANGES])
def test_a_rerun_after_a_change_shows_what_a_cold_run_shows(page, widget, key, default, value):
    if page in TRAINS_ON_FIRST_VISIT:
        open_page(page)  # the process's first visit trains (a progress bar, then its empty slot); later ones do not
    warm = open_page(page)
    before = leaves(warm, widgets=False)
    set_widget(warm, widget, key, value)  # builds the new setting's document
    set_widget(warm, widget, key, default)
    set_widget(warm, widget, key, value)  # served from the caches this time
    served = leaves(warm)
    assert leaves(warm, widgets=False) != before, "the change shows on the page"

    cold = open_page(page)
    empty_rendering_caches()
    set_widget(cold, widget, key, value)  # every number, chart and CSV of this setting built again
    built = leaves(cold)
    assert len(served) == len(built)
    for i, (a, b) in enumerate(zip(served, built)):
        assert a == b, f"element {i} ({a[0]}) differs between the cached rerun and the cold run"
    set_widget(cold, widget, key, default)
    assert leaves(cold, widgets=False) == before, "and back: the default setting shows what it showed first"


def test_render_caches_are_shared_across_sessions():
    """The second student to open a setting gets the first one's numbers: no new search, no new curve."""
    from retrieval_attention.views import topk

    empty_rendering_caches()
    searched = topk.searched.cache_info
    first = open_page("ui/pages/lesson_topk.py")
    misses, curves = searched().misses, len(topk._CURVES)
    assert misses > 0 and curves > 0, "the first session searched and built its curve (the test is not vacuous)"
    second = open_page("ui/pages/lesson_topk.py")
    assert searched().misses == misses, "every search of the second session came from the first one's cache"
    assert searched().hits > 0 and len(topk._CURVES) == curves, "and its curve too"
    assert leaves(second) == leaves(first), "so it shows what the first session shows"
    assert second.get("vega_lite_chart")
