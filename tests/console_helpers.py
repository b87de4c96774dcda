"""A workspace for the console: the flow workspace (demo inventory, a test CA, officers' PKCS#12 files), one
account per role, a real TLS scan of its (unreachable, loopback) endpoints for findings, and a submitted
dossier."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import Result
from tests.dossier_helpers import create, ok, step

PASSWORD = "mat-khau-bang-dieu-khien-01"
# account → (role, organisation, name)
ACCOUNTS = {"vanhanh": ("operator", "ttcds", "Lê Văn C, Giám đốc Trung tâm Chuyển đổi số"),
            "canbo": ("officer", "so-khcn", "Trần Thị B, Giám đốc Sở"),
            "lanhdao": ("leader", "ubnd-tinh", "Nguyễn Văn A, Phó Chủ tịch UBND tỉnh"),
            "quantri": ("admin", "so-khcn", "Quản trị hệ thống")}


@dataclass
class ConsoleWorkspace:
    ws: Path
    dossier: int  # submitted, awaiting appraisal
    finding: int  # open


def make_console_workspace(cli: Callable[..., Result], ws: Path) -> ConsoleWorkspace:
    for name, (role, org, full) in ACCOUNTS.items():
        ok(cli("users", "add", name, "--role", role, "--org", org, "--name", full, "--workspace", ws,
               env={"AUDITOR_ACCOUNT_PASSWORD": PASSWORD}))
    r = cli("scan", "--check", "tls", "--system", "cong-dvc", "--json", "--workspace", ws)
    assert r.exit_code == 1, r.stderr
    finding = int(json.loads(r.stdout)["findings"][0]["id"])
    d = create(cli, ws, "cong-dvc", "2026-11-20")
    ok(step(cli, ws, "submit", str(d), "--by", "ttcds", "--signer", "Lê Văn C", "--on", "2026-11-21"))
    return ConsoleWorkspace(ws, d, finding)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)
