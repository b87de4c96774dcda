"""Officers sign with X.509 certificates: on a PKCS#11 token (SoftHSM2) or in a PKCS#12 file, validated against the
CAs the workspace pinned and the CRLs it imported; the dossier PDF carries PAdES signatures that poppler's pdfsig
accepts; who may sign is the organisation the certificate identifies, as frozen when the dossier was submitted."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditor.labs.pki import SOFTHSM_LIB, IssuedOfficer, LabCA, SoftToken
from auditor.store.where import HEAD_REVISION
from tests.conftest import FrozenClock, Result
from tests.dossier_helpers import (
    OFFICERS,
    PASSPHRASE,
    approve_l3,
    create,
    make_flow_workspace,
    make_keys,
    officer_p12,
    ok,
    step,
)

SO_KHCN = "Sở Khoa học và Công nghệ tỉnh An Giang"


@pytest.fixture
def ws_ca(tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> tuple[Path, LabCA]:
    monkeypatch.setenv("AUDITOR_KEY_PASSPHRASE", PASSPHRASE)
    ws = make_flow_workspace(tmp_path)
    return ws, make_keys(cli, ws)


@pytest.fixture
def ws(ws_ca: tuple[Path, LabCA]) -> Path:
    return ws_ca[0]


@pytest.fixture
def ca(ws_ca: tuple[Path, LabCA]) -> LabCA:
    """The CA make_keys pinned (its key issues more officers)."""
    return ws_ca[1]


def submitted(cli: Callable[..., Result], ws: Path, system: str = "cong-dvc") -> str:
    d = str(create(cli, ws, system, "2026-11-02"))
    operator = "van-phong-ubnd" if system == "he-thong-tthc" else "ttcds"
    ok(step(cli, ws, "submit", d, "--by", operator, "--signer", "Lê Văn C", "--on", "2026-11-03"))
    return d


def entries(ws: Path) -> int:
    e = sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")
    with e.connect() as c:
        n = int(c.execute(sa.text("SELECT count(*) FROM ledger")).scalar_one())
    e.dispose()
    return n


def p12_of(ws: Path, officer: IssuedOfficer, name: str) -> Path:
    return officer.p12(ws.parent / "officers" / f"{name}.p12", PASSPHRASE)


def appraise_with(cli: Callable[..., Result], ws: Path, d: str, p12: Path, *extra: str) -> Result:
    return cli("dossier", "appraise", d, "--opinion", "agree", "--p12", p12, "--on", "2026-11-10", "--workspace", ws,
               "--lang", "en", *extra)


def nss_db(tmp: Path, ca_pem: Path) -> Path:
    """An NSS database trusting the test CA, for poppler's pdfsig (as a reader's PDF viewer would)."""
    db = tmp / "nssdb"
    db.mkdir()
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{db}", "-n", "test-ca", "-t", "CT,C,C", "-i", str(ca_pem)],
                   check=True, capture_output=True)
    return db


def pdfsig(pdf: Path, db: Path) -> list[dict[str, str]]:
    """Each signature pdfsig reports: signer, validation and certificate status."""
    r = subprocess.run(["pdfsig", "-nssdir", f"sql:{db}", str(pdf)], capture_output=True, text=True, check=False)
    out = []
    for block in re.split(r"^Signature #\d+:$", r.stdout, flags=re.M)[1:]:
        fields = dict(re.findall(r"^[ \t]+- ([^:\n]+): (.*)$", block, flags=re.M))
        out.append(fields)
    return out


def test_a_dossier_signed_on_tokens_and_checked_by_pdfsig(cli: Callable[..., Result], ws: Path, ca: LabCA,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The appraiser and the approver sign with keys that never leave their SoftHSM2 token; the PDF they sign carries
    both signatures, valid for pdfsig with the CA trusted, and for `auditor verify`."""
    token = SoftToken.create(label="so-khcn-token", pin="246810")
    try:
        monkeypatch.setenv("SOFTHSM2_CONF", str(token.conf))
        for name, key_id in (("attt-so", "01"), ("chu-quan", "02")):
            org, person, title, serial = OFFICERS[name]
            signing = SO_KHCN if org == "so-khcn" else "Ủy ban nhân dân tỉnh An Giang"
            token.put(ca.officer(person, signing, title, serial_number=serial), name, key_id)
        pin = tmp_path / "pin.txt"
        pin.write_text("246810\n")
        bad_pin = tmp_path / "bad-pin.txt"
        bad_pin.write_text("000000\n")
        on_token = ("--pkcs11-lib", str(SOFTHSM_LIB), "--token", token.label)
        d = submitted(cli, ws)
        before = entries(ws)
        r = cli("dossier", "appraise", d, "--opinion", "agree", *on_token, "--key-label", "attt-so", "--pin-file",
                bad_pin, "--on", "2026-11-10", "--workspace", ws, "--lang", "en")
        assert r.exit_code == 2 and "cannot open the token so-khcn-token" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr and entries(ws) == before
        ok(cli("dossier", "appraise", d, "--opinion", "agree", *on_token, "--key-label", "attt-so", "--pin-file", pin,
               "--on", "2026-11-10", "--workspace", ws))
        ok(cli("dossier", "approve", d, "--decision", "77/QĐ-UBND", *on_token, "--key-label", "chu-quan",
               "--on", "2026-11-16", "--workspace", ws, env={"AUDITOR_TOKEN_PIN": "246810"}))
    finally:
        token.close()
    shown = json.loads(ok(cli("dossier", "show", d, "--workspace", ws)).stdout)
    assert shown["parties"]["appraisal"]["decision"]["officer"]["name"] == "Trần Thị B"
    assert shown["parties"]["approval"]["decision"]["officer"]["name"] == "Nguyễn Văn A"
    doc = json.loads(ok(cli("verify", "--json", "--workspace", ws)).stdout)
    assert doc["ok"] and doc["signatures"] == 2

    files = json.loads(ok(cli("dossier", "render", d, "--out", tmp_path / "out", "--json", "--workspace",
                              ws)).stdout)["files"]
    pdf = next(Path(f) for f in files if f.endswith(".pdf"))
    assert "CN=Test CA (auditor tests)" in next(Path(f) for f in files if f.endswith(".html")).read_text()
    r = ok(cli("verify", pdf, "--json", "--workspace", ws))
    sigs = json.loads(r.stdout)["file"]["signatures"]
    assert [(s["field"], s["signer"]["name"], s["ok"]) for s in sigs] == [("ThamDinh", "Trần Thị B", True),
                                                                          ("PheDuyet", "Nguyễn Văn A", True)]
    db = nss_db(tmp_path, ws.parent / "officers" / "ca.pem")
    seen = pdfsig(pdf, db)
    assert [(s["Signer Certificate Common Name"], s["Signature Validation"], s["Certificate Validation"])
            for s in seen] == [("Trần Thị B", "Signature is Valid.", "Certificate is Trusted."),
                               ("Nguyễn Văn A", "Signature is Valid.", "Certificate is Trusted.")]
    assert [s["Signing Time"][:11] for s in seen] == ["Nov 26 2026"] * 2  # the auditor's clock, not the machine's

    # one byte of the signed content changed: both for pdfsig and for the auditor, the signatures no longer hold
    data = bytearray(pdf.read_bytes())
    at = data.index(b"/Type /Catalog")  # in the first revision, which both signatures cover
    data[at + 1] ^= 0x01
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(bytes(data))
    r = cli("verify", forged, "--json", "--workspace", ws)
    assert r.exit_code == 1
    assert not any(s["ok"] for s in json.loads(r.stdout)["file"]["signatures"])
    assert all(s["Signature Validation"] != "Signature is Valid." for s in pdfsig(forged, db))


def test_who_cannot_sign(cli: Callable[..., Result], ws: Path, ca: LabCA, frozen: FrozenClock) -> None:
    """Refused, with the reason, nothing recorded: a CA the workspace does not trust, an expired certificate, a
    revoked one, a certificate of another organisation, no certificate at all."""
    d = submitted(cli, ws)
    before = entries(ws)
    now = frozen.now()

    def refused(p12: Path | None, words: str) -> None:
        r = appraise_with(cli, ws, d, p12) if p12 else cli("dossier", "appraise", d, "--opinion", "agree",
                                                            "--workspace", ws, "--lang", "en")
        assert r.exit_code == 2 and words in r.stderr, (r.stdout, r.stderr)
        assert "Traceback" not in r.stderr
        assert entries(ws) == before

    stranger = LabCA("Test CA (auditor tests)").officer("Trần Thị B", SO_KHCN, "Giám đốc Sở")  # same names, no trust
    refused(p12_of(ws, stranger, "stranger"), "does not chain to a trust anchor of this workspace")
    expired = ca.officer("Trần Thị B", SO_KHCN, "Giám đốc Sở", not_before=now - dt.timedelta(days=800),
                         not_after=now - dt.timedelta(days=1))
    refused(p12_of(ws, expired, "expired"), "expired on")
    other_org = ca.officer("Đỗ Văn G", "Sở Y tế tỉnh An Giang", "Giám đốc Sở")
    refused(p12_of(ws, other_org, "other-org"), "at level 3, appraisal is for the security_unit: so-khcn")
    refused(None, "say which certificate signs")

    revoked = ca.officer("Trần Thị B", SO_KHCN, "Giám đốc Sở", serial_number="CCCD-0001")
    p12 = p12_of(ws, revoked, "revoked")
    crl = ws.parent / "officers" / "ca.crl"
    crl.write_bytes(ca.crl([revoked]))
    ok(cli("trust", "crl", crl, "--workspace", ws))
    before = entries(ws)
    refused(p12, "is revoked (CRL)")
    # the officer's other, unrevoked certificate signs
    ok(step(cli, ws, "appraise", d, "--opinion", "agree", "--key", "attt-so", "--on", "2026-11-10"))


def test_a_signature_made_before_a_revocation_stays_valid(cli: Callable[..., Result], ws: Path, ca: LabCA,
                                                          frozen: FrozenClock) -> None:
    """Revoked after signing: the earlier appraisal still verifies, the certificate signs nothing more. Revoked
    with a date before the signing (a key found compromised earlier): verify flags the entry."""
    honest = ca.officer("Trần Thị B", SO_KHCN, "Giám đốc Sở", serial_number="CCCD-0001")
    compromised = ca.officer("Võ Văn F", SO_KHCN, "Phó Giám đốc Sở", serial_number="CCCD-0006")
    d1, d2 = submitted(cli, ws, "cong-dvc"), submitted(cli, ws, "wiki-l1")
    signed_at = frozen.now()
    ok(appraise_with(cli, ws, d1, p12_of(ws, honest, "honest")))
    ok(appraise_with(cli, ws, d2, p12_of(ws, compromised, "compromised")))
    seq = {d: next(e["seq"] for e in ledger_json(cli, ws) if e["kind"] == "dossier.appraised" and e["dossier"] == d)
           for d in (int(d1), int(d2))}

    frozen.advance(dt.timedelta(days=2))
    crl = ws.parent / "officers" / "later.crl"
    crl.write_bytes(ca.crl([honest], revoked_at=signed_at + dt.timedelta(days=1)))
    ok(cli("trust", "crl", crl, "--workspace", ws))
    assert ok(cli("verify", "--workspace", ws)).exit_code == 0  # a CRL issued later covers the signing time
    r = cli("dossier", "approve", d2, "--decision", "5/QĐ", "--p12", p12_of(ws, honest, "honest"), "--workspace", ws,
            "--lang", "en")
    assert r.exit_code == 2 and "is revoked" in r.stderr

    crl.write_bytes(ca.crl([honest, compromised], revoked_at=signed_at - dt.timedelta(days=1)))
    ok(cli("trust", "crl", crl, "--workspace", ws))
    r = cli("verify", "--json", "--workspace", ws, "--lang", "en")
    assert r.exit_code == 1
    found = [(b["kind"], b["where"]) for b in json.loads(r.stdout)["breaks"]]
    assert found == [("untrusted", f"#{seq[int(d1)]}"), ("untrusted", f"#{seq[int(d2)]}")]
    assert "revoked" in r.stdout


def ledger_json(cli: Callable[..., Result], ws: Path) -> list[dict[str, object]]:
    e = sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")
    with e.connect() as c:
        rows = [(int(seq), str(kind), json.loads(p) if isinstance(p, str) else p)
                for seq, kind, p in c.execute(sa.text("SELECT seq, kind, payload FROM ledger ORDER BY seq"))]
    e.dispose()
    return [{"seq": seq, "kind": kind, "dossier": p.get("dossier")} for seq, kind, p in rows]


INDEPENDENT = """
  - id: kiem-dinh
    name: Trung tâm Kiểm định An toàn thông tin (độc lập)
    roles: [independent_appraiser]
    signing: {identifier: "MST-0312345678"}
"""


def test_the_operator_does_not_appraise_its_own_dossier(cli: Callable[..., Result], ws: Path, ca: LabCA) -> None:
    """Where the security unit is also the operator that prepared the dossier, an independent appraiser the owner
    designated appraises it (TT 12/2022 Điều 6), identified here by the organisation identifier in its
    certificates."""
    text = (ws / "inventory.yaml").read_text(encoding="utf-8")
    text = text.replace("    roles: [operator]\n    signing: {organisation: Trung tâm Chuyển đổi số",
                        "    roles: [operator, security_unit]\n    signing: {organisation: Trung tâm Chuyển đổi số", 1)
    text = text.replace("systems:\n", INDEPENDENT.lstrip("\n") + "\nsystems:\n", 1)
    wiki = text.index("  - id: wiki-l1")
    text = text[:wiki] + text[wiki:].replace("    security_unit: so-khcn\n", "    security_unit: ttcds\n", 1)
    (ws / "inventory.yaml").write_text(text, encoding="utf-8")
    d = submitted(cli, ws, "wiki-l1")
    operator = ca.officer("Lê Văn C", "Trung tâm Chuyển đổi số tỉnh An Giang", "Giám đốc Trung tâm")
    r = appraise_with(cli, ws, d, p12_of(ws, operator, "operator"))
    assert r.exit_code == 2, r.stderr
    assert "appraisal is for the independent_appraiser: kiem-dinh" in r.stderr and "TT 12/2022/TT-BTTTT Điều 6" \
        in r.stderr
    wrong_id = ca.officer("Phan Thị H", "Trung tâm Kiểm định", "Giám đốc", identifier="MST-0000000000")
    assert appraise_with(cli, ws, d, p12_of(ws, wrong_id, "wrong-id")).exit_code == 2
    appraiser = ca.officer("Phan Thị H", "Trung tâm Kiểm định", "Giám đốc", identifier="MST-0312345678")
    ok(appraise_with(cli, ws, d, p12_of(ws, appraiser, "independent")))
    ok(cli("dossier", "approve", d, "--decision", "3/QĐ-TTCDS", "--p12", p12_of(ws, operator, "operator"),
           "--on", "2026-11-12", "--workspace", ws))
    assert json.loads(ok(cli("verify", "--json", "--workspace", ws)).stdout)["signatures"] == 2


def test_who_may_sign_is_frozen_at_submission(cli: Callable[..., Result], ws: Path, ca: LabCA) -> None:
    """An edit of the inventory after a dossier was submitted (another security unit, another certificate
    identity) does not change who may appraise it; dossiers submitted after the edit follow the new inventory."""
    d = submitted(cli, ws)
    text = (ws / "inventory.yaml").read_text(encoding="utf-8")
    text = text.replace(f"signing: {{organisation: {SO_KHCN}}}", "signing: {organisation: Công ty Bạn Thân}", 1)
    (ws / "inventory.yaml").write_text(text, encoding="utf-8")
    crony = ca.officer("Bạn Thân", "Công ty Bạn Thân", "Giám đốc")
    r = appraise_with(cli, ws, d, p12_of(ws, crony, "crony"))
    assert r.exit_code == 2 and "at level 3, appraisal is for the security_unit: so-khcn" in r.stderr, r.stderr
    ok(step(cli, ws, "appraise", d, "--opinion", "agree", "--key", "attt-so", "--on", "2026-11-10"))
    d2 = submitted(cli, ws, "wiki-l1")  # owned by so-khcn, whose certificates now say "Công ty Bạn Thân"
    r = step(cli, ws, "appraise", d2, "--opinion", "agree", "--key", "attt-so", "--on", "2026-11-10", "--lang", "en")
    assert r.exit_code == 2 and "Công ty Bạn Thân" in r.stderr
    assert ok(cli("verify", "--workspace", ws)).exit_code == 0


def test_a_report_issued_with_a_certificate(cli: Callable[..., Result], ws: Path, tmp_path: Path) -> None:
    """The annual report's PDF is signed by the leader who issues it, for the owner their certificate names; an
    appraiser from outside the province cannot issue it."""
    r = cli("report", "annual", "--year", "2026", "--p12", officer_p12(ws, "a05"), "--out", tmp_path / "no",
            "--workspace", ws, "--lang", "en")
    assert r.exit_code == 2 and "issuing a report is for an officer of ubnd-tinh" in r.stderr, r.stderr
    assert not (tmp_path / "no").exists() or not any((tmp_path / "no").iterdir())
    r = ok(cli("report", "annual", "--year", "2026", "--p12", officer_p12(ws, "chu-quan"), "--out", tmp_path / "out",
               "--json", "--workspace", ws))
    written = [Path(f) for f in json.loads(r.stdout)["files"]]
    pdf = next(f for f in written if f.suffix == ".pdf")
    html = next(f for f in written if f.suffix == ".html").read_text(encoding="utf-8")
    snapshot = json.loads(next(f for f in written if f.suffix == ".json").read_text(encoding="utf-8"))
    assert [t["subject"] for t in snapshot["trust_anchors"]] == ["O=auditor demo PKI (not for real use),"
                                                                 "CN=Test CA (auditor tests)"]
    assert "CN=Test CA (auditor tests)" in html and snapshot["trust_anchors"][0]["sha256"][:16] in html
    doc = json.loads(ok(cli("verify", pdf, "--json", "--workspace", ws)).stdout)
    assert [(m["kind"], m["key"]) for m in doc["file"]["matches"]] == [("annual", "2026")]
    assert [(s["signer"]["name"], s["ok"]) for s in doc["file"]["signatures"]] == [("Nguyễn Văn A", True)]
    e = sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")
    with e.connect() as c:
        payload = json.loads(c.execute(sa.text("SELECT payload FROM ledger WHERE kind = 'report.written'")).scalar_one())
    e.dispose()
    assert payload["organisation"] == "ubnd-tinh" and payload["signed_by"]["name"] == "Nguyễn Văn A"
    seen = pdfsig(pdf, nss_db(tmp_path, ws.parent / "officers" / "ca.pem"))
    assert [(s["Signer Certificate Common Name"], s["Signature Validation"]) for s in seen] == \
        [("Nguyễn Văn A", "Signature is Valid.")]


def test_the_signed_pdf_keeps_what_each_officer_signed(cli: Callable[..., Result], ws: Path) -> None:
    """The approval is an incremental update: the revision the appraiser signed is still inside, byte for byte."""
    d = approve_l3(cli, ws)
    e = sa.create_engine(f"sqlite:///{ws / '.auditor' / 'auditor.sqlite'}")
    with e.connect() as c:
        pdf = base64.b64decode(c.execute(sa.text("SELECT pdf_b64 FROM signed_document WHERE key = :k"),
                                         {"k": str(d)}).scalar_one())
        signed = [json.loads(p) for (p,) in c.execute(sa.text("SELECT payload FROM ledger WHERE kind = "
                                                              "'document.signed' ORDER BY seq"))]
    e.dispose()
    assert [s["signatures"] for s in signed] == [1, 2]
    revisions = [pdf[:m.end()] for m in re.finditer(rb"%%EOF\r?\n?", pdf)]
    assert signed[0]["sha256"] in {hashlib.sha256(r).hexdigest() for r in revisions}
    assert signed[1]["sha256"] == hashlib.sha256(pdf).hexdigest()


LEGACY = Path(__file__).parent / "fixtures" / "store-v0009"


def test_a_store_signed_with_ed25519_keys_upgrades_and_still_verifies(cli: Callable[..., Result], tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The store of the version before certificates (schema 0009), with a dossier appraised and approved with
    Ed25519 keys: migrated, not reset; its signatures verify, a forged one is caught, and new dossiers are signed
    with certificates alongside."""
    import shutil

    from tests.conftest import REPO

    ws = tmp_path / "old"
    (ws / ".auditor").mkdir(parents=True, mode=0o700)
    shutil.copy(LEGACY / "inventory.yaml", ws / "inventory.yaml")
    shutil.copytree(REPO / "certs", ws / "certs")
    store = ws / ".auditor" / "auditor.sqlite"
    shutil.copy(LEGACY / "auditor.sqlite", store)
    store.chmod(0o600)

    doc = json.loads(ok(cli("verify", "--json", "--workspace", ws)).stdout)
    assert (doc["ok"], doc["signatures"], doc["dossiers"]) == (True, 2, 1)  # (+1 entry: the inventory re-read)
    e = sa.create_engine(f"sqlite:///{store}")
    with e.connect() as c:
        assert c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one() == HEAD_REVISION
        appraisal = json.loads(c.execute(sa.text("SELECT payload FROM ledger WHERE kind = 'dossier.appraised'"))
                               .scalar_one())
    e.dispose()
    listed = json.loads(ok(cli("dossier", "list", "--json", "--workspace", ws)).stdout)["dossiers"]
    assert [(d["state"], d["approved_level"]) for d in listed] == [("approved", 3)]
    keys = json.loads(ok(cli("keys", "list", "--json", "--workspace", ws)).stdout)["keys"]
    assert [(k["name"], k["organisation"]) for k in keys] == [("attt-so", "so-khcn"), ("chu-quan", "ubnd-tinh")]
    assert appraisal["signature"]["key"] == "attt-so"

    # a new dossier, signed with certificates, next to the old one
    monkeypatch.setenv("AUDITOR_KEY_PASSPHRASE", PASSPHRASE)
    ca = LabCA("Test CA (auditor tests)")
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    ok(cli("trust", "add", tmp_path / "ca.pem", "--workspace", ws))
    security = ca.officer("Trần Thị B", SO_KHCN, "Giám đốc Sở").p12(tmp_path / "b.p12", PASSPHRASE)
    d = str(create(cli, ws, "he-thong-tthc", "2026-11-20"))
    ok(step(cli, ws, "submit", d, "--by", "van-phong-ubnd", "--signer", "x", "--on", "2026-11-20"))
    ok(cli("dossier", "appraise", d, "--opinion", "agree", "--p12", security, "--on", "2026-11-21", "--workspace", ws))
    doc = json.loads(ok(cli("verify", "--json", "--workspace", ws)).stdout)
    assert (doc["ok"], doc["signatures"]) == (True, 3)

    # the old signature replaced by a made-up one: forged, as before the upgrade
    bad = dict(appraisal, signature={**appraisal["signature"], "signature": "00" * 64})
    e = sa.create_engine(f"sqlite:///{store}")
    with e.begin() as c:
        c.execute(sa.text("UPDATE ledger SET payload = :p WHERE kind = 'dossier.appraised' AND payload LIKE "
                          "'%\"attt-so\"%'"), {"p": json.dumps(bad)})
    e.dispose()
    found = [(b["kind"], b["where"]) for b in json.loads(cli("verify", "--json", "--workspace", ws).stdout)["breaks"]]
    assert found == [("altered", "#6"), ("forged", "#6"), ("row_altered", "dossier/1")]
