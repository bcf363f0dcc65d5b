"""The recommender page draws retrieval_attention.views.recommender's document, and saves that same document.

Under AppTest with the real default model: the page's texts, metrics, tables and charts are the
builder's for the page's widget values, and "Save this view (HTML)" writes the builder's document
(the button's own callable, run as a click runs it): as the page opens, after widget changes that
rerun the page, and after a rerun of the evaluation's fragment alone.
"""

from __future__ import annotations

import json

import pytest

import retrieval_attention as ra
from retrieval_attention.views import RecommenderSettings, target_attention_lesson
from retrieval_attention.views import recommender as view
from tests.test_app_export import fragment_rerun
from tests.test_app_views import app_store, assert_file_is, assert_page_draws, html_charts, open_page, saved

PAGE = "ui/pages/recommender.py"


def page_settings(at, lang: str = "en", live: bool = False) -> RecommenderSettings:
    """What the page's widgets say, as the builder's settings."""
    personas = {p.id: p for p in ra.load_histories(lang=lang)}
    p = personas[at.selectbox(key="rec_persona").value]
    compare = at.toggle(key="rec_compare").value
    targets = (at.selectbox(key="rec_target_a").value,)
    if compare:
        targets += (at.selectbox(key="rec_target_b").value,)
    return RecommenderSettings(
        history=p.history,
        targets=targets,
        temperature=float(at.select_slider(key="rec_temperature").value),
        normalize=at.toggle(key="rec_softmax").value,
        half_life=float(at.select_slider(key="rec_half_life").value) if at.toggle(key="rec_recency").value else None,
        who=p.name,
        about=p.description,
        live=live,
        lang=lang,
    )


def lesson_of(at, store: ra.KeyValueStore, lang: str = "en", live: bool = False):
    return target_attention_lesson(
        store, page_settings(at, lang, live), ra.load_histories(corpus=store.corpus, lang=lang)
    )


@pytest.fixture
def store() -> ra.KeyValueStore:
    """The page's own store: the default model over the server's corpus, from the app's cache (the same object)."""
    return app_store()


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_page_draws_its_document_and_saves_it(lang, clicks, store):
    at = open_page(PAGE, lang)
    if lang == "es":  # the Spanish page opens on the multilingual encoder: compare on the default one
        at.radio(key="rec_encoder").set_value(at.radio(key="rec_encoder").options[0]).run()
        assert not at.exception, at.exception
    lesson = lesson_of(at, store, lang)
    assert at.title[0].value == lesson.title
    assert_page_draws(at, lesson)
    assert [h.value for h in at.main.header] == [s.heading for s in lesson.sections]
    assert [m.value for m in at.metric] == [m.value for b in lesson.blocks() if b.kind == "metrics" for m in b.items]
    assert_file_is(saved(clicks, "recommender-all-MiniLM-L6-v2"), lesson)


def test_after_widget_changes_and_a_fragment_rerun_the_file_is_the_page(clicks, store):
    at = open_page(PAGE)
    personas = ra.load_histories()
    at.selectbox(key="rec_persona").set_value(personas[3].id).run()
    at.select_slider(key="rec_temperature").set_value(0.3)
    at.toggle(key="rec_recency").set_value(True).run()
    at.select_slider(key="rec_half_life").set_value(2).run()
    assert not at.exception, at.exception
    b = at.selectbox(key="rec_target_b").value
    at.selectbox(key="rec_target_a").set_value(b).run()  # A and B now read the history the same way
    assert not at.exception, at.exception
    lesson = lesson_of(at, store)
    assert page_settings(at).history == personas[3].history and page_settings(at).targets == (b, b)
    assert_page_draws(at, lesson)
    metrics = [m.value for m in at.metric]
    assert metrics[:3] == metrics[3:], "the same target twice: the same three numbers"
    html = saved(clicks, "recommender-all-MiniLM-L6-v2")
    assert_file_is(html, lesson)
    assert "× recency (h = 2)" in json.dumps(html_charts(html)[0], ensure_ascii=False)

    at.toggle(key="rec_compare").set_value(False).run()  # one target
    lesson = lesson_of(at, store)
    assert_page_draws(at, lesson)
    assert len(at.metric) == 3
    assert_file_is(saved(clicks, "recommender-all-MiniLM-L6-v2"), lesson)

    charts, before = len(at.get("vega_lite_chart")), page_settings(at, live=True)
    at.toggle(key="rec_eval_live").set_value(True)
    fragment_rerun(at, "evaluation_part")  # only the evaluation reruns: AppTest's tree then holds only its elements
    assert not at.get("vega_lite_chart") and charts == 2, "the fragment drew no chart; the page's two stay"
    lesson = target_attention_lesson(store, before, ra.load_histories(corpus=store.corpus))
    (said,) = [b.text for b in lesson.section("evaluation").blocks if b.key == "evaluation_settings"]
    assert said.startswith("Settings: softmax, T = 0.3, half-life 2;"), said
    assert said in [c.value for c in at.caption]
    assert_file_is(saved(clicks, "recommender-all-MiniLM-L6-v2"), lesson)


def test_the_leave_last_out_tables_are_the_evaluations(store):
    """The page's last static table is hit rate and MRR per method; the per-persona ranks are its last dataframe."""
    at = open_page(PAGE)
    section = view.evaluation_section(store, page_settings(at), ra.load_histories(corpus=store.corpus))
    scores, ranks = [b for b in section.blocks if b.kind == "table"]
    shown = at.table[-1].value
    assert tuple(shown.columns) == scores.columns
    assert [tuple(r) for r in shown.itertuples(index=False)] == [tuple(str(v) for v in r) for r in scores.rows]
    per_persona = at.dataframe[-1].value
    assert tuple(per_persona.columns) == ranks.columns and len(per_persona) == len(ranks.rows) == 10
