"""Fuzzing the corpus loader and the query path: the only exception type that may escape is the
documented one (CorpusError for files, QueryError for queries); results are never NaN."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import retrieval_attention as ra

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
    return corpus


@fuzz
@given(st.binary(max_size=400), SUFFIXES)
def test_random_bytes(raw, name):
    parse_or_refuse(raw, name)


@fuzz
@given(st.text(max_size=300), SUFFIXES)
def test_random_unicode(text, name):
    parse_or_refuse(text.encode("utf-8", "surrogatepass"), name)


cell = st.one_of(st.text(max_size=20), st.integers(-(10**20), 10**20).map(str), st.floats().map(str), st.just(""))


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


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200), st.floats(1e-4, 1e4), st.integers(1, 10))
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
