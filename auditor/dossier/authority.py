"""Who may appraise and approve a dossier: the organisations frozen into it when it was submitted, the roles the
regime's authority table names per level, and the separation of duties the law asks.

- The organisations (owner, operator, security unit, appraising authorities, independent appraisers) and how
  their officers' certificates identify them are recorded at submission: a later edit of the inventory does not
  change who may sign that dossier.
- The operator that prepared a dossier cannot appraise it: when the role the regime names for appraisal falls on
  the operator, appraisal goes to an independent appraiser the owner designated (TT 12/2022 Điều 6).
- The appraiser and the approver are different people, and from different units where the regime names
  different roles.
"""

from __future__ import annotations

from typing import Any

from auditor.i18n import _
from auditor.identity.officer import Officer
from auditor.inventory.model import Inventory, Organisation, System
from auditor.levels.regimes import RegimeSpec
from auditor.problems import UserError

INDEPENDENT_RULE = "TT 12/2022/TT-BTTTT Điều 6"


class AuthorityError(UserError):
    """A signer who may not sign this step; the message names the rule (exit code 2)."""


def _entry(o: Organisation | None, fallback: str | None = None) -> dict[str, Any] | None:
    if o is None:
        return {"id": fallback, "name": fallback, "signing": None} if fallback else None
    signing = o.certificate_identity().model_dump(mode="json", exclude_none=True)
    return {"id": o.id, "name": o.name, "signing": signing}


def freeze(inv: Inventory, system: System) -> dict[str, Any]:
    """The organisations a dossier's signers are judged against, as the inventory declares them now."""
    return {
        "owner": _entry(inv.organisation(system.owner), system.owner),
        "operator": _entry(inv.organisation(system.operator), system.operator),
        "security_unit": _entry(inv.organisation(system.security_unit), system.security_unit)
        if system.security_unit else None,
        "appraiser": [_entry(o) for o in inv.organisations if "appraiser" in o.roles],
        "independent_appraiser": [_entry(o) for o in inv.organisations if "independent_appraiser" in o.roles
                                  and o.parent in (None, system.owner)],
    }


def _role_orgs(frozen: dict[str, Any], role: str) -> list[dict[str, Any]]:
    value = frozen.get(role)
    if value is None:
        return []
    return [v for v in (value if isinstance(value, list) else [value]) if v]


def who_may(frozen: dict[str, Any], regime: RegimeSpec, level: int, step: str) -> tuple[list[dict[str, Any]], str,
                                                                                       str]:
    """(the organisations that may take ``step``, the role, the rule) for a dossier at ``level``."""
    rule = regime.authority[level]
    role = rule.appraise if step == "appraise" else rule.approve
    orgs = _role_orgs(frozen, role)
    reference = regime.references.get("authority", "")
    operator = (frozen.get("operator") or {}).get("id")
    if step == "appraise" and any(o["id"] == operator for o in orgs):
        return _role_orgs(frozen, "independent_appraiser"), "independent_appraiser", INDEPENDENT_RULE
    return orgs, role, reference


def signing_org(officer: Officer, frozen: dict[str, Any], regime: RegimeSpec, level: int, step: str) -> dict[str, Any]:
    """The frozen organisation the officer's certificate identifies among those that may take ``step``."""
    orgs, role, reference = who_may(frozen, regime, level, step)
    what = _("appraisal") if step == "appraise" else _("approval")
    if not orgs:
        raise AuthorityError(_("at level {level}, {step} is for the {role}, and the dossier names none ({rule})").format(
            level=level, step=what, role=role, rule=reference))
    for org in orgs:
        signing = org.get("signing") or {}
        if officer.signs_for(signing.get("organisation"), signing.get("identifier")):
            return org
    names = ", ".join(f"{o['id']} ({(o.get('signing') or {}).get('organisation') or _('no certificate identity')})"
                      for o in orgs)
    raise AuthorityError(_("at level {level}, {step} is for the {role}: {orgs}; the certificate of {name} identifies "
                           "{certified} ({rule})").format(level=level, step=what, role=role, orgs=names,
                                                          name=officer.name, certified=officer.organisation or "—",
                                                          rule=reference))


def separate(approver: Officer, approver_org: dict[str, Any], appraisal: dict[str, Any], regime: RegimeSpec,
             level: int) -> None:
    """The approver is not the appraiser, and is from another unit when the regime names other roles."""
    decision = appraisal.get("decision") or {}
    appraiser = decision.get("officer") or {}
    person = appraiser.get("serial_number") or f"{appraiser.get('name')}|{appraiser.get('organisation') or ''}"
    if appraiser and person == approver.person:
        raise AuthorityError(_("{name} appraised this dossier and cannot approve it too (separation of duties)")
                             .format(name=approver.name))
    rule = regime.authority[level]
    if rule.appraise != rule.approve and decision.get("organisation") == approver_org.get("id"):
        raise AuthorityError(_("{org} appraised this dossier; at level {level} the approval is for another unit, "
                               "the {role} ({rule})").format(org=approver_org.get("id"), level=level,
                                                             role=rule.approve,
                                                             rule=regime.references.get("authority", "")))
