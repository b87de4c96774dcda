"""A workspace with the demo inventory plus a level-1 and a level-4 system, and officers' keys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from tests.conftest import REPO, Result

EXTRA_SYSTEMS = """
  - id: wiki-l1
    name: Trang tin nội bộ
    owner: so-khcn
    operator: ttcds
    security_unit: so-khcn
    lifecycle: operating
    go_live: 2025-01-10
    facts: {information: [public], kinds: [internal], serves: [internal], administrative_procedures: false,
            conditional_business: false, infrastructure_scope: none, national_egovernment: false, always_on: false,
            national_data_centre: false, defence_security_harm: none, industrial_control: none}
  - id: portal-l4
    name: Hệ thống quốc gia phục vụ Chính phủ điện tử (thử nghiệm)
    owner: ubnd-tinh
    operator: ttcds
    security_unit: so-khcn
    lifecycle: building
    facts: {information: [private], kinds: [internal], serves: [agencies], administrative_procedures: false,
            conditional_business: false, infrastructure_scope: none, national_egovernment: true, always_on: true,
            national_data_centre: false, defence_security_harm: none, industrial_control: none}
"""
PASSPHRASE = "mat-khau-thu-nghiem"


def make_flow_workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "flow"
    ws.mkdir()
    shutil.copytree(REPO / "certs", ws / "certs")
    text = (REPO / "inventory.yaml").read_text(encoding="utf-8")
    (ws / "inventory.yaml").write_text(text.rstrip("\n") + "\n" + EXTRA_SYSTEMS, encoding="utf-8")
    return ws


def ok(r: Result) -> Result:
    assert r.exit_code == 0, (r.stdout, r.stderr)
    return r


def make_keys(cli: Callable[..., Result], ws: Path) -> None:
    for name, org in (("attt-so", "so-khcn"), ("chu-quan", "ubnd-tinh"), ("a05", "bca-a05")):
        ok(cli("keys", "new", name, "--org", org, "--workspace", ws))


def create(cli: Callable[..., Result], ws: Path, system: str, on: str, *extra: str) -> int:
    r = ok(cli("dossier", "create", system, "--on", on, "--json", "--workspace", ws, *extra))
    return int(json.loads(r.stdout)["id"])


def step(cli: Callable[..., Result], ws: Path, *args: str) -> Result:
    return cli("dossier", *args, "--workspace", ws)


def approve_l3(cli: Callable[..., Result], ws: Path, system: str = "cong-dvc", *, created: str = "2026-10-30",
               submitted: str = "2026-11-02", appraised: str = "2026-11-10", approved: str = "2026-11-16",
               level: str | None = None) -> int:
    operator = "van-phong-ubnd" if system == "he-thong-tthc" else "ttcds"
    d = create(cli, ws, system, created)
    ok(step(cli, ws, "submit", str(d), "--by", operator, "--signer", "Lê Văn C", "--on", submitted))
    ok(step(cli, ws, "appraise", str(d), "--opinion", "agree", "--key", "attt-so", "--signer", "Trần Thị B",
            "--on", appraised))
    extra = ("--level", level) if level else ()
    ok(step(cli, ws, "approve", str(d), "--decision", "1234/QĐ-UBND", "--key", "chu-quan", "--signer", "Nguyễn Văn A",
            "--on", approved, *extra))
    return d


def dossiers(cli: Callable[..., Result], ws: Path) -> dict[int, dict[str, object]]:
    r = ok(cli("dossier", "list", "--json", "--workspace", ws))
    return {d["id"]: d for d in json.loads(r.stdout)["dossiers"]}
