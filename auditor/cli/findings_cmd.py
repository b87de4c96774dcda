"""auditor findings [list] | accept."""

from __future__ import annotations

from typing import Annotated

import typer

from auditor import clock
from auditor.cli.common import (
    EXIT_FAIL,
    JsonOpt,
    LangOpt,
    WorkspaceOpt,
    handle_errors,
    out,
    parse_day,
    plain,
    print_json,
    say,
)
from auditor.cli.findings_view import failing
from auditor.cli.signer_opts import (
    KeyLabelOpt,
    LibOpt,
    P12Opt,
    PassphraseFileOpt,
    PinFileOpt,
    SignerChoice,
    TokenOpt,
)
from auditor.i18n import _
from auditor.labels import label
from auditor.services.listing import list_findings_of
from auditor.textformat import day, moment

# Listing is what scripts call again and again: the store's ORM, the signing code and the rich table load only in
# the commands (or the table output) that use them.

app = typer.Typer(add_completion=False, invoke_without_command=True)


SystemOpt = Annotated[list[str] | None, typer.Option("--system", "-s", help="Only this system (repeatable).")]
CheckOpt = Annotated[str | None, typer.Option("--check", "-c", help="Only this check or family (tls, tls.cert).")]
AllOpt = Annotated[bool, typer.Option("--all", help="Include resolved findings.")]


@app.callback()
def main(ctx: typer.Context, system: SystemOpt = None, check: CheckOpt = None, all_: AllOpt = False,
         workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """Show findings (the default, same options as 'list') or accept a risk."""
    if ctx.invoked_subcommand is None:
        list_cmd(system=system, check=check, all_=all_, workspace=workspace, lang=lang, as_json=as_json)


@app.command("list")
@handle_errors
def list_cmd(system: SystemOpt = None, check: CheckOpt = None, all_: AllOpt = False, workspace: WorkspaceOpt = None,
             lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """List findings: open and accepted ones (with --all, resolved ones too)."""
    listing = list_findings_of(workspace, clock.today(), systems=system, include_resolved=all_, check_prefix=check)
    views = listing.views
    if as_json:
        print_json({"findings": [v.as_json() for v in views]})
    elif views:
        from auditor.catalogue.checks import load_catalogue
        from auditor.cli.findings_view import findings_table

        out.print(findings_table(views, load_catalogue(listing.ws.content("checks")), _("Findings")))
    else:
        say(_("No findings."))
    if failing(views, listing.fail_from):
        raise typer.Exit(EXIT_FAIL)


@app.command("accept")
@handle_errors
def accept_cmd(
    finding_id: Annotated[int, typer.Argument(help="The finding's number (first column of 'auditor findings').")],
    justification: Annotated[str, typer.Option("--justification", "-j", help="Why the risk is accepted.")],
    until: Annotated[str, typer.Option("--until", help="Last day the acceptance holds (YYYY-MM-DD).")],
    p12: P12Opt = None, passphrase_file: PassphraseFileOpt = None, pkcs11_lib: LibOpt = None,
    token: TokenOpt = None, key_label: KeyLabelOpt = None, pin_file: PinFileOpt = None,
    workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """Accept the risk of an open finding, with a justification and an expiry date, signed with the accepting
    officer's certificate (who accepts is who the certificate names)."""
    from auditor.cli.context import workspace_context
    from auditor.cli.signer_opts import chosen_signer
    from auditor.services.findings import accept_finding

    expires = parse_day(until, "--until")
    choice = SignerChoice(p12, passphrase_file, pkcs11_lib, token, key_label, pin_file)
    with workspace_context(workspace) as ctx, chosen_signer(choice) as signer:
        acc = accept_finding(ctx, finding_id, signer, justification=justification, until=expires)
    if as_json:
        print_json({"finding": finding_id, "acceptance": acc.id, "expires_on": expires.isoformat(),
                    "accepted_by": acc.accepted_by})
    else:
        say(_("Risk accepted on finding {id} until {date} by {by}.").format(id=finding_id, date=day(expires),
                                                                            by=acc.accepted_by))


@app.command("show")
@handle_errors
def show_cmd(finding_id: Annotated[int, typer.Argument(help="The finding's number.")], workspace: WorkspaceOpt = None,
             lang: LangOpt = None, as_json: JsonOpt = False) -> None:
    """One finding: what the check saw, the remediation from the catalogue, who must fix it and by when, its
    acceptances and its history."""
    from rich.table import Table

    from auditor.cli.context import workspace_context
    from auditor.findings.lifecycle import AcceptanceError
    from auditor.services.overview import NotFound, finding_detail  # the overview's report code: only here

    with workspace_context(workspace) as ctx:
        try:
            detail = finding_detail(ctx, finding_id, clock.today())
        except NotFound as exc:
            raise AcceptanceError(str(exc)) from None
    if as_json:
        print_json(detail.as_json())
        return
    v, r = detail.view, detail.tracking
    say(_("Finding {id}: {title}").format(id=v.id, title=detail.title))
    t = Table(show_header=False, box=None)
    for name, value in ((_("Severity"), label(v.severity)), (_("Status"), label(v.status)),
                        (_("System"), v.system), (_("Target"), v.target), (_("Check"), v.check),
                        (_("First seen"), moment(v.first_seen)),
                        (_("Last seen"), moment(v.last_seen)),
                        (_("Responsible unit"), r.responsible),
                        (_("Due"), day(r.due_on)
                         + (" " + _("(overdue)") if r.overdue(detail.today) else "")),
                        (_("Remediation state"), label(r.state.value)), (_("Basis"), r.basis)):
        t.add_row(name, plain(value))
    out.print(t)
    say(_("What the check saw:"))
    for key, value in v.detail.items():
        say(f"  {key}: {value}")
    say(_("Remediation: {text}").format(text=detail.remediation or "—"))
    for a in detail.acceptances:
        say(_("Risk accepted by {by} until {date}: {why}").format(by=a.accepted_by, date=day(a.expires_on),
                                                                 why=a.justification))
    for h in detail.history:
        say(f"  #{h.seq} {clock.stamp(h.at)} {h.kind} " + "; ".join(f"{k}: {x}" for k, x in h.summary.items()))


@app.command("assign")
@handle_errors
def assign_cmd(
    finding_id: Annotated[int, typer.Argument(help="The finding's number.")],
    to: Annotated[str, typer.Option("--to", help="The organisation that must fix it (an inventory id).")],
    by: Annotated[str, typer.Option("--by", help="Who assigns it (name, title).")],
    due: Annotated[str | None, typer.Option("--due", help="Due date (YYYY-MM-DD; default: the policy's).")] = None,
    state: Annotated[str, typer.Option("--state", help="open, in_progress or fixed.")] = "open",
    note: Annotated[str | None, typer.Option("--note", help="A note for the unit.")] = None,
    workspace: WorkspaceOpt = None, lang: LangOpt = None, as_json: JsonOpt = False,
) -> None:
    """Give a finding to the unit that must fix it, with a due date and where the work stands (recorded in the
    ledger; earlier assignments stay in its history)."""
    from auditor.cli.context import workspace_context
    from auditor.services.findings import assign_finding

    due_on = parse_day(due, "--due") if due else None
    with workspace_context(workspace) as ctx:
        row = assign_finding(ctx, finding_id, organisation=to, due_on=due_on, state=state, note=note, by=by)
    if as_json:
        print_json({"finding": finding_id, "assignment": row.id, "organisation": row.organisation_id,
                    "due_on": row.due_on.isoformat() if row.due_on else None, "state": row.state})
    else:
        say(_("Finding {id} assigned to {org}{due}; state: {state}.").format(
            id=finding_id, org=row.organisation_id,
            due=_(", due {date}").format(date=day(row.due_on)) if row.due_on else "", state=label(row.state)))
