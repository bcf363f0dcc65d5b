"""A lesson as one offline HTML file (retrieval_attention.export): escaping, JSON blocks, file names, saving,
and the lessons built from the library's results (real default model), checked against brute force.

The document tests build lessons by hand; the builder tests use the session's real store. The CLI's
``--html`` is tested in tests/test_cli_html.py, the file in a real browser in
tests/browser/test_export_offline.py.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.errors import InvalidParameterError, RetrievalAttentionError
from retrieval_attention.export import Lesson, LessonChart, LessonSection, LessonTable, export_html, save_html
from retrieval_attention.export.document import CONTENT_SECURITY_POLICY, format_cell
from retrieval_attention.export.files import lesson_filename

XSS = "<img src=x onerror=alert(1)>"
SCRIPT_END = "</script><script>alert(1)</script>"

#: Every element and attribute the renderer itself writes; anything else came from user text.
TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "dl", "dt", "dd", "section", "h2", "p",
    "table", "caption", "thead", "tbody", "tr", "th", "td", "figure", "figcaption", "script", "div", "footer",
}  # fmt: skip
ATTRS = {"lang", "charset", "http-equiv", "content", "name", "class", "scope", "role", "aria-label", "type", "id"}
ATTRS |= {"data-lesson-chart"}


class Parsed(HTMLParser):
    """Every start tag with its attributes, every text node, and each <script>'s text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self.tables: list[list[list[str]]] = []  # table -> rows -> cell texts (header row included)
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)
        else:
            self.text.append(data)
            if self._cell is not None:
                self._cell.append(data)

    def json_blocks(self) -> list[object]:
        return [
            json.loads(t) for a, t in self.scripts if a.get("type") == "application/json" and "data-lesson-chart" in a
        ]


def _spec(title: str = "weights", label: str = "a") -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.4.1.json",
        "title": title,
        "data": {"values": [{"k": label, "w": 0.25}, {"k": "b & c > d", "w": 0.75}, {"k": "\u2028 \u2029", "w": 0}]},
        "mark": "bar",
        "encoding": {"x": {"field": "k", "type": "nominal"}, "y": {"field": "w", "type": "quantitative"}},
    }


def hostile_lesson() -> tuple[Lesson, list[dict]]:
    specs = [_spec(XSS, SCRIPT_END), _spec(SCRIPT_END, XSS)]
    lesson = Lesson(
        title=XSS,
        facts=(("Query", XSS), ("Corpus", SCRIPT_END), (XSS, "k")),
        sections=(
            LessonSection(
                heading=XSS,
                paragraphs=(f"The query {XSS} and {SCRIPT_END}", "line one\nline two"),
                tables=(LessonTable(("title", XSS), ((XSS, 0.123456), (SCRIPT_END, 2)), caption=XSS),),
                charts=(LessonChart(specs[0], XSS), LessonChart(specs[1], '" onmouseover="alert(1)')),
            ),
        ),
        lang='en" onload="alert(1)',
        footer=XSS,
    )
    return lesson, specs


@pytest.fixture(scope="module")
def hostile_html() -> str:
    return export_html(hostile_lesson()[0])


def test_user_text_creates_no_element_and_no_attribute(hostile_html):
    doc = Parsed(hostile_html)
    tags = {tag for tag, _attrs in doc.tags}
    assert tags <= TAGS and "img" not in tags, tags - TAGS
    for tag, attrs in doc.tags:
        assert set(attrs) <= ATTRS, (tag, attrs)
    # the only attributes holding user text hold all of it, as one value
    labels = [a["aria-label"] for t, a in doc.tags if "aria-label" in a]
    assert labels == [XSS, '" onmouseover="alert(1)']
    assert [a["lang"] for t, a in doc.tags if t == "html"] == ['en" onload="alert(1)']
    # 2 chart blocks, the number locale and the JavaScript: the "</script>" in the data ended none of them
    assert len(doc.scripts) == 4
    text = "".join(doc.text)
    # <title>, <h1>, a fact's label and value, <h2>, a paragraph, caption, header, cell, footer (no
    # figcaption: the chart draws that same title itself)
    assert text.count(XSS) == 10
    assert '" onmouseover="alert(1)' in text  # the second chart's caption
    assert SCRIPT_END in text


def test_user_text_shows_literally(hostile_html):
    doc = Parsed(hostile_html)
    assert [t for t, _a in doc.tags].count("title") == 1 and doc.text[doc.text.index(XSS) - 1].strip() == ""
    assert "&lt;img src=x onerror=alert(1)&gt;" in hostile_html
    assert XSS not in hostile_html and "</script><script>alert(1)" not in hostile_html


def test_json_blocks_parse_back_to_the_exact_specs(hostile_html):
    _lesson, specs = hostile_lesson()
    assert Parsed(hostile_html).json_blocks() == specs
    for ch in ("\u2028", "\u2029"):
        assert ch not in hostile_html.split("<script>", 1)[0]  # escaped in every JSON block


def test_number_signs_reach_tables_and_charts():
    table = LessonTable(("x",), ((1234.5678,), (7,), (12345,), ("1.5",)), decimals=2)
    lesson = Lesson("t", (), (LessonSection("s", tables=(table,), charts=(LessonChart(_spec()),)),), "es", ",", ".")
    doc = Parsed(export_html(lesson))
    cells = [t.strip() for t in doc.text if t.strip()]
    assert cells[-4:] == ["1.234,57", "7", "12.345", "1.5"]
    (locale,) = [json.loads(t) for a, t in doc.scripts if a.get("id") == "lesson-number-locale"]
    assert locale == {"decimal": ",", "thousands": "."}
    assert [a.get("class") for t, a in doc.tags if t == "td"] == ["num", "num", "num", None]


def test_decimals_per_column():
    table = LessonTable(("a", "b", "c"), ((0.5, 0.123456, "x"),), decimals=(1, 4, 0))
    doc = Parsed(export_html(Lesson("t", (), (LessonSection("s", tables=(table,)),))))
    assert [t for t in doc.text if t.strip()][-3:] == ["0.5", "0.1235", "x"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.5, "0.500"), (-0.0001, "0.000"), (1e6, "1,000,000.000"), (3, "3"), (float("nan"), "NaN"), (True, "True")],
)
def test_format_cell(value, expected):
    assert format_cell(value) == expected


def test_the_document_is_self_contained_and_forbids_requests(hostile_html):
    assert hostile_html.startswith("<!DOCTYPE html>")
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    (csp,) = [a["content"] for t, a in Parsed(hostile_html).tags if a.get("http-equiv") == "Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "vegaEmbed" in hostile_html or "vega-embed" in hostile_html
    assert "@media print" in hostile_html
    head = hostile_html.split("</head>")[0]
    for fetchable in ("<link", "@import", "url(", "refresh"):
        assert fetchable not in head, fetchable


def test_a_lesson_without_charts_carries_no_javascript():
    doc = export_html(Lesson("t", (("a", "b"),), (LessonSection("s", ("p",)),)))
    assert "<script" not in doc and len(doc) < 10_000


def test_a_spec_json_cannot_carry_is_refused():
    bad = Lesson("t", (), (LessonSection("s", charts=(LessonChart({"data": {"values": [{"w": float("nan")}]}}),)),))
    with pytest.raises(InvalidParameterError, match="NaN"):
        export_html(bad)
    odd = Lesson("t", (), (LessonSection("s", charts=(LessonChart({"data": object()}),)),))
    with pytest.raises(InvalidParameterError, match="object"):
        export_html(odd)


# -- file names ----------------------------------------------------------------------------------------------

DAY = datetime.date(2026, 12, 1)


def test_lesson_filename_names_page_model_corpus_and_date():
    name = lesson_filename("retrieval", "all-MiniLM-L6-v2", "videos", datetime.datetime(2026, 12, 1, 23, 59))
    assert name == "retrieval-all-MiniLM-L6-v2-videos-2026-12-01.html"
    assert lesson_filename("model", "/home/me/models/e5 small/", "/data/my videos.jsonl", DAY) == (
        "model-e5-small-my-videos-2026-12-01.html"
    )


@pytest.mark.parametrize(
    "part",
    ["../../etc/passwd", "..", ".hidden", "a\\b\\..\\c", "视频", "Café ñandú", "x" * 5000, "\x00\n\t", "", "con:aux*?"],
)
def test_lesson_filename_is_always_one_safe_name(part):
    for args in ((part, "m", "c"), ("p", part, "c"), ("p", "m", part)):
        name = lesson_filename(*args, DAY)
        assert all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in name), name
        assert "/" not in name and "\\" not in name and ".." not in name and not name.startswith(".")
        assert name.endswith("-2026-12-01.html") and len(name) <= 180
        assert Path(name).name == name


def test_lesson_filename_keeps_distinct_unicode_names_apart():
    assert lesson_filename("p", "m", "视频", DAY) != lesson_filename("p", "m", "新闻", DAY)
    assert "Cafe-nandu" in lesson_filename("p", "m", "Café ñandú", DAY)
    assert "passwd" in lesson_filename("p", "m", "../../etc/passwd", DAY)


# -- saving --------------------------------------------------------------------------------------------------


def test_save_html_writes_utf8(tmp_path):
    lesson = Lesson("猫 " + XSS, (("查询", "猫"),), (LessonSection("一", ("二",)),), lang="zh")
    out = save_html(lesson, tmp_path / "lesson.html")
    assert out == tmp_path / "lesson.html"
    assert out.read_bytes().decode("utf-8") == export_html(lesson)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.html"]


def test_save_html_gives_the_file_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    out = save_html(Lesson("t", (), ()), tmp_path / "new.html")
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # not the temporary file's 0600
    out.chmod(0o640)
    save_html(Lesson("t2", (), ()), out)
    assert out.stat().st_mode & 0o777 == 0o640  # an existing file keeps its mode


def test_save_html_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "lesson.html"
    target.write_text("old", encoding="utf-8")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", broken)
    with pytest.raises(InvalidParameterError, match="No space left"):
        save_html(Lesson("t", (), ()), target)
    monkeypatch.undo()
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.html"]  # no temporary file left


def test_save_html_refuses_a_folder_or_a_missing_folder(tmp_path):
    with pytest.raises(InvalidParameterError, match="is a folder"):
        save_html(Lesson("t", (), ()), tmp_path)
    with pytest.raises(RetrievalAttentionError, match="does not exist"):
        save_html(Lesson("t", (), ()), tmp_path / "missing" / "lesson.html")
    assert not (tmp_path / "missing").exists()


# -- the lessons from the library's results (real default model) ------------------------------------------

QUERY = "funny cat videos"


def _softmax(x: np.ndarray) -> np.ndarray:
    z = np.exp(x - x.max())
    return z / z.sum()


def _num(cell: str) -> float:
    return float(cell.replace(",", ""))


@pytest.fixture(scope="module")
def retrieval_doc(store) -> Parsed:
    lesson = ra.retrieval_lesson(store, QUERY, k=5, temperature=0.05, when=DAY)
    return Parsed(export_html(lesson))


def test_retrieval_lesson_numbers_equal_brute_force(store, retrieval_doc):
    """The file's top-k table is numpy's own q·k and softmax over the kept keys, to the printed decimals."""
    q = store.encoder.encode_queries([QUERY])[0].astype(np.float64)  # (d,)
    s = store.K.astype(np.float64) @ q  # (n,) q·k of every key
    w = _softmax(s / 0.05)  # (n,) soft attention
    order = np.argsort(-s, kind="stable")
    top5 = order[:5]
    w_top = _softmax(s[top5] / 0.05)  # top-k attention: the softmax over the 5 kept keys
    titles = [v.title for v in store.corpus.videos]
    (topk_table,) = retrieval_doc.tables  # the miss has no table; the page's one table
    assert topk_table[0] == ["title", "q·k", "weight"] and len(topk_table) == 6  # nearest first
    for row, i, wi in zip(topk_table[1:], top5, w_top):
        assert row[0] == titles[i]
        assert abs(_num(row[1]) - s[i]) <= 0.5e-3 + 1e-6, (row, s[i])
        assert abs(_num(row[2].rstrip("%")) / 100 - wi) <= 0.5e-3 + 1e-6, (row, wi)
    kept = float(w[top5].sum())
    text = " ".join(retrieval_doc.text)
    assert f"{round(100 * kept)}%" in text and f"{100 * (1 - kept):.1f}% of the full softmax weight" in text


def test_retrieval_lesson_facts_and_text(store, retrieval_doc):
    text = " ".join(retrieval_doc.text)
    for fact in ("Model", "all-MiniLM-L6-v2", "Corpus", "bundled videos", "Date", "2026-12-01", QUERY, "0.05"):
        assert fact in text
    assert "Miss: no key equals the query." in text, "the page's wording"
    assert "Made with retrieval_attention" in text
    assert [a["lang"] for t, a in retrieval_doc.tags if t == "html"] == ["en"]


def test_lesson_charts_are_themed_with_inline_data(retrieval_doc):
    from retrieval_attention.charts.theme import FONT

    specs = retrieval_doc.json_blocks()
    assert len(specs) == 5  # two output mixes, every key's weight, the continuum, ÷√d vs cosine
    for spec in specs:
        assert spec["config"]["font"] == FONT and spec["config"]["axis"]["labelFontSize"] == 15
        assert spec["datasets"] and "url" not in json.dumps(spec)  # the data travels inside the file
    weights = next(iter(specs[1]["datasets"].values()))
    assert len(weights) == 312 and abs(sum(r["weight"] for r in weights) - 1) < 1e-4


def test_a_spanish_lesson_writes_spanish_numbers(store):
    lesson = ra.retrieval_lesson(store, QUERY, lang="es", when=DAY)
    assert (lesson.lang, lesson.decimal, lesson.thousands) == ("es", ",", ".")
    doc = Parsed(export_html(lesson))
    assert doc.tables[0][0] == ["título", "q·k", "peso"]
    assert all("," in row[1] and "." not in row[1] for row in doc.tables[0][1:])  # 0,657
    for spec in doc.json_blocks():
        assert spec["config"]["locale"]["number"]["decimal"] == ","
    assert "1 · Búsqueda exacta" in doc.text


def test_a_hit_is_a_one_key_lookup(store):
    title = store.corpus.videos[0].title
    lesson = ra.retrieval_lesson(store, title, when=DAY)
    hard = {b.key: b for b in lesson.blocks() if b.key.startswith("hard_")}
    assert hard["hard_result"].style == "success" and hard["hard_result"].text.startswith("Hit")
    assert [m.value for m in hard["hard_used"].items] == ["1"]
    assert title.split()[0] in hard["hard_title"].text


def test_recommender_lesson_numbers_equal_brute_force(store):
    history, target = ["v270", "v010", "v028", "v252"], "v252"  # the target is in the history: masked
    lesson = ra.recommender_lesson(store, history, target, compare_to="v010", temperature=0.1, when=DAY)
    doc = Parsed(export_html(lesson))
    pos = {v.id: i for i, v in enumerate(store.corpus.videos)}
    table = doc.tables[0]  # the numbers behind the bars: target A's rows, then target B's
    assert len(table) == 1 + 2 * len(history)
    for slot, tid in (("A", target), ("B", "v010")):
        k = store.K.astype(np.float64)
        s = k[[pos[h] for h in history]] @ k[pos[tid]]  # (H,) q·k_h, q = the target's key
        keep = np.array([h != tid for h in history])
        w = np.zeros(len(history))
        w[keep] = _softmax(s[keep] / 0.1)
        rows = [row for row in table[1:] if row[0] == slot]
        assert len(rows) == len(history)
        for row, sh, wh, h in zip(rows, s, w, history):
            assert abs(_num(row[3]) - sh) <= 0.5e-4 + 1e-6 and abs(_num(row[6]) - wh) <= 0.5e-4 + 1e-6
            assert ("masked" in row[2]) == (h == tid)
    assert len(doc.json_blocks()) == 2 and "hconcat" in doc.json_blocks()[0]


def test_model_lesson_is_the_inspectors_head(store):
    """The model page's document in a file: its heat map's cells are the inspector's weights of that head."""
    from retrieval_attention.inspector import load_inspector

    sentence = "The animal didn't cross the street because it was too tired"
    lesson = ra.model_lesson(sentence, layer=3, head=7, relevance=False, when=DAY)
    att = load_inspector().layer_attention(sentence, 3)
    W = att.weights[7]  # (T, T)
    doc = Parsed(export_html(lesson))
    assert doc.tables == []
    (spec,) = doc.json_blocks()
    cells = next(iter(spec["datasets"].values()))
    assert len(cells) == W.size
    assert max(abs(c["weight"] - float(W[c["q"], c["k"]])) for c in cells) < 1e-6
    assert [c["query"] for c in cells if c["k"] == 0] == list(att.query_tokens)


def test_bad_input_to_a_builder_is_a_library_error(store):
    with pytest.raises(ra.QueryError):
        ra.retrieval_lesson(store, "   ")
    with pytest.raises(ra.InvalidParameterError):
        ra.retrieval_lesson(store, QUERY, k=0)
    with pytest.raises(ra.RecommenderError):
        ra.recommender_lesson(store, ["nope"], "v010")
    with pytest.raises(ra.InvalidParameterError):
        ra.model_lesson("the cat", head=12)
    with pytest.raises(ra.QueryError):
        ra.model_lesson("x" * 401)


def test_importing_the_package_loads_no_renderer():
    """``import retrieval_attention`` stays quick: vl_convert, Altair and Babel load when a lesson is built."""
    code = "import sys, retrieval_attention; print(sorted(m for m in ('vl_convert', 'altair', 'babel') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


def test_a_chart_title_drawn_in_lines_is_not_written_again_as_a_caption():
    """The main page's column charts draw their titles in lines (Chinese with no space between them)."""
    spec = {"mark": "bar", "title": ["每个键的权重", "（排序后）"], "data": {"values": [{"x": 1}]}, "encoding": {}}
    same = LessonChart(spec, "每个键的权重（排序后）")
    other = LessonChart({**spec, "title": ["Output:", "category mix"]}, "Something else")
    html = export_html(Lesson("t", (), (LessonSection("s", charts=(same, other)),), "zh"))
    assert html.count("<figcaption>") == 1 and "<figcaption>Something else</figcaption>" in html
