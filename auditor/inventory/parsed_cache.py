"""The parsed form of a workspace's inventory.yaml, kept under .auditor/ beside the store.

Parsing YAML dominates every command's start on a province's inventory (5,000 systems: two seconds, the model
checks a tenth of that). The plain data parsed from the file is kept as JSON with the SHA-256 of the bytes it
came from; a later command that reads the same bytes takes the data from here and still runs every model and
cross-reference check on it. The file is written only after a full load found no problem, only into a real
.auditor/ folder, whole (never through a link) and readable by its owner only; anything unexpected in it is a
miss, never an error."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from auditor import __version__, safeio
from auditor.problems import InputError

FILE = "inventory-parsed.json"
FORMAT = 1
MAX_BYTES = 64 * 1024 * 1024


def _state(workspace: Path) -> Path | None:
    state = workspace / ".auditor"
    try:
        info = os.lstat(state)
    except OSError:
        return None
    return state if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() else None


def read(workspace: Path, sha256: str) -> dict[str, Any] | None:
    """The data parsed earlier from bytes with this SHA-256, or None."""
    state = _state(workspace)
    if state is None:
        return None
    path = state / FILE
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        kept = json.loads(safeio.read_bytes(path, max_bytes=MAX_BYTES))
    except (OSError, InputError, ValueError):
        return None
    if (not isinstance(kept, dict) or kept.get("format") != FORMAT or kept.get("auditor") != __version__
            or kept.get("sha256") != sha256 or not isinstance(kept.get("data"), dict)):
        return None
    data: dict[str, Any] = kept["data"]
    return data


def keep(workspace: Path, sha256: str, data: dict[str, Any]) -> None:
    """Keep what a full load parsed; a workspace where it cannot be written simply goes without."""
    state = _state(workspace)
    if state is None:
        return
    try:
        text = json.dumps({"format": FORMAT, "auditor": __version__, "sha256": sha256, "data": data},
                          ensure_ascii=False, separators=(",", ":"))
        safeio.write_bytes(state / FILE, text.encode("utf-8"), mode=0o600)
    except (OSError, InputError, ValueError, TypeError):
        return
