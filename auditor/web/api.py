"""The JSON API (/api/v1): the same use cases and the same shapes as the CLI's --json, for integrations and the
scanning agents; authenticated by per-account API tokens (Authorization: Bearer …), roles as in the console."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile
from pydantic import BaseModel, Field

from auditor import clock
from auditor.context import Context
from auditor.i18n import get_language
from auditor.problems import UserError
from auditor.scan import FAMILIES
from auditor.services import dossiers, findings, overview, records, reports, verification
from auditor.services.accounts import Account
from auditor.services.overview import NotFound
from auditor.web.guard import api_account, context
from auditor.web.jobs import ScanJob
from auditor.web.permissions import Action

MAX_VERIFY = 8 << 20

router = APIRouter(prefix="/api/v1", tags=["v1"])
Ctx = Annotated[Context, Depends(context)]


def token_for(action: Action) -> Callable[[Request, Context], Account]:
    """A dependency: the token's account, if its role allows ``action`` (checked before the body is read)."""
    def dependency(request: Request, ctx: Ctx) -> Account:
        return api_account(request, ctx, action)

    return dependency


def As(action: Action) -> Any:
    return Depends(token_for(action))


@router.get("/me", summary="The account the token belongs to")
def me(account: Annotated[Account, As(Action.VERIFY_FILE)]) -> dict[str, Any]:
    return account.as_json()


@router.get("/dashboard", summary="The annual report's figures, now")
def dashboard(ctx: Ctx, account: Annotated[Account, As(Action.DASHBOARD)]) -> dict[str, Any]:
    return overview.dashboard(ctx, clock.today()).as_json()


@router.get("/systems", summary="Systems with their level, dossier and open findings")
def systems(ctx: Ctx, account: Annotated[Account, As(Action.SYSTEMS)]) -> dict[str, Any]:
    return {"systems": [s.as_json() for s in overview.systems_overview(ctx, clock.today())]}


@router.get("/findings", summary="Open and accepted findings (as `auditor findings --json`)")
def findings_list(ctx: Ctx, account: Annotated[Account, As(Action.FINDINGS)],
                  system: str | None = None) -> dict[str, Any]:
    with ctx.store.session() as s:
        return {"findings": [f.as_json() for f in findings.list_for(s, clock.today(), system)]}


@router.get("/findings/{finding_id}", summary="One finding with its remediation and history")
def finding(ctx: Ctx, account: Annotated[Account, As(Action.FINDINGS)], finding_id: int) -> dict[str, Any]:
    return overview.finding_detail(ctx, finding_id, clock.today()).as_json()


@router.get("/dossiers", summary="Dossiers and their time limits (as `auditor dossier list --json`)")
def dossier_list(ctx: Ctx, account: Annotated[Account, As(Action.DOSSIERS)]) -> dict[str, Any]:
    return {"dossiers": [v.as_json() for v in dossiers.list_dossiers(ctx, clock.today())]}


@router.get("/dossiers/{dossier_id}", summary="One dossier with its snapshot and parties")
def dossier(ctx: Ctx, account: Annotated[Account, As(Action.DOSSIERS)], dossier_id: int) -> dict[str, Any]:
    return dossiers.get_dossier(ctx, dossier_id, clock.today()).as_json(full=True)


class NewDossier(BaseModel):
    system: str = Field(max_length=64)


@router.post("/dossiers", summary="Build a system's level dossier (draft)")
def dossier_create(ctx: Ctx, account: Annotated[Account, As(Action.CREATE_DOSSIER)],
                   body: NewDossier) -> dict[str, Any]:
    row = dossiers.create_dossier(ctx, body.system, on=clock.today(), account=account)
    return dossiers.DossierView(row, []).as_json()


class Submission(BaseModel):
    signer: str = Field(min_length=1, max_length=255)
    on: dt.date | None = None


@router.post("/dossiers/{dossier_id}/submit", summary="Submit a draft dossier for appraisal")
def dossier_submit(ctx: Ctx, account: Annotated[Account, As(Action.SUBMIT_DOSSIER)], dossier_id: int,
                   body: Submission) -> dict[str, Any]:
    row = dossiers.submit_dossier(ctx, dossier_id, org=account.organisation, signer=body.signer,
                                  on=body.on or clock.today(), account=account)
    return dossiers.DossierView(row, []).as_json()


class Return(BaseModel):
    signer: str = Field(min_length=1, max_length=255)
    reason: str = Field(min_length=1, max_length=2000)
    on: dt.date | None = None


@router.post("/dossiers/{dossier_id}/return", summary="Return a dossier to its operator")
def dossier_return(ctx: Ctx, account: Annotated[Account, As(Action.RETURN_DOSSIER)], dossier_id: int,
                   body: Return) -> dict[str, Any]:
    row = dossiers.return_dossier(ctx, dossier_id, org=account.organisation, signer=body.signer, reason=body.reason,
                                  on=body.on or clock.today(), account=account)
    return dossiers.DossierView(row, []).as_json()


@router.get("/records", summary="Inspections, drills, response plans (as `auditor records list --json`), evidence")
def records_list(ctx: Ctx, account: Annotated[Account, As(Action.RECORDS)]) -> dict[str, Any]:
    found = records.list_records(ctx)
    return {"inspections": [i.model_dump(mode="json") for i in found.inspections],
            "drills": [d.model_dump(mode="json") for d in found.drills],
            "response_plans": [r.model_dump(mode="json") for r in found.response_plans],
            "evidence": [e.as_json() for e in records.list_evidence(ctx)]}


@router.get("/reports", summary="The reports written, with their files and hashes")
def reports_list(ctx: Ctx, account: Annotated[Account, As(Action.REPORTS)]) -> dict[str, Any]:
    return {"reports": [{"id": r.id, "kind": r.kind, "key": r.key, "lang": r.lang,
                         "created_at": r.created_at.isoformat(), "snapshot_sha256": r.snapshot_sha256,
                         "files": r.files} for r in reports.list_reports(ctx)]}


@router.post("/verify", summary="Is this file one the auditor wrote, unchanged, with valid signatures?")
def verify(ctx: Ctx, account: Annotated[Account, As(Action.VERIFY_FILE)], file: UploadFile) -> dict[str, Any]:
    data = file.file.read(MAX_VERIFY + 1)
    if len(data) > MAX_VERIFY:
        raise UserError(f"the file is larger than {MAX_VERIFY} bytes")
    return verification.check_file(ctx, data).as_json()


class NewScan(BaseModel):
    system: str = Field(max_length=64)
    families: list[str] = Field(default_factory=lambda: list(FAMILIES), max_length=len(FAMILIES))


@router.post("/scans", summary="Start a scan of a system in the background")
def scan_start(request: Request, ctx: Ctx, account: Annotated[Account, As(Action.START_SCAN)],
               body: NewScan) -> dict[str, Any]:
    ctx.check_systems([body.system])
    job = request.app.state.jobs.start(account.name, body.families, [body.system], get_language())
    return _job(job)


@router.get("/scans/{job_id}", summary="How a scan started here went")
def scan_status(request: Request, account: Annotated[Account, As(Action.SYSTEMS)], job_id: int) -> dict[str, Any]:
    job = request.app.state.jobs.get(job_id)
    if job is None:
        raise NotFound(f"no scan {job_id}")
    return _job(job)


def _job(job: ScanJob) -> dict[str, Any]:
    return {"id": job.id, "state": job.state, "message": job.message, "runs": job.runs, "systems": job.systems,
            "families": job.families, "account": job.account, "started": job.started.isoformat()}
