"""The page builders (retrieval_attention.views): no Streamlit, real numbers, every text in the page's language."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from retrieval_attention.core.smoothing import gaussian_smoothing_attention, rmse
from retrieval_attention.export import export_html
from retrieval_attention.views import smoothing as sm

CJK = re.compile(r"[\u4e00-\u9fff]")


def _texts(lesson) -> list[str]:
    out = [lesson.title, *(b.text for b in lesson.intro)]
    for s in lesson.sections:
        out.append(s.heading)
        for b in s.content():
            if b.kind == "text":
                out.append(b.text)
            elif b.kind == "metrics":
                out += [m.label for m in b.items]
    return out


def test_smoothing_sections_have_stable_keys_and_the_librarys_numbers():
    settings = sm.SmoothingSettings(step=70, sigma=3.0, window=9, width=0.3)
    lesson = sm.smoothing_lesson(settings, revealed=True)
    assert [s.key for s in lesson.sections] == ["position", "wide", "content"]
    keys = [b.key for s in lesson.sections for b in s.content()]
    assert len(keys) == len(set(keys)) and all(keys), keys
    s = sm.series()
    ys, _W = gaussian_smoothing_attention(s.t, s.y, 3.0)
    metrics = next(b for b in lesson.section("position").blocks if b.kind == "metrics")
    assert metrics.items[1].value == f"{rmse(ys, s.signal):.3f}"  # the smoothed series' error, recomputed here
    assert float(metrics.items[3].value) < 1e-10  # the live check: attention equals the NW formula
    # a new σ is a new document, not a stale cache
    other = sm.position_section(sm.SmoothingSettings(step=70, sigma=16.0))
    assert next(b for b in other.blocks if b.kind == "metrics").items[1].value != metrics.items[1].value


@pytest.mark.parametrize("lang", ["zh", "es"])
def test_smoothing_speaks_the_page_language_in_texts_and_charts(lang):
    lesson = sm.smoothing_lesson(sm.SmoothingSettings(lang=lang), revealed=True)
    english = sm.smoothing_lesson(sm.SmoothingSettings(lang="en"), revealed=True)
    for ours, theirs in zip(_texts(lesson), _texts(english)):
        assert (ours and ours != theirs) or not re.search("[A-Za-z]{4}", theirs), (ours, theirs)
        if lang == "zh":
            assert CJK.search(ours), ours
    for chart in lesson.charts():
        spec = json.dumps(chart.spec, ensure_ascii=False)
        for word in ("time step t", "grey dots", "The weight row", '"clean signal"'):
            assert word not in spec, f"{word!r} left in English in {chart.key}"
    legend = {"zh": "干净信号", "es": "limpia"}[lang]  # the clean signal's name in the legend
    assert any(legend in json.dumps(c.spec, ensure_ascii=False) for c in lesson.charts())
    if lang == "es":
        assert "0,3" in json.dumps(lesson.facts, ensure_ascii=False)  # σ = 0.3 with a decimal comma


def test_smoothing_refuses_settings_outside_the_series():
    from retrieval_attention.errors import InvalidParameterError

    for bad in (dict(step=200), dict(step=-1), dict(sigma=0.0), dict(window=0), dict(width=float("nan"))):
        with pytest.raises(InvalidParameterError):
            sm.smoothing_lesson(sm.SmoothingSettings(**bad))


def test_the_saved_file_holds_exactly_the_documents_charts_and_a_notebook_shows_them():
    lesson = sm.smoothing_lesson(sm.SmoothingSettings(sigma=6.0), revealed=False)
    page = export_html(lesson)
    assert page.count('data-lesson-chart="') == len(lesson.charts()) == 4
    assert "Reveal" not in page, "the unrevealed answer is not in the file"
    frame = lesson._repr_html_()
    assert frame.startswith("<iframe") and "srcdoc=" in frame
    assert frame.count("data-lesson-chart=&quot;") == 4  # the file, escaped into the frame
    assert "Gaussian smoothing, σ = 6" in page and np.isfinite(len(page))
