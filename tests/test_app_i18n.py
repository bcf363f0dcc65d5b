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
    "ui/pages/retrieval.py": ("注意力就是软检索", "Atención: recuperación suave"),
    "ui/pages/analogy.py": ("60 秒看懂这个类比", "La analogía en 60 segundos"),
    "ui/pages/transformer.py": ("真实 Transformer 的内部", "Dentro de un transformer real"),
    "ui/pages/recommender.py": ("目标注意力（DIN）", "Atención al objetivo (DIN)"),
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


# -- the language is read once per script run, and every run reads it again --------------------------


def _fragment_page() -> None:
    """A switch, a title, a fragment that records the language it translated with, and a button whose
    callback translates, changes the language and reruns the fragment alone (``st.rerun("part")``)."""
    import streamlit as st
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    from ui.components.i18n import LANG_KEY, QUERY_PARAM, _, current_lang, language_switch

    language_switch()
    st.title(_("Three retrievals"))
    seen = st.session_state.setdefault("seen", [])

    @st.fragment(key="part")
    def part() -> None:
        alone = bool(get_script_run_ctx().fragment_ids_this_run)  # a fragment rerun: nothing else runs
        seen.append((alone, current_lang(), _("Language")))
        st.header(_("Language"))

    part()

    def chinese_then_the_fragment() -> None:
        seen.append(("callback", current_lang()))  # this run has its language before the change
        st.session_state[LANG_KEY] = "zh"
        st.query_params[QUERY_PARAM] = "zh"
        st.rerun("part")

    st.button("zh", key="then", on_click=chinese_then_the_fragment)


def _tr(lang: str, message: str) -> str:
    from retrieval_attention import i18n
    from ui.components.i18n import UI_DOMAIN, UI_LOCALES

    out = i18n.load_translations(lang, UI_LOCALES, UI_DOMAIN).gettext(message)
    assert lang == "en" or out != message, f"{message!r} has no {lang} translation: pick another string"
    return out


def test_a_switch_a_url_change_and_a_fragment_rerun_each_translate_in_the_new_language():
    at = AppTest.from_function(_fragment_page, default_timeout=60)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception, at.exception

    def shows(lang: str, alone: bool = False) -> None:
        assert not at.exception, at.exception
        assert at.session_state["seen"][-1] == (alone, lang, _tr(lang, "Language"))
        assert at.header[0].value == _tr(lang, "Language")
        assert at.title[0].value == _tr(lang, "Three retrievals")

    shows("zh")
    at.sidebar.radio(key=SWITCH_KEY).set_value("es").run()  # the switch, mid-session
    shows("es")
    at.query_params["lang"] = "en"  # an edited link, same session
    at.run()
    shows("en")
    runs = len(at.session_state["seen"])
    at.button(key="then").click().run()  # the callback reads English, switches, reruns the fragment alone
    assert not at.exception, at.exception
    assert at.session_state["seen"][runs:] == [("callback", "en"), (True, "zh", _tr("zh", "Language"))]
    assert at.header[0].value == _tr("zh", "Language"), "the fragment redrew itself in Chinese"


def test_a_rerun_reads_the_language_once_however_many_strings_it_translates(monkeypatch):
    """The main page after a k change in Chinese: hundreds of ``_()`` calls, one session and one URL lookup."""
    import gettext

    from streamlit.runtime.state.query_params_proxy import QueryParamsProxy
    from streamlit.runtime.state.session_state_proxy import SessionStateProxy

    from ui.components.i18n import LANG_KEY, QUERY_PARAM

    at = open_page("ui/pages/retrieval.py", "zh")
    reads: list[str] = []
    translated: list[str] = []

    def counting(cls, method, log, key=None):
        real = getattr(cls, method)

        def wrapper(self, *args, **kwargs):
            if key is None or (args and args[0] == key):
                log.append(args[0] if args else "")
            return real(self, *args, **kwargs)

        monkeypatch.setattr(cls, method, wrapper)

    counting(SessionStateProxy, "__getitem__", reads, LANG_KEY)
    counting(QueryParamsProxy, "__getitem__", reads, QUERY_PARAM)
    counting(gettext.GNUTranslations, "gettext", translated)
    at.slider(key="k").set_value(8).run()
    assert not at.exception, at.exception
    assert at.slider(key="k").label == "k（top-k 搜索）", "still in Chinese"
    assert len(translated) >= 100, f"the page translated only {len(translated)} strings: the count means nothing"
    assert sorted(reads) == sorted([LANG_KEY, QUERY_PARAM]), (
        f"{len(translated)} translations read the session's language {reads.count(LANG_KEY)} times "
        f"and the URL's {reads.count(QUERY_PARAM)} times"
    )


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_a_remembered_number_is_the_one_babel_writes(lang, monkeypatch):
    """The formatted-number memo never answers for a look-alike: 1, 1.0, int64, float32, 0.0 and -0.0, NaN."""
    import numpy as np

    from retrieval_attention import i18n
    from ui.components import i18n as ui_i18n

    monkeypatch.setattr(ui_i18n, "current_lang", lambda: lang)
    values = [
        1,
        1.0,
        np.int64(1),
        np.float32(0.1),
        np.float64(0.1),
        0.1,
        -0.0,
        0.0,
        float("nan"),
        1234.5,
        206_600,
        -0.004,
    ]
    for _round in range(2):  # the second round is answered from the memo
        for how, decimals in (("fmt_number", None), ("fmt_number", 2), ("fmt_percent", 0), ("fmt_compact", 1)):
            for v in values:
                got = getattr(ui_i18n, how)(v, decimals) if decimals is not None else ui_i18n.fmt_number(v)
                assert got == getattr(i18n, how)(v, lang, decimals), (how, v, decimals)


def _navigation_page() -> None:
    import streamlit as st

    from ui.components.navigation import pages

    a, b = pages(), pages()
    st.session_state["groups"] = list(a)
    st.session_state["titles"] = [p.title for items in a.values() for p in items]
    st.session_state["same_titles"] = st.session_state["titles"] == [p.title for items in b.values() for p in items]
    st.session_state["shared"] = [x is y for ga, gb in zip(a.values(), b.values(), strict=True) for x, y in zip(ga, gb)]


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_the_navigation_is_made_once_per_language_and_each_run_gets_its_own_pages(lang: str) -> None:
    """The page objects are kept per language; every call hands out copies (st.navigation marks the one
    it returns as callable, and its run clears the mark: two sessions sharing one object would race)."""
    at = AppTest.from_function(_navigation_page, default_timeout=60)
    at.query_params["lang"] = lang
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["groups"][0] == _tr(lang, "Retrieval")
    assert at.session_state["titles"][0] == _tr(lang, "Three retrievals") and len(at.session_state["titles"]) == 17
    assert at.session_state["same_titles"] and not any(at.session_state["shared"])
