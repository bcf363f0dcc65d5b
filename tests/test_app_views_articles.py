"""The article and lesson pages drawn from their builders, under AppTest with the real app and model.

After widget changes, each page shows the document its builder returns for those values (every
text, chart and table), and "Save this view (HTML)" writes that same document.
"""

from __future__ import annotations

from tests.test_app_views import app_store, assert_file_is, assert_page_draws, html_charts, open_page, saved

WALK = "ui/pages/article_walkthrough.py"


def test_the_walkthrough_page_draws_its_document_and_saves_it_after_a_change(clicks):
    from retrieval_attention.inspector import load_inspector
    from retrieval_attention.views import WalkthroughSettings, walkthrough_lesson

    ins = load_inspector()
    at = open_page(WALK, "es")
    assert_page_draws(at, walkthrough_lesson(ins, WalkthroughSettings(token=1, lang="es"), ins.name))
    at.number_input(key="aw_calc_s1").set_value(100.0)
    at.toggle(key="aw_calc_three").set_value(True)
    at.slider(key="aw_layer").set_value(3)
    at.toggle(key="aw_words").set_value(True)
    at.toggle(key="aw_hide_special").set_value(True).run()
    assert not at.exception, at.exception
    changed = WalkthroughSettings(
        (112.0, 100.0, 100.0), 64, ((1.0, 0.0, 2.0), (0.0, 3.0, 1.0), (2.0, 2.0, 0.0)), "Thinking Machines",
        3, 0, 1, True, True, "es",
    )  # fmt: skip
    lesson = walkthrough_lesson(ins, changed, ins.name)
    assert_page_draws(at, lesson)
    assert [h.value for h in at.header] == [s.heading for s in lesson.sections]
    assert list(at.table[0].value.iloc[:, 1]) == ["112", "100", "100", ""], "the boxes' scores, then Σ"
    html = saved(clicks, "walkthrough")
    assert_file_is(html, lesson)
    assert len(html_charts(html)) == len(at.get("vega_lite_chart")) == 7


SCORING = "ui/pages/lesson_scoring.py"


def test_the_scoring_page_draws_its_document_and_saves_it_after_a_change(clicks):
    """The timings and the trained scorer are measured inputs (taken from the session); the rest is rebuilt here."""
    from retrieval_attention.views import ScoringSettings, scoring_lesson

    at = open_page(SCORING, "es")
    at.text_input(key="scoring_query").set_value("recetas de cocina").run()
    at.select_slider(key="cost_m").set_value(100).run()
    at.radio(key="peak_metric").set_value("entropy").run()
    assert not at.exception, at.exception
    drawn = at.session_state["scoring_drawn"]
    settings = ScoringSettings("recetas de cocina", "corpus", 100, "entropy", "es")
    assert drawn["settings"] == settings and drawn["cost"].m == 100
    lesson = scoring_lesson(app_store(), drawn["fit"], settings, cost=drawn["cost"])
    assert_page_draws(at, lesson)
    assert [m.value for m in at.metric] == [m.value for b in lesson.blocks() if b.kind == "metrics" for m in b.items]
    html = saved(clicks, "scoring")
    assert_file_is(html, lesson)
    assert len(html_charts(html)) == len(at.get("vega_lite_chart")) == 3


RILEY = "ui/pages/article_riley.py"


def test_the_riley_page_draws_its_document_and_saves_it_after_a_change(clicks):
    from retrieval_attention.articles import RILEY_ES
    from retrieval_attention.inspector import load_inspector
    from retrieval_attention.views import RileySettings, riley_lesson
    from retrieval_attention.views.riley import parts

    ins = load_inspector()
    at = open_page(RILEY, "es")
    assert_page_draws(at, riley_lesson(ins, RileySettings(RILEY_ES, 2, 4, lang="es"), ins.name))
    at.slider(key="ar_layer").set_value(3)
    at.toggle(key="ar_words").set_value(False).run()
    r = parts(ins, RILEY_ES, 3, 4, False)
    (a_key,) = [w.key for w in at.selectbox if w.key.startswith("ar_a_")]
    (b_key,) = [w.key for w in at.selectbox if w.key.startswith("ar_b_")]
    at.selectbox(key=a_key).set_value(r.index("evan"))
    at.selectbox(key=b_key).set_value(r.index("riley"))
    at.select_slider(key="ar_ratio").set_value(0.4).run()
    assert not at.exception, at.exception
    settings = RileySettings(RILEY_ES, 3, 4, False, r.index("evan"), r.index("riley"), 0.4, "es")
    lesson = riley_lesson(ins, settings, ins.name)
    assert dict(lesson.facts)["Palabra a (atiende)"] == "evan"
    assert_page_draws(at, lesson)
    assert [m.value for m in at.metric] == [m.value for b in lesson.blocks() if b.kind == "metrics" for m in b.items]
    assert [t.label for t in at.tabs] == [s.heading for s in lesson.sections[1:]]
    html = saved(clicks, "riley")
    assert_file_is(html, lesson)
    assert len(html_charts(html)) == len(at.get("vega_lite_chart")) == 11
