"""Which converted copies the decoder cache keeps: a copy is named after its GGUF's content, stale ones go.

A copy is named after what its GGUF file *is* (its SHA-256, see :func:`gguf_digest`) and the format
version, never after the file's path or modification time: reinstalling the same package (a new
virtual environment, a fresh clone) finds the copy it made before. After each conversion
:func:`prune` deletes the copies no install can reuse any more, so the folder holds one copy per GGUF
file still on disk (518 MB for SmolLM2, ~1.1 GB for Gemma 3), not one per install.

The notes of which file has which digest live beside the copies in ``gguf-sha256.json``; the copies
themselves are written, checked and read by :mod:`retrieval_attention.decoder.store`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from retrieval_attention.config import default_cache_dir
from retrieval_attention.decoder.store import _CHUNK, FORMAT_VERSION, _drop_lock, _try_lock

__all__ = ["gguf_digest", "prune", "remember_digest"]

log = logging.getLogger(__name__)


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
