"""Formulas in a saved file and a notebook are MathML (retrieval_attention.export.mathml), never raw LaTeX.

Every formula the page builders produce today, in en, zh and es, on the real default model and the
real inspector, converts without the fallback; what a reader sees holds no backslash (the LaTeX
source lives only in ``alttext`` and the ``application/x-tex`` annotation); the numbers are the
formula's own, with the language's decimal sign; hostile text inside a formula stays text.
"""

from __future__ import annotations

import datetime
import re
from html.parser import HTMLParser

import pytest

from retrieval_attention.export.blocks import Formula, LessonSection
from retrieval_attention.export.document import Lesson, export_html
from retrieval_attention.export.mathml import formula_html, to_mathml
from retrieval_attention.inspector import load_inspector
from retrieval_attention.views import (
    AlignmentSettings,
    RetrievalSettings,
    SmoothingSettings,
    WalkthroughSettings,
    alignment_lesson,
    retrieval_document,
    smoothing_lesson,
    walkthrough_lesson,
)
from retrieval_attention.views import model as vm

LANGS = ("en", "zh", "es")
DAY = datetime.date(2026, 12, 1)
XSS = "<img src=x onerror=alert(1)>"
SCRIPT_END = "</script><script>alert(2)</script>"
#: Every Formula block the page builders write today (grep "Formula(" in retrieval_attention/views).
FORMULA_KEYS = {
    "arithmetic_formula",
    "arithmetic_table",
    "arithmetic_duration",
    "position_formula",
    "bahdanau_formula",
    "attention_formula",
    "concat_formula",
    "relevance_formula",
    "vectors_formula",
    "scale_formula",
    "sum_formula",
    "matrix_formula",
}


class _Reader(HTMLParser):
    """The start tags with their attributes, and the text a reader sees (not an annotation's)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.seen: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._hidden += tag == "annotation"

    def handle_endtag(self, tag):
        self._hidden -= tag == "annotation"

    def handle_data(self, data):
        if not self._hidden:
            self.seen.append(data)


def read(markup: str) -> _Reader:
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    return reader


@pytest.fixture(scope="module")
def formulas(store) -> list[tuple[str, str, str]]:
    """(language, key, LaTeX) of every formula of every page builder that writes one, every section on."""
    ins = load_inspector()
    out = []
    for lang in LANGS:
        docs = [
            retrieval_document(store, RetrievalSettings(k=5, temperature=0.05, lang=lang, when=DAY)),
            retrieval_document(store, RetrievalSettings(k=5, temperature=0.05, scale="sqrt_d", lang=lang, when=DAY)),
            smoothing_lesson(SmoothingSettings(lang=lang), revealed=True),
            alignment_lesson(AlignmentSettings(lang=lang)),
            vm.transformer_lesson(ins, vm.ModelSettings(lang=lang, grid=True, concat=True), when=DAY),
            vm.transformer_lesson(ins, vm.ModelSettings(lang=lang, causal=True), when=DAY),
            walkthrough_lesson(ins, WalkthroughSettings(lang=lang)),
        ]
        out += [(lang, b.key, b.latex) for d in docs for b in d.blocks() if isinstance(b, Formula)]
    return out


def test_every_builders_formula_converts_in_every_language(formulas):
    assert {key for _, key, _ in formulas} == FORMULA_KEYS, "a builder's formula is not covered here"
    assert {lang for lang, _, _ in formulas} == set(LANGS)
    for lang, key, latex in formulas:
        mathml = to_mathml(latex)
        assert mathml is not None, f"{lang} {key} fell back to its source: {latex}"
        seen = "".join(read(mathml).seen)
        assert "\\" not in seen and "{" not in seen, f"{lang} {key} shows LaTeX: {seen}"
        assert f'alttext="{latex.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")}"' in mathml
        assert formula_html(latex).startswith('<div class="formula"><math display="block"')


def test_the_arithmetic_shows_its_numbers_with_the_languages_decimal_sign(formulas):
    tables = {lang: latex for lang, key, latex in formulas if key == "arithmetic_table"}
    for lang, latex in tables.items():
        numbers = re.findall(r"\d+(?:\.\d+|\{,\}\d+)", latex)  # 0.6573 in en/zh, 0{,}6573 in es
        assert len(numbers) >= 4 * 4, latex
        mathml = to_mathml(latex)
        for number in numbers:
            assert f"<mn>{number.replace('{,}', ',')}</mn>" in mathml, (lang, number)
        assert ("{,}" in latex) == (lang == "es")
    # the table's | and \hline drawn as cell borders (MathML Core has no columnlines)
    assert to_mathml(tables["en"]).count("border-right: 1px solid") == 4 * 5, "c|c|c|c|c, five rows"
    assert to_mathml(tables["en"]).count("border-bottom: 1px solid") == 5, "one \\hline, under the header row"
    assert '<mo lspace="0em" rspace="0em">/</mo><mn>0.05</mn>' in to_mathml(tables["en"]), "… / 0.05 set tight, as KaTeX"


def test_gathered_lines_become_table_rows(formulas):
    (causal,) = {
        latex for lang, key, latex in formulas if key == "attention_formula" and "M_{ij}" in latex and lang == "en"
    }
    mathml = to_mathml(causal)
    assert mathml.count("<mtr>") == 2 and 'linebreak="newline"' not in mathml
    assert "<mtext>\u00a0if\u00a0</mtext>" in mathml
    assert '<mo>=</mo><mo lspace="0em" rspace="0em">−</mo><mi>∞</mi>' in mathml, "−∞ as KaTeX sets it, not a minus"


def test_the_saved_main_page_shows_mathml_not_latex(store):
    for lang in LANGS:
        doc = retrieval_document(store, RetrievalSettings(k=5, temperature=0.05, lang=lang, when=DAY))
        n = sum(isinstance(b, Formula) for b in doc.blocks())
        page = export_html(doc)
        assert page.count("<math ") == n == 3
        assert '<pre class="formula">' not in page
        shown = re.sub(r'alttext="[^"]*"|<annotation [^>]*>.*?</annotation>', "", page, flags=re.DOTALL)
        assert "\\frac" not in shown and "\\begin{array}" not in shown and "\\text" not in shown
        assert page.count("\\frac") == 2 * 1, "the source kept once as alttext, once as annotation"
        assert "&lt;math " in doc._repr_html_(), "the notebook's frame holds the same MathML"


HOSTILE = (
    rf"\text{{{XSS}}} = {SCRIPT_END}",  # converts: the text is an <mtext>, the rest operators
    rf"\frac{{{XSS}",  # does not convert: the escaped source
    r"\href{javascript:alert(1)}{x} + \style{background:url(http://example.com/x)}{y}",
    r'\color{red" onmouseover="alert(3)}{z}',  # an attribute value that tries to end its quotes
    r"\text{&#x3c;b&#x3e;}",  # the converter's own entity syntax: the source, as typed
)


@pytest.mark.parametrize("latex", HOSTILE)
def test_hostile_formulas_stay_text(latex):
    lesson = Lesson("t", (), (LessonSection("s", blocks=(Formula(latex, key="f"),)),))
    page = export_html(lesson)
    reader = read(page)
    body = "".join(reader.seen).replace("\u00a0", " ")  # \text{} keeps its spaces as no-break spaces
    tags = [tag for tag, _ in reader.tags]
    assert "img" not in tags and tags.count("script") == 0, tags
    for tag, attrs in reader.tags:
        assert not {"href", "onerror", "onmouseover", "onload"} & set(attrs), (tag, attrs)
        assert "style" not in attrs or tag == "mtd", (tag, attrs)  # only our table borders
    if to_mathml(latex) is None:
        assert '<pre class="formula"><code>' in page and latex in body
    else:
        assert '<math display="block" alttext="' in page
    if XSS in latex:
        assert XSS in body
    assert "&#x3c;b&#x3e;" not in latex or "&#x3c;b&#x3e;" in body, "a fallback shows the characters typed"


def test_a_formula_never_raises():
    for latex in ("", "{", "}", "\\", "^^", "\\begin{array}", "\\end{array}", "x_" * 500, "\\frac{1}{" * 200):
        html_text = formula_html(latex)
        assert html_text.startswith(('<div class="formula"><math', '<pre class="formula">'))
