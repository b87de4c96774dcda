"""The JSON API (/api/v1): the same use cases and the same shapes as the CLI's --json, for integrations and the
scanning agents; authenticated by per-account API tokens (Authorization: Bearer …), roles as in the console."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from auditor import clock
from auditor.context import Context
from auditor.services import dossiers, findings, overview
from auditor.services.accounts import Account
from auditor.web.guard import api_account, context
from auditor.web.permissions import Action

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
    sysdef = ctx.loaded.inventory.system(body.system)
    if sysdef is not None and sysdef.operator != account.organisation:
        raise dossiers.WorkflowError(f"{account.name} acts for {account.organisation}, not for {sysdef.operator}")
    row = dossiers.create_dossier(ctx, body.system, on=clock.today())
    return dossiers.DossierView(row, []).as_json()
