"""Judge a host's installed packages against the imported advisories, its release's end of life, and the
freshness of the advisory data. Debian and Ubuntu versions are compared with python-debian's Debian ordering
(epochs, ``~bpo`` backports and ``+debNuM`` security updates in their right places); RPM versions with
univers' implementation of rpmvercmp (epoch:version-release, ``~`` and ``^``, ``el9`` < ``el9_2``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from auditor.catalogue.checks import Catalogue
from auditor.catalogue.patch_policy import PatchPolicy
from auditor.evaluate.outcome import Outcome
from auditor.probes.packages import PackageInventory
from auditor.versions import version_key
from auditor.vocabulary import Verdict

PATCH_CHECKS = ("patch.vulnerable_package", "patch.pending_security_updates", "patch.eol_os", "patch.advisories_stale",
                "patch.collection_failed")


@dataclass(frozen=True)
class Advisory:
    advisory_id: str
    source_package: str
    fixed_version: str | None


def evaluate_patch(system: str, host: str, inventory: PackageInventory | None, error: str | None,
                   advisories: list[Advisory], newest: dt.date | None, policy: PatchPolicy, level: int | None,
                   catalogue: Catalogue, today: dt.date, open_targets: set[tuple[str, str]]) -> list[Outcome]:
    out: list[Outcome] = []

    def put(check: str, target: str, verdict: Verdict, **detail: object) -> None:
        out.append(Outcome(check, system, target, verdict, catalogue.get(check).severity, detail))

    if inventory is None:
        put("patch.collection_failed", f"{host}:packages", Verdict.FAIL, error=error)
        for check, target in sorted(open_targets):
            if check != "patch.collection_failed":
                put(check, target, Verdict.INDETERMINATE, error=error)
        return out
    put("patch.collection_failed", f"{host}:packages", Verdict.PASS)
    # advisories
    max_age = policy.max_age(level)
    if newest is None:
        put("patch.advisories_stale", f"{host}:advisories", Verdict.FAIL, newest=None, max_age_days=max_age,
            release=f"{inventory.os_id} {inventory.codename or inventory.version_id}")
    else:
        age = (today - newest).days
        put("patch.advisories_stale", f"{host}:advisories", Verdict.FAIL if age > max_age else Verdict.PASS,
            newest=newest.isoformat(), age_days=age, max_age_days=max_age)
    # security updates the package manager already knows of, not installed
    if inventory.pending_security is None:
        put("patch.pending_security_updates", f"{host}:updates", Verdict.INDETERMINATE,
            reason="the package manager's view is not available for this collection method")
    else:
        put("patch.pending_security_updates", f"{host}:updates",
            Verdict.FAIL if inventory.pending_security else Verdict.PASS,
            packages=list(inventory.pending_security), count=len(inventory.pending_security))
    # end of life
    eol = policy.eol_of(inventory.os_id, inventory.version_id, inventory.codename)
    release = f"{inventory.os_id} {inventory.version_id} ({inventory.codename})"
    if eol is None:
        put("patch.eol_os", f"{host}:os", Verdict.INDETERMINATE, release=release, reason="release not in the table")
    else:
        put("patch.eol_os", f"{host}:os", Verdict.FAIL if eol.eol < today else Verdict.PASS, release=release,
            eol=eol.eol.isoformat(), reference=eol.reference)
    # vulnerable packages, one finding per source package (RPM advisories may name binary packages)
    key = version_key(inventory.package_format)
    installed: dict[str, list[tuple[str, str]]] = defaultdict(list)  # source → [(binary, source version)]
    owner: dict[str, str] = {}  # binary → source
    for p in inventory.packages:
        installed[p.source].append((p.name, p.source_version))
        owner[p.name] = p.source
    vulnerable: dict[str, dict[str, Any]] = {}
    newest_installed: dict[str, str] = {}
    for adv in advisories:
        source = adv.source_package if adv.source_package in installed else owner.get(adv.source_package, "")
        if adv.fixed_version is None or source not in installed:
            continue
        fixed = key(adv.fixed_version)
        current = newest_installed.get(source)
        if current is None:
            current = newest_installed[source] = max((v for _b, v in installed[source]), key=key)
        if key(current) < fixed:
            entry = vulnerable.setdefault(source, {"installed": current, "fixed": adv.fixed_version,
                                                   "advisories": set(), "binaries": sorted(
                                                       {b for b, _v in installed[source]})})
            entry["advisories"].add(adv.advisory_id)
            if key(entry["fixed"]) < fixed:
                entry["fixed"] = adv.fixed_version
    reported = set()
    for source, entry in sorted(vulnerable.items()):
        target = f"{host}:{source}"
        reported.add(target)
        put("patch.vulnerable_package", target, Verdict.FAIL, package=source, installed=entry["installed"],
            fixed=entry["fixed"], advisories=sorted(entry["advisories"]), binaries=entry["binaries"])
    for check, target in sorted(open_targets):
        if check == "patch.vulnerable_package" and target not in reported:
            put(check, target, Verdict.PASS)  # upgraded since
    return out
