"""The TLS probe: sslyze's Python API, run in batches in child processes.

sslyze keeps memory it does not give back within one long process (nabla-c0d3/sslyze#560), so each
batch of endpoints runs in its own process, started from a fork server that has sslyze imported.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from auditor.catalogue.tls_policy import ProbeSettings
from auditor.plan import TlsTarget
from auditor.probes.tls_observation import AcceptedSuite, TlsObservation

if TYPE_CHECKING:  # sslyze is imported in the child processes only
    from sslyze import ServerScanRequest, ServerScanResult

_VERSION_COMMANDS = {
    "ssl_2_0_cipher_suites": "SSLv2", "ssl_3_0_cipher_suites": "SSLv3", "tls_1_0_cipher_suites": "TLSv1",
    "tls_1_1_cipher_suites": "TLSv1.1", "tls_1_2_cipher_suites": "TLSv1.2", "tls_1_3_cipher_suites": "TLSv1.3",
}
_OTHER_COMMANDS = ("certificate_info", "tls_compression", "heartbleed", "robot", "openssl_ccs_injection",
                   "session_renegotiation")


def _tcp_reachable(target: TlsTarget, timeout: float) -> bool:
    try:
        with socket.create_connection((target.address, target.port), timeout=timeout):
            return True
    except OSError:
        return False


def answers_tls(target: TlsTarget, timeout: float) -> bool | None:
    """Send a real ClientHello and see whether the reply is a TLS record (handshake or alert).

    Tells "speaks TLS but we share nothing with it" from "does not speak TLS at all". None when it
    cannot tell (STARTTLS protocols greet in clear text first; no reply).
    """
    if target.starttls:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=target.server_name or None)
    with contextlib.suppress(ssl.SSLWantReadError):  # it waits for the server: the hello is written
        tls.do_handshake()
    hello = outgoing.read()
    try:
        with socket.create_connection((target.address, target.port), timeout=timeout) as sock:
            sock.sendall(hello)
            head = sock.recv(5)
    except OSError:
        return None
    if len(head) < 3:
        return None
    return head[0] in (0x15, 0x16) and head[1] == 0x03


def _request(target: TlsTarget, settings: ProbeSettings) -> ServerScanRequest:
    from sslyze import (
        ProtocolWithOpportunisticTlsEnum,
        ScanCommand,
        ServerNetworkConfiguration,
        ServerNetworkLocation,
        ServerScanRequest,
    )

    commands = {ScanCommand(c) for c in (*_VERSION_COMMANDS, *_OTHER_COMMANDS)}
    if target.is_web:
        commands.add(ScanCommand.HTTP_HEADERS)
    starttls = ProtocolWithOpportunisticTlsEnum[target.starttls] if target.starttls else None
    config = ServerNetworkConfiguration(
        tls_server_name_indication=target.server_name or target.address,
        tls_opportunistic_encryption=starttls,
        network_timeout=int(max(1, settings.timeout_seconds)),
        network_max_retries=settings.retries,
    )
    location = ServerNetworkLocation(hostname=target.server_name or target.address, port=target.port,
                                     ip_address=target.address)
    return ServerScanRequest(server_location=location, network_configuration=config, scan_commands=commands)


def _observe(target: TlsTarget, result: ServerScanResult, settings: ProbeSettings, seconds: float) -> TlsObservation:
    from cryptography.hazmat.primitives.serialization import Encoding
    from sslyze import ScanCommandAttemptStatusEnum, ServerConnectivityStatusEnum

    if result.connectivity_status != ServerConnectivityStatusEnum.COMPLETED:
        reachable = _tcp_reachable(target, settings.timeout_seconds)
        error = str(result.connectivity_error_trace or "")[:500]
        answers = answers_tls(target, settings.timeout_seconds) if reachable else None
        return TlsObservation(target, reachable=reachable, speaks_tls=False, answers_tls=answers,
                              connectivity_error=error, seconds=seconds)
    scan = result.scan_result
    errors: dict[str, str] = {}

    def attempt(name: str) -> Any:
        a = getattr(scan, name, None)
        if a is None or a.status == ScanCommandAttemptStatusEnum.NOT_SCHEDULED:
            return None
        if a.status != ScanCommandAttemptStatusEnum.COMPLETED:
            errors[name] = f"{a.error_reason}: {str(a.error_trace)[-300:]}" if a.error_trace else str(a.error_reason)
            return None
        return a.result

    accepted: list[AcceptedSuite] = []
    probed: list[str] = []
    for command, version in _VERSION_COMMANDS.items():
        r = attempt(command)
        if r is None:
            continue
        probed.append(version)
        for s in r.accepted_cipher_suites:
            accepted.append(AcceptedSuite(version, s.cipher_suite.name, s.ephemeral_key is not None
                                          or version == "TLSv1.3", s.cipher_suite.is_anonymous,
                                          s.cipher_suite.key_size))
    chain: tuple[bytes, ...] = ()
    cert = attempt("certificate_info")
    if cert is not None and cert.certificate_deployments:
        chain = tuple(c.public_bytes(Encoding.PEM) for c in cert.certificate_deployments[0].received_certificate_chain)
    hsts_seen: bool | None = None
    hsts_age: int | None = None
    if target.is_web:
        h = attempt("http_headers")
        if h is not None:
            if h.http_error_trace is not None:
                errors["http_headers"] = str(h.http_error_trace)[-300:]
            else:
                hsts_seen = h.strict_transport_security_header is not None
                hsts_age = h.strict_transport_security_header.max_age if hsts_seen else None
    heartbleed = attempt("heartbleed")
    ccs = attempt("openssl_ccs_injection")
    robot = attempt("robot")
    reneg = attempt("session_renegotiation")
    compression = attempt("tls_compression")
    return TlsObservation(
        target, reachable=True, speaks_tls=True, chain_pem=chain, versions_probed=tuple(probed),
        accepted=tuple(accepted), hsts_header_seen=hsts_seen, hsts_max_age=hsts_age,
        heartbleed=heartbleed.is_vulnerable_to_heartbleed if heartbleed else None,
        ccs_injection=ccs.is_vulnerable_to_ccs_injection if ccs else None,
        robot=robot.robot_result.name if robot else None,
        secure_renegotiation=reneg.supports_secure_renegotiation if reneg else None,
        compression=compression.supports_compression if compression else None,
        errors=errors, seconds=seconds)


def probe_batch(targets: list[TlsTarget], settings: ProbeSettings) -> list[TlsObservation]:
    """Probe some endpoints with one sslyze Scanner (run inside a child process)."""
    import warnings

    from sslyze import Scanner

    warnings.simplefilter("ignore")  # sslyze's bundled stores warn about old roots; nothing for the user
    started = time.monotonic()
    scanner = Scanner(concurrent_server_scans_limit=settings.concurrent_servers,
                      per_server_concurrent_connections_limit=settings.connections_per_server)
    requests = [_request(t, settings) for t in targets]
    by_uuid = {req.uuid: t for req, t in zip(requests, targets, strict=True)}
    scanner.queue_scans(requests)
    out = []
    for result in scanner.get_results():
        target = by_uuid[result.uuid]
        out.append(_observe(target, result, settings, time.monotonic() - started))
    return out


def _context() -> multiprocessing.context.BaseContext:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["auditor.probes.tls_sslyze", "sslyze"])
    return ctx


def probe_all(targets: list[TlsTarget], settings: ProbeSettings,
              on_done: Callable[[TlsObservation], None] | None = None) -> Iterator[TlsObservation]:
    """Probe every target, ``settings.workers`` child processes at a time, each with a fresh process."""
    if not targets:
        return
    # every worker busy, no child process holding more than batch_size endpoints (memory stays flat)
    count = max(min(settings.workers, len(targets)), math.ceil(len(targets) / settings.batch_size))
    size = math.ceil(len(targets) / count)
    batches = [targets[i:i + size] for i in range(0, len(targets), size)]
    with ProcessPoolExecutor(max_workers=min(settings.workers, len(batches)), mp_context=_context(),
                             max_tasks_per_child=1) as pool:
        pending: set[Future[list[TlsObservation]]] = {pool.submit(probe_batch, b, settings) for b in batches}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                for obs in fut.result():
                    if on_done is not None:
                        on_done(obs)
                    yield obs
