"""Vietnamese (default) and English text.

Messages are written in English in the code and marked with ``_()``; the Vietnamese catalogue is the
gettext PO file under ``auditor/locale``. No compiled binary is kept in the repository: Babel compiles the
catalogue on first use, and the compiled form is kept in the user's cache folder under the PO file's SHA-256,
so later commands neither import Babel nor parse the PO file again (an unwritable cache only costs that time).
"""

from __future__ import annotations

import contextvars
import gettext
import hashlib
import io
import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

DOMAIN = "auditor"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LOCALE_DIR = Path(__file__).parent / "locale"

_language: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


def set_language(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(lang)
    _language.set(lang)


def get_language() -> str:
    return _language.get()


def cache_dir() -> Path:
    """The user's cache folder for the auditor (XDG_CACHE_HOME, else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "attt-auditor"


def _compile(po: bytes, lang: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    buf = io.BytesIO()
    write_mo(buf, read_po(io.BytesIO(po), locale=lang, domain=DOMAIN))
    return buf.getvalue()


def _keep(path: Path, data: bytes) -> None:
    """Write the compiled catalogue to the cache, whole or not at all; a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        pass


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    po_path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        po = po_path.read_bytes()
    except FileNotFoundError:
        return gettext.NullTranslations()
    cached = cache_dir() / f"{DOMAIN}-{lang}-{hashlib.sha256(po).hexdigest()[:32]}.mo"
    try:
        return gettext.GNUTranslations(io.BytesIO(cached.read_bytes()))
    except (OSError, struct.error, ValueError, IndexError, KeyError):
        pass  # not compiled yet (or the cached copy is damaged): compile it again
    compiled = _compile(po, lang)
    _keep(cached, compiled)
    return gettext.GNUTranslations(io.BytesIO(compiled))


def _(message: str) -> str:
    """Translate a message into the current language."""
    return _translations(get_language()).gettext(message)


def pick(vi: str, en: str | None) -> str:
    """Choose between the Vietnamese and English forms of a text held in data files."""
    if get_language() == "en" and en:
        return en
    return vi


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Run a block in ``lang`` (an official document is Vietnamese, whatever the officer's messages are in)."""
    token = _language.set(lang)
    try:
        yield
    finally:
        _language.reset(token)
