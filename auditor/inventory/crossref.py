"""Checks that need the whole inventory: unique ids, references, roles, dates and files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from auditor.i18n import _
from auditor.inventory.model import Inventory
from auditor.problems import Problem
from auditor.yamlsafe import LoadedYaml, Path_


def _duplicates(ids: Iterable[tuple[Path_, str]], loaded: LoadedYaml, what: str) -> list[Problem]:
    seen: dict[str, Path_] = {}
    out = []
    for path, value in ids:
        if value in seen:
            first = loaded.position(seen[value])
            out.append(loaded.problem(path, _("duplicate {what} {value!r} (first at line {line})")
                                      .format(what=what, value=value, line=first.line)))
        else:
            seen[value] = path
    return out


def check(inv: Inventory, loaded: LoadedYaml, workspace: Path, today: dt.date) -> list[Problem]:
    p: list[Problem] = []
    orgs = {o.id: o for o in inv.organisations}
    p += _duplicates(((("organisations", i, "id"), o.id) for i, o in enumerate(inv.organisations)),
                     loaded, _("organisation id"))
    p += _duplicates(((("systems", i, "id"), s.id) for i, s in enumerate(inv.systems)), loaded, _("system id"))

    for i, org in enumerate(inv.organisations):
        if org.parent is not None and org.parent not in orgs:
            p.append(loaded.problem(("organisations", i, "parent"),
                                    _("unknown organisation {ref!r}").format(ref=org.parent)))

    for i, s in enumerate(inv.systems):
        base: Path_ = ("systems", i)
        for field, role in (("owner", "owner"), ("operator", "operator"), ("security_unit", "security_unit")):
            ref = getattr(s, field)
            if ref is None:
                continue
            if ref not in orgs:
                p.append(loaded.problem((*base, field), _("unknown organisation {ref!r}").format(ref=ref)))
            elif role not in orgs[ref].roles:
                p.append(loaded.problem((*base, field), _("organisation {ref!r} does not have the role {role!r}")
                                        .format(ref=ref, role=role)))
        for j, c in enumerate(s.contacts):
            if c.organisation is not None and c.organisation not in orgs:
                p.append(loaded.problem((*base, "contacts", j, "organisation"),
                                        _("unknown organisation {ref!r}").format(ref=c.organisation)))
        p += _dates(s, base, loaded, today)
        p += _duplicates((((*base, "hosts", j, "id"), h.id) for j, h in enumerate(s.hosts)), loaded, _("host id"))
        host_ids = {h.id for h in s.hosts}
        for j, h in enumerate(s.hosts):
            p += _duplicates((((*base, "hosts", j, "approved_ports", k), ap.label)
                              for k, ap in enumerate(h.approved_ports)), loaded, _("approved port"))
            if h.patch.identity_file and not (workspace / h.patch.identity_file).is_file():
                p.append(loaded.problem((*base, "hosts", j, "patch", "identity_file"),
                                        _("file not found: {path}").format(path=h.patch.identity_file)))
        p += _duplicates((((*base, "endpoints", j), f"{e.host}:{e.port}") for j, e in enumerate(s.endpoints)),
                         loaded, _("endpoint"))
        for j, e in enumerate(s.endpoints):
            if e.host not in host_ids:
                p.append(loaded.problem((*base, "endpoints", j, "host"),
                                        _("unknown host {ref!r} in system {system!r}").format(ref=e.host, system=s.id)))
            if e.ca_bundle is not None and not (workspace / e.ca_bundle).is_file():
                p.append(loaded.problem((*base, "endpoints", j, "ca_bundle"),
                                        _("file not found: {path}").format(path=e.ca_bundle)))
    return p


def _dates(s, base: Path_, loaded: LoadedYaml, today: dt.date) -> list[Problem]:  # type: ignore[no-untyped-def]
    p = []
    if s.lifecycle in ("operating", "upgrading", "retired") and s.go_live is None:
        p.append(loaded.problem((*base, "go_live"), _("a system that is {state} needs its go-live date")
                                .format(state=s.lifecycle)))
    if s.lifecycle in ("operating", "upgrading") and s.go_live is not None and s.go_live > today:
        p.append(loaded.problem((*base, "go_live"), _("go-live date {date} is in the future for a system that is {state}")
                                .format(date=s.go_live.isoformat(), state=s.lifecycle)))
    if s.lifecycle == "retired" and s.retired_on is None:
        p.append(loaded.problem((*base, "retired_on"), _("a retired system needs its retirement date")))
    if s.retired_on is not None and s.lifecycle != "retired":
        p.append(loaded.problem((*base, "retired_on"), _("only a retired system has a retirement date")))
    if s.retired_on is not None and s.go_live is not None and s.retired_on < s.go_live:
        p.append(loaded.problem((*base, "retired_on"), _("retired on {retired} before going live on {live}")
                                .format(retired=s.retired_on.isoformat(), live=s.go_live.isoformat())))
    if s.retired_on is not None and s.retired_on > today:
        p.append(loaded.problem((*base, "retired_on"), _("retirement date {date} is in the future")
                                .format(date=s.retired_on.isoformat())))
    return p
