"""The demo's level dossier: a demo certification authority (named as a demo everywhere it appears), two officers'
certificates, and one dossier carried through appraisal and approval, both signed, on the ledger and on the PDF."""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from auditor import clock, safeio
from auditor.catalogue.checks import load_catalogue
from auditor.dossier import workflow
from auditor.dossier.build import build_snapshot
from auditor.dossier.document import sign_step, write_dossier
from auditor.findings.lifecycle import list_findings
from auditor.identity.signer import open_signer
from auditor.identity.trust import add_anchors, validate
from auditor.inventory.model import Inventory
from auditor.labs.pki import LabCA
from auditor.ledger.verify import VerifyReport, verify_ledger
from auditor.levels.propose import LevelRules, Proposal
from auditor.levels.requirements import load_requirements
from auditor.store.db import Store
from auditor.store.tables import DossierRow
from auditor.workspace import Workspace

DEMO_SYSTEM = "cong-dvc"
DEMO_CA = "certs/demo-ca-khong-dung-that.pem"
# (organisation id, name, title): their certificates name the organisation as the inventory's `signing` says
OFFICERS = (("so-khcn", "Trần Thị B", "Giám đốc Sở Khoa học và Công nghệ"),
            ("ubnd-tinh", "Nguyễn Văn A", "Phó Chủ tịch UBND tỉnh"))


@dataclass
class DemoDossier:
    proposals: list[Proposal]
    dossier: DossierRow
    files: list[Path]
    verify: VerifyReport


def run_demo_dossier(ws: Workspace, store: Store, inv: Inventory, today: dt.date) -> DemoDossier:
    profiles = ws.content("profiles")
    rules = LevelRules(profiles)
    proposals = [rules.propose(s, today) for s in inv.systems]
    ca = LabCA("DEMO CA - auditor demo, not for real use")
    (ws.root / DEMO_CA).parent.mkdir(parents=True, exist_ok=True)
    safeio.write_bytes(ws.root / DEMO_CA, ca.pem)
    with store.session() as s:
        add_anchors(s, ca.pem, DEMO_CA)
    system = inv.system(DEMO_SYSTEM)
    assert system is not None
    proposal = rules.propose(system, today - dt.timedelta(days=14))
    assert proposal.level is not None
    regime = rules.regime(today - dt.timedelta(days=14))
    requirements = load_requirements(profiles, load_catalogue(ws.content("checks")))
    passphrase = secrets.token_urlsafe(24)  # the demo's keys sign twice; the passphrase is never written anywhere
    with tempfile.TemporaryDirectory(prefix="auditor-demo-pki-") as tmp, store.session() as s:
        p12 = {}
        for org_id, name, title in OFFICERS:
            org = inv.organisation(org_id)
            assert org is not None and org.signing is not None
            issued = ca.officer(name, org.signing.organisation or org.name, title)
            p12[org_id] = issued.p12(Path(tmp) / f"{org_id}.p12", passphrase)
        snapshot = build_snapshot(inv, system, proposal, regime, requirements,
                                  list_findings(s, today, systems={DEMO_SYSTEM}), {"tls"}, 1,
                                  today - dt.timedelta(days=14))
        row = workflow.create(s, system, snapshot, regime.id, proposal.level, regimes=rules.regimes,
                              on=today - dt.timedelta(days=14))
        workflow.submit(s, row, inventory=inv, system=system, org=system.operator,
                        signer="Lê Văn C, Giám đốc Trung tâm Chuyển đổi số", on=today - dt.timedelta(days=13),
                        today=today)
        for org_id, kind, days_ago in (("so-khcn", "appraise", 6), ("ubnd-tinh", "approve", 1)):
            with open_signer(p12=p12[org_id], passphrase=passphrase) as signer:
                officer = validate(s, signer.certificate, signer.chain, clock.now())
                step = workflow.SignedStep(inventory=inv, system=system, regimes=rules.regimes, signer=signer,
                                           officer=officer, on=today - dt.timedelta(days=days_ago), today=today)
                if kind == "appraise":
                    workflow.appraise(s, row, step, opinion="agree", conditions=None)
                else:
                    workflow.approve(s, row, step, decision_number=f"{1000 + today.timetuple().tm_yday}/QĐ-UBND",
                                     level=None)
                sign_step(s, ws, row, signer, officer, kind)
    with store.session() as s:
        files = write_dossier(s, ws, row, ws.root / "reports-out")
        report = verify_ledger(s, ws.root, rules.regimes)
    return DemoDossier(proposals, row, files, report)
