"""Every message marked for translation has a Vietnamese text with the same placeholders."""

from __future__ import annotations

import re
import string

from babel.messages.pofile import read_po

from auditor.i18n import LOCALE_DIR, _, set_language
from tools.i18n_update import extracted

FIELDS = string.Formatter()


def placeholders(text: str) -> set[str]:
    return {f for _lit, f, _spec, _conv in FIELDS.parse(text) if f}


def test_every_message_is_translated_with_the_same_placeholders() -> None:
    catalog = read_po((LOCALE_DIR / "vi" / "LC_MESSAGES" / "auditor.po").open("rb"), locale="vi")
    ids = extracted()
    assert len(ids) > 50
    missing = [m for m in ids if not (catalog.get(m) and catalog.get(m).string)]
    assert missing == []
    wrong = [m for m in ids if placeholders(m) != placeholders(catalog.get(m).string)]
    assert wrong == []


def test_vietnamese_by_default_english_on_request() -> None:
    assert _("is required") == "bắt buộc phải có"
    set_language("en")
    assert _("is required") == "is required"
    set_language("vi")
    assert re.search(r"[ạ-ỹ]", _("Information systems"))
