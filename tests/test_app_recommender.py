"""The recommender page under Streamlit's AppTest, with the real default model over the bundled corpus.

One AppTest (one model load) is shared by the whole module; each test sets the widgets it needs.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import retrieval_attention as ra

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "ui/pages/recommender.py"
PERSONAS = ra.load_histories()


def metric(at: AppTest, label: str, slot: str = "A") -> str:
    """Target ``slot``'s metric ``label`` (A's metrics come first, then B's)."""
    return [m.value for m in at.metric if m.label == label]["AB".index(slot)]


def numbers(at: AppTest) -> pd.DataFrame:
    """The page's table of the numbers behind the bars (its cells are the text the page shows)."""
    return next(d.value for d in at.dataframe if "recency factor" in d.value.columns)


def weights(at: AppTest, slot: str = "A") -> pd.Series:
    """The weights of target ``slot`` over the history, read from the page's own table."""
    table = numbers(at)
    return table.loc[table["target"] == slot, "weight"].astype(float).reset_index(drop=True)


def reset(at: AppTest) -> AppTest:
    """Back to the first persona, softmax on, T = 0.1, no recency, two targets."""
    at.selectbox(key="rec_persona").set_value(PERSONAS[0].id)
    at.toggle(key="rec_softmax").set_value(True)
    at.toggle(key="rec_recency").set_value(False)
    at.toggle(key="rec_compare").set_value(True)
    at.run()  # the temperature is enabled again only once the softmax is back on
    at.select_slider(key="rec_temperature").set_value(ra.RECOMMENDER_TEMPERATURE).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=120).run()
    assert not app.exception, app.exception
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def test_first_render_shows_every_section(at):
    reset(at)
    headers = [h.value for h in at.header]
    for h in (
        "Same history, different targets, different weights",
        "Cross-attention: every recommendation reads the history its own way",
        "Top 10, three ways, same unseen candidates",
        "Does attention help? Leave-last-out on the bundled personas",
    ):
        assert h in headers
    assert "DIN" in at.markdown[0].value and "**Q**" in at.markdown[0].value
    a, b = at.selectbox(key="rec_target_a").value, at.selectbox(key="rec_target_b").value
    corpus = ra.load_corpus()
    assert corpus.by_id(a).category != corpus.by_id(b).category, "the default targets show two interests"
    assert weights(at, "A").sum() == pytest.approx(1.0, abs=1e-3)
    assert len(weights(at, "A")) == len(PERSONAS[0].history)
    assert any("because you watched" in str(v) for t in at.table for v in t.value.to_numpy().ravel())
    evaluation = next(t.value for t in at.table if "MRR" in t.value.columns)
    assert len(evaluation) == 3


@pytest.mark.parametrize("persona", PERSONAS, ids=[p.id for p in PERSONAS])
def test_page_renders_for_every_persona(at, persona):
    at.selectbox(key="rec_persona").set_value(persona.id).run()
    assert not at.exception, at.exception
    assert len(weights(at, "A")) == len(persona.history)
    assert len(weights(at, "B")) == len(persona.history)
    assert metric(at, "Σ weights") == metric(at, "Σ weights", "B") == "1.00"
    assert at.selectbox(key="rec_target_a").value not in persona.history, "targets are unseen videos"


def test_switching_target_changes_weights_over_the_same_history(at):
    reset(at)
    before = weights(at, "A")
    other = at.selectbox(key="rec_target_b").value
    at.selectbox(key="rec_target_a").set_value(other).run()
    assert not at.exception, at.exception
    after = weights(at, "A")
    assert len(after) == len(before), "same history"
    assert (after - before).abs().max() > 0.1, "a different target reads the history differently"
    assert after.sum() == pytest.approx(1.0, abs=1e-3)
    assert after.tolist() == pytest.approx(weights(at, "B").tolist()), "A now equals B"


def test_softmax_off_shows_unnormalised_weights(at):
    reset(at)
    at.toggle(key="rec_softmax").set_value(False).run()
    assert not at.exception, at.exception
    assert at.select_slider(key="rec_temperature").disabled, "DIN's raw weights do not use T"
    total = float(metric(at, "Σ weights"))
    assert abs(total - 1.0) > 0.05
    assert weights(at, "A").sum() == pytest.approx(total, abs=0.01)
    assert any("Softmax off" in i.value for i in at.info)
    reset(at)


def test_recency_is_its_own_factor_and_single_target_view(at):
    reset(at)
    at.toggle(key="rec_recency").set_value(True).run()
    at.select_slider(key="rec_half_life").set_value(2).run()
    assert not at.exception, at.exception
    table = numbers(at)
    decay = table.loc[table["target"] == "A", "recency factor"].astype(float).to_numpy()
    assert decay[-1] == pytest.approx(1.0) and decay[-3] == pytest.approx(0.5, abs=1e-3)
    at.toggle(key="rec_compare").set_value(False).run()
    assert not at.exception, at.exception
    assert set(numbers(at)["target"]) == {"A"}
    assert [m.label for m in at.metric] == ["top weight", "Σ weights", "score"], "one target, three numbers"
    reset(at)


def test_temperature_acts_live_and_fast(at):
    reset(at)
    tops, times = {}, []
    for t in (0.02, 1.0, 0.05, 0.3, 0.1):
        start = time.perf_counter()
        at.select_slider(key="rec_temperature").set_value(t).run()
        times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
        tops[t] = weights(at, "A").max()
    assert tops[0.02] > tops[0.1] > tops[1.0], "lower T, sharper weights"
    median = statistics.median(times)
    print(f"temperature change: median {median:.3f} s over {len(times)} reruns")
    assert median < 3.0


def test_custom_history_empty_and_edited(at):
    reset(at)
    at.selectbox(key="rec_persona").set_value("__custom__").run()
    assert not at.exception, at.exception
    box = at.multiselect(key="rec_custom")
    assert list(box.value) == list(PERSONAS[0].history), "starts from the history that was on screen"
    box.set_value([]).run()
    assert not at.exception, at.exception
    assert any("empty" in i.value for i in at.info)
    at.multiselect(key="rec_custom").set_value(["v270", "v028"]).run()  # a cat video, a pizza video
    assert not at.exception, at.exception
    assert len(weights(at, "A")) == 2
    at.multiselect(key="rec_custom").set_value([])
    reset(at)
