"""The replica script (deploy/replicas.py) signals only its own processes and fails loudly when nginx
cannot have its port (issue 24, family 8).

Before: ``stop`` (and ``start``, which stops an old deployment first) sent SIGTERM to every PID in an old
state file, whatever process held that number now; and ``start`` on a port another server held printed
"open http://..." and exited 0 while its nginx had died, because the other server answered the check.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from deploy import replicas

ROOT = Path(__file__).resolve().parent.parent
needs_nginx = pytest.mark.skipif(replicas.nginx_binary() is None, reason="nginx is not installed (make system-deps)")


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "deploy.replicas", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300
    )


@pytest.fixture
def stranger():
    """An unrelated process that leads its own process group, as a replica did: it must survive."""
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def other_server():
    """Another web server on a port of 127.0.0.1 that answers every request with 200."""

    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer((replicas.HOST, 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def write_state(state: Path, pid: int, started: dict | None = None) -> None:
    """A state file as ``start`` leaves it (``started`` None: the format before the identity record)."""
    state.mkdir(parents=True, exist_ok=True)
    doc = {
        "url": "http://127.0.0.1:1",
        "nginx_pid": pid,
        "replica_ports": [2],
        "replica_pids": [pid],
        "state": str(state),
    }
    if started is not None:
        doc["started"] = started
    (state / "state.json").write_text(json.dumps(doc), encoding="utf-8")


def alive(proc: subprocess.Popen) -> bool:
    time.sleep(0.3)
    return proc.poll() is None


@pytest.mark.parametrize("record", ["old-format", "other-start-time"])
def test_stop_spares_a_process_that_reuses_a_recorded_pid(tmp_path, stranger, record):
    start, exe = replicas.process_identity(stranger.pid)
    write_state(tmp_path, stranger.pid, None if record == "old-format" else {str(stranger.pid): [start - 7, exe]})
    proc = run_script("stop", "--state", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert alive(stranger), "stop killed a process it did not start"
    assert f"pid {stranger.pid} is no longer one this deployment started" in proc.stderr
    assert not (tmp_path / "state.json").exists()


def test_stop_still_ends_what_start_began(tmp_path):
    mine = replicas._spawn(["sleep", "300"], tmp_path / "sleep.log")  # as start spawns nginx and the replicas
    try:
        write_state(tmp_path, mine.pid, {str(mine.pid): list(replicas.process_identity(mine.pid))})
        assert replicas.stop(tmp_path)
        assert mine.wait(timeout=15) is not None
    finally:
        mine.kill()
        mine.wait()


@needs_nginx
def test_start_refuses_a_port_another_server_holds_and_spares_the_stranger(tmp_path, stranger, other_server):
    write_state(tmp_path, stranger.pid)  # a stale state file: start stops the old deployment first
    t0 = time.perf_counter()
    proc = run_script("start", "--replicas", "1", "--port", str(other_server), "--state", str(tmp_path))
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "open http" not in proc.stdout
    assert f"port {other_server} on 127.0.0.1 is already in use by another program" in proc.stderr
    assert time.perf_counter() - t0 < 60, "refused before starting the replicas"
    assert alive(stranger)


def replica_processes(port: int) -> list[int]:
    """PIDs whose command line runs Streamlit on ``port``."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"streamlit" in b" ".join(cmd) and str(port).encode() in cmd:
                out.append(int(entry.name))
    return out


@needs_nginx
@pytest.mark.slow
def test_start_fails_with_nginx_error_when_the_port_is_taken_under_it(tmp_path, other_server, monkeypatch):
    """The port was free when checked and taken before nginx bound it: nginx dies with its bind error,
    the other server answers the health check, and start must still fail (it printed "open" before)."""
    monkeypatch.setattr(replicas, "port_free", lambda port: True)
    with pytest.raises(replicas.DeployError) as info:
        replicas.start(replicas=1, port=other_server, state=tmp_path, timeout=240)
    msg = str(info.value)
    assert "Address already in use" in msg and "another program answers on that port" in msg, msg
    assert not (tmp_path / "state.json").exists()
    ports = [int(p.stem.split("_")[1]) for p in tmp_path.glob("replica_*.log")]
    assert ports and not any(replica_processes(p) for p in ports), "the replica begun was stopped"


def test_replicas_limit_the_model_box(monkeypatch):
    from retrieval_attention.config import MODELS_ENV_VAR

    monkeypatch.delenv(MODELS_ENV_VAR, raising=False)
    assert replicas.replica_env()[MODELS_ENV_VAR] == "all-MiniLM-L6-v2,multilingual-e5-small"
    monkeypatch.setenv(MODELS_ENV_VAR, "all-MiniLM-L6-v2,/srv/models/bge")
    assert replicas.replica_env()[MODELS_ENV_VAR] == "all-MiniLM-L6-v2,/srv/models/bge", "the operator's list wins"
    unit = (ROOT / "deploy" / "retrieval-attention@.service").read_text()
    assert f"Environment={MODELS_ENV_VAR}=all-MiniLM-L6-v2,multilingual-e5-small" in unit
