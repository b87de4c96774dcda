"""The demo's level dossier: a demo certification authority (named as a demo everywhere it appears), two officers'
certificates, and one dossier carried through appraisal and approval, both signed, on the ledger and on the PDF."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from auditor import safeio
from auditor.context import Context
from auditor.identity.signer import open_signer
from auditor.identity.trust import add_anchors
from auditor.labs.pki import LabCA
from auditor.ledger.verify import VerifyReport, verify_ledger
from auditor.levels.propose import LevelRules, Proposal
from auditor.services import accounts, dossiers
from auditor.store.tables import DossierRow

DEMO_SYSTEM = "cong-dvc"
DEMO_CA = "certs/demo-ca-khong-dung-that.pem"
# (organisation id, name, title): their certificates name the organisation as the inventory's `signing` says
OFFICERS = (("so-khcn", "Trần Thị B", "Giám đốc Sở Khoa học và Công nghệ"),
            ("ubnd-tinh", "Nguyễn Văn A", "Phó Chủ tịch UBND tỉnh"))


# the console's demo accounts: (name, role, organisation, person)
ACCOUNTS = (("vanhanh", "operator", "ttcds", "Lê Văn C, Giám đốc Trung tâm Chuyển đổi số"),
            ("canbo", "officer", "so-khcn", "Trần Thị B, Giám đốc Sở Khoa học và Công nghệ"),
            ("lanhdao", "leader", "ubnd-tinh", "Nguyễn Văn A, Phó Chủ tịch UBND tỉnh"),
            ("quantri", "admin", "so-khcn", "Quản trị hệ thống"))
AWAITING = "qlvb-dh"  # a second dossier, submitted, for the console's officer to appraise
CERTIFICATES = "demo-certificates"


@dataclass
class DemoConsole:
    """What a person needs to try the console: the accounts (one password, made up for this run and never stored
    in clear), and the officers' demo certificates with their passphrase."""

    accounts: tuple[tuple[str, str, str, str], ...]
    password: str
    certificates: dict[str, Path]
    passphrase: str
    awaiting: int | None


@dataclass
class DemoDossier:
    proposals: list[Proposal]
    dossier: DossierRow
    files: list[Path]
    verify: VerifyReport
    console: DemoConsole


def run_demo_dossier(ctx: Context, today: dt.date) -> DemoDossier:
    ws, inv = ctx.ws, ctx.loaded.inventory
    rules = LevelRules(ws.content("profiles"))
    proposals = [rules.propose(s, today) for s in inv.systems]
    ca = LabCA("DEMO CA - auditor demo, not for real use")
    (ws.root / DEMO_CA).parent.mkdir(parents=True, exist_ok=True)
    safeio.write_bytes(ws.root / DEMO_CA, ca.pem)
    with ctx.store.session() as s:
        add_anchors(s, ca.pem, DEMO_CA)
    system = inv.system(DEMO_SYSTEM)
    assert system is not None
    passphrase = secrets.token_urlsafe(12)  # printed for the console's demo, never written anywhere
    certs = safeio.private_dir(ws.root / CERTIFICATES)
    p12 = {}
    for org_id, name, title in OFFICERS:
        org = inv.organisation(org_id)
        assert org is not None and org.signing is not None
        issued = ca.officer(name, org.signing.organisation or org.name, title)
        p12[org_id] = issued.p12(certs / f"{org_id}.p12", passphrase)
    row = dossiers.create_dossier(ctx, DEMO_SYSTEM, on=today - dt.timedelta(days=14), families={"tls"})
    dossier_id = row.id
    assert dossier_id is not None
    dossiers.submit_dossier(ctx, dossier_id, org=system.operator, signer=ACCOUNTS[0][3],
                            on=today - dt.timedelta(days=13))
    with open_signer(p12=p12["so-khcn"], passphrase=passphrase) as signer:
        dossiers.appraise_dossier(ctx, dossier_id, signer, opinion="agree", conditions=None,
                                  on=today - dt.timedelta(days=6))
    with open_signer(p12=p12["ubnd-tinh"], passphrase=passphrase) as signer:
        row = dossiers.approve_dossier(ctx, dossier_id, signer, on=today - dt.timedelta(days=1), level=None,
                                       decision_number=f"{1000 + today.timetuple().tm_yday}/QĐ-UBND")
    files = dossiers.render_dossier(ctx, dossier_id, ws.root / "reports-out")
    console = _console(ctx, today, p12, passphrase)
    with ctx.store.session() as s:
        report = verify_ledger(s, ws.root, rules.regimes)
    return DemoDossier(proposals, row, files, report, console)


def _console(ctx: Context, today: dt.date, p12: dict[str, Path], passphrase: str) -> DemoConsole:
    """The console's demo accounts, and a second dossier submitted and awaiting appraisal."""
    password = secrets.token_urlsafe(12)
    with ctx.store.session() as s:
        for name, role, org, person in ACCOUNTS:
            accounts.add_account(s, ctx.loaded.inventory, name=name, role=role, organisation=org, password=password,
                                 full_name=person)
    awaiting = None
    system = ctx.loaded.inventory.system(AWAITING)
    if system is not None:
        row = dossiers.create_dossier(ctx, AWAITING, on=today - dt.timedelta(days=3), families={"tls"})
        assert row.id is not None
        dossiers.submit_dossier(ctx, row.id, org=system.operator, signer=ACCOUNTS[0][3],
                                on=today - dt.timedelta(days=2))
        awaiting = row.id
    return DemoConsole(ACCOUNTS, password, p12, passphrase, awaiting)
