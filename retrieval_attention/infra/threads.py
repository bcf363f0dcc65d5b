"""Thread settings for a small CPU: torch, FAISS and numpy's BLAS each bring their own thread pool.

Three pools live in one process here: torch's intra-op OpenMP pool (the encoder's forward pass),
FAISS's own OpenMP runtime (index builds and batched searches) and OpenBLAS under numpy (the
matrix products of exact attention). Each sizes itself to every core, and each keeps its worker
threads spinning for a while after a call. On a 2-core machine, when calls alternate between
pools (encode, then search, then attention), the spinning workers of one pool take a core from
the next, so a query is faster with fewer threads in the pools it does not lean on (the figures
are in docs/benchmarks.md, section "Thread settings", written by ``make bench``).

:func:`recommended_threads` says what measured best on the 2-core benchmark machine;
:func:`configure_threads` applies a setting.
Importing this module changes nothing: the app, the CLI and the benchmarks call the function.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

__all__ = ["ThreadSettings", "configure_threads", "current_threads", "lower_priority", "recommended_threads"]

Workload = Literal["interactive", "batch"]


@dataclass(frozen=True)
class ThreadSettings:
    """Threads per pool; 0 leaves a pool as it is."""

    torch: int  # torch intra-op threads: the encoder's forward pass
    faiss: int  # FAISS OpenMP threads: index builds and searches of many queries
    blas: int  # OpenBLAS threads under numpy: q·Kᵀ and w·V in exact attention


def recommended_threads(workload: Workload = "interactive", cpus: int | None = None) -> ThreadSettings:
    """The measured choice for this kind of work: one pool gets every core, the others one thread.

    * ``"interactive"`` (the app, the CLI: one short query at a time): every core for torch
      (the query's forward pass is the largest cost), one FAISS thread (FAISS answers a single
      query on one thread anyway) and one BLAS thread (the app's products over at most 20k keys
      are small; with two BLAS threads their spinning slows the next forward pass more than
      they save).
    * ``"batch"`` (embedding a corpus, building an index, searching many queries at once):
      every core for torch and FAISS, which never run at the same time, and one BLAS thread.
      Exact attention over many queries at once (one dense matrix product) is the exception:
      give BLAS every core while it runs, ``ThreadSettings(torch=0, faiss=0, blas=cpus)``.

    Args:
        workload: "interactive" or "batch".
        cpus: cores to plan for; None means ``os.cpu_count()``.

    Returns:
        A :class:`ThreadSettings`.

    Example:
        >>> recommended_threads("interactive", cpus=2)
        ThreadSettings(torch=2, faiss=1, blas=1)
        >>> recommended_threads("batch", cpus=2)
        ThreadSettings(torch=2, faiss=2, blas=1)
    """
    n = max(1, cpus or os.cpu_count() or 1)
    if workload == "interactive":
        return ThreadSettings(torch=n, faiss=1, blas=1)
    if workload == "batch":
        return ThreadSettings(torch=n, faiss=n, blas=1)
    raise ValueError(f"workload must be 'interactive' or 'batch', got {workload!r}")


def configure_threads(settings: ThreadSettings | Workload = "interactive") -> dict[str, int]:
    """Apply thread settings to the pools of this process.

    FAISS and BLAS are set at once. Torch is set only if it is already imported (importing it
    costs seconds, and the encoder imports it anyway): call this again after the encoder loads,
    or just call it once after :func:`~retrieval_attention.encoders.get_encoder`.

    The torch and OpenBLAS settings hold for the whole process. The FAISS setting holds only for
    the calling thread: FAISS's OpenMP runtime (GNU libgomp) keeps the thread count per thread,
    and a new thread starts from the default (every core, or ``$OMP_NUM_THREADS``). A server
    that searches from worker threads (Streamlit runs each script run in one) gets FAISS's
    default there; for single queries that changes nothing, FAISS answers one query on one thread.
    And if torch is imported before FAISS, FAISS's OpenMP calls bind to torch's libgomp (loaded
    globally by torch), so the two share one count: whichever is set last wins for both. The
    benchmarks report the counts actually in effect (:func:`current_threads`), not the request.

    Args:
        settings: a :class:`ThreadSettings`, or a workload name for :func:`recommended_threads`.

    Returns:
        The thread counts now in effect, as :func:`current_threads`.

    Example:
        >>> configure_threads(ThreadSettings(torch=0, faiss=1, blas=0))["faiss"]
        1
    """
    s = recommended_threads(settings) if isinstance(settings, str) else settings
    if s.blas > 0:
        _set_blas_threads(s.blas)
    if s.faiss > 0:  # after BLAS: FAISS's bundled OpenBLAS shares FAISS's OpenMP runtime, so it follows this
        from retrieval_attention.index import set_faiss_threads

        set_faiss_threads(s.faiss)
    if s.torch > 0 and "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != s.torch:
            torch.set_num_threads(s.torch)
    return current_threads()


def _numpy_blas(pool: dict) -> bool:
    """True for numpy's BLAS (not the copy bundled inside FAISS, which FAISS's threads govern)."""
    return "faiss" not in pool.get("filepath", "")


def _set_blas_threads(n: int) -> None:
    from threadpoolctl import ThreadpoolController  # a required dependency

    for lib in ThreadpoolController().select(user_api="blas").lib_controllers:
        if _numpy_blas({"filepath": lib.filepath}):
            lib.set_num_threads(n)


def current_threads() -> dict[str, int]:
    """Threads each pool uses now: ``{"torch": .., "faiss": .., "blas": ..}`` (-1: not loaded).

    Example:
        >>> sorted(current_threads())
        ['blas', 'faiss', 'torch']
    """
    from threadpoolctl import threadpool_info

    from retrieval_attention.index import faiss_threads

    torch = sys.modules.get("torch")
    pools = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas" and _numpy_blas(p)]
    blas = max(pools) if pools else -1
    return {"torch": torch.get_num_threads() if torch is not None else -1, "faiss": faiss_threads(), "blas": blas}


@contextmanager
def lower_priority(increment: int = 10) -> Iterator[int | None]:
    """Run a long block (one student's 20,000-title upload) at a lower CPU priority than everyone else.

    Linux schedules threads one by one and gives each its own nice value; a thread started inside
    the block (the encoder's worker pool) inherits it. So the calling thread alone yields the CPU to
    the other sessions' reruns and to the other replicas on the machine, and the process, its other
    threads and other processes keep theirs. Afterwards the old value is put back where the system
    allows it (raising a priority again needs CAP_SYS_NICE or an RLIMIT_NICE; without them the
    thread keeps the lower one until it ends, as a Streamlit script thread does after its run).
    Elsewhere than Linux this changes nothing.

    Args:
        increment: how much nicer to be (1 to 19; 10 gives the others roughly ten times the share;
            0 or less changes nothing).

    Yields:
        The thread's nice value inside the block, or None where it was not changed.

    Example:
        >>> with lower_priority(5) as nice:
        ...     pass  # embed here
    """
    if increment <= 0 or not sys.platform.startswith("linux") or not hasattr(os, "setpriority"):
        yield None
        return
    tid = threading.get_native_id()
    try:
        before = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, min(19, before + increment))
        inside: int | None = os.getpriority(os.PRIO_PROCESS, tid)
    except OSError:
        yield None
        return
    try:
        yield inside
    finally:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, before)
        except OSError:  # not permitted to raise it again: the thread stays nicer until it ends
            pass
