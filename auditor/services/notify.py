"""Send the reminders by e-mail: one message per responsible unit, to the address the inventory gives it, through
the SMTP server the workspace names in notifications.yaml (the password, if any, from the environment)."""

from __future__ import annotations

import datetime as dt
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from auditor.catalogue.loading import load_model
from auditor.context import Context
from auditor.i18n import _
from auditor.problems import UserError
from auditor.services.reminders import Reminder, by_unit, reminders
from auditor.textformat import day

FILE = "notifications.yaml"


class Smtp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    sender: str = Field(min_length=3)
    username: str | None = None
    password_env: str | None = None  # the name of the environment variable holding the password


class Notifications(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = 1
    smtp: Smtp
    days: int = Field(default=30, ge=0, le=366)


def notifications_path(root: Path) -> Path:
    return root / FILE


def load_notifications(root: Path) -> Notifications | None:
    path = notifications_path(root)
    if not path.exists():
        return None
    return load_model(path, Notifications)[0]


@dataclass
class SendReport:
    sent: dict[str, int] = field(default_factory=dict)  # organisation → reminders in its message
    no_address: list[str] = field(default_factory=list)


class NotifyError(UserError):
    pass


def _message(unit_name: str, items: list[Reminder], today: dt.date) -> str:
    lines = [_("To: {unit}").format(unit=unit_name), "",
             _("The compliance auditor lists what your unit must do by the dates below ({n} items):").format(
                 n=len(items)), ""]
    for r in items:
        late = " " + _("(overdue)") if r.overdue(today) else ""
        lines.append(f"- {day(r.due)}{late}: {r.what} — {r.subject}")
        if r.reference:
            lines.append(f"  ({r.reference})")
    lines += ["", _("This message was sent by the compliance auditor; reply to the security unit, not to it.")]
    return "\n".join(lines) + "\n"


def send_reminders(ctx: Context, today: dt.date, days: int | None = None) -> SendReport:
    config = load_notifications(ctx.ws.root)
    if config is None:
        raise NotifyError(_("no {file} in the workspace: it names the SMTP server to send through").format(file=FILE))
    grouped = by_unit(reminders(ctx, today, config.days if days is None else days))
    report = SendReport()
    messages: list[EmailMessage] = []
    for org_id, items in grouped.items():
        org = ctx.loaded.inventory.organisation(org_id)
        if org is None or not org.email:
            report.no_address.append(org_id)
            continue
        msg = EmailMessage()
        msg["From"], msg["To"] = config.smtp.sender, str(org.email)
        overdue = sum(1 for r in items if r.overdue(today))
        msg["Subject"] = _("[ATTT] {n} items due, {overdue} overdue ({date})").format(
            n=len(items), overdue=overdue, date=day(today))
        msg.set_content(_message(org.name, items, today))
        messages.append(msg)
        report.sent[org_id] = len(items)
    if not messages:
        return report
    password = os.environ.get(config.smtp.password_env) if config.smtp.password_env else None
    try:
        with smtplib.SMTP(config.smtp.host, config.smtp.port, timeout=30) as smtp:
            if config.smtp.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if config.smtp.username and password:
                smtp.login(config.smtp.username, password)
            for msg in messages:
                smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(_("the SMTP server {host}:{port} did not take the messages: {error}").format(
            host=config.smtp.host, port=config.smtp.port, error=exc)) from None
    return report
