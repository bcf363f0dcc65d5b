"""Reading a corpus or history file safely: a regular file of bounded size, read with a cap.

A path can name something that is not a file at all: a named pipe (reading it waits forever for a
writer), a device (``/dev/zero`` never ends), a socket or a folder. :func:`read_capped` looks at what
the path is before reading a byte, opens it without blocking, checks the size against the limit, and
then reads at most one byte more than the limit, so a file that grows (or a ``/proc`` file whose size
says 0) cannot make it read more.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from retrieval_attention.corpus.records import printable_label
from retrieval_attention.errors import CorpusError
from retrieval_attention.infra.paths import os_problem

__all__ = ["MAX_CORPUS_BYTES", "check_size", "read_capped"]

#: Largest corpus file accepted by default, in the app's upload and in load_corpus / parse_corpus
#: alike (5 MB, Streamlit's unit): about 20,000 records with a description each.
MAX_CORPUS_BYTES = 5 * 1024 * 1024

_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _amount(n: int) -> str:
    """Bytes in words: '1,000 bytes' below a megabyte, else '5 MB' or '5.2 MB' (MB = 2**20 bytes)."""
    if n < 2**20:
        return f"{n:,} bytes"
    mb = n / 2**20
    return f"{mb:.0f} MB" if mb.is_integer() else f"{mb:.1f} MB"


def check_size(size: int, label: str, max_bytes: int | None) -> None:
    """Raise if ``size`` bytes is more than ``max_bytes`` (None: no limit).

    Raises:
        CorpusError: with the size and the limit.

    Example:
        >>> check_size(6 * 2**20, "big.csv", MAX_CORPUS_BYTES)
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.CorpusError: big.csv is 6 MB (6,291,456 bytes); the limit is 5 MB
    """
    if max_bytes is not None and size > max_bytes:
        exact = f" ({size:,} bytes)" if size >= 2**20 else ""
        raise CorpusError(f"{label} is {_amount(size)}{exact}; the limit is {_amount(max_bytes)}")


def _refuse_kind(mode: int, shown: str) -> None:
    if stat.S_ISDIR(mode):
        raise CorpusError(f"{shown} is a folder, not a corpus file")
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a file")
        raise CorpusError(f"{shown} is not a regular file ({kind}): save the data to a .csv, .json or .jsonl file")


def read_capped(path: str | Path, max_bytes: int | None = MAX_CORPUS_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, refusing anything else before reading it.

    Args:
        path: the file (symlinks are followed).
        max_bytes: refuse a file larger than this; None reads a regular file of any size.

    Returns:
        The file's bytes, at most ``max_bytes`` of them.

    Raises:
        CorpusError: not found, a folder, a named pipe, a device or a socket, too large, or unreadable.

    Example:
        >>> read_capped("/dev/zero")
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.CorpusError: /dev/zero is not a regular file (a character device): save the data to a .csv, .json or .jsonl file
    """
    shown = printable_label(str(path))
    try:
        _refuse_kind(os.stat(path).st_mode, shown)  # before open(): opening a named pipe blocks
        # O_NONBLOCK: if the path was swapped for a pipe since stat(), open() still returns at once.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise CorpusError(f"corpus file not found: {shown}") from None
    except OSError as exc:
        raise CorpusError(f"cannot read {shown}: {os_problem(exc)}") from None
    try:
        st = os.fstat(fd)
        _refuse_kind(st.st_mode, shown)
        check_size(st.st_size, shown, max_bytes)
        cap = None if max_bytes is None else max_bytes + 1
        chunks, got = [], 0
        while cap is None or got < cap:
            chunk = os.read(fd, 1 << 20 if cap is None else min(1 << 20, cap - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    except OSError as exc:
        raise CorpusError(f"cannot read {shown}: {os_problem(exc)}") from None
    finally:
        os.close(fd)
    if max_bytes is not None and got > max_bytes:
        raise CorpusError(
            f"{shown} holds more than the limit of {_amount(max_bytes)} (it grew while being read, "
            "or its size was not known in advance)"
        )
    return b"".join(chunks)
