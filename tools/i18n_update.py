"""Extract the messages marked with _() and the command line's help texts, and merge them into the Vietnamese catalogue.

    python tools/i18n_update.py          # update auditor/locale/vi/LC_MESSAGES/auditor.po, list untranslated
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PO = ROOT / "auditor" / "locale" / "vi" / "LC_MESSAGES" / "auditor.po"


def extracted() -> list[str]:
    ids: list[str] = []
    sources = [(ROOT / "auditor", [("**.py", "python")]), (ROOT / "reports", [("**.j2", "jinja2")]),
               (ROOT / "auditor" / "web" / "templates", [("**.j2", "jinja2")])]
    for folder, method_map in sources:
        for _file, _line, message, _comments, _ctx in extract_from_dir(str(folder), method_map=method_map,
                                                                       keywords={"_": None}):
            if isinstance(message, str) and message and message not in ids:
                ids.append(message)
    # the help of every command and option (`--help` is translated: auditor/cli/help_text.py)
    import typer.main

    from auditor.cli import app
    from auditor.cli.help_text import help_texts
    from auditor.i18n import language

    root = typer.main.get_command(app)
    with language("en"):  # loading a command translates its help: keep the English texts, the catalogue's ids
        tree = root.load_all()  # type: ignore[attr-defined]
    ids += [t for t in help_texts(tree) if t not in ids]
    return ids


def main() -> int:
    old = read_po(PO.open("rb"), locale="vi") if PO.exists() else Catalog(locale="vi")
    new = Catalog(locale="vi", domain="auditor", project="attt-auditor", charset="utf-8")
    missing = []
    for msgid in extracted():
        existing = old.get(msgid)
        translation = existing.string if existing is not None else ""
        new.add(msgid, translation)
        if not translation:
            missing.append(msgid)
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as fh:
        write_po(fh, new, omit_header=False, no_location=True, width=0)
    for m in missing:
        print(f"untranslated: {m}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
