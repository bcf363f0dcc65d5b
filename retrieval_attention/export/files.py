"""Where a lesson goes: a safe file name (page, model, corpus, date) and an atomic, shareable write."""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from retrieval_attention.errors import InvalidParameterError
from retrieval_attention.export.document import Lesson, export_html
from retrieval_attention.infra.atomic import atomic_path
from retrieval_attention.infra.paths import os_problem, path_stat, printable_label, user_path

__all__ = ["check_html_path", "lesson_filename", "save_html"]

_MAX_PART = 48
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


#: What a path that is neither a file nor a folder is, for the refusal: writing there would not make a lesson
#: file (``/dev/null`` swallows it, a named pipe blocks) or, replaced atomically, would destroy the device.
_SPECIAL = (
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)
_EXAMPLE = "name a file to write, e.g. lesson.html"


def check_html_path(path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """The file a lesson will be written to: ``path``, or the file it links to; refused if that is not safe.

    A symbolic link is written through (its target gets the lesson; the link stays). Nothing the user did
    not name is replaced: an input of the lesson (``inputs``, e.g. its corpus file, also under another
    name or a hard link), a read-only file, a device such as ``/dev/null``, a named pipe, a socket or a
    folder are refused. ``~`` is expanded as a shell would.

    Args:
        path: the file to write, as the user typed it.
        inputs: files the lesson was made from, which it must never replace.

    Returns:
        The file to write: ``path`` with ``~`` expanded, or, if it is a symbolic link, its target.

    Raises:
        InvalidParameterError: any of the refusals above, a path that cannot be looked at (a loop of
            links, a name over 255 bytes, permission denied), or a folder that is missing, is a file or
            cannot be written in.

    Example:
        >>> check_html_path("/")
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: '/' is a folder; name a file to write, e.g. lesson.html
        >>> check_html_path("/dev/null")
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: '/dev/null' is a character device, not a file; name a file to write, e.g. lesson.html
    """
    if not os.fspath(path):
        raise InvalidParameterError(f"the file name is empty; {_EXAMPLE}")
    given = user_path(path)
    link = path_stat(given, follow_symlinks=False)
    target = Path(os.path.realpath(given)) if link is not None and stat.S_ISLNK(link.st_mode) else given
    st = path_stat(target)  # through every link: a loop of links is refused here
    shown = repr(printable_label(str(given)))
    if target != given:
        shown += f" (a link to {printable_label(str(target))!r})"
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise InvalidParameterError(f"{shown} is a folder; {_EXAMPLE}")
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _SPECIAL if test(st.st_mode)), "not a regular file")
            raise InvalidParameterError(f"{shown} is {kind}, not a file; {_EXAMPLE}")
        for source in inputs:
            try:
                same = os.path.samefile(source, target)
            except (OSError, ValueError):  # an input that is gone or unnamable cannot be overwritten
                same = False
            if same:
                raise InvalidParameterError(
                    f"{shown} is the file the lesson is made from ({printable_label(os.fspath(source))!r}); "
                    "writing the lesson there would replace it: name another file, e.g. lesson.html"
                )
        if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
            raise InvalidParameterError(f"{shown} is read-only; name another file, or make it writable first")
    folder = target.parent
    folder_st = path_stat(folder)
    if folder_st is None:
        raise InvalidParameterError(f"the folder {str(folder)!r} does not exist; create it first")
    if not stat.S_ISDIR(folder_st.st_mode):
        raise InvalidParameterError(f"{str(folder)!r} is a file, not a folder; {_EXAMPLE}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InvalidParameterError(f"cannot write in the folder {str(folder)!r}: permission denied")
    return target


def save_html(lesson: Lesson, path: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Write :func:`export_html` of ``lesson`` to ``path`` (UTF-8), atomically: the old file or the new one.

    Args:
        lesson: the document.
        path: the file to write; its folder must exist. A symbolic link is written through.
        inputs: files the lesson was made from, which it must never replace (see :func:`check_html_path`).

    Returns:
        The file written (a link's target, if ``path`` is a link).

    Raises:
        InvalidParameterError: :func:`check_html_path` refused ``path``, or it cannot be written.

    Example:
        >>> import tempfile
        >>> out = save_html(Lesson("T", (), ()), Path(tempfile.mkdtemp()) / "lesson.html")
        >>> out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
        True
    """
    target = check_html_path(path, inputs)
    text = export_html(lesson)
    try:
        st = path_stat(target)
        mode = st.st_mode & 0o777 if st is not None else _new_file_mode()
        with atomic_path(target) as tmp:
            tmp.write_text(text, encoding="utf-8")
            tmp.chmod(mode)  # the temporary file is 0600; a lesson is for sharing, as any file the user writes
    except OSError as exc:
        raise InvalidParameterError(f"cannot write {str(target)!r}: {os_problem(exc)}") from None
    return target


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
