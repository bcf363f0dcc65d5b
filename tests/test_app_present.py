"""Presentation mode (issue 25) in the real app under AppTest: ``?present=1`` and the sidebar toggle turn it
on for the session, charts get the larger type, explanations fold into expanders, and a saved lesson is
the same file, byte for byte, with and without it (the smoothing page and, with the real default model,
the main page)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from retrieval_attention.charts.theme import PRESENT_CONFIG, PROJECTOR_CONFIG, projector_spec
from tests.test_app_export import APP, click
from ui.components import present

SMOOTHING = "ui/pages/lesson_smoothing.py"


def open_page(page: str | None, present_param: str | None = None, lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    if present_param is not None:
        at.query_params["present"] = present_param
    at.run()
    if page is not None:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def url_flag(at: AppTest) -> str | None:
    """The URL's ``present`` value as the script wrote it (AppTest keeps a test's own values as lists)."""
    value = at.query_params.get("present")
    return value[0] if isinstance(value, list) else value


def _sizes(node: Any, in_title: bool = False) -> list[float]:
    if isinstance(node, list):
        return [x for v in node for x in _sizes(v, in_title)]
    if not isinstance(node, dict):
        return []
    own = [v for k, v in node.items() if k.endswith("FontSize") or (in_title and k == "fontSize")]
    return own + [x for k, v in node.items() if k not in ("datasets", "data") for x in _sizes(v, k == "title")]


def text_sizes(at: AppTest) -> list[float]:
    """Every title, subtitle, axis, legend and header font size of the page's charts."""
    return [x for c in at.get("vega_lite_chart") for x in _sizes(json.loads(c.proto.spec))]


def axis_sizes(at: AppTest) -> set[Any]:
    return {json.loads(c.proto.spec).get("config", {}).get("axis", {}).get("labelFontSize") for c in at.get("vega_lite_chart")}


def test_present_size_is_at_least_16_px_everywhere_and_keeps_the_rest_of_the_config():
    for entry in ("title", "axis", "legend"):
        assert all(v >= 16 for k, v in PRESENT_CONFIG[entry].items() if k.endswith("FontSize")), entry
        assert all(PRESENT_CONFIG[entry][k] > v for k, v in PROJECTOR_CONFIG[entry].items() if k.endswith("FontSize"))
    spec = {"mark": "bar", "config": {"locale": {"number": {"decimal": ","}}}}
    big = projector_spec(projector_spec(spec), "present")
    assert big["config"]["axis"]["labelFontSize"] == 18 and big["config"]["locale"] == spec["config"]["locale"]
    assert projector_spec(big)["config"]["axis"]["labelFontSize"] == 15  # sized back
    with pytest.raises(ValueError, match="unknown chart size"):
        projector_spec(spec, "huge")


def test_the_url_turns_it_on_for_the_session_with_big_charts_and_folded_prose():
    plain = open_page(SMOOTHING)
    shown = open_page(SMOOTHING, "1")
    assert plain.session_state[present.PRESENT_KEY] is False and shown.session_state[present.PRESENT_KEY] is True
    assert axis_sizes(plain) == {15} and axis_sizes(shown) == {18}
    assert min(text_sizes(plain)) < 16 <= min(text_sizes(shown))  # a builder's own 15 px subtitle too
    assert len(shown.get("vega_lite_chart")) == len(plain.get("vega_lite_chart")) >= 2
    folded = [e for e in shown.expander if e.label == "Explanation"]
    assert folded and not [e for e in plain.expander if e.label == "Explanation"]
    # the prose is all still there, one click away; the notes ("what to notice") stay out
    assert len(shown.info) == len(plain.info)
    assert set(m.value for m in plain.markdown) <= set(m.value for m in shown.markdown)
    assert shown.toggle(key=present.SWITCH_KEY).value is True
    # remembered for the session: the URL loses the parameter on a page switch, the mode stays
    del shown.query_params["present"]
    shown.switch_page("ui/pages/glossary.py").run()
    assert shown.session_state[present.PRESENT_KEY] is True and url_flag(shown) == "1"
    assert [e.label for e in shown.expander] == ["Explanation"] and len(shown.table) == 1


def test_the_toggle_turns_it_on_and_off_and_mirrors_it_into_the_url():
    at = open_page("ui/pages/glossary.py", lang="es")
    assert at.toggle(key=present.SWITCH_KEY).label == "Modo presentación"
    assert not at.expander
    at.toggle(key=present.SWITCH_KEY).set_value(True).run()
    assert url_flag(at) == "1" and [e.label for e in at.expander] == ["Explicación"]
    at.toggle(key=present.SWITCH_KEY).set_value(False).run()
    assert "present" not in at.query_params and not at.expander
    at.query_params["present"] = "0"
    at.run()
    assert at.session_state[present.PRESENT_KEY] is False


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_smoothing_lesson_is_the_same_file_with_and_without_presentation_mode(clicks, lang):
    files = []
    for flag in (None, "1"):
        clicks.clear()
        open_page(SMOOTHING, flag, lang)
        (name,) = [n for n in clicks if n.startswith("smoothing-")]
        files.append(click(clicks, name))
    assert files[0] == files[1]
    assert '"labelFontSize": 15' in files[0].replace('"labelFontSize":15', '"labelFontSize": 15')


@pytest.mark.slow
def test_the_main_pages_lesson_with_the_real_model_is_the_same_file_in_presentation_mode(clicks):
    files, sizes = [], []
    for flag in (None, "1"):
        clicks.clear()
        at = open_page(None, flag)
        sizes.append(axis_sizes(at))
        (name,) = [n for n in clicks if n.startswith("retrieval-all-MiniLM-L6-v2-")]
        files.append(click(clicks, name))
    assert sizes == [{15}, {18}]
    assert files[0] == files[1] and files[0].count("data-lesson-chart=") >= 3
