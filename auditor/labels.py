"""People-facing names of the values the data uses (states, kinds, roles...), in the current language."""

from __future__ import annotations

from functools import cache

from auditor.i18n import _, get_language


def label(value: object) -> str:
    if value is None:
        return "—"
    text = str(value)
    return _names(get_language()).get(text, text)


@cache
def _names(lang: str) -> dict[str, str]:
    """The table, translated once per language (a report labels hundreds of thousands of values)."""
    return {
        "planned": _("planned"), "building": _("building"), "operating": _("operating"),
        "upgrading": _("upgrading"), "retired": _("retired"),
        "public": _("public information"), "private": _("private information"),
        "personal": _("personal information"), "state_secret": _("state secrets"),
        "internal": _("internal"), "online_service": _("online service"), "infrastructure": _("infrastructure"),
        "industrial_control": _("industrial control"), "other": _("other"),
        "agencies": _("agencies"), "citizens": _("citizens"), "businesses": _("businesses"),
        "user": _("users"), "management": _("management"),
        "draft": _("draft"), "submitted": _("submitted"), "appraised": _("appraised"), "approved": _("approved"),
        "returned": _("returned"),
        "agree": _("agree"), "agree_with_conditions": _("agree with conditions"), "disagree": _("disagree"),
        "owner": _("owner"), "operator": _("operator"), "security_unit": _("security unit"),
        "appraiser": _("appraising authority"), "independent_appraiser": _("independent appraiser"),
        "periodic": _("periodic"), "pre_operation": _("before going into use"), "ad_hoc": _("ad hoc"),
        "black_box": _("black box"), "grey_box": _("grey box"), "white_box": _("white box"),
        "live_fire": _("live-fire"), "tabletop": _("tabletop"),
        "attack_started": _("attack started"), "detected": _("detected"), "contained": _("contained"),
        "recovered": _("recovered"), "note": _("note"),
        "not_started": _("not deployed"), "partial": _("partly deployed"), "full": _("fully deployed"),
        "critical": _("critical"), "high": _("high"), "medium": _("medium"), "low": _("low"), "info": _("info"),
        "pass": _("pass"), "fail": _("fail"), "not_applicable": _("not applicable"),
        "indeterminate": _("indeterminate"),
        "open": _("open"), "accepted": _("accepted risk"), "resolved": _("resolved"),
        "officer": _("security officer"), "leader": _("leader"), "admin": _("administrator"),
        "implemented": _("implemented (verified)"), "not_verified": _("not verified yet"),
        "evidence_required": _("evidence required"),
        "running": _("running"), "done": _("done"), "failed": _("failed"),
        "remediation": _("remediation"), "acceptance": _("risk acceptance"), "certificate": _("certificate"),
        "dossier": _("level dossier"), "obligation": _("obligation"), "appraisal": _("appraisal"),
        "approval": _("approval"), "submission": _("submission"), "to_improve": _("to improve"),
        "in_progress": _("in progress"), "fixed": _("fixed, awaiting a scan"), "verified": _("fixed (verified by a scan)"),
    }


def exposure(value: object) -> str:
    """How reachable a host is (its own field: 'public' here is not a kind of information)."""
    names = {"public": _("facing the Internet"), "user": _("user network"), "internal": _("internal server network"),
             "management": _("management network")}
    return names.get(str(value), str(value))
