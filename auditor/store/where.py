"""Where a workspace's store is and which schema it must have: known without loading the database code."""

from __future__ import annotations

from pathlib import Path

ENV_URL = "AUDITOR_DATABASE_URL"
HEAD_REVISION = "0014"  # the newest migration; a test checks it against the migrations folder


def sqlite_file(workspace: Path) -> Path:
    """The workspace's own SQLite store (used unless AUDITOR_DATABASE_URL names another database)."""
    return (workspace / ".auditor" / "auditor.sqlite").resolve()
