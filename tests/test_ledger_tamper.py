"""Tampering with the store directly: `auditor verify` names exactly what was altered, removed, moved or forged."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from auditor.identity.officer import Officer
from auditor.identity.signer import b64_der
from auditor.labs.pki import LabCA
from auditor.ledger.chain import entry_hash
from auditor.signing import decision_digest
from tests.conftest import Result
from tests.dossier_helpers import PASSPHRASE, approve_l3, make_flow_workspace, make_keys, officer_p12, ok


@pytest.fixture
def approved(tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("AUDITOR_KEY_PASSPHRASE", PASSPHRASE)
    ws = make_flow_workspace(tmp_path)
    make_keys(cli, ws)
    approve_l3(cli, ws)
    assert ok(cli("verify", "--workspace", ws)).exit_code == 0
    yield ws


def engine(ws: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")


def ledger(ws: Path) -> list[dict[str, object]]:
    e = engine(ws)
    with e.connect() as c:
        rows = [dict(r._mapping) for r in c.execute(sa.text("SELECT * FROM ledger ORDER BY id"))]
    e.dispose()
    for r in rows:
        r["payload"] = json.loads(r["payload"]) if isinstance(r["payload"], str) else r["payload"]
    return rows


def seq_of(ws: Path, kind: str) -> int:
    return next(int(r["seq"]) for r in ledger(ws) if r["kind"] == kind)  # type: ignore[arg-type]


def execute(ws: Path, sql: str, **params: object) -> None:
    e = engine(ws)
    with e.begin() as c:
        c.execute(sa.text(sql), params)
    e.dispose()


def breaks(cli: Callable[..., Result], ws: Path) -> list[tuple[str, str]]:
    r = cli("verify", "--json", "--workspace", ws)
    assert r.exit_code == 1, r.stdout
    return [(b["kind"], b["where"]) for b in json.loads(r.stdout)["breaks"]]


def detail(cli: Callable[..., Result], ws: Path) -> list[tuple[str, str, str]]:
    r = cli("verify", "--json", "--workspace", ws)
    assert r.exit_code == 1, r.stdout
    return [(b["kind"], b["where"], b["field"]) for b in json.loads(r.stdout)["breaks"]]


def test_edit_a_field(cli: Callable[..., Result], approved: Path) -> None:
    seq = seq_of(approved, "dossier.appraised")
    row = next(r for r in ledger(approved) if r["seq"] == seq)
    payload = row["payload"]
    payload["decision"]["opinion"] = "agree_with_conditions"  # type: ignore[index]
    execute(approved, "UPDATE ledger SET payload = :p WHERE seq = :s", p=json.dumps(payload), s=seq)
    assert ("altered", f"#{seq}") in breaks(cli, approved)


def test_delete_an_entry(cli: Callable[..., Result], approved: Path) -> None:
    seq = seq_of(approved, "dossier.submitted")
    execute(approved, "DELETE FROM ledger WHERE seq = :s", s=seq)
    found = breaks(cli, approved)
    assert found[0] == ("missing", f"#{seq}")
    # and the dossier's submission date is no longer backed by any entry
    assert ("row_altered", "dossier/1") in found


def test_swap_two_entries(cli: Callable[..., Result], approved: Path) -> None:
    rows = ledger(approved)
    a, b = rows[2], rows[3]
    cols = ("seq", "at", "kind", "subject", "payload", "prev_hash", "hash")
    execute(approved, "UPDATE ledger SET seq = -1 WHERE id = :i", i=a["id"])
    execute(approved, "UPDATE ledger SET seq = -2 WHERE id = :i", i=b["id"])
    for src, dst in ((b, a), (a, b)):
        sets = ", ".join(f"{c} = :{c}" for c in cols)
        values = {c: (json.dumps(src[c]) if c == "payload" else src[c]) for c in cols}
        execute(approved, f"UPDATE ledger SET {sets} WHERE id = :i", i=dst["id"], **values)
    found = breaks(cli, approved)
    assert ("reordered", f"#{a['seq']}") in found
    assert not any(kind == "altered" for kind, _ in found)


def rewrite_from(ws: Path, target: dict[str, object], rows: list[dict[str, object]]) -> None:
    """Store ``target``'s new payload and recompute every hash from it on, as an attacker with the file would."""
    prev = None
    for r in rows:
        if r["seq"] < target["seq"]:  # type: ignore[operator]
            prev = r["hash"]
            continue
        at = dt.datetime.fromisoformat(str(r["at"]))
        new_hash = entry_hash(int(r["seq"]), at, str(r["kind"]), str(r["subject"]), r["payload"], str(prev))  # type: ignore[arg-type]
        execute(ws, "UPDATE ledger SET payload = :p, prev_hash = :prev, hash = :h WHERE id = :i",
                p=json.dumps(r["payload"]), prev=prev, h=new_hash, i=r["id"])
        prev = new_hash


def p12_key(path: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key, cert, _chain = pkcs12.load_key_and_certificates(path.read_bytes(), PASSPHRASE.encode())
    assert isinstance(key, ec.EllipticCurvePrivateKey) and cert is not None
    return key, cert


def resign(ws: Path, payload: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> None:
    """Sign the entry's decision over dossier 1 again with ``key``, as a forger holding that key would."""
    e = engine(ws)
    with e.connect() as c:
        snapshot = json.loads(c.execute(sa.text("SELECT snapshot FROM dossier WHERE id = 1")).scalar_one())
    e.dispose()
    digest = decision_digest(snapshot, payload["decision"])
    payload["signature"]["digest"] = digest.hex()
    payload["signature"]["signature"] = key.sign(digest, ec.ECDSA(hashes.SHA256())).hex()


def test_replace_a_signature_even_with_the_chain_rewritten(cli: Callable[..., Result], approved: Path) -> None:
    """The attacker signs the approval with another officer's real key and recomputes every hash after it."""
    rows = ledger(approved)
    target = next(r for r in rows if r["kind"] == "dossier.approved")
    other, _cert = p12_key(officer_p12(approved, "attt-so"))
    payload = target["payload"]
    digest = bytes.fromhex(payload["signature"]["digest"])  # type: ignore[index]
    payload["signature"]["signature"] = other.sign(digest, ec.ECDSA(hashes.SHA256())).hex()  # type: ignore[index]
    rewrite_from(approved, target, rows)
    r = cli("verify", "--json", "--workspace", approved, "--lang", "en")
    # the forged entry, and the store's dossier still holding the real signature
    assert [(b["kind"], b["where"]) for b in json.loads(r.stdout)["breaks"]] == [("forged", f"#{target['seq']}"),
                                                                                ("row_altered", "dossier/1")]
    assert "does not verify with the certificate of Nguyễn Văn A" in r.stdout


def test_the_approval_made_with_another_officers_certificate(cli: Callable[..., Result], approved: Path) -> None:
    """Certificate, officer and signature all swapped for another real officer's: the decision is well signed, but
    the store's dossier names who approved it, and that officer's organisation may not approve."""
    rows = ledger(approved)
    target = next(r for r in rows if r["kind"] == "dossier.approved")
    key, cert = p12_key(officer_p12(approved, "attt-so"))
    payload: dict[str, Any] = target["payload"]  # type: ignore[assignment]
    officer = Officer.of(cert)
    payload["decision"]["officer"] = officer.as_json()
    payload["signature"]["certificate"] = b64_der(cert)
    resign(approved, payload, key)
    rewrite_from(approved, target, rows)
    execute(approved, "UPDATE dossier SET parties = json_set(parties, '$.approval', json(:e))",
            e=json.dumps(payload))  # and the store made to agree
    r = cli("verify", "--json", "--workspace", approved, "--lang", "en")
    assert [(b["kind"], b["where"]) for b in json.loads(r.stdout)["breaks"]] == [("unauthorised", f"#{target['seq']}")]
    assert "at level 3, approval is for the owner: ubnd-tinh" in r.stdout


def test_a_certificate_from_a_ca_the_workspace_never_trusted(cli: Callable[..., Result], approved: Path) -> None:
    """A forger's own CA issues a certificate with the approving officer's very name, organisation and ID."""
    rows = ledger(approved)
    target = next(r for r in rows if r["kind"] == "dossier.approved")
    payload: dict[str, Any] = target["payload"]  # type: ignore[assignment]
    real = x509.load_der_x509_certificate(base64.b64decode(payload["signature"]["certificate"]))
    forger = LabCA("Test CA (auditor tests)")  # the same name as the pinned one, another key
    fake = forger.officer("Nguyễn Văn A", Officer.of(real).organisation, "Phó Chủ tịch UBND tỉnh",
                          serial_number="CCCD-0002")
    payload["decision"]["officer"] = Officer.of(fake.cert).as_json()
    payload["signature"]["certificate"] = b64_der(fake.cert)
    payload["signature"]["chain"] = [b64_der(forger.cert)]
    resign(approved, payload, fake.key)
    rewrite_from(approved, target, rows)
    found = breaks(cli, approved)
    assert ("untrusted", f"#{target['seq']}") in found, found


def test_change_the_dossier_after_approval(cli: Callable[..., Result], approved: Path) -> None:
    e = engine(approved)
    with e.connect() as c:
        snapshot = json.loads(c.execute(sa.text("SELECT snapshot FROM dossier WHERE id = 1")).scalar_one())
    e.dispose()
    snapshot["justification"]["level"] = 2
    execute(approved, "UPDATE dossier SET snapshot = :s WHERE id = 1", s=json.dumps(snapshot))
    found = breaks(cli, approved)
    assert ("snapshot_changed", "dossier/1") in found


def test_change_the_approved_level_in_the_store(cli: Callable[..., Result], approved: Path) -> None:
    execute(approved, "UPDATE dossier SET approved_level = 4 WHERE id = 1")
    assert detail(cli, approved) == [("row_altered", "dossier/1", "approved_level")]


def test_replace_a_pinned_trust_anchor(cli: Callable[..., Result], approved: Path) -> None:
    """A forger's CA put in place of the pinned one in the store: the ledger recorded which CA was pinned."""
    forger = LabCA("Test CA (auditor tests)")
    execute(approved, "UPDATE trust_anchor SET pem = :p", p=forger.pem.decode())
    assert [(k, f) for k, _w, f in detail(cli, approved)] == [("row_altered", "pem")]


def test_move_the_approval_date(cli: Callable[..., Result], approved: Path) -> None:
    """2020 would flip level.golive_after_approval to pass; the date is part of the signed decision."""
    execute(approved, "UPDATE dossier SET approved_on = '2020-01-01' WHERE id = 1")
    assert detail(cli, approved) == [("row_altered", "dossier/1", "approved_on")]
    r = cli("verify", "--workspace", approved, "--lang", "en", env={"COLUMNS": "250"})
    assert "approved_on is '2020-01-01' in the store, '2026-11-16' in ledger entry" in r.stdout


def test_replace_the_signed_dossier_pdf(cli: Callable[..., Result], approved: Path) -> None:
    e = engine(approved)
    with e.connect() as c:
        doc_id, pdf_b64 = c.execute(sa.text("SELECT id, pdf_b64 FROM signed_document")).one()
    e.dispose()
    pdf = base64.b64decode(pdf_b64) + b"\n% an update appended after signing\n"
    execute(approved, "UPDATE signed_document SET pdf_b64 = :p", p=base64.b64encode(pdf).decode())
    assert detail(cli, approved) == [("row_altered", f"signed_document/{doc_id}", "sha256")]


def test_empty_the_ledger(cli: Callable[..., Result], approved: Path) -> None:
    execute(approved, "DELETE FROM ledger")
    found = detail(cli, approved)
    unrecorded = {w.split("/")[0] for k, w, _f in found if k == "row_unrecorded"}
    assert ("row_unrecorded", "dossier/1", "") in found
    assert {"dossier", "trust_anchor", "signed_document"} <= unrecorded


def test_cut_off_the_end_of_the_ledger_and_its_rows(cli: Callable[..., Result], approved: Path,
                                                    tmp_path: Path) -> None:
    """Without an anchor, cutting the last entries off together with the rows they record leaves a consistent
    store; the head a published dossier carries catches it, and the signed PDF is no longer one the ledger knows."""
    r = ok(cli("dossier", "render", "1", "--out", tmp_path / "out", "--json", "--workspace", approved))
    files = [Path(f) for f in json.loads(r.stdout)["files"]]
    html, pdf = (next(f for f in files if f.suffix == suffix) for suffix in (".html", ".pdf"))
    assert ok(cli("verify", pdf, "--workspace", approved)).exit_code == 0
    last = max(int(r["seq"]) for r in ledger(approved))  # type: ignore[call-overload]
    seq = seq_of(approved, "dossier.approved")
    execute(approved, "DELETE FROM ledger WHERE seq >= :s", s=seq)
    execute(approved, "UPDATE dossier SET state = 'appraised', approved_on = NULL, approved_level = NULL, "
                      "decision_number = NULL, parties = json_remove(parties, '$.approval') WHERE id = 1")
    # the signed PDF back to its appraised revision: signatures are incremental updates, so it is a prefix
    appraised = next(r["payload"] for r in ledger(approved) if r["kind"] == "document.signed")
    e = engine(approved)
    with e.connect() as c:
        signed = base64.b64decode(c.execute(sa.text("SELECT pdf_b64 FROM signed_document")).scalar_one())
    e.dispose()
    ends = [i + len(b"%%EOF") for i in range(len(signed)) if signed.startswith(b"%%EOF", i)]
    earlier = next(signed[:end + extra] for end in ends for extra in (0, 1, 2)
                   if hashlib.sha256(signed[:end + extra]).hexdigest() == appraised["sha256"])  # type: ignore[index]
    execute(approved, "UPDATE signed_document SET pdf_b64 = :p, sha256 = :h, signatures = 1",
            p=base64.b64encode(earlier).decode(), h=appraised["sha256"])  # type: ignore[index]
    assert ok(cli("verify", "--workspace", approved)).exit_code == 0  # consistent, as far as the store can tell
    r = cli("verify", "--anchor", html, "--json", "--workspace", approved)
    assert r.exit_code == 1
    assert [(b["kind"], b["where"]) for b in json.loads(r.stdout)["breaks"]] == [("anchor_missing", f"#{last}")]
    r = cli("verify", pdf, "--json", "--workspace", approved)
    assert r.exit_code == 1 and json.loads(r.stdout)["file"]["matches"] == [], r.stdout


def test_rewrite_the_chain_after_a_published_anchor(cli: Callable[..., Result], approved: Path,
                                                    tmp_path: Path) -> None:
    """An entry rewritten and every later hash recomputed: the chain is whole again, the anchor is not in it."""
    r = ok(cli("anchor", "--out", tmp_path / "head.json", "--json", "--workspace", approved))
    head = json.loads(r.stdout)["ledger_head"]
    assert ok(cli("verify", "--anchor", tmp_path / "head.json", "--workspace", approved)).exit_code == 0
    rows = ledger(approved)
    target = next(r for r in rows if r["kind"] == "dossier.submitted")
    target["payload"]["signer"] = "Người khác"  # type: ignore[index]
    prev = None
    for row in rows:
        if row["seq"] < target["seq"]:  # type: ignore[operator]
            prev = row["hash"]
            continue
        at = dt.datetime.fromisoformat(str(row["at"]))
        new_hash = entry_hash(int(row["seq"]), at, str(row["kind"]), str(row["subject"]), row["payload"], str(prev))  # type: ignore[arg-type]
        execute(approved, "UPDATE ledger SET payload = :p, prev_hash = :prev, hash = :h WHERE id = :i",
                p=json.dumps(row["payload"]), prev=prev, h=new_hash, i=row["id"])
        prev = new_hash
    execute(approved, "UPDATE dossier SET parties = json_set(parties, '$.submission.signer', 'Người khác')")
    assert ok(cli("verify", "--workspace", approved)).exit_code == 0  # the chain alone cannot tell
    r = cli("verify", "--anchor", tmp_path / "head.json", "--json", "--workspace", approved)
    assert r.exit_code == 1
    assert [(b["kind"], b["where"]) for b in json.loads(r.stdout)["breaks"]] == [("anchor_mismatch",
                                                                                   f"#{head['seq']}")]


def test_no_private_key_or_passphrase_in_the_store(approved: Path) -> None:
    """The officers' keys stay in their PKCS#12 files (or tokens); the store keeps certificates and signatures."""
    raw = (approved / ".auditor" / "auditor.sqlite").read_bytes()
    assert PASSPHRASE.encode() not in raw
    assert b"PRIVATE KEY" not in raw
    for name in ("attt-so", "chu-quan"):
        key, _cert = p12_key(officer_p12(approved, name))
        secret = key.private_numbers().private_value.to_bytes(32, "big")
        der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        assert secret not in raw and secret.hex().encode() not in raw and base64.b64encode(der) not in raw
    assert not (approved / ".auditor" / "keys").exists() or not any((approved / ".auditor" / "keys").iterdir())


@pytest.fixture
def scanned(tmp_path: Path, cli: Callable[..., Result]) -> Iterator[Path]:
    """A real TLS scan of a server with an expired certificate (critical) and no HSTS (medium)."""
    from auditor import clock
    from auditor.labs.certs import issue
    from auditor.labs.tls_zoo import Zoo
    from tests.test_findings_lifecycle import workspace_for

    zoo = Zoo()
    try:
        now = clock.now()
        server = zoo.tls("web", {"tls.cert.expired", "tls.hsts.missing"}, hsts=None,
                         cert=issue(zoo.ca, ["web.zoo.test"], not_before=now - dt.timedelta(days=400),
                                    not_after=now - dt.timedelta(days=3)))
        ws = workspace_for(tmp_path, zoo, server)
        r = cli("scan", "--check", "tls", "--json", "--workspace", ws)
        assert r.exit_code == 1
        assert {f["check"] for f in json.loads(r.stdout)["findings"]} == {"tls.cert.expired", "tls.hsts.missing"}
        assert ok(cli("verify", "--workspace", ws)).exit_code == 0
        yield ws
    finally:
        zoo.close()


def finding_id(ws: Path, check: str) -> int:
    e = engine(ws)
    with e.connect() as c:
        found = c.execute(sa.text("SELECT id FROM finding WHERE check_id = :c"), {"c": check}).scalar_one()
    e.dispose()
    return int(found)


def test_a_critical_finding_set_to_resolved(cli: Callable[..., Result], scanned: Path) -> None:
    fid = finding_id(scanned, "tls.cert.expired")
    execute(scanned, "UPDATE finding SET status = 'resolved', resolved_at = '2026-11-26 03:00:00' WHERE id = :i", i=fid)
    assert cli("findings", "--json", "--workspace", scanned).exit_code == 0  # it vanished from the findings...
    found = detail(cli, scanned)  # ... but not from the ledger
    assert found == [("row_altered", f"finding/{fid} (tls.cert.expired/portal/web:{port(scanned)})", "status"),
                     ("row_altered", f"finding/{fid} (tls.cert.expired/portal/web:{port(scanned)})", "resolved_at")]


def port(ws: Path) -> str:
    from auditor.yamlsafe import load_yaml

    return str(load_yaml(ws / "inventory.yaml").data["systems"][0]["endpoints"][0]["port"])


def test_a_finding_lowered_or_deleted(cli: Callable[..., Result], scanned: Path) -> None:
    fid = finding_id(scanned, "tls.cert.expired")
    execute(scanned, "UPDATE finding SET severity = 'low' WHERE id = :i", i=fid)
    assert [(k, f) for k, _w, f in detail(cli, scanned)] == [("row_altered", "severity")]
    execute(scanned, "DELETE FROM finding WHERE id = :i", i=fid)
    assert detail(cli, scanned) == [("row_missing", f"finding/tls.cert.expired/portal/web:{port(scanned)}", "")]


def test_a_risk_acceptance_inserted(cli: Callable[..., Result], scanned: Path) -> None:
    fid = finding_id(scanned, "tls.cert.expired")
    execute(scanned, "INSERT INTO risk_acceptance (finding_id, justification, accepted_by, accepted_at, expires_on) "
                     "VALUES (:f, 'ok', 'nobody', '2026-11-26 03:00:00', '2030-01-01')", f=fid)
    r = cli("status", "--json", "--workspace", scanned)
    findings = next(o for o in json.loads(r.stdout)["obligations"] if o["rule"] == "findings.open_by_severity")
    assert findings["verdict"] == "pass"  # the inserted acceptance hides the critical finding from status...
    assert detail(cli, scanned) == [("row_unrecorded", "risk_acceptance/1", "")]  # ... not from verify


def test_a_failed_run_made_to_cover_a_system(cli: Callable[..., Result], scanned: Path) -> None:
    execute(scanned, "INSERT INTO scan_run (family, started_at, finished_at, status, targets, failed, indeterminate, "
                     "errors, systems) VALUES ('ports', '2026-11-26 03:00:00', '2026-11-26 03:00:01', 'completed', "
                     "1, 0, 0, '[]', '[\"portal\"]')")
    assert detail(cli, scanned) == [("row_unrecorded", "scan_run/2", "")]


def test_a_stored_report_snapshot_edited(cli: Callable[..., Result], scanned: Path) -> None:
    ok(cli("report", "annual", "--year", "2026", "--workspace", scanned))
    execute(scanned, "UPDATE report SET snapshot = json_set(snapshot, '$.counts.total', 99)")
    assert detail(cli, scanned) == [("row_altered", "report/1", "snapshot_sha256")]


def test_advisory_data_and_added_records_edited(cli: Callable[..., Result], scanned: Path, tmp_path: Path) -> None:
    osv = tmp_path / "osv.json"
    osv.write_text(json.dumps([{"id": "DSA-1", "modified": "2026-11-20T00:00:00Z", "affected": [
        {"package": {"ecosystem": "Debian:12", "name": "openssl"},
         "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.99-1"}]}]}]}]))
    ok(cli("advisories", "import", osv, "--workspace", scanned))
    ok(cli("records", "add", "response-plan", "--system", "portal", "--document", "KH-01", "--approved-on",
           "2026-10-01", "--workspace", scanned))
    assert ok(cli("verify", "--workspace", scanned)).exit_code == 0
    execute(scanned, "UPDATE advisory SET fixed_version = '0.1'")
    added = next((scanned / "records.d").glob("*.yaml"))
    added.write_text(added.read_text(encoding="utf-8").replace("2026-10-01", "2026-11-01"), encoding="utf-8")
    found = detail(cli, scanned)
    assert [(k, f) for k, w, f in found if w.startswith("advisory/")] == [("row_altered", "sha256")]
    assert ("row_altered", f"records/records.d/{added.name}", "sha256") in found


def test_every_published_file_carries_the_head(cli: Callable[..., Result], approved: Path) -> None:
    import shutil

    from tests.conftest import REPO

    shutil.copy(REPO / "records.yaml", approved / "records.yaml")
    before = json.loads(ok(cli("anchor", "--json", "--workspace", approved)).stdout)["ledger_head"]
    r = ok(cli("report", "drill", "dt-2026-thuc-chien", "--on", "2026-11-26", "--json", "--workspace", approved))
    files = [Path(f) for f in json.loads(r.stdout)["files"]]
    for f in files:
        if f.suffix in (".pdf", ".html", ".json"):
            r = ok(cli("verify", "--anchor", f, "--json", "--workspace", approved))
            assert [(a["seq"], a["hash"]) for a in json.loads(r.stdout)["anchors"]] == [(before["seq"],
                                                                                          before["hash"])], f
    assert cli("verify", "--anchor", approved / "inventory.yaml", "--workspace", approved).exit_code == 2
