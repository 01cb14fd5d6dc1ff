"""Write outputs so that a crash leaves the previous result whole: temporary path first, then an atomic swap.

Temporary files and staging folders carry the writer's pid in their names (`.aflm.ttl.<pid>.xxxx.tmp`,
`.build.new-<pid>-xxxx`). A run killed with SIGKILL cannot clean up after itself, so the next writer
of the same target removes the leftovers of writers that are no longer running, and never touches
those of one that is (two builds may run at once).

An output folder is replaced only when it is empty or holds a previous output of the same kind
(`check_output_folder`); the home folder, `/`, the current folder, their parents and the inputs are never
replaced, whatever the caller asks.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_leftovers(target: Path) -> list[Path]:
    """Remove the temporary files and staging folders that killed writers of `target` left next to it."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:new-|old-)?(\d+)[.\-].*")
    removed: list[Path] = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for path in siblings:
        match = pattern.fullmatch(path.name)
        if match is None or _alive(int(match.group(1))):
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        elif path.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                path.unlink()
        else:
            continue
        removed.append(path)
    return removed


class OutputError(ValueError):
    """An output path that must not be written or replaced; the message names it and says why."""


def _special(mode: int) -> str | None:
    """What a file of this mode is, if it is not a regular file (None for a regular file)."""
    kinds = [(stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), None if stat.S_ISREG(mode) else "not a regular file")


def writable_file(path: Path) -> Path:
    """Where a write to `path` lands: through symbolic links to their target (the link stays a link); a folder,
    a device, a FIFO or a socket is refused (an atomic swap would replace it with a regular file)."""
    try:
        mode = os.stat(path).st_mode  # follows links: /dev/stdout is whatever standard output is
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"{path}: refused: cannot look at it ({exc.strerror})") from None
    kind = None if mode is None else _special(mode)
    if kind is not None:
        raise OutputError(f"{path}: refused: it is {kind}, not a regular file; name a file to write "
                          "(or leave the option out to write to standard output)")
    return Path(os.path.realpath(path))


def check_output_file(path: Path | str, *, suffixes: Iterable[str], force: bool = False) -> Path:
    """Where a file output goes (`writable_file`), if it may: a new file, or an existing one whose name ends in one
    of `suffixes` (an earlier output of this kind: `cambodia.html` for a view). Any other existing file
    (`thesis.docx`, `/etc/passwd`) is refused unless `force`: an `--out` typed in the wrong place must not
    silently replace someone's file."""
    target = writable_file(Path(path))
    allowed = tuple(s.lower() for s in suffixes)
    if not force and target.exists() and not target.name.lower().endswith(allowed):
        raise OutputError(f"{path}: refused: it exists and is not a {' or '.join(allowed)} file, which replacing "
                          "it would lose; name a new file, or pass --force to replace it")
    return target


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same folder and `os.replace`.

    A symbolic link is written through (its target is replaced, the link stays); a device, FIFO, socket or
    folder at `path` is refused rather than replaced by a regular file.
    """
    path = writable_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are meant to be shared
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux renameat2(RENAME_EXCHANGE); False where it is unavailable."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _homes() -> list[Path]:
    """The user's home folder as $HOME says and as the password database says (they may differ)."""
    found = []
    with contextlib.suppress(RuntimeError, KeyError, OSError):
        found.append(Path.home().resolve())
    with contextlib.suppress(ImportError, KeyError, OSError):
        import pwd  # here, not at the top: POSIX-only, and where it is missing this lookup is skipped

        found.append(Path(pwd.getpwuid(os.getuid()).pw_dir).resolve())
    return list(dict.fromkeys(found))


def _protected(folder: Path) -> str | None:
    """Why `folder` (resolved) may never be replaced: the root or a folder right under it (/etc, /home, /tmp),
    a mount point, the home folder, the current folder, or a folder that holds one of them."""
    cwd = Path.cwd().resolve()
    if folder == Path(folder.anchor):
        return "it is the root folder"
    if folder.parent == Path(folder.anchor):
        return "it is a top-level system folder"
    for home in _homes():
        if folder == home:
            return "it is the home folder"
        if home.is_relative_to(folder):
            return f"it holds the home folder {home}"
    if folder == cwd:
        return "it is the current folder"
    if cwd.is_relative_to(folder):
        return f"it holds the current folder {cwd}"
    if os.path.ismount(folder):
        return "it is a mount point"
    return None


def check_output_folder(
    out: Path | str,
    *,
    is_previous: Callable[[Path], bool],
    what: str = "output",
    inputs: Iterable[Path | str] = (),
    force: bool = False,
) -> Path:
    """`out`, resolved, if it may be (re)placed by a new `what` folder; else an OutputError that names it and why.

    It may be when it does not exist, is empty, or `is_previous` recognises a previous `what` in it (its own
    marker, e.g. a build's manifest.json), or, with `force`, when it holds other files. Never, even with
    `force`: an empty path, the root, the home folder, the current folder or a folder holding one of them; a
    folder that is, holds or lies inside an input; a read-only folder; something that is not a folder.
    """
    if not str(out).strip():
        raise OutputError(f"refused: the {what} folder is an empty path; name a new or empty folder")
    given = Path(out)
    folder = given.resolve()
    shown = f"{given}" if str(given) == str(folder) else f"{given} ({folder})"
    why = _protected(folder)
    if why is not None:
        raise OutputError(f"{shown}: refused as the {what} folder: {why}, and it would be replaced whole; "
                          "name a new or empty folder")
    for item in inputs:
        source = Path(item).resolve()
        if folder == source or source.is_relative_to(folder):
            raise OutputError(f"{shown}: refused as the {what} folder: it holds the input {item}, which "
                              "replacing it would delete; write the output elsewhere")
        if folder.is_relative_to(source) and source.is_dir():
            raise OutputError(f"{shown}: refused as the {what} folder: it lies inside the input folder {item} "
                              "(a later build would read its own output); write the output elsewhere")
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return folder
    except NotADirectoryError:
        raise OutputError(f"{shown}: refused as the {what} folder: a folder on its path is a file") from None
    except OSError as exc:
        raise OutputError(f"{shown}: refused as the {what} folder: cannot look at it ({exc.strerror})") from None
    if not stat.S_ISDIR(mode):
        kind = _special(mode) or "a file"
        raise OutputError(f"{shown}: refused as the {what} folder: it exists and is {kind}, not a folder")
    if not (stat.S_IMODE(mode) & 0o222) or not os.access(folder, os.W_OK):
        raise OutputError(f"{shown}: refused as the {what} folder: it is read-only; make it writable or "
                          "choose another folder")
    try:
        empty = next(os.scandir(folder), None) is None
    except OSError as exc:
        raise OutputError(f"{shown}: refused as the {what} folder: cannot list it ({exc.strerror})") from None
    if empty or is_previous(folder) or force:
        return folder
    raise OutputError(f"{shown}: refused as the {what} folder: it holds other files, not a previous {what} "
                      "output, and replacing it would delete them; name a new or empty folder, or pass --force "
                      "to replace it")


@contextlib.contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """Yield an empty sibling folder to fill; on success it replaces `target` atomically, on error it is removed.

    Readers of `target` see either the old folder or the new one, never a mix: the swap is one
    renameat2(RENAME_EXCHANGE) where the kernel has it, else two renames a moment apart.
    """
    target = target.resolve()
    why = _protected(target)  # a last guard for every caller: these are never replaced (check_output_folder)
    if why is not None:
        raise OutputError(f"{target}: refused: {why}, and it would be replaced whole")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(target)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-{os.getpid()}-", dir=target.parent))
    os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes 0700
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    if target.exists() and not target.is_dir():
        shutil.rmtree(stage, ignore_errors=True)
        raise NotADirectoryError(f"{target}: exists and is not a folder")
    if target.exists():
        if not _exchange(stage, target):
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-{os.getpid()}-", dir=target.parent))
            os.rmdir(old)
            os.rename(target, old)
            os.rename(stage, target)
            stage = old
        shutil.rmtree(stage, ignore_errors=True)
    else:
        os.rename(stage, target)
