"""Faults of the store and the file system met in the middle of a command, told as what happened and what to do.

A command's work is one transaction (or several, each whole), so a fault leaves the store as it was before the
transaction that met it; what remains is to say so plainly and end with exit code 2, instead of a traceback
that ends with exit code 1 (which a script reads as "the audit found something failing").
"""

from __future__ import annotations

import errno
import sys

from auditor.i18n import _
from auditor.problems import StoreError

SQLITE_BUSY_SECONDS = 10  # how long a command waits for another writer of the SQLite store before giving up


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def store_fault(exc: BaseException) -> StoreError | None:
    """The fault a database error stands for, or None when ``exc`` is not one (a bug keeps its traceback)."""
    sa = sys.modules.get("sqlalchemy.exc")
    if sa is None:  # nothing has touched a database in this process
        return None
    if isinstance(exc, sa.TimeoutError):
        return StoreError(_("the database did not give a connection in time; it is overloaded or unreachable"))
    if not isinstance(exc, sa.DBAPIError) or isinstance(exc, sa.IntegrityError | sa.ProgrammingError | sa.DataError):
        return None
    detail = _first_line(exc)
    low = detail.lower()
    if "database is locked" in low or "database table is locked" in low:
        message = _("the store is busy: another process has held it for more than {n} seconds (a scan, a load, a "
                    "report?); nothing was changed, try again when it is done").format(n=SQLITE_BUSY_SECONDS)
    elif "malformed" in low or "not a database" in low or "disk i/o error" in low:
        message = _("the store's database file is damaged ({detail}); nothing was changed. Restore it from a "
                    "backup of .auditor/, then run 'auditor verify'").format(detail=detail)
    elif "database or disk is full" in low or "no space left" in low:
        message = _("the disk holding the store is full; nothing was changed. Free some space and try again")
    elif "readonly" in low or "read-only" in low:
        message = _("the store cannot be written (a read-only file or file system); nothing was changed")
    elif exc.connection_invalidated or "closed" in low or "terminat" in low or "connection" in low \
            or "server" in low or "timeout" in low:
        message = _("the database server could not be reached or stopped answering ({detail}); the work in "
                    "progress was not stored. Try again when it is back").format(detail=detail)
    else:
        message = _("the database refused the work ({detail}); nothing was changed").format(detail=detail)
    return StoreError(message)


def file_fault(exc: BaseException) -> StoreError | None:
    """A file-system fault (disk full, no permission, an I/O error) on a named file, or None."""
    if not isinstance(exc, OSError) or exc.errno is None:
        return None
    where = exc.filename if exc.filename is not None else "?"
    if exc.errno == errno.ENOSPC:
        return StoreError(_("the disk is full while writing {file}; nothing was published").format(file=where))
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.EIO, errno.ENOENT, errno.ENOTDIR, errno.EISDIR,
                     errno.EDQUOT, errno.ELOOP, errno.ENAMETOOLONG):
        return StoreError(_("cannot use {file}: {error}").format(file=where, error=exc.strerror or exc))
    return None
