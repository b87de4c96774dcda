"""Tampering with the store directly: `auditor verify` names exactly what was altered, removed, moved or forged."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from auditor.ledger.chain import entry_hash
from auditor.signing import load_private
from tests.conftest import Result
from tests.dossier_helpers import PASSPHRASE, approve_l3, make_flow_workspace, make_keys, ok


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
    assert breaks(cli, approved) == [("missing", f"#{seq}")]


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


def test_replace_a_signature_even_with_the_chain_rewritten(cli: Callable[..., Result], approved: Path) -> None:
    """The attacker signs the approval with another officer's real key and recomputes every hash after it."""
    rows = ledger(approved)
    target = next(r for r in rows if r["kind"] == "dossier.approved")
    other = load_private(approved / ".auditor" / "keys" / "attt-so.pem", PASSPHRASE)
    payload = target["payload"]
    digest = bytes.fromhex(payload["signature"]["digest"])  # type: ignore[index]
    payload["signature"]["signature"] = other.sign(digest).hex()  # type: ignore[index]
    prev = None
    for r in rows:
        if r["seq"] < target["seq"]:  # type: ignore[operator]
            prev = r["hash"]
            continue
        at = dt.datetime.fromisoformat(str(r["at"]))
        new_hash = entry_hash(int(r["seq"]), at, str(r["kind"]), str(r["subject"]), r["payload"], str(prev))  # type: ignore[arg-type]
        execute(approved, "UPDATE ledger SET payload = :p, prev_hash = :prev, hash = :h WHERE id = :i",
                p=json.dumps(r["payload"]), prev=prev, h=new_hash, i=r["id"])
        prev = new_hash
    assert breaks(cli, approved) == [("forged", f"#{target['seq']}")]


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
    assert breaks(cli, approved) == [("not_recorded", "dossier/1")]


def test_replace_a_registered_public_key(cli: Callable[..., Result], approved: Path) -> None:
    execute(approved, "UPDATE officer_key SET public_key = :k WHERE name = 'chu-quan'", k="00" * 32)
    assert breaks(cli, approved) == [("key_mismatch", "key/chu-quan")]


def test_no_private_key_or_passphrase_in_the_store(approved: Path) -> None:
    raw = (approved / ".auditor" / "auditor.sqlite").read_bytes()
    assert PASSPHRASE.encode() not in raw
    assert b"PRIVATE KEY" not in raw
    key_file = approved / ".auditor" / "keys" / "chu-quan.pem"
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
