"""For whom an officer signs: the organisation of the inventory their certificate identifies, among those that may
take the decision. A CA such as the Government Cipher Committee's certifies every official in the country, so that
a certificate is trusted says who signed, not that they may sign this."""

from __future__ import annotations

from collections.abc import Iterable

from auditor.i18n import _
from auditor.identity.officer import Officer
from auditor.inventory.model import Organisation
from auditor.problems import UserError


class MandateError(UserError):
    """An officer whose certificate identifies none of the organisations that may take the decision (exit 2)."""


def organisation_for(officer: Officer, candidates: Iterable[Organisation], what: str) -> Organisation:
    """The candidate organisation the officer's certificate identifies; ``what`` names the decision."""
    orgs = list(candidates)
    for org in orgs:
        identity = org.certificate_identity()
        if officer.signs_for(identity.organisation, identity.identifier):
            return org
    names = ", ".join(f"{o.id} ({o.certificate_identity().organisation or o.certificate_identity().identifier})"
                      for o in orgs) or "—"
    raise MandateError(_("{what} is for an officer of {orgs}; the certificate of {name} identifies {certified}").format(
        what=what, orgs=names, name=officer.name, certified=officer.organisation or officer.organisation_identifier
        or "—"))
