"""The store: migrations, idempotent loading, change and removal, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel, select

from auditor.inventory.load import load_inventory
from auditor.store.db import alembic_config, open_store
from auditor.store.sync import sync_inventory
from auditor.store.tables import InventoryImportRow, SystemRow
from auditor.store.where import HEAD_REVISION
from tests.conftest import Result

TABLES = ("organisation", "system", "host", "endpoint", "inventory_import")


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, for comparing the store before and after."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        out = {t: sorted(tuple(map(str, r)) for r in conn.execute(sa.text(f"SELECT * FROM {t}"))) for t in TABLES}
    engine.dispose()
    return out


def test_migrations_create_exactly_the_model_schema(database_url: str, tmp_path: Path) -> None:
    store = open_store(tmp_path, database_url)
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    store.close()
    assert diff == []
    script = ScriptDirectory.from_config(alembic_config(store.engine))
    assert version == script.get_current_head() == HEAD_REVISION


def test_sqlite_store_uses_wal(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar_one() == "wal"
    store.close()
    assert (tmp_path / ".auditor" / "auditor.sqlite").exists()


def test_loading_is_idempotent(database_url: str, demo_inventory_ws: Path) -> None:
    loaded = load_inventory(demo_inventory_ws / "inventory.yaml")
    store = open_store(demo_inventory_ws, database_url)
    first = sync_inventory(store, loaded)
    before = snapshot(database_url)
    second = sync_inventory(store, loaded)
    store.close()
    inv = loaded.inventory
    declared = len(inv.organisations) + len(inv.systems) + sum(len(s.hosts) + len(s.endpoints) for s in inv.systems)
    assert first.added == declared and first.import_recorded
    assert (second.added, second.changed, second.removed, second.import_recorded) == (0, 0, 0, False)
    assert second.unchanged == first.added
    assert snapshot(database_url) == before


def test_changes_and_removals_are_applied(database_url: str, demo_inventory_ws: Path) -> None:
    inv_path = demo_inventory_ws / "inventory.yaml"
    store = open_store(demo_inventory_ws, database_url)
    sync_inventory(store, load_inventory(inv_path))
    with store.session() as s:
        digest_before = s.get(SystemRow, "cong-dvc").declared_sha256  # type: ignore[union-attr]
    text = inv_path.read_text(encoding="utf-8")
    text = text.replace("personal_data_subjects: {basic: 412000, sensitive: 0}",
                        "personal_data_subjects: {basic: 412001, sensitive: 0}")
    start = text.index("  - id: mot-cua-cu")
    inv_path.write_text(text[:start], encoding="utf-8")
    result = sync_inventory(store, load_inventory(inv_path))
    with store.session() as s:
        dvc = s.get(SystemRow, "cong-dvc")
        gone = s.get(SystemRow, "mot-cua-cu")
        imports = s.exec(select(InventoryImportRow)).all()
    store.close()
    assert (result.added, result.changed, result.removed) == (0, 1, 1)
    assert dvc is not None and dvc.facts["personal_data_subjects"]["basic"] == 412001
    assert dvc.declared_sha256 != digest_before
    assert gone is not None and gone.present is False
    assert len(imports) == 2


def test_bad_file_leaves_the_store_unchanged(database_url: str, demo_inventory_ws: Path,
                                             cli: Callable[..., Result]) -> None:
    env = {"AUDITOR_DATABASE_URL": database_url}
    r = cli("inventory", "load", "--workspace", demo_inventory_ws, env=env)
    assert r.exit_code == 0, r.stderr
    before = snapshot(database_url)
    inv_path = demo_inventory_ws / "inventory.yaml"
    good = inv_path.read_text(encoding="utf-8")
    # a valid change early in the file, and an error late: nothing at all may be written
    broken = good.replace("{basic: 412000, sensitive: 0}", "{basic: 1, sensitive: 0}").replace(
        "retired_on: 2022-01-10", "retired_on: 2022-02-30")
    inv_path.write_text(broken, encoding="utf-8")
    r = cli("inventory", "load", "--workspace", demo_inventory_ws, env=env)
    assert r.exit_code == 2
    assert "systems[12].retired_on" in r.stderr
    assert snapshot(database_url) == before


def test_round_trip_yaml_store_json(database_url: str, demo_inventory_ws: Path, cli: Callable[..., Result]) -> None:
    env = {"AUDITOR_DATABASE_URL": database_url}
    r = cli("inventory", "list", "--json", "--workspace", demo_inventory_ws, env=env)
    assert r.exit_code == 0, r.stderr
    listed = json.loads(r.stdout)
    declared = load_inventory(demo_inventory_ws / "inventory.yaml").inventory
    assert [o["id"] for o in listed["organisations"]] == sorted(o.id for o in declared.organisations)
    by_id = {s["id"]: s for s in listed["systems"]}
    assert set(by_id) == {s.id for s in declared.systems}
    for system in declared.systems:
        row = by_id[system.id]
        assert row["name"] == system.name
        assert (row["owner"], row["operator"], row["lifecycle"]) == (system.owner, system.operator, system.lifecycle)
        assert row["go_live"] == (system.go_live.isoformat() if system.go_live else None)
        assert row["facts"] == system.facts.model_dump(mode="json", exclude_none=True)
        assert (row["hosts"], row["endpoints"]) == (len(system.hosts), len(system.endpoints))
    assert by_id["he-thong-tthc"]["facts"]["personal_data_subjects"] == {"basic": 185000, "sensitive": 2400}
    # the list loaded the store once; a second list changes nothing
    before = snapshot(database_url)
    assert cli("inventory", "list", "--json", "--workspace", demo_inventory_ws, env=env).exit_code == 0
    assert snapshot(database_url) == before


def test_unreachable_database_is_a_clear_exit_2(cli: Callable[..., Result], demo_inventory_ws: Path) -> None:
    env = {"AUDITOR_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"}
    r = cli("inventory", "load", "--workspace", demo_inventory_ws, env=env)
    assert r.exit_code == 2
    assert "127.0.0.1" in r.stderr and "Traceback" not in r.stderr
    r = cli("inventory", "load", "--workspace", demo_inventory_ws, env={"AUDITOR_DATABASE_URL": "mysql://x/y"})
    assert r.exit_code == 2 and "mysql" in r.stderr


def test_human_list_is_vietnamese(cli: Callable[..., Result], demo_inventory_ws: Path, tmp_path: Path) -> None:
    shutil.rmtree(demo_inventory_ws / ".auditor", ignore_errors=True)
    r = cli("inventory", "list", "--workspace", demo_inventory_ws, env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.stderr
    assert "Hệ thống thông tin" in r.stdout and "đang vận hành" in r.stdout and "đang xây dựng" in r.stdout
