"""Paths a person types: ``~`` expanded, names no file system can hold refused, every look at them safe.

A path comes from the command line (``--corpus``, ``--html``, ``--model``), an environment variable
(``$RETRIEVAL_ATTENTION_CACHE``, ``$RETRIEVAL_ATTENTION_CORPUS``) or the app's model box. pathlib
turns several ordinary typing slips into tracebacks: ``expanduser`` raises RuntimeError for
``~someone`` when there is no such user, and ``exists()`` / ``is_dir()`` answer False only for a
path that is not there: a name over 255 bytes, a loop of symbolic links, a folder that may not be
read raise OSError. Here each of these is one :class:`~retrieval_attention.errors.RetrievalAttentionError`
with a sentence that says what is wrong:

* :func:`user_path` once, where the text becomes a path (``~`` and ``~user`` expanded as a shell would);
* :func:`path_stat` for every look at it (``None`` means "not there"; anything else that stops a look
  is an error);
* :func:`os_problem` for the reason of an :class:`OSError` met later (opening, writing).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from retrieval_attention.errors import InvalidParameterError, RetrievalAttentionError

__all__ = ["NAME_MAX", "PATH_MAX", "os_problem", "path_stat", "printable_label", "user_path"]

#: The longest file or folder name, in bytes, on Linux's file systems (ext4, xfs, btrfs, tmpfs) and macOS.
NAME_MAX = 255
#: The longest path, in bytes, Linux accepts in one system call (4,096 with the final NUL).
PATH_MAX = 4095
#: A quoted path is cut to this many characters in a message (the whole name is in no one's interest).
_MAX_SHOWN = 120

_REASONS = {
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.ELOOP: "the symbolic links on the way form a loop (or are too many)",
    errno.EACCES: "permission denied: a folder on the way may not be read",
    errno.EPERM: "the operation is not permitted",
    errno.ENAMETOOLONG: f"a name in it is too long (at most {NAME_MAX} bytes each, {PATH_MAX:,} in all)",
    errno.ENOENT: "it does not exist",
}


def printable_label(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, for a file name shown as a label.

    A file name with bytes that are not UTF-8 still opens (the OS gets the original bytes); only the
    label that the app and the CLI print is cleaned.

    Example:
        >>> printable_label("caf\\udce9.csv")
        'caf\\ufffd.csv'
    """
    return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)


def _shown(path: str | os.PathLike[str]) -> str:
    """``path`` quoted for a message: printable, and cut to :data:`_MAX_SHOWN` characters."""
    text = printable_label(os.fspath(path))
    return repr(text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…")


def os_problem(exc: OSError) -> str:
    """The reason an :class:`OSError` gives, in words a person reads (no errno, no repeated path).

    Example:
        >>> import errno
        >>> os_problem(OSError(errno.ELOOP, "Too many levels of symbolic links"))
        'the symbolic links on the way form a loop (or are too many)'
    """
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


def user_path(value: str | os.PathLike[str], error: type[RetrievalAttentionError] = InvalidParameterError) -> Path:
    """The path a person typed, ``~`` and ``~user`` expanded; refused if no file system could hold it.

    Nothing is resolved and the file system is not touched except to look up a user's home folder.
    A file whose name really starts with ``~`` is written ``./~name``.

    Args:
        value: the text typed (a command-line argument, an environment variable, a text box).
        error: the error class to raise (a corpus file's problems are :class:`CorpusError`).

    Returns:
        The path, with ``~`` expanded.

    Raises:
        RetrievalAttentionError: (``error``) empty, holds a NUL character, ``~user`` names no user on this
            machine (or ``~`` with no home folder known), a name over :data:`NAME_MAX` bytes or the whole
            over :data:`PATH_MAX` bytes.

    Example:
        >>> user_path("~no-such-user-here/x.csv")
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: cannot use '~no-such-user-here/x.csv': there is no user named 'no-such-user-here' on this machine, so ~no-such-user-here names no home folder; write the folder in full
    """
    text = os.fspath(value)
    if isinstance(text, bytes):  # os.PathLike[bytes]: the library takes text paths
        text = os.fsdecode(text)
    shown = _shown(text)
    if not text:
        raise error("the path is empty; name a file or folder")
    if "\0" in text:
        raise error(f"cannot use {shown}: it holds a NUL character, which no file name can")
    if text.startswith("~"):
        head = text.split("/", 1)[0]
        expanded = os.path.expanduser(text)  # returns the text unchanged where pathlib raises RuntimeError
        if expanded.split("/", 1)[0] == head:
            if head == "~":
                raise error(f"cannot use {shown}: the home folder is not known ($HOME is not set); write it in full")
            user = printable_label(head[1:])
            raise error(
                f"cannot use {shown}: there is no user named {user!r} on this machine, so {head} names no home "
                "folder; write the folder in full"
            )
        text = expanded
    raw = os.fsencode(text)
    if len(raw) > PATH_MAX:
        raise error(
            f"cannot use {shown}: the path is {len(raw):,} bytes long, more than the {PATH_MAX:,} a path may be"
        )
    for part in raw.split(b"/"):
        if len(part) > NAME_MAX:
            name = _shown(os.fsdecode(part[:24]) + "…")
            raise error(
                f"cannot use {shown}: the name {name} is {len(part):,} bytes long, more than the {NAME_MAX} "
                "bytes a file or folder name may be"
            )
    return Path(text)


def path_stat(
    path: str | os.PathLike[str],
    *,
    follow_symlinks: bool = True,
    error: type[RetrievalAttentionError] = InvalidParameterError,
) -> os.stat_result | None:
    """What ``path`` is, or None if it is not there; anything else that stops the look is an error.

    ``Path.exists()`` answers False for "not found" but raises on a loop of links, a name too long or a
    folder that may not be read; and it answers False for ``file.txt/x``, where the honest answer is
    that ``file.txt`` is not a folder. This answers None only for "not found".

    Args:
        path: the path (from :func:`user_path`, or built from one).
        follow_symlinks: False to look at a symbolic link itself (``os.lstat``).
        error: the error class to raise.

    Returns:
        ``os.stat`` of the path, or None if nothing is there (a dangling link, followed, is not there).

    Raises:
        RetrievalAttentionError: (``error``) the path cannot be looked at; the message says why.

    Example:
        >>> path_stat("/no/such/file") is None
        True
        >>> path_stat("/dev/null/x")
        Traceback (most recent call last):
        ...
        retrieval_attention.errors.InvalidParameterError: cannot use '/dev/null/x': a part of the path is a file, not a folder
    """
    try:
        return os.stat(path, follow_symlinks=follow_symlinks)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise error(f"cannot use {_shown(path)}: {os_problem(exc)}") from None
    except ValueError:  # a NUL character: never in a path from user_path
        raise error(f"cannot use {_shown(path)}: it holds a NUL character, which no file name can") from None
