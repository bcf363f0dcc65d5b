"""What one input may cost (issue 24, families 3 and 4): a multi-megabyte title is cut to what the
model reads, with a count, and costs megabytes, not gigabytes (peak RSS of a subprocess); the CLI
refuses a corpus of more rows than ``--max-rows``, shows its progress with an estimate, and Ctrl-C
during embedding stops at once and leaves no cache file, whole or half."""

from __future__ import annotations

import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import retrieval_attention as ra
from retrieval_attention.cli_progress import QUIET_S, EmbeddingProgress
from retrieval_attention.corpus import MAX_ROWS, MAX_TITLE_CHARS, RowLimitError, parse_titles

ROOT = Path(__file__).resolve().parent.parent


def env(**extra: str) -> dict[str, str]:
    return dict(os.environ, COLUMNS="150", PYTHONIOENCODING="utf-8", PYTHONPATH=str(ROOT), **extra)


def cli(*args: str, timeout: float = 300, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "retrieval_attention", *args],
        capture_output=True,
        text=True,
        env=env(**extra),
        timeout=timeout,
    )


def one_line_error(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr and p.stderr.count("error:") == 1 and len(p.stderr.strip().splitlines()) == 1
    return p.stderr


# -- 3. a title the model never reads to the end ----------------------------------------------------


def test_a_multi_megabyte_title_is_cut_and_counted():
    words = b"word " * 600_000  # 3 MB on one line
    c = ra.parse_corpus(b"Cats\n" + words + b"\nDogs\n", "long.txt")
    assert c.titles[0] == "Cats" and c.titles[2] == "Dogs"
    assert len(c.titles[1]) <= MAX_TITLE_CHARS and c.titles[1].startswith("word word")
    assert c.cut_titles == 1
    assert any("line 2: title of 2,999,999 characters cut to 32,768;" in w for w in c.warnings), c.warnings


def test_a_long_description_is_cut_too_and_whitespace_cannot_hide_words():
    raw = '[{"title": "a' + " " * 100_000 + 'b", "description": "' + "x " * 40_000 + '"}]'
    c = ra.parse_corpus(raw.encode(), "c.json")
    assert c[0].title == "a b" and len(c[0].description) <= MAX_TITLE_CHARS and c.cut_titles == 1


def test_the_cut_keeps_everything_the_model_reads(store):
    """The real model embeds the cut title exactly as the whole one: it reads only its first 256 tokens."""
    long = " ".join(f"lesson{i} about attention and retrieval" for i in range(8_000))  # ~300 kB
    cut = parse_titles(long, source="t").titles[0]
    assert len(cut) <= MAX_TITLE_CHARS < len(long)
    whole_ids, kept_ids = store.encoder.model._ids([long, cut])
    assert whole_ids == kept_ids and len(kept_ids) == store.encoder.max_seq_length  # the same 256 tokens
    whole, kept = store.encoder.encode_documents([long, cut])
    np.testing.assert_allclose(whole, kept, atol=1e-6)  # one batch: only BLAS's last digits differ


PEAK = """
import resource, sys
import retrieval_attention as ra
rss = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ra.KeyValueStore.from_corpus(ra.parse_corpus(b"a\\nb\\n", "warm.txt"), use_cache=False).retrieve("cats")
before = rss()
corpus = ra.parse_corpus(b"Cats\\n" + b"word " * 600_000 + b"\\n", "long.txt")
ra.KeyValueStore.from_corpus(corpus, use_cache=False).retrieve("words")
print(rss() - before)
"""


def test_a_3_mb_title_costs_megabytes_not_hundreds(tmp_path):
    """Before the cut the tokenizer read all 3 MB: +450 MB peak in the library (+2.4 GB in the app)."""
    p = subprocess.run(
        [sys.executable, "-c", PEAK], capture_output=True, text=True, env=env(), timeout=300, cwd=tmp_path
    )
    assert p.returncode == 0, p.stderr
    grew_mb = float(p.stdout.strip().splitlines()[-1])
    assert grew_mb < 100, f"peak RSS grew by {grew_mb:.0f} MB"


# -- 4. the CLI on big input ------------------------------------------------------------------------


def test_the_row_limit_is_checked_before_a_row_is_built():
    with pytest.raises(RowLimitError) as info:
        parse_titles("\n".join(map(str, range(MAX_ROWS + 1))), source="many", max_rows=MAX_ROWS)
    assert (info.value.rows, info.value.limit) == (MAX_ROWS + 1, MAX_ROWS)
    assert "many has 20,001 records; the limit is 20,000" in str(info.value)


def test_cli_refuses_300000_short_rows_with_the_flag_that_raises_the_limit(tmp_path):
    many = tmp_path / "many.txt"
    many.write_text("\n".join(str(i % 10) for i in range(300_000)))  # 600 kB
    err = one_line_error(cli("cats", "--corpus", str(many)))
    assert "has 300,000 records; the limit is 20,000: raise it with --max-rows 300000" in err
    err = one_line_error(cli("cats", "--corpus", str(many), "--lang", "es"))
    assert "300.000" in err and "--max-rows 300000" in err
    assert "must be >= 1" in one_line_error(cli("cats", "--max-rows", "0"))


def test_cli_max_rows_raises_and_lowers_the_limit(tmp_path):
    titles = tmp_path / "t.txt"
    titles.write_text("\n".join(f"video {i} about cats" for i in range(60)))
    assert "has 60 records; the limit is 59" in one_line_error(cli("cats", "--corpus", str(titles), "--max-rows", "59"))
    p = cli("cats", "--corpus", str(titles), "--max-rows", "60", "--json", RETRIEVAL_ATTENTION_CACHE=str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert '"n_keys": 60' in p.stdout


def test_progress_line_counts_and_estimates_the_time_left():
    clock = iter([0.0, 1.0, 1.1, 2.0, 4.0])
    out = io.StringIO()
    show = EmbeddingProgress(stream=out, live=True, clock=lambda: next(clock))
    for done in (0, 100, 110, 200, 400):
        show(done, 400)
    lines = out.getvalue().split("\r")[1:]
    assert lines[1] == "embedding corpus: 100/400 · about 3 s left\x1b[K"  # 300 texts at 100 a second
    assert len(lines) == 4, "a redraw at most every quarter second: 110/400 was skipped"
    assert lines[-1] == "embedding corpus: 400/400\x1b[K\n"
    show.close()
    assert out.getvalue().endswith("400/400\x1b[K\n"), "a finished line is not ended twice"
    cut_short = io.StringIO()
    show = EmbeddingProgress(stream=cut_short, live=True, clock=lambda: 0.0)
    show(64, 400)
    show.close()  # Ctrl-C: the error line that follows starts on a line of its own
    assert cut_short.getvalue() == "\rembedding corpus: 64/400\x1b[K\n"


def test_progress_on_a_pipe_is_silent_for_a_short_run_and_alive_for_a_long_one():
    short, long = io.StringIO(), io.StringIO()
    quick = iter([0.0, 1.0, 2.0])
    show = EmbeddingProgress(stream=short, live=False, clock=lambda: next(quick))
    for done in (0, 50, 100):
        show(done, 100)
    assert short.getvalue() == ""
    slow = iter([0.0, QUIET_S, QUIET_S + 1, 2 * QUIET_S + 1, 3 * QUIET_S])
    show = EmbeddingProgress(stream=long, live=False, lang="zh", clock=lambda: next(slow))
    for done in (0, 10, 11, 21, 30):
        show(done, 30)
    assert long.getvalue().splitlines() == [
        "正在嵌入语料：10/30 · 约剩 20 秒",
        "正在嵌入语料：21/30 · 约剩 9 秒",
        "正在嵌入语料：30/30",
    ]


def sigint_as_at_a_terminal() -> None:
    """For a child that a test interrupts: SIGINT with its default action, as Ctrl-C at a terminal finds it.

    A suite started in the background by a non-interactive shell (``make test &``, a CI runner) inherits
    SIGINT ignored (POSIX), so would the CLI, and Python then installs no KeyboardInterrupt: the
    child would ignore the test's Ctrl-C and run to its end.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_on_a_terminal(args: list[str], until: bytes, cache: Path) -> tuple[subprocess.Popen, bytes]:
    """Start the CLI with stderr on a pseudo-terminal; return once ``until`` appeared there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "retrieval_attention", *args],
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env=env(RETRIEVAL_ATTENTION_CACHE=str(cache)),
        preexec_fn=sigint_as_at_a_terminal,
    )
    os.close(slave)
    seen, deadline = b"", time.monotonic() + 240
    while until not in seen and time.monotonic() < deadline and proc.poll() is None:
        if select.select([master], [], [], 1)[0]:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
    proc.master = master  # type: ignore[attr-defined]
    return proc, seen


def test_ctrl_c_while_embedding_stops_at_once_and_leaves_no_cache_file(tmp_path):
    corpus = tmp_path / "big.txt"
    corpus.write_text("\n".join(f"lecture {i}: " + "attention and retrieval " * 6 for i in range(8_000)))
    proc, seen = run_on_a_terminal(["cats", "--corpus", str(corpus)], b"about", tmp_path / "cache")
    assert b"embedding corpus: " in seen and b"/16,000" in seen, seen[-300:]
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=60)  # 16,000 texts take minutes; the batches in flight take a second
    finally:
        proc.kill()
        os.close(proc.master)
    assert proc.returncode != 0
    left = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert left == [], f"a cache file after Ctrl-C: {left}"


def test_readme_states_the_limits():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    own = readme[readme.index("## Use your own data") :]
    own = own[: own.index("\n## ", 1)]
    for fact in ("--max-rows", "20,000", "5 MB", "32,768", "semicolon", "byte-order mark", "pasted"):
        assert fact in own, fact
