"""Shared fixtures: workspaces written from YAML text, the CLI, and the stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from auditor import clock
from auditor.cli import app
from auditor.i18n import set_language

REPO = Path(__file__).resolve().parent.parent
AUDITOR_BIN = Path(sys.executable).parent / "auditor"
PG_ENV = "AUDITOR_TEST_POSTGRES_URL"

# The clock every test runs at (Vietnam time): the day the fixtures were written. No test reads the real date.
FIXTURES_WRITTEN = "2026-11-26"
# The report and status tests run at each of these: the fixtures' day, after the reporting period closed, and a
# year later. Their verdicts for a given day (--on) must not change with the day the command runs.
CLOCK_DATES = (FIXTURES_WRITTEN, "2026-12-20", "2027-12-01")
at_every_clock_date = pytest.mark.parametrize("clock_date", CLOCK_DATES, indirect=True)


def _instant(day: str) -> str:
    return f"{day}T10:00:00+07:00"


@pytest.fixture(autouse=True, scope="session")
def _frozen_clock() -> Iterator[None]:
    """Freeze the auditor's clock (auditor.clock) for the whole run, module-wide fixtures included."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(clock.FREEZE_ENV, _instant(FIXTURES_WRITTEN))
        yield


@pytest.fixture(autouse=True)
def clock_date(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> dt.date:
    """The day this test runs on, at 10:00 in Vietnam, for this process and the ones it starts."""
    day = getattr(request, "param", FIXTURES_WRITTEN)
    monkeypatch.setenv(clock.FREEZE_ENV, _instant(day))
    return dt.date.fromisoformat(day)


class FrozenClock:
    """Moves the frozen clock of this test (and of the processes it starts from then on)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._mp = monkeypatch

    def now(self) -> dt.datetime:
        return clock.now()

    def set(self, instant: dt.datetime) -> None:
        self._mp.setenv(clock.FREEZE_ENV, clock.as_utc(instant).isoformat())

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        self.set(clock.now() + delta)
        return clock.now()


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch, clock_date: dt.date) -> FrozenClock:
    return FrozenClock(monkeypatch)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITOR_DATABASE_URL", raising=False)
    monkeypatch.delenv("AUDITOR_WORKSPACE", raising=False)
    monkeypatch.delenv("AUDITOR_LANG", raising=False)
    set_language("vi")


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the auditor command line in-process (typer's runner), returning exit code and both streams."""
    runner = CliRunner()

    def run(*args: str | Path, env: dict[str, str] | None = None) -> Result:
        r = runner.invoke(app, [str(a) for a in args], env=env, catch_exceptions=False)
        return Result(r.exit_code, r.stdout, r.stderr)

    return run


def run_auditor(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None,
                binary: Path = AUDITOR_BIN, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run the installed ``auditor`` program as a separate process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_") or k == clock.FREEZE_ENV}
    full_env.update(env or {})
    return subprocess.run([str(binary), *map(str, args)], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def one_system(extra: str = "") -> str:
    """The smallest inventory: organisation o, the operating system app with its host h on 127.0.0.1; ``extra`` is
    more of the system's keys (endpoints...), written as at the top level."""
    text = textwrap.dedent("""\
        version: 1
        organisations:
          - {id: o, name: Org, roles: [owner, operator, security_unit]}
        systems:
          - id: app
            name: App
            owner: o
            operator: o
            lifecycle: operating
            go_live: 2020-01-01
            hosts:
              - {id: h, address: 127.0.0.1}
        """)
    return text + textwrap.indent(textwrap.dedent(extra), "    ")


@pytest.fixture
def make_workspace(tmp_path: Path) -> Callable[[str], Path]:
    """A workspace folder whose inventory.yaml is the given text (dedented)."""

    def make(text: str, name: str = "ws") -> Path:
        ws = tmp_path / name
        ws.mkdir(exist_ok=True)
        (ws / "inventory.yaml").write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return ws

    return make


@pytest.fixture
def demo_inventory_ws(tmp_path: Path) -> Path:
    """A copy of the repository's own demo inventory (with its certificate bundle)."""
    ws = tmp_path / "demo-inv"
    ws.mkdir()
    shutil.copy(REPO / "inventory.yaml", ws / "inventory.yaml")
    shutil.copytree(REPO / "certs", ws / "certs")
    return ws


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
        # sessions in Vietnam time, not UTC: instants must survive a server whose time zone is not the store's
        conn.execute(sa.text(f'ALTER DATABASE "{engine.url.database}" SET timezone TO \'Asia/Ho_Chi_Minh\''))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or the PostgreSQL server that ./dev test starts."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI") or os.environ.get("AUDITOR_REQUIRE_POSTGRES"):
            pytest.fail(f"{PG_ENV} is not set under './dev test' or CI: the PostgreSQL tests must run there")
        pytest.skip(f"no PostgreSQL server ({PG_ENV} unset); './dev test' starts one")
    _reset_postgres(url)
    yield url


@pytest.fixture
def flow_ws(tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo inventory plus a level-1 and a level-4 system, with the officers' keys registered."""
    from tests.dossier_helpers import PASSPHRASE, make_flow_workspace, make_keys

    monkeypatch.setenv("AUDITOR_KEY_PASSPHRASE", PASSPHRASE)
    ws = make_flow_workspace(tmp_path)
    make_keys(cli, ws)
    return ws
