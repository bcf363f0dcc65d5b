"""Fuzzing the corpus loader and the query path: the only exception type that may escape is the
documented one (CorpusError for files, QueryError for queries); results are never NaN.

The inputs include what issue 18 found past the checks: lone surrogates (JSON \\u escapes, bytes
that are not UTF-8), integers of thousands of digits, terminal control characters and bidi
overrides, and paths that are not regular files (named pipes, devices, folders, sockets)."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import socket
import tempfile
import threading
import unicodedata
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retrieval_attention as ra
from retrieval_attention.cli import json_text, main, render_text, terminal_text

SUFFIXES = st.sampled_from(["c.csv", "c.json", "c.jsonl", "c.ndjson", "c.txt", "c.npy", "c.xlsx", "noext"])
fuzz = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse_or_refuse(raw: bytes, name: str) -> ra.Corpus | None:
    try:
        corpus = ra.parse_corpus(raw, name)
    except ra.CorpusError as exc:
        assert str(exc), "an error always says what is wrong"
        return None
    assert len(corpus) >= 1 and len(set(corpus.ids)) == len(corpus)
    assert all(v.title.strip() for v in corpus)
    for v in corpus:  # every text field can be written as UTF-8: the tokenizer, the hash, the browser
        for text in (v.id, v.title, v.channel, v.category, v.upload_date, v.description, v.language):
            text.encode("utf-8")
        assert v.views is None or (isinstance(v.views, int) and 0 <= v.views <= ra.corpus.MAX_VIEWS)
        assert v.duration_s is None or 0 <= v.duration_s <= ra.corpus.MAX_DURATION_S
    assert len(corpus.content_hash) == 64
    for w in corpus.warnings:
        w.encode("utf-8")
        assert len(w) < 1000, "a warning stays one readable line"
    return corpus


@fuzz
@given(st.binary(max_size=400), SUFFIXES)
def test_random_bytes(raw, name):
    parse_or_refuse(raw, name)


@fuzz
@given(st.text(max_size=300), SUFFIXES)
def test_random_unicode(text, name):
    parse_or_refuse(text.encode("utf-8", "surrogatepass"), name)


#: Characters that broke something once: controls, escapes, bidi, BOM, NUL, ligatures, lone surrogates.
SPECIAL = "\x1b\x9b\x07\x7f\x85\u202e\u2066\u200f\ufeff\x00\n\r\t\ufb01\u00df\uff23\ud800\udcff\u2028"
hostile_text = st.text(st.characters(exclude_categories=()) | st.sampled_from(SPECIAL), max_size=20)
huge_digits = st.integers(1, 6000).map(lambda n: "9" * n)  # past Python's 4,300-digit int limit
cell = st.one_of(
    st.text(max_size=20),
    hostile_text,
    huge_digits,
    st.integers(-(10**20), 10**20).map(str),
    st.floats().map(str),
    st.just(""),
)


@fuzz
@given(
    st.lists(
        st.sampled_from(["id", "title", "views", "duration_s", "category", "x", "title "]), min_size=1, max_size=6
    ),
    st.lists(st.lists(cell, min_size=0, max_size=7), max_size=8),
)
def test_random_csv_tables(header, rows):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    corpus = parse_or_refuse(buf.getvalue().encode("utf-8", "surrogatepass"), "c.csv")
    if corpus is not None:
        for v in corpus:
            assert v.views is None or (isinstance(v.views, int) and v.views >= 0)
            assert v.duration_s is None or (np.isfinite(v.duration_s) and v.duration_s >= 0)


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.integers() | st.text(max_size=15),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "title", "views", "duration_s", "category", "q"]), children, max_size=5
        )
    ),
    max_leaves=20,
)


@fuzz
@given(json_values)
def test_random_json_documents(doc):
    parse_or_refuse(json.dumps(doc).encode(), "c.json")
    if isinstance(doc, list):
        parse_or_refuse("\n".join(json.dumps(d) for d in doc).encode(), "c.jsonl")


#: A record: known and unknown fields, each hostile text, a number, a huge integer or null.
record_value = st.one_of(
    hostile_text,
    st.none(),
    st.integers(-(10**6), 10**16),
    st.floats(allow_nan=False),
    huge_digits.map(lambda d: ("@huge", d)),
)


def json_with_raw_integers(doc: object) -> str:
    """json.dumps, but ("@huge", digits) pairs become bare integer literals (json.dumps cannot write them)."""
    huge: list[str] = []

    def swap(x: object) -> object:
        if isinstance(x, tuple) and x[:1] == ("@huge",):
            huge.append(x[1])
            return f"@huge{len(huge) - 1}@"
        if isinstance(x, list):
            return [swap(y) for y in x]
        if isinstance(x, dict):
            return {k: swap(v) for k, v in x.items()}
        return x

    text = json.dumps(swap(doc))  # ensure_ascii: a lone surrogate becomes a \\udXXX escape, as in a hostile file
    for i, digits in enumerate(huge):
        text = text.replace(f'"@huge{i}@"', digits)
    return text


records = st.lists(
    st.dictionaries(st.sampled_from(["id", "title", "views", "duration_s", "category", "channel", "x"]), record_value),
    max_size=6,
)


@fuzz
@given(records)
def test_random_hostile_json_records(rows):
    parse_or_refuse(json_with_raw_integers(rows).encode(), "c.json")
    parse_or_refuse("\n".join(json_with_raw_integers(r) for r in rows).encode(), "c.jsonl")
    titles = [v for r in rows for v in r.values() if isinstance(v, str)]
    try:
        ra.corpus.corpus_from_titles(titles)
    except ra.CorpusError as exc:
        assert str(exc)


# -- what reaches a terminal ----------------------------------------------------------------------

BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def terminal_safe(text: str) -> bool:
    return not any((ch != "\n" and unicodedata.category(ch) in ("Cc", "Cs")) or ch in BIDI for ch in text)


@fuzz
@given(hostile_text)
def test_terminal_text_never_lets_a_control_through(text):
    shown = terminal_text(text)
    assert terminal_safe(shown) and "\n" not in shown
    assert terminal_text(shown) == shown, "escaping twice changes nothing"
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        out = json_text({"t": text})
        assert terminal_safe(out) and json.loads(out) == {"t": text}


@settings(max_examples=40, deadline=None)
@given(st.lists(hostile_text.filter(lambda t: t.strip()), min_size=1, max_size=5), st.sampled_from([40, 80, 150]))
def test_every_layout_is_terminal_safe_for_hostile_titles(titles, width):
    from conftest import FakeEncoder

    try:
        corpus = ra.corpus.corpus_from_titles(titles)
    except ra.CorpusError:
        return
    with tempfile.TemporaryDirectory() as cache:
        store = ra.KeyValueStore.from_corpus(corpus, FakeEncoder(), cache_dir=Path(cache))
        results = store.retrieve(corpus.titles[0], k=3, temperature=0.05)
        assert terminal_safe(render_text(store, results, 3, 5, width))


@fuzz
@given(
    st.lists(hostile_text, max_size=3),
    st.text(st.characters(min_codepoint=0xDC80, max_codepoint=0xDCFF), min_size=1, max_size=3),
)
def test_an_argument_with_undecodable_bytes_is_one_line_exit_2(args, bad):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = main([*args, "cats" + bad])
    assert status == 2 and err.getvalue().count("\n") == 1 and terminal_safe(err.getvalue())


# -- paths that are not regular files -------------------------------------------------------------


def make_path(kind: str, where: str, name: str) -> str:
    path = os.path.join(where, name)
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        os.mkdir(path)
    elif kind == "device":
        os.symlink("/dev/zero", path)
    elif kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        s.close()
    elif kind == "dangling":
        os.symlink(os.path.join(where, "nowhere"), path)
    elif kind == "sparse":
        with open(path, "wb") as f:
            f.truncate(ra.corpus.MAX_CORPUS_BYTES + 1)
    else:
        Path(path).write_bytes(b"title\nCats\n" if kind == "small" else b"")
    return path


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["fifo", "folder", "device", "socket", "dangling", "sparse", "small", "empty"]),
    st.sampled_from(["c.csv", "c.json", "c.jsonl", "c.txt", "c.npy", "noext"]),
)
def test_any_kind_of_path_is_loaded_or_refused_without_hanging(kind, name):
    outcome: list[object] = []
    with tempfile.TemporaryDirectory(dir="/tmp") as where:  # short: AF_UNIX paths are limited
        path = make_path(kind, where, name)
        worker = threading.Thread(target=lambda: outcome.append(load_or_error(path)), daemon=True)
        worker.start()
        worker.join(20)
        if worker.is_alive():
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))  # unblock the reader, then fail
            raise AssertionError(f"load_corpus blocked on a {kind} named {name}")
    result = outcome[0]
    assert isinstance(result, (ra.Corpus, ra.CorpusError)), result
    if kind == "small" and name in ("c.csv", "c.txt"):
        assert isinstance(result, ra.Corpus)
    elif kind not in ("small",):
        assert isinstance(result, ra.CorpusError) and str(result)


def load_or_error(path: str) -> object:
    try:
        return ra.load_corpus(path)
    except Exception as exc:  # the test asserts it is a CorpusError
        return exc


# -- the query path -------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.text(max_size=200), hostile_text), st.floats(1e-4, 1e4), st.integers(1, 10))
def test_random_queries(tiny_store, query, t, k):
    try:
        results = tiny_store.retrieve(query, k=k, temperature=t)
    except ra.QueryError as exc:
        assert str(exc)
        return
    for res in results.values():
        assert np.isfinite(res.weights).all() and np.isfinite(res.output).all()
        total = float(res.weights.sum())
        assert total == 0.0 or abs(total - 1.0) < 1e-4
