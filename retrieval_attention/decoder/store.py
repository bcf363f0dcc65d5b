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

A copy is named after what its GGUF file *is* (its SHA-256, see :func:`gguf_digest`) and the format
version, never after the file's path or modification time: reinstalling the same package (a new
virtual environment, a fresh clone) finds the copy it made before. After each conversion
:func:`prune` deletes the copies no install can reuse any more, so the folder holds one copy per GGUF
file still on disk (518 MB for SmolLM2, ~1.1 GB for Gemma 3), not one per install.

The full CRC stays on every load, not only the first: sizes, ``.npy`` headers and shapes catch a
truncated or swapped file but not one changed byte in the middle of a weight file, which only
reading every byte catches (tests: ``flip``, ``flip-middle``). It costs ~0.5 s of a ~2.3 s Gemma
reload (measured); parsing ``tokenizer.json`` costs ~1.8 s of it and holds the GIL throughout, so it
can neither overlap the check in a thread nor run in the background without freezing the app.
"""

from __future__ import annotations

import hashlib
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
    "gguf_digest",
    "prune",
    "read_copy",
    "remember_digest",
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


_DIGESTS_FILE = "gguf-sha256.json"  # in <cache>/decoders: sha256 -> {path: [size, mtime_ns, inode]}
_DIGESTS: dict[tuple[str, int, int, int], str] = {}  # (path, size, mtime_ns, inode) -> sha256, in this process


def _stamp(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _read_digests(root: Path) -> dict[str, dict[str, list[int]]]:
    try:
        data = json.loads((root / _DIGESTS_FILE).read_text(encoding="utf-8"))
        if isinstance(data, dict):  # any entry not shaped like ours is dropped
            return {
                d: {p: st for p, st in paths.items() if isinstance(st, list)}
                for d, paths in data.items()
                if _content_digest(d) == d and isinstance(paths, dict)
            }
    except (OSError, ValueError):
        pass
    return {}  # none yet, or damaged: files are hashed again, and no copy counts as stale for want of a note


def _write_digests(root: Path, notes: Mapping[str, Mapping[str, list[int]]]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"{_DIGESTS_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(notes, indent=1), encoding="utf-8")
    os.replace(tmp, root / _DIGESTS_FILE)


def _on_disk(stamp: object, path: str) -> bool:
    """Whether ``path`` is still the file noted with ``stamp`` (same size, modification time, inode)."""
    try:
        return stamp == _stamp(os.stat(path))
    except OSError:
        return False


def remember_digest(path: Path, digest: str, again: bool = False) -> None:
    """Note that the file ``path``, as it is now (size, modification time, inode), has SHA-256 ``digest``.

    The notes let :func:`gguf_digest` skip hashing an unchanged file and tell :func:`prune` which
    converted copies a file on disk can still use. A note stays after its file is gone or changed:
    that is how prune knows the copy of that digest lost its file (a copy whose digest was never
    noted, say from before the notes, is kept). Two processes writing at once may lose one's note:
    that file is hashed again, and prune keeps its copy unless another note of the same digest says
    the file is gone.

    Args:
        path: an existing file (resolved). For Gemma 3, its part packages' module, whose digest is
            the one its ``assemble`` checks the joined GGUF against (a new package version, a new module).
        digest: the SHA-256 in hex.
        again: write the note even if this process wrote it already (before :func:`prune`: another
            process's note written at the same moment may have replaced this one's).

    Returns:
        None.
    """
    stamp = _stamp(path.stat())
    key = (str(path), *stamp)
    if not again and _DIGESTS.get(key) == digest:
        return
    _DIGESTS[key] = digest
    root = default_cache_dir() / "decoders"
    notes = _read_digests(root)
    notes.setdefault(digest, {})[str(path)] = stamp
    _write_digests(root, notes)


def gguf_digest(path: Path) -> str:
    """The SHA-256 of a GGUF file, hashed only when the file is new or changed since it was last hashed.

    Hashing SmolLM2's 98 MB file took 0.2 s with the file in the page cache and 1.6 s from disk
    (blake2b: 0.5 s either way, so SHA-256), on every page of the app too often; so the digest is kept
    per (path, size, modification time, inode), in this process and in ``gguf-sha256.json`` beside
    the copies, and a reinstall (a new path or time) costs one hash, not one conversion.

    Args:
        path: the GGUF file (resolved).

    Returns:
        64 hex digits.
    """
    stamp = _stamp(path.stat())
    key = (str(path), *stamp)
    if key in _DIGESTS:
        return _DIGESTS[key]
    for digest, paths in _read_digests(default_cache_dir() / "decoders").items():
        if paths.get(str(path)) == stamp:
            _DIGESTS[key] = digest
            return digest
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    remember_digest(path, h.hexdigest())
    return h.hexdigest()


def _alive(pid: str) -> bool:
    """Whether the process ``pid`` (a string from a folder name) is running; True when unsure."""
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (ValueError, OSError):
        return True
    return True


def _manifest_source(folder: Path) -> object:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("source", "")
    except (OSError, ValueError, AttributeError):
        return ""


def _content_digest(source_key: str) -> str | None:
    """The SHA-256 a converted copy's source key ends with, or None for a key made otherwise (older keys)."""
    last = source_key.rsplit("|", 1)[-1]
    return last if len(last) == 64 and all(c in "0123456789abcdef" for c in last) else None


def prune(keep: Path | None = None) -> list[Path]:
    """Delete the converted copies no install can reuse, and lock files and half-written copies left behind.

    A copy is stale when its format is not :data:`FORMAT_VERSION`, when its manifest is unreadable, when
    its name does not come from a file's content (copies named after a path and modification time,
    before content keys: no load looks them up any more), or when every GGUF file
    :func:`remember_digest` noted with its SHA-256 is gone or changed. A copy whose file is still
    somewhere (another virtual environment) is kept, and so is one whose digest was never noted
    (nothing says its file is gone: Gemma 3's copy before its module was first noted).

    Never deleting what another process reads: a process reads a copy's files only inside
    :func:`read_copy`, which it calls holding the copy's :func:`folder_lock`; a copy is deleted only
    by the holder of that lock, taken without waiting (a copy someone is checking or writing is
    skipped, and the next prune deletes it). After :func:`read_copy`, a process only has the arrays
    memory-mapped and the tokenizer in memory: on POSIX, deleting a mapped file removes its name, not
    its data, which stays readable until the process unmaps it, so a running app keeps working on a
    copy deleted under it. A lock file nobody holds was left by a process that died holding it; it is
    removed the way :func:`folder_lock` removes its own, so a process about to lock it starts again
    on a new one. Without ``fcntl`` (Windows) nothing is deleted.

    Args:
        keep: a copy never deleted (the one the caller just wrote and holds the lock of).

    Returns:
        The paths deleted.
    """
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - not POSIX: no safe way to know a copy is unused
        return []
    root = default_cache_dir() / "decoders"
    if not root.is_dir():
        return []
    notes = _read_digests(root)
    gone = {d for d, paths in notes.items() if not any(_on_disk(st, p) for p, st in paths.items())}
    deleted = []
    for entry in sorted(root.iterdir()):
        if keep is not None and entry.name.startswith(keep.name):
            continue  # the kept copy, its lock, its temporary folder
        if entry.is_dir() and ".tmp-" not in entry.name:
            try:
                manifest = json.loads((entry / "manifest.json").read_text(encoding="utf-8"))
                digest = _content_digest(str(manifest.get("source", "")))
                stale = manifest.get("format") != FORMAT_VERSION or digest is None or digest in gone
            except (OSError, ValueError, AttributeError):
                stale = True  # no readable manifest: read_copy would delete it too
            if not stale:
                continue
            lock = entry.with_name(f"{entry.name}.lock")
            lock.touch()  # created if missing, so that it can be held
            handle = _try_lock(lock)
            if handle is None:
                continue  # someone is reading or writing it: not now
            try:
                shutil.rmtree(entry, ignore_errors=True)
                deleted.append(entry)
            finally:
                _drop_lock(lock, handle)
        elif entry.is_dir():  # <copy>.tmp-<pid>: a conversion that died; a live one holds <copy>.lock
            if _alive(entry.name.rsplit(".tmp-", 1)[-1]):
                continue
            lock = entry.with_name(f"{entry.name.split('.tmp-')[0]}.lock")
            lock.touch()
            handle = _try_lock(lock)
            if handle is None:
                continue
            try:
                shutil.rmtree(entry, ignore_errors=True)
                deleted.append(entry)
            finally:
                _drop_lock(lock, handle)
        elif entry.suffix == ".lock":
            handle = _try_lock(entry)
            if handle is not None:
                _drop_lock(entry, handle)
                deleted.append(entry)
    if gone:  # forget the files gone whose copies are gone too (a copy skipped as busy keeps its note)
        kept = {_content_digest(str(_manifest_source(p))) for p in root.iterdir() if p.is_dir()}
        notes = _read_digests(root)
        if any(d in notes for d in gone - kept):
            _write_digests(root, {d: paths for d, paths in notes.items() if d not in gone - kept})
    if deleted:
        log.info("removed %d stale entries from %s: %s", len(deleted), root, ", ".join(p.name for p in deleted))
    return deleted


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
