"""Judge one TLS observation against the TLS policy of the system's level."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509

from auditor.catalogue.checks import Catalogue
from auditor.catalogue.tls_policy import TlsPolicy
from auditor.evaluate import certs
from auditor.evaluate.outcome import Outcome
from auditor.probes.tls_observation import TlsObservation
from auditor.vocabulary import Verdict

TLS_CHECKS = (
    "target.unreachable", "tls.not_tls", "tls.not_assessed",
    "tls.cert.expired", "tls.cert.expiring", "tls.cert.untrusted", "tls.cert.hostname_mismatch",
    "tls.cert.weak_key", "tls.cert.weak_signature",
    "tls.protocol.legacy", "tls.cipher.weak", "tls.cipher.no_forward_secrecy", "tls.hsts.missing",
    "tls.vuln.heartbleed", "tls.vuln.robot", "tls.vuln.ccs_injection", "tls.vuln.insecure_renegotiation",
    "tls.vuln.compression",
)
LEGACY_VERSIONS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1")
_VERSION_COMMAND = {"SSLv2": "ssl_2_0_cipher_suites", "SSLv3": "ssl_3_0_cipher_suites",
                    "TLSv1": "tls_1_0_cipher_suites", "TLSv1.1": "tls_1_1_cipher_suites",
                    "TLSv1.2": "tls_1_2_cipher_suites", "TLSv1.3": "tls_1_3_cipher_suites"}
_FAMILY_MARKERS = {"null_cipher": ("_NULL_", "WITH_NULL"), "export": ("EXPORT",), "rc4": ("RC4",),
                   "des": ("_DES_", "DES_CBC_", "DES_64"), "3des": ("3DES", "DES_192_EDE3", "EDE_CBC"),
                   "anonymous": ("_anon_", "_ANON_"), "md5": ("_MD5",)}
_STRONG_ORACLE = {"VULNERABLE_STRONG_ORACLE", "VULNERABLE_WEAK_ORACLE"}


def suite_families(name: str, anonymous: bool) -> set[str]:
    found = {fam for fam, markers in _FAMILY_MARKERS.items() if any(m in name for m in markers)}
    if anonymous:
        found.add("anonymous")
    if "3des" in found:
        found.discard("des")
    return found


class _Judge:
    def __init__(self, obs: TlsObservation, policy: TlsPolicy, catalogue: Catalogue, now: dt.datetime) -> None:
        self.obs, self.policy, self.catalogue, self.now = obs, policy, catalogue, now
        self.out: dict[str, Outcome] = {}

    def put(self, check: str, verdict: Verdict, **detail: Any) -> None:
        severity = self.policy.severity.get(check) or self.catalogue.get(check).severity
        t = self.obs.target
        self.out[check] = Outcome(check, t.system_id, t.label, verdict, severity, detail)

    def rest(self, verdict: Verdict, **detail: Any) -> None:
        for check in TLS_CHECKS:
            if check not in self.out:
                self.put(check, verdict, **detail)


def evaluate_tls(obs: TlsObservation, policy: TlsPolicy, catalogue: Catalogue, now: dt.datetime) -> list[Outcome]:
    j = _Judge(obs, policy, catalogue, now)
    _judge(j)
    _assessed(j)
    return list(j.out.values())


def _judge(j: _Judge) -> None:
    obs, t = j.obs, j.obs.target
    if not obs.reachable:
        j.put("target.unreachable", Verdict.FAIL, address=t.address, port=t.port, error=obs.connectivity_error)
        j.rest(Verdict.INDETERMINATE, reason="unreachable")
        return
    j.put("target.unreachable", Verdict.PASS)
    if not obs.speaks_tls:
        if obs.answers_tls is not False:
            # it answers TLS, or accepts and says nothing: not a pass, not a "not TLS" either
            j.put("tls.not_tls", Verdict.INDETERMINATE, error=obs.connectivity_error)
            j.rest(Verdict.INDETERMINATE, reason="no TLS handshake possible", error=obs.connectivity_error)
        else:
            j.put("tls.not_tls", Verdict.FAIL, error=obs.connectivity_error)
            j.rest(Verdict.INDETERMINATE, reason="not TLS")
        return
    j.put("tls.not_tls", Verdict.PASS)
    _certificates(j)
    _protocols_and_suites(j)
    _hsts(j)
    _vulnerabilities(j)


def _assessed(j: _Judge) -> None:
    """Failing closed: an endpoint of which no TLS property could be judged (no connection, a handshake that never
    completes, every probe failing) cannot be shown to be safe, and that is a finding of its own."""
    if j.out["tls.not_tls"].verdict is Verdict.FAIL:
        j.put("tls.not_assessed", Verdict.PASS)  # assessed: it does not speak TLS, which is its own finding
        return
    properties = [o for c, o in j.out.items() if c not in ("target.unreachable", "tls.not_tls", "tls.not_assessed")]
    if any(o.verdict in (Verdict.PASS, Verdict.FAIL) for o in properties):
        j.put("tls.not_assessed", Verdict.PASS)
        return
    reason = "unreachable" if j.out["target.unreachable"].verdict is Verdict.FAIL else "no TLS property judged"
    j.put("tls.not_assessed", Verdict.FAIL, reason=reason, error=j.obs.connectivity_error,
          probe_errors=dict(sorted(j.obs.errors.items())))


def _certificates(j: _Judge) -> None:
    obs, policy = j.obs, j.policy
    cert_checks = ("tls.cert.expired", "tls.cert.expiring", "tls.cert.untrusted", "tls.cert.hostname_mismatch",
                   "tls.cert.weak_key", "tls.cert.weak_signature")
    if not obs.chain_pem:
        for c in cert_checks:
            j.put(c, Verdict.INDETERMINATE, error=obs.errors.get("certificate_info", "no certificate received"))
        return
    chain = [x509.load_pem_x509_certificate(p) for p in obs.chain_pem]
    leaf = chain[0]
    not_before, not_after, days_left = certs.validity(leaf, j.now)
    dates = {"not_before": not_before.isoformat(), "not_after": not_after.isoformat(), "days_left": days_left}
    if j.now > not_after or j.now < not_before:
        j.put("tls.cert.expired", Verdict.FAIL, **dates)
        j.put("tls.cert.expiring", Verdict.NOT_APPLICABLE, **dates)
    else:
        j.put("tls.cert.expired", Verdict.PASS, **dates)
        warn = policy.cert_expiry_warn_days
        j.put("tls.cert.expiring", Verdict.FAIL if days_left < warn else Verdict.PASS, warn_days=warn, **dates)

    trusted = certs.pem_chain_is_trusted(tuple(obs.chain_pem), obs.target.ca_bundle or None)
    store = "system" + (f" + {obs.target.ca_bundle}" if obs.target.ca_bundle else "")
    j.put("tls.cert.untrusted", Verdict.PASS if trusted else Verdict.FAIL, trust_store=store,
          self_signed=certs.is_self_signed(leaf), issuer=leaf.issuer.rfc4514_string())

    name = obs.target.name_to_check
    j.put("tls.cert.hostname_mismatch", Verdict.PASS if certs.covers_name(leaf, name) else Verdict.FAIL, name=name,
          subject=leaf.subject.rfc4514_string())

    key = certs.key_info(leaf)
    weak_key = ((key.kind == "RSA" and key.bits < policy.rsa_min_bits)
                or (key.kind == "EC" and key.bits < policy.ec_min_bits) or key.kind == "DSA")
    j.put("tls.cert.weak_key", Verdict.FAIL if weak_key else Verdict.PASS, key=f"{key.kind} {key.bits}",
          minimum=f"RSA {policy.rsa_min_bits}, EC {policy.ec_min_bits}")

    weak = []
    for i, cert in enumerate(chain):
        if i > 0 and certs.is_self_signed(cert):
            continue  # a root's own signature is not relied upon
        h = certs.weak_hash(cert)
        if h:
            weak.append({"position": "leaf" if i == 0 else f"intermediate {i}", "hash": h,
                         "subject": cert.subject.rfc4514_string()})
    j.put("tls.cert.weak_signature", Verdict.FAIL if weak else Verdict.PASS, certificates=weak)


def _protocols_and_suites(j: _Judge) -> None:
    obs, policy = j.obs, j.policy
    accepted_versions = obs.accepted_versions
    legacy = sorted(v for v in LEGACY_VERSIONS if v in accepted_versions and v not in policy.allowed_versions)
    legacy_errors = {v: obs.errors[_VERSION_COMMAND[v]] for v in LEGACY_VERSIONS if _VERSION_COMMAND[v] in obs.errors}
    if legacy:
        j.put("tls.protocol.legacy", Verdict.FAIL, versions=legacy)
    elif legacy_errors:
        j.put("tls.protocol.legacy", Verdict.INDETERMINATE, errors=legacy_errors)
    else:
        j.put("tls.protocol.legacy", Verdict.PASS, versions=sorted(accepted_versions))

    all_errors = {v: obs.errors[c] for v, c in _VERSION_COMMAND.items() if c in obs.errors}
    weak, no_fs = [], []
    for s in obs.accepted:
        why = sorted(suite_families(s.name, s.anonymous) & policy.forbid)
        if policy.forbid_cbc and "_CBC_" in s.name:
            why.append("cbc")
        allowed = policy.allowed_tls13_suites if s.version == "TLSv1.3" else policy.allowed_tls12_suites
        if allowed and s.name not in allowed:
            why.append(f"not in {policy.guideline}")  # the suite policy of every level, not only its bans
        if why:
            weak.append({"version": s.version, "suite": s.name, "why": why})
        if not s.ephemeral and s.version != "TLSv1.3":
            no_fs.append({"version": s.version, "suite": s.name})
    for check, found in (("tls.cipher.weak", weak), ("tls.cipher.no_forward_secrecy", no_fs)):
        if found:
            j.put(check, Verdict.FAIL, suites=found)
        elif all_errors:
            j.put(check, Verdict.INDETERMINATE, errors=all_errors)
        else:
            j.put(check, Verdict.PASS)


def _hsts(j: _Judge) -> None:
    obs = j.obs
    if not obs.target.is_web:
        j.put("tls.hsts.missing", Verdict.NOT_APPLICABLE, protocol=obs.target.protocol)
    elif obs.hsts_header_seen is None:
        j.put("tls.hsts.missing", Verdict.INDETERMINATE, error=obs.errors.get("http_headers", "no HTTP response"))
    elif not obs.hsts_header_seen:
        j.put("tls.hsts.missing", Verdict.FAIL, header=None, minimum=j.policy.hsts_min_age)
    else:
        age = obs.hsts_max_age or 0
        j.put("tls.hsts.missing", Verdict.FAIL if age < j.policy.hsts_min_age else Verdict.PASS, max_age=age,
              minimum=j.policy.hsts_min_age)


def _vulnerabilities(j: _Judge) -> None:
    obs = j.obs

    def flag(check: str, value: bool | None, command: str, **detail: Any) -> None:
        if value is None:
            j.put(check, Verdict.INDETERMINATE, error=obs.errors.get(command, "not probed"))
        else:
            j.put(check, Verdict.FAIL if value else Verdict.PASS, **detail)

    flag("tls.vuln.heartbleed", obs.heartbleed, "heartbleed")
    flag("tls.vuln.ccs_injection", obs.ccs_injection, "openssl_ccs_injection")
    flag("tls.vuln.robot", None if obs.robot is None or obs.robot == "UNKNOWN_INCONSISTENT_RESULTS"
         else obs.robot in _STRONG_ORACLE, "robot", result=obs.robot)
    flag("tls.vuln.insecure_renegotiation", None if obs.secure_renegotiation is None else not obs.secure_renegotiation,
         "session_renegotiation")
    flag("tls.vuln.compression", obs.compression, "tls_compression")
