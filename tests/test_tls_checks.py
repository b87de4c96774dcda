"""TLS checks against real servers on loopback, one per finding id, plus clean servers that must pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor import clock
from auditor.catalogue.checks import Catalogue, load_catalogue
from auditor.catalogue.tls_policy import ProbeSettings, TlsPolicies, load_tls_policies
from auditor.evaluate.outcome import Outcome
from auditor.evaluate.tls import TLS_CHECKS, evaluate_tls
from auditor.labs.servers import free_port
from auditor.labs.tls_zoo import Zoo, ZooServer, standard_zoo
from auditor.plan import TlsTarget
from auditor.probes.tls_observation import TlsObservation
from auditor.probes.tls_sslyze import probe_all
from tests.conftest import REPO

ZooObs = tuple[list[ZooServer], dict[str, TlsObservation]]
Content = tuple[Catalogue, TlsPolicies]


@pytest.fixture(scope="module")
def content() -> Content:
    return load_catalogue(REPO / "checks"), load_tls_policies(REPO / "profiles")


@pytest.fixture(scope="module")
def zoo_observations() -> Iterator[ZooObs]:
    zoo = Zoo()
    try:
        servers = standard_zoo(zoo)
        targets = [TlsTarget("zoo", s.name, "127.0.0.1", s.port, s.protocol, s.server_name, str(zoo.ca_file))
                   for s in servers]
        targets.append(TlsTarget("zoo", "closed", "127.0.0.1", free_port(), "https", "closed.zoo.test", None))
        observations = {o.target.host_id: o for o in probe_all(targets, ProbeSettings(batch_size=8, workers=2))}
        yield servers, observations
    finally:
        zoo.close()


def judge(obs: TlsObservation, content: Content, level: int | None = None) -> list[Outcome]:
    catalogue, policies = content
    return evaluate_tls(obs, policies.for_level(level), catalogue, clock.now())


def failing(outcomes: list[Outcome]) -> set[str]:
    return {o.check for o in outcomes if o.verdict == "fail"}


def test_every_tls_check_is_in_the_catalogue(content: Content) -> None:
    catalogue, _ = content
    for check in TLS_CHECKS:
        spec = catalogue.get(check)
        assert spec.title and spec.title_en and spec.remediation and spec.remediation_en


@pytest.mark.parametrize("name", ["clean", "tls13-ecdsa", "expired", "expiring", "self-signed", "wrong-name", "tls10-11",
                                  "rsa-kx-cbc", "rsa1024", "sha1", "no-hsts", "short-hsts", "imaps", "plain-http"])
def test_each_server_gives_exactly_its_findings(name: str, zoo_observations: ZooObs,
                                                content: Content) -> None:
    servers, observations = zoo_observations
    server = next(s for s in servers if s.name == name)
    outcomes = judge(observations[name], content)
    assert {o.check for o in outcomes} == set(TLS_CHECKS), "every check gives a verdict"
    assert failing(outcomes) == server.expected, [(o.check, o.detail) for o in outcomes if o.verdict == "fail"]
    if name != "plain-http":
        # a server that speaks TLS is fully judged: no check is left indeterminate
        assert [o.check for o in outcomes if o.verdict == "indeterminate"] == []


def test_closed_port_is_unreachable_and_nothing_else_passes(
        zoo_observations: ZooObs, content: Content) -> None:
    outcomes = {o.check: o for o in judge(zoo_observations[1]["closed"], content)}
    assert outcomes["target.unreachable"].verdict == "fail"
    # nothing about its TLS could be judged: that is a finding of its own, never a silent pass
    assert outcomes["tls.not_assessed"].verdict == "fail" and outcomes["tls.not_assessed"].severity == "high"
    assert outcomes["tls.not_assessed"].detail["reason"] == "unreachable"
    assert all(o.verdict == "indeterminate" for c, o in outcomes.items()
               if c not in ("target.unreachable", "tls.not_assessed"))


def test_details_say_what_was_seen(zoo_observations: ZooObs,
                                   content: Content) -> None:
    obs = zoo_observations[1]

    def detail(name: str, check: str) -> dict[str, object]:
        return next(o.detail for o in judge(obs[name], content) if o.check == check)

    assert 8 <= detail("expiring", "tls.cert.expiring")["days_left"] <= 10  # type: ignore[operator]
    assert detail("expired", "tls.cert.expired")["days_left"] < 0  # type: ignore[operator]
    assert detail("tls10-11", "tls.protocol.legacy")["versions"] == ["TLSv1", "TLSv1.1"]
    assert detail("rsa1024", "tls.cert.weak_key")["key"] == "RSA 1024"
    assert detail("sha1", "tls.cert.weak_signature")["certificates"][0]["hash"] == "sha1"  # type: ignore[index]
    assert detail("short-hsts", "tls.hsts.missing")["max_age"] == 300
    assert detail("wrong-name", "tls.cert.hostname_mismatch")["name"] == "wrong-name.zoo.test"
    assert detail("self-signed", "tls.cert.untrusted")["self_signed"] is True
    no_fs = detail("rsa-kx-cbc", "tls.cipher.no_forward_secrecy")["suites"]
    assert {s["suite"] for s in no_fs} >= {"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_RSA_WITH_AES_256_CBC_SHA"}  # type: ignore[index]


def test_thresholds_come_from_the_level_policy(zoo_observations: ZooObs,
                                               content: Content) -> None:
    obs = zoo_observations[1]["rsa-kx-cbc"]
    strict = {o.check: o for o in judge(obs, content, level=3)}
    lenient = {o.check: o for o in judge(obs, content, level=1)}
    # RSA key exchange with CBC only is outside Mozilla intermediate, the base of every level: weak at levels 1-2
    # too; from level 3 CBC is also banned by name
    assert strict["tls.cipher.weak"].verdict == "fail" and lenient["tls.cipher.weak"].verdict == "fail"
    lenient_why = {s["suite"]: s["why"] for s in lenient["tls.cipher.weak"].detail["suites"]}
    assert lenient_why["TLS_RSA_WITH_AES_128_CBC_SHA"] == ["not in Mozilla 5.7 intermediate"]
    strict_why = {s["suite"]: s["why"] for s in strict["tls.cipher.weak"].detail["suites"]}
    assert strict_why["TLS_RSA_WITH_AES_128_CBC_SHA"] == ["cbc", "not in Mozilla 5.7 intermediate"]
    # missing forward secrecy is high at level 3, low at levels 1-2
    clean = {o.check: o for o in judge(zoo_observations[1]["clean"], content, level=1)}
    assert clean["tls.cipher.weak"].verdict == "pass" and clean["tls.not_assessed"].verdict == "pass"
    assert strict["tls.cipher.no_forward_secrecy"].severity == "high"
    assert lenient["tls.cipher.no_forward_secrecy"].severity == "low"
    legacy = {o.check: o for o in judge(zoo_observations[1]["tls10-11"], content, level=1)}
    assert legacy["tls.protocol.legacy"].verdict == "fail"


def test_vulnerability_probes_ran_and_found_nothing_on_current_openssl(
        zoo_observations: ZooObs) -> None:
    obs = zoo_observations[1]["rsa-kx-cbc"]
    assert obs.heartbleed is False and obs.ccs_injection is False and obs.compression is False
    assert obs.secure_renegotiation is True
    assert obs.robot is not None and obs.robot.startswith("NOT_VULNERABLE")


def test_probe_error_is_indeterminate_never_a_pass(content: Content) -> None:
    target = TlsTarget("s", "h", "127.0.0.1", 443, "https", "x.test", None)
    obs = TlsObservation(target, reachable=True, speaks_tls=True, errors={
        "certificate_info": "timeout", "tls_1_0_cipher_suites": "timeout", "http_headers": "timeout",
        "heartbleed": "timeout"}, versions_probed=("TLSv1.2",))
    outcomes = {o.check: o.verdict for o in judge(obs, content)}
    for check in ("tls.cert.expired", "tls.cert.untrusted", "tls.protocol.legacy", "tls.cipher.weak",
                  "tls.hsts.missing", "tls.vuln.heartbleed"):
        assert outcomes[check] == "indeterminate", check
    # it shook hands, and no property could be judged after that: not assessed is a finding, not a pass
    assert outcomes["tls.not_assessed"] == "fail"


def test_catalogue_errors_are_located(tmp_path: Path) -> None:
    from auditor.problems import InputError

    (tmp_path / "a.yaml").write_text("family: x\nchecks:\n  - {id: x.one, title: A, title_en: A, severity: high}\n")
    (tmp_path / "b.yaml").write_text("family: y\nchecks:\n  - {id: x.one, title: B, title_en: B, severity: urgent}\n"
                                     "  - {id: x.one, title: B, title_en: B, severity: low}\n")
    with pytest.raises(InputError) as exc:
        load_catalogue(tmp_path)
    rendered = [p.render() for p in exc.value.problems]
    assert any("b.yaml:3:" in r and "severity" in r for r in rendered)
