"""Paths a person types, files they did not ask to destroy, and the terminal (issue 24, families 1, 2 and 7).

1. A path from the command line, an environment variable or the app: ``~nosuchuser/...``, a name over
   255 bytes, a loop of links, a file where a folder should be. One sentence and exit 2 in the CLI; the
   app keeps working (a cache only saves time).
2. ``--html`` writes through a symbolic link, and never replaces the corpus it was made from, a read-only
   file, a device, a named pipe or a folder; it says what it wrote where.
3. The terminal: a reader that left (``| head``), a full disk on stdout (``/dev/full``), Ctrl-C during the
   embedding: no traceback, the usual exit status, no half-written cache.
"""

from __future__ import annotations

import errno
import logging
import os
import pty
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import retrieval_attention as ra
from retrieval_attention.config import CACHE_ENV_VAR, cache_folder, default_cache_dir
from retrieval_attention.corpus import bundled_data_path
from retrieval_attention.errors import CorpusError, InvalidParameterError
from retrieval_attention.export import Lesson, save_html
from retrieval_attention.export.files import check_html_path
from retrieval_attention.index import cached_index
from retrieval_attention.infra.paths import NAME_MAX, os_problem, path_stat, user_path

APP = str(Path(__file__).resolve().parent.parent / "app.py")
NO_USER = "~no-such-user-24"  # the tilde of a user this machine does not have
LONG = "a" * 300  # one name over the 255 bytes a file system allows
CORPUS = "id,title,category\nc1,Funny cats compilation,pets\nc2,Learn Python in one hour,programming\n"


def cli(*args: str, timeout: float = 300, cache: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, COLUMNS="150", PYTHONIOENCODING="utf-8")
    if cache is not None:
        env[CACHE_ENV_VAR] = str(cache)
    env.update(kwargs.pop("env", {}))
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run(
        [sys.executable, "-m", "retrieval_attention", *args], env=env, timeout=timeout, text=True, **kwargs
    )


def one_line_error(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.count("error:") == 1 and len(p.stderr.strip().splitlines()) == 1, p.stderr
    return p.stderr


@pytest.fixture
def corpus_file(tmp_path) -> Path:
    path = tmp_path / "corpus.csv"
    path.write_text(CORPUS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cli_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("paths-cache")


# -- 1. paths a person types: one helper ------------------------------------------------------------------


def test_tilde_is_expanded_as_a_shell_would(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_path("~/data/x.csv") == tmp_path / "data" / "x.csv"
    assert user_path("./~x.csv") == Path("./~x.csv")  # a file whose name starts with ~, written as such


def test_an_unknown_user_is_a_sentence_not_a_runtime_error():
    with pytest.raises(InvalidParameterError, match="there is no user named 'no-such-user-24' on this machine"):
        user_path(f"{NO_USER}/x.csv")
    with pytest.raises(CorpusError, match="no user named"):  # the caller chooses the error class
        user_path(f"{NO_USER}/x.csv", CorpusError)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (f"/tmp/{LONG}/x.csv", "is 300 bytes long, more than the 255 bytes a file or folder name may be"),
        ("/tmp/" + "猫" * 90 + ".csv", "is 274 bytes long"),  # 94 characters, but 3 bytes each in UTF-8
        ("/x" * 2100, "the path is 4,200 bytes long"),
        ("a\0b", "NUL character"),
        ("", "the path is empty"),
    ],
)
def test_names_no_file_system_holds_are_refused_before_touching_it(value, message):
    with pytest.raises(InvalidParameterError, match=message):
        user_path(value)


def test_a_refusal_quotes_at_most_a_line_of_the_path():
    with pytest.raises(InvalidParameterError) as info:
        user_path("/" + "b" * 5000)
    assert len(str(info.value)) < 400


def test_path_stat_says_none_only_for_not_there(tmp_path):
    assert path_stat(tmp_path / "missing") is None
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidParameterError, match="form a loop"):
        path_stat(tmp_path / "loop1")
    assert stat.S_ISLNK(path_stat(tmp_path / "loop1", follow_symlinks=False).st_mode)
    with pytest.raises(InvalidParameterError, match="a part of the path is a file, not a folder"):
        path_stat(tmp_path / "file" / "x.csv")
    with pytest.raises(InvalidParameterError, match="too long"):
        path_stat(tmp_path / LONG)


def test_permission_denied_is_named(monkeypatch):
    # As root nothing is denied, so the error the kernel gives a student is handed in directly.
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(os, "stat", denied)
    with pytest.raises(InvalidParameterError, match="permission denied: a folder on the way may not be read"):
        path_stat("/root/secret/x.csv")
    assert os_problem(OSError(errno.ENOSPC, "No space left on device")) == "No space left on device"


@pytest.mark.parametrize("value", [f"{NO_USER}/corpus.csv", f"/tmp/{LONG}/corpus.csv"])
def test_load_corpus_refuses_unusable_paths_as_corpus_errors(value):
    with pytest.raises(CorpusError, match="cannot use"):
        ra.load_corpus(value)


def test_load_corpus_reads_a_tilde_path(monkeypatch, corpus_file):
    monkeypatch.setenv("HOME", str(corpus_file.parent))
    assert [v.id for v in ra.load_corpus("~/corpus.csv")] == ["c1", "c2"]


@pytest.mark.parametrize("value", [f"{NO_USER}/cache", f"/tmp/{LONG}/cache"])
def test_a_cache_variable_that_names_no_folder(monkeypatch, value, caplog):
    monkeypatch.setenv(CACHE_ENV_VAR, value)
    with pytest.raises(InvalidParameterError, match=r"^\$RETRIEVAL_ATTENTION_CACHE: cannot use"):
        default_cache_dir()
    with caplog.at_level(logging.WARNING):
        assert cache_folder() is None
    assert "working without the on-disk cache" in caplog.text


@pytest.mark.parametrize("value", [f"{NO_USER}/cache", f"/tmp/{LONG}/cache", "/dev/null/cache"])
def test_an_unusable_cache_costs_the_cache_not_the_answer(monkeypatch, value, tiny_corpus, fake_encoder, tmp_path):
    expected = ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder, use_cache=False).K
    monkeypatch.setenv(CACHE_ENV_VAR, value)
    store = ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder)
    np.testing.assert_array_equal(store.K, expected)
    K = np.random.default_rng(0).standard_normal((300, 8)).astype(np.float32)
    index = cached_index(K / np.linalg.norm(K, axis=1, keepdims=True), "hnsw")
    assert index.search(K[5] / np.linalg.norm(K[5]), 1)[1].tolist() == [[5]]


def test_a_cache_folder_that_cannot_be_looked_into(monkeypatch, tiny_corpus, fake_encoder, tmp_path, caplog):
    """EACCES inside the cache (a folder shared with another user): a warning, and the answer."""
    real_stat = os.stat

    def denied(path, *args, **kwargs):
        if "embeddings" in os.fspath(path):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", denied)
    with caplog.at_level(logging.WARNING):
        store = ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder, cache_dir=tmp_path)
    assert store.K.shape == (len(tiny_corpus), fake_encoder.dim)
    assert "the embedding cache cannot be read" in caplog.text and "permission denied" in caplog.text


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--corpus", f"{NO_USER}/x.csv"], {}, "no user named 'no-such-user-24'"),
        (["--corpus", f"/tmp/{LONG}/x.csv"], {}, "300 bytes long"),
        (["--html", f"{NO_USER}/x.html"], {}, "no user named 'no-such-user-24'"),
        (["--html", f"/tmp/{LONG}.html"], {}, "305 bytes long"),
        (["--html", "/dev/null/x.html"], {}, "a part of the path is a file, not a folder"),
        ([], {CACHE_ENV_VAR: f"{NO_USER}/cache"}, "$RETRIEVAL_ATTENTION_CACHE: cannot use '~no-such-user-24/cache'"),
        ([], {CACHE_ENV_VAR: f"/tmp/{LONG}"}, "$RETRIEVAL_ATTENTION_CACHE: cannot use"),
    ],
)
def test_cli_typed_paths_are_one_line_and_exit_2(args, env, message):
    err = one_line_error(cli("cats", *args, env=env, timeout=120))
    assert message in err, err


def test_app_keeps_working_with_a_cache_variable_that_names_no_folder(monkeypatch, corpus_file):
    monkeypatch.setenv(CACHE_ENV_VAR, f"{NO_USER}/cache")
    monkeypatch.setenv("RETRIEVAL_ATTENTION_CORPUS", str(corpus_file))  # a store of its own, not a cached one
    app = AppTest.from_file(APP, default_timeout=300).run()
    assert not app.exception, app.exception
    app.text_input(key="query").set_value("Funny cats compilation").run()
    assert not app.exception, app.exception
    assert app.success[0].value.startswith("Hit")


def test_app_says_what_is_wrong_with_a_corpus_variable_that_names_no_file(monkeypatch):
    monkeypatch.setenv("RETRIEVAL_ATTENTION_CORPUS", f"/tmp/{LONG}/corpus.csv")
    app = AppTest.from_file(APP, default_timeout=300).run()
    assert not app.exception, app.exception
    errors = [e.value for e in app.error]
    assert any("Could not load the server's corpus" in e and "300 bytes long" in e for e in errors), errors


# -- 2. files the user did not ask to destroy -------------------------------------------------------------


def lesson() -> Lesson:
    return Lesson("T", (), ())


def test_a_link_is_written_through(tmp_path):
    target = tmp_path / "real.html"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.html"
    link.symlink_to("real.html")
    assert save_html(lesson(), link) == target
    assert link.is_symlink() and os.readlink(link) == "real.html"
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_a_dangling_link_creates_its_target(tmp_path):
    (tmp_path / "link.html").symlink_to(tmp_path / "new.html")
    assert save_html(lesson(), tmp_path / "link.html") == tmp_path / "new.html"
    assert (tmp_path / "link.html").is_symlink() and (tmp_path / "new.html").is_file()


def test_the_lessons_input_is_never_replaced(tmp_path, corpus_file):
    (tmp_path / "link.html").symlink_to(corpus_file)
    os.link(corpus_file, tmp_path / "hard.html")
    for name in (corpus_file, tmp_path / "link.html", tmp_path / "hard.html"):
        with pytest.raises(InvalidParameterError, match="is the file the lesson is made from"):
            save_html(lesson(), name, inputs=[corpus_file])
    assert corpus_file.read_text(encoding="utf-8") == CORPUS


def test_a_read_only_file_is_refused(tmp_path):
    ro = tmp_path / "ro.html"
    ro.write_text("keep", encoding="utf-8")
    ro.chmod(0o444)
    with pytest.raises(InvalidParameterError, match="is read-only"):
        save_html(lesson(), ro)
    assert ro.read_text(encoding="utf-8") == "keep"


def test_special_files_are_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe.html")
    with pytest.raises(InvalidParameterError, match="is a named pipe, not a file"):
        save_html(lesson(), tmp_path / "pipe.html")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe.html").st_mode)
    with pytest.raises(InvalidParameterError, match="'/dev/null' is a character device, not a file"):
        check_html_path("/dev/null")  # checked only: the old code replaced /dev/null itself
    (tmp_path / "null.html").symlink_to("/dev/null")
    with pytest.raises(InvalidParameterError, match=r"\(a link to '/dev/null'\) is a character device"):
        check_html_path(tmp_path / "null.html")


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device needs root")
def test_a_device_is_not_replaced(tmp_path):
    device = tmp_path / "null.html"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a second /dev/null, in a folder of ours
    with pytest.raises(InvalidParameterError, match="is a character device"):
        save_html(lesson(), device)
    assert stat.S_ISCHR(os.lstat(device).st_mode)


def test_a_name_near_the_limit_is_written(tmp_path):
    name = "b" * (NAME_MAX - len(".html")) + ".html"  # the temporary file beside it must fit too
    out = save_html(lesson(), tmp_path / name)
    assert out.name == name and sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_folder_that_is_a_file_is_named(tmp_path):
    (tmp_path / "notes").write_text("x")
    with pytest.raises(InvalidParameterError, match="a part of the path is a file, not a folder"):
        save_html(lesson(), tmp_path / "notes" / "lesson.html")


def test_cli_refuses_to_destroy(tmp_path, corpus_file):
    (tmp_path / "ro.html").write_text("keep")
    (tmp_path / "ro.html").chmod(0o444)
    os.mkfifo(tmp_path / "pipe.html")
    (tmp_path / "to-corpus.html").symlink_to(corpus_file)
    (tmp_path / "null.html").symlink_to("/dev/null")
    cases = [
        (["--html", str(corpus_file), "--corpus", str(corpus_file)], "is the file the lesson is made from"),
        (["--html", str(tmp_path / "to-corpus.html"), "--corpus", str(corpus_file)], "the lesson is made from"),
        (["--html", str(tmp_path / "ro.html")], "is read-only"),
        (["--html", str(tmp_path / "pipe.html")], "is a named pipe, not a file"),
        (["--html", str(tmp_path / "null.html")], "is a character device, not a file"),
        (["--html", str(tmp_path)], "is a folder"),
    ]
    for args, message in cases:
        err = one_line_error(cli("cats", *args, timeout=120))
        assert message in err, err
    assert corpus_file.read_text(encoding="utf-8") == CORPUS
    assert (tmp_path / "to-corpus.html").is_symlink() and (tmp_path / "null.html").is_symlink()
    assert (tmp_path / "ro.html").read_text() == "keep"


def test_cli_never_replaces_the_bundled_corpus(tmp_path):
    bundled = bundled_data_path("videos.csv")
    before = bundled.read_bytes()
    (tmp_path / "videos.html").symlink_to(bundled)
    err = one_line_error(cli("cats", "--html", str(tmp_path / "videos.html"), timeout=120))
    assert "the lesson is made from" in err and bundled.read_bytes() == before


def test_cli_writes_through_a_link_and_says_where(tmp_path, corpus_file, cli_cache):
    (tmp_path / "out").mkdir()
    link = tmp_path / "lesson.html"
    link.symlink_to(tmp_path / "out" / "real.html")
    p = cli("funny cats", "--corpus", str(corpus_file), "--html", str(link), "--lang", "es", cache=cli_cache)
    assert p.returncode == 0, p.stderr
    real = tmp_path / "out" / "real.html"
    assert p.stdout.strip().startswith(f"escrito {real.resolve()} (")
    assert p.stdout.strip().endswith(f"a través del enlace {link}")
    assert link.is_symlink() and "<!DOCTYPE html>" in real.read_text(encoding="utf-8")


# -- 7. the terminal ------------------------------------------------------------------------------------


def test_a_reader_that_left_is_exit_141_and_silent(corpus_file, cli_cache):
    r, w = os.pipe()
    os.close(r)  # the reader left before the first byte (`| head -c 0`): every write is EPIPE
    try:
        p = cli("funny cats", "--corpus", str(corpus_file), cache=cli_cache, stdout=w, stderr=subprocess.PIPE)
    finally:
        os.close(w)
    assert p.returncode == 141, p.stderr
    assert p.stderr == ""


def test_a_reader_that_left_after_ten_bytes(corpus_file, cli_cache):
    """What a person types: ``... --json | head -c 10``; the shell sees 0 or 141, never a traceback."""
    cmd = f"{sys.executable} -m retrieval_attention 'funny cats' --json --corpus {corpus_file} --top 2 | head -c 10"
    env = dict(os.environ, **{CACHE_ENV_VAR: str(cli_cache)})
    p = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=env, timeout=300)
    assert p.stdout == '{\n  "query' and "Traceback" not in p.stderr and p.stderr == ""


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("output", [[], ["--json"]])
def test_a_full_disk_on_stdout_is_one_line_and_exit_1(corpus_file, cli_cache, output):
    with open("/dev/full", "w") as full:
        p = cli(
            "funny cats", "--corpus", str(corpus_file), *output, cache=cli_cache, stdout=full, stderr=subprocess.PIPE
        )
    assert p.returncode == 1
    assert p.stderr == "error: cannot write the output: No space left on device\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_help_on_a_full_disk_is_not_lost_silently():
    with open("/dev/full", "w") as full:
        p = cli("--help", "--lang", "zh", stdout=full, stderr=subprocess.PIPE, timeout=120)
    assert p.returncode == 1 and p.stderr == "error: 无法写出结果：No space left on device\n"


def sigint_as_at_a_terminal() -> None:
    """For a child that a test interrupts: SIGINT with its default action, as Ctrl-C at a terminal finds it.

    A suite started in the background by a non-interactive shell (``make test &``, a CI runner) inherits
    SIGINT ignored (POSIX), so would the CLI, and Python then installs no KeyboardInterrupt: the
    child would ignore the test's Ctrl-C and run to its end.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_while_embedding_is_one_line_exit_130_and_no_half_file(tmp_path):
    """SIGINT once the progress line shows (stderr on a terminal), with a fresh cache folder."""
    rows = "".join(f"v{i},video number {i} about cats and dogs playing in the garden {i * 7}\n" for i in range(400))
    (tmp_path / "big.csv").write_text("id,title\n" + rows, encoding="utf-8")
    cache = tmp_path / "cache"
    main, tty = pty.openpty()
    env = dict(os.environ, **{CACHE_ENV_VAR: str(cache)}, LANG="C.UTF-8")
    args = [sys.executable, "-m", "retrieval_attention", "cats", "--corpus", str(tmp_path / "big.csv"), "--lang", "zh"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=tty, env=env, preexec_fn=sigint_as_at_a_terminal)
    os.close(tty)
    seen, deadline = b"", time.monotonic() + 240
    while "正在嵌入语料".encode() not in seen and time.monotonic() < deadline:
        seen += os.read(main, 4096)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    try:
        while chunk := os.read(main, 4096):
            seen += chunk
    except OSError:  # the terminal closed with the process
        pass
    os.close(main)
    err = seen.decode("utf-8", "replace")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.rstrip().splitlines()[-1] == "已中断；没有留下写了一半的文件"
    assert out == b""
    left = [p.name for p in cache.rglob("*")] if cache.exists() else []
    assert not [name for name in left if name.endswith(".tmp")], left  # nothing half-written
