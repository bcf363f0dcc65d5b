"""The main page under Streamlit's AppTest, with the real default model over the bundled corpus."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import retrieval_attention as ra
from tests import widget_state

APP = str(Path(__file__).resolve().parent.parent / "app.py")
EXAMPLES = ["exact title", "paraphrase", "ambiguous", "中文", "español", "nonsense"]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def effective_keys(at: AppTest) -> float:
    return float(metric(at, "effective keys"))


@pytest.fixture(scope="module")
def session() -> tuple[AppTest, dict]:
    app = AppTest.from_file(APP, default_timeout=180).run()
    assert not app.exception, app.exception
    return app, widget_state.remember(app)


@pytest.fixture
def at(session) -> AppTest:
    """The module's app, with every widget back where the first run left it (any test order works)."""
    app, start = session
    return widget_state.restore(app, start)


def test_first_render_has_three_columns():
    at = AppTest.from_file(APP, default_timeout=180).run()  # a first render, not the module's shared app
    assert not at.exception, at.exception
    assert [s.value for s in at.subheader] == ["1 · Hard lookup", "2 · Top-5 search", "3 · Soft attention"]
    assert at.text_input(key="query").value == "funny cat videos"
    assert len(at.latex) >= 2, "the arithmetic is shown with st.latex"
    headers = [h.value for h in at.header]
    assert "The continuum: one knob from lookup to average" in headers
    assert at.warning[0].value.startswith("Miss"), "a paraphrase misses the dict"


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_renders_all_three_columns(at, example):
    at.button_group(key="example").set_value(example).run()
    assert not at.exception, at.exception
    assert len(at.subheader) >= 3 and at.subheader[2].value == "3 · Soft attention"
    assert len(at.table) == 1 and len(at.table[0].value) == 5, "top-5 rows"
    eff = effective_keys(at)
    assert 1.0 <= eff <= 312
    if example == "exact title":
        assert at.success[0].value.startswith("Hit")
        assert metric(at, "keys used") == "1"
    else:
        assert metric(at, "keys used") == "0"


def test_temperature_moves_weights_in_the_right_direction(at):
    at.text_input(key="query").set_value("funny cat videos").run()
    effs, held = [], []
    for t in (0.01, 0.05, 0.3, 2.0):
        at.select_slider(key="temperature").set_value(t).run()
        assert not at.exception
        effs.append(effective_keys(at))
        held.append(float(metric(at, "weight these 5 hold").rstrip("%")))
    assert effs == sorted(effs) and effs[0] < effs[-1] / 10, effs
    assert held == sorted(held, reverse=True), held


def test_k_slider_changes_the_table(at):
    at.slider(key="k").set_value(12).run()
    assert len(at.table[0].value) == 12
    assert at.subheader[1].value == "2 · Top-12 search"
    at.slider(key="k").set_value(5).run()


def test_sqrt_d_scaling_flattens_to_near_uniform(at):
    at.select_slider(key="temperature").set_value(1.0).run()
    at.radio(key="scale").set_value("÷√d, as transformers do").run()
    assert effective_keys(at) > 300
    at.radio(key="scale").set_value("none: q·k (cosine)").run()
    at.select_slider(key="temperature").set_value(0.05).run()
    assert effective_keys(at) < 40


def test_empty_query_is_a_message_not_a_traceback(at):
    at.text_input(key="query").set_value("   ").run()
    assert not at.exception
    assert any("query is empty" in i.value for i in at.info)
    at.text_input(key="query").set_value("funny cat videos").run()


def test_multilingual_encoder_switch(at):
    at.radio(key="encoder").set_value("Multilingual · multilingual-e5-small").run()
    at.text_input(key="query").set_value("股市新闻").run()
    assert not at.exception
    titles = list(at.table[0].value["title"])
    assert any("Stock" in t or "stock" in t or "Bolsa" in t or "股" in t for t in titles[:3]), titles
    at.radio(key="encoder").set_value("English · all-MiniLM-L6-v2").run()


def test_weights_download_is_offered(at):
    (dl,) = [d for d in at.get("download_button") if "CSV" in d.proto.label]  # not "Save this view (HTML)"
    assert "CSV" in dl.proto.label


def test_slider_change_is_fast(at, artifacts):
    """Slider changes re-run only the cheap maths (the model and index are cached)."""
    times = []
    for t in (0.02, 0.1, 0.03, 0.2, 0.05, 0.5, 0.075):
        t0 = time.perf_counter()
        at.select_slider(key="temperature").set_value(t).run()
        times.append(time.perf_counter() - t0)
    median = statistics.median(times)
    (artifacts / "apptest_slider_seconds.txt").write_text(f"median {median:.4f} s over {len(times)}: {times}\n")
    assert median < 2.0, f"slider re-run median {median:.3f} s"


def test_analogy_page_renders(at):
    at.switch_page("ui/pages/analogy.py").run()
    assert not at.exception
    assert at.title[0].value == "The analogy in 60 seconds"
    at.switch_page("ui/pages/retrieval.py").run()


#: The store's methods a page could call per query; counted while the real app reruns in this process.
STORE_METHODS = (
    "retrieve",
    "hard_lookup",
    "topk_search",
    "soft_attention",
    "soft_attention_from_scores",
    "scores",
    "embed_query",
    "describe_output",
)


def count_store_calls(monkeypatch) -> Counter:
    """Wrap every KeyValueStore method in STORE_METHODS with a counter (AppTest runs the page in-process)."""
    calls: Counter = Counter()
    for name in STORE_METHODS:
        real = getattr(ra.KeyValueStore, name)

        def counted(self, *args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(ra.KeyValueStore, name, counted)
    return calls


@pytest.mark.parametrize(
    ("widget", "key", "value"),
    [("text_input", "query", "a query typed for the first time"), ("select_slider", "temperature", 0.3)],
    ids=["new-query", "temperature"],
)
def test_a_rerun_asks_the_library_once(at, monkeypatch, widget, key, value):
    """One retrieve per rerun; every view (weights CSV, arithmetic, ÷√d comparison) draws from its results.
    A revisited setting asks nothing: the answer is cached per store and question."""
    from retrieval_attention.views.retrieval import settings as asked

    at.text_input(key="query").set_value("funny cat videos").run()
    at.select_slider(key="temperature").set_value(0.05).run()
    asked._asked.cache_clear()  # a setting another test visited would be answered with no retrieve at all
    calls = count_store_calls(monkeypatch)
    getattr(at, widget)(key=key).set_value(value).run()
    assert not at.exception, at.exception
    print(f"store calls in one rerun ({key} changed): {dict(calls)}")
    assert calls["retrieve"] == 1, calls
    assert calls["scores"] == calls["soft_attention"] == calls["topk_search"] == 0, calls
    assert calls["embed_query"] <= 1, calls
    at.select_slider(key="temperature").set_value(0.05).run()  # asked again: its answer was cleared above
    asked_so_far = calls["retrieve"]
    getattr(at, widget)(key=key).set_value(value).run()  # and back: a revisit
    assert not at.exception, at.exception
    assert calls["retrieve"] == asked_so_far, f"a revisit asked the store again: {calls}"
    monkeypatch.undo()
    at.text_input(key="query").set_value("funny cat videos").run()
    at.select_slider(key="temperature").set_value(0.05).run()


def test_xss_title_is_text(tmp_path, monkeypatch):
    csv = tmp_path / "xss.csv"
    csv.write_text(
        "id,title,category\nx1,<img src=x onerror=alert(1)>,web\nx2,<script>alert(1)</script>,web\n"
        "x3,**bold** [link](http://example.com) :smile: $x$,web\nx4,Funny cats,pets\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RETRIEVAL_ATTENTION_CORPUS", str(csv))
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.text_input(key="query").set_value("<img src=x onerror=alert(1)>").run()
    assert not app.exception
    assert app.success[0].value.startswith("Hit")
    shown = [m.value for m in app.markdown]
    assert any(r"\<img src=x onerror=alert\(1\)\>" in s for s in shown), "escaped, so markdown shows it literally"
    assert not any("<img" in s and "\\<img" not in s for s in shown), "never raw HTML in markdown"
    titles = list(app.table[0].value["title"])
    assert "<script>alert(1)</script>" in titles
