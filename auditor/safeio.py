"""Reading what people hand the auditor and writing what it publishes, without being turned against its user.

Reads are bounded, take only regular files (a FIFO cannot hang a command, /dev/zero cannot fill the memory) and
refuse a link that leads out of the folder the file belongs to. Writes never follow a symbolic link: the data goes
to a new temporary file beside the target, which is then renamed over it, and a target that is a link is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
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


def _check_target(path: Path) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode):
        raise _problem(path, _("it is a symbolic link; the auditor does not write through links"))
    if not stat.S_ISREG(info.st_mode):
        raise _problem(path, _("it exists and is not a regular file; nothing was written"))


def _write_problem(path: Path, exc: OSError) -> InputError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _problem(path, _("the disk is full; nothing was written"))
    return _problem(path, _("cannot write here: {error}").format(error=exc.strerror or exc))


STALE_SECONDS = 15 * 60  # a temporary file this old was left by a process killed outright (kill -9, power loss)


def _clear_stale(path: Path, now: float) -> None:
    """Remove the temporary files of ``path`` that a killed process left (only its own pattern, only regular
    files of this user, only when no writer can still be using them). ``now`` is the file system's own time (the
    modification time of the file just made), the clock the others' times were written with."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{12}}\.tmp")
    try:
        names = [n for n in os.listdir(path.parent) if n.startswith(f".{path.name}.") and pattern.fullmatch(n)]
    except OSError:
        return
    for name in names:
        with contextlib.suppress(OSError):
            info = os.lstat(path.parent / name)
            if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and now - info.st_mtime > STALE_SECONDS:
                os.unlink(path.parent / name)


def _stage_one(path: Path, data: bytes, mode: int) -> Path:
    """``data`` in a new temporary file beside ``path``, on the disk (fsync), not yet under its name."""
    _check_target(path)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except OSError as exc:
        raise _write_problem(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.fchmod(fh.fileno(), mode)
            now = os.fstat(fh.fileno()).st_mtime
        _clear_stale(path, now)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _write_problem(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


class Staged:
    """Files written whole beside their targets, to be put in place together (:meth:`commit`) or not at all
    (:meth:`discard`; also on leaving a ``with`` block without commit). A report, its PDF, JSON and CSV files
    appear together, after the work that records them, or none of them does."""

    def __init__(self, files: dict[Path, bytes], *, mode: int = 0o644) -> None:
        self._staged: list[tuple[Path, Path]] = []
        try:
            for path, data in files.items():
                self._staged.append((_stage_one(path, data, mode), path))
        except BaseException:
            self.discard()
            raise

    def commit(self) -> list[Path]:
        """Rename each file into place (a rename replaces a directory entry; it never writes through a link)."""
        done: list[Path] = []
        try:
            for tmp, path in self._staged:
                try:
                    _check_target(path)
                    os.replace(tmp, path)
                except OSError as exc:
                    raise _write_problem(path, exc) from None
                done.append(path)
        finally:
            self.discard()  # what was not renamed
        return done

    def discard(self) -> None:
        for tmp, _path in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged = []

    def __enter__(self) -> Staged:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.discard()


def write_bytes(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Write ``path`` whole, or leave it as it was. A link at ``path`` is refused, never written through."""
    with Staged({path: data}, mode=mode) as staged:
        staged.commit()


def write_files(files: dict[Path, bytes], *, mode: int = 0o644) -> list[Path]:
    """Write several files whole, all of them or none (see :class:`Staged`)."""
    with Staged(files, mode=mode) as staged:
        return staged.commit()


def write_text(path: Path, text: str, *, mode: int = 0o644) -> None:
    write_bytes(path, text.encode("utf-8"), mode=mode)


def private_dir(path: Path) -> Path:
    """A folder only its owner may enter (0700), made if missing (.auditor/, where the store and keys are)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.is_symlink():
        raise _problem(path, _("it is a symbolic link; the auditor keeps its state only in a real folder"))
    os.chmod(path, 0o700)
    return path
