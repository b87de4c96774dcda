"""Apply translations from a Python file defining VI = {msgid: translation} to the Vietnamese catalogue."""

from __future__ import annotations

import runpy
import sys

from babel.messages.pofile import read_po, write_po

from tools.i18n_update import PO

if __name__ == "__main__":
    table = runpy.run_path(sys.argv[1])["VI"]
    catalog = read_po(PO.open("rb"), locale="vi")
    for msgid, text in table.items():
        if msgid in catalog:
            catalog[msgid].string = text
        else:
            print(f"not in the catalogue: {msgid}")
    with PO.open("wb") as fh:
        write_po(fh, catalog, no_location=True, width=0)
