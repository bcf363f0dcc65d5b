"""The converted copy of a decoder: float32 arrays memory-mapped from the per-user cache, and its tokenizer.

Reading a GGUF file means parsing it and dequantising every block (tens of seconds on a small
machine), so the first load writes what it produced to
``<cache>/decoders/<name>-<key>/`` and later loads map those arrays from disk in seconds:

* ``manifest.json``: the format version, the source it came from, the architecture, the metadata
  the forward pass needs (not the vocabulary) and, per array, its file, shape and CRC-32;
* ``tokenizer.json``: the tokenizer built from the vocabulary (see :mod:`.tokenizer`);
* one ``.npy`` per tensor, float32, in the layout the forward pass uses.

The folder is written under a temporary name and renamed when complete, so a crash leaves no half
copy. Every load checks each file's size and CRC-32 against the manifest: a damaged copy (a disk
that filled up, a truncated or edited file) is deleted and rebuilt, never used. CRC-32 guards
against accidents, like the encoders' caches (:mod:`retrieval_attention.encoders.cache`), not
against someone who can write to the cache folder.

A copy is named after what its GGUF file *is* and stale copies are deleted:
:mod:`retrieval_attention.decoder.copies`.

The full CRC stays on every load, not only the first: sizes, ``.npy`` headers and shapes catch a
truncated or swapped file but not one changed byte in the middle of a weight file, which only
reading every byte catches (tests: ``flip``, ``flip-middle``). It costs ~0.5 s of a ~2.3 s Gemma
reload (measured); parsing ``tokenizer.json`` costs ~1.8 s of it and holds the GIL throughout, so it
can neither overlap the check in a thread nor run in the background without freezing the app.
"""

from __future__ import annotations

import io
import json
import logging
import mmap
import os
import shutil
import zlib
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from tokenizers import Tokenizer

from retrieval_attention.config import default_cache_dir

__all__ = [
    "FORMAT_VERSION",
    "ConvertedCopy",
    "copy_folder",
    "folder_lock",
    "read_copy",
    "write_copy",
]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1  # bump when the layout of the converted copy or of any stored array changes
_CHUNK = 1 << 24  # bytes written (and hashed) at a time


@dataclass(frozen=True, eq=False)
class ConvertedCopy:
    """A decoder as stored in the cache: its description, arrays (memory-mapped) and tokenizer."""

    folder: Path  # where it lives
    manifest: dict  # format, source, architecture, metadata, arrays -> {file, shape, crc32}
    arrays: dict[str, NDArray[np.float32]]  # name -> read-only memory-mapped float32 array
    tokenizer: Tokenizer


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder``'s converted copy across processes (``folder.lock`` beside it).

    Two app processes (replicas, or a notebook beside the app) loading the same model at once would
    otherwise race: one deletes a copy it finds half-written or checks it while the other replaces it,
    and the other then cannot read back what it wrote. Under the lock, one process converts and the
    other waits, then reads the finished copy. Where ``fcntl`` does not exist (Windows) this is a no-op.

    The lock file is removed when the lock is released, so none is left in the cache (one per
    model file, plus one per refused name, used to pile up). Removing a lock file others may be
    waiting on is a known race: a waiter that then gets the lock holds it on a file no longer in
    the folder, while a newcomer creates and locks a new one, and both go on. So whoever gets the
    lock checks that the file it locked is still the one at the path (same device and inode) and
    otherwise starts again on the new one; the holder removes the file before unlocking it. A
    process that dies holding the lock leaves its file behind: the next one reuses it and removes it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    path = folder.with_name(f"{folder.name}.lock")
    while True:
        handle = open(path, "a+b")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                now = os.stat(path)
            except FileNotFoundError:
                now = None
            mine = os.fstat(handle.fileno())
        except BaseException:
            handle.close()
            raise
        if now is not None and (now.st_dev, now.st_ino) == (mine.st_dev, mine.st_ino):
            break
        handle.close()  # the previous holder removed this file: lock the one at the path now
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # before unlocking: whoever waits on this file sees it is gone
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _try_lock(path: Path) -> object | None:
    """Lock the existing lock file ``path`` without waiting: its open handle if this process now holds it, else None.

    None when someone holds it, when it does not exist, or when it was replaced meanwhile (the same
    device-and-inode check as :func:`folder_lock`). Release with :func:`_drop_lock`.
    """
    import fcntl

    try:
        handle = open(path, "r+b")  # never creates: only a lock file that is there
    except OSError:
        return None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        return None
    try:
        now = os.stat(path)
    except FileNotFoundError:
        now = None
    mine = os.fstat(handle.fileno())
    if now is None or (now.st_dev, now.st_ino) != (mine.st_dev, mine.st_ino):
        handle.close()
        return None
    return handle


def _drop_lock(path: Path, handle: object) -> None:
    """Release a lock from :func:`_try_lock` as :func:`folder_lock` does: the file removed first, then unlocked."""
    import fcntl

    path.unlink(missing_ok=True)
    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    handle.close()


def copy_folder(name: str, key: str) -> Path:
    """``<cache>/decoders/<name>-<16 hex digits of the key's crc>``: one folder per source file and format."""
    digest = format(zlib.crc32(f"{FORMAT_VERSION}|{key}".encode()), "08x") + format(len(key), "08x")
    return default_cache_dir() / "decoders" / f"{name}-{digest}"


def _crc32(path: Path) -> int:
    """The CRC-32 of a whole file, hashed straight from a read-only memory map.

    Mapping instead of reading in pieces saves copying every byte into Python first. Gemma's 1.1 GB
    copy, two threads, page cache warm, this 2-core machine under load: 0.53 s instead of 0.60 s
    (median of 4 alternating rounds); the whole check-and-map step of a reload 0.46 s instead of
    0.65 s (median of 3 fresh processes each, alternating).
    """
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return 0  # an empty file cannot be mapped
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return zlib.crc32(view)


def write_copy(
    folder: Path,
    manifest: Mapping,
    arrays: Mapping[str, NDArray[np.float32]],
    tokenizer: Tokenizer,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write a converted copy atomically (a temporary folder renamed at the end).

    Each ``.npy`` file holds what ``np.save`` writes (a version 1.0 header, then the numbers), written
    in pieces of 16 MiB so a caller can show progress, and its CRC-32 is computed from those bytes as
    they are written, not by reading the file again: a 1 GB copy is hashed once.

    Args:
        folder: the target, from :func:`copy_folder`.
        manifest: format, source, architecture and metadata; the array entries are added here.
        arrays: name -> float32 array (any layout: each is made C-contiguous as it is written).
        tokenizer: the model's tokenizer.
        progress: called as ``progress(bytes written, total bytes)`` after each array.

    Returns:
        None.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        tokenizer.save(str(tmp / "tokenizer.json"))
        entries = {}
        total, done = sum(int(a.size) * 4 for a in arrays.values()), 0
        for i, (name, a) in enumerate(arrays.items()):
            file = f"a{i:04d}.npy"
            data = np.ascontiguousarray(a, dtype=np.float32)
            flat = memoryview(data.reshape(-1)).cast("B")
            head = io.BytesIO()
            np.lib.format.write_array_header_1_0(head, np.lib.format.header_data_from_array_1_0(data))  # as np.save
            with open(tmp / file, "wb") as f:
                f.write(head.getvalue())
                crc = zlib.crc32(head.getvalue())
                for start in range(0, len(flat), _CHUNK):  # a big array in pieces: the bar moves meanwhile
                    piece = flat[start : start + _CHUNK]
                    f.write(piece)
                    crc = zlib.crc32(piece, crc)
                    if progress is not None:
                        progress(done + start + len(piece), total)
                f.flush()
                os.fsync(f.fileno())  # on disk before the rename, one file at a time
            done += data.nbytes
            entries[name] = {"file": file, "shape": list(a.shape), "bytes": (tmp / file).stat().st_size, "crc32": crc}
            if progress is not None:
                progress(done, total)
        full = dict(manifest, format=FORMAT_VERSION, arrays=entries, tokenizer_crc32=_crc32(tmp / "tokenizer.json"))
        (tmp / "manifest.json").write_text(json.dumps(full), encoding="utf-8")
        for p in (tmp / "tokenizer.json", tmp / "manifest.json"):
            with open(p, "rb") as f:
                os.fsync(f.fileno())
        shutil.rmtree(folder, ignore_errors=True)  # a damaged copy
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def read_copy(
    folder: Path,
    progress: Callable[[int, int], None] | None = None,
    *,
    verify: bool = True,
    tokenizer: Tokenizer | None = None,
    reading_tokenizer: Callable[[], None] | None = None,
) -> ConvertedCopy | None:
    """The converted copy in ``folder`` if it is complete and undamaged, else None (and it is deleted).

    Args:
        folder: from :func:`copy_folder`.
        progress: called as ``progress(done, total)`` while files are checked.
        verify: check every file's CRC-32 (False only right after :func:`write_copy` wrote the copy
            from memory: hashing it again from the page cache would check nothing the write did not;
            sizes and shapes are still checked, and every later load checks the CRCs).
        tokenizer: the tokenizer just written, instead of parsing ``tokenizer.json`` again (Gemma's
            holds 515k merges: seconds); with ``verify=False`` only.
        reading_tokenizer: called once, just before ``tokenizer.json`` is parsed (for Gemma the
            longest part of a reload, ~3 s of ~4 s, during which ``tokenizers`` holds the GIL).

    Returns:
        The copy with memory-mapped arrays, or None when there is none or it failed a check.
    """
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION:
            raise ValueError(f"format {manifest.get('format')} is not {FORMAT_VERSION}")
        entries = manifest["arrays"]
        checks = [(folder / "tokenizer.json", manifest["tokenizer_crc32"], None)]
        checks += [(folder / e["file"], e["crc32"], e["bytes"]) for e in entries.values()]
        for path, _, size in checks:
            if size is not None and path.stat().st_size != size:
                raise ValueError(f"{path.name} has {path.stat().st_size} bytes, the manifest says {size}")
        done = 0

        def check(item: tuple[Path, int, int | None]) -> None:
            nonlocal done
            path, crc, _ = item
            if _crc32(path) != crc:
                raise ValueError(f"{path.name} fails its CRC-32 check")
            done += 1
            if progress is not None:
                progress(done, len(checks))

        if verify:
            with ThreadPoolExecutor(max_workers=2) as pool:  # zlib releases the GIL: two files at once
                list(pool.map(check, checks))
        arrays = {}
        for name, e in entries.items():
            a = np.load(folder / e["file"], mmap_mode="r")
            if a.dtype != np.float32 or list(a.shape) != e["shape"]:
                raise ValueError(f"{e['file']} holds {a.dtype} {a.shape}, the manifest says float32 {e['shape']}")
            arrays[name] = a
        if tokenizer is None or verify:
            if reading_tokenizer is not None:
                reading_tokenizer()
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except Exception as exc:  # any damage (a short file, a bad header, a broken tokenizer.json) means a rebuild
        log.warning("the converted copy in %s is damaged (%s): rebuilding it", folder, exc)
        shutil.rmtree(folder, ignore_errors=True)
        return None
    return ConvertedCopy(folder=folder, manifest=manifest, arrays=arrays, tokenizer=tokenizer)
