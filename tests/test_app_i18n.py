"""Every page under AppTest in 中文 and Español (``?lang=zh|es``): no exception, translated headings,
a translated sidebar, and a language switch that keeps the query and the sliders."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ui.components.i18n import SWITCH_KEY

APP = str(Path(__file__).resolve().parent.parent / "app.py")

#: page -> (the Chinese title, the Spanish title): what ``?lang=`` must show first.
TITLES = {
    "ui/pages/retrieval.py": ("注意力就是软检索", "La atención es una recuperación suave"),
    "ui/pages/analogy.py": ("60 秒看懂这个类比", "La analogía en 60 segundos"),
    "ui/pages/transformer.py": ("真实 Transformer 的内部", "Dentro de un transformer real"),
    "ui/pages/recommender.py": ("目标注意力：查询就是视频", "Atención al objetivo: la consulta es el vídeo"),
    "ui/pages/lesson_topk.py": ("top-k 检索：高效的注意力", "La recuperación top-k como atención eficiente"),
    "ui/pages/lesson_smoothing.py": ("注意力即平滑", "La atención como suavizado"),
    "ui/pages/lesson_scoring.py": (
        "打分函数：查询如何与键比较",
        "Funciones de puntuación: cómo se compara una consulta con una clave",
    ),
    "ui/pages/glossary.py": ("术语表", "Glosario"),
    "ui/pages/article_walkthrough.py": ("一个 token，一步一步", "Un token, paso a paso"),
    "ui/pages/article_riley.py": ("Riley：分三部分", "Riley en tres partes"),
    "ui/pages/article_alignment.py": ("Bahdanau 注意力，以及“我爱吃苹果”的对齐", "Bahdanau, y 我爱吃苹果 alineado"),
    "ui/pages/article_projections.py": ("为什么每个词要三个向量", "Por qué tres vectores por palabra"),
}


def open_page(page: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("lang", ["zh", "es"])
@pytest.mark.parametrize("page", list(TITLES))
def test_every_page_renders_translated(page, lang):
    at = open_page(page, lang)
    want = TITLES[page][0 if lang == "zh" else 1]
    assert at.title[0].value == want
    english = {
        "Why q·k must be asymmetric: K·Kᵀ vs Q·Kᵀ",
        "Three ways to answer",
        "The continuum: one knob from lookup to average",
        "Why three vectors, not one?",
    }
    assert not english & {h.value for h in at.header}, "an English heading on a translated page"
    assert at.sidebar.radio(key=SWITCH_KEY).value == lang


def test_the_sidebar_is_translated_and_the_multilingual_encoder_is_the_default():
    at = open_page("ui/pages/retrieval.py", "zh")
    assert at.sidebar.header[0].value == "控制"
    assert at.radio(key="encoder").value == "Multilingual · multilingual-e5-small"
    assert at.radio(key="encoder").options[1] == "多语言 · multilingual-e5-small"
    assert at.slider(key="k").label == "k（top-k 搜索）"
    assert at.text_input(key="query").value == "搞笑的猫咪视频"
    es = open_page("ui/pages/retrieval.py", "es")
    assert es.text_input(key="query").value == "vídeos graciosos de gatos"
    assert es.text_input(key="query").label == "Consulta"
    assert [h.value for h in es.subheader[:3]] == ["1 · Búsqueda exacta", "2 · Búsqueda top-5", "3 · Atención suave"]
    assert "El continuo: un solo mando de la búsqueda exacta al promedio" in [h.value for h in es.header]
    assert any(m.label == "claves efectivas" for m in es.metric)


def test_switching_language_on_the_main_page_keeps_the_query_and_the_sliders():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.text_input(key="query").set_value("python").run()
    at.slider(key="k").set_value(8).run()
    at.sidebar.radio(key=SWITCH_KEY).set_value("zh").run()
    assert not at.exception, at.exception
    assert at.title[0].value == "注意力就是软检索"
    assert at.text_input(key="query").value == "python" and at.slider(key="k").value == 8
    assert at.radio(key="encoder").value == "English · all-MiniLM-L6-v2", "a chosen encoder stays chosen"


def test_the_model_page_in_spanish_starts_from_the_articles_riley_sentence():
    at = open_page("ui/pages/transformer.py", "es")
    assert at.text_input(key="tr_sentence").value.startswith("El perro de Evan, Riley")
    assert at.subheader[0].value == "Autoatención · capa 0, cabeza 0"
    assert "Por qué q·k debe ser asimétrico: K·Kᵀ frente a Q·Kᵀ" in [h.value for h in at.header]


def test_the_topk_question_and_its_reveal_in_chinese():
    at = open_page("ui/pages/lesson_topk.py", "zh")
    radio = at.radio(key="topk_guess")
    assert radio.options == ["大约 10%", "大约一半", "大约 90%", "超过 99%"]
    radio.set_value("More than 99%").run()  # the value is the fixed code; the label is translated
    assert not at.exception, at.exception
    assert any(m.value.startswith("**你的猜测：超过 99%") for m in at.markdown)


def test_the_glossary_lists_the_articles_terms_side_by_side():
    at = open_page("ui/pages/glossary.py", "es")
    table = at.table[0].value
    assert list(table.columns)[:4] == ["English", "中文", "chino tradicional (artículo 000)", "Español"]
    row = table[table["English"] == "causal mask"].iloc[0]
    assert (row["中文"], row["Español"]) == ("因果掩码", "máscara causal")


@pytest.mark.parametrize(("lang", "decimal"), [("en", None), ("es", ","), ("zh", None)])
def test_charts_write_numbers_as_the_session_does(lang, decimal):
    """The main page's and the recommender's charts carry the language's decimal sign (0,06 in Spanish)."""
    import json

    for page in ("ui/pages/retrieval.py", "ui/pages/recommender.py"):
        at = open_page(page, lang)
        specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
        assert specs, page
        found = {s.get("config", {}).get("locale", {}).get("number", {}).get("decimal") for s in specs}
        assert found == {decimal}, (page, found)
