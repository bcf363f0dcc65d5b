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
        (["cats", "--model", "/nonexistent/model-dir"], "no folder of that name"),  # refused before torch loads
    ],
)
def test_errors_are_one_line_and_exit_2(args, message, cli_cache):
    p = run(*args, cache=cli_cache)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.count("error:") == 1


# -- --html FILE: the lesson as one offline HTML file ------------------------------------------------------


def test_html_writes_the_lesson_and_says_where(tmp_path, cli_cache):
    out = tmp_path / "lesson.html"
    p = run("funny cat videos", "--html", str(out), "--k", "3", "--temperature", "0.1", "--top", "4", cache=cli_cache)
    assert p.returncode == 0, p.stderr
    size = out.stat().st_size
    assert p.stdout == f"wrote {out.resolve()} ({size:,} bytes)\n"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.count('data-lesson-chart="') == 5  # the main page's charts
    for fact in ("<dd>funny cat videos</dd>", "<dd>all-MiniLM-L6-v2</dd>", "2 · Top-3 search", "<dd>0.1</dd>"):
        assert fact in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lesson.html"]


def test_html_in_chinese(tmp_path, cli_cache):
    out = tmp_path / "课.html"
    p = run("funny cat videos", "--html", str(out), "--lang", "zh", cache=cli_cache)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith(f"已写入 {out.resolve()}（") and "字节" in p.stdout
    text = out.read_text(encoding="utf-8")
    assert '<html lang="zh">' in text and "<h1>注意力就是软检索</h1>" in text and "<dd>funny cat videos</dd>" in text


def test_html_in_spanish_writes_the_pages_spanish(tmp_path, cli_cache):
    out = tmp_path / "lección.html"
    p = run("vídeos graciosos de gatos", "--html", str(out), "--lang", "es", "--temperature", "0.05", cache=cli_cache)
    assert p.returncode == 0, p.stderr
    text = out.read_text(encoding="utf-8")
    assert '<html lang="es">' in text and "<h1>Atención: recuperación suave</h1>" in text
    assert "1 · Búsqueda exacta" in text and "<dd>0,05</dd>" in text


def test_html_never_takes_its_file_name_from_the_query(tmp_path, cli_cache):
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / "a.html"
    p = run("../../etc/passwd <img src=x onerror=alert(1)>", "--html", str(out), cache=cli_cache)
    assert p.returncode == 0, p.stderr
    assert [x.name for x in tmp_path.rglob("*")] == ["out", "a.html"]
    text = out.read_text(encoding="utf-8")
    assert "<img src=x" not in text and "../../etc/passwd &lt;img src=x onerror=alert(1)&gt;" in text


@pytest.mark.parametrize(
    ("target", "extra", "message"),
    [
        (".", (), "is a folder"),
        ("missing/lesson.html", (), "the folder 'missing' does not exist"),
        ("", (), "the file name is empty"),
        ("lesson.html", ("--json",), "--html and --json cannot be used together"),
    ],
)
def test_html_refusals_are_one_line_before_the_model_loads(target, extra, message, tmp_path, monkeypatch, capsys):
    from retrieval_attention import cli
    from retrieval_attention.store import KeyValueStore

    monkeypatch.chdir(tmp_path)

    def no_model(*args, **kwargs):
        raise AssertionError("the model loaded before the file name was checked")

    monkeypatch.setattr(KeyValueStore, "from_corpus", no_model)
    assert cli.main(["cats", "--html", target, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and err.startswith("error: ")
    assert list(tmp_path.iterdir()) == []  # nothing written, no folder made
