"""Opening documents safely: only a regular file of a bounded size is read.

A device (/dev/zero) never ends and a FIFO blocks until someone writes to it; neither is a document,
and a file given by name or met in a folder may be either. Used by the text parser and the PDF reader.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from io import BufferedReader
from pathlib import Path

from .errors import ParseError

_SPECIAL_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO, a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is ("a character device"), or None for a regular file.

    A device (/dev/zero) never ends and a FIFO blocks until someone writes to it: neither is a document.
    """
    if stat.S_ISREG(mode):
        return None
    return next((kind for test, kind in _SPECIAL_KINDS if test(mode)), "a special file")


def _check_file(path: Path, info: os.stat_result, max_bytes: int | None, what: str) -> None:
    """Refuse a file that is not a regular file, or is over `max_bytes`, with a message that says which."""
    kind = not_regular(info.st_mode)
    if kind is not None:
        raise ParseError(path, f"not a regular file ({kind}); expected a {what} file", line=1)
    if max_bytes is not None and info.st_size > max_bytes:
        raise ParseError(
            path,
            f"file is {info.st_size} bytes, over the limit of {max_bytes} bytes ({max_bytes / 2**20:g} MB); "
            f"expected a smaller {what}" + (" (raise max_bytes to read it)" if what == "document" else ""),
            line=1,
        )


def check_regular(path: Path, *, max_bytes: int | None = None, what: str = "document") -> None:
    """Refuse (ParseError) a path that is missing, unreadable, not a regular file or over `max_bytes`."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ParseError(path, f"cannot read file ({exc.strerror}); expected a readable {what}", line=1) from None
    _check_file(Path(path), info, max_bytes, what)


@contextlib.contextmanager
def open_regular(path: Path, *, max_bytes: int | None = None, what: str = "document") -> Iterator[BufferedReader]:
    """Open `path` for reading only if it is a regular file of at most `max_bytes` (None: any size).

    Checked with stat before the open (opening some devices has effects of its own), and again with
    fstat on what was opened: a FIFO or device swapped in between is refused too. O_NONBLOCK keeps
    such a swapped-in FIFO from blocking the open itself.
    """
    path = Path(path)
    check_regular(path, max_bytes=max_bytes, what=what)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ParseError(path, f"cannot read file ({exc.strerror}); expected a readable {what}", line=1) from None
    handle = os.fdopen(fd, "rb")
    with handle:
        _check_file(path, os.fstat(fd), max_bytes, what)
        yield handle


def read_regular(path: Path, max_bytes: int, what: str) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; never more are read, even if it grows meanwhile."""
    with open_regular(path, max_bytes=max_bytes, what=what) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ParseError(path, f"file grew past the limit of {max_bytes} bytes while read; expected a {what} "
                         "that is not being written to", line=1)
    return data
