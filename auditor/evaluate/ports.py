"""Judge what nmap saw on a host against its approved ports, its exposure and the earlier observations."""

from __future__ import annotations

from typing import Any

from auditor.catalogue.checks import Catalogue
from auditor.catalogue.ports_policy import AdminServices, PortPolicySpec
from auditor.evaluate.outcome import Outcome
from auditor.probes.nmap_ports import OpenPort, PortObservation
from auditor.vocabulary import Verdict

PORT_CHECKS = ("ports.unexpected_open", "ports.approved_closed", "ports.service_changed", "ports.admin_exposed")
Baseline = dict[tuple[str, int], tuple[str, str, str]]  # (address, port) → (service, product, version)


def port_target(obs: PortObservation, op: OpenPort) -> str:
    single = "/" not in obs.target.address
    return f"{obs.target.host_id}:{op.port}" if single else f"{obs.target.host_id}/{op.address}:{op.port}"


def service_change(declared: tuple[int, str, str | None, str | None] | None, first_seen: tuple[str, str, str] | None,
                   op: OpenPort) -> dict[str, str] | None:
    """What the port was expected to run, when it now runs something else; None when nothing changed.

    Expected is the service or product the inventory declares for the port; when it declares neither, the
    service, product and version nmap saw the first time.
    """
    if declared and (declared[2] or declared[3]):
        service, product = declared[2], declared[3]
        if (service and service != op.service) or (product and product != op.product):
            return {"service": service or op.service, "product": product or op.product,
                    "version": "" if product else op.version}
        return None
    if first_seen is not None and first_seen != (op.service, op.product, op.version):
        return dict(zip(("service", "product", "version"), first_seen, strict=True))
    return None


def evaluate_ports(obs: PortObservation, policy: PortPolicySpec, admin: AdminServices, catalogue: Catalogue,
                   baseline: Baseline, open_targets: set[tuple[str, str]]) -> list[Outcome]:
    """``baseline``: the first observation of each open port; ``open_targets``: this host's open findings."""
    t = obs.target
    out: list[Outcome] = []

    def put(check: str, target: str, verdict: Verdict, **detail: Any) -> None:
        out.append(Outcome(check, t.system_id, target, verdict, catalogue.get(check).severity, detail))

    if not obs.ok:
        for check, target in sorted(open_targets):
            put(check, target, Verdict.INDETERMINATE, error=obs.error)
        return out
    approved = {p[0]: p for p in t.approved if p[1] == "tcp"}
    open_numbers = {op.port for op in obs.open_ports}
    for op in obs.open_ports:
        target = port_target(obs, op)
        if op.port in approved:
            put("ports.unexpected_open", target, Verdict.PASS)
        else:
            put("ports.unexpected_open", target, Verdict.FAIL, address=op.address, port=op.port, service=op.service,
                product=op.product, version=op.version)
        found = admin.identify(op.port, op.service, op.product)
        if found is not None and t.exposure in policy.admin_exposed_on:
            put("ports.admin_exposed", target, Verdict.FAIL, address=op.address, port=op.port, service=found[0],
                recognised_by=found[1], nmap_service=op.service, product=op.product, exposure=t.exposure)
        else:
            put("ports.admin_exposed", target, Verdict.PASS)
        before = service_change(approved.get(op.port), baseline.get((op.address, op.port)), op)
        if before is not None:
            put("ports.service_changed", target, Verdict.FAIL, before=before,
                now={"service": op.service, "product": op.product, "version": op.version})
        else:
            put("ports.service_changed", target, Verdict.PASS)
    for port in sorted(approved):
        target = f"{t.host_id}:{port}"
        put("ports.approved_closed", target, Verdict.PASS if port in open_numbers else Verdict.FAIL, port=port)
    reported = {(o.check, o.target) for o in out}
    for check, target in sorted(open_targets - reported):
        put(check, target, Verdict.PASS)  # a finding of a port no longer open: resolved by this successful scan
    return out
