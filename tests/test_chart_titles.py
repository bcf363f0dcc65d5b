"""Chart titles that fit their column, and the decoder charts as wide as theirs (issue 25: nothing cut on a projector).

The browser test (tests/browser/test_projector.py) measures the drawn pages; these check the two
pieces it relies on without a browser: titles wrapped to a width in every language, and the decoder
charts handing their width to the page (no "pad" autosize, which let them run past their column).
"""

from __future__ import annotations

import numpy as np
import pytest

from retrieval_attention.charts.decoder import attention_row_chart, next_token_chart
from retrieval_attention.charts.diagram import text_width
from retrieval_attention.charts.theme import PROJECTOR_CONFIG, SUBTITLE_SIZE, WIDE_COLUMN_PX, wrapped_title
from retrieval_attention.export.specs import inline_spec
from retrieval_attention.i18n import load_translations

TITLE_SIZE = PROJECTOR_CONFIG["title"]["fontSize"]


def _lines(text) -> list[str]:
    return [text] if isinstance(text, str) else list(text)


def _kv_strings(lang: str) -> tuple[str, str]:
    """The KV-cache chart's title and subtitle as the page writes them (the one Spanish overflowed by 98 px)."""
    _ = load_translations(lang).gettext
    title = _("The query of “{token}” looks up {S} cached keys").format(token=" capital", S=12)
    subtitle = _("layer {layer}, head {head}: weights = softmax(q·k_j / √d) over the store (sum 1)").format(
        layer=15, head=0
    )
    return title, subtitle


@pytest.mark.parametrize("lang", ["en", "zh", "es"])
def test_a_title_is_wrapped_to_its_column_and_keeps_every_word(lang):
    title, subtitle = _kv_strings(lang)
    t = wrapped_title(title, subtitle, WIDE_COLUMN_PX)
    for text, size, whole in ((t.text, TITLE_SIZE, title), (t.subtitle, SUBTITLE_SIZE, subtitle)):
        lines = _lines(text)
        assert all(text_width(line, size) <= WIDE_COLUMN_PX for line in lines), lines
        assert "".join(lines).replace(" ", "") == whole.replace(" ", ""), lines  # nothing lost, nothing added
        assert all(line == line.strip() for line in lines), lines
    # the formula stays on one line, in every language
    assert any("softmax(q·k_j / √d)" in line for line in _lines(t.subtitle)), t.subtitle


def test_lines_come_out_even_and_a_short_title_stays_one_string():
    assert wrapped_title("short", "also short", WIDE_COLUMN_PX).text == "short"
    t = wrapped_title("El siguiente token: los 10 más probables", width=WIDE_COLUMN_PX)  # just over one line
    assert t.text == ["El siguiente token:", "los 10 más probables"]  # not a lone last word
    assert wrapped_title("title").to_dict() == {"text": "title"}  # no subtitle: none drawn


def test_the_decoder_charts_take_their_columns_width():
    """``inline_spec`` gives a single view "container" width and "fit-x": plot, axes and labels inside the column."""
    rng = np.random.default_rng(0)
    w = rng.random(6)
    names = {"model_name": "model", "drawn_name": "drawn", "value_title": "p", "chosen": 0}
    charts = (
        attention_row_chart(list("abcdef"), w / w.sum(), title="t", subtitle="s", value_title="weight", new=2),
        next_token_chart(["x", "y"], np.array([0.95, 0.05]), np.array([1.0, 0.0]), title="t", subtitle=["s"], **names),
    )
    for chart in charts:
        spec = inline_spec(chart)
        assert spec["width"] == "container"
        assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}


def test_a_label_past_86_percent_is_drawn_inside_its_bar_ending_at_its_end():
    chart = next_token_chart(
        ["x", "y"], np.array([0.95, 0.05]), np.array([1.0, 0.0]), title="t", subtitle="s",
        model_name="model", drawn_name="drawn", value_title="p", chosen=0,
    )  # fmt: skip
    spec = inline_spec(chart)
    texts = [layer for layer in spec["layer"] if layer["mark"]["type"] == "text"]
    inside = [t for t in texts if t["mark"]["align"] == "right"]
    outside = [t for t in texts if t["mark"]["align"] == "left"]
    assert len(inside) == len(outside) == 1
    assert inside[0]["mark"]["dx"] < 0 and inside[0]["mark"]["color"] == "white"
    assert inside[0]["encoding"]["x"]["field"] == outside[0]["encoding"]["x"]["field"] == "p"  # the real value


def test_a_recommender_panel_names_its_whole_target():
    """The A/B panels' titles were cut to ~20 characters ("A: The Only Pizza Doug…"): a projector shows the
    whole title in up to four lines of the panel's width (theme.level_lines, doctested, pads the panels'
    titles to as many lines so their plots start level)."""
    import retrieval_attention as ra
    from retrieval_attention.charts.recommender import TITLE_LINES, TITLE_PX, panel_title
    from retrieval_attention.views.recommender.settings import PANEL_WIDTHS

    width = PANEL_WIDTHS[False, True]
    for title in ra.load_corpus().titles:
        lines = panel_title("B", title, width)
        assert 1 <= len(lines) <= TITLE_LINES
        assert all(text_width(line, TITLE_PX) <= width or " " not in line for line in lines), lines
        if not lines[-1].endswith("…"):
            assert "".join(lines).replace(" ", "") == f"B:{title}".replace(" ", "")  # a CJK line breaks anywhere
    cut = [t for t in ra.load_corpus().titles if panel_title("B", t, width)[-1].endswith("…")]
    assert len(cut) <= 2, f"titles still cut over a {width} px panel: {cut}"
