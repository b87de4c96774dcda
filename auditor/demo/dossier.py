"""The demo's level dossier: officers' keys, one dossier carried through appraisal and signed approval."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path

from auditor.catalogue.checks import load_catalogue
from auditor.dossier import workflow
from auditor.dossier.build import build_snapshot
from auditor.findings.lifecycle import list_findings
from auditor.inventory.model import Inventory
from auditor.ledger.anchor import head
from auditor.ledger.verify import VerifyReport, verify_ledger
from auditor.levels.propose import LevelRules, Proposal
from auditor.levels.requirements import load_requirements
from auditor.reporting.dossier import render_dossier
from auditor.signing import load_private, write_new_key
from auditor.store.db import Store
from auditor.store.tables import DossierRow
from auditor.workspace import Workspace

DEMO_SYSTEM = "cong-dvc"
OFFICERS = (("demo-attt", "so-khcn", "Trần Thị B, Giám đốc Sở KH&CN"),
            ("demo-chu-quan", "ubnd-tinh", "Nguyễn Văn A, Phó Chủ tịch UBND tỉnh"))


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
    passphrase = secrets.token_urlsafe(24)  # the demo's keys sign once; the passphrase is never written anywhere
    keys: dict[str, workflow.SigningKey] = {}
    with store.session() as s:
        for name, org, _signer in OFFICERS:
            path = ws.state_dir / "keys" / f"{name}.pem"
            public = write_new_key(path, passphrase)
            keys[name] = workflow.SigningKey(workflow.register_key(s, name, org, public), load_private(path, passphrase))
    system = inv.system(DEMO_SYSTEM)
    assert system is not None
    proposal = rules.propose(system, today - dt.timedelta(days=14))
    assert proposal.level is not None
    regime = rules.regime(today - dt.timedelta(days=14))
    requirements = load_requirements(profiles, load_catalogue(ws.content("checks")))
    with store.session() as s:
        snapshot = build_snapshot(inv, system, proposal, regime, requirements,
                                  list_findings(s, today, systems={DEMO_SYSTEM}), {"tls"}, 1,
                                  today - dt.timedelta(days=14))
        row = workflow.create(s, system, snapshot, regime.id, proposal.level, regimes=rules.regimes,
                              on=today - dt.timedelta(days=14))
        workflow.submit(s, row, system=system, org=system.operator,
                        signer="Lê Văn C, Giám đốc Trung tâm Chuyển đổi số", on=today - dt.timedelta(days=13),
                        today=today)

        def signed(key: str, signer: str, days_ago: int) -> workflow.SignedStep:
            return workflow.SignedStep(inventory=inv, system=system, regimes=rules.regimes, key=keys[key], signer=signer,
                                       on=today - dt.timedelta(days=days_ago), today=today)

        workflow.appraise(s, row, signed("demo-attt", OFFICERS[0][2], 6), opinion="agree", conditions=None)
        workflow.approve(s, row, signed("demo-chu-quan", OFFICERS[1][2], 1),
                         decision_number=f"{1000 + today.timetuple().tm_yday}/QĐ-UBND", level=None)
    with store.session() as s:
        anchor = head(s)
    files = render_dossier(ws, row, ws.root / "reports-out", anchor)
    with store.session() as s:
        report = verify_ledger(s, ws.root)
    return DemoDossier(proposals, row, files, report)
