"""The 12-head grid on a projector (issue 25): no text under 12 px, and a click on a panel selects its head.

Measured on the real default model's attention for article 001's sentence (14 tokens) and a long
sentence (where the token labels give way to the pattern, the tooltip and the click).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import pytest

from retrieval_attention import inspector as tr
from retrieval_attention.charts import transformer as ct
from retrieval_attention.charts.theme import projector_spec

ANIMAL = "The animal didn't cross the street because it was too tired"
LONG = "The animal didn't cross the street because it was too tired, and the road was long and wide and busy"
#: What a 1280 px wide screen leaves for the page beside the open sidebar (measured: 428 to 1190 px).
PAGE_WIDTH = 760


def font_sizes(spec: Any) -> list[float]:
    """Every explicit font size in a specification (config included)."""
    if isinstance(spec, dict):
        own = [v for k, v in spec.items() if k.lower().endswith("fontsize") and isinstance(v, (int, float))]
        return own + [s for v in spec.values() for s in font_sizes(v)]
    if isinstance(spec, list):
        return [s for v in spec for s in font_sizes(v)]
    return []


@pytest.fixture(scope="module")
def inspector() -> tr.TransformerInspector:
    return tr.load_inspector()


@pytest.mark.parametrize("sentence", [ANIMAL, LONG])
def test_no_text_in_the_grid_is_under_12_px_and_a_click_picks_a_head(inspector, sentence):
    att = inspector.layer_attention(sentence, 0)
    T = len(att.query_tokens)
    chart = ct.heads_grid(att.weights, att.query_tokens, att.key_tokens, selected=3)
    with alt.data_transformers.disable_max_rows():  # the app sends the data as Arrow, not inline
        spec = projector_spec(chart.to_dict())
    sizes = font_sizes(spec)
    assert sizes and min(sizes) >= ct.MIN_GRID_FONT == 12, sorted(set(sizes))
    cell = spec["spec"]["height"] // T
    axes = [spec["spec"]["encoding"][c]["axis"] for c in ("x", "y")]
    assert all(a["labels"] == (cell >= 12) for a in axes), (T, cell)
    if sentence == ANIMAL:
        assert T == 15 and cell == 12 and axes[0]["labels"], "article 001's sentence keeps its token labels"
    else:
        assert T > 16 and not axes[0]["labels"], "a long sentence shows the patterns, no 8 px labels"
    (param,) = [p for p in spec.get("params", []) + spec["spec"].get("params", []) if p["name"] == ct.HEAD_PICK]
    assert param["select"]["fields"] == ["order"] and param["select"]["on"] == "click"
    # three panels a row, each panel plus its row labels (7 px a Latin character at 12 px) and spacing
    label = max(len(t) for t in att.query_tokens) * 7 + 8
    assert spec["columns"] == 3 and 3 * (spec["spec"]["width"] + label) + 2 * 12 <= PAGE_WIDTH
