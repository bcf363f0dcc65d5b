"""Bring your own corpus in the app (AppTest, real model): every bad file has its own message and
the previous corpus stays; uploads stay in their own session; hostile queries never raise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")
GOOD = b"id,title,category,views\nl1,Linear algebra review,maths,10\nl2,Backpropagation by hand,ml,20\nl3,Attention and transformers,ml,30\n"


def plain(markdown: str) -> str:
    """The text a reader sees: markdown escapes removed."""
    return markdown.replace("\\", "")


def caption_keys(at: AppTest) -> str:
    return next(plain(c.value) for c in at.caption if " keys from " in c.value)


def upload(at: AppTest, name: str, raw: bytes) -> AppTest:
    at.file_uploader(key="own_file").set_value((name, raw, "text/plain")).run()
    assert not at.exception, at.exception
    return at


def sidebar_errors(at: AppTest) -> list[str]:
    return [plain(e.value) for e in at.sidebar.error]


@pytest.fixture(scope="module")
def at() -> AppTest:
    app = AppTest.from_file(APP, default_timeout=180).run()
    assert not app.exception
    upload(app, "lectures.csv", GOOD)
    return app


def test_upload_replaces_the_corpus_for_this_session_only(at):
    assert "3 keys from lectures.csv" in caption_keys(at)
    at.text_input(key="query").set_value("what is self-attention").run()
    assert at.table[0].value["title"].iloc[0] == "Attention and transformers"
    other = AppTest.from_file(APP, default_timeout=180).run()  # a second tab
    assert "312 keys from bundled videos" in caption_keys(other)


BAD_FILES = [
    ("empty.csv", b"", "is empty"),
    ("nocol.csv", b"name,views\nCats,1\n", "no 'title' column (columns found: 'name', 'views')"),
    ("dupcols.csv", b"title,title\na,b\n", "duplicate column names"),
    ("ragged.csv", b"id,title,views\n1,Cats, big,10\n", "line 2: 4 fields but the header has 3"),
    ("dupids.csv", b"id,title\n1,a\n1,b\n", "duplicate ids"),
    ("blank.csv", b"id,title\n1,\n2, \n", "empty title"),
    ("latin1.csv", "id,title\n1,Caf\u00e9\n".encode("latin-1"), "not UTF-8: byte 0xe9 at line 2"),
    ("dupkeys.json", b'[{"title": "a", "title": "b"}]', "duplicate field names"),
    ("nan.json", b'[{"title": "a", "views": NaN}]', "NaN"),
    ("big.csv", b"title\n" + b"x" * (6 * 1024 * 1024), "the limit is 5 MB"),
    ("vectors.npy", b"\x93NUMPY\x01\x00", ".npy files are refused"),
    ("index.faiss", b"IxFl", ".faiss files are refused"),
    ("model.pkl", b"\x80\x04K\x01.", ".pkl files are refused"),
]


@pytest.mark.parametrize(("name", "raw", "message"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_file_gets_its_message_and_keeps_the_previous_corpus(at, name, raw, message):
    upload(at, name, raw)
    errors = sidebar_errors(at)
    assert errors and message in errors[0], errors
    assert "Nothing was changed: still using lectures.csv" in errors[0]
    assert "3 keys from lectures.csv" in caption_keys(at)


def test_bom_and_long_title_are_accepted(at):
    upload(at, "bom.csv", "\ufefftitle\nOne\n".encode() + b"Two " * 13_000 + b"\n")
    ok = [plain(s.value) for s in at.sidebar.success]
    assert ok and "2 keys" in ok[0] and "the model reads only its first" in ok[0]
    upload(at, "lectures.csv", GOOD)


def test_pasted_titles(at):
    at.text_area(key="own_paste").set_value("Intro to vectors\n\n  \nMatrix multiplication\n").run()
    at.button(key="own_use_paste").click().run()
    assert "2 keys from pasted titles" in caption_keys(at)
    at.button(key="own_reset").click().run()
    assert "312 keys from bundled videos" in caption_keys(at)
    upload(at, "lectures2.csv", GOOD)


@pytest.mark.parametrize(
    "query",
    ["", "   ", "\x00\x07\x1b", "x" * 50_000, "مرحبا بالعالم", "🐱🎸🍕", "עברית ו-English", "a\u202eb"],
    ids=["empty", "spaces", "control", "50kB", "rtl", "emoji", "mixed-rtl", "bidi-override"],
)
def test_hostile_queries_give_a_message_or_a_result(at, query):
    at.text_input(key="query").set_value(query).run()
    assert not at.exception, at.exception
    shown = [i.value for i in at.info] + [s.value for s in at.subheader]
    assert any("query" in s for s in shown) or "3 · Soft attention" in shown


def test_missing_model_is_one_line_in_the_app(at):
    """Said under the box, in one line; the page goes on with the radio's encoder and the upload."""
    at.text_input(key="custom_model").set_value("/nonexistent/model-folder").run()
    assert not at.exception
    errors = sidebar_errors(at)
    assert errors and "This model cannot be used" in errors[0] and "/nonexistent/model-folder" in errors[0]
    assert "\n" not in errors[0] and not at.main.error
    assert "3 keys from lectures" in caption_keys(at), "the session keeps its upload"
    at.text_input(key="custom_model").set_value("").run()
    assert not at.error


def test_json_upload_with_numeric_fields(at):
    rows = [{"id": f"j{i}", "title": t, "duration_s": 60 * (i + 1)} for i, t in enumerate(["Cats", "Dogs", "Birds"])]
    upload(at, "pets.json", json.dumps(rows).encode())
    assert "3 keys from pets.json" in caption_keys(at)
    assert any(m.label == "weighted duration" for m in at.metric)
