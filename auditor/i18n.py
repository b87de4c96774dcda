"""Vietnamese (default) and English text.

Messages are written in English in the code and marked with ``_()``; the Vietnamese catalogue is the
gettext PO file under ``auditor/locale``. Babel compiles it in memory on first use, so no compiled
binary is kept in the repository.
"""

from __future__ import annotations

import contextvars
import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

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


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    po_path = LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=lang, domain=DOMAIN)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


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
