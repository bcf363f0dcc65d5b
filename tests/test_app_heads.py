"""AppTest of the head grid on the "Inside a transformer" page: every head named by its measured pattern,
and article 001's "it" -> "animal" found by measurement, in en / 中文 / Español, with the real model.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from retrieval_attention import i18n
from retrieval_attention import inspector as tr

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "ui/pages/transformer.py"
ANIMAL = "The animal didn't cross the street because it was too tired"
SPANISH = "El perro de Evan, Riley, es tan hiperactivo, nunca deja de moverse"
#: How each language writes "layer 5, head 11" in the pointer sentence, and a decimal.
LAYER_HEAD = {"en": "layer {l}, head {h}", "zh": "第 {l} 层的头 {h}", "es": "la capa {l}, cabeza {h}"}


def open_grid(lang: str, sentence: str = ANIMAL) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["lang"] = lang
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    at.text_input(key="tr_sentence").set_value(sentence)
    at.toggle(key="tr_grid").set_value(True).run()
    assert not at.exception, at.exception
    return at


def grid_frame(at: AppTest) -> pd.DataFrame:
    """The data of the drawn heads grid (the chart whose rows carry a panel title)."""
    for chart in at.get("vega_lite_chart"):
        for ds in chart.proto.datasets:
            frame = pa.ipc.open_stream(io.BytesIO(ds.data.data)).read_all().to_pandas()
            if "panel" in frame.columns:
                return frame
        spec = json.loads(chart.proto.spec)
        for values in spec.get("datasets", {}).values():
            frame = pd.DataFrame(values)
            if "panel" in frame.columns:
                return frame
    raise AssertionError("no heads grid drawn")


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _select(at: AppTest, prefix: str):
    (box,) = [s for s in at.selectbox if str(s.key).startswith(prefix)]
    return box


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_every_head_is_named_by_its_measured_pattern(lang: str) -> None:
    at = open_grid(lang)
    frame = grid_frame(at).drop_duplicates("order").sort_values("order")
    assert len(frame) == 12
    ins = tr.load_inspector()
    measured = tr.head_patterns(ins.layer_attention(ANIMAL, 0).weights, ins.special_mask(ANIMAL))
    labels = i18n.translated(tr.PATTERN_LABELS, lang)
    for (_, row), p in zip(frame.iterrows(), measured):
        expected = labels[p.name] + ("" if p.score is None else " " + i18n.fmt_number(p.score, lang, 2))
        assert row["name"] == expected
        assert row["panel"].endswith("\n" + expected)  # the name is the panel title's second line
    assert measured[2].name == "previous"
    assert frame.iloc[2]["name"] == labels["previous"] + " " + i18n.fmt_number(1.0, lang, 2)
    if lang != "en":
        assert labels["previous"] != "previous" and labels["broad"] != "broad"
    legend = [c.value for c in at.caption if "[CLS]/[SEP]" in c.value]
    assert legend and labels["broad"] in legend[0], "the caption explains every name, in the page's language"


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_the_pronoun_head_is_found_and_one_click_away(lang: str) -> None:
    at = open_grid(lang)
    query, key = _select(at, "tr_link_query_"), _select(at, "tr_link_key_")
    tokens = tr.load_inspector().tokens(ANIMAL)
    assert tokens[query.value] == "it" and tokens[key.value] == "animal"
    text = _markdown(at)
    first, second = LAYER_HEAD[lang].format(l=5, h=11), LAYER_HEAD[lang].format(l=3, h=1)
    assert "“it” → “animal”" in text and first in text and second in text
    for value in (0.65, 0.64, 0.04):
        assert f"**{i18n.fmt_number(value, lang, 2)}**" in text
    assert text.index(first) < text.index(second), "the strongest head first"
    at.button(key="tr_jump_5_11").click().run()
    assert not at.exception, at.exception
    assert (at.slider(key="tr_layer").value, at.slider(key="tr_head").value) == (5, 11)
    assert at.button(key="tr_jump_5_11").disabled and not at.button(key="tr_jump_3_1").disabled
    assert f"**{i18n.fmt_number(0.04, lang, 2)}**" not in _markdown(at), "the shown head is now the pronoun head"
    frame = grid_frame(at).drop_duplicates("order").sort_values("order")
    assert len(frame) == 12 and "◀" in frame.iloc[11]["panel"]  # layer 5's grid, head 11 selected


def test_another_key_and_a_sentence_without_a_pronoun() -> None:
    at = open_grid("en")
    tokens = tr.load_inspector().tokens(ANIMAL)
    _select(at, "tr_link_key_").set_value(tokens.index("street")).run()
    assert not at.exception, at.exception
    assert "“it” → “street”" in _markdown(at)
    assert not [c for c in at.caption if "found by measurement" in c.value], "street was picked, not measured"
    at.text_input(key="tr_sentence").set_value(SPANISH).run()
    assert not at.exception, at.exception
    spanish = tr.load_inspector().tokens(SPANISH)
    assert spanish[_select(at, "tr_link_query_").value] == spanish[-2]  # no pronoun: the last word asks
    assert "→" in _markdown(at)
