"""Every message marked for translation has a Vietnamese text with the same placeholders."""

from __future__ import annotations

import re
import string
from collections.abc import Callable

from babel.messages.pofile import read_po

from auditor.i18n import LOCALE_DIR, _, set_language
from tests.conftest import Result
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


def test_help_in_the_language_of_the_messages(cli: Callable[..., Result]) -> None:
    """`--help` is Vietnamese by default and with --lang vi, English with --lang en, wherever --lang stands."""
    r = cli("--help")
    assert r.exit_code == 0
    assert "Công cụ kiểm tra tuân thủ an toàn thông tin cho cơ quan nhà nước Việt Nam." in r.stdout
    assert "Lệnh" in r.stdout and "Hiện hướng dẫn này rồi thoát." in r.stdout and "Commands" not in r.stdout
    r = cli("findings", "assign", "--lang", "vi", "--help")
    text = " ".join(r.stdout.replace("│", " ").split())
    assert "Giao một phát hiện cho đơn vị phải khắc phục" in text and "Tổ chức phải khắc phục" in text
    assert "Give a finding" not in text
    r = cli("findings", "assign", "--help", "--lang", "en")
    text = " ".join(r.stdout.replace("│", " ").split())
    assert "Give a finding to the unit that must fix it" in text and "Show this message and exit." in text
    assert "Options" in text and "Tùy chọn" not in text
