"""Reading what people hand the auditor and writing what it publishes, without being turned against its user.

Reads are bounded, take only regular files (a FIFO cannot hang a command, /dev/zero cannot fill the memory) and
refuse a link that leads out of the folder the file belongs to. Writes never follow a symbolic link: the data goes
to a new temporary file beside the target, which is then renamed over it, and a target that is a link is refused.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from io import BufferedReader
from pathlib import Path

from auditor.i18n import _
from auditor.problems import InputError, Problem, display_path


def _problem(path: Path, message: str) -> InputError:
    return InputError([Problem(display_path(path), 1, 1, "", message)])


def check_inside(path: Path, within: Path) -> None:
    """Refuse ``path`` when it is a link (or lies below one) that leads outside ``within``."""
    try:
        resolved = path.resolve(strict=False)
        base = within.resolve(strict=False)
    except (OSError, RuntimeError):
        raise _problem(path, _("the path cannot be resolved (a link loop?)")) from None
    if resolved != base and base not in resolved.parents:
        raise _problem(path, _("it is a link to a file outside {folder}; it is not read").format(
            folder=display_path(within)))


def open_regular(path: Path, *, max_bytes: int, within: Path | None = None) -> BufferedReader:
    """A regular file of at most ``max_bytes``, open for reading as a stream, or :class:`InputError` saying why
    not (for files too large to read whole: the caller reads them piece by piece)."""
    if within is not None:
        check_inside(path, within)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _problem(path, _("cannot read the file: {error}").format(error=exc.strerror or exc)) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _problem(path, _("not a regular file (a folder, a pipe or a device); it is not read"))
        if info.st_size > max_bytes:
            raise _problem(path, _("the file is {size} bytes; the limit is {limit}").format(size=info.st_size,
                                                                                           limit=max_bytes))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: Path, *, max_bytes: int, within: Path | None = None) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``, or :class:`InputError` saying why not."""
    with open_regular(path, max_bytes=max_bytes, within=within) as fh:
        chunks, total = [], 0
        while chunk := fh.read(min(1 << 20, max_bytes + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:  # it grew while being read
                raise _problem(path, _("the file is more than {limit} bytes").format(limit=max_bytes))
    return b"".join(chunks)


def write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``path`` whole, or leave it as it was. A link at ``path`` is refused, never written through."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise _problem(path, _("it is a symbolic link; the auditor does not write through links"))
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise _problem(path, _("it exists and is not a regular file; nothing was written"))
    directory = path.parent
    tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise _problem(path, _("cannot write here: {error}").format(error=exc.strerror or exc)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, path)  # a rename replaces a directory entry; it never writes through a link
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno == errno.ENOSPC:
            raise _problem(path, _("the disk is full; nothing was written")) from None
        raise _problem(path, _("cannot write here: {error}").format(error=exc.strerror or exc)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    write_bytes(path, text.encode("utf-8"), mode=mode)


def private_dir(path: Path) -> Path:
    """A folder only its owner may enter (0700), made if missing (.auditor/, where the store and keys are)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.is_symlink():
        raise _problem(path, _("it is a symbolic link; the auditor keeps its state only in a real folder"))
    os.chmod(path, 0o700)
    return path
