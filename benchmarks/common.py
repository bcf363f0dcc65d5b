"""Shared benchmark plumbing: timing with warm-up and repeats, machine description, quiet-machine
check, peak memory, and the results folder. No benchmark logic here."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
#: Everything big the benchmarks make (embeddings, derived keys, indexes, raw results): ignored by git.
WORK = ROOT / ".cache" / "benchmarks"
CACHE = WORK / "cache"  # cache_dir for embed_documents and cached_index
RESULTS = WORK / "results"  # one JSON per benchmark; report.py turns them into docs/benchmarks.md
DOCS = ROOT / "docs"


@dataclass(frozen=True)
class Timing:
    """Repeated wall-clock timings of one call, in milliseconds."""

    median_ms: float
    p10_ms: float
    p90_ms: float
    repeats: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def time_call(fn: Callable[[], Any], repeats: int = 20, warmup: int = 3, min_time_s: float = 0.0) -> Timing:
    """Median (and p10/p90) wall time of ``fn()`` after ``warmup`` untimed calls.

    Runs at least ``repeats`` timed calls, more while the total is under ``min_time_s``
    (cheap calls get many repeats, so their median is stable).
    """
    for _ in range(warmup):
        fn()
    ts: list[float] = []
    start = time.perf_counter()
    while len(ts) < repeats or (time.perf_counter() - start < min_time_s and len(ts) < 100_000):
        a = time.perf_counter_ns()
        fn()
        ts.append((time.perf_counter_ns() - a) / 1e6)
    ts.sort()
    q = statistics.quantiles(ts, n=10) if len(ts) >= 2 else [ts[0]] * 9
    return Timing(statistics.median(ts), q[0], q[-1], len(ts))


def load_average() -> float:
    return os.getloadavg()[0]


def wait_for_quiet(limit: float = 2.5, max_wait_s: float = 1800, poll_s: float = 60) -> float:
    """Wait (up to ``max_wait_s``) until the 1-minute load average is at most ``limit``; return it.

    The machine may be shared: measurements taken while other work runs are not comparable.
    """
    waited = 0.0
    load = load_average()
    while load > limit and waited < max_wait_s:
        print(f"  load average {load:.2f} > {limit}: waiting {poll_s:.0f} s for a quiet machine", flush=True)
        time.sleep(poll_s)
        waited += poll_s
        load = load_average()
    if load > limit:
        print(f"  WARNING: still busy after {waited:.0f} s (load {load:.2f}); measuring anyway", flush=True)
    return load


def peak_rss_bytes() -> int:
    """This process's peak resident memory (VmHWM), in bytes."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def rss_bytes(pid: int | str = "self") -> int:
    """A process's current resident memory (VmRSS), in bytes; this process by default."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int | str = "self") -> float:
    """A process's CPU time so far (user + system, from ``/proc/<pid>/stat``), in seconds; this process by default."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rpartition(")")[2].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def machine() -> dict[str, Any]:
    """CPU model, cores, memory, OS and library versions: the context every number needs."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gb = int(line.split()[1]) / 1024**2
    except OSError:
        pass
    import faiss
    import numpy

    versions = {"python": platform.python_version(), "numpy": numpy.__version__, "faiss": faiss.__version__}
    for mod in ("torch", "sentence_transformers", "streamlit"):
        try:
            versions[mod] = __import__(mod).__version__ if mod in sys.modules else _dist_version(mod)
        except Exception:
            versions[mod] = "?"
    blas = "?"
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{p['internal_api']} {p.get('version') or ''} ({Path(p['filepath']).name})".strip()
            for p in threadpool_info()
        )
    except Exception:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions,
        "thread_pools": blas,
    }


def _dist_version(module: str) -> str:
    from importlib.metadata import version

    return version(module.replace("_", "-"))


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def save_result(name: str, data: dict[str, Any]) -> Path:
    """Write ``RESULTS/<name>.json`` (atomically) with the date, load and machine added."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {"name": name, "date": now(), "load_average_at_end": round(load_average(), 2), **data}
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=_jsonable), encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_result(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _jsonable(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def run_module(module: str, *args: str, timeout_s: float = 3600) -> None:
    """Run ``python -m module args`` in a fresh process (so peaks and thread pools do not mix)."""
    cmd = [sys.executable, "-m", module, *args]
    print("$", " ".join(cmd[1:]), flush=True)
    subprocess.run(cmd, cwd=ROOT, check=True, timeout=timeout_s)
