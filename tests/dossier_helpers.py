"""A workspace with the demo inventory plus a level-1 and a level-4 system, and officers' keys."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from auditor.labs.pki import LabCA
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


# the officers of the tests: (organisation, name, title, the ID their certificate carries)
OFFICERS = {"attt-so": ("so-khcn", "Trần Thị B", "Giám đốc Sở", "CCCD-0001"),
            "attt-so-2": ("so-khcn", "Võ Văn F", "Phó Giám đốc Sở", "CCCD-0006"),
            "chu-quan": ("ubnd-tinh", "Nguyễn Văn A", "Phó Chủ tịch UBND tỉnh", "CCCD-0002"),
            "a05": ("bca-a05", "Phạm Văn E", "Cục trưởng", "CCCD-0003")}


def officers_dir(ws: Path) -> Path:
    return ws.parent / "officers"


def officer_p12(ws: Path, name: str) -> Path:
    return officers_dir(ws) / f"{name}.p12"


def make_keys(cli: Callable[..., Result], ws: Path) -> LabCA:
    """A test CA pinned in the workspace, and a PKCS#12 file (passphrase PASSPHRASE) for each officer, whose
    certificate names their organisation as the inventory's `signing` says."""
    from auditor.yamlsafe import load_yaml

    ca = LabCA("Test CA (auditor tests)")
    officers_dir(ws).mkdir(exist_ok=True)
    (officers_dir(ws) / "ca.pem").write_bytes(ca.pem)
    ok(cli("trust", "add", officers_dir(ws) / "ca.pem", "--workspace", ws))
    signing = {o["id"]: (o.get("signing") or {}).get("organisation", o["name"])
               for o in load_yaml(ws / "inventory.yaml").data["organisations"]}
    for name, (org, person, title, serial) in OFFICERS.items():
        ca.officer(person, signing[org], title, serial_number=serial).p12(officer_p12(ws, name), PASSPHRASE)
    return ca


def create(cli: Callable[..., Result], ws: Path, system: str, on: str, *extra: str) -> int:
    r = ok(cli("dossier", "create", system, "--on", on, "--json", "--workspace", ws, *extra))
    return int(json.loads(r.stdout)["id"])


def step(cli: Callable[..., Result], ws: Path, *args: str) -> Result:
    """`auditor dossier ARGS`; for a signed step, ``--key NAME`` stands for that officer's PKCS#12 file (and a
    ``--signer`` is dropped: the name comes from the certificate)."""
    items = list(args)
    if "--key" in items:
        i = items.index("--key")
        items[i:i + 2] = ["--p12", str(officer_p12(ws, items[i + 1]))]
    if items and items[0] in ("appraise", "approve") and "--signer" in items:
        i = items.index("--signer")
        del items[i:i + 2]
    return cli("dossier", *items, "--workspace", ws)


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
