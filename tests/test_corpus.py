"""Corpus and history loading: the bundled data, and every bad file gets a specific error."""

from __future__ import annotations

import json
from collections import Counter

import pytest

import retrieval_attention as ra
from retrieval_attention.corpus import FIELDS

HEADER = ",".join(FIELDS)


def parse(text: str | bytes, name: str = "c.csv") -> ra.Corpus:
    return ra.parse_corpus(text.encode() if isinstance(text, str) else text, name)


# -- the bundled corpus ------------------------------------------------------------------------


def test_bundled_corpus_is_as_the_data_card_says(corpus):
    assert len(corpus) >= 250
    assert 10 <= len(corpus.categories) <= 15
    counts = Counter(v.category for v in corpus)
    assert min(counts.values()) >= 8, counts
    langs = Counter(v.language for v in corpus)
    assert langs["zh"] >= 5 and langs["es"] >= 5, langs
    assert len({ra.normalize_key(v.title) for v in corpus}) == len(corpus), "titles must be distinct keys"
    for v in corpus:
        assert v.title and v.channel and v.description and v.upload_date
        assert v.duration_s and v.duration_s > 0 and v.views is not None and v.views > 0
    assert corpus.warnings == ()


def test_bundled_corpus_has_the_lesson_features(corpus):
    titles = " ".join(corpus.titles).lower()
    for word in ("python", "apple", "bass"):
        cats = {v.category for v in corpus if word in v.title.lower()}
        assert len(cats) >= 2, f"{word!r} should be ambiguous across categories, found {cats}"
    assert "attention" in titles


def test_bundled_histories(corpus):
    personas = ra.load_histories(corpus=corpus)
    assert len(personas) >= 6
    for p in personas:
        assert 8 <= len(p.history) <= 30, p.id
        assert len(set(p.history)) == len(p.history)
        assert list(p.watched_at) == sorted(p.watched_at) and len(p.watched_at) == len(p.history)


def test_content_hash_changes_with_any_field(tiny_corpus):
    edited = parse("id,title,views\na1,Funny cats compilation,1\n")
    again = parse("id,title,views\na1,Funny cats compilation,2\n")
    assert edited.content_hash != again.content_hash
    assert tiny_corpus.content_hash == parse(tiny_corpus_csv()).content_hash


def test_content_hash_is_computed_once_per_corpus(corpus, monkeypatch):
    """The cache identity of a corpus: the bundled one's sha256 is built once, then read (pages ask on every run)."""
    import hashlib

    first = corpus.content_hash
    monkeypatch.setattr(hashlib, "sha256", lambda *a: pytest.fail("hashed again"))
    assert corpus.content_hash is first
    monkeypatch.undo()
    fresh = ra.Corpus(corpus.videos, source="pasted")
    assert fresh.content_hash == first, "the records, not the source, name the corpus"


def tiny_corpus_csv() -> str:
    from conftest import TINY_CSV

    return TINY_CSV


# -- formats -------------------------------------------------------------------------------------


def test_minimal_csv_only_titles_and_bom():
    c = parse("\ufefftitle\nCats\nDogs\n".encode())
    assert c.titles == ["Cats", "Dogs"] and c.ids == ["row1", "row2"]
    assert c.categories == ["uncategorised"]
    assert not c.has_numeric("views")


def test_json_and_jsonl_give_the_same_corpus():
    recs = [{"id": "x", "title": "Cats", "views": 10}, {"id": "y", "title": "Dogs", "category": "pets"}]
    a = parse(json.dumps(recs), "c.json")
    b = parse("\n".join(json.dumps(r) for r in recs), "c.jsonl")
    c = parse(json.dumps({"videos": recs}), "c.json")
    assert a.videos == b.videos == c.videos
    assert a[0].views == 10 and a[1].views is None


def test_empty_titles_are_dropped_with_a_count():
    c = parse("id,title\n1,Cats\n2,   \n3,\n4,Dogs\n")
    assert c.ids == ["1", "4"]
    assert "2 record(s) with an empty title were dropped" in c.warnings[0]


def test_long_title_is_kept_with_a_warning():
    c = parse("title\n" + "cat " * 20_000 + "\n")
    assert len(c) == 1 and "the model reads only its first" in c.warnings[0]


# -- bad files: one specific message each --------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("", "c.csv", "is empty"),
        ("   \n\n", "c.csv", "is empty"),
        ("", "c.json", "is empty"),
        ("", "c.jsonl", "is empty"),
        ("name,views\nCats,1\n", "c.csv", "no 'title' column (columns found: 'name', 'views')"),
        ("title\n", "c.csv", "header but no records"),
        ("id,title\n1,Cats\n1,Dogs\n", "c.csv", "duplicate ids: '1'"),
        ("id,title,title\n1,a,b\n", "c.csv", "duplicate column names in the header: 'title'"),
        ("id,title,views\n1,Cats, big,10\n", "c.csv", "line 2: 4 fields but the header has 3"),
        ("id,title\n1,\n2,  \n", "c.csv", "every one of its 2 records has an empty title"),
        ("id,title,views\n1,Cats,many\n", "c.csv", "views must be a number, got 'many'"),
        ("id,title,views\n1,Cats,-5\n", "c.csv", "finite number >= 0"),
        ('[{"title": "a", "title": "b"}]', "c.json", "duplicate field names in one JSON object: 'title'"),
        ('[{"title": "a", "views": NaN}]', "c.json", "NaN"),
        ('[{"title": "a"', "c.json", "invalid JSON"),
        ('{"title": "a"}\nnot json\n', "c.jsonl", "line 2: invalid JSON"),
        ("[1, 2]", "c.json", "record 1: expected an object"),
        ("title\ncats\n", "c.xlsx", "unknown format '.xlsx'"),
        ("x", "vectors.npy", "refused"),
        ("x", "model.pkl", "refused"),
        ("x", "index.faiss", "refused"),
    ],
)
def test_bad_corpus_files_get_specific_errors(content, name, message):
    with pytest.raises(ra.CorpusError) as info:
        parse(content, name)
    assert message in str(info.value)


def test_not_utf8_names_the_byte_and_line():
    raw = "id,title\n1,Caf\u00e9 au lait\n".encode("latin-1")
    with pytest.raises(ra.CorpusError, match=r"not UTF-8: byte 0xe9 at line 2, column 6"):
        parse(raw)


def test_binary_file_is_refused():
    with pytest.raises(ra.CorpusError, match="NUL"):
        parse(b"title\nab\x00cd\n")


def test_load_corpus_from_path(tmp_path):
    p = tmp_path / "mine.csv"
    p.write_text("title,category\nLecture 1: vectors,maths\n", encoding="utf-8")
    c = ra.load_corpus(p)
    assert c.titles == ["Lecture 1: vectors"] and c.source == str(p)
    with pytest.raises(ra.CorpusError, match="not found"):
        ra.load_corpus(tmp_path / "missing.csv")
    with pytest.raises(ra.CorpusError, match="limit is 10"):
        ra.load_corpus(p, max_bytes=10)
    bad = tmp_path / "evil.npy"
    bad.write_bytes(b"\x93NUMPY")
    with pytest.raises(ra.CorpusError, match="refused"):
        ra.load_corpus(bad)


def test_max_rows():
    with pytest.raises(ra.CorpusError, match="limit is 2"):
        ra.parse_corpus(b"title\na\nb\nc\n", "c.csv", max_rows=2)


def test_histories_errors(tmp_path, tiny_corpus):
    p = tmp_path / "h.json"
    p.write_text(json.dumps({"personas": [{"id": "u", "history": ["a1", "zz"]}]}))
    with pytest.raises(ra.CorpusError, match="unknown video ids"):
        ra.load_histories(p, corpus=tiny_corpus)
    p.write_text(json.dumps({"personas": [{"id": "u", "history": ["a1", "a1"]}]}))
    with pytest.raises(ra.CorpusError, match="twice"):
        ra.load_histories(p)
    p.write_text("{}")
    with pytest.raises(ra.CorpusError, match="personas"):
        ra.load_histories(p)


@pytest.mark.parametrize(
    ("raw", "key"),
    [("  Learn   PYTHON\tin One Hour ", "learn python in one hour"), ("ＣＡＴＳ", "cats"), ("Straße", "strasse")],
)
def test_normalize_key(raw, key):
    assert ra.normalize_key(raw) == key
