"""Files from real spreadsheets (issue 24, family 6): Excel's tab-separated text, semicolon-separated
CSV, capitalised headers, JSON Lines with U+2028 inside a string. Each is read as what it is, or
refused with a message that names what was seen."""

from __future__ import annotations

import json

import pytest

import retrieval_attention as ra
from retrieval_attention.corpus import parse_titles
from retrieval_attention.corpus.formats import lines


def refused(raw: bytes, name: str) -> str:
    with pytest.raises(ra.CorpusError) as info:
        ra.parse_corpus(raw, name)
    return str(info.value)


# Excel "Text (Tab delimited)" and "CSV (semicolon)" saves, as the bytes it writes (CRLF, a BOM for UTF-8)
EXCEL_TAB_TXT = "\ufeffid\tTitle\tViews\r\n1\tFunny cats\t100\r\n2\tDog tricks\t7\r\n".encode()
EXCEL_SEMICOLON = "\ufeffTitle;Views;Duration_s\r\nGatos graciosos;1234;61,5\r\n".encode()


def test_a_tab_separated_txt_from_excel_is_read_as_its_table():
    c = ra.parse_corpus(EXCEL_TAB_TXT, "export.txt")
    assert c.titles == ["Funny cats", "Dog tricks"] and c.ids == ["1", "2"] and [v.views for v in c] == [100, 7]
    assert c.warnings == ()


def test_tab_separated_lines_without_a_title_column_are_refused_with_what_was_seen():
    message = refused(b"1\tFunny cats\t100\n2\tDog tricks\t7\n", "export.txt")
    assert "export.txt, line 1 holds tab-separated cells ('1', 'Funny cats', '100')" in message
    assert "'title' column" in message


def test_a_semicolon_csv_is_read_and_its_decimal_comma_refused_with_the_cause():
    ok = ra.parse_corpus(b"Title;Views\r\nGatos graciosos;1234\r\nPerros;7\r\n", "es.csv")
    assert ok.titles == ["Gatos graciosos", "Perros"] and [v.views for v in ok] == [1234, 7]
    message = refused(EXCEL_SEMICOLON, "es.csv")
    assert "line 2: duration_s must be a plain number, got '61,5' (write decimals with a point" in message


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        (b"Title,Views\nCats,3\n", "c.csv"),
        (b"TITLE,VIEWS\nCats,3\n", "c.csv"),
        (b'[{"Title": "Cats", "Views": 3}]', "c.json"),
        (b'{"Title": "Cats", " views ": 3}\n', "c.jsonl"),
        (b'"Title";"Views"\n"Cats";"3"\n', "c.csv"),
    ],
)
def test_known_fields_in_any_case_are_those_fields(raw, name):
    c = ra.parse_corpus(raw, name)
    assert c.titles == ["Cats"] and c[0].views == 3 and c.warnings == ()


def test_an_exact_field_name_wins_over_another_case_of_it():
    c = ra.parse_corpus(b"Title,title\nUpper,lower\n", "c.csv")
    assert c.titles == ["lower"]
    assert any("not used: 'Title'" in w for w in c.warnings)


def test_a_header_without_a_title_column_says_how_it_was_read():
    message = refused(b"name;views\nCats;1\n", "c.csv")
    assert message == (
        "c.csv has no 'title' column (columns found: 'name', 'views'): "
        "the header 'name;views' was read as separated by semicolons"
    )
    assert "'Titel\\tAufrufe' was read as separated by tabs" in refused(b"Titel\tAufrufe\nx\t1\n", "c.csv")


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85", "\x0c", "\x1e"])
def test_json_lines_keep_separators_that_json_allows_in_a_string(sep):
    raw = (json.dumps({"title": f"one{sep}title"}, ensure_ascii=False) + "\n" + '{"title": "two"}\r\n').encode()
    c = ra.parse_corpus(raw, "c.jsonl")
    assert c.titles == [f"one{sep}title", "two"]
    assert "line 3" in refused(raw + b"{bad\n", "c.jsonl")  # lines are counted as an editor counts them


def test_title_lines_split_only_at_line_breaks():
    assert lines("a\u2028b\r\nc\rd\n") == ["a\u2028b", "c", "d", ""]
    c = ra.parse_corpus("first\u2028half\nsecond\n".encode(), "t.txt")
    assert c.titles == ["first\u2028half", "second"]
    assert parse_titles("x\u2029y\n\n z \n", source="pasted titles").titles == ["x\u2029y", "z"]


def test_a_blank_line_before_the_header_and_a_comma_csv_still_read():
    c = ra.parse_corpus(b"\n\nid,title\n1,Cats; dogs and more\n", "c.csv")
    assert c.titles == ["Cats; dogs and more"]
