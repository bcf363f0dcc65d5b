"""N replicas of the app behind nginx on this machine, with session affinity: start, status, stop.

One Streamlit process runs every session's script under one interpreter lock, so a class of 30 queues
on one core even when the machine has more. Replicas are separate processes (each with its own model
in memory) behind nginx, which pins each browser to one replica by a cookie (deploy/nginx.conf.template
says why a cookie and not the client address).

    python -m deploy.replicas run --replicas 2 --port 8500     # foreground; Ctrl-C stops everything
    python -m deploy.replicas start --replicas 2 --port 8500   # background; state in .cache/replicas/
    python -m deploy.replicas status
    python -m deploy.replicas stop

Everything listens on 127.0.0.1 only (put a real server's nginx in front for a network), the number
of replicas is bounded, and ``stop`` ends every process ``start`` began, and only those: a PID in an
old state file is signalled only while it is still the process we started (same start time and
program, from /proc, and the leader of the process group we created), never a later process that
reuses the number. ``start`` fails, with nginx's own error, when its port is held by another
program: it refuses a port that is taken, and it trusts only an answer that carries this
deployment's token (a header nginx adds), from an nginx that is still running. The app processes
get ``RETRIEVAL_ATTENTION_MODELS`` (the bundled two unless the environment lists more), so the
sidebar's model box is a drop-down: a class cannot probe the server's files through it. Used by
`make serve`, the replica test (tests/test_replicas.py) and the load benchmark
(benchmarks/bench_server_load.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from retrieval_attention.config import DEFAULT_MODEL, MODELS_ENV_VAR, MULTILINGUAL_MODEL, UPLOAD_NICE_ENV_VAR

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
DEFAULT_STATE = ROOT / ".cache" / "replicas"
MAX_REPLICAS = 16
HOST = "127.0.0.1"
NGINX_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
#: The header nginx adds to every answer (deploy/nginx.conf.template): this deployment's token.
TOKEN_HEADER = "X-Replicas-Deployment"


class DeployError(RuntimeError):
    """A replica or nginx could not be started (the message says which and where its log is)."""


@dataclass
class Deployment:
    """What ``start`` began: the public URL, and every process with its log."""

    url: str  # http://127.0.0.1:PORT, nginx
    nginx_pid: int
    replica_ports: list[int]
    replica_pids: list[int]
    state: str  # folder with the nginx config, logs and state.json
    started: dict[str, list] = field(default_factory=dict)  # pid -> [start time in ticks, program]: ours


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def nginx_binary() -> str | None:
    """Debian's nginx (/usr/sbin is not always on a non-root PATH)."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


def port_free(port: int) -> bool:
    """True if nothing listens on 127.0.0.1:``port`` (a closing connection does not count, as for nginx)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _nginx_error(log: Path) -> str:
    """nginx's first emergency (else error) line in ``log``, e.g. bind() ... failed (98: Address already in use)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return f"no log at {log}"
    worst = [ln for ln in lines if "[emerg]" in ln] or [ln for ln in lines if "[error]" in ln or "[crit]" in ln]
    if not worst:
        return f"see {log}"
    first = worst[0].split("] ", 1)[-1]  # the cause; later lines only repeat it ("still could not bind()")
    return re.sub(r"^\d+#\d+: ", "", first)  # without nginx's "pid#thread: " prefix


def _wait_nginx(url: str, proc: subprocess.Popen, token: str, log: Path, timeout: float) -> None:
    """Return once the nginx we started answers ``url`` with our token and is still running.

    Another server on the same port answers too (with status 200): only our token counts, and nginx
    must be alive afterwards (it retries a taken port for about 2 s before it exits).

    Raises:
        DeployError: nginx exited or never answered, with nginx's own error.
    """
    deadline = time.time() + timeout
    stranger = False  # something else answered on the port
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.headers.get(TOKEN_HEADER) == token:
                    time.sleep(0.2)
                    if proc.poll() is None:
                        return
                    break
                stranger = True
        except OSError:
            pass
        time.sleep(0.2)
    if proc.poll() is None:
        proc.terminate()
    held = "; another program answers on that port" if stranger else ""
    raise DeployError(f"nginx could not serve {url}: {_nginx_error(log)}{held}; see {log}")


def _wait_http(url: str, proc: subprocess.Popen, what: str, log: Path, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise DeployError(f"{what} exited with status {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise DeployError(f"{what} did not answer {url} within {timeout:.0f} s; see {log}")


def _spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    with open(log, "w") as out:  # the child keeps its own descriptor
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def render_config(state: Path, listen_port: int, replica_ports: list[int], token: str = "") -> str:
    """The nginx configuration for these replicas, listening on 127.0.0.1:listen_port, adding ``token``
    to every answer (so ``start`` can tell its nginx from another server on the port)."""
    servers = "\n".join(f"        server {HOST}:{p} max_fails=0;" for p in replica_ports)
    text = TEMPLATE.read_text(encoding="utf-8")
    return text.format(state=state, listen=f"{HOST}:{listen_port}", servers=servers, token=token or "-")


def replica_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The app processes' environment: this one, ``env`` on top, and two defaults unless either sets them.

    Several processes share the cores, so one session's upload embedding yields the CPU to the other
    replicas (``RETRIEVAL_ATTENTION_UPLOAD_NICE=10``, see retrieval_attention/config.py). And a class
    shares the server, so the model box offers a list instead of taking paths
    (``RETRIEVAL_ATTENTION_MODELS``: the two bundled models unless the operator lists more).
    """
    defaults = {UPLOAD_NICE_ENV_VAR: "10", MODELS_ENV_VAR: f"{DEFAULT_MODEL},{MULTILINGUAL_MODEL}"}
    return {**defaults, **os.environ, **(env or {})}


def start(
    replicas: int = 2,
    port: int | None = None,
    state: Path = DEFAULT_STATE,
    env: dict[str, str] | None = None,
    timeout: float = 180.0,
) -> Deployment:
    """Start ``replicas`` app processes and nginx in front of them; return once nginx answers.

    Args:
        replicas: number of app processes, 1..MAX_REPLICAS.
        port: nginx's port on 127.0.0.1 (None: a free one).
        state: folder for the nginx config, logs and state.json (replaced).
        env: extra environment for the app processes.
        timeout: seconds to wait for each process to answer its health check.

    Raises:
        DeployError: nginx is missing, or a process did not come up (everything begun is stopped).
    """
    if not 1 <= replicas <= MAX_REPLICAS:
        raise DeployError(f"replicas must be 1..{MAX_REPLICAS}, got {replicas}")
    nginx = nginx_binary()
    if nginx is None:
        raise DeployError("nginx is not installed (Debian: apt-get install nginx)")
    if (state / "state.json").exists():
        stop(state)
    listen = port or free_port()
    if not port_free(listen):  # before the replicas: nginx would die on it, and another server answers there
        raise DeployError(f"port {listen} on {HOST} is already in use by another program; choose another --port")
    state.mkdir(parents=True, exist_ok=True)
    for name in NGINX_TEMP_DIRS:  # nginx's workers run as an unprivileged user when the master is root
        (state / name).mkdir(exist_ok=True)
        (state / name).chmod(0o777)
    full_env = replica_env(env)
    procs: list[subprocess.Popen] = []
    ports = [free_port() for _ in range(replicas)]
    try:
        for p in ports:
            cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(p)]
            cmd += ["--server.address", HOST, "--server.headless", "true"]
            procs.append(_spawn(cmd, state / f"replica_{p}.log", full_env))
        for p, proc in zip(ports, procs):
            _wait_http(
                f"http://{HOST}:{p}/_stcore/health", proc, f"replica on port {p}", state / f"replica_{p}.log", timeout
            )
        conf, token = state / "nginx.conf", secrets.token_hex(16)
        conf.write_text(render_config(state, listen, ports, token), encoding="utf-8")
        ng = _spawn(
            [nginx, "-p", str(state), "-c", str(conf), "-e", str(state / "nginx_error.log")], state / "nginx.log"
        )
        procs.append(ng)
        _wait_nginx(f"http://{HOST}:{listen}/_stcore/health", ng, token, state / "nginx_error.log", 30)
    except BaseException:
        _terminate([p.pid for p in procs])
        raise
    started = {str(p.pid): list(ident) for p in procs if (ident := process_identity(p.pid)) is not None}
    dep = Deployment(f"http://{HOST}:{listen}", ng.pid, ports, [p.pid for p in procs[:-1]], str(state), started)
    (state / "state.json").write_text(json.dumps(asdict(dep), indent=2), encoding="utf-8")
    return dep


def _terminate(pids: list[int], grace: float = 10.0) -> None:
    """SIGTERM each process group, then SIGKILL what is left after ``grace`` seconds."""
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.time() + grace
    for pid in pids:
        while time.time() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reaps our own children
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def process_identity(pid: int) -> tuple[int, str] | None:
    """(start time in clock ticks since boot, program path) of a running process, from /proc; None if gone.

    A PID is reused once its process ends; the pair is not: it tells our process from a later one.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        start = int(stat.rsplit(")", 1)[1].split()[19])  # field 22; the name before ")" may hold spaces
        exe = os.readlink(f"/proc/{pid}/exe")
    except (OSError, ValueError, IndexError):
        return None
    return start, exe


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def is_ours(dep: Deployment, pid: int) -> bool:
    """True while ``pid`` is still a process ``start`` began for ``dep`` (so signalling it is safe).

    It must lead its own process group (``start`` makes one per process) and match what the state
    recorded: start time and program. A state file from before that record is matched on the command
    line instead (nginx with this state folder, or Streamlit running this app).
    """
    ident = process_identity(pid)
    try:
        if ident is None or os.getpgid(pid) != pid:
            return False
    except OSError:
        return False
    recorded = dep.started.get(str(pid))
    if recorded is not None:
        return list(ident) == list(recorded)
    cmd = _command_line(pid)
    if pid == dep.nginx_pid:
        return "nginx" in cmd and dep.state in cmd
    return "streamlit" in cmd and str(ROOT / "app.py") in cmd


def load_state(state: Path = DEFAULT_STATE) -> Deployment | None:
    try:
        return Deployment(**json.loads((state / "state.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


def stop(state: Path = DEFAULT_STATE) -> bool:
    """Stop nginx and the replicas that ``start`` recorded in ``state``; False if none were recorded."""
    dep = load_state(state)
    if dep is None:
        return False
    ours = []
    for pid in [dep.nginx_pid, *dep.replica_pids]:
        if is_ours(dep, pid):
            ours.append(pid)
        elif process_identity(pid) is not None:
            print(f"warning: pid {pid} is no longer one this deployment started ({_command_line(pid)[:80]!r}); "
                  "not signalled", file=sys.stderr)  # fmt: skip
    _terminate(ours)
    (state / "state.json").unlink(missing_ok=True)
    return True


def rss_mb(pid: int) -> float | None:
    """Resident memory of one process in MB (Linux /proc), None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.replicas", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["run", "start", "status", "stop"])
    parser.add_argument("--replicas", type=int, default=2, help=f"app processes, 1..{MAX_REPLICAS} (default 2)")
    parser.add_argument("--port", type=int, default=8500, help="nginx's port on 127.0.0.1 (default 8500)")
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help="folder for config, logs, pids")
    args = parser.parse_args(argv)
    try:
        if args.action == "stop":
            print("stopped" if stop(args.state) else "nothing recorded as running")
            return 0
        if args.action == "status":
            dep = load_state(args.state)
            if dep is None:
                print("not running")
                return 1
            print(f"{dep.url} (nginx pid {dep.nginx_pid})")
            for p, pid in zip(dep.replica_ports, dep.replica_pids):
                mb = rss_mb(pid) if is_ours(dep, pid) else None
                print(f"  replica 127.0.0.1:{p} pid {pid}: " + (f"{mb:.0f} MB resident" if mb else "not running"))
            return 0
        print(f"starting {args.replicas} replica(s) and nginx (logs in {args.state})...", flush=True)
        dep = start(args.replicas, args.port, args.state)
        print(f"open {dep.url}  (replicas on ports {', '.join(map(str, dep.replica_ports))})", flush=True)
        if args.action == "start":
            return 0
        try:
            signal.pause() if hasattr(signal, "pause") else time.sleep(1e9)
        except KeyboardInterrupt:
            pass
        finally:
            stop(args.state)
            print("stopped")
        return 0
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
