"""Where a lesson goes: a safe file name (page, model, corpus, date) and an atomic, shareable write."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import unicodedata
from pathlib import Path

from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.export.document import Lesson, export_html
from retrieval_attention.infra.atomic import atomic_path

__all__ = ["check_html_path", "lesson_filename", "save_html"]

_MAX_PART = 48
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def check_html_path(path: str | os.PathLike[str]) -> Path:
    """``path`` if a lesson can be written there: not a folder, in a folder that exists.

    Args:
        path: the file to write.

    Returns:
        ``path`` as a :class:`~pathlib.Path`, exactly as given (nothing is resolved or added).

    Raises:
        InvalidParameterError: ``path`` is empty or a folder, or its folder does not exist.

    Example:
        >>> check_html_path("/")
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: '/' is a folder; name a file to write, e.g. lesson.html
    """
    if not os.fspath(path):
        raise InvalidParameterError("the file name is empty; name a file to write, e.g. lesson.html")
    path = Path(path)
    if path.is_dir():
        raise InvalidParameterError(f"{str(path)!r} is a folder; name a file to write, e.g. lesson.html")
    if not path.parent.is_dir():
        raise InvalidParameterError(f"the folder {str(path.parent)!r} does not exist; create it first")
    return path


def save_html(lesson: Lesson, path: str | os.PathLike[str]) -> Path:
    """Write :func:`export_html` of ``lesson`` to ``path`` (UTF-8), atomically: the old file or the new one.

    Args:
        lesson: the document.
        path: the file to write; its folder must exist.

    Returns:
        The path written.

    Raises:
        InvalidParameterError: ``path`` is a folder, its folder does not exist, or it cannot be written.

    Example:
        >>> import tempfile
        >>> out = save_html(Lesson("T", (), ()), Path(tempfile.mkdtemp()) / "lesson.html")
        >>> out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        True
    """
    path = check_html_path(path)
    text = export_html(lesson)
    try:
        mode = path.stat().st_mode & 0o777 if path.exists() else _new_file_mode()
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
            tmp.chmod(mode)  # the temporary file is 0600; a lesson is for sharing, as any file the user writes
    except OSError as exc:
        raise InvalidParameterError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return path


def _new_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0o666 without the process's umask."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:  # Linux: read it without changing it
            umask = next(int(line.split()[1], 8) for line in f if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _slug(part: str, *, drop_suffix: bool = False) -> str:
    """``part`` as ``[A-Za-z0-9._-]``: its last path component, accents dropped, the rest as ``-``."""
    name = re.split(r"[/\\]", part.strip().rstrip("/\\"))[-1]
    if drop_suffix and "." in name.strip("."):
        name = name.rsplit(".", 1)[0]
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", ascii_name)
    slug = re.sub(r"\.{2,}", ".", re.sub(r"-{2,}", "-", slug)).strip("-.")[:_MAX_PART].strip("-.")
    if not slug:  # nothing Latin left (a Chinese corpus name): a short stable digest keeps names apart
        slug = "x" + hashlib.sha256(part.encode("utf-8", "surrogatepass")).hexdigest()[:8] if part else "untitled"
    return slug


def lesson_filename(page: str, model: str, corpus: str, when: datetime.date | datetime.datetime) -> str:
    """A safe file name naming the page, model, corpus and date of a lesson.

    Each part is slugged to ``[A-Za-z0-9._-]`` (a path keeps only its last component, a corpus file its
    stem; accents are dropped; a part with no Latin letters becomes a short digest), so the name never
    holds a path separator, never starts with a dot and is at most about 170 characters.

    Args:
        page: which lesson, e.g. ``"retrieval"``.
        model: the encoder's name or folder ("" for a page without one).
        corpus: the corpus's name or file ("" for none).
        when: the lesson's date.

    Returns:
        The file name, ending in ``.html``.

    Example:
        >>> import datetime
        >>> lesson_filename("retrieval", "all-MiniLM-L6-v2", "data/videos.csv", datetime.date(2026, 12, 1))
        'retrieval-all-MiniLM-L6-v2-videos-2026-12-01.html'
        >>> lesson_filename("smoothing", "", "", datetime.date(2026, 12, 1))
        'smoothing-2026-12-01.html'
    """
    day = when.date() if isinstance(when, datetime.datetime) else when
    parts = [_slug(page), *([_slug(model)] if model else []), *([_slug(corpus, drop_suffix=True)] if corpus else [])]
    parts.append(day.isoformat())  # a page with no model or corpus (a generated series) names neither
    return "-".join(parts) + ".html"
