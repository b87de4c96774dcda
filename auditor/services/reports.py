"""Reports as the console offers them: publish the annual report (signed by its issuer when a certificate is
given), list what was written, and hand back a file exactly as the ledger recorded it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlmodel import col, select

from auditor import clock, safeio
from auditor.context import Context
from auditor.i18n import _
from auditor.identity.signer import CertSigner
from auditor.identity.trust import validate
from auditor.ledger.chain import sha256_hex
from auditor.problems import InputError, UserError
from auditor.reporting.publish import Issuer, Published
from auditor.services.accounts import Account, own_certificate
from auditor.store.tables import ReportRow

MAX_FILE = 256 << 20


def out_dir(ctx: Context) -> Path:
    return ctx.ws.root / "reports-out"


def publish_annual_report(ctx: Context, year: int, today: dt.date, signer: CertSigner | None = None,
                          account: Account | None = None) -> Published:
    from auditor.reporting.annual import publish_annual

    if not 2000 <= year <= today.year + 1:
        raise UserError(_("--year: {year} is not a year this report can cover").format(year=year))
    issuer = None
    if signer is not None:
        with ctx.store.session() as s:
            officer = validate(s, signer.certificate, signer.chain, clock.now())
        if account is not None:
            own_certificate(ctx.loaded.inventory, account, officer)
        issuer = Issuer.of(ctx.loaded.inventory, signer, officer)
    return publish_annual(ctx, year, today, out_dir(ctx), issuer, account.name if account else None)[1]


def list_reports(ctx: Context) -> list[ReportRow]:
    with ctx.store.session() as s:
        return list(s.exec(select(ReportRow).order_by(col(ReportRow.id).desc())).all())


class FileUnavailable(UserError):
    """The file is not there any more, or it is not the one the ledger recorded."""


def report_file(ctx: Context, report_id: int, index: int) -> tuple[str, bytes]:
    """File ``index`` of report ``report_id``, read from the reports folder (never through a link) and handed
    back only if its SHA-256 is the one recorded when it was written."""
    with ctx.store.session() as s:
        row = s.get(ReportRow, report_id)
    if row is None or not 0 <= index < len(row.files):
        raise FileUnavailable(_("no such report file"))
    meta = row.files[index]
    name = str(meta["name"])
    if "/" in name or "\\" in name or name.startswith("."):
        raise FileUnavailable(_("no such report file"))
    try:
        data = safeio.read_bytes(out_dir(ctx) / name, max_bytes=MAX_FILE, within=ctx.ws.root)
    except (OSError, InputError):
        raise FileUnavailable(_("{name} is no longer in the reports folder").format(name=name)) from None
    if sha256_hex(data) != meta.get("sha256"):
        raise FileUnavailable(_("{name} in the reports folder is not the file the ledger recorded").format(name=name))
    return name, data
