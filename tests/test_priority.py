"""lower_priority: one long embedding yields the CPU, and only the thread that asked (and its workers) does."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from retrieval_attention.infra.threads import lower_priority

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice values per thread are Linux's")


def nice_of(tid: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, tid)


def in_thread(fn):
    """Run ``fn`` in a new thread (so the test's own thread keeps its priority) and return its result."""
    out: list = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(30)
    return out[0]


def test_the_block_runs_nicer_and_the_process_does_not():
    main_before = nice_of(threading.get_native_id())

    def work():
        tid = threading.get_native_id()
        before = nice_of(tid)
        with lower_priority(5) as inside:
            during = nice_of(tid)
            worker = in_thread(lambda: nice_of(threading.get_native_id()))  # the encoder's pool starts inside
            main_during = nice_of(main_tid)
        return before, inside, during, worker, main_during, nice_of(tid)

    main_tid = threading.get_native_id()
    before, inside, during, worker, main_during, after = in_thread(work)
    assert inside == during == min(19, before + 5)
    assert worker == during, "a thread started inside inherits the lower priority"
    assert main_during == main_before, "the other threads keep theirs"
    if os.geteuid() == 0:  # raising a priority again is allowed to root (CAP_SYS_NICE)
        assert after == before
    else:
        assert after in (before, during)


def test_an_impossible_change_is_no_error(monkeypatch):
    def refuse(*_args):
        raise PermissionError("not permitted")

    monkeypatch.setattr(os, "setpriority", refuse)
    with lower_priority() as inside:
        assert inside is None


def test_zero_changes_nothing():
    with lower_priority(0) as inside:
        assert inside is None


@pytest.mark.parametrize(
    ("raw", "nice"), [(None, 0), ("", 0), ("10", 10), ("99", 19), ("-5", 0), ("ten", 0), (" 3 ", 3)]
)
def test_the_upload_nice_setting(monkeypatch, raw, nice):
    from retrieval_attention.config import UPLOAD_NICE_ENV_VAR
    from ui.components.store import upload_nice

    if raw is None:
        monkeypatch.delenv(UPLOAD_NICE_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(UPLOAD_NICE_ENV_VAR, raw)
    assert upload_nice() == nice


def test_replicas_set_it_and_a_single_process_does_not(monkeypatch):
    from deploy import replicas
    from retrieval_attention.config import UPLOAD_NICE_ENV_VAR

    monkeypatch.delenv(UPLOAD_NICE_ENV_VAR, raising=False)
    assert replicas.replica_env()[UPLOAD_NICE_ENV_VAR] == "10"
    assert replicas.replica_env({UPLOAD_NICE_ENV_VAR: "0"})[UPLOAD_NICE_ENV_VAR] == "0", "the caller decides"
    monkeypatch.setenv(UPLOAD_NICE_ENV_VAR, "5")
    assert replicas.replica_env()[UPLOAD_NICE_ENV_VAR] == "5", "so does the environment"
    unit = (replicas.ROOT / "deploy" / "retrieval-attention@.service").read_text()
    assert f"Environment={UPLOAD_NICE_ENV_VAR}=10" in unit
