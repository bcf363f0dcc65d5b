"""Hostile and careless input (issue 18): text that cannot be encoded, numbers past Python's limits,
files that are not regular files, keys that collide after normalisation, terminal control
characters, and the smaller ones. Every refusal is one specific message, and nothing is half-loaded."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import unicodedata

import pytest

import retrieval_attention as ra
from retrieval_attention.core.validate import check_query
from retrieval_attention.corpus import corpus_from_titles


def refused(raw: bytes, name: str) -> str:
    with pytest.raises(ra.CorpusError) as info:
        ra.parse_corpus(raw, name)
    return str(info.value)


def parse_csv(text: str) -> ra.Corpus:
    return ra.parse_corpus(text.encode(), "c.csv")


def cli(*args: str | bytes, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI as a user runs it; ``args`` may be bytes (undecodable on purpose)."""
    env = dict(os.environ, COLUMNS="150", PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "retrieval_attention", *args], capture_output=True, env=env, timeout=timeout
    )


def one_line_error(p: subprocess.CompletedProcess) -> str:
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 2, err
    assert "Traceback" not in err
    assert err.count("error:") == 1 and len(err.strip().splitlines()) == 1, err
    return err


# -- 2. text that cannot be encoded ---------------------------------------------------------------


@pytest.mark.parametrize("field", ["title", "id", "channel", "category", "upload_date", "description", "language"])
def test_lone_surrogate_in_any_json_field_is_refused_with_field_and_record(field):
    good = {"id": "x", "title": "Cats"}
    bad = {"id": "y", "title": "Dogs"} | {field: "ab@c"}
    raw = ("[" + json.dumps(good) + "," + json.dumps(bad).replace("@", "\\ud800") + "]").encode()
    message = refused(raw, "c.json")
    assert f"record 2: {field} is not valid Unicode text" in message
    assert "U+D800 at character 3" in message


def test_lone_surrogate_in_jsonl_names_the_line():
    raw = b'{"title": "Cats"}\n{"title": "low \\udc80 half"}\n'
    assert "line 2: title is not valid Unicode text" in refused(raw, "c.jsonl")


def test_a_surrogate_pair_is_one_character_and_loads():
    c = ra.parse_corpus(b'[{"title": "smile \\ud83d\\ude00"}]', "c.json")
    assert c.titles == ["smile \U0001f600"] and len(c.content_hash) == 64


def test_pasted_titles_with_a_surrogate_are_refused():
    with pytest.raises(ra.CorpusError, match=r"pasted, line 2: title is not valid Unicode text.*U\+DCFF"):
        corpus_from_titles(["fine", "caf\udcff"])


def test_histories_with_a_surrogate_are_refused(tmp_path):
    p = tmp_path / "h.json"
    p.write_bytes(b'{"personas": [{"id": "u", "name": "bad \\ud800", "history": ["a1"]}]}')
    with pytest.raises(ra.CorpusError, match=r"persona 1: name is not valid Unicode text"):
        ra.load_histories(p)


def test_query_with_a_surrogate_is_a_query_error(tiny_store):
    with pytest.raises(ra.QueryError, match=r"not valid Unicode text.*U\+D800 at character 6"):
        check_query("cats \ud800")
    with pytest.raises(ra.QueryError, match="not valid Unicode text"):
        tiny_store.retrieve("caf\udce9")


def test_a_file_name_with_undecodable_bytes_loads_with_a_printable_source(tmp_path):
    name = os.fsdecode(b"caf\xe9.csv")  # what os.listdir gives for a Latin-1 name: a surrogate escape
    p = tmp_path / name
    p.write_text("title\nCats\n")
    c = ra.load_corpus(p)
    assert c.titles == ["Cats"]
    c.source.encode("utf-8")  # printable in the app and the CLI's --json
    assert c.source.endswith("caf\ufffd.csv")


@pytest.mark.parametrize(
    "args",
    [[b"caf\xe9 au lait"], [b"cats", b"--corpus", b"/tmp/caf\xe9.csv"], [b"cats", b"--model", b"\xff"]],
)
def test_cli_argument_with_undecodable_bytes_is_one_line_exit_2(args):
    err = one_line_error(cli(*args))
    assert "not valid UTF-8" in err


# -- 3. numbers past Python's limits --------------------------------------------------------------

HUGE = "9" * 5000  # past Python's int-string limit (4,300 digits)


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (f'[{{"title": "a", "views": {HUGE}}}]', "c.json", "record 1: views is implausibly large"),
        (f'[{{"title": "a", "duration_s": {HUGE}}}]', "c.json", "record 1: duration_s is implausibly large"),
        (f'{{"title": "a"}}\n{{"title": "b", "views": {HUGE}}}\n', "c.jsonl", "line 2: views is implausibly large"),
        (f'[{{"title": "a", "views": {"9" * 400}}}]', "c.json", "views is implausibly large"),  # past float
        (f"[{HUGE}]", "c.json", "record 1: expected an object, got a number"),
        (f"title,views\na,{HUGE}\n", "c.csv", "line 2: views is implausibly large"),
        ('[{"title": "a", "duration_s": 1e300}]', "c.json", "duration_s is implausibly large"),  # float32: inf
        ('[{"title": "a", "views": 1e999}]', "c.json", "views must be a finite number"),
    ],
)
def test_numbers_past_the_limits_are_bad_fields(raw, name, message):
    assert message in refused(raw.encode(), name)


def test_huge_numbers_in_text_or_unknown_fields_are_kept_as_digits():
    c = ra.parse_corpus(f'[{{"id": {"1" * 30}, "title": "a", "extra": {HUGE}}}]'.encode(), "c.json")
    assert c.ids == ["1" * 30]


def test_huge_number_in_a_history_is_refused(tmp_path):
    p = tmp_path / "h.json"
    p.write_text(f'{{"personas": [{{"id": "u", "history": [{HUGE}]}}]}}')
    with pytest.raises(ra.CorpusError, match=r"persona 1: history entries must be video ids, got a number"):
        ra.load_histories(p)


# -- 5. files that are not regular files ----------------------------------------------------------


def load_within(path, seconds: float = 20, load=ra.load_corpus, **kwargs) -> str:
    """load(path) in a thread: its CorpusError message; fails (never hangs) if it blocks."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["corpus"] = load(path, **kwargs)
        except Exception as exc:  # the test reports whatever came out
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():  # release the blocked open() so the thread ends, then fail
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail(f"{load.__name__}({path}) blocked for {seconds} s")
    assert isinstance(outcome.get("error"), ra.CorpusError), outcome
    return str(outcome["error"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "pipe.csv is not a regular file (a named pipe)" in load_within(fifo)
    err = one_line_error(cli("cats", "--corpus", str(fifo), timeout=60))
    assert "not a regular file" in err


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_is_refused_before_reading(tmp_path):
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    assert "is not a regular file (a character device)" in load_within(link)


def test_a_socket_is_refused(tmp_path):
    with tempfile.TemporaryDirectory(dir="/tmp") as short:  # AF_UNIX paths are short
        path = os.path.join(short, "s.csv")
        with socket.socket(socket.AF_UNIX) as s:
            s.bind(path)
            assert "is not a regular file (a socket)" in load_within(path)


def test_a_folder_is_refused(tmp_path):
    (tmp_path / "notes.csv").mkdir()
    assert "is a folder, not a corpus file" in load_within(tmp_path / "notes.csv")


def test_a_huge_file_is_refused_by_its_size_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(ra.corpus.MAX_CORPUS_BYTES + 1)  # sparse: no disk used
    read = []
    monkeypatch.setattr(os, "read", lambda *a: read.append(a) or b"")
    assert "big.csv is 5.0 MB (5,242,881 bytes); the limit is 5 MB" in load_within(big)
    assert read == [], "nothing is read from a file that is too large"


def test_max_bytes_overrides_the_limit(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("title\n" + "cat video\n" * 20)
    assert "the limit is" in load_within(p, max_bytes=50)
    assert len(ra.load_corpus(p, max_bytes=500)) == 20
    with pytest.raises(ra.CorpusError, match="the limit is"):
        ra.parse_corpus(p.read_bytes(), "c.csv", max_bytes=50)


def test_the_read_is_capped_even_if_the_size_lies(tmp_path, monkeypatch):
    """A file that grows after its size was checked (or a /proc file that says 0) is read only up to the limit."""
    p = tmp_path / "c.csv"
    p.write_text("title\n" + "x" * 10_000 + "\n")
    real_fstat = os.fstat

    def fstat_says_empty(fd):
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, *st[1:6], 0, *st[7:]))

    monkeypatch.setattr(os, "fstat", fstat_says_empty)
    assert "more than the limit of 1,000 bytes" in load_within(p, max_bytes=1000)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_histories_from_a_fifo_are_refused(tmp_path):
    fifo = tmp_path / "h.json"
    os.mkfifo(fifo)
    assert "not a regular file" in load_within(fifo, load=ra.load_histories)


# -- 6. keys that collide after normalisation -----------------------------------------------------

COLLIDING = "id,title\nlig,\ufb01sh tank\nfull,\uff23\uff21\uff34\uff33\nplain,Fish Tank\ncats,cats\nde,Stra\u00dfe\nup,STRASSE\nok,Dogs\n"


def test_every_collision_is_a_warning_naming_both_ids():
    c = parse_csv(COLLIDING)
    assert len(c) == 7, "colliding records are kept: each is still a key for top-k and soft attention"
    collisions = [w for w in c.warnings if "same lookup key" in w]
    assert len(collisions) == 3, c.warnings
    for first, second, key in [("lig", "plain", "fish tank"), ("full", "cats", "cats"), ("de", "up", "strasse")]:
        assert any(f"'{first}' and '{second}'" in w and repr(key) in w for w in collisions), (first, second)
    assert all("finds only" in w for w in collisions)


def test_three_titles_on_one_key_give_two_warnings_against_the_first():
    c = parse_csv("id,title\na,cat\nb,CAT\nc,\uff43\uff41\uff54\n")
    collisions = [w for w in c.warnings if "same lookup key" in w]
    assert len(collisions) == 2 and all("'a' and" in w for w in collisions)


def test_a_hard_lookup_of_a_colliding_key_returns_the_first_in_file_order(fake_encoder, tmp_path):
    store = ra.KeyValueStore.from_corpus(parse_csv(COLLIDING), fake_encoder, cache_dir=tmp_path)
    for query, first in [("FISH TANK", "lig"), ("cats", "full"), ("strasse", "de")]:
        assert store.hard_lookup(query).ids == (first,)


def test_distinct_keys_give_no_collision_warning(corpus):
    assert not any("same lookup key" in w for w in corpus.warnings)


# -- 7. terminal control characters ---------------------------------------------------------------

HOSTILE_TITLES = [
    "\x1b[31mred\x1b[0m cats",  # ANSI colour
    "\x1b]8;;https://evil.example\x07cats link\x1b]8;;\x07",  # OSC 8 hyperlink
    "\x1b]0;pwned title\x1b\\ cats",  # OSC window title, ST-terminated
    "cats \u202eevil\u202c and \u2066isolate\u2069",  # bidi override and isolate
    "cats \x9b31m C1 CSI \x85 NEL \x7f DEL \x07 bell",  # C1 controls, DEL, BEL
    "two\nline\rcats\ttab",  # line breaks inside a title
]


def unsafe_for_a_terminal(text: str) -> list[str]:
    """Characters a terminal may act on: C0/C1 controls (but the newline), DEL, bidi controls."""
    bidi = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
    return [ch for ch in text if (ch != "\n" and unicodedata.category(ch) == "Cc") or ch in bidi]


@pytest.fixture
def hostile_store(fake_encoder, tmp_path) -> ra.KeyValueStore:
    rows = [
        {"id": f"h{i}", "title": t, "category": "pets\x1b[5m", "channel": "\u202eVT"}
        for i, t in enumerate(HOSTILE_TITLES)
    ]
    corpus = ra.parse_corpus(json.dumps(rows).encode(), "hostile.json")
    return ra.KeyValueStore.from_corpus(corpus, fake_encoder, cache_dir=tmp_path)


@pytest.mark.parametrize("width", [150, 80, 40], ids=["wide", "stacked", "very-narrow"])
@pytest.mark.parametrize("query", ["cats", HOSTILE_TITLES[0]], ids=["miss", "hit"])
def test_every_layout_escapes_control_characters(hostile_store, width, query):
    from retrieval_attention.cli import render_text

    results = hostile_store.retrieve(query, k=3, temperature=0.05)
    out = render_text(hostile_store, results, 3, 6, width)
    assert unsafe_for_a_terminal(out) == []
    assert "\\x1b[31mred" in out, "escaped so the reader sees what the title holds"


def test_terminal_text_is_the_one_helper():
    from retrieval_attention.cli import terminal_text

    assert terminal_text("plain 猫 café") == "plain 猫 café"
    assert terminal_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert terminal_text("x\u202ey") == "x\\u202ey"
    assert terminal_text("tab\there\nnewline\u3000wide space") == "tab here newline wide space"
    assert terminal_text("\U0001f468\u200d\U0001f469") == "\U0001f468\u200d\U0001f469", "emoji joiners kept"


def test_an_error_message_never_carries_control_characters(capsys):
    from retrieval_attention.cli import main

    assert main(["cats", "--corpus", "/nonexistent/\x1b]0;pwned\x07\x1b[2J.csv"]) == 2
    err = capsys.readouterr().err
    assert unsafe_for_a_terminal(err) == [] and err.count("error:") == 1


def test_json_output_escapes_control_characters_and_round_trips():
    from retrieval_attention.cli import json_text

    doc = {"title": "".join(HOSTILE_TITLES) + " \U000e0041 tag \u2028 sep", "n": 1}
    out = json_text(doc)
    assert unsafe_for_a_terminal(out) == [] and "\u2028" not in out
    assert json.loads(out) == doc


def test_json_output_is_strict_json():
    from retrieval_attention.cli import json_text

    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ra.InvalidParameterError, match="NaN or infinity"):
            json_text({"weight": bad})


@pytest.mark.slow
@pytest.mark.parametrize("columns", ["150", "80"], ids=["wide", "stacked"])
def test_cli_prints_hostile_titles_safely_in_both_layouts(tmp_path, columns):
    f = tmp_path / "evil\x1b[31m.csv"  # the file name reaches the warnings on stderr
    f.write_text(
        "title\n" + "\n".join(t.replace("\n", " ").replace("\r", " ") for t in HOSTILE_TITLES) + "\ncats\nCATS\n"
    )
    env = dict(os.environ, COLUMNS=columns, PYTHONIOENCODING="utf-8")
    p = subprocess.run(
        [sys.executable, "-m", "retrieval_attention", "cats", "--corpus", str(f), "--k", "3", "--top", "8"],
        capture_output=True,
        env=env,
        timeout=300,
    )
    out, err = p.stdout.decode(), p.stderr.decode()
    assert p.returncode == 0, err
    assert "same lookup key" in err, "the collision warning reached stderr"
    assert unsafe_for_a_terminal(out) == [] and unsafe_for_a_terminal(err) == []
    assert ("HARD LOOKUP" in out.splitlines()[1]) and (("TOP-3" in out.splitlines()[1]) == (columns == "150"))


# -- the CLI refuses what the library refuses: one line, exit 2, before the model loads -----------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cats", "--top", "-1"], "--top must be >= 1, got -1"),
        (["cats", "--top", "0"], "--top must be >= 1, got 0"),
        (["cats", "--k", "-3"], "k must be"),
        (["cats", "--k", "abc"], "argument --k: invalid int value: 'abc'"),
        (["cats", "--scale", "huge"], "argument --scale: invalid choice"),
        (["cats", "--temperature", "1e-45"], "temperature"),
        (["cats", "--temperature", "inf"], "temperature must be a finite number > 0"),
        (["cats", "--corpus", "/dev/null"], "unknown format '(no suffix)'"),
        (["cats", "--unknown-flag"], "unrecognized arguments: --unknown-flag"),
    ],
)
def test_cli_refusals_are_one_line_and_exit_2(args, message):
    err = one_line_error(cli(*args))
    assert message in err, err


# -- the smaller ones: capped messages, a double byte-order mark, ignored columns -----------------


def test_a_message_about_100000_columns_is_capped():
    header = ",".join(f"col{i}" for i in range(100_000))
    message = refused(f"{header}\n{','.join('x' * 100_000)}\n".encode(), "c.csv")
    assert "no 'title' column" in message and "'col0', 'col1'" in message
    assert "and 99,990 more" in message and len(message) < 400


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (",".join(["title"] + [f"d{i}" for i in range(1000)] * 2) + "\nx\n", "c.csv", "duplicate column names"),
        ("[{" + ",".join(f'"k{i}": 1, "k{i}": 2' for i in range(1000)) + "}]", "c.json", "duplicate field names"),
        ("id,title\n" + "".join(f"{i},a{i}\n{i},b{i}\n" for i in range(1000)), "c.csv", "duplicate ids"),
        ('[{"' + "k" * 100_000 + '": 1}]', "c.json", "no 'title' column"),
    ],
)
def test_every_message_quoting_the_file_is_capped(raw, name, message):
    text = refused(raw.encode(), name)
    assert message in text and len(text) < 600, len(text)


def test_unknown_history_ids_are_capped(tmp_path, tiny_corpus):
    p = tmp_path / "h.json"
    p.write_text(json.dumps({"personas": [{"id": "u", "history": ["z" * 10_000 + str(i) for i in range(50)]}]}))
    with pytest.raises(ra.CorpusError, match="unknown video ids") as info:
        ra.load_histories(p, corpus=tiny_corpus)
    assert len(str(info.value)) < 600


@pytest.mark.parametrize("name", ["c.csv", "c.json", "c.jsonl"])
def test_a_double_byte_order_mark_keeps_the_id_column(name):
    body = {
        "c.csv": "id,title\nx,Cats\n",
        "c.json": '[{"id": "x", "title": "Cats"}]',
        "c.jsonl": '{"id": "x", "title": "Cats"}\n',
    }[name]
    c = ra.parse_corpus(("\ufeff\ufeff" + body).encode(), name)
    assert c.ids == ["x"] and c.titles == ["Cats"]


def test_columns_that_are_not_used_are_named_in_a_warning():
    c = parse_csv("Ident,title,url\nx,Cats,http://a\n")
    assert c.ids == ["row1"]
    assert any("not used: 'Ident', 'url'" in w for w in c.warnings), c.warnings
    # a known field in another case is that field (issue 24): Excel's "Id" is the id
    assert parse_csv("Id,title\nx,Cats\n").ids == ["x"]


# -- nothing is half-loaded -----------------------------------------------------------------------

REFUSED_INPUTS = [
    (b'[{"title": "ok"}, {"title": "bad \\ud800"}]', "c.json"),  # 2. a lone surrogate in record 2
    (f'[{{"title": "ok"}}, {{"title": "b", "views": {HUGE}}}]'.encode(), "c.json"),  # 3. a huge integer
    (b"id,title\n1,a\n1,b\n", "c.csv"),  # duplicate ids, found after every row was read
    (b"title,views\na,1\nb,-1\n", "c.csv"),  # a bad number in the last row
    (b"title\n" + b"x" * (ra.corpus.MAX_CORPUS_BYTES + 1), "c.csv"),  # 5. too large
]


def test_a_refusal_leaves_the_previous_corpus_and_store_as_they_were(tiny_corpus, fake_encoder, tmp_path):
    store = ra.KeyValueStore.from_corpus(tiny_corpus, fake_encoder, cache_dir=tmp_path)
    before = (tiny_corpus.videos, tiny_corpus.warnings, tiny_corpus.source, tiny_corpus.content_hash)
    answer = store.retrieve("funny cats", k=2, temperature=0.05)["soft"].weights.copy()
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for raw, name in REFUSED_INPUTS:
        with pytest.raises(ra.CorpusError):
            ra.parse_corpus(raw, name)
    with pytest.raises(ra.CorpusError):
        corpus_from_titles(["fine", "bad \udcff"])
    load_within(fifo)
    assert (tiny_corpus.videos, tiny_corpus.warnings, tiny_corpus.source, tiny_corpus.content_hash) == before
    assert store.corpus is tiny_corpus and len(store) == len(tiny_corpus)
    assert (store.retrieve("funny cats", k=2, temperature=0.05)["soft"].weights == answer).all()


def test_an_error_line_quoting_a_huge_argument_is_capped():
    err = one_line_error(cli("cats", "--k", "9" * 5000))
    assert "argument --k: invalid int value" in err and len(err) < 600


def test_a_model_variable_with_undecodable_bytes_is_one_line_exit_2():
    env = dict(os.environ, RETRIEVAL_ATTENTION_MODEL=os.fsdecode(b"\xffmodel"))
    p = subprocess.run([sys.executable, "-m", "retrieval_attention", "cats"], capture_output=True, env=env, timeout=120)
    err = one_line_error(p)
    assert "$RETRIEVAL_ATTENTION_MODEL '\\xffmodel' is not valid UTF-8 (byte 0xff at character 1)" in err


@pytest.mark.slow
def test_a_terminal_that_cannot_show_utf8_still_gets_json_and_text(tmp_path):
    env = dict(os.environ, PYTHONIOENCODING="latin-1", COLUMNS="80")
    run = [sys.executable, "-m", "retrieval_attention", "猫", "--k", "2", "--top", "2"]
    p = subprocess.run([*run, "--json"], capture_output=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr.decode("latin-1")
    assert json.loads(p.stdout.decode("latin-1"))["query"] == "猫"
    p = subprocess.run(run, capture_output=True, env=env, timeout=300)
    assert p.returncode == 0 and b"Traceback" not in p.stderr
