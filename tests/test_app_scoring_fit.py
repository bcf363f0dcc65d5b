"""The scoring lesson's additive scorer is trained on the corpus (issue 27, section 5): the page says on what,
and shows how well its ranking follows the cosine, measured, in English, Chinese and Spanish."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGE = "ui/pages/lesson_scoring.py"
#: lang -> the three metrics' labels (held-out titles, random weights, this query), and a word of the account
LABELS = {
    "en": (("Spearman: held-out titles", "Spearman: random weights", "Spearman: this query"), "were held out"),
    "zh": (("Spearman：留出的标题", "Spearman：随机权重", "Spearman：这个查询"), "留出不参与训练"),
    "es": (("Spearman: títulos reservados", "Spearman: pesos aleatorios", "Spearman: esta consulta"), "se reservaron"),
}


def number(text: str, lang: str) -> float:
    return float(text.replace(",", ".") if lang == "es" else text)


@pytest.mark.parametrize("lang", list(LABELS))
def test_the_additive_scorer_is_trained_and_its_fit_is_measured(lang):
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["lang"] = lang
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    (held, random, query), account = LABELS[lang]
    metrics = {m.label: m.value for m in at.metric}
    if lang == "es":
        assert "," in metrics[held] and "." not in metrics[held], "a decimal comma in Spanish"
    assert number(metrics[held], lang) > 0.6, "on titles it never saw, it ranks keys like the cosine"
    assert number(metrics[random], lang) < 0.2, "random weights rank keys almost arbitrarily"
    assert number(metrics[query], lang) > 0.5
    prose = "\n".join(m.value for m in at.markdown)
    assert account in prose and "Adam" in prose
    assert "**" + metrics[held] + "**" in prose, "the sentence and the metric say the same number"
