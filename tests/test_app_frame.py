"""The frame page (issue 27, section 4) through Streamlit's AppTest, in English, Chinese and Spanish,
and the link to it at the top of the pages of articles 001 and 003."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "ui/pages/frame.py"
#: lang -> (title, a word of the diagrams' labels, the first section's heading)
EXPECTED = {
    "en": ("The frame: from RNN to Transformer", "encoder", "1 · An RNN squeezes the sentence into one vector"),
    "zh": ("框架：从 RNN 到 Transformer", "编码器", "1 · RNN 把整个句子压进一个向量"),
    "es": ("El marco: de la RNN al Transformer", "codificador", "1 · Una RNN comprime la frase en un solo vector"),
}


def open_page(page: str, lang: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def diagrams(at: AppTest) -> list[str]:
    return [chart.proto.spec for chart in at.get("graphviz_chart")]


@pytest.mark.parametrize("lang", list(EXPECTED))
def test_the_frame_page_draws_three_diagrams_in_the_sessions_language(lang):
    at = open_page(PAGE, lang)
    title, word, heading = EXPECTED[lang]
    assert at.title[0].value == title
    assert at.header[0].value == heading
    dots = diagrams(at)
    assert len(dots) == 3 and all(word in dot for dot in dots)
    assert all("我" in dot for dot in dots) and "apples" in dots[0]
    if lang != "en":
        assert not any("encoder (" in dot or "decoder states" in dot for dot in dots), "an English label"
    links = [link.proto.label for link in at.get("page_link")]
    assert len(links) == 2, "to the alignment page and to the real model's three attentions"


def test_choosing_a_decoder_step_redraws_the_attention_diagram():
    at = open_page(PAGE, "en")
    assert "h1 -> c1" in diagrams(at)[1]
    at.segmented_control(key="fr_step").set_value("eating").run()
    assert not at.exception
    dot = diagrams(at)[1]
    assert all(f"h{j} -> c3" in dot for j in range(1, 6)) and "c1" not in dot
    assert any("At step 3" in m.value and "α₃ⱼ" in m.value for m in at.markdown)


@pytest.mark.parametrize("lang, label", [("en", "See first: the frame the articles assume"), ("es", "Antes: el marco")])
def test_the_article_003_page_links_to_the_frame_at_its_top(lang, label):
    at = open_page("ui/pages/transformer.py", lang)
    first = at.get("page_link")[0].proto
    assert first.label.startswith(label) and first.page.endswith("frame")
