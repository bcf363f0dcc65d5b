"""The frame page (issue 27, section 4) through Streamlit's AppTest, in English, Chinese and Spanish:
it draws its builder's document (three Vega-Lite diagrams) and saves exactly that; and the link to it
at the top of the page of article 003."""

from __future__ import annotations

import io

import pyarrow as pa
import pytest

from retrieval_attention.views import frame as view
from tests.test_app_views import assert_file_is, assert_page_draws, html_charts, open_page, saved

PAGE = "ui/pages/frame.py"
#: lang -> (title, a word of the diagrams' labels, the first section's heading)
EXPECTED = {
    "en": ("The frame: from RNN to Transformer", "encoder", "1 · An RNN squeezes the sentence into one vector"),
    "zh": ("框架：从 RNN 到 Transformer", "编码器", "1 · RNN 把整个句子压进一个向量"),
    "es": ("El marco: de la RNN al Transformer", "codificador", "1 · Una RNN comprime la frase en un solo vector"),
}


def drawn(at) -> list[str]:
    """Each chart on the page as text: its specification and every cell of its (Arrow) datasets."""
    out = []
    for chart in at.get("vega_lite_chart"):
        frames = [pa.ipc.open_stream(io.BytesIO(ds.data.data)).read_all().to_pandas() for ds in chart.proto.datasets]
        out.append(chart.proto.spec + "".join(f.to_csv() for f in frames))
    return out


@pytest.mark.parametrize("lang", list(EXPECTED))
def test_the_frame_page_draws_its_three_diagrams_and_saves_them(lang, clicks):
    at = open_page(PAGE, lang)
    title, word, heading = EXPECTED[lang]
    lesson = view.frame_lesson(view.FrameSettings(1, lang))
    assert at.title[0].value == title == lesson.title
    assert at.header[0].value == heading
    assert [h.value for h in at.header] == [s.heading for s in lesson.sections]
    assert_page_draws(at, lesson)
    specs = drawn(at)
    assert len(specs) == 3 and all(word in s for s in specs) and all("我" in s for s in specs)
    assert not at.get("graphviz_chart")
    if lang != "en":
        assert not any("encoder (" in s or "decoder states" in s for s in specs), "an English label"
    links = [link.proto.label for link in at.get("page_link")]
    assert len(links) == 2, "to the alignment page and to the real model's three attentions"
    html = saved(clicks, "frame")
    assert_file_is(html, lesson)
    assert len(html_charts(html)) == 3


def test_choosing_a_decoder_step_redraws_the_attention_diagram_and_the_file(clicks):
    at = open_page(PAGE, "en")
    assert "c₁ = Σⱼ" in drawn(at)[1]
    at.segmented_control(key="fr_step").set_value("eating").run()
    assert not at.exception
    lesson = view.frame_lesson(view.FrameSettings(3, "en"))
    assert_page_draws(at, lesson)
    spec = drawn(at)[1]
    assert (
        all(f"h{j} → c3" in spec for j in range(1, 6)) and "→ c1" not in spec and "c₁ =" not in spec and "c₃ =" in spec
    )
    assert any("At step 3" in m.value and "α₃ⱼ" in m.value for m in at.markdown)
    assert_file_is(saved(clicks, "frame"), lesson)


@pytest.mark.parametrize("lang, label", [("en", "See first: the frame the articles assume"), ("es", "Antes: el marco")])
def test_the_article_003_page_links_to_the_frame_at_its_top(lang, label):
    at = open_page("ui/pages/transformer.py", lang)
    first = at.get("page_link")[0].proto
    assert first.label.startswith(label) and first.page.endswith("frame")
