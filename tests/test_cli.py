"""The command line: `python -m retrieval_attention ...` as a user runs it (real model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(*args: str, cache=None) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="150")
    if cache is not None:
        env["RETRIEVAL_ATTENTION_CACHE"] = str(cache)
    return subprocess.run(
        [sys.executable, "-m", "retrieval_attention", *args], capture_output=True, text=True, env=env, timeout=300
    )


@pytest.fixture(scope="module")
def cli_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-cache")


def test_json_output(cli_cache):
    p = run("funny cat videos", "--json", "--k", "3", "--temperature", "0.05", cache=cli_cache)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["query"] == "funny cat videos" and doc["n_keys"] >= 250
    assert doc["hard"]["hit"] is False and doc["hard"]["lookup_key"] == "funny cat videos"
    assert len(doc["topk"]["results"]) == 3
    soft = doc["soft"]
    assert soft["temperature"] == 0.05 and soft["effective_num_keys"] >= 1
    assert soft["results"][0]["title"] == doc["topk"]["results"][0]["title"]
    assert "pets" in soft["output"]["category_mix"]
    assert abs(sum(soft["output"]["category_mix"].values()) - 1) < 1e-4


def test_text_output_has_three_columns(cli_cache):
    p = run("Learn Python in One Hour", cache=cli_cache)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for head in ("HARD LOOKUP", "TOP-5", "SOFT ATTENTION"):
        assert head in out
    assert "hit: exact key" in out
    first_row = [ln for ln in out.splitlines() if "HARD LOOKUP" in ln][0]
    assert "TOP-5" in first_row and "SOFT ATTENTION" in first_row, "columns side by side"


def test_custom_corpus(tmp_path, cli_cache):
    f = tmp_path / "lectures.csv"
    f.write_text(
        "title,category\nLinear algebra review,maths\nBackpropagation by hand,ml\nAttention and transformers,ml\n"
    )
    p = run("what is self-attention", "--corpus", str(f), "--json", "--k", "10", cache=cli_cache)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["n_keys"] == 3 and len(doc["topk"]["results"]) == 3
    assert doc["topk"]["results"][0]["title"] == "Attention and transformers"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["   "], "the query is empty"),
        (["cats", "--temperature", "0"], "temperature must be a finite number > 0"),
        (["cats", "--temperature", "nan"], "temperature must be a finite number > 0"),
        (["cats", "--k", "0"], "k must be >= 1"),
        (["cats", "--corpus", "/nonexistent/file.csv"], "corpus file not found"),
        (["cats", "--model", "/nonexistent/model-dir"], "could not be loaded"),
    ],
)
def test_errors_are_one_line_and_exit_2(args, message, cli_cache):
    p = run(*args, cache=cli_cache)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.count("error:") == 1
